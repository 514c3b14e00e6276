//! HTTP front end: server-rendered pages for people, JSON under /api/v1 for
//! machines. Handlers are thin: they parse, call app/, and render.

pub mod accounts;
pub mod api;
pub mod areas;
pub mod audit;
pub mod charts;
pub mod checks;
pub mod claims;
pub(crate) mod confirm;
pub(crate) mod desk;
pub mod error;
pub mod finance;
pub(crate) mod form;
pub mod growers;
pub mod home;
pub mod import;
pub mod inspection;
pub(crate) mod listing;
pub mod notices;
pub mod observe;
pub mod ops;
pub mod page;
pub mod photos;
pub mod plots;
pub mod policies;
mod print;
mod record;
pub mod reports;
pub mod schemes;
pub mod self_service;
pub mod session;
pub mod tablet;
pub mod upload;

// The paths the claims and finance handlers import their helpers from.
pub(crate) use import as import_pages;
pub(crate) use page as pages;

use crate::db::{DbConn, Pool};
use crate::error::{AppError, AppResult, ErrorCode};
use actix_web::{web, HttpResponse};
use minijinja::Environment;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub templates: Arc<Environment<'static>>,
    pub clock: crate::app::clock::Clock,
    /// Upload sizes, from `config::Config` at start-up.
    pub limits: crate::config::Limits,
    /// Session lifetimes, token lifetime, login throttling.
    pub security: crate::config::Security,
    /// Photo bytes by SHA-256 (in memory until start-up sets the configured one).
    pub photos: crate::photo_store::PhotoStore,
    /// `/metrics` token, disk threshold, backup root.
    pub ops: crate::config::Ops,
    /// Counted as requests are answered (`/metrics`).
    pub metrics: Arc<crate::ops::metrics::Metrics>,
    /// Server faults waiting to be written to `error_events`.
    pub faults: Arc<observe::Faults>,
    /// When this server started (`/healthz`).
    pub started: std::time::Instant,
}

macro_rules! template_list {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// Templates are compiled into the binary, so the release build runs anywhere.
const TEMPLATES: &[(&str, &str)] = template_list!(
    "base.html",
    "login.html",
    "dashboard.html",
    "growers.html",
    "grower.html",
    "grower_form.html",
    "plot.html",
    "plots.html",
    "plot_form.html",
    "policies.html",
    "policy_queue.html",
    "policy_collect.html",
    "bulk_pick.html",
    "policy.html",
    "batches.html",
    "schemes.html",
    "scheme.html",
    "audit.html",
    "import.html",
    "import_preview.html",
    "boundaries_result.html",
    "reports.html",
    "claims_board.html",
    "claims.html",
    "claim.html",
    "claim_new.html",
    "claim_survey.html",
    "inspection.html",
    "inspection_village.html",
    "inspection_sample.html",
    "error.html",
    "finance.html",
    "finance_requests.html",
    "finance_request.html",
    "finance_reconcile.html",
    "finance_reconciliation.html",
    "finance_batches.html",
    "finance_dashboard.html",
    "finance_nav.html",
    "password.html",
    "accounts.html",
    "account.html",
    "self_service.html",
    "notices.html",
    "notice.html",
    "notice_print.html",
    "checks.html",
    "policy_print.html",
    "table_print.html",
    "_pager.html",
    "_sort.html",
    "audit_entry.html",
    "confirm.html",
    "finance_batch_confirm.html",
    "inspect.html",
);

pub const CSS: &str = include_str!("../../templates/static/app.css");
/// The desk pages' few behaviours (confirmations, "返回"), out of the pages.
pub const JS: &str = include_str!("../../templates/static/app.js");
/// The layout behaviours of every page: the folding menu, the table scroll cue.
pub const UI_JS: &str = include_str!("../../templates/static/ui.js");
/// "Save for use without a signal" on the adjuster's home (survey pages) and
/// a village's 验标 page (its sample pages).
pub const OFFLINE_JS: &str = include_str!("../../templates/static/offline.js");

/// Compiles the templates. A template that does not compile is a bug in the
/// build, not something a request can cause: the sources are constants
/// included in the binary, every server start (and so every test's
/// `spawn_app`) compiles all of them, and the test below does too. Failing at
/// start-up names the broken template instead of serving 500s later.
#[allow(clippy::panic)]
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("china_time", china_time);
    env.add_filter("short_hashes", short_hashes);
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
}

/// `{{ t|china_time }}`: a stored UTC time ("2026-11-29T17:35:21Z", or any
/// RFC 3339 text) as people read it, "2026-11-30 01:35" in China time. Any
/// other value (a missing time, a plain date) is shown as it is, so the filter
/// is safe on every field that may hold a time.
pub fn china_time(value: minijinja::Value) -> minijinja::Value {
    match value.as_str() {
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => {
                minijinja::Value::from(crate::app::clock::display(t.with_timezone(&chrono::Utc)))
            }
            // Stored times inside a text (a record's JSON in the audit log).
            Err(_) => minijinja::Value::from(crate::domain::time::china_times_in(s)),
        },
        None => value,
    }
}

/// `{{ text|short_hashes }}`: every run of 40 or more hexadecimal digits (a
/// SHA-256 of a photo or a file in an audit record) shortened to its first 8
/// digits and "…", which is enough to tell two apart on a screen; the record
/// itself keeps the whole digest.
pub fn short_hashes(value: minijinja::Value) -> minijinja::Value {
    const LONG: usize = 40;
    let Some(s) = value.as_str() else {
        return value;
    };
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= LONG {
            out.push_str(run.get(..8).unwrap_or(run));
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    minijinja::Value::from(out)
}

impl AppState {
    pub fn new(pool: Pool) -> AppState {
        AppState::with_clock(pool, crate::app::clock::Clock::system())
    }

    pub fn with_clock(pool: Pool, clock: crate::app::clock::Clock) -> AppState {
        AppState {
            pool,
            templates: Arc::new(templates()),
            clock,
            limits: crate::config::Limits::default(),
            security: crate::config::Security::default(),
            photos: crate::photo_store::PhotoStore::in_memory(),
            ops: crate::config::Ops::default(),
            metrics: Arc::default(),
            faults: Arc::default(),
            started: std::time::Instant::now(),
        }
    }

    /// Run a use case on a pooled connection off the async workers.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.checkout()?;
            // A panic stops here: it becomes a 500 with its own code, the
            // use case's transaction has already been rolled back by `app::tx`,
            // and the connection returns to the pool only if it is clean
            // (`db::Manager::has_broken`), so the next request is unaffected.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut conn)))
                .unwrap_or_else(|panic| Err(AppError::Panicked(panic_message(&panic))));
            if matches!(out, Err(AppError::Unavailable(_))) {
                conn.mark_lost();
            }
            out
        })
        .await?
    }

    /// Run a use case as `actor` (a copy of the actor goes to the worker).
    pub async fn run_as<T, F>(&self, actor: &crate::app::Actor, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &crate::app::Actor) -> AppResult<T> + Send + 'static,
    {
        let a = actor.clone();
        self.run(move |c| f(c, &a)).await
    }

    pub fn render(&self, name: &str, ctx: &serde_json::Value) -> Result<String, AppError> {
        self.templates
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| AppError::Internal(format!("template {name}: {e:#}")))
    }
}

/// The text a panic carried, for the log.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// 413 in the project's error shape, naming the limit.
pub fn too_large(limit: usize) -> HttpResponse {
    HttpResponse::PayloadTooLarge().json(serde_json::json!({
        "error": "body_too_large",
        "message": format!("请求内容过大：不能超过{}", upload::size_text(limit)),
    }))
}

/// JSON bodies up to `limit`; a body over it is a 413 and a body that is not
/// JSON (or not the expected fields) a 422, both with a Chinese message.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| {
            use actix_web::error::{InternalError, JsonPayloadError};
            match &err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    InternalError::from_response(err, too_large(limit)).into()
                }
                JsonPayloadError::ContentType => AppError::invalid(
                    "body",
                    ErrorCode::JsonInvalid,
                    "请求体必须是JSON（Content-Type: application/json）",
                )
                .into(),
                JsonPayloadError::Deserialize(e) => AppError::invalid(
                    "body",
                    ErrorCode::JsonInvalid,
                    format!("请求体不是有效的JSON，或字段类型不对：{e}"),
                )
                .into(),
                other => AppError::invalid(
                    "body",
                    ErrorCode::JsonInvalid,
                    format!("请求体无法读取：{other}"),
                )
                .into(),
            }
        })
}

/// Form bodies of pages: over the limit a 413, otherwise a 422, in the same
/// error shape as the API.
pub fn form_error(err: actix_web::error::UrlencodedError, limit: usize) -> actix_web::Error {
    use actix_web::error::{InternalError, UrlencodedError};
    match err {
        UrlencodedError::Overflow { .. } => {
            InternalError::from_response(err, too_large(limit)).into()
        }
        other => AppError::invalid(
            "body",
            ErrorCode::FormInvalid,
            format!("表单内容无法读取：{other}"),
        )
        .into(),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/static/app.css",
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/css; charset=utf-8")
                .insert_header(("Cache-Control", "public, max-age=3600"))
                .body(CSS)
        }),
    )
    .route(
        "/static/app.js",
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/javascript; charset=utf-8")
                .insert_header(("Cache-Control", "public, max-age=3600"))
                .body(JS)
        }),
    )
    .route(
        "/static/ui.js",
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/javascript; charset=utf-8")
                .insert_header(("Cache-Control", "public, max-age=3600"))
                .body(UI_JS)
        }),
    )
    .route(
        "/static/offline.js",
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/javascript; charset=utf-8")
                .insert_header(("Cache-Control", "public, max-age=3600"))
                .body(OFFLINE_JS)
        }),
    )
    // Browsers ask for it on every first visit; no icon, and no 404 in the log.
    .route(
        "/favicon.ico",
        web::get().to(|| async {
            HttpResponse::NoContent()
                .insert_header(("Cache-Control", "public, max-age=86400"))
                .finish()
        }),
    );
    ops::configure(cfg);
    page::configure(cfg);
    // Before the policy pages: "/policies/{id}/{action}" would take the path.
    print::configure(cfg);
    api::configure(cfg);
    claims::pages::configure(cfg);
    inspection::pages::configure(cfg);
    import::configure(cfg);
    reports::configure(cfg);
    finance::configure(cfg);
    home::configure(cfg);
    growers::configure(cfg);
    plots::configure(cfg);
    policies::configure(cfg);
    schemes::configure(cfg);
    audit::configure(cfg);
    accounts::configure(cfg);
    self_service::configure(cfg);
    notices::configure(cfg);
    checks::configure(cfg);
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_hashes_shortens_digests_and_nothing_else() {
        let digest = "af3e1cf5e466d0ee00e8eade69facb132f09f73af4b21cb9d1e4784c83ababf7";
        let text = format!(r#"{{"sha256": "{digest}", "policy_no": "201253299910100001"}}"#);
        let got = super::short_hashes(minijinja::Value::from(text));
        assert_eq!(
            got.as_str(),
            Some(r#"{"sha256": "af3e1cf5…", "policy_no": "201253299910100001"}"#)
        );
        // 39 digits stay whole; a number is not a hash.
        let short = "a".repeat(39);
        assert_eq!(
            super::short_hashes(minijinja::Value::from(short.clone())).as_str(),
            Some(short.as_str())
        );
        assert_eq!(
            super::short_hashes(minijinja::Value::from(7)).as_str(),
            None
        );
    }

    #[test]
    fn china_time_filter_shows_stored_times_in_china_time() {
        let env = super::templates();
        let render = |v: serde_json::Value| {
            env.render_str("{{ t|china_time }}", minijinja::context! { t => v })
                .unwrap()
        };
        assert_eq!(render("2026-11-29T17:35:21Z".into()), "2026-11-30 01:35");
        assert_eq!(
            render("2026-06-12T06:30:00+00:00".into()),
            "2026-06-12 14:30"
        );
        assert_eq!(render("2026-06-12".into()), "2026-06-12");
        assert!(super::china_time(minijinja::Value::from(())).is_none());
        assert_eq!(render("".into()), "");
        assert_eq!(
            render(r#"{"at": "2026-11-29T17:35:21Z"}"#.into()),
            r#"{"at": "2026-11-30 01:35"}"#
        );
    }

    #[test]
    fn every_template_compiles() {
        let env = super::templates();
        for (name, _) in super::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
