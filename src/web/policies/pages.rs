//! Policy pages (list, detail, collect / issue / cancel) and the premium
//! hand-over batches page.

use crate::app::{self, batches, plots, policies, schemes, Actor};
use crate::error::AppError;
use crate::web::form::from_form;
use crate::web::page::{
    answer_form, done, field, form_page, is_user_error_or_missing, parse_id, show_with, Data, Form,
    Query,
};
use crate::web::session::PageUser;
use crate::web::AppState;
use actix_session::Session;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies", web::get().to(policy_list))
        .route("/policies/{id}", web::get().to(policy_show))
        .route("/policies/{id}/{action}", web::post().to(policy_action))
        .route("/batches", web::get().to(batch_list))
        .route("/batches", web::post().to(batch_create));
}

// ---------------------------------------------------------------- policies

async fn policy_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let filter = policies::PolicyFilter {
        scheme: q.get("scheme").cloned(),
        township_id: parse_id(q.get("township")),
        status: q.get("status").cloned(),
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    show_with(&state, &session, &actor, "policies.html", move |c, a| {
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

async fn policy_show(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "保单");
    let today = state.clock.today().to_string();
    show_with(&state, &session, &actor, "policy.html", move |c, a| {
        let p = policies::get_view(c, a, id)?;
        let pl: Vec<_> = plots::of_grower(c, a, p.grower_id)?
            .into_iter()
            .filter(|x| x.scheme_code == p.scheme_code)
            .collect();
        Ok(json!({"policy": p, "plots": pl, "today": today}))
    })
    .await
}

async fn policy_action(
    state: Data,
    session: Session,
    user: PageUser,
    path: web::Path<(String, String)>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let (id, action) = path.into_inner();
    let id = id_or_404!(state, session, actor, id, "保单");
    let date = field(&form, "collected_on");
    let today = state.clock.today();
    let res = state
        .run_as(&actor, move |c, a| match action.as_str() {
            "collect" => policies::collect(c, a, id, &date, today),
            "issue" => policies::issue(c, a, id),
            "cancel" => policies::cancel(c, a, id),
            _ => Err(AppError::not_found("操作")),
        })
        .await;
    done(&state, &session, &actor, res, |p| {
        (
            format!("保单{}：{}", p.policy_no, p.status_name),
            format!("/policies/{id}"),
        )
    })
}

// ---------------------------------------------------------------- batches

async fn batch_page(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    rejected: Option<AppError>,
    values: Value,
) -> HttpResponse {
    let today = state.clock.today().to_string();
    let res = state
        .run_as(actor, move |c, a| {
            let list = batches::list(c, a)?;
            let towns = app::areas::townships(c, a)?;
            let pending: Vec<Value> = match schemes::current(c)? {
                Some(s) => towns
                    .iter()
                    .map(|t| {
                        let p = batches::pending(c, t.id, s.id)?;
                        let amount: crate::domain::Fen = p.iter().map(|x| crate::domain::Fen(x.grower_share_fen)).sum();
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
    form_page(state, session, actor, "batches.html", res, rejected, values)
}

async fn batch_list(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    batch_page(&state, &session, &actor, None, json!({})).await
}

async fn batch_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input: batches::BatchInput = or_error_page!(state, session, actor, from_form(&form));
    let today = state.clock.today();
    let res = state
        .run_as(&actor, move |c, a| batches::create(c, a, &input, today))
        .await;
    let retry = |e| batch_page(&state, &session, &actor, Some(e), json!(form.into_inner()));
    let next = |b: batches::BatchView| {
        let message = format!(
            "已登记交付批次{}：{}份保单，{}元",
            b.receipt_no, b.policy_count, b.amount
        );
        (message, "/batches".to_string())
    };
    let again = is_user_error_or_missing;
    answer_form(&state, &session, &actor, res, again, retry, next).await
}
