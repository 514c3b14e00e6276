//! `/api/v1/townships` (progress, villages, target, boundaries in and out)
//! and `/api/v1/areas`, with the boundary upload shared with the import page.

use crate::app::{self, schemes};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::api::{ok, one_of, recorded, Reply, MAX_BODY_BYTES};
use crate::web::session::{Bearer, Caller};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/townships", web::get().to(townships))
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
        .route(
            "/areas",
            web::post().to(recorded(|c, a, i, _| app::areas::create(c, a, i))),
        );
}

#[derive(Deserialize)]
struct SchemeQuery {
    scheme: Option<String>,
}

async fn townships(api: Bearer, q: web::Query<SchemeQuery>) -> Reply {
    let code = q.into_inner().scheme;
    ok(api
        .run(move |c, a| {
            let scheme = match code {
                Some(code) => schemes::by_code(c, &code)?,
                None => schemes::current(c)?.ok_or_else(|| AppError::not_found("险种方案"))?,
            };
            app::areas::progress(c, a, scheme.id)
        })
        .await?)
}

async fn villages(api: Bearer, code: web::Path<String>) -> Reply {
    let code = code.into_inner();
    ok(api
        .run(move |c, a| {
            let t = app::areas::township_by_code(c, a, &code)?;
            app::areas::villages(c, a, Some(t.id))
        })
        .await?)
}

#[derive(Deserialize)]
struct TargetBody {
    target_mu: String,
}

async fn set_target(api: Bearer, code: web::Path<String>, body: web::Json<TargetBody>) -> Reply {
    let (code, target) = (code.into_inner(), body.into_inner().target_mu);
    ok(api
        .run(move |c, a| app::areas::set_target(c, a, &code, &target))
        .await?)
}

#[derive(Deserialize)]
struct DryRun {
    #[serde(default)]
    dry_run: Option<String>,
}

async fn import_boundaries(
    api: Caller,
    code: web::Path<String>,
    q: web::Query<DryRun>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let actor = api.actor;
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
    let says = |limit: &str| format!("GeoJSON文件超过{limit}上限");
    let (max, too_large) = (MAX_BODY_BYTES, ErrorCode::FileTooLarge);
    let body =
        crate::web::upload::read_body_within(&req, payload, max, "file", too_large, says).await?;
    let text = String::from_utf8(body).map_err(|_| {
        AppError::invalid("file", ErrorCode::GeojsonInvalid, "GeoJSON必须是UTF-8文本")
    })?;
    let report = upload_boundaries(&api.state, actor, text, dry_run, move |c, a| {
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
    api: Bearer,
    code: web::Path<String>,
    q: web::Query<VillageQuery>,
) -> Reply {
    let code = code.into_inner();
    let village = q.into_inner().village;
    let text = api
        .run(move |c, a| app::boundaries::export(c, a, &code, village.as_deref()))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(text))
}
