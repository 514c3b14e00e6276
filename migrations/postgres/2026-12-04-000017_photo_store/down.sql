-- Photos already moved out keep an empty content: move them back by hand
-- from the photo store before going down.
DROP INDEX inspection_photos_inline;
UPDATE inspection_photos SET content = ''::bytea WHERE content IS NULL;
ALTER TABLE inspection_photos
    DROP COLUMN original_sha256,
    DROP COLUMN height,
    DROP COLUMN width,
    ALTER COLUMN content SET NOT NULL;

DROP INDEX notice_photos_inline;
UPDATE notice_photos SET content = ''::bytea WHERE content IS NULL;
ALTER TABLE notice_photos
    DROP COLUMN height,
    DROP COLUMN width,
    ALTER COLUMN content SET NOT NULL;

DROP INDEX claim_photos_inline;
DROP INDEX claim_photos_original_sha;
UPDATE claim_photos SET content = ''::bytea WHERE content IS NULL;
ALTER TABLE claim_photos
    DROP COLUMN original_sha256,
    DROP COLUMN height,
    DROP COLUMN width,
    ALTER COLUMN content SET NOT NULL;
