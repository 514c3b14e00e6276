//! Grower pages: the list, a grower with their plots and policies, and the
//! form that registers or edits one.

use crate::app::{self, growers};
use crate::web::form::{from_form, RecordForm};
use crate::web::page::{
    done, error_page, parse_id, refuse_unless_editor, set_key, show, Data, Form, Query,
};
use crate::web::session::PageUser;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/growers", web::get().to(grower_list))
        .route("/growers", web::post().to(grower_create))
        .route("/growers/new", web::get().to(grower_new))
        .route("/growers/{id}", web::get().to(grower_show))
        .route("/growers/{id}", web::post().to(grower_update))
        .route("/growers/{id}/edit", web::get().to(grower_edit))
        .route("/growers/{id}/delete", web::post().to(grower_delete));
}

async fn grower_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let filter = growers::GrowerFilter {
        township_id: parse_id(q.get("township")),
        village_id: parse_id(q.get("village")),
        q: q.get("q").cloned(),
        year: None,
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    let res = state
        .run(move |c| {
            let list = growers::list(c, &a, &filter)?;
            let towns = app::areas::townships(c, &a)?;
            let villages = app::areas::villages(c, &a, filter.township_id.or(a.township_scope()))?;
            Ok(json!({"list": list, "townships": towns, "villages": villages, "query": query}))
        })
        .await;
    show(&state, &session, &actor, "growers.html", res)
}

/// The grower form posting to `action`, with the villages to choose from.
fn grower_form(action: impl Into<String>) -> RecordForm {
    RecordForm::new("grower_form.html", action, |c, a| {
        Ok(json!({"villages": app::areas::villages(c, a, None)?}))
    })
}

/// The form as the API's input. The page has no year: a grower registered
/// on a page belongs to the current season.
fn grower_input(form: &HashMap<String, String>) -> crate::error::AppResult<growers::GrowerInput> {
    let mut input: growers::GrowerInput = from_form(form)?;
    input.year = None;
    Ok(input)
}

async fn grower_new(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    if let Some(refused) = refuse_unless_editor(&state, &session, &actor) {
        return refused;
    }
    grower_form("/growers")
        .render(&state, &session, &actor, json!({}), None, StatusCode::OK)
        .await
}

async fn grower_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input = or_error_page!(state, session, actor, grower_input(&form));
    let a = actor.clone();
    let res = state.run(move |c| growers::create(c, &a, &input)).await;
    grower_form("/growers")
        .saved(
            &state,
            &session,
            &actor,
            res,
            json!(form.into_inner()),
            |g| {
                (
                    format!("已登记农户{}", g.name),
                    format!("/growers/{}", g.id),
                )
            },
        )
        .await
}

async fn grower_show(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "农户");
    let a = actor.clone();
    let res = state.run(move |c| super::detail(c, &a, id)).await;
    show(&state, &session, &actor, "grower.html", res)
}

async fn grower_edit(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "农户");
    if let Some(refused) = refuse_unless_editor(&state, &session, &actor) {
        return refused;
    }
    let a = actor.clone();
    match state.run(move |c| growers::get_view(c, &a, id)).await {
        Ok(g) => {
            grower_form(format!("/growers/{id}"))
                .render(&state, &session, &actor, json!(g), None, StatusCode::OK)
                .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn grower_update(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "农户");
    let input = or_error_page!(state, session, actor, grower_input(&form));
    let a = actor.clone();
    let res = state.run(move |c| growers::update(c, &a, id, &input)).await;
    let mut values = json!(form.into_inner());
    set_key(&mut values, "id", json!(id));
    grower_form(format!("/growers/{id}"))
        .saved(&state, &session, &actor, res, values, |g| {
            (format!("已保存农户{}", g.name), format!("/growers/{id}"))
        })
        .await
}

async fn grower_delete(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "农户");
    let a = actor.clone();
    let res = state.run(move |c| growers::delete(c, &a, id)).await;
    done(&state, &session, &actor, res, |()| {
        ("已删除农户及其地块".into(), "/growers".into())
    })
}
