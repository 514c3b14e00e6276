//! `POST /api/v1/self-service/lookup`: the self-service lookup as JSON,
//! public (no token), under the same throttle and answer time as the page.

use super::{lookup, pad, refusal};
use crate::error::AppError;
use crate::web::api::Data;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/self-service/lookup", web::post().to(lookup_json));
}

/// A missing field is an empty one: refused with the page's 400 and message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
struct LookupBody {
    id_number: String,
    phone: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [crate::error::FieldError],
}

fn answer_error(e: &AppError) -> HttpResponse {
    let (status, code, message) = refusal(e);
    if status.is_server_error() {
        log::error!("{e:?}");
    }
    let mut reply = HttpResponse::build(status);
    reply.insert_header((header::CACHE_CONTROL, "no-store"));
    if let AppError::Locked { retry_after_secs } = e {
        reply.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
    }
    if status == actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
        reply.insert_header((
            header::RETRY_AFTER,
            crate::error::RETRY_AFTER_SECS.to_string(),
        ));
    }
    reply.json(ErrorBody {
        error: code.as_str(),
        message,
        fields: e.fields(),
    })
}

async fn lookup_json(state: Data, req: HttpRequest, body: web::Json<LookupBody>) -> HttpResponse {
    let start = Instant::now();
    let body = body.into_inner();
    let res = lookup(&state, &req, body.id_number, body.phone).await;
    pad(&state, start).await;
    match res {
        Ok(view) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(view),
        Err(e) => answer_error(&e),
    }
}
