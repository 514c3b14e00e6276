-- Photo bytes move to the content-addressed photo store (src/photo_store.rs):
-- a row keeps the hash, type, size and dimensions; `content` stays only
-- until `guobao photos move-out` has copied it out, then it is NULL.
ALTER TABLE claim_photos
    ALTER COLUMN content DROP NOT NULL,
    ADD COLUMN width INTEGER,
    ADD COLUMN height INTEGER,
    -- The SHA-256 of the photo as taken, when the tablet shrank it before
    -- sending: the reuse check compares this, not the shrunk bytes' hash.
    ADD COLUMN original_sha256 TEXT;
CREATE INDEX claim_photos_original_sha ON claim_photos (original_sha256);
CREATE INDEX claim_photos_inline ON claim_photos (id) WHERE content IS NOT NULL;

ALTER TABLE notice_photos
    ALTER COLUMN content DROP NOT NULL,
    ADD COLUMN width INTEGER,
    ADD COLUMN height INTEGER;
CREATE INDEX notice_photos_inline ON notice_photos (id) WHERE content IS NOT NULL;

ALTER TABLE inspection_photos
    ALTER COLUMN content DROP NOT NULL,
    ADD COLUMN width INTEGER,
    ADD COLUMN height INTEGER,
    ADD COLUMN original_sha256 TEXT;
CREATE INDEX inspection_photos_inline ON inspection_photos (id) WHERE content IS NOT NULL;
