//! `/metrics` in the Prometheus text format. Requests and their latency by
//! route pattern (never by raw path: ids would make a series per claim),
//! imports and their rows, errors by code are counted as they happen; the
//! pool, the claims waiting for a survey or a payment and the last backup
//! are read when the scraper asks.

use crate::db::{DbConn, Pool};
use crate::domain::time::Instant;
use diesel::QueryResult;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::fmt::Write as _;

/// Counted as the server runs; one per server (tests start many in one process).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    errors: IntCounterVec,
    imports: IntCounter,
    import_rows: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Read from the database at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClaimFigures {
    /// Reported or dispatched: waiting for the survey.
    pub open: i64,
    /// Of those, past the survey deadline.
    pub overdue: i64,
    /// Agreed with the grower, not paid, and past the payment day.
    pub payments_past_due: i64,
}

impl ClaimFigures {
    pub fn read(
        conn: &mut DbConn,
        now: chrono::DateTime<chrono::Utc>,
        today: chrono::NaiveDate,
    ) -> QueryResult<ClaimFigures> {
        let (open, overdue, payments_past_due) = crate::db::claims::waiting_counts(
            conn,
            &Instant::from_utc(now).to_text(),
            &today.format("%Y-%m-%d").to_string(),
        )?;
        Ok(ClaimFigures {
            open,
            overdue,
            payments_past_due,
        })
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// The names and labels below are constants; prometheus refuses only
    /// invalid names or a second registration of one name, neither of
    /// which a running server can cause.
    #[allow(clippy::expect_used)]
    pub fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("guobao".into()), None).expect("a valid metrics prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid request counter");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response, by route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["route"],
        )
        .expect("valid latency histogram");
        let errors = IntCounterVec::new(
            Opts::new("errors_total", "Responses of 5xx by error code"),
            &["code"],
        )
        .expect("valid error counter");
        let imports = IntCounter::new("roster_imports_total", "Roster imports committed")
            .expect("valid import counter");
        let import_rows = IntCounter::new(
            "roster_import_rows_total",
            "Roster rows in committed imports",
        )
        .expect("valid import row counter");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(errors.clone()),
            Box::new(imports.clone()),
            Box::new(import_rows.clone()),
        ] {
            registry.register(c).expect("each metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            errors,
            imports,
            import_rows,
        }
    }

    /// One finished request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    /// A 5xx answered with this error code.
    pub fn error(&self, code: &str) {
        self.errors.with_label_values(&[code]).inc();
    }

    /// A committed roster import of `rows` rows.
    pub fn import(&self, rows: u64) {
        self.imports.inc();
        self.import_rows.inc_by(rows);
    }

    /// The whole exposition: what was counted, then the pool, the claims
    /// (when the database answered) and the last backup's time.
    pub fn render(
        &self,
        pool: &Pool,
        claims: Option<ClaimFigures>,
        last_backup: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        let mut out = String::new();
        let mut buf = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_ok()
        {
            out.push_str(&String::from_utf8_lossy(&buf));
        }
        let state = pool.state();
        let seen = pool.watch().counters();
        let mut families: Vec<(&str, &str, &str, String)> = vec![
            (
                "db_up",
                "gauge",
                "1 when the last attempt to reach the database succeeded",
                u8::from(!pool.watch().is_down()).to_string(),
            ),
            (
                "db_outages_total",
                "counter",
                "Times the database became unreachable since start",
                seen.outages.to_string(),
            ),
            (
                "db_pool_connections",
                "gauge",
                "Connections the pool holds",
                state.connections.to_string(),
            ),
            (
                "db_pool_in_use",
                "gauge",
                "Connections checked out by requests",
                state
                    .connections
                    .saturating_sub(state.idle_connections)
                    .to_string(),
            ),
            (
                "db_pool_max",
                "gauge",
                "Most connections the pool opens",
                pool.max_size().to_string(),
            ),
            (
                "db_pool_checkouts_total",
                "counter",
                "Connections handed to requests",
                seen.checkouts.to_string(),
            ),
            (
                "db_pool_waits_total",
                "counter",
                "Checkouts that waited for a free connection",
                seen.waits.to_string(),
            ),
            (
                "db_pool_wait_seconds_total",
                "counter",
                "Time spent waiting for a connection",
                format!("{:.6}", seen.wait_seconds),
            ),
            (
                "db_pool_timeouts_total",
                "counter",
                "Requests that got no connection in time",
                seen.timeouts.to_string(),
            ),
        ];
        if let Some(c) = claims {
            families.extend([
                (
                    "claims_open",
                    "gauge",
                    "Claims waiting for their survey",
                    c.open.to_string(),
                ),
                (
                    "claims_overdue",
                    "gauge",
                    "Claims past their survey deadline without a survey",
                    c.overdue.to_string(),
                ),
                (
                    "payments_past_due",
                    "gauge",
                    "Agreed payouts not paid by their payment day",
                    c.payments_past_due.to_string(),
                ),
            ]);
        }
        if let Some(t) = last_backup {
            families.push((
                "last_backup_timestamp_seconds",
                "gauge",
                "When the newest complete backup was taken (Unix time)",
                t.timestamp().to_string(),
            ));
        }
        for (name, kind, help, value) in families {
            let _ = writeln!(
                out,
                "# HELP guobao_{name} {help}\n# TYPE guobao_{name} {kind}\nguobao_{name} {value}"
            );
        }
        out
    }
}

/// The newest complete backup's time under `root`, if any.
pub fn last_backup_time(root: &std::path::Path) -> Option<chrono::DateTime<chrono::Utc>> {
    crate::ops::backup::manifest::latest(root).map(|m| m.finished_at)
}
