//! What the two tablet pages (the claims survey, the 验标 sample) share over
//! HTTP: their scripts, served fresh whenever the tablet is online, and
//! their sends from the outbox, which carry the page's CSRF token in a
//! header instead of a form field.

use super::photos::{self, PhotoQuery};
use super::session::{check_csrf, PageUser};
use super::AppState;
use crate::app::Actor;
use crate::error::AppError;
use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};

/// A script of a tablet page (or its service worker), fetched again
/// whenever the tablet is online.
pub fn script(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

/// The signed-in person behind a send from the page's outbox, once the
/// CSRF token in its `X-CSRF-Token` header is checked.
pub fn sender(user: PageUser, session: &Session, req: &HttpRequest) -> Result<Actor, AppError> {
    let actor = user.0.ok_or(AppError::Unauthenticated)?;
    let token = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|h| h.to_str().ok())
        .map(|s| s.to_string());
    check_csrf(session, token.as_ref())?;
    Ok(actor)
}

/// A photo from the page's outbox: the token is checked before the body is
/// read, then it is the API's upload.
pub async fn photo_upload<H: photos::Home>(
    state: web::Data<AppState>,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    id: web::Path<i64>,
    q: web::Query<PhotoQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let actor = sender(user, &session, &req)?;
    photos::upload::<H>(
        &state,
        actor,
        id.into_inner(),
        q.into_inner(),
        (&req, payload),
    )
    .await
}
