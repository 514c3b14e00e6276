//! The pages for what reaches the finance bureau from others: subsidy
//! requests, reconciliation files against the records, and premium batches
//! handed over to the insurer.

use super::{level_options, q, render, today, Data, Posted, Query};
use crate::app::{finance, premium_flow, reconciliation, subsidy_requests, Actor};
use crate::error::{AppError, ErrorCode};
use crate::web::import_pages::xlsx;
use crate::web::pages::{error_page, field, flash, is_user_error, redirect, show};
use crate::web::session::{check_csrf, PageUser};
use crate::web::{upload, AppState};
use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

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
            Ok(json!({
                "requests": list, "can_submit": subsidy_requests::can_submit(&a),
                "values": values,
            }))
        })
        .await;
    render(
        state,
        session,
        actor,
        "finance_requests.html",
        res,
        errors,
        status,
    )
}

pub(super) async fn requests_page(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    requests_render(&state, &session, &actor, None, json!({}), StatusCode::OK).await
}

/// The request form's policy list is one text field, split here; the API
/// takes the list as an array.
pub(super) async fn request_post(
    state: Data,
    session: Session,
    user: PageUser,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
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

pub(super) async fn request_page(
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
    show(&state, &session, &actor, "finance_request.html", res)
}

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
            let levels = level_options(&scheme);
            let group_names: Vec<&str> = reconciliation::GROUPS.iter().map(|(_, n)| *n).collect();
            Ok(json!({"list": list, "levels": levels, "group_names": group_names}))
        })
        .await;
    render(
        state,
        session,
        actor,
        "finance_reconcile.html",
        res,
        errors,
        status,
    )
}

pub(super) async fn reconcile_page(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    reconcile_render(&state, &session, &actor, None, StatusCode::OK).await
}

pub(super) async fn reconcile_upload(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    payload: Multipart,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    // Role and CSRF before a byte of the file is read.
    if let Err(e) = upload::page_gate(&session, &req, finance::can_manage(&actor)) {
        return error_page(&state, &session, Some(&actor), &e);
    }
    let options = state.limits.read_options();
    let limits = upload::Limits::for_file(options.max_bytes);
    let form = match upload::read(&req, payload, limits).await {
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

pub(super) async fn reconciliation_page(
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
    show(&state, &session, &actor, "finance_reconciliation.html", res)
}

pub(super) async fn reconciliation_download(
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

async fn flow_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    scheme: String,
    errors: Option<&AppError>,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let today = today(state);
    let res = state
        .run(move |c| {
            Ok(json!({
                "flow": premium_flow::overview(c, &a, &scheme)?,
                "can_confirm": premium_flow::can_confirm(&a),
                "today": today,
            }))
        })
        .await;
    render(
        state,
        session,
        actor,
        "finance_batches.html",
        res,
        errors,
        status,
    )
}

pub(super) async fn flow_page(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
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

pub(super) async fn confirm_post(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<Posted<premium_flow::ConfirmInput>>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "保费交付批次");
    let input = match form.into_inner().checked(&session) {
        Ok(input) => input,
        Err(e) => return error_page(&state, &session, Some(&actor), &e),
    };
    let a = actor.clone();
    let today = state.clock.today();
    match state
        .run(move |c| premium_flow::confirm(c, &a, id, &input, today))
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
