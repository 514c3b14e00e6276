//! The public page `/self`: a phone-sized form (ID number, phone) and, on
//! POST, the grower's own records on the same page, or the reason why not.
//! The form is protected like the login form: the session cookie's CSRF
//! token must come back in the form.

use super::{lookup, pad, refusal};
use crate::domain::id_number::mask_phone;
use crate::web::page::{field, page, Data, Form};
use crate::web::session::check_csrf;
use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::time::Instant;

/// Where the page lives (the login page links to it).
pub const PATH: &str = "/self";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(form_page))
        .route(PATH, web::post().to(submit));
}

async fn form_page(state: Data, session: Session) -> HttpResponse {
    page(
        &state,
        &session,
        None,
        "self_service.html",
        StatusCode::OK,
        json!({}),
    )
}

/// What the grower typed, shown back masked (never in full, never in a
/// form field): only when it reads as an ID number and a phone.
fn echo(id_number: &str, phone: &str) -> serde_json::Value {
    let id = crate::domain::IdNumber::parse(id_number).ok();
    let digits: String = crate::domain::measure::normalize_width(phone)
        .chars()
        .filter(char::is_ascii_digit)
        .take(20)
        .collect();
    match id {
        Some(id) => json!({"id_number": id.masked(), "phone": mask_phone(&digits)}),
        None => json!(null),
    }
}

async fn submit(state: Data, session: Session, req: HttpRequest, form: Form) -> HttpResponse {
    let start = Instant::now();
    let mut reply = match check_csrf(&session, form.get("csrf_token")) {
        Err(e) => {
            let (status, code, message) = refusal(&e);
            page(
                &state,
                &session,
                None,
                "self_service.html",
                status,
                json!({"error": message, "code": code}),
            )
        }
        Ok(()) => {
            let id_number = field(&form, "id_number");
            let phone = field(&form, "phone");
            let typed = echo(&id_number, &phone);
            match lookup(&state, &req, id_number, phone).await {
                Ok(view) => page(
                    &state,
                    &session,
                    None,
                    "self_service.html",
                    StatusCode::OK,
                    json!({"found": view}),
                ),
                Err(e) => {
                    let (status, code, message) = refusal(&e);
                    if status.is_server_error() {
                        log::error!("{e:?}");
                    }
                    let fields: Vec<String> =
                        e.fields().iter().map(|f| f.message.clone()).collect();
                    let mut reply = page(
                        &state,
                        &session,
                        None,
                        "self_service.html",
                        status,
                        json!({"error": message, "code": code, "field_errors": fields, "typed": typed}),
                    );
                    if let crate::error::AppError::Locked { retry_after_secs } = e {
                        if let Ok(v) = retry_after_secs.to_string().parse() {
                            reply.headers_mut().insert(header::RETRY_AFTER, v);
                        }
                    }
                    reply
                }
            }
        }
    };
    pad(&state, start).await;
    reply.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_id_number_is_echoed_and_then_masked() {
        let first17 = "53299919700101001";
        let id = format!(
            "{first17}{}",
            crate::domain::id_number::check_char(first17).unwrap()
        );
        let e = echo(&id, "138-0000-1234");
        assert_eq!(e["id_number"], crate::domain::id_number::mask_id(&id));
        assert_eq!(e["phone"], "138****1234");
        assert!(echo("<script>", "1").is_null());
    }
}
