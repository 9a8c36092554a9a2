-- The same app in development (multi-dev): what the next release needs.
CREATE TABLE tenants (
  id int unsigned NOT NULL AUTO_INCREMENT,
  slug varchar(64) NOT NULL,
  name varchar(200) NOT NULL,
  plan enum('free','pro','enterprise') NOT NULL DEFAULT 'free',
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_tenants_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  tenant_id int unsigned NOT NULL,
  email varchar(190) NOT NULL,
  full_name varchar(150) DEFAULT NULL,
  last_login_at datetime DEFAULT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (tenant_id, email),
  KEY ix_users_last_login (tenant_id, last_login_at),
  CONSTRAINT fk_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoices (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  tenant_id int unsigned NOT NULL,
  amount decimal(12,2) NOT NULL,
  currency char(3) NOT NULL DEFAULT 'EUR',
  status enum('draft','sent','paid','void') NOT NULL DEFAULT 'draft',
  issued_at datetime DEFAULT NULL,
  PRIMARY KEY (id),
  KEY ix_invoices_tenant (tenant_id, status),
  CONSTRAINT fk_invoices_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT chk_invoices_amount CHECK (amount >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  tenant_id int unsigned NOT NULL,
  action varchar(64) NOT NULL,
  at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_audit_tenant_at (tenant_id, at),
  CONSTRAINT fk_audit_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE VIEW tenant_revenue AS
  SELECT t.id AS tenant_id, t.name, t.plan, SUM(i.amount) AS revenue
  FROM tenants t JOIN invoices i ON i.tenant_id = t.id
  WHERE i.status = 'paid'
  GROUP BY t.id, t.name, t.plan;

CREATE VIEW top_tenants AS
  SELECT tenant_id, name, revenue FROM tenant_revenue WHERE revenue > 1000;

DELIMITER ;;
CREATE PROCEDURE close_month(IN p_tenant int unsigned)
BEGIN
  UPDATE invoices SET status = 'sent' WHERE tenant_id = p_tenant AND status = 'draft';
  INSERT INTO audit_log (tenant_id, action) VALUES (p_tenant, 'close_month');
END;;
CREATE TRIGGER invoices_audit AFTER UPDATE ON invoices FOR EACH ROW
BEGIN
  IF NEW.status <> OLD.status THEN
    INSERT INTO audit_log (tenant_id, action) VALUES (NEW.tenant_id, CONCAT('invoice ', NEW.status));
  END IF;
END;;
CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY DO
  DELETE FROM audit_log WHERE at < NOW() - INTERVAL 90 DAY;;
DELIMITER ;
