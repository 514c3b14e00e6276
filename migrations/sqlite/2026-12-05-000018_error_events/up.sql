-- Every server fault answered with a 5xx (issue 15): when, which request
-- (the id a station quotes on the phone), route, status and error code.
-- The monthly inspection counts them; the log line has the same request id.
CREATE TABLE error_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    user_id BIGINT
);
CREATE INDEX error_events_at ON error_events (at);
