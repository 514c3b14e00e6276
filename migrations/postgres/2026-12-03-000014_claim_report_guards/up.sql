-- What a report carried besides the claim itself (claims is at diesel's
-- 32-column limit): its one-shot token (the page form's, or an API caller's
-- client id), so a replay answers with the claim it first recorded, and why a
-- second report for the same plot and day was taken anyway.
CREATE TABLE claim_report_marks (
    claim_id BIGINT PRIMARY KEY NOT NULL REFERENCES claims (id),
    client_id TEXT UNIQUE,
    duplicate_reason TEXT
);
