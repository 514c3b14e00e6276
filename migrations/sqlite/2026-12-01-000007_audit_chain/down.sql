DROP TABLE audit_chain;
DROP INDEX audit_at;
DROP INDEX audit_username;
ALTER TABLE audit_log DROP COLUMN hash;
ALTER TABLE audit_log DROP COLUMN prev_hash;
ALTER TABLE audit_log DROP COLUMN client_addr;
