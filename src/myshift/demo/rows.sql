INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme Corp'), ('globex', 'Globex'), ('initech', 'Initech');
INSERT INTO users (tenant_id, email, full_name, legacy_flags) VALUES
  (1, 'ada@acme.test', 'Ada Lovelace', 1), (1, 'alan@acme.test', 'Alan Turing', 0),
  (2, 'grace@globex.test', 'Grace Hopper', NULL), (3, 'linus@initech.test', 'Linus T', 3);
INSERT INTO invoices (tenant_id, amount, status, issued_at) VALUES
  (1, 1200.00, 'paid', '2026-10-01'), (1, 80.50, 'sent', '2026-11-01'),
  (2, 450.00, 'paid', '2026-10-15'), (3, 9.99, 'draft', NULL);
