//! The pages for what reaches the finance bureau from others: subsidy
//! requests, reconciliation files against the records, and premium batches
//! handed over to the insurer.

use super::{level_options, q, today, Posted, Query};
use crate::app::policies::select::{self, Matching, Selection};
use crate::app::{finance, premium_flow, reconciliation, subsidy_requests};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::desk::{Desk, Page};
use crate::web::pages::{field, is_user_error, is_user_error_or_missing, redirect, Form};
use crate::web::policies::bulk_pages as bulk;
use crate::web::upload;
use actix_multipart::Multipart;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The requests page: the requests made, and for who may submit the pick
/// list of issued policies (filtered by township / village).
fn requests_ctx(
    c: &mut crate::db::DbConn,
    a: &crate::app::Actor,
    filter: &Matching,
    page: (Option<i64>, i64),
) -> AppResult<Value> {
    let list = subsidy_requests::list(c, a)?;
    let can_submit = subsidy_requests::can_submit(a);
    let mut ctx = if can_submit {
        bulk::pick_ctx(c, a, filter, select::ISSUED, page)?
    } else {
        json!({})
    };
    crate::web::page::set_key(&mut ctx, "requests", json!(list));
    crate::web::page::set_key(&mut ctx, "can_submit", json!(can_submit));
    Ok(ctx)
}

async fn requests_render(desk: &Desk, rejected: Option<AppError>, values: Value) -> Page {
    let none = Matching::default();
    let res = desk
        .run(move |c, a| requests_ctx(c, a, &none, (None, 50)))
        .await;
    let name = "finance_requests.html";
    desk.form_page(name, res, rejected, values)
}

pub(super) async fn requests_page(desk: Desk, q: Query) -> Page {
    let filter = desk.or_fail(bulk::filter_of(&q))?;
    let page = desk.or_fail(bulk::page_of(&q))?;
    let res = desk
        .run(move |c, a| requests_ctx(c, a, &filter, page))
        .await;
    desk.form_page("finance_requests.html", res, None, json!({}))
}

fn selected_input(form: &HashMap<String, String>) -> subsidy_requests::RequestInput {
    subsidy_requests::RequestInput {
        scheme: field(form, "scheme"),
        request_no: field(form, "request_no"),
        note: field(form, "note"),
        policy_nos: Vec::new(),
    }
}

/// A request over the ticked (or all matching) issued policies, previewed.
pub(super) async fn request_preview(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let filter = desk.or_fail(bulk::filter_of(&form))?;
    let sel = bulk::selection_of(&form);
    let input = selected_input(&form);
    let f2 = filter.clone();
    bulk::answer(
        &desk,
        "finance_requests.html",
        &form,
        move |c, a| {
            let outcome = subsidy_requests::submit_selected(c, a, &input, &sel?, false)?;
            let ids = bulk::joined(outcome.request.items.iter().map(|i| i.policy_id));
            let mut ctx = requests_ctx(c, a, &filter, (None, 50))?;
            crate::web::page::set_key(&mut ctx, "outcome", json!(outcome));
            crate::web::page::set_key(&mut ctx, "ids", json!(ids));
            Ok(ctx)
        },
        move |c, a| requests_ctx(c, a, &f2, (None, 50)),
    )
    .await
}

pub(super) async fn request_confirm(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let ids = desk.or_fail(bulk::ids_field(&form))?;
    let input = selected_input(&form);
    let res = desk
        .run(move |c, a| {
            subsidy_requests::submit_selected(c, a, &input, &Selection::Ids(ids), true)
        })
        .await;
    let retry = |e| requests_render(&desk, Some(e), json!(form));
    let next = |v: subsidy_requests::SelectedRequest| {
        let s = v.request.summary;
        let message = format!(
            "已提交补贴申请{}：{}份保单，其中{}份可补贴，金额{}元",
            s.request_no, s.policy_count, s.eligible_count, s.eligible_subsidy
        );
        (message, format!("/finance/requests/{}", s.id))
    };
    let again = |e: &AppError| is_user_error_or_missing(e) || matches!(e, AppError::Forbidden(_));
    desk.answer_form(res, again, retry, next).await
}

/// The request form's policy list is one text field, split here; the API
/// takes the list as an array.
pub(super) async fn request_post(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let input = subsidy_requests::RequestInput {
        scheme: field(&form, "scheme"),
        request_no: field(&form, "request_no"),
        note: field(&form, "note"),
        policy_nos: subsidy_requests::parse_policy_list(&field(&form, "policy_nos")),
    };
    let res = desk
        .run(move |c, a| subsidy_requests::submit(c, a, &input))
        .await;
    let retry = |e| requests_render(&desk, Some(e), json!(form));
    let next = |v: subsidy_requests::RequestView| {
        let s = v.summary;
        let message = format!(
            "已提交补贴申请{}：{}份保单，其中{}份可补贴，金额{}元",
            s.request_no, s.policy_count, s.eligible_count, s.eligible_subsidy
        );
        (message, format!("/finance/requests/{}", s.id))
    };
    let again = is_user_error_or_missing;
    desk.answer_form(res, again, retry, next).await
}

pub(super) async fn request_page(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "补贴申请")?;
    desk.show_with("finance_request.html", move |c, a| {
        Ok(json!({"r": subsidy_requests::get(c, a, id)?}))
    })
    .await
}

async fn reconcile_render(desk: &Desk, rejected: Option<AppError>) -> Page {
    let res = desk
        .run(|c, a| {
            let list = reconciliation::list(c, a)?;
            let scheme = finance::scheme_or_current(c, "")?;
            let levels = level_options(&scheme);
            let group_names: Vec<&str> = reconciliation::GROUPS.iter().map(|(_, n)| *n).collect();
            Ok(json!({"list": list, "levels": levels, "group_names": group_names}))
        })
        .await;
    let name = "finance_reconcile.html";
    desk.form_page(name, res, rejected, Value::Null)
}

pub(super) async fn reconcile_page(desk: Desk) -> Page {
    reconcile_render(&desk, None).await
}

pub(super) async fn reconcile_upload(desk: Desk, req: HttpRequest, payload: Multipart) -> Page {
    // Role and CSRF before a byte of the file is read.
    let gate = upload::page_gate(&desk.session, &req, finance::can_manage(&desk.actor));
    desk.or_fail(gate)?;
    let options = desk.state.limits.read_options();
    let limits = upload::Limits::for_file(options.max_bytes);
    let form = match upload::read(&req, payload, limits).await {
        Ok(f) => f,
        Err(e) => return reconcile_render(&desk, Some(e)).await,
    };
    let Some((filename, bytes)) = form.file.filter(|(_, b)| !b.is_empty()) else {
        let e = AppError::invalid("file", ErrorCode::FileMissing, "请选择要导入的对账文件");
        return reconcile_render(&desk, Some(e)).await;
    };
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let (scheme, source, level) = (get("scheme"), get("source"), get("level"));
    let res = desk
        .run(move |c, a| {
            let mut text: &[u8] = &bytes;
            reconciliation::reconcile(
                c,
                a,
                reconciliation::ReconcileRequest {
                    scheme: &scheme,
                    source: &source,
                    level: &level,
                    filename: &filename,
                    file: reconciliation::StatementFile::of(&filename, &bytes, &mut text),
                    options,
                },
            )
        })
        .await;
    match res {
        Ok(v) => Ok(redirect(&format!("/finance/reconcile/{}", v.id))),
        Err(e) if is_user_error_or_missing(&e) => reconcile_render(&desk, Some(e)).await,
        Err(e) => desk.error(&e),
    }
}

pub(super) async fn reconciliation_page(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "对账记录")?;
    let name = "finance_reconciliation.html";
    desk.show_with(name, move |c, a| {
        Ok(json!({"r": reconciliation::get(c, a, id)?}))
    })
    .await
}

pub(super) async fn reconciliation_download(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "对账记录")?;
    desk.download(move |c, a| reconciliation::workbook(c, a, id))
        .await
}

async fn flow_render(desk: &Desk, scheme: String, rejected: Option<AppError>) -> Page {
    let today = today(&desk.state);
    let res = desk
        .run(move |c, a| {
            Ok(json!({
                "flow": premium_flow::overview(c, a, &scheme)?,
                "can_confirm": premium_flow::can_confirm(a),
                "today": today,
            }))
        })
        .await;
    let name = "finance_batches.html";
    desk.form_page(name, res, rejected, Value::Null)
}

/// One batch's confirmation form on its own page (not inside the table's
/// row), with what was handed over beside it; a refused amount or date is
/// shown here, next to the form.
async fn confirm_render(desk: &Desk, id: i64, rejected: Option<AppError>) -> Page {
    let today = today(&desk.state);
    let res = desk
        .run(move |c, a| {
            a.require(premium_flow::can_confirm(a))?;
            let flow = premium_flow::overview(c, a, "")?;
            let batch = flow
                .batches
                .into_iter()
                .find(|b| b.id == id)
                .ok_or_else(|| AppError::not_found("保费交付批次"))?;
            Ok(json!({"batch": batch, "today": today}))
        })
        .await;
    desk.form_page("finance_batch_confirm.html", res, rejected, Value::Null)
}

pub(super) async fn confirm_page(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "保费交付批次")?;
    confirm_render(&desk, id, None).await
}

pub(super) async fn flow_page(desk: Desk, query: Query) -> Page {
    flow_render(&desk, q(&query, "scheme"), None).await
}

pub(super) async fn confirm_post(
    desk: Desk,
    id: web::Path<String>,
    form: web::Form<Posted<premium_flow::ConfirmInput>>,
) -> Page {
    let id = desk.id(&id, "保费交付批次")?;
    let input = form.into_inner().checked(&desk)?;
    let today = desk.state.clock.today();
    let res = desk
        .run(move |c, a| premium_flow::confirm(c, a, id, &input, today))
        .await;
    let retry = |e| confirm_render(&desk, id, Some(e));
    let next = |b: premium_flow::BatchFlow| {
        let message = format!("已确认收到批次{}：{}元", b.receipt_no, b.amount);
        (message, "/finance/batches".to_string())
    };
    desk.answer_form(res, is_user_error, retry, next).await
}
