//! JSON API under /api/v1. Authentication by bearer token from POST /api/v1/session.
//! Errors: `{"error": "<stable code>", "message": "<中文>", "fields": [...]}`.
//! This file holds the scope, its extractor settings and the reply helpers;
//! each area registers its own routes (`<area>::configure_api`).

use super::finance as fin;
use super::AppState;
use crate::error::{AppError, AppResult, ErrorCode};
use actix_web::{web, HttpResponse};

pub const OPENAPI: &str = include_str!("openapi.json");

/// The largest raw body (a GeoJSON file) the API reads.
pub(crate) const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

pub(crate) type Data = web::Data<AppState>;
pub(crate) type Reply = AppResult<HttpResponse>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let json_cfg = super::json_config(2 * 1024 * 1024);
    let path_cfg =
        web::PathConfig::default().error_handler(|_err, _req| AppError::not_found("资源").into());
    let query_cfg = web::QueryConfig::default().error_handler(|err, _req| {
        AppError::invalid(
            "query",
            ErrorCode::QueryInvalid,
            format!("查询参数无效：{err}"),
        )
        .into()
    });
    cfg.service(
        web::scope("/api/v1")
            .app_data(json_cfg)
            .app_data(path_cfg)
            .app_data(query_cfg)
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route("/openapi.json", web::get().to(openapi))
            .configure(super::home::configure_api)
            .configure(super::areas::configure_api)
            .configure(super::schemes::configure_api)
            .configure(super::growers::configure_api)
            .configure(super::plots::configure_api)
            .configure(super::policies::configure_api)
            .configure(super::audit::configure_api)
            .configure(super::claims::api::configure)
            .route("/finance/statement", web::get().to(fin::api_statement))
            .route(
                "/finance/statement.xlsx",
                web::get().to(fin::api_statement_xlsx),
            )
            .route("/finance/statement/lock", web::post().to(fin::api_lock))
            .route("/finance/adjustments", web::get().to(fin::api_adjustments))
            .route(
                "/finance/adjustments",
                web::post().to(fin::api_add_adjustment),
            )
            .route("/finance/balances", web::get().to(fin::api_balances))
            .route(
                "/finance/disbursements",
                web::get().to(fin::api_disbursements),
            )
            .route("/finance/disbursements", web::post().to(fin::api_disburse))
            .route("/finance/requests", web::get().to(fin::api_requests))
            .route("/finance/requests", web::post().to(fin::api_submit_request))
            .route("/finance/requests/{id}", web::get().to(fin::api_request))
            .route(
                "/finance/reconciliations",
                web::get().to(fin::api_reconciliations),
            )
            .route(
                "/finance/reconciliations",
                web::post().to(fin::api_reconcile),
            )
            .route(
                "/finance/reconciliations/{id}",
                web::get().to(fin::api_reconciliation),
            )
            .route(
                "/finance/premium-flow",
                web::get().to(fin::api_premium_flow),
            )
            .route(
                "/batches/{id}/confirm",
                web::post().to(fin::api_confirm_batch),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AppError::NotFound("没有这个接口".into()))
            })),
    );
}

/// A query value that must be one of a fixed set (a status, a source...):
/// anything else is a 422 that lists what is accepted, never ignored.
pub(crate) fn one_of(
    field: &str,
    code: ErrorCode,
    value: Option<&str>,
    allowed: &[(&str, &str)],
) -> AppResult<()> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) if !allowed.iter().any(|(code, _)| *code == v) => {
            let choices: Vec<String> = allowed
                .iter()
                .map(|(code, name)| format!("{code}（{name}）"))
                .collect();
            Err(AppError::invalid(
                field,
                code,
                format!(
                    "参数{field}的取值“{}”无效，可选：{}",
                    v.chars().take(40).collect::<String>(),
                    choices.join("、")
                ),
            ))
        }
        _ => Ok(()),
    }
}

pub(crate) fn ok<T: serde::Serialize>(v: T) -> Reply {
    Ok(HttpResponse::Ok().json(v))
}

pub(crate) fn created<T: serde::Serialize>(v: T) -> Reply {
    Ok(HttpResponse::Created().json(v))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
