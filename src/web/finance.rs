//! Finance bureau pages and API handlers: thin wrappers over `app::finance`
//! and its neighbours. The API routes are registered in `api::configure`
//! (so the OpenAPI test sees them); the pages here.

use super::import_pages::xlsx;
use super::pages::{error_page, errors_json, field, flash, is_user_error, page, redirect, set_key};
use super::session::{check_csrf, ApiUser, PageUser};
use super::AppState;
use crate::app::{self, finance, premium_flow, reconciliation, subsidy_requests, Actor};
use crate::error::{AppError, AppResult, ErrorCode};
use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

type Data = web::Data<AppState>;
type Form = web::Form<HashMap<String, String>>;
type Query = web::Query<HashMap<String, String>>;
type Reply = AppResult<HttpResponse>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/finance", web::get().to(finance_page))
        .route("/finance/statement.xlsx", web::get().to(statement_download))
        .route("/finance/lock", web::post().to(lock_post))
        .route("/finance/adjustments", web::post().to(adjustment_post))
        .route("/finance/disbursements", web::post().to(disbursement_post))
        .route("/finance/requests", web::get().to(requests_page))
        .route("/finance/requests", web::post().to(request_post))
        .route("/finance/requests/{id}", web::get().to(request_page))
        .route("/finance/reconcile", web::get().to(reconcile_page))
        .route("/finance/reconcile", web::post().to(reconcile_upload))
        // The download first: "{id}" alone would also match "7.xlsx".
        .route(
            "/finance/reconcile/{id}.xlsx",
            web::get().to(reconciliation_download),
        )
        .route(
            "/finance/reconcile/{id}",
            web::get().to(reconciliation_page),
        )
        .route("/finance/dashboard", web::get().to(dashboard_page))
        .route("/finance/batches", web::get().to(flow_page))
        .route(
            "/finance/batches/{id}/confirm",
            web::post().to(confirm_post),
        );
}

fn q(query: &HashMap<String, String>, k: &str) -> String {
    query.get(k).cloned().unwrap_or_default()
}

fn statement_query(query: &HashMap<String, String>) -> finance::StatementQuery {
    finance::StatementQuery {
        scheme: q(query, "scheme"),
        level: q(query, "level"),
        township: q(query, "township"),
    }
}

fn xlsx_name(st: &finance::Statement) -> String {
    match &st.level {
        Some(l) => format!(
            "补贴结算表-{}-{}.xlsx",
            st.scheme,
            crate::domain::scheme::level_name(l)
        ),
        None => format!("补贴结算表-{}.xlsx", st.scheme),
    }
}

// ------------------------------------------------------------------ pages

async fn finance_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    query: finance::StatementQuery,
    errors: Option<&AppError>,
    values: Value,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let st = finance::statement(c, &a, &query)?;
            let scheme = app::schemes::by_code(c, &st.scheme)?;
            let all_levels: Vec<Value> = scheme
                .def
                .subsidy_levels
                .iter()
                .map(|l| json!({"level": l.level, "name": crate::domain::scheme::level_name(&l.level)}))
                .collect();
            let schemes: Vec<Value> = app::schemes::list(c)?
                .iter()
                .map(|s| json!({"code": s.def.code, "name": s.def.name}))
                .collect();
            let adjustments = finance::adjustments(c, &a, &st.scheme)?;
            let (balances, disbursements) = if finance::can_view_payments(&a) {
                (
                    Some(finance::balances(c, &a, &st.scheme)?),
                    finance::disbursements(c, &a, &st.scheme)?,
                )
            } else {
                (None, Vec::new())
            };
            let townships = app::areas::townships(c, &a)?;
            Ok(json!({
                "st": st, "schemes": schemes, "all_levels": all_levels,
                "adjustments": adjustments, "balances": balances,
                "disbursements": disbursements, "townships": townships,
                "can_manage": finance::can_manage(&a),
                "today": chrono::Utc::now().format("%Y-%m-%d").to_string(),
            }))
        })
        .await;
    match res {
        Ok(mut ctx) => {
            set_key(&mut ctx, "errors", json!(errors.map(errors_json)));
            set_key(&mut ctx, "values", values);
            page(state, session, Some(actor), "finance.html", status, ctx)
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn finance_page(state: Data, session: Session, user: PageUser, query: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    finance_render(
        &state,
        &session,
        &actor,
        statement_query(&query),
        None,
        json!({}),
        StatusCode::OK,
    )
    .await
}

async fn statement_download(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let sq = statement_query(&query);
    let res = state
        .run(move |c| {
            let st = finance::statement(c, &a, &sq)?;
            Ok((xlsx_name(&st), finance::statement_xlsx(&st)?))
        })
        .await;
    match res {
        Ok((name, bytes)) => xlsx(&name, bytes),
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

/// A finance form: CSRF, the use case, then back to the finance page with a
/// message, or the page again with the errors and the values typed.
async fn finance_action<T: Send + 'static>(
    state: Data,
    session: Session,
    actor: Actor,
    form: HashMap<String, String>,
    run: impl FnOnce(&mut crate::db::DbConn, &Actor) -> AppResult<T> + Send + 'static,
    message: impl FnOnce(&T) -> String,
) -> HttpResponse {
    if let Err(e) = check_csrf(&session, form.get("csrf_token")) {
        return error_page(&state, &session, Some(&actor), &e);
    }
    let scheme = field(&form, "scheme");
    let a = actor.clone();
    match state.run(move |c| run(c, &a)).await {
        Ok(v) => {
            flash(&session, &message(&v));
            redirect(&format!("/finance?scheme={scheme}"))
        }
        Err(e) if is_user_error(&e) || matches!(e, AppError::NotFound(_)) => {
            let query = finance::StatementQuery {
                scheme,
                ..Default::default()
            };
            finance_render(
                &state,
                &session,
                &actor,
                query,
                Some(&e),
                json!(form),
                e.status(),
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn lock_post(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    let form = form.into_inner();
    let input = finance::LockInput {
        scheme: field(&form, "scheme"),
        signed_off_by: field(&form, "signed_off_by"),
        note: field(&form, "note"),
    };
    finance_action(
        state,
        session,
        actor,
        form,
        move |c, a| finance::lock(c, a, &input),
        |l| {
            format!(
                "补贴结算表已签字锁定：{}份保单，财政补贴{}元",
                l.policy_count, l.subsidy
            )
        },
    )
    .await
}

async fn adjustment_post(
    state: Data,
    session: Session,
    user: PageUser,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let form = form.into_inner();
    let input = finance::AdjustmentInput {
        scheme: field(&form, "scheme"),
        township_code: field(&form, "township_code"),
        level: field(&form, "level"),
        amount: field(&form, "amount"),
        reason: field(&form, "reason"),
    };
    finance_action(
        state,
        session,
        actor,
        form,
        move |c, a| finance::add_adjustment(c, a, &input),
        |v| {
            format!(
                "已录入调整分录：{}{} {}元",
                v.township_name, v.level_name, v.amount
            )
        },
    )
    .await
}

async fn disbursement_post(
    state: Data,
    session: Session,
    user: PageUser,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let form = form.into_inner();
    let input = finance::DisbursementInput {
        scheme: field(&form, "scheme"),
        township_code: field(&form, "township_code"),
        level: field(&form, "level"),
        amount: field(&form, "amount"),
        paid_on: field(&form, "paid_on"),
        voucher_no: field(&form, "voucher_no"),
        note: field(&form, "note"),
    };
    finance_action(
        state,
        session,
        actor,
        form,
        move |c, a| finance::disburse(c, a, &input),
        |d| {
            format!(
                "已登记拨付：凭证号{}，{}{} {}元",
                d.voucher_no, d.township_name, d.level_name, d.amount
            )
        },
    )
    .await
}

// ------------------------------------------------------- subsidy requests

async fn requests_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    errors: Option<&AppError>,
    values: Value,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let list = subsidy_requests::list(c, &a)?;
            Ok(json!({"requests": list, "can_submit": subsidy_requests::can_submit(&a)}))
        })
        .await;
    match res {
        Ok(mut ctx) => {
            set_key(&mut ctx, "errors", json!(errors.map(errors_json)));
            set_key(&mut ctx, "values", values);
            page(
                state,
                session,
                Some(actor),
                "finance_requests.html",
                status,
                ctx,
            )
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn requests_page(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    requests_render(&state, &session, &actor, None, json!({}), StatusCode::OK).await
}

async fn request_post(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    let form = form.into_inner();
    if let Err(e) = check_csrf(&session, form.get("csrf_token")) {
        return error_page(&state, &session, Some(&actor), &e);
    }
    let input = subsidy_requests::RequestInput {
        scheme: field(&form, "scheme"),
        request_no: field(&form, "request_no"),
        note: field(&form, "note"),
        policy_nos: subsidy_requests::parse_policy_list(&field(&form, "policy_nos")),
    };
    let a = actor.clone();
    match state
        .run(move |c| subsidy_requests::submit(c, &a, &input))
        .await
    {
        Ok(v) => {
            flash(
                &session,
                &format!(
                    "已提交补贴申请{}：{}份保单，其中{}份可补贴，金额{}元",
                    v.summary.request_no,
                    v.summary.policy_count,
                    v.summary.eligible_count,
                    v.summary.eligible_subsidy
                ),
            );
            redirect(&format!("/finance/requests/{}", v.summary.id))
        }
        Err(e) if is_user_error(&e) || matches!(e, AppError::NotFound(_)) => {
            requests_render(&state, &session, &actor, Some(&e), json!(form), e.status()).await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn request_page(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "补贴申请");
    let a = actor.clone();
    let res = state
        .run(move |c| Ok(json!({"r": subsidy_requests::get(c, &a, id)?})))
        .await;
    super::pages::show(&state, &session, &actor, "finance_request.html", res)
}

// --------------------------------------------------------- reconciliation

async fn reconcile_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    errors: Option<&AppError>,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let list = reconciliation::list(c, &a)?;
            let scheme = finance::scheme_or_current(c, "")?;
            let levels: Vec<Value> = scheme
                .def
                .subsidy_levels
                .iter()
                .map(|l| json!({"level": l.level, "name": crate::domain::scheme::level_name(&l.level)}))
                .collect();
            let group_names: Vec<&str> = reconciliation::GROUPS.iter().map(|(_, n)| *n).collect();
            Ok(json!({"list": list, "levels": levels, "group_names": group_names}))
        })
        .await;
    match res {
        Ok(mut ctx) => {
            set_key(&mut ctx, "errors", json!(errors.map(errors_json)));
            page(
                state,
                session,
                Some(actor),
                "finance_reconcile.html",
                status,
                ctx,
            )
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn reconcile_page(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    reconcile_render(&state, &session, &actor, None, StatusCode::OK).await
}

async fn reconcile_upload(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    payload: Multipart,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    // Role and CSRF before a byte of the file is read.
    if let Err(e) = super::upload::page_gate(&session, &req, finance::can_manage(&actor)) {
        return error_page(&state, &session, Some(&actor), &e);
    }
    let options = state.limits.read_options();
    let limits = super::upload::Limits::for_file(options.max_bytes);
    let form = match super::upload::read(&req, payload, limits).await {
        Ok(f) => f,
        Err(e) => return reconcile_render(&state, &session, &actor, Some(&e), e.status()).await,
    };
    let Some((filename, bytes)) = form.file.filter(|(_, b)| !b.is_empty()) else {
        let e = AppError::invalid("file", ErrorCode::FileMissing, "请选择要导入的对账文件");
        return reconcile_render(&state, &session, &actor, Some(&e), e.status()).await;
    };
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let (scheme, source, level) = (get("scheme"), get("source"), get("level"));
    let a = actor.clone();
    let res = state
        .run(move |c| {
            reconciliation::reconcile(
                c,
                &a,
                &reconciliation::ReconcileRequest {
                    scheme: &scheme,
                    source: &source,
                    level: &level,
                    filename: &filename,
                    bytes: &bytes,
                    options,
                },
            )
        })
        .await;
    match res {
        Ok(v) => redirect(&format!("/finance/reconcile/{}", v.id)),
        Err(e) if is_user_error(&e) || matches!(e, AppError::NotFound(_)) => {
            reconcile_render(&state, &session, &actor, Some(&e), e.status()).await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn reconciliation_page(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "对账记录");
    let a = actor.clone();
    let res = state
        .run(move |c| Ok(json!({"r": reconciliation::get(c, &a, id)?})))
        .await;
    super::pages::show(&state, &session, &actor, "finance_reconciliation.html", res)
}

async fn reconciliation_download(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "对账记录");
    let a = actor.clone();
    match state
        .run(move |c| reconciliation::workbook(c, &a, id))
        .await
    {
        Ok((name, bytes)) => xlsx(&name, bytes),
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// ----------------------------------------------------------- premium flow

async fn flow_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    scheme: String,
    errors: Option<&AppError>,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let res = state
        .run(move |c| {
            Ok(json!({
                "flow": premium_flow::overview(c, &a, &scheme)?,
                "can_confirm": premium_flow::can_confirm(&a),
                "today": chrono::Utc::now().format("%Y-%m-%d").to_string(),
            }))
        })
        .await;
    match res {
        Ok(mut ctx) => {
            set_key(&mut ctx, "errors", json!(errors.map(errors_json)));
            page(
                state,
                session,
                Some(actor),
                "finance_batches.html",
                status,
                ctx,
            )
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn flow_page(state: Data, session: Session, user: PageUser, query: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    flow_render(
        &state,
        &session,
        &actor,
        q(&query, "scheme"),
        None,
        StatusCode::OK,
    )
    .await
}

async fn confirm_post(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "保费交付批次");
    if let Err(e) = check_csrf(&session, form.get("csrf_token")) {
        return error_page(&state, &session, Some(&actor), &e);
    }
    let input = premium_flow::ConfirmInput {
        amount: field(&form, "amount"),
        confirmed_on: field(&form, "confirmed_on"),
        note: field(&form, "note"),
    };
    let a = actor.clone();
    match state
        .run(move |c| premium_flow::confirm(c, &a, id, &input))
        .await
    {
        Ok(b) => {
            flash(
                &session,
                &format!("已确认收到批次{}：{}元", b.receipt_no, b.amount),
            );
            redirect("/finance/batches")
        }
        Err(e) if is_user_error(&e) => {
            flow_render(
                &state,
                &session,
                &actor,
                String::new(),
                Some(&e),
                e.status(),
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// -------------------------------------------------------------- dashboard

async fn dashboard_page(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
    use super::charts::{bars, Group, Series};
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let scheme = q(&query, "scheme");
    let res = state
        .run(move |c| {
            a.require(finance::can_view_statement(&a))?;
            let sch = finance::scheme_or_current(c, &scheme)?;
            let money_series = [
                Series {
                    name: "应拨",
                    color: "#2f6b2f",
                },
                Series {
                    name: "已拨",
                    color: "#0b57d0",
                },
            ];
            let pair = |due: crate::domain::Fen, paid: crate::domain::Fen| {
                vec![(due.0, format!("{due}元")), (paid.0, format!("{paid}元"))]
            };
            let (balances, chart_levels, chart_townships) = if finance::can_view_payments(&a) {
                let b = finance::balances(c, &a, &sch.def.code)?;
                let levels: Vec<Group> = b
                    .levels
                    .iter()
                    .map(|l| Group {
                        label: l.name.clone(),
                        values: pair(l.figures.due, l.figures.paid),
                    })
                    .collect();
                let towns: Vec<Group> = b
                    .townships
                    .iter()
                    .map(|t| Group {
                        label: t.township_name.clone(),
                        values: pair(t.total.due, t.total.paid),
                    })
                    .collect();
                (
                    Some(b),
                    bars("按补贴层级的应拨与已拨", &money_series, &levels),
                    bars("按乡镇的应拨与已拨", &money_series, &towns),
                )
            } else {
                (None, String::new(), String::new())
            };
            let progress = app::areas::progress(c, &a, sch.id)?;
            let enrollment: Vec<Group> = progress
                .iter()
                .map(|p| Group {
                    label: p.name.clone(),
                    values: vec![
                        (p.target_mu.units(), format!("{}亩", p.target_mu)),
                        (
                            p.insured_mu.units(),
                            format!("{}亩（{}%）", p.insured_mu, p.progress_percent),
                        ),
                    ],
                })
                .collect();
            let chart_enrollment = bars(
                "投保面积与目标",
                &[
                    Series {
                        name: "目标",
                        color: "#b0b8c1",
                    },
                    Series {
                        name: "已投保",
                        color: "#2f6b2f",
                    },
                ],
                &enrollment,
            );
            Ok(json!({
                "scheme_name": sch.def.name, "balances": balances,
                "chart_levels": chart_levels, "chart_townships": chart_townships,
                "chart_enrollment": chart_enrollment,
            }))
        })
        .await;
    super::pages::show(&state, &session, &actor, "finance_dashboard.html", res)
}

// -------------------------------------------------------------------- API

/// GET for a scheme (`?scheme=`): the use case's result as JSON.
async fn by_scheme<T: serde::Serialize + Send + 'static>(
    state: Data,
    user: ApiUser,
    q: web::Query<SchemeParam>,
    f: fn(&mut crate::db::DbConn, &Actor, &str) -> AppResult<T>,
) -> Reply {
    let actor = user.0;
    let scheme = q.into_inner().scheme;
    let v = state.run(move |c| f(c, &actor, &scheme)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// GET one record by id.
async fn by_id<T: serde::Serialize + Send + 'static>(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    f: fn(&mut crate::db::DbConn, &Actor, i64) -> AppResult<T>,
) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    let v = state.run(move |c| f(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// POST a JSON body that records something: 201 with what was recorded.
async fn create<I: Send + 'static, T: serde::Serialize + Send + 'static>(
    state: Data,
    user: ApiUser,
    body: web::Json<I>,
    f: fn(&mut crate::db::DbConn, &Actor, &I) -> AppResult<T>,
) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    let v = state.run(move |c| f(c, &actor, &input)).await?;
    Ok(HttpResponse::Created().json(v))
}

#[derive(serde::Deserialize)]
pub struct SchemeParam {
    #[serde(default)]
    scheme: String,
}

pub async fn api_statement(
    state: Data,
    user: ApiUser,
    query: web::Query<finance::StatementQuery>,
) -> Reply {
    let actor = user.0;
    let q = query.into_inner();
    let st = state
        .run(move |c| finance::statement(c, &actor, &q))
        .await?;
    Ok(HttpResponse::Ok().json(st))
}

pub async fn api_statement_xlsx(
    state: Data,
    user: ApiUser,
    query: web::Query<finance::StatementQuery>,
) -> Reply {
    let actor = user.0;
    let q = query.into_inner();
    let (name, bytes) = state
        .run(move |c| {
            let st = finance::statement(c, &actor, &q)?;
            Ok((xlsx_name(&st), finance::statement_xlsx(&st)?))
        })
        .await?;
    Ok(xlsx(&name, bytes))
}

pub async fn api_lock(state: Data, user: ApiUser, body: web::Json<finance::LockInput>) -> Reply {
    create(state, user, body, finance::lock).await
}

pub async fn api_adjustments(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, finance::adjustments).await
}

pub async fn api_add_adjustment(
    state: Data,
    user: ApiUser,
    body: web::Json<finance::AdjustmentInput>,
) -> Reply {
    create(state, user, body, finance::add_adjustment).await
}

pub async fn api_balances(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, finance::balances).await
}

pub async fn api_disbursements(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, finance::disbursements).await
}

pub async fn api_disburse(
    state: Data,
    user: ApiUser,
    body: web::Json<finance::DisbursementInput>,
) -> Reply {
    create(state, user, body, finance::disburse).await
}

pub async fn api_requests(state: Data, user: ApiUser) -> Reply {
    let actor = user.0;
    let v = state
        .run(move |c| subsidy_requests::list(c, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn api_submit_request(
    state: Data,
    user: ApiUser,
    body: web::Json<subsidy_requests::RequestInput>,
) -> Reply {
    create(state, user, body, subsidy_requests::submit).await
}

pub async fn api_request(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    by_id(state, user, id, subsidy_requests::get).await
}

#[derive(serde::Deserialize)]
pub struct ReconcileParams {
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    filename: String,
}

pub async fn api_reconcile(
    state: Data,
    user: ApiUser,
    q: web::Query<ReconcileParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let actor = user.0;
    // The role before the body: a stranger's upload is never read.
    actor.require(finance::can_manage(&actor))?;
    let options = state.limits.read_options();
    let max = options.max_bytes;
    let body = super::upload::read_body(&req, payload, max, || {
        AppError::invalid(
            "file",
            ErrorCode::FileTooLarge,
            format!("对账文件超过{}上限", super::upload::size_text(max)),
        )
    })
    .await?;
    let p = q.into_inner();
    let v = state
        .run(move |c| {
            reconciliation::reconcile(
                c,
                &actor,
                &reconciliation::ReconcileRequest {
                    scheme: &p.scheme,
                    source: &p.source,
                    level: &p.level,
                    filename: if p.filename.is_empty() {
                        "upload.xlsx"
                    } else {
                        &p.filename
                    },
                    bytes: &body,
                    options,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

pub async fn api_reconciliations(state: Data, user: ApiUser) -> Reply {
    let actor = user.0;
    let v = state.run(move |c| reconciliation::list(c, &actor)).await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn api_reconciliation(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    by_id(state, user, id, reconciliation::get).await
}

pub async fn api_premium_flow(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, premium_flow::overview).await
}

pub async fn api_confirm_batch(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<premium_flow::ConfirmInput>,
) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    let input = body.into_inner();
    let v = state
        .run(move |c| premium_flow::confirm(c, &actor, id, &input))
        .await?;
    Ok(HttpResponse::Created().json(v))
}
