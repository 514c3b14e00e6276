-- Finance bureau: statements signed off per scheme, adjustments that reference
-- them, subsidy payments, insurer requests, reconciliations, batch receipts.
-- Money is integer fen. The ledger tables are append-only.

CREATE TABLE subsidy_statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scheme_id BIGINT NOT NULL UNIQUE REFERENCES schemes (id),
    policy_count BIGINT NOT NULL,
    subsidy_fen BIGINT NOT NULL,
    signed_off_by TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    locked_by BIGINT REFERENCES users (id),
    locked_at TEXT NOT NULL
);

CREATE TABLE statement_townships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id BIGINT NOT NULL REFERENCES subsidy_statements (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    policies BIGINT NOT NULL,
    mu_units BIGINT NOT NULL,
    premium_fen BIGINT NOT NULL,
    grower_share_fen BIGINT NOT NULL,
    subsidy_fen BIGINT NOT NULL,
    UNIQUE (statement_id, township_id)
);

CREATE TABLE statement_levels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id BIGINT NOT NULL REFERENCES subsidy_statements (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    level TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    UNIQUE (statement_id, township_id, level)
);

CREATE TABLE subsidy_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id BIGINT NOT NULL REFERENCES subsidy_statements (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    level TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen <> 0),
    kind TEXT NOT NULL CHECK (kind IN ('reversal', 'late_issue', 'manual')),
    policy_id BIGINT REFERENCES policies (id),
    reason TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX subsidy_adjustments_statement ON subsidy_adjustments (statement_id);

CREATE TABLE subsidy_disbursements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    level TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_on TEXT NOT NULL,
    voucher_no TEXT NOT NULL UNIQUE,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX subsidy_disbursements_scheme ON subsidy_disbursements (scheme_id);

CREATE TABLE subsidy_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    request_no TEXT NOT NULL UNIQUE,
    note TEXT NOT NULL DEFAULT '',
    policy_count BIGINT NOT NULL,
    eligible_count BIGINT NOT NULL,
    eligible_subsidy_fen BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE subsidy_request_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES subsidy_requests (id),
    policy_id BIGINT NOT NULL REFERENCES policies (id),
    eligible BOOLEAN NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    subsidy_fen BIGINT NOT NULL,
    UNIQUE (request_id, policy_id)
);
-- A policy's subsidy is requested once.
CREATE UNIQUE INDEX subsidy_request_items_once ON subsidy_request_items (policy_id) WHERE eligible;

CREATE TABLE reconciliations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    source TEXT NOT NULL CHECK (source IN ('insurer', 'treasury')),
    filename TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE reconciliation_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reconciliation_id BIGINT NOT NULL REFERENCES reconciliations (id),
    policy_no TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('matched', 'differs', 'missing_ours', 'missing_theirs')),
    ours_fen BIGINT,
    theirs_fen BIGINT,
    row_no BIGINT
);
CREATE INDEX reconciliation_lines_rec ON reconciliation_lines (reconciliation_id);

CREATE TABLE premium_batch_confirmations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id BIGINT NOT NULL UNIQUE REFERENCES premium_batches (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    confirmed_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);

-- The subsidy statement sums a scheme's policies per township, and their
-- levels, from these two covering indexes alone: the policies come in township
-- order (no sort), then in id order, so the level lookups walk their index
-- forwards; neither table is read (see benches/subsidy.rs).
-- Partial: only issued and expired policies are in it, so a roster import, which
-- writes draft policies, never touches it.
CREATE INDEX policies_finance ON policies
    (scheme_id, township_id, id, insured_area_units, premium_fen, grower_share_fen, subsidy_fen, status)
    WHERE status IN ('issued', 'expired');

-- A signed-off statement, its figures and the money ledger are never edited.
CREATE TRIGGER subsidy_statements_no_update BEFORE UPDATE ON subsidy_statements
BEGIN SELECT RAISE(ABORT, 'subsidy_statements is append-only'); END;
CREATE TRIGGER subsidy_statements_no_delete BEFORE DELETE ON subsidy_statements
BEGIN SELECT RAISE(ABORT, 'subsidy_statements is append-only'); END;
CREATE TRIGGER statement_townships_no_update BEFORE UPDATE ON statement_townships
BEGIN SELECT RAISE(ABORT, 'statement_townships is append-only'); END;
CREATE TRIGGER statement_townships_no_delete BEFORE DELETE ON statement_townships
BEGIN SELECT RAISE(ABORT, 'statement_townships is append-only'); END;
CREATE TRIGGER statement_levels_no_update BEFORE UPDATE ON statement_levels
BEGIN SELECT RAISE(ABORT, 'statement_levels is append-only'); END;
CREATE TRIGGER statement_levels_no_delete BEFORE DELETE ON statement_levels
BEGIN SELECT RAISE(ABORT, 'statement_levels is append-only'); END;
CREATE TRIGGER subsidy_adjustments_no_update BEFORE UPDATE ON subsidy_adjustments
BEGIN SELECT RAISE(ABORT, 'subsidy_adjustments is append-only'); END;
CREATE TRIGGER subsidy_adjustments_no_delete BEFORE DELETE ON subsidy_adjustments
BEGIN SELECT RAISE(ABORT, 'subsidy_adjustments is append-only'); END;
CREATE TRIGGER subsidy_disbursements_no_update BEFORE UPDATE ON subsidy_disbursements
BEGIN SELECT RAISE(ABORT, 'subsidy_disbursements is append-only'); END;
CREATE TRIGGER subsidy_disbursements_no_delete BEFORE DELETE ON subsidy_disbursements
BEGIN SELECT RAISE(ABORT, 'subsidy_disbursements is append-only'); END;
