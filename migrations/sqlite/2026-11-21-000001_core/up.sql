CREATE TABLE areas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('county', 'township', 'village')),
    parent_id BIGINT REFERENCES areas (id),
    target_mu_units BIGINT
);
CREATE INDEX areas_parent ON areas (parent_id);

CREATE TABLE schemes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    crop TEXT NOT NULL,
    year INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    township_id BIGINT REFERENCES areas (id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE growers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    year INTEGER NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    bank_name TEXT NOT NULL,
    bank_account TEXT NOT NULL,
    village_id BIGINT NOT NULL REFERENCES areas (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (year, id_number)
);
CREATE INDEX growers_township ON growers (township_id);
CREATE INDEX growers_village ON growers (village_id);

CREATE TABLE plots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    grower_id BIGINT NOT NULL REFERENCES growers (id),
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    village_id BIGINT NOT NULL REFERENCES areas (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    variety TEXT NOT NULL,
    tree_age INTEGER NOT NULL,
    tree_count INTEGER NOT NULL,
    fruit_per_tree INTEGER NOT NULL,
    area_units BIGINT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    boundary TEXT,
    boundary_area_units BIGINT,
    eligible BOOLEAN NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (scheme_id, code)
);
CREATE INDEX plots_grower ON plots (grower_id);
CREATE INDEX plots_township ON plots (township_id);

CREATE TABLE premium_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    township_id BIGINT NOT NULL REFERENCES areas (id),
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    amount_fen BIGINT NOT NULL,
    policy_count INTEGER NOT NULL,
    handed_over_on TEXT NOT NULL,
    receipt_no TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_no TEXT NOT NULL UNIQUE,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    grower_id BIGINT NOT NULL REFERENCES growers (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'collected', 'issued', 'expired', 'cancelled')),
    insured_area_units BIGINT NOT NULL,
    sum_insured_fen BIGINT NOT NULL,
    premium_fen BIGINT NOT NULL,
    grower_share_fen BIGINT NOT NULL,
    subsidy_fen BIGINT NOT NULL,
    share_collected_on TEXT,
    cover_start TEXT,
    cover_end TEXT,
    batch_id BIGINT REFERENCES premium_batches (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (scheme_id, grower_id)
);
CREATE INDEX policies_township ON policies (township_id);

CREATE TABLE policy_subsidy_levels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_id BIGINT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    UNIQUE (policy_id, level)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_id BIGINT,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id);

-- The audit trail is append-only: the database itself refuses edits.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
