-- Photos already moved out get an empty content: move them back by hand
-- from the photo store before going down.
CREATE TABLE claim_photos_old (
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
INSERT INTO claim_photos_old SELECT id, claim_id, client_id, sha256, content_type, size_bytes,
    COALESCE(content, X''), reused_claim_id, uploaded_by, created_at FROM claim_photos;
DROP TABLE claim_photos;
ALTER TABLE claim_photos_old RENAME TO claim_photos;
CREATE INDEX claim_photos_claim ON claim_photos (claim_id);
CREATE INDEX claim_photos_sha ON claim_photos (sha256);

CREATE TABLE notice_photos_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
INSERT INTO notice_photos_old SELECT id, notice_id, sha256, content_type, size_bytes,
    COALESCE(content, X''), uploaded_by, created_at FROM notice_photos;
DROP TABLE notice_photos;
ALTER TABLE notice_photos_old RENAME TO notice_photos;
CREATE INDEX notice_photos_notice ON notice_photos (notice_id);

CREATE TABLE inspection_photos_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id BIGINT NOT NULL REFERENCES inspection_samples (id),
    client_id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
INSERT INTO inspection_photos_old SELECT id, sample_id, client_id, sha256, content_type,
    size_bytes, COALESCE(content, X''), uploaded_by, created_at FROM inspection_photos;
DROP TABLE inspection_photos;
ALTER TABLE inspection_photos_old RENAME TO inspection_photos;
CREATE INDEX inspection_photos_sample ON inspection_photos (sample_id);
