//! The pages for what reaches the finance bureau from others: subsidy
//! requests, reconciliation files against the records, and premium batches
//! handed over to the insurer.

use super::{level_options, q, today, Data, Posted, Query};
use crate::app::{finance, premium_flow, reconciliation, subsidy_requests, Actor};
use crate::error::{AppError, ErrorCode};
use crate::web::pages::{
    answer_form, download, error_page, field, form_page, is_user_error, is_user_error_or_missing,
    redirect, show_with,
};
use crate::web::session::PageUser;
use crate::web::{upload, AppState};
use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

async fn requests_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    rejected: Option<AppError>,
    values: Value,
) -> HttpResponse {
    let res = state
        .run_as(actor, |c, a| {
            let list = subsidy_requests::list(c, a)?;
            Ok(json!({"requests": list, "can_submit": subsidy_requests::can_submit(a)}))
        })
        .await;
    let name = "finance_requests.html";
    form_page(state, session, actor, name, res, rejected, values)
}

pub(super) async fn requests_page(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    requests_render(&state, &session, &actor, None, json!({})).await
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
    csrf_or_refuse!(state, session, Some(&actor), form);
    let form = form.into_inner();
    let input = subsidy_requests::RequestInput {
        scheme: field(&form, "scheme"),
        request_no: field(&form, "request_no"),
        note: field(&form, "note"),
        policy_nos: subsidy_requests::parse_policy_list(&field(&form, "policy_nos")),
    };
    let res = state
        .run_as(&actor, move |c, a| subsidy_requests::submit(c, a, &input))
        .await;
    let retry = |e| requests_render(&state, &session, &actor, Some(e), json!(form));
    let next = |v: subsidy_requests::RequestView| {
        let s = v.summary;
        let message = format!(
            "已提交补贴申请{}：{}份保单，其中{}份可补贴，金额{}元",
            s.request_no, s.policy_count, s.eligible_count, s.eligible_subsidy
        );
        (message, format!("/finance/requests/{}", s.id))
    };
    let again = is_user_error_or_missing;
    answer_form(&state, &session, &actor, res, again, retry, next).await
}

pub(super) async fn request_page(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "补贴申请");
    show_with(
        &state,
        &session,
        &actor,
        "finance_request.html",
        move |c, a| Ok(json!({"r": subsidy_requests::get(c, a, id)?})),
    )
    .await
}

async fn reconcile_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    rejected: Option<AppError>,
) -> HttpResponse {
    let res = state
        .run_as(actor, |c, a| {
            let list = reconciliation::list(c, a)?;
            let scheme = finance::scheme_or_current(c, "")?;
            let levels = level_options(&scheme);
            let group_names: Vec<&str> = reconciliation::GROUPS.iter().map(|(_, n)| *n).collect();
            Ok(json!({"list": list, "levels": levels, "group_names": group_names}))
        })
        .await;
    let name = "finance_reconcile.html";
    form_page(state, session, actor, name, res, rejected, Value::Null)
}

pub(super) async fn reconcile_page(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    reconcile_render(&state, &session, &actor, None).await
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
        Err(e) => return reconcile_render(&state, &session, &actor, Some(e)).await,
    };
    let Some((filename, bytes)) = form.file.filter(|(_, b)| !b.is_empty()) else {
        let e = AppError::invalid("file", ErrorCode::FileMissing, "请选择要导入的对账文件");
        return reconcile_render(&state, &session, &actor, Some(e)).await;
    };
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let (scheme, source, level) = (get("scheme"), get("source"), get("level"));
    let res = state
        .run_as(&actor, move |c, a| {
            reconciliation::reconcile(
                c,
                a,
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
        Err(e) if is_user_error_or_missing(&e) => {
            reconcile_render(&state, &session, &actor, Some(e)).await
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
    let name = "finance_reconciliation.html";
    show_with(&state, &session, &actor, name, move |c, a| {
        Ok(json!({"r": reconciliation::get(c, a, id)?}))
    })
    .await
}

pub(super) async fn reconciliation_download(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "对账记录");
    download(&state, &session, &actor, move |c, a| {
        reconciliation::workbook(c, a, id)
    })
    .await
}

async fn flow_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    scheme: String,
    rejected: Option<AppError>,
) -> HttpResponse {
    let today = today(state);
    let res = state
        .run_as(actor, move |c, a| {
            Ok(json!({
                "flow": premium_flow::overview(c, a, &scheme)?,
                "can_confirm": premium_flow::can_confirm(a),
                "today": today,
            }))
        })
        .await;
    let name = "finance_batches.html";
    form_page(state, session, actor, name, res, rejected, Value::Null)
}

pub(super) async fn flow_page(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    flow_render(&state, &session, &actor, q(&query, "scheme"), None).await
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
    let input = or_error_page!(state, session, actor, form.into_inner().checked(&session));
    let today = state.clock.today();
    let res = state
        .run_as(&actor, move |c, a| {
            premium_flow::confirm(c, a, id, &input, today)
        })
        .await;
    let retry = |e| flow_render(&state, &session, &actor, String::new(), Some(e));
    let next = |b: premium_flow::BatchFlow| {
        let message = format!("已确认收到批次{}：{}元", b.receipt_no, b.amount);
        (message, "/finance/batches".to_string())
    };
    answer_form(&state, &session, &actor, res, is_user_error, retry, next).await
}
