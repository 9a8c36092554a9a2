-- The multi-tenant app as it runs in production today (multi-prod).
CREATE TABLE tenants (
  id int unsigned NOT NULL AUTO_INCREMENT,
  slug varchar(64) NOT NULL,
  name varchar(200) NOT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_tenants_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  tenant_id int unsigned NOT NULL,
  email varchar(190) NOT NULL,
  full_name varchar(100) DEFAULT NULL,
  legacy_flags int DEFAULT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (tenant_id, email),
  CONSTRAINT fk_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoices (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  tenant_id int unsigned NOT NULL,
  amount decimal(12,2) NOT NULL,
  status enum('draft','sent','paid') NOT NULL DEFAULT 'draft',
  issued_at datetime DEFAULT NULL,
  PRIMARY KEY (id),
  KEY ix_invoices_tenant (tenant_id),
  CONSTRAINT fk_invoices_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE VIEW tenant_revenue AS
  SELECT t.id AS tenant_id, t.name, SUM(i.amount) AS revenue
  FROM tenants t JOIN invoices i ON i.tenant_id = t.id
  WHERE i.status = 'paid'
  GROUP BY t.id, t.name;

DELIMITER ;;
CREATE PROCEDURE close_month(IN p_tenant int unsigned)
BEGIN
  UPDATE invoices SET status = 'sent' WHERE tenant_id = p_tenant AND status = 'draft';
END;;
DELIMITER ;
