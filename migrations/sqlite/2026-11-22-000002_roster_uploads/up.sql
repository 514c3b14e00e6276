-- An uploaded roster is kept from preview to commit, so the clerk commits
-- exactly the file that was previewed and can download its error report.
CREATE TABLE roster_uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    township_id BIGINT NOT NULL REFERENCES areas (id),
    scheme_id BIGINT NOT NULL REFERENCES schemes (id),
    user_id BIGINT REFERENCES users (id),
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('previewed', 'committed')),
    summary TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    committed_at TEXT
);
CREATE INDEX roster_uploads_township ON roster_uploads (township_id);
