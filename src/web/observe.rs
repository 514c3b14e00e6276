//! Every request gets an id, one log line and its place in `/metrics`; every
//! server fault (5xx) a row in `error_events`. The id is answered in the
//! `X-Request-Id` header, in each API error body and on each error page, so
//! a township station can read it out on the phone and the administrator
//! finds the same line in the log.

use crate::db::schema::error_events;
use crate::web::AppState;
use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web;
use diesel::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The request being answered, for code that runs inside its future.
struct Current {
    id: String,
    user: Cell<Option<i64>>,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// The id of the request being answered (`None` outside a request).
pub fn request_id() -> Option<String> {
    CURRENT.try_with(|c| c.id.clone()).ok()
}

/// The request is made by this user (for the log line and `error_events`).
pub fn set_user(user_id: i64) {
    let _ = CURRENT.try_with(|c| c.user.set(Some(user_id)));
}

/// Attached to an error response by whoever rendered it: the error's code
/// and the detail for the log (never shown to the user).
#[derive(Debug, Clone)]
pub struct ErrorNote {
    pub code: &'static str,
    pub detail: String,
}

pub const HEADER: &str = "x-request-id";

/// How request ids look: 10 characters a person can read out without
/// confusing 0/O or 1/I (about 50 bits).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

fn new_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| {
            let i = rng.gen_range(0..ALPHABET.len());
            char::from(ALPHABET.get(i).copied().unwrap_or(b'X'))
        })
        .collect()
}

/// An id set by the front proxy (nginx's `$request_id`) is kept when it is
/// short and plain; anything else is replaced, so a client cannot put text
/// of its choosing into the log.
fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(HEADER)?.to_str().ok()?;
    (!v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
    .then(|| v.to_string())
}

/// The middleware (`App::wrap_fn(observe::call)`), outside the session and
/// panic guards: it sees every answer, including their errors.
pub fn call<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody + 'static,
{
    let id = incoming_id(&req).unwrap_or_else(new_id);
    let started = Instant::now();
    // Not a clone of the request: routing needs it unshared.
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let current = Current {
        id: id.clone(),
        user: Cell::new(None),
    };
    let fut = srv.call(req);
    CURRENT.scope(current, async move {
        let header = HeaderValue::from_str(&id).ok();
        match fut.await {
            Ok(res) => {
                let mut res = res.map_into_boxed_body();
                if let Some(v) = header {
                    res.headers_mut().insert(HeaderName::from_static(HEADER), v);
                }
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "(unmatched)".into());
                let note = res.response().extensions().get::<ErrorNote>().cloned();
                let status = res.status().as_u16();
                finish(state, &id, &method, &path, &route, status, started, note);
                Ok(res)
            }
            // An error out of the guards around the handlers (a panic caught
            // by `catch_panic`): answered here, inside the request's scope,
            // so its body carries the id too.
            Err(e) => {
                let mut response = e.error_response();
                if let Some(v) = header {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static(HEADER), v);
                }
                let note = response.extensions().get::<ErrorNote>().cloned();
                let status = response.status().as_u16();
                finish(state, &id, &method, &path, "(error)", status, started, note);
                Err(actix_web::error::InternalError::from_response(e.to_string(), response).into())
            }
        }
    })
}

/// The log line, the metrics and the fault record of one answer.
#[allow(clippy::too_many_arguments)]
fn finish(
    state: Option<web::Data<AppState>>,
    id: &str,
    method: &str,
    path: &str,
    route: &str,
    status: u16,
    started: Instant,
    note: Option<ErrorNote>,
) {
    let elapsed = started.elapsed();
    let user = CURRENT.try_with(|c| c.user.get()).ok().flatten();
    let line = Line {
        id,
        user,
        method,
        path,
        route,
        status,
        ms: elapsed.as_secs_f64() * 1000.0,
        code: note.as_ref().map(|n| n.code),
    };
    if status >= 500 {
        log::error!(target: "guobao::request", "{}", line.render(json_lines()));
        if let Some(n) = &note {
            log::error!(target: "guobao::request", "request {id}: {}", n.detail);
        }
    } else {
        log::info!(target: "guobao::request", "{}", line.render(json_lines()));
    }
    let Some(state) = state else {
        return;
    };
    state
        .metrics
        .request(method, route, status, elapsed.as_secs_f64());
    if status >= 500 {
        let code = note.as_ref().map_or("internal", |n| n.code);
        state.metrics.error(code);
        state.faults.push(NewEvent {
            at: crate::db::now_text(),
            request_id: id.to_string(),
            method: method.to_string(),
            route: route.to_string(),
            status: i32::from(status),
            code: code.to_string(),
            message: note
                .map(|n| n.detail)
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect(),
            user_id: user,
        });
    }
    state.faults.flush_soon(&state);
}

struct Line<'a> {
    id: &'a str,
    user: Option<i64>,
    method: &'a str,
    path: &'a str,
    route: &'a str,
    status: u16,
    ms: f64,
    code: Option<&'a str>,
}

impl Line<'_> {
    fn render(&self, json: bool) -> String {
        if json {
            serde_json::json!({
                "request_id": self.id,
                "user_id": self.user,
                "method": self.method,
                "path": self.path,
                "route": self.route,
                "status": self.status,
                "ms": (self.ms * 10.0).round() / 10.0,
                "error": self.code,
            })
            .to_string()
        } else {
            let user = self.user.map_or("-".to_string(), |u| u.to_string());
            let code = self.code.map(|c| format!(" {c}")).unwrap_or_default();
            format!(
                "{} user={user} {} {} {}{code} {:.1}ms route={}",
                self.id, self.method, self.path, self.status, self.ms, self.route
            )
        }
    }
}

static JSON_LINES: AtomicBool = AtomicBool::new(false);

/// Request lines as JSON objects (`--log-format json`), set once at start-up.
pub fn set_json_lines(on: bool) {
    JSON_LINES.store(on, Ordering::Relaxed);
}

fn json_lines() -> bool {
    JSON_LINES.load(Ordering::Relaxed)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = error_events)]
pub struct NewEvent {
    pub at: String,
    pub request_id: String,
    pub method: String,
    pub route: String,
    pub status: i32,
    pub code: String,
    pub message: String,
    pub user_id: Option<i64>,
}

/// Server faults not yet written to `error_events`. While the database is
/// down its own 503s wait here (at most [`Faults::CAP`]) and are written once
/// it is back, so the monthly inspection sees the outage.
#[derive(Debug, Default)]
pub struct Faults {
    waiting: Mutex<Vec<NewEvent>>,
    any: AtomicBool,
    flushing: AtomicBool,
}

impl Faults {
    pub const CAP: usize = 1000;

    fn push(&self, e: NewEvent) {
        if let Ok(mut w) = self.waiting.lock() {
            if w.len() < Self::CAP {
                w.push(e);
            }
            self.any.store(true, Ordering::Relaxed);
        }
    }

    /// Write what waits, off the request, unless the database is known to
    /// be down or a write is already under way.
    fn flush_soon(&self, state: &web::Data<AppState>) {
        if !self.any.load(Ordering::Relaxed) || state.pool.watch().is_down() {
            return;
        }
        if self.flushing.swap(true, Ordering::AcqRel) {
            return;
        }
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let faults = state.faults.clone();
            let batch: Vec<NewEvent> = match faults.waiting.lock() {
                Ok(mut w) => {
                    faults.any.store(false, Ordering::Relaxed);
                    std::mem::take(&mut *w)
                }
                Err(_) => Vec::new(),
            };
            let pool = state.pool.clone();
            let rows = batch.clone();
            let written = web::block(move || -> Result<usize, String> {
                let mut conn = pool.checkout().map_err(|e| e.to_string())?;
                // One row at a time: diesel's multi-backend connection has no
                // batch insert; there are few of these, and one transaction.
                conn.transaction(|c| {
                    rows.iter().try_fold(0, |n, row| {
                        diesel::insert_into(error_events::table)
                            .values(row)
                            .execute(c)
                            .map(|k| n + k)
                    })
                })
                .map_err(|e: diesel::result::Error| e.to_string())
            })
            .await;
            if !matches!(written, Ok(Ok(_))) {
                log::warn!("error_events 暂时无法写入，{}条稍后重试", batch.len());
                for e in batch {
                    faults.push(e);
                }
            }
            faults.flushing.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_ten_readable_characters() {
        let a = super::new_id();
        assert_eq!(a.len(), 10);
        assert!(a.bytes().all(|b| super::ALPHABET.contains(&b)), "{a}");
        assert_ne!(a, super::new_id());
    }

    #[test]
    fn a_request_line_in_text_and_in_json() {
        let line = super::Line {
            id: "ABC234",
            user: Some(7),
            method: "GET",
            path: "/claims/5",
            route: "/claims/{id}",
            status: 503,
            ms: 12.345,
            code: Some("database_unavailable"),
        };
        assert_eq!(
            line.render(false),
            "ABC234 user=7 GET /claims/5 503 database_unavailable 12.3ms route=/claims/{id}"
        );
        let v: serde_json::Value = serde_json::from_str(&line.render(true)).unwrap();
        assert_eq!(v["request_id"], "ABC234");
        assert_eq!(v["user_id"], 7);
        assert_eq!(v["route"], "/claims/{id}");
        assert_eq!(v["status"], 503);
        assert_eq!(v["ms"], 12.3);
    }
}
