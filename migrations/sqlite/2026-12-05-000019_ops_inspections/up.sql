-- The monthly inspection (按月巡检, issue 15): one computed report per month,
-- kept as the written record and as the base of the next month's database
-- growth. Computing a month again replaces its row.
CREATE TABLE ops_inspections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL UNIQUE,
    computed_at TEXT NOT NULL,
    db_bytes BIGINT NOT NULL,
    report_json TEXT NOT NULL
);
