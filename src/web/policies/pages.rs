//! Policy pages (list, detail, collect / issue / cancel) and the premium
//! hand-over batches page.

use crate::app::{self, batches, plots, policies, schemes};
use crate::error::AppError;
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
        .route("/policies/{id}", web::get().to(policy_show))
        .route("/policies/{id}/{action}", web::post().to(policy_action))
        .route("/batches", web::get().to(batch_list))
        .route("/batches", web::post().to(batch_create));
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
    let day = desk.state.clock.today();
    let today = day.to_string();
    desk.show_with("policy.html", move |c, a| {
        let p = policies::get_view(c, a, id)?;
        let notice = app::notices::policy_notice(c, a, id, day)?
            .map(|(ready, says)| json!({"ready": ready, "says": says}));
        let pl: Vec<_> = plots::of_grower(c, a, p.grower_id)?
            .into_iter()
            .filter(|x| x.scheme_code == p.scheme_code)
            .collect();
        let inspection = app::inspection::for_policy(c, a, id)?;
        Ok(json!({"policy": p, "plots": pl, "today": today,
                  "inspection": inspection, "notice": notice}))
    })
    .await
}

async fn policy_action(desk: Desk, path: web::Path<(String, String)>, form: Form) -> Page {
    desk.csrf(&form)?;
    let (id, action) = path.into_inner();
    let id = desk.id(&id, "保单")?;
    let date = field(&form, "collected_on");
    let today = desk.state.clock.today();
    let res = desk
        .run(move |c, a| match action.as_str() {
            "collect" => policies::collect(c, a, id, &date, today),
            "issue" => policies::issue(c, a, id, today),
            "cancel" => policies::cancel(c, a, id),
            _ => Err(AppError::not_found("操作")),
        })
        .await;
    desk.done(res, |p| {
        (
            format!("保单{}：{}", p.policy_no, p.status_name),
            format!("/policies/{id}"),
        )
    })
}

// ---------------------------------------------------------------- 待签发

/// The collected policies waiting for the underwriter, one screen of them.
fn queue_list(c: &mut crate::db::DbConn, a: &app::Actor) -> Result<Value, AppError> {
    a.require(a.can_underwrite())?;
    let filter = policies::PolicyFilter {
        status: Some("collected".into()),
        page_size: Some(200),
        ..Default::default()
    };
    Ok(json!(policies::list(c, a, &filter)?))
}

async fn queue(desk: Desk) -> Page {
    desk.show_with("policy_queue.html", |c, a| {
        Ok(json!({"list": queue_list(c, a)?}))
    })
    .await
}

/// The ids ticked on the queue page: one `p<id>` field per policy.
fn picked(form: &Form) -> Vec<i64> {
    let mut ids: Vec<i64> = form
        .keys()
        .filter_map(|k| k.strip_prefix('p'))
        .filter_map(|n| n.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

async fn queue_preview(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let ids = picked(&form);
    let today = desk.state.clock.today();
    let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    desk.show_with("policy_queue.html", move |c, a| {
        let outcome = policies::issue_many(c, a, &ids, today, false)?;
        Ok(json!({"outcome": outcome, "ids": joined}))
    })
    .await
}

async fn queue_issue(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let ids: Vec<i64> = field(&form, "ids")
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let today = desk.state.clock.today();
    desk.show_with("policy_queue.html", move |c, a| {
        let outcome = policies::issue_many(c, a, &ids, today, true)?;
        Ok(json!({"outcome": outcome, "list": queue_list(c, a)?}))
    })
    .await
}

// ---------------------------------------------------------------- batches

async fn batch_page(desk: &Desk, rejected: Option<AppError>, values: Value) -> Page {
    let today = desk.state.clock.today().to_string();
    let res = desk
        .run(move |c, a| {
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
            Ok(json!({"batches": list, "pending": pending, "total": total,
                      "today": today}))
        })
        .await;
    desk.form_page("batches.html", res, rejected, values)
}

async fn batch_list(desk: Desk) -> Page {
    batch_page(&desk, None, json!({})).await
}

async fn batch_create(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let input: batches::BatchInput = desk.or_fail(from_form(&form))?;
    let today = desk.state.clock.today();
    let res = desk
        .run(move |c, a| batches::create(c, a, &input, today))
        .await;
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
