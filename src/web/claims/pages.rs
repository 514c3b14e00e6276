//! Claims pages: the claims board, report and claim pages for the insurer's
//! desk, and the survey page for a tablet in an orchard, which keeps working
//! without a signal (service worker + a queue in the browser).

use crate::app::clock;
use crate::app::{claims, Actor};
use crate::error::AppError;
use crate::web::pages::{
    answer_form, download, error_page, field, form_page, is_user_error, show_with,
};
use crate::web::session::{check_csrf, PageUser};
use crate::web::AppState;
use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

type Data = web::Data<AppState>;
type Form = web::Form<HashMap<String, String>>;
type Query = web::Query<HashMap<String, String>>;

const SERVICE_WORKER: &str = include_str!("../../../templates/static/survey-sw.js");
const SURVEY_JS: &str = include_str!("../../../templates/static/survey.js");

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
        .route("/claims/ledger.xlsx", web::get().to(ledger))
        .route("/claims/payout-list.xlsx", web::get().to(payout_list))
        .route("/claims/{id}", web::get().to(show_claim))
        .route("/claims/{id}/survey", web::get().to(survey_page))
        .service(
            web::resource("/claims/{id}/survey.json")
                .app_data(crate::web::json_config(2 * 1024 * 1024))
                .route(web::post().to(survey_submit)),
        )
        .route("/claims/{id}/photos", web::post().to(photo_upload))
        .route("/claims/{id}/photos/{pid}", web::get().to(photo_get))
        .route("/claims/{id}/{action}", web::post().to(action));
}

fn statuses() -> Vec<Value> {
    claims::STATUSES
        .iter()
        .map(|(c, n)| json!({"code": c, "name": n}))
        .collect()
}

async fn board(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let warn = q.get("warn_hours").and_then(|v| v.parse::<u32>().ok());
    let now = state.clock.now();
    show_with(
        &state,
        &session,
        &actor,
        "claims_board.html",
        move |c, a| Ok(json!({"board": claims::board(c, a, now, warn)?})),
    )
    .await
}

async fn list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let filter = claims::ClaimFilter {
        status: q.get("status").cloned().filter(|s| !s.is_empty()),
        township_id: None,
        event_id: q.get("event").and_then(|v| v.parse().ok()),
    };
    let query = q.into_inner();
    show_with(&state, &session, &actor, "claims.html", move |c, a| {
        let items = claims::list(c, a, &filter)?;
        let payout: crate::domain::Fen = items.iter().filter_map(|i| i.payout).sum();
        let paid: crate::domain::Fen = items.iter().map(|i| i.paid).sum();
        Ok(
            json!({"items": items, "statuses": statuses(), "query": query,
                  "payout_total": payout, "paid_total": paid}),
        )
    })
    .await
}

/// The report form, with the policies found for the clerk's search.
async fn report_page(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    q: Option<String>,
    rejected: Option<AppError>,
    values: Value,
) -> HttpResponse {
    let now = state.clock.now();
    let res = state
        .run_as(actor, move |c, a| {
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
                "perils": perils, "excluded": excluded,
                "channels": claims::CHANNELS.iter().filter(|(c, _)| *c != "api" && *c != "batch")
                    .map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
                "now_local": now.with_timezone(&clock::china()).format("%Y-%m-%dT%H:%M").to_string(),
            }))
        })
        .await;
    form_page(
        state,
        session,
        actor,
        "claim_new.html",
        res,
        rejected,
        values,
    )
}

async fn new_form(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let search = q.get("q").cloned();
    report_page(
        &state,
        &session,
        &actor,
        search,
        None,
        json!(q.into_inner()),
    )
    .await
}

async fn create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
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
    };
    let now = state.clock.now();
    let res = state
        .run_as(&actor, move |c, a| claims::report(c, a, now, &input))
        .await;
    let search = form.get("q").cloned();
    let retry = |e| {
        report_page(
            &state,
            &session,
            &actor,
            search,
            Some(e),
            json!(form.into_inner()),
        )
    };
    answer_form(
        &state,
        &session,
        &actor,
        res,
        is_user_error,
        retry,
        reported,
    )
    .await
}

/// The message after a report, and the claim's page.
fn reported(v: claims::ClaimView) -> (String, String) {
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

async fn claim_page(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    rejected: Option<AppError>,
    values: Value,
) -> HttpResponse {
    let now = state.clock.now();
    let res = state
        .run_as(actor, move |c, a| {
            let d = claims::detail(c, a, id)?;
            let (adjusters, co) = claims::surveyors(c)?;
            Ok(json!({
                "d": d, "adjusters": adjusters, "co_surveyors": co,
                "today": clock::china_date(now).to_string(),
                "is_surveyor": claims::assigned_surveyor(a, d.claim.adjuster_id, d.claim.co_surveyor_id),
            }))
        })
        .await;
    form_page(state, session, actor, "claim.html", res, rejected, values)
}

async fn show_claim(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "赔案");
    claim_page(&state, &session, &actor, id, None, json!({})).await
}

async fn action(
    state: Data,
    session: Session,
    user: PageUser,
    path: web::Path<(String, String)>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let (id, what) = path.into_inner();
    let id = id_or_404!(state, session, actor, id, "赔案");
    let version = form.get("version").and_then(|v| v.parse::<i32>().ok());
    let now = state.clock.now();
    let f = form.clone();
    let review = move || claims::ReviewInput {
        version,
        note: field(&f, "note"),
    };
    let f = form.clone();
    let res = state
        .run_as(&actor, move |c, a| match what.as_str() {
            "dispatch" => claims::dispatch(
                c,
                a,
                now,
                id,
                &claims::DispatchInput {
                    adjuster: field(&f, "adjuster"),
                    co_surveyor: field(&f, "co_surveyor"),
                    version,
                },
            )
            .map(|v| {
                format!(
                    "已派工：查勘员{}，共同查勘{}",
                    v.adjuster.unwrap_or_default(),
                    v.co_surveyor.unwrap_or_default()
                )
            }),
            "approve" => claims::approve(c, a, now, id, &review())
                .map(|v| format!("审核完成：{}", v.status_name)),
            "send-back" => {
                claims::send_back(c, a, now, id, &review()).map(|_| "已退回重新查勘".to_string())
            }
            "agree" => claims::agree(
                c,
                a,
                now,
                id,
                &claims::AgreeInput {
                    agreed_on: field(&f, "agreed_on"),
                    version,
                },
            )
            .map(|v| {
                format!(
                    "已登记农户确认，赔款须在{}前支付",
                    v.payment_due_on.map(|d| d.to_text()).unwrap_or_default()
                )
            }),
            "pay" => claims::pay(
                c,
                a,
                now,
                id,
                &claims::PaymentInput {
                    amount: field(&f, "amount"),
                    paid_on: field(&f, "paid_on"),
                    bank_reference: field(&f, "bank_reference"),
                },
            )
            .map(|v| format!("已登记支付，累计已付{}元", v.paid)),
            _ => Err(AppError::not_found("操作")),
        })
        .await;
    let retry = |e| {
        claim_page(
            &state,
            &session,
            &actor,
            id,
            Some(e),
            json!(form.into_inner()),
        )
    };
    let next = |msg| (msg, format!("/claims/{id}"));
    answer_form(&state, &session, &actor, res, is_user_error, retry, next).await
}

async fn survey_page(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "赔案");
    show_with(&state, &session, &actor, "claim_survey.html", move |c, a| {
            let d = claims::detail(c, a, id)?;
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
                "plot_mu": d.claim.plot_mu,
            });
            // Inside a <script> element: "</" must not close it.
            Ok(json!({"d": d, "config": config.to_string().replace("</", "<\\/")}))
        })
        .await
}

fn csrf_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("X-CSRF-Token")
        .and_then(|h| h.to_str().ok())
        .map(|s| s.to_string())
}

/// The tablet's queued survey. JSON in and out; the CSRF token comes in a header.
async fn survey_submit(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<claims::SurveyInput>,
) -> Result<HttpResponse, AppError> {
    let actor = user.0.ok_or(AppError::Unauthenticated)?;
    check_csrf(&session, csrf_header(&req).as_ref())?;
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let r = state
        .run(move |c| claims::submit_survey(c, &actor, now, id, &input))
        .await?;
    Ok(super::api::created_or_ok(r.created, r))
}

async fn photo_upload(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    id: web::Path<i64>,
    q: Query,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let actor = user.0.ok_or(AppError::Unauthenticated)?;
    // The token comes in a header, so it is checked before the photo is read.
    check_csrf(&session, csrf_header(&req).as_ref())?;
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    super::api::receive_photo(&state, actor, id.into_inner(), client_id, &req, payload).await
}

async fn photo_get(
    state: Data,
    session: Session,
    user: PageUser,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let (id, pid) = path.into_inner();
    let (Ok(id), Ok(pid)) = (id.parse::<i64>(), pid.parse::<i64>()) else {
        return error_page(&state, &session, Some(&actor), &AppError::not_found("照片"));
    };
    match state
        .run_as(&actor, move |c, a| claims::photo(c, a, id, pid))
        .await
    {
        Ok((ct, bytes)) => HttpResponse::Ok()
            .content_type(ct)
            .insert_header(("Cache-Control", "private, max-age=86400"))
            .body(bytes),
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

/// A script of the survey page, fetched again whenever the tablet is online.
fn script(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

/// A spreadsheet of claims for the actor, or the error page.
async fn spreadsheet(
    state: Data,
    session: Session,
    user: PageUser,
    filename: &'static str,
    table: fn(
        &mut crate::db::DbConn,
        &Actor,
        chrono::DateTime<chrono::Utc>,
    ) -> crate::error::AppResult<crate::excel::write::Table>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let now = state.clock.now();
    download(&state, &session, &actor, move |c, a| {
        let t = table(c, a, now)?;
        let bytes =
            crate::excel::write::tables_to_xlsx(&[t]).map_err(|e| AppError::Internal(e.0))?;
        Ok((filename.to_string(), bytes))
    })
    .await
}
async fn ledger(state: Data, session: Session, user: PageUser) -> HttpResponse {
    spreadsheet(state, session, user, "赔案台账.xlsx", claims::ledger).await
}

async fn payout_list(state: Data, session: Session, user: PageUser) -> HttpResponse {
    spreadsheet(
        state,
        session,
        user,
        "赔款支付清单.xlsx",
        claims::payout_list,
    )
    .await
}
