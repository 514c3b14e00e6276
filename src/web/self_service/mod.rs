//! 农户自助查询: the public page `/self` and `POST /api/v1/self-service/lookup`.
//! No login: a grower's ID number and phone (in a POST body, never in a URL)
//! open their own policies, plots and claims (`app::self_service`).
//!
//! Both answer no sooner than `answer_floor` after the request reached the
//! handler, whatever the outcome, so the time of an answer does not tell a
//! right pair from a wrong one; and both send `Cache-Control: no-store`.

pub(crate) mod api;
pub(crate) mod pages;

use crate::app::self_service::{self, SelfView};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use std::time::Instant;

/// The page (`/self`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The lookup inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}

/// Run one lookup for the request's client address.
pub(crate) async fn lookup(
    state: &AppState,
    req: &HttpRequest,
    id_number: String,
    phone: String,
) -> AppResult<SelfView> {
    let client = crate::web::session::client_addr(req);
    let (security, now) = (state.security, state.clock.now());
    state
        .run(move |c| {
            let attempt = self_service::Attempt {
                id_number: &id_number,
                phone: &phone,
                client: client.as_deref(),
                now,
            };
            self_service::lookup(c, &security, &attempt)
        })
        .await
}

/// Wait until `floor` has passed since `start`.
pub(crate) async fn pad(state: &AppState, start: Instant) {
    let floor = state.security.self_service.answer_floor;
    if let Some(rest) = floor.checked_sub(start.elapsed()) {
        actix_web::rt::time::sleep(rest).await;
    }
}

/// How a refused lookup is answered: its status, stable code and Chinese
/// message. Input that is not an ID number and phone is a 400; a pair that
/// is not one grower's a 404 (one message for every kind of mismatch); too
/// many failures a 429 with its own message (not the login's).
pub(crate) fn refusal(e: &AppError) -> (StatusCode, ErrorCode, String) {
    match e {
        AppError::Validation(_) => (
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed,
            e.messages().join("；"),
        ),
        AppError::Locked { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::SelfLookupLocked,
            locked_message(*retry_after_secs),
        ),
        AppError::Conflict {
            code: ErrorCode::SelfLookupNoMatch,
            message,
        } => (
            StatusCode::NOT_FOUND,
            ErrorCode::SelfLookupNoMatch,
            message.clone(),
        ),
        other => (other.status(), other.code(), other.messages().join("；")),
    }
}

pub(crate) fn locked_message(retry_after_secs: u64) -> String {
    format!(
        "查询失败次数过多，已暂时锁定，请{}分钟后再试；如需帮助，请联系所在乡镇林业站",
        retry_after_secs.max(1).div_ceil(60)
    )
}
