//! JSON API under /api/v1. Authentication by bearer token from POST /api/v1/session.
//! Errors: `{"error": "<stable code>", "message": "<中文>", "fields": [...]}`.

use super::finance as fin;
use super::session::ApiUser;
use super::AppState;
use crate::app::{self, auth, batches, growers, plots, policies, schemes};
use crate::error::{AppError, AppResult, ErrorCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub const OPENAPI: &str = include_str!("openapi.json");

/// The largest raw body (a GeoJSON file) the API reads.
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

type Data = web::Data<AppState>;
type Reply = AppResult<HttpResponse>;

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
            .route("/session", web::post().to(login))
            .route("/me", web::get().to(me))
            .route("/townships", web::get().to(townships))
            .route("/townships/{code}/villages", web::get().to(villages))
            .route("/townships/{code}/target", web::put().to(set_target))
            .route(
                "/townships/{code}/boundaries",
                web::post().to(import_boundaries),
            )
            .route(
                "/townships/{code}/plots.geojson",
                web::get().to(export_boundaries),
            )
            .route("/areas", web::post().to(create_area))
            .route("/schemes", web::get().to(list_schemes))
            .route("/schemes", web::post().to(create_scheme))
            .route("/schemes/{code}", web::get().to(get_scheme))
            .route("/quote", web::get().to(quote))
            .route("/eligibility", web::post().to(eligibility))
            .route("/growers", web::get().to(list_growers))
            .route("/growers", web::post().to(create_grower))
            .route("/growers/{id}", web::get().to(get_grower))
            .route("/growers/{id}", web::put().to(update_grower))
            .route("/growers/{id}", web::delete().to(delete_grower))
            .route("/plots", web::get().to(list_plots))
            .route("/plots", web::post().to(create_plot))
            .route("/plots/{id}", web::get().to(get_plot))
            .route("/plots/{id}", web::put().to(update_plot))
            .route("/plots/{id}", web::delete().to(delete_plot))
            .route("/policies", web::get().to(list_policies))
            .route("/policies/{id}", web::get().to(get_policy))
            .route("/policies/{id}/collect", web::post().to(collect_policy))
            .route("/policies/{id}/issue", web::post().to(issue_policy))
            .route("/policies/{id}/cancel", web::post().to(cancel_policy))
            .route("/batches", web::get().to(list_batches))
            .route("/batches", web::post().to(create_batch))
            .route("/audit", web::get().to(audit))
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

fn ok<T: serde::Serialize>(v: T) -> Reply {
    Ok(HttpResponse::Ok().json(v))
}

fn created<T: serde::Serialize>(v: T) -> Reply {
    Ok(HttpResponse::Created().json(v))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(state: Data, body: web::Json<LoginBody>) -> Reply {
    let body = body.into_inner();
    let (token, actor) = state
        .run(move |c| {
            let actor = auth::authenticate(c, &body.username, &body.password)?;
            Ok((auth::issue_token(c, &actor)?, actor))
        })
        .await?;
    ok(json!({ "token": token, "user": actor }))
}

async fn me(user: ApiUser) -> Reply {
    ok(user.0)
}

#[derive(Deserialize)]
struct SchemeQuery {
    scheme: Option<String>,
}

async fn townships(state: Data, user: ApiUser, q: web::Query<SchemeQuery>) -> Reply {
    let actor = user.0;
    let code = q.into_inner().scheme;
    ok(state
        .run(move |c| {
            let scheme = match code {
                Some(code) => schemes::by_code(c, &code)?,
                None => schemes::current(c)?.ok_or_else(|| AppError::not_found("险种方案"))?,
            };
            app::areas::progress(c, &actor, scheme.id)
        })
        .await?)
}

async fn villages(state: Data, user: ApiUser, code: web::Path<String>) -> Reply {
    let actor = user.0;
    let code = code.into_inner();
    ok(state
        .run(move |c| {
            let t = app::areas::township_by_code(c, &actor, &code)?;
            app::areas::villages(c, &actor, Some(t.id))
        })
        .await?)
}

async fn create_area(state: Data, user: ApiUser, body: web::Json<app::areas::AreaInput>) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    created(
        state
            .run(move |c| app::areas::create(c, &actor, &input))
            .await?,
    )
}

#[derive(Deserialize)]
struct TargetBody {
    target_mu: String,
}

async fn set_target(
    state: Data,
    user: ApiUser,
    code: web::Path<String>,
    body: web::Json<TargetBody>,
) -> Reply {
    let actor = user.0;
    let (code, target) = (code.into_inner(), body.into_inner().target_mu);
    ok(state
        .run(move |c| app::areas::set_target(c, &actor, &code, &target))
        .await?)
}

#[derive(Deserialize)]
struct DryRun {
    #[serde(default)]
    dry_run: Option<String>,
}

async fn import_boundaries(
    state: Data,
    user: ApiUser,
    code: web::Path<String>,
    q: web::Query<DryRun>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let actor = user.0;
    // The role before the body: a stranger's file is never read.
    actor.require(actor.can_edit_enrollment())?;
    let code = code.into_inner();
    let dry_run = q.into_inner().dry_run;
    one_of(
        "dry_run",
        ErrorCode::DryRunInvalid,
        dry_run.as_deref(),
        &[
            ("1", "只检查"),
            ("true", "只检查"),
            ("0", "导入"),
            ("false", "导入"),
        ],
    )?;
    let dry_run = matches!(dry_run.as_deref(), Some("1" | "true"));
    let body = super::upload::read_body(&req, payload, MAX_BODY_BYTES, || {
        AppError::invalid(
            "file",
            ErrorCode::FileTooLarge,
            format!(
                "GeoJSON文件超过{}上限",
                super::upload::size_text(MAX_BODY_BYTES)
            ),
        )
    })
    .await?;
    let text = String::from_utf8(body).map_err(|_| {
        AppError::invalid("file", ErrorCode::GeojsonInvalid, "GeoJSON必须是UTF-8文本")
    })?;
    let report = upload_boundaries(&state, actor, text, dry_run, move |c, a| {
        app::boundaries::load_context(c, a, &code)
    })
    .await?;
    ok(report)
}

/// A boundary upload in steps, so that parsing, checking and comparing
/// polygons — the CPU work — never holds a pooled connection: other requests
/// keep their connections however large the upload. `load` picks the
/// township and loads what the upload is compared with.
pub(crate) async fn upload_boundaries<L>(
    state: &AppState,
    actor: app::Actor,
    text: String,
    dry_run: bool,
    load: L,
) -> AppResult<app::boundaries::BoundaryReport>
where
    L: FnOnce(&mut crate::db::DbConn, &app::Actor) -> AppResult<app::boundaries::Context>
        + Send
        + 'static,
{
    use crate::geo::{Deadline, CHECK_TIME_LIMIT};
    let deadline = Deadline::after(CHECK_TIME_LIMIT);
    let a = actor.clone();
    let prepared = web::block(move || app::boundaries::prepare(&a, &text, deadline)).await??;
    let a = actor.clone();
    let ctx = state.run(move |c| load(c, &a)).await?;
    let plan = web::block(move || app::boundaries::plan(&ctx, prepared, deadline)).await??;
    if dry_run {
        return Ok(plan.report);
    }
    state
        .run(move |c| app::boundaries::apply(c, &actor, plan))
        .await
}

#[derive(Deserialize)]
struct VillageQuery {
    village: Option<String>,
}

async fn export_boundaries(
    state: Data,
    user: ApiUser,
    code: web::Path<String>,
    q: web::Query<VillageQuery>,
) -> Reply {
    let actor = user.0;
    let code = code.into_inner();
    let village = q.into_inner().village;
    let text = state
        .run(move |c| app::boundaries::export(c, &actor, &code, village.as_deref()))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(text))
}

async fn list_schemes(state: Data, _user: ApiUser) -> Reply {
    let list = state.run(schemes::list).await?;
    ok(list.into_iter().map(|s| s.def).collect::<Vec<_>>())
}

async fn get_scheme(state: Data, _user: ApiUser, code: web::Path<String>) -> Reply {
    let code = code.into_inner();
    ok(state.run(move |c| schemes::by_code(c, &code)).await?.def)
}

async fn create_scheme(state: Data, user: ApiUser, body: web::Json<serde_json::Value>) -> Reply {
    let actor = user.0;
    let text = body.into_inner().to_string();
    let def = schemes::parse_definition(&text)?;
    created(
        state
            .run(move |c| schemes::create(c, &actor, &def))
            .await?
            .def,
    )
}

#[derive(Deserialize)]
struct QuoteQuery {
    scheme: String,
    variety: String,
    mu: String,
}

async fn quote(state: Data, _user: ApiUser, q: web::Query<QuoteQuery>) -> Reply {
    let q = q.into_inner();
    ok(state
        .run(move |c| {
            let s = schemes::by_code(c, &q.scheme)?;
            schemes::quote(&s.def, &q.variety, &q.mu)
        })
        .await?)
}

#[derive(Deserialize)]
struct EligibilityBody {
    scheme: String,
    variety: String,
    #[serde(flatten)]
    facts: BTreeMap<String, serde_json::Value>,
}

async fn eligibility(state: Data, _user: ApiUser, body: web::Json<EligibilityBody>) -> Reply {
    let b = body.into_inner();
    let facts: Vec<(String, String)> = b
        .facts
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect();
    ok(state
        .run(move |c| {
            let s = schemes::by_code(c, &b.scheme)?;
            schemes::eligibility(&s.def, &b.variety, &facts)
        })
        .await?)
}

async fn list_growers(state: Data, user: ApiUser, f: web::Query<growers::GrowerFilter>) -> Reply {
    let actor = user.0;
    let f = f.into_inner();
    ok(state.run(move |c| growers::list(c, &actor, &f)).await?)
}

async fn create_grower(state: Data, user: ApiUser, body: web::Json<growers::GrowerInput>) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    app::fault::point("grower_handler", &input.name);
    created(
        state
            .run(move |c| growers::create(c, &actor, &input))
            .await?,
    )
}

async fn get_grower(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state
        .run(move |c| {
            let g = growers::get_view(c, &actor, id)?;
            let p = plots::of_grower(c, &actor, id)?;
            let pol = policies::of_grower(c, &actor, id)?;
            Ok(json!({ "grower": g, "plots": p, "policies": pol }))
        })
        .await?)
}

async fn update_grower(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<growers::GrowerInput>,
) -> Reply {
    let actor = user.0;
    let (id, input) = (id.into_inner(), body.into_inner());
    ok(state
        .run(move |c| growers::update(c, &actor, id, &input))
        .await?)
}

async fn delete_grower(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    state.run(move |c| growers::delete(c, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_plots(state: Data, user: ApiUser, f: web::Query<plots::PlotFilter>) -> Reply {
    let actor = user.0;
    let f = f.into_inner();
    ok(state.run(move |c| plots::list(c, &actor, &f)).await?)
}

async fn create_plot(state: Data, user: ApiUser, body: web::Json<plots::PlotInput>) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    created(state.run(move |c| plots::create(c, &actor, &input)).await?)
}

async fn get_plot(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| plots::get_view(c, &actor, id)).await?)
}

async fn update_plot(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<plots::PlotInput>,
) -> Reply {
    let actor = user.0;
    let (id, input) = (id.into_inner(), body.into_inner());
    ok(state
        .run(move |c| plots::update(c, &actor, id, &input))
        .await?)
}

async fn delete_plot(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    state.run(move |c| plots::delete(c, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_policies(state: Data, user: ApiUser, f: web::Query<policies::PolicyFilter>) -> Reply {
    let actor = user.0;
    let f = f.into_inner();
    one_of(
        "status",
        ErrorCode::StatusInvalid,
        f.status.as_deref(),
        &policies::STATUSES,
    )?;
    ok(state.run(move |c| policies::list(c, &actor, &f)).await?)
}

async fn get_policy(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state
        .run(move |c| policies::get_view(c, &actor, id))
        .await?)
}

#[derive(Deserialize)]
struct CollectBody {
    collected_on: String,
}

async fn collect_policy(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<CollectBody>,
) -> Reply {
    let actor = user.0;
    let (id, date) = (id.into_inner(), body.into_inner().collected_on);
    ok(state
        .run(move |c| policies::collect(c, &actor, id, &date))
        .await?)
}

async fn issue_policy(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| policies::issue(c, &actor, id)).await?)
}

async fn cancel_policy(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| policies::cancel(c, &actor, id)).await?)
}

async fn list_batches(state: Data, user: ApiUser) -> Reply {
    let actor = user.0;
    ok(state.run(move |c| batches::list(c, &actor)).await?)
}

#[derive(Deserialize)]
struct BatchBody {
    #[serde(default)]
    township_code: String,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    receipt_no: String,
    #[serde(default)]
    handed_over_on: String,
}

async fn create_batch(state: Data, user: ApiUser, body: web::Json<BatchBody>) -> Reply {
    let actor = user.0;
    let b = body.into_inner();
    let input = batches::BatchInput {
        township_code: b.township_code,
        scheme: b.scheme,
        receipt_no: b.receipt_no,
        handed_over_on: b.handed_over_on,
    };
    created(
        state
            .run(move |c| batches::create(c, &actor, &input))
            .await?,
    )
}

#[derive(Deserialize)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<i64>,
    limit: Option<i64>,
}

async fn audit(state: Data, user: ApiUser, q: web::Query<AuditQuery>) -> Reply {
    let actor = user.0;
    let q = q.into_inner();
    ok(state
        .run(move |c| {
            app::audit::list(
                c,
                &actor,
                q.entity.as_deref(),
                q.entity_id,
                q.limit.unwrap_or(100),
            )
        })
        .await?)
}
