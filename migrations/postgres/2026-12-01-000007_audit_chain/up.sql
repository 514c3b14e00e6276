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
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

-- The start of an append of n rows: locks the head row until the caller's
-- transaction ends (so two transactions never chain onto the same row), then
-- returns the head's hash and n new ids, drawn after the lock is held so that
-- id order is chain order.
CREATE FUNCTION audit_chain_next(n integer) RETURNS TABLE (prev text, next_id bigint) AS $$
DECLARE
    head text;
BEGIN
    SELECT c.last_hash INTO head FROM audit_chain c WHERE c.id = 1 FOR UPDATE;
    IF head IS NULL THEN
        RAISE EXCEPTION 'audit_chain has no head row';
    END IF;
    RETURN QUERY SELECT head, nextval('audit_log_id_seq') FROM generate_series(1, n);
END;
$$ LANGUAGE plpgsql;
