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

/// A tablet page's settings as JSON to put inside its
/// `<script type="application/json">`: every `<`, `>` and `&` is written as
/// a JSON escape, so no text in it (a grower's name such as `<!--<script>`)
/// can end the element early or make the browser read the rest of the page
/// into it; `JSON.parse` gives back the same text.
pub fn config_json(config: &serde_json::Value) -> String {
    config
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

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

#[cfg(test)]
mod tests {
    use super::config_json;
    use serde_json::json;

    #[test]
    fn settings_cannot_leave_their_script_element() {
        let v = json!({"next": {"grower_name": "<!--<script>a&b</script>"}, "n": 1});
        let text = config_json(&v);
        assert!(
            !text.contains('<') && !text.contains('>') && !text.contains('&'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
