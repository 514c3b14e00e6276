-- Public notices (公示): the village's enrollment list before its policies are
-- issued, and the claim results before they are paid. Each notice keeps the
-- figures it showed (notice_items), the evidence of its posting (dates, place,
-- photos) and the objections raised while it was up.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('enrollment', 'claim')),
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    -- NULL only for a claim event's notice spanning townships (county roles).
    township_id BIGINT REFERENCES areas (id),
    village_id BIGINT REFERENCES areas (id),
    event_id BIGINT REFERENCES claim_events (id),
    title TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    place TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX notices_village ON notices (village_id, kind);
CREATE INDEX notices_township ON notices (township_id);

CREATE TABLE notice_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    policy_id BIGINT REFERENCES policies (id),
    claim_id BIGINT REFERENCES claims (id),
    grower_id BIGINT NOT NULL REFERENCES growers (id),
    grower_name TEXT NOT NULL,
    id_number_masked TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    village_name TEXT NOT NULL,
    variety TEXT NOT NULL,
    insured_area_units BIGINT NOT NULL DEFAULT 0,
    sum_insured_fen BIGINT NOT NULL DEFAULT 0,
    premium_fen BIGINT NOT NULL DEFAULT 0,
    grower_share_fen BIGINT NOT NULL DEFAULT 0,
    affected_area_units BIGINT NOT NULL DEFAULT 0,
    loss_rate_bp BIGINT NOT NULL DEFAULT 0,
    payout_fen BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notice_items_notice ON notice_items (notice_id);
CREATE INDEX notice_items_policy ON notice_items (policy_id);
CREATE INDEX notice_items_claim ON notice_items (claim_id);

CREATE TABLE notice_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX notice_photos_notice ON notice_photos (notice_id);

CREATE TABLE notice_objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    raised_by TEXT NOT NULL,
    grower_id BIGINT REFERENCES growers (id),
    plot_id BIGINT REFERENCES plots (id),
    content TEXT NOT NULL,
    raised_on TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    resolution TEXT,
    resolved_by BIGINT REFERENCES users (id),
    resolved_at TEXT
);
CREATE INDEX notice_objections_notice ON notice_objections (notice_id);
