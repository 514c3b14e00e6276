//! JSON API under /api/v1. Authentication by bearer token from POST /api/v1/session.
//! Errors: `{"error": "<stable code>", "message": "<中文>", "fields": [...]}`.
//! This file holds the scope, its extractor settings and the reply helpers;
//! each area registers its own routes (`<area>::configure_api`).

use super::finance as fin;
use super::session::Bearer;
use super::AppState;
use crate::app::{finance, premium_flow, reconciliation, subsidy_requests, Actor};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use actix_web::http::StatusCode;
use actix_web::{web, Handler, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};

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
            .configure(super::accounts::configure_api)
            .configure(super::self_service::configure_api)
            .configure(super::claims::api::configure)
            .configure(super::notices::configure_api)
            .configure(super::inspection::api::configure)
            .configure(super::checks::configure_api)
            .route("/finance/statement", web::get().to(fin::api_statement))
            .route(
                "/finance/statement.xlsx",
                web::get().to(fin::api_statement_xlsx),
            )
            .route(
                "/finance/statement/lock",
                web::post().to(recorded(|c, a, i, _| finance::lock(c, a, i))),
            )
            .route(
                "/finance/adjustments",
                web::get().to(fin::by_scheme(finance::adjustments)),
            )
            .route(
                "/finance/adjustments",
                web::post().to(recorded(|c, a, i, _| finance::add_adjustment(c, a, i))),
            )
            .route(
                "/finance/balances",
                web::get().to(fin::by_scheme(finance::balances)),
            )
            .route(
                "/finance/disbursements",
                web::get().to(fin::by_scheme(finance::disbursements)),
            )
            .route(
                "/finance/disbursements",
                web::post().to(recorded(finance::disburse)),
            )
            .route(
                "/finance/requests",
                web::get().to(listed(subsidy_requests::list)),
            )
            .route(
                "/finance/requests",
                web::post().to(recorded(|c, a, i, _| subsidy_requests::submit(c, a, i))),
            )
            .route(
                "/finance/requests/from-selection",
                web::post().to(fin::api_request_from_selection),
            )
            .route(
                "/finance/requests/{id}",
                web::get().to(by_id(subsidy_requests::get)),
            )
            .route(
                "/finance/reconciliations",
                web::get().to(listed(reconciliation::list)),
            )
            .route(
                "/finance/reconciliations",
                web::post().to(fin::api_reconcile),
            )
            .route(
                "/finance/reconciliations/{id}",
                web::get().to(by_id(reconciliation::get)),
            )
            .route(
                "/finance/premium-flow",
                web::get().to(fin::by_scheme(premium_flow::overview)),
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

/// A GET or POST about one record, the id in the path: the use case's
/// answer as JSON.
pub(crate) fn by_id<T: serde::Serialize + Send + 'static>(
    f: fn(&mut DbConn, &Actor, i64) -> AppResult<T>,
) -> impl Handler<(Bearer, web::Path<i64>), Output = Reply> {
    move |api: Bearer, id: web::Path<i64>| async move {
        let id = id.into_inner();
        ok(api.run(move |c, a| f(c, a, id)).await?)
    }
}

/// A GET of a list for the query's filter.
pub(crate) fn queried<Q, T>(
    f: fn(&mut DbConn, &Actor, &Q) -> AppResult<T>,
) -> impl Handler<(Bearer, web::Query<Q>), Output = Reply>
where
    Q: serde::de::DeserializeOwned + Send + 'static,
    T: serde::Serialize + Send + 'static,
{
    move |api: Bearer, q: web::Query<Q>| async move {
        let q = q.into_inner();
        ok(api.run(move |c, a| f(c, a, &q)).await?)
    }
}

/// POST a JSON body that records something (`f`, given the clock's today):
/// 201 with what was recorded.
pub(crate) fn recorded<I, T, F>(f: F) -> impl Handler<(Bearer, web::Json<I>), Output = Reply>
where
    I: serde::de::DeserializeOwned + Send + 'static,
    T: serde::Serialize + Send + 'static,
    F: Fn(&mut DbConn, &Actor, &I, NaiveDate) -> AppResult<T> + Clone + Send + 'static,
{
    move |api: Bearer, body: web::Json<I>| {
        let f = f.clone();
        async move {
            let input = body.into_inner();
            let today = api.state.clock.today();
            created(api.run(move |c, a| f(c, a, &input, today)).await?)
        }
    }
}

/// PUT a JSON body onto the record with the id in the path.
pub(crate) fn updated<I, T>(
    f: fn(&mut DbConn, &Actor, i64, &I) -> AppResult<T>,
) -> impl Handler<(Bearer, web::Path<i64>, web::Json<I>), Output = Reply>
where
    I: serde::de::DeserializeOwned + Send + 'static,
    T: serde::Serialize + Send + 'static,
{
    on_record(StatusCode::OK, move |c, a, _, id, input| f(c, a, id, input))
}

/// A JSON body for the record with the id in the path: the use case `f`,
/// given the clock's now, answers with `status` and what it gives back.
pub(crate) fn on_record<I, T, F>(
    status: StatusCode,
    f: F,
) -> impl Handler<(Bearer, web::Path<i64>, web::Json<I>), Output = Reply>
where
    I: serde::de::DeserializeOwned + Send + 'static,
    T: serde::Serialize + Send + 'static,
    F: Fn(&mut DbConn, &Actor, DateTime<Utc>, i64, &I) -> AppResult<T> + Clone + Send + 'static,
{
    move |api: Bearer, id: web::Path<i64>, body: web::Json<I>| {
        let f = f.clone();
        async move {
            let (id, input) = (id.into_inner(), body.into_inner());
            let now = api.state.clock.now();
            let v = api.run(move |c, a| f(c, a, now, id, &input)).await?;
            Ok(HttpResponse::build(status).json(v))
        }
    }
}

/// DELETE the record with the id in the path: 204.
pub(crate) fn deleted(
    f: fn(&mut DbConn, &Actor, i64) -> AppResult<()>,
) -> impl Handler<(Bearer, web::Path<i64>), Output = Reply> {
    move |api: Bearer, id: web::Path<i64>| async move {
        let id = id.into_inner();
        api.run(move |c, a| f(c, a, id)).await?;
        Ok(HttpResponse::NoContent().finish())
    }
}

/// A GET of what the caller may see of something, without parameters.
pub(crate) fn listed<T: serde::Serialize + Send + 'static>(
    f: fn(&mut DbConn, &Actor) -> AppResult<T>,
) -> impl Handler<(Bearer,), Output = Reply> {
    move |api: Bearer| async move { ok(api.run(f).await?) }
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
