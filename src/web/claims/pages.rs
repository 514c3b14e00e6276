//! Claims pages: the claims board, report and claim pages for the insurer's
//! desk, and the survey page for a tablet in an orchard, which keeps working
//! without a signal (service worker + a queue in the browser).

use super::api::Photos;
use crate::app::clock;
use crate::app::{claims, Actor};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::web::desk::{Desk, Page};
use crate::web::listing;
use crate::web::page::parse_id;
use crate::web::pages::{field, is_user_error, Data, Form, Query};
use crate::web::photos::{page_original, page_thumb};
use crate::web::session::PageUser;
use crate::web::tablet::{config_json, photo_upload, script, sender};
use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

const SERVICE_WORKER: &str = concat!(
    include_str!("../../../templates/static/survey-sw.js"),
    include_str!("../../../templates/static/tablet-sw.js")
);
const SURVEY_JS: &str = concat!(
    include_str!("../../../templates/static/photo_shrink.js"),
    include_str!("../../../templates/static/tablet.js"),
    include_str!("../../../templates/static/survey.js")
);
const REPORT_JS: &str = include_str!("../../../templates/static/claim_report.js");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/claims", web::get().to(board))
        .route("/claims", web::post().to(create))
        .route("/claims/list", web::get().to(list))
        .route("/claims/new", web::get().to(new_form))
        .route(
            "/claims/sw.js",
            web::get().to(|| async { script(SERVICE_WORKER) }),
        )
        .route(
            "/claims/survey.js",
            web::get().to(|| async { script(SURVEY_JS) }),
        )
        .route(
            "/claims/report.js",
            web::get().to(|| async { script(REPORT_JS) }),
        )
        .route("/claims/ledger.xlsx", web::get().to(ledger))
        .route("/claims/payout-list.xlsx", web::get().to(payout_list))
        .route("/claims/{id}", web::get().to(show_claim))
        .route("/claims/{id}/survey", web::get().to(survey_page))
        .service(
            web::resource("/claims/{id}/survey.json")
                .app_data(crate::web::json_config(2 * 1024 * 1024))
                .route(web::post().to(survey_submit)),
        )
        .route(
            "/claims/{id}/photos",
            web::post().to(photo_upload::<Photos>),
        )
        .route(
            "/claims/{id}/photos/{pid}",
            web::get().to(page_original::<Photos>),
        )
        .route(
            "/claims/{id}/photos/{pid}/thumb",
            web::get().to(page_thumb::<Photos>),
        )
        .route("/claims/{id}/{action}", web::post().to(action));
}

fn statuses() -> Vec<Value> {
    claims::STATUSES
        .iter()
        .map(|(c, n)| json!({"code": c, "name": n}))
        .collect()
}

async fn board(desk: Desk, q: Query) -> Page {
    let warn = q.get("warn_hours").and_then(|v| v.parse::<u32>().ok());
    let now = desk.state.clock.now();
    desk.show_with("claims_board.html", move |c, a| {
        Ok(json!({"board": claims::board(c, a, now, warn)?}))
    })
    .await
}

async fn list(desk: Desk, q: Query) -> Page {
    let query = q.into_inner();
    let (sort, dir) = listing::sort_params::<claims::ClaimSort>(&query);
    let filter = claims::ClaimFilter {
        status: query.get("status").cloned().filter(|s| !s.is_empty()),
        township_id: parse_id(query.get("township")),
        village_id: parse_id(query.get("village")),
        event_id: parse_id(query.get("event")),
        q: query.get("q").cloned(),
        sort: Some(sort),
        dir: Some(dir),
        page: listing::page_number(&query),
        page_size: Some(50),
    };
    let now = desk.state.clock.now();
    desk.show_with("claims.html", move |c, a| {
        let list = claims::list(c, a, &filter)?;
        let clocks: HashMap<String, claims::SurveyClock> = list
            .paged
            .items
            .iter()
            .filter_map(|i| Some((i.id.to_string(), claims::survey_clock(i, now)?)))
            .collect();
        let towns = crate::app::areas::townships(c, a)?;
        let villages =
            crate::app::areas::villages(c, a, filter.township_id.or(a.township_scope()))?;
        let p = &list.paged;
        let pager = listing::pager("/claims/list", &query, "件", p.total, p.page, p.pages);
        let sorts = listing::sorter::<claims::ClaimSort>("/claims/list", &query);
        Ok(
            json!({"list": list, "statuses": statuses(), "query": query, "clocks": clocks,
                  "townships": towns, "villages": villages, "pager": pager, "sorts": sorts}),
        )
    })
    .await
}

/// The report form, with the policies found for the clerk's search.
async fn report_page(
    desk: &Desk,
    q: Option<String>,
    rejected: Option<AppError>,
    values: Value,
) -> Page {
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| {
            let (hits, lookup_error) = match q.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(q) => match claims::lookup(c, a, q) {
                    Ok(h) => (h, None),
                    Err(e @ AppError::Validation(_)) => (vec![], Some(e.messages().join("；"))),
                    Err(e) => return Err(e),
                },
                None => (vec![], None),
            };
            let scheme = crate::app::schemes::current(c)?;
            let (perils, excluded) = match &scheme {
                Some(s) => (s.def.perils.clone(), s.def.excluded_causes.clone()),
                None => (vec![], vec![]),
            };
            Ok(json!({
                "q": q, "hits": hits, "lookup_error": lookup_error,
                "form_token": form_token(),
                "perils": perils, "excluded": excluded,
                "channels": claims::CHANNELS.iter().filter(|(c, _)| *c != "api" && *c != "batch")
                    .map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
                "now_local": now.with_timezone(&clock::china()).format("%Y-%m-%dT%H:%M").to_string(),
            }))
        })
        .await;
    desk.form_page("claim_new.html", res, rejected, values)
}

async fn new_form(desk: Desk, q: Query) -> Page {
    let search = q.get("q").cloned();
    report_page(&desk, search, None, json!(q.into_inner())).await
}

async fn create(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let input = claims::ReportInput {
        target: claims::PlotRef {
            policy_id: form.get("policy_id").and_then(|v| v.parse().ok()),
            plot_id: form.get("plot_id").and_then(|v| v.parse().ok()),
            ..Default::default()
        },
        peril: field(&form, "peril"),
        occurred_at: field(&form, "occurred_at"),
        reported_at: form.get("reported_at").cloned(),
        reporter_name: field(&form, "reporter_name"),
        reporter_phone: field(&form, "reporter_phone"),
        channel: form.get("channel").cloned(),
        description: field(&form, "description"),
        client_id: form.get("client_id").cloned(),
        duplicate_reason: form.get("duplicate_reason").cloned(),
        confirm_exclusion: form.get("confirm_exclusion").is_some_and(|v| v == "1"),
    };
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| claims::report(c, a, now, &input))
        .await;
    let search = form.get("q").cloned();
    let retry = |e| report_page(&desk, search, Some(e), json!(form.into_inner()));
    desk.answer_form(res, is_user_error, retry, reported).await
}

/// A fresh single-use token for one report form: a resend of the same form
/// (a double tap, a reload after a slow answer) finds the claim it made.
fn form_token() -> String {
    format!(
        "rpt-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// The message after a report, and the claim's page.
fn reported(r: claims::ReportOutcome) -> (String, String) {
    let v = r.claim;
    if !r.created {
        return (
            format!("该报案已登记为{}（重复提交，未再登记）", v.claim_no),
            format!("/claims/{}", v.id),
        );
    }
    let msg = if v.status == claims::ClaimStatus::Declined {
        format!(
            "已登记报案{}，但不属于保险责任，已拒赔：{}",
            v.claim_no,
            v.decline_reason.clone().unwrap_or_default()
        )
    } else {
        format!(
            "已登记报案{}，须在{}前完成现场查勘",
            v.claim_no, v.survey_due_display
        )
    };
    (msg, format!("/claims/{}", v.id))
}

async fn claim_page(desk: &Desk, id: i64, rejected: Option<AppError>, values: Value) -> Page {
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| {
            let d = claims::detail(c, a, id)?;
            let (adjusters, co) = claims::surveyors(c)?;
            // An approval now would pay nothing and so decline the claim.
            let zero = crate::domain::Fen::ZERO;
            let proposed = d.claim.payout.unwrap_or(zero);
            let approve_declines = d.claim.status == claims::ClaimStatus::Surveyed
                && proposed.min(d.remaining_sum) <= zero;
            let decline_why = claims::decline_grounds(proposed).1;
            Ok(json!({
                "d": d, "adjusters": adjusters, "co_surveyors": co,
                "approve_declines": approve_declines, "decline_why": decline_why,
                "today": clock::china_date(now).to_string(),
                "is_surveyor": claims::assigned_surveyor(a, d.claim.adjuster_id, d.claim.co_surveyor_id),
            }))
        })
        .await;
    desk.form_page("claim.html", res, rejected, values)
}

async fn show_claim(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "赔案")?;
    claim_page(&desk, id, None, json!({})).await
}

/// A step of a claim a desk form posts (`/claims/{id}/{action}`), with its input.
enum Step {
    Dispatch(claims::DispatchInput),
    Approve(claims::ReviewInput),
    SendBack(claims::ReviewInput),
    Agree(claims::AgreeInput),
    Pay(claims::PaymentInput),
}

impl Step {
    /// The step `action` names, its input read from the form; `None`: no such step.
    fn read(action: &str, form: &HashMap<String, String>) -> Option<Step> {
        let version = form.get("version").and_then(|v| v.parse::<i32>().ok());
        let review = || claims::ReviewInput {
            version,
            note: field(form, "note"),
            confirm_decline: form.get("confirm_decline").is_some_and(|v| v == "1"),
        };
        Some(match action {
            "dispatch" => Step::Dispatch(claims::DispatchInput {
                adjuster: field(form, "adjuster"),
                co_surveyor: field(form, "co_surveyor"),
                version,
            }),
            "approve" => Step::Approve(review()),
            "send-back" => Step::SendBack(review()),
            "agree" => Step::Agree(claims::AgreeInput {
                agreed_on: field(form, "agreed_on"),
                version,
            }),
            "pay" => Step::Pay(claims::PaymentInput {
                amount: field(form, "amount"),
                paid_on: field(form, "paid_on"),
                bank_reference: field(form, "bank_reference"),
            }),
            _ => return None,
        })
    }

    /// Take the step on claim `id`: the message after it.
    fn take(self, c: &mut DbConn, a: &Actor, now: DateTime<Utc>, id: i64) -> AppResult<String> {
        match self {
            Step::Dispatch(i) => claims::dispatch(c, a, now, id, &i).map(|v| {
                let (adjuster, co) = (v.adjuster, v.co_surveyor);
                let (adjuster, co) = (adjuster.unwrap_or_default(), co.unwrap_or_default());
                format!("已派工：查勘员{adjuster}，共同查勘{co}")
            }),
            Step::Approve(i) => {
                claims::approve(c, a, now, id, &i).map(|v| format!("审核完成：{}", v.status_name))
            }
            Step::SendBack(i) => {
                claims::send_back(c, a, now, id, &i).map(|_| "已退回重新查勘".to_string())
            }
            Step::Agree(i) => claims::agree(c, a, now, id, &i).map(|v| {
                let due = v.payment_due_on.map(|d| d.to_text()).unwrap_or_default();
                format!("已登记农户确认，赔款须在{due}前支付")
            }),
            Step::Pay(i) => {
                claims::pay(c, a, now, id, &i).map(|v| format!("已登记支付，累计已付{}元", v.paid))
            }
        }
    }
}

async fn action(desk: Desk, path: web::Path<(String, String)>, form: Form) -> Page {
    desk.csrf(&form)?;
    let (id, what) = path.into_inner();
    let id = desk.id(&id, "赔案")?;
    let step = Step::read(&what, &form).ok_or_else(|| desk.fail(&AppError::not_found("操作")))?;
    let now = desk.state.clock.now();
    let res = desk.run(move |c, a| step.take(c, a, now, id)).await;
    let retry = |e| claim_page(&desk, id, Some(e), json!(form.into_inner()));
    let next = |msg| (msg, format!("/claims/{id}"));
    desk.answer_form(res, is_user_error, retry, next).await
}

async fn survey_page(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "赔案")?;
    let now = desk.state.clock.now();
    let photo_max_side = desk.state.limits.photo_max_side;
    desk.show_with("claim_survey.html", move |c, a| {
            let d = claims::detail_masked(c, a, id)?;
            if !claims::assigned_surveyor(a, d.claim.adjuster_id, d.claim.co_surveyor_id) {
                return Err(AppError::Forbidden(
                    "只有派工指定的查勘员或县林业局共同查勘人员可以打开查勘页面".into(),
                ));
            }
            let config = json!({
                "claim_id": d.claim.id, "claim_no": d.claim.claim_no, "version": d.claim.version,
                "status": d.claim.status,
                "boundary": d.plot_boundary.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()),
                "max_distance_m": d.max_distance_m, "tree_count": d.tree_count,
                "plot_mu": d.claim.plot_mu, "photo_max_side": photo_max_side,
                "next": claims::next_for_surveyor(c, a, id)?.map(|n| json!({
                    "id": n.id, "claim_no": n.claim_no, "grower_name": n.grower_name,
                    "village_name": n.village_name,
                    "clock": claims::survey_clock(&n, now).map(|k| k.label),
                })),
            });
            let clock = claims::survey_clock(&d.claim, now);
            // Inside a <script> element: "</" must not close it.
            Ok(json!({"d": d, "clock": clock, "config": config_json(&config)}))
        })
        .await
}

/// Who the survey page's scripts post for: the person logged in, with this
/// session's CSRF token in the `X-CSRF-Token` header; else a JSON refusal.
/// The tablet's queued survey. JSON in and out; the CSRF token comes in a header.
async fn survey_submit(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<claims::SurveyInput>,
) -> Result<HttpResponse, AppError> {
    let actor = sender(user, &session, &req)?;
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let r = state
        .run(move |c| claims::submit_survey(c, &actor, now, id, &input))
        .await?;
    Ok(super::api::created_or_ok(r.created, r))
}

/// A spreadsheet of claims for the actor, or the error page.
async fn spreadsheet(
    desk: Desk,
    filename: &'static str,
    table: fn(&mut DbConn, &Actor, DateTime<Utc>) -> AppResult<crate::excel::write::Table>,
) -> Page {
    let now = desk.state.clock.now();
    desk.download(move |c, a| {
        let t = table(c, a, now)?;
        let bytes =
            crate::excel::write::tables_to_xlsx(&[t]).map_err(|e| AppError::Internal(e.0))?;
        Ok((filename.to_string(), bytes))
    })
    .await
}

async fn ledger(desk: Desk) -> Page {
    spreadsheet(desk, "赔案台账.xlsx", claims::ledger).await
}

async fn payout_list(desk: Desk) -> Page {
    spreadsheet(desk, "赔款支付清单.xlsx", claims::payout_list).await
}
