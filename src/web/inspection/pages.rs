//! Inspection pages: the villages and their samples for the desk, and the
//! page for one sampled plot on a tablet in the orchard, which keeps working
//! without a signal (service worker + a queue in the browser), as the
//! claims survey page does.

use super::api::Photos;
use crate::app::inspection;
use crate::error::AppError;
use crate::web::desk::{Desk, Page};
use crate::web::pages::{field, is_user_error, Data, Form, Query};
use crate::web::photos::{page_original, page_thumb};
use crate::web::session::PageUser;
use crate::web::tablet::{config_json, photo_upload, script, sender};
use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const SERVICE_WORKER: &str = concat!(
    include_str!("../../../templates/static/inspection-sw.js"),
    include_str!("../../../templates/static/tablet-sw.js")
);
const SCRIPT: &str = concat!(
    include_str!("../../../templates/static/photo_shrink.js"),
    include_str!("../../../templates/static/tablet.js"),
    include_str!("../../../templates/static/inspection.js")
);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/inspection", web::get().to(list))
        .route(
            "/inspection/sw.js",
            web::get().to(|| async { script(SERVICE_WORKER) }),
        )
        .route(
            "/inspection/inspection.js",
            web::get().to(|| async { script(SCRIPT) }),
        )
        .route("/inspection/villages/{id}", web::get().to(village))
        .route("/inspection/villages/{id}/draw", web::post().to(draw))
        .route("/inspection/samples/{id}", web::get().to(sample_page))
        .service(
            web::resource("/inspection/samples/{id}/result.json")
                .app_data(crate::web::json_config(64 * 1024))
                .route(web::post().to(result_submit)),
        )
        .route(
            "/inspection/samples/{id}/photos",
            web::post().to(photo_upload::<Photos>),
        )
        .route(
            "/inspection/samples/{id}/photos/{pid}",
            web::get().to(page_original::<Photos>),
        )
        .route(
            "/inspection/samples/{id}/photos/{pid}/thumb",
            web::get().to(page_thumb::<Photos>),
        );
}

fn pairs(list: &[(&str, &str)]) -> Vec<Value> {
    list.iter()
        .map(|(c, n)| json!({"code": c, "name": n}))
        .collect()
}

async fn list(desk: Desk, q: Query) -> Page {
    let f = inspection::VillageFilter {
        scheme: q.get("scheme").cloned(),
        township: q.get("township").cloned().filter(|s| !s.is_empty()),
    };
    let query = q.into_inner();
    desk.show_with("inspection.html", move |c, a| {
        let list = inspection::villages(c, a, &f)?;
        let towns = crate::app::areas::townships(c, a)?;
        Ok(json!({"list": list, "townships": towns, "query": query}))
    })
    .await
}

async fn village_page(desk: &Desk, id: i64, rejected: Option<AppError>, values: Value) -> Page {
    let res = desk
        .run(move |c, a| {
            let s = inspection::village_status(c, a, id, None)?;
            Ok(json!({"s": s, "modes": pairs(&inspection::MODES)}))
        })
        .await;
    desk.form_page("inspection_village.html", res, rejected, values)
}

async fn village(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "村")?;
    village_page(&desk, id, None, json!({})).await
}

async fn draw(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    desk.csrf(&form)?;
    let id = desk.id(&id, "村")?;
    let input = inspection::DrawInput {
        scheme: field(&form, "scheme"),
        mode: field(&form, "mode"),
        seed: form
            .get("seed")
            .filter(|s| !s.trim().is_empty())
            .map(|s| Value::String(s.clone())),
        reason: field(&form, "reason"),
    };
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| inspection::draw(c, a, now, id, &input))
        .await;
    let retry = |e| village_page(&desk, id, Some(e), json!(form.into_inner()));
    let next = |s: inspection::VillageStatus| {
        let d = s.draw.as_ref();
        let msg = format!(
            "已抽取{}的验标样本：{}块，{}亩（随机种子{}）",
            s.village_name,
            d.map_or(0, |d| d.sample_plots),
            d.map(|d| d.sample_mu.to_string()).unwrap_or_default(),
            d.map_or(0, |d| d.seed)
        );
        (msg, format!("/inspection/villages/{id}"))
    };
    desk.answer_form(res, is_user_error, retry, next).await
}

async fn sample_page(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "抽样地块")?;
    let photo_max_side = desk.state.limits.photo_max_side;
    desk.show_with("inspection_sample.html", move |c, a| {
        let d = inspection::sample_detail(c, a, id)?;
        let config = json!({
            "sample_id": d.sample.id, "plot_code": d.sample.plot_code,
            "boundary": d.boundary.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()),
            "max_distance_m": d.max_distance_m, "plot_mu": d.sample.current_mu,
            "photo_max_side": photo_max_side,
        });
        Ok(json!({
            "d": d, "outcomes": pairs(&inspection::OUTCOMES),
            "may_record": a.may(crate::app::Action::RecordInspection),
            // Inside a <script> element: "</" must not close it.
            "config": config_json(&config),
        }))
    })
    .await
}

/// Who the tablet page's scripts post for: the person logged in, with this
/// session's CSRF token in the `X-CSRF-Token` header; else a JSON refusal.
async fn result_submit(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<inspection::ResultInput>,
) -> Result<HttpResponse, AppError> {
    let actor = sender(user, &session, &req)?;
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let r = state
        .run(move |c| inspection::record(c, &actor, now, id, &input))
        .await?;
    Ok(crate::web::claims::api::created_or_ok(r.created, r))
}
