//! Plot pages: the list, a plot with its grower, and the form that registers
//! or edits one (reached from its grower).

use crate::app::{self, growers, plots, schemes};
use crate::error::{AppError, AppResult};
use crate::web::form::{from_form, RecordForm};
use crate::web::page::{
    done, error_page, parse_id, refuse_unless_editor, set_key, show, Data, Form, Query,
};
use crate::web::session::PageUser;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/growers/{id}/plots/new", web::get().to(plot_new))
        .route("/plots", web::get().to(plot_list))
        .route("/plots", web::post().to(plot_create))
        .route("/plots/{id}", web::get().to(plot_show))
        .route("/plots/{id}", web::post().to(plot_update))
        .route("/plots/{id}/edit", web::get().to(plot_edit))
        .route("/plots/{id}/delete", web::post().to(plot_delete));
}

/// The plot form of one grower posting to `action`: the grower, the villages
/// of their township and this season's schemes with their varieties.
fn plot_form(grower_id: i64, action: impl Into<String>) -> RecordForm {
    RecordForm::new("plot_form.html", action, move |c, a| {
        let g = growers::get_view(c, a, grower_id)?;
        let gr = growers::load(c, grower_id)?;
        let villages = app::areas::villages(c, a, Some(gr.township_id))?;
        let all = schemes::list(c)?;
        let list: Vec<Value> = all
            .iter()
            .filter(|s| s.def.year == g.year)
            .map(|s| json!({"code": s.def.code, "name": s.def.name, "varieties": s.def.varieties}))
            .collect();
        Ok(json!({"grower": g, "villages": villages, "schemes": list}))
    })
}

async fn plot_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let filter = plots::PlotFilter {
        scheme: q.get("scheme").cloned().filter(|s| !s.is_empty()),
        township_id: parse_id(q.get("township")),
        village_id: parse_id(q.get("village")),
        eligible: match q.get("eligible").map(String::as_str) {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    let res = state
        .run(move |c| {
            let list = plots::list(c, &a, &filter)?;
            let towns = app::areas::townships(c, &a)?;
            let growers: HashMap<i64, String> = list
                .items
                .iter()
                .map(|p| Ok((p.grower_id, growers::load(c, p.grower_id)?.name)))
                .collect::<Result<_, AppError>>()?;
            Ok(json!({"list": list, "townships": towns, "growers": growers, "query": query}))
        })
        .await;
    show(&state, &session, &actor, "plots.html", res)
}

async fn plot_new(
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
    plot_form(id, "/plots")
        .render(
            &state,
            &session,
            &actor,
            json!({"grower_id": id}),
            None,
            StatusCode::OK,
        )
        .await
}

/// The form as the API's input; the page names further attributes
/// `attr_<name>` (the API sends them as `attributes`), blank ones left out.
fn plot_input(form: &HashMap<String, String>) -> AppResult<plots::PlotInput> {
    let mut input: plots::PlotInput = from_form(form)?;
    input.attributes = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("attr_")?, v)))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(name, v)| (name.to_string(), json!(v)))
        .collect();
    Ok(input)
}

fn created_message(p: &plots::PlotView) -> String {
    format!(
        "已登记地块{}：{}",
        p.code,
        if p.eligible {
            "符合投保条件"
        } else {
            "不符合投保条件"
        }
    )
}

async fn plot_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input = or_error_page!(state, session, actor, plot_input(&form));
    let gid = input.grower_id;
    let a = actor.clone();
    let res = state.run(move |c| plots::create(c, &a, &input)).await;
    plot_form(gid, "/plots")
        .saved(
            &state,
            &session,
            &actor,
            res,
            json!(form.into_inner()),
            |p| (created_message(&p), format!("/plots/{}", p.id)),
        )
        .await
}

async fn plot_show(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "地块");
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let p = plots::get_view(c, &a, id)?;
            let g = growers::get_view(c, &a, p.grower_id)?;
            Ok(json!({"plot": p, "grower": g,
                      "boundary_text": p.boundary.as_ref().map(|b| b.to_string())}))
        })
        .await;
    show(&state, &session, &actor, "plot.html", res)
}

async fn plot_edit(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "地块");
    if let Some(refused) = refuse_unless_editor(&state, &session, &actor) {
        return refused;
    }
    let a = actor.clone();
    match state.run(move |c| plots::get_view(c, &a, id)).await {
        Ok(p) => {
            let mut values = json!(p);
            set_key(&mut values, "scheme", json!(p.scheme_code));
            set_key(
                &mut values,
                "boundary",
                json!(p
                    .boundary
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default()),
            );
            plot_form(p.grower_id, format!("/plots/{id}"))
                .render(&state, &session, &actor, values, None, StatusCode::OK)
                .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn plot_update(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "地块");
    let input = or_error_page!(state, session, actor, plot_input(&form));
    let gid = input.grower_id;
    let a = actor.clone();
    let res = state.run(move |c| plots::update(c, &a, id, &input)).await;
    plot_form(gid, format!("/plots/{id}"))
        .saved(
            &state,
            &session,
            &actor,
            res,
            json!(form.into_inner()),
            |p| (format!("已保存地块{}", p.code), format!("/plots/{id}")),
        )
        .await
}

async fn plot_delete(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "地块");
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let p = plots::get_scoped(c, &a, id)?;
            plots::delete(c, &a, id)?;
            Ok(p.grower_id)
        })
        .await;
    done(&state, &session, &actor, res, |gid| {
        ("已删除地块".into(), format!("/growers/{gid}"))
    })
}
