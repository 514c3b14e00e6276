-- Claims: report -> dispatch -> survey -> approval -> agreement -> payment.
-- Times are UTC RFC 3339 text (fixed width, so text order is time order).

-- One weather event (a hail strip) with many reports.
CREATE TABLE claim_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    name TEXT NOT NULL,
    peril TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_no TEXT NOT NULL UNIQUE,
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    policy_id BIGINT NOT NULL REFERENCES policies (id),
    plot_id BIGINT NOT NULL REFERENCES plots (id),
    grower_id BIGINT NOT NULL REFERENCES growers (id),
    township_id BIGINT NOT NULL REFERENCES areas (id),
    event_id BIGINT REFERENCES claim_events (id),
    peril TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    reporter_name TEXT NOT NULL,
    reporter_phone TEXT NOT NULL DEFAULT '',
    report_channel TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('reported', 'dispatched', 'surveyed', 'approved', 'agreed', 'paid', 'declined')),
    decline_code TEXT,
    decline_reason TEXT,
    survey_due_at TEXT NOT NULL,
    adjuster_id BIGINT REFERENCES users (id),
    co_surveyor_id BIGINT REFERENCES users (id),
    dispatched_at TEXT,
    surveyed_at TEXT,
    payout_fen BIGINT,
    review_note TEXT NOT NULL DEFAULT '',
    approved_at TEXT,
    agreed_on TEXT,
    payment_due_on TEXT,
    paid_fen BIGINT NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX claims_status_due ON claims (status, survey_due_at);
CREATE INDEX claims_policy ON claims (policy_id);
CREATE INDEX claims_township ON claims (township_id);
CREATE INDEX claims_adjuster ON claims (adjuster_id);
CREATE INDEX claims_reported ON claims (reported_at);

-- Every survey submitted, kept: a claim sent back is surveyed again.
-- client_id is made by the tablet, so a retried submission is recognised.
CREATE TABLE claim_surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    client_id TEXT NOT NULL UNIQUE,
    surveyed_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    latitude TEXT NOT NULL,
    longitude TEXT NOT NULL,
    accuracy_m INTEGER,
    location_check TEXT NOT NULL,
    distance_m INTEGER NOT NULL,
    damaged_trees INTEGER NOT NULL,
    affected_area_units BIGINT NOT NULL,
    loss_rate_bp BIGINT NOT NULL CHECK (loss_rate_bp BETWEEN 0 AND 10000),
    payout_fen BIGINT NOT NULL,
    payout_detail TEXT NOT NULL,
    adjuster_id BIGINT NOT NULL REFERENCES users (id),
    co_surveyor_id BIGINT NOT NULL REFERENCES users (id),
    grower_signed_name TEXT NOT NULL,
    grower_signature TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    submitted_by BIGINT REFERENCES users (id)
);
CREATE INDEX claim_surveys_claim ON claim_surveys (claim_id);

CREATE TABLE claim_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    client_id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB NOT NULL,
    reused_claim_id BIGINT REFERENCES claims (id),
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX claim_photos_claim ON claim_photos (claim_id);
CREATE INDEX claim_photos_sha ON claim_photos (sha256);

CREATE TABLE claim_payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_on TEXT NOT NULL,
    bank_reference TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX claim_payments_claim ON claim_payments (claim_id);

-- A report is never deleted; surveys and payments are never rewritten.
CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims
BEGIN SELECT RAISE(ABORT, 'claims are never deleted'); END;
CREATE TRIGGER claim_surveys_no_update BEFORE UPDATE ON claim_surveys
BEGIN SELECT RAISE(ABORT, 'claim_surveys is append-only'); END;
CREATE TRIGGER claim_surveys_no_delete BEFORE DELETE ON claim_surveys
BEGIN SELECT RAISE(ABORT, 'claim_surveys is append-only'); END;
CREATE TRIGGER claim_payments_no_update BEFORE UPDATE ON claim_payments
BEGIN SELECT RAISE(ABORT, 'claim_payments is append-only'); END;
CREATE TRIGGER claim_payments_no_delete BEFORE DELETE ON claim_payments
BEGIN SELECT RAISE(ABORT, 'claim_payments is append-only'); END;
