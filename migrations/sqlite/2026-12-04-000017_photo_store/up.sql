-- Photo bytes move to the content-addressed photo store (src/photo_store.rs):
-- a row keeps the hash, type, size and dimensions; `content` stays only
-- until `guobao photos move-out` has copied it out, then it is NULL.
-- SQLite cannot drop a NOT NULL: each table is rebuilt with the same ids.
-- Nothing references a photo row, so dropping the old table is safe.

CREATE TABLE claim_photos_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    client_id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB,
    reused_claim_id BIGINT REFERENCES claims (id),
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    -- The SHA-256 of the photo as taken, when the tablet shrank it before
    -- sending: the reuse check compares this, not the shrunk bytes' hash.
    original_sha256 TEXT
);
INSERT INTO claim_photos_new (id, claim_id, client_id, sha256, content_type, size_bytes,
    content, reused_claim_id, uploaded_by, created_at)
SELECT id, claim_id, client_id, sha256, content_type, size_bytes,
    content, reused_claim_id, uploaded_by, created_at FROM claim_photos;
DROP TABLE claim_photos;
ALTER TABLE claim_photos_new RENAME TO claim_photos;
CREATE INDEX claim_photos_claim ON claim_photos (claim_id);
CREATE INDEX claim_photos_sha ON claim_photos (sha256);
CREATE INDEX claim_photos_original_sha ON claim_photos (original_sha256);
CREATE INDEX claim_photos_inline ON claim_photos (id) WHERE content IS NOT NULL;

CREATE TABLE notice_photos_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB,
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    width INTEGER,
    height INTEGER
);
INSERT INTO notice_photos_new (id, notice_id, sha256, content_type, size_bytes, content,
    uploaded_by, created_at)
SELECT id, notice_id, sha256, content_type, size_bytes, content, uploaded_by, created_at
FROM notice_photos;
DROP TABLE notice_photos;
ALTER TABLE notice_photos_new RENAME TO notice_photos;
CREATE INDEX notice_photos_notice ON notice_photos (notice_id);
CREATE INDEX notice_photos_inline ON notice_photos (id) WHERE content IS NOT NULL;

CREATE TABLE inspection_photos_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id BIGINT NOT NULL REFERENCES inspection_samples (id),
    client_id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB,
    uploaded_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    original_sha256 TEXT
);
INSERT INTO inspection_photos_new (id, sample_id, client_id, sha256, content_type, size_bytes,
    content, uploaded_by, created_at)
SELECT id, sample_id, client_id, sha256, content_type, size_bytes, content, uploaded_by,
    created_at FROM inspection_photos;
DROP TABLE inspection_photos;
ALTER TABLE inspection_photos_new RENAME TO inspection_photos;
CREATE INDEX inspection_photos_sample ON inspection_photos (sample_id);
CREATE INDEX inspection_photos_inline ON inspection_photos (id) WHERE content IS NOT NULL;
