//! Policy pages (list, detail, collect / issue / cancel) and the premium
//! hand-over batches page.

use crate::app::{self, batches, plots, policies, schemes};
use crate::error::AppError;
use crate::web::confirm::{confirmed, Confirm};
use crate::web::desk::{Desk, Page};
use crate::web::form::from_form;
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
    let filter = policies::PolicyFilter {
        scheme: q.get("scheme").cloned(),
        township_id: parse_id(q.get("township")),
        status: q.get("status").cloned(),
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    desk.show_with("policies.html", move |c, a| {
        let list = policies::list(c, a, &filter)?;
        let towns = app::areas::townships(c, a)?;
        let statuses: Vec<Value> = policies::STATUSES
            .iter()
            .map(|(c, n)| json!({"code": c, "name": n}))
            .collect();
        Ok(json!({"list": list, "townships": towns, "statuses": statuses, "query": query}))
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

/// The collected policies waiting for the underwriter, one screen of them.
fn queue_list(c: &mut crate::db::DbConn, a: &app::Actor) -> Result<Value, AppError> {
    a.require(a.can_underwrite())?;
    let filter = policies::PolicyFilter {
        scheme: None,
        township_id: None,
        status: Some("collected".into()),
        page: None,
        page_size: Some(200),
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
