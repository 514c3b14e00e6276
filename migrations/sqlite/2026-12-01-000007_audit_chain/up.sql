-- The audit trail becomes a hash chain: each row keeps the client address of
-- the request, the hash of the row before it (prev_hash) and its own hash,
-- SHA-256 over prev_hash and its content (src/db/audit_chain.rs). Rows written
-- before this migration are chained once, in id order, by the program right
-- after migrating; a row without a hash afterwards was not written by it.
ALTER TABLE audit_log ADD COLUMN client_addr TEXT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE INDEX audit_username ON audit_log (username);
CREATE INDEX audit_at ON audit_log (at);

-- The head of the chain: the last row appended and its hash. One row, written
-- in the same transaction as each append; empty until the existing rows are chained.
CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
