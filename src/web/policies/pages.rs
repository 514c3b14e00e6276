//! Policy pages (list, detail, collect / issue / cancel) and the premium
//! hand-over batches page.

use super::bulk_pages as bulk;
use crate::app::policies::select::{self, Matching, Selection};
use crate::app::{self, batches, plots, policies, schemes};
use crate::error::AppError;
use crate::web::confirm::{confirmed, Confirm};
use crate::web::desk::{Desk, Page};
use crate::web::form::from_form;
use crate::web::listing;
use crate::web::page::{field, is_user_error_or_missing, parse_id, Form, Query};
use actix_web::web;
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies", web::get().to(policy_list))
        .route("/policies/queue", web::get().to(queue))
        .route("/policies/queue/preview", web::post().to(queue_preview))
        .route("/policies/queue/issue", web::post().to(queue_issue))
        .route("/policies/collect", web::get().to(collect_page))
        .route("/policies/collect/preview", web::post().to(collect_preview))
        .route("/policies/collect/confirm", web::post().to(collect_confirm))
        .route("/policies/{id}", web::get().to(policy_show))
        .route("/policies/{id}/{action}", web::post().to(policy_action))
        .route("/batches", web::get().to(batch_list))
        .route("/batches", web::post().to(batch_create))
        .route("/batches/preview", web::post().to(batch_preview))
        .route("/batches/confirm", web::post().to(batch_confirm));
}

// ---------------------------------------------------------------- policies

async fn policy_list(desk: Desk, q: Query) -> Page {
    let query = q.into_inner();
    let (sort, dir) = listing::sort_params::<policies::PolicySort>(&query);
    // An unknown status on the page is no filter (the API refuses it).
    let status = query
        .get("status")
        .filter(|s| policies::STATUSES.iter().any(|(c, n)| c == s || n == s))
        .cloned();
    let filter = policies::PolicyFilter {
        scheme: query.get("scheme").cloned(),
        township_id: parse_id(query.get("township")),
        village_id: parse_id(query.get("village")),
        status,
        q: query.get("q").cloned(),
        sort: Some(sort),
        dir: Some(dir),
        page: listing::page_number(&query),
        page_size: Some(50),
    };
    desk.show_with("policies.html", move |c, a| {
        let list = policies::list(c, a, &filter)?;
        let towns = app::areas::townships(c, a)?;
        let villages = app::areas::villages(c, a, filter.township_id.or(a.township_scope()))?;
        let statuses: Vec<Value> = policies::STATUSES
            .iter()
            .map(|(c, n)| json!({"code": c, "name": n}))
            .collect();
        let p = &list.paged;
        let pager = listing::pager("/policies", &query, "份", p.total, p.page, p.pages);
        let sorts = listing::sorter::<policies::PolicySort>("/policies", &query);
        Ok(
            json!({"list": list, "townships": towns, "villages": villages,
                  "statuses": statuses, "query": query, "pager": pager, "sorts": sorts}),
        )
    })
    .await
}

async fn policy_show(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "保单")?;
    policy_render(&desk, id, None, Value::Null).await
}

/// The policy page; after a refused collection date, with the errors beside
/// the date form (`failed_form`) and the date typed.
async fn policy_render(desk: &Desk, id: i64, rejected: Option<AppError>, values: Value) -> Page {
    let day = desk.state.clock.today();
    let today = day.to_string();
    let failed_form = rejected.as_ref().map(|_| "collect-form");
    let res = desk
        .run(move |c, a| {
            let p = policies::get_view(c, a, id)?;
            let notice = app::notices::policy_notice(c, a, id, day)?
                .map(|(ready, says)| json!({"ready": ready, "says": says}));
            let pl: Vec<_> = plots::of_grower(c, a, p.grower_id)?
                .into_iter()
                .filter(|x| x.scheme_code == p.scheme_code)
                .collect();
            let inspection = app::inspection::for_policy(c, a, id)?;
            let window = policies::collection_window(c, &p, day)?;
            Ok(json!({"policy": p, "plots": pl, "today": today,
                      "inspection": inspection, "notice": notice,
                      "collection_window": window, "failed_form": failed_form}))
        })
        .await;
    desk.form_page("policy.html", res, rejected, values)
}

async fn policy_action(desk: Desk, path: web::Path<(String, String)>, form: Form) -> Page {
    desk.csrf(&form)?;
    let (id, action) = path.into_inner();
    let id = desk.id(&id, "保单")?;
    let date = field(&form, "collected_on");
    let today = desk.state.clock.today();
    if action == "cancel" && !confirmed(&form) {
        let p = desk.or_fail(desk.run(move |c, a| policies::get_view(c, a, id)).await)?;
        return desk.confirm_page(cancel_confirmation(&p, id));
    }
    let typed = json!({ "collected_on": date });
    let dated = matches!(action.as_str(), "collect" | "correct-collection");
    let res = desk
        .run(move |c, a| match action.as_str() {
            "collect" => policies::collect(c, a, id, &date, today),
            "correct-collection" => policies::correct_collection(c, a, id, &date, today),
            "issue" => policies::issue(c, a, id, today),
            "cancel" => policies::cancel(c, a, id),
            _ => Err(AppError::not_found("操作")),
        })
        .await;
    match res {
        Err(AppError::Validation(e)) if dated => {
            policy_render(&desk, id, Some(AppError::Validation(e)), typed).await
        }
        res => desk.done(res, |p| {
            (
                format!("保单{}：{}", p.policy_no, p.status_name),
                format!("/policies/{id}"),
            )
        }),
    }
}

/// What cancelling this policy does, before it is done.
fn cancel_confirmation(p: &policies::PolicyView, id: i64) -> Confirm {
    let mut facts = vec![
        ("保单号".to_string(), p.policy_no.clone()),
        ("被保险人".to_string(), p.grower_name.clone()),
        ("当前状态".to_string(), p.status_name.clone()),
        ("投保面积（亩）".to_string(), p.insured_mu.to_string()),
        ("保费（元）".to_string(), p.premium.to_string()),
        ("农户自缴（元）".to_string(), p.grower_share.to_string()),
    ];
    if let (Some(s), Some(e)) = (p.cover_start, p.cover_end) {
        facts.push(("保险期间".to_string(), format!("{s} 至 {e}")));
    }
    Confirm {
        title: format!("确认注销保单{}", p.policy_no),
        lead: format!(
            "注销后保单{}不再有效，{}的这张保单不能再签发、报案或赔付，此操作不能撤销。",
            p.policy_no, p.grower_name
        ),
        facts,
        action: format!("/policies/{id}/cancel"),
        fields: Vec::new(),
        button: "确认注销".into(),
        back: format!("/policies/{id}"),
        danger: true,
    }
}

// ---------------------------------------------------------------- 待签发

/// The collected policies waiting for the underwriter, one page of them
/// (filtered by township / village), with the totals of all matching.
fn queue_list(
    c: &mut crate::db::DbConn,
    a: &app::Actor,
    filter: &Matching,
    page: (Option<i64>, i64),
) -> Result<Value, AppError> {
    a.require(a.can_underwrite())?;
    bulk::pick_ctx(c, a, filter, select::COLLECTED, page)
}

async fn queue(desk: Desk, q: Query) -> Page {
    let filter = desk.or_fail(bulk::filter_of(&q))?;
    let page = desk.or_fail(bulk::page_of(&q))?;
    desk.show_with("policy_queue.html", move |c, a| {
        queue_list(c, a, &filter, page)
    })
    .await
}

async fn queue_preview(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let filter = desk.or_fail(bulk::filter_of(&form))?;
    let sel = bulk::selection_of(&form);
    let today = desk.state.clock.today();
    let page = (None, bulk_page_size(&form));
    let f2 = filter.clone();
    bulk::answer(
        &desk,
        "policy_queue.html",
        &form,
        move |c, a| {
            let outcome = policies::issue_selected(c, a, &sel?, today, false)?;
            let ids = bulk::joined(outcome.lines.iter().map(|l| l.id));
            let mut ctx = queue_list(c, a, &filter, page)?;
            crate::web::page::set_key(&mut ctx, "outcome", json!(outcome));
            crate::web::page::set_key(&mut ctx, "ids", json!(ids));
            Ok(ctx)
        },
        move |c, a| queue_list(c, a, &f2, page),
    )
    .await
}

async fn queue_issue(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let ids = bulk::ids_field(&form);
    let today = desk.state.clock.today();
    let none = Matching::default();
    let page = (None, bulk_page_size(&form));
    bulk::answer(
        &desk,
        "policy_queue.html",
        &form,
        move |c, a| {
            let outcome = policies::issue_selected(c, a, &Selection::Ids(ids?), today, true)?;
            let mut ctx = queue_list(c, a, &none, page)?;
            crate::web::page::set_key(&mut ctx, "outcome", json!(outcome));
            Ok(ctx)
        },
        move |c, a| queue_list(c, a, &Matching::default(), page),
    )
    .await
}

fn bulk_page_size(form: &std::collections::HashMap<String, String>) -> i64 {
    bulk::page_of(form).map(|p| p.1).unwrap_or(50)
}

// ---------------------------------------------------------------- 收费登记

/// The draft policies of the station's township, waiting for the growers' shares.
fn collect_list(
    c: &mut crate::db::DbConn,
    a: &app::Actor,
    filter: &Matching,
    page: (Option<i64>, i64),
    today: &str,
) -> Result<Value, AppError> {
    a.require(a.can_collect_premium())?;
    let mut ctx = bulk::pick_ctx(c, a, filter, select::DRAFTS, page)?;
    crate::web::page::set_key(&mut ctx, "today", json!(today));
    Ok(ctx)
}

async fn collect_page(desk: Desk, q: Query) -> Page {
    let filter = desk.or_fail(bulk::filter_of(&q))?;
    let page = desk.or_fail(bulk::page_of(&q))?;
    let today = desk.state.clock.today().to_string();
    let res = desk
        .run(move |c, a| collect_list(c, a, &filter, page, &today))
        .await;
    desk.form_page("policy_collect.html", res, None, json!({}))
}

async fn collect_preview(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let filter = desk.or_fail(bulk::filter_of(&form))?;
    let sel = bulk::selection_of(&form);
    let date = field(&form, "collected_on");
    let day = desk.state.clock.today();
    let today = day.to_string();
    let page = (None, bulk_page_size(&form));
    let (f2, t2) = (filter.clone(), today.clone());
    bulk::answer(
        &desk,
        "policy_collect.html",
        &form,
        move |c, a| {
            let outcome = policies::collect_many(c, a, &sel?, &date, day, false)?;
            let ids = bulk::joined(outcome.lines.iter().map(|l| l.id));
            let mut ctx = collect_list(c, a, &filter, page, &today)?;
            crate::web::page::set_key(&mut ctx, "outcome", json!(outcome));
            crate::web::page::set_key(&mut ctx, "ids", json!(ids));
            crate::web::page::set_key(&mut ctx, "collected_on", json!(date));
            Ok(ctx)
        },
        move |c, a| collect_list(c, a, &f2, page, &t2),
    )
    .await
}

async fn collect_confirm(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let ids = bulk::ids_field(&form);
    let date = field(&form, "collected_on");
    let day = desk.state.clock.today();
    let today = day.to_string();
    let t2 = today.clone();
    let page = (None, bulk_page_size(&form));
    bulk::answer(
        &desk,
        "policy_collect.html",
        &form,
        move |c, a| {
            let outcome = policies::collect_many(c, a, &Selection::Ids(ids?), &date, day, true)?;
            let mut ctx = collect_list(c, a, &Matching::default(), page, &today)?;
            crate::web::page::set_key(&mut ctx, "outcome", json!(outcome));
            Ok(ctx)
        },
        move |c, a| collect_list(c, a, &Matching::default(), page, &t2),
    )
    .await
}

// ---------------------------------------------------------------- batches

/// The batches page: what is pending per township, the batches handed over,
/// and for a station the pick list of its collected, not handed-over policies.
fn batch_ctx(
    c: &mut crate::db::DbConn,
    a: &app::Actor,
    filter: &Matching,
    page: (Option<i64>, i64),
    today: &str,
) -> Result<Value, AppError> {
    let list = batches::list(c, a)?;
    let towns = app::areas::townships(c, a)?;
    let pending: Vec<Value> = match schemes::current(c)? {
        Some(s) => towns
            .iter()
            .map(|t| {
                let p = batches::pending(c, t.id, s.id)?;
                let amount: crate::domain::Fen = p.iter().map(|x| x.grower_share_fen).sum();
                Ok(json!({"code": t.code, "name": t.name, "count": p.len(), "amount": amount}))
            })
            .collect::<Result<_, AppError>>()?,
        None => vec![],
    };
    let total: crate::domain::Fen = list.iter().map(|b| b.amount).sum();
    let mut ctx = if a.can_collect_premium() {
        bulk::pick_ctx(c, a, filter, select::TO_HAND_OVER, page)?
    } else {
        json!({})
    };
    crate::web::page::set_key(&mut ctx, "batches", json!(list));
    crate::web::page::set_key(&mut ctx, "pending", json!(pending));
    crate::web::page::set_key(&mut ctx, "total", json!(total));
    crate::web::page::set_key(&mut ctx, "today", json!(today));
    Ok(ctx)
}

async fn batch_page(desk: &Desk, rejected: Option<AppError>, values: Value) -> Page {
    let today = desk.state.clock.today().to_string();
    let none = Matching::default();
    let res = desk
        .run(move |c, a| batch_ctx(c, a, &none, (None, 50), &today))
        .await;
    desk.form_page("batches.html", res, rejected, values)
}

async fn batch_list(desk: Desk, q: Query) -> Page {
    let filter = desk.or_fail(bulk::filter_of(&q))?;
    let page = desk.or_fail(bulk::page_of(&q))?;
    let today = desk.state.clock.today().to_string();
    let res = desk
        .run(move |c, a| batch_ctx(c, a, &filter, page, &today))
        .await;
    desk.form_page("batches.html", res, None, json!({}))
}

async fn batch_create(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let input: batches::BatchInput = desk.or_fail(from_form(&form))?;
    let today = desk.state.clock.today();
    // The first post previews the handover (the real run, rolled back); only
    // the confirmed post writes.
    let confirm = confirmed(&form);
    let res = desk
        .run(move |c, a| {
            if confirm {
                batches::create(c, a, &input, today)
            } else {
                app::dry_run(c, |c| batches::create(c, a, &input, today))
            }
        })
        .await;
    if let (false, Ok(b)) = (confirm, &res) {
        return desk.confirm_page(Confirm {
            title: "确认交付农户自缴保费".into(),
            lead: format!(
                "{}将{}份已收费保单的农户自缴保费共 {} 元交付给保险公司；交付后这些保单记入本批次，不能再交付。",
                b.township_name, b.policy_count, b.amount
            ),
            facts: vec![
                ("乡镇".into(), b.township_name.clone()),
                ("险种方案".into(), b.scheme_code.clone()),
                ("保单数".into(), b.policy_count.to_string()),
                ("金额（元）".into(), b.amount.to_string()),
                ("交付日期".into(), b.handed_over_on.to_string()),
                ("收据号".into(), b.receipt_no.clone()),
                ("经办人".into(), desk.actor.display_name.clone()),
            ],
            action: "/batches#batch-form".into(),
            fields: Confirm::fields_of(&form),
            button: "确认交付".into(),
            back: "/batches#batch-form".into(),
            danger: false,
        });
    }
    let retry = |e| batch_page(&desk, Some(e), json!(form.into_inner()));
    let next = |b: batches::BatchView| {
        let message = format!(
            "已登记交付批次{}：{}份保单，{}元",
            b.receipt_no, b.policy_count, b.amount
        );
        (message, "/batches".to_string())
    };
    let again = is_user_error_or_missing;
    desk.answer_form(res, again, retry, next).await
}

fn batch_input(form: &std::collections::HashMap<String, String>) -> batches::BatchInput {
    batches::BatchInput {
        township_code: String::new(),
        scheme: String::new(),
        receipt_no: field(form, "receipt_no"),
        handed_over_on: field(form, "handed_over_on"),
    }
}

/// A hand-over batch of the ticked (or all matching) policies, previewed.
async fn batch_preview(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let filter = desk.or_fail(bulk::filter_of(&form))?;
    let sel = bulk::selection_of(&form);
    let input = batch_input(&form);
    let day = desk.state.clock.today();
    let today = day.to_string();
    let page = (None, bulk_page_size(&form));
    let (f2, t2) = (filter.clone(), today.clone());
    bulk::answer(
        &desk,
        "batches.html",
        &form,
        move |c, a| {
            let outcome = batches::create_selected(c, a, &input, &sel?, day, false)?;
            let ids = bulk::joined(outcome.lines.iter().map(|l| l.id));
            let mut ctx = batch_ctx(c, a, &filter, page, &today)?;
            crate::web::page::set_key(&mut ctx, "outcome", json!(outcome));
            crate::web::page::set_key(&mut ctx, "ids", json!(ids));
            Ok(ctx)
        },
        move |c, a| batch_ctx(c, a, &f2, page, &t2),
    )
    .await
}

async fn batch_confirm(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let form = form.into_inner();
    let ids = desk.or_fail(bulk::ids_field(&form))?;
    let input = batch_input(&form);
    let day = desk.state.clock.today();
    let res = desk
        .run(move |c, a| batches::create_selected(c, a, &input, &Selection::Ids(ids), day, true))
        .await;
    let retry = |e| batch_page(&desk, Some(e), json!(form));
    let next = |h: batches::Handover| {
        let message = format!(
            "已登记交付批次：{}{}份保单，{}元",
            h.township_name, h.count, h.amount
        );
        (message, "/batches".to_string())
    };
    let again = |e: &AppError| is_user_error_or_missing(e) || matches!(e, AppError::Forbidden(_));
    desk.answer_form(res, again, retry, next).await
}
