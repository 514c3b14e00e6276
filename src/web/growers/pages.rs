//! Grower pages: the list, a grower with their plots and policies, and the
//! form that registers or edits one.

use crate::app::{self, growers, Actor};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::web::desk::{Desk, Page};
use crate::web::form::{from_form, RecordForm};
use crate::web::listing;
use crate::web::page::{parse_id, set_key, Query};
use crate::web::record::{self, Create, Record, Update};
use actix_web::web;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/growers", web::get().to(grower_list))
        .route("/growers", web::post().to(record::create::<Grower>))
        .route("/growers/new", web::get().to(grower_new))
        .route("/growers/{id}", web::get().to(grower_show))
        .route("/growers/{id}", web::post().to(record::update::<Grower>))
        .route("/growers/{id}/edit", web::get().to(record::edit::<Grower>))
        .route(
            "/growers/{id}/delete",
            web::post().to(record::delete::<Grower>),
        );
}

async fn grower_list(desk: Desk, q: Query) -> Page {
    let query = q.into_inner();
    let (sort, dir) = listing::sort_params::<growers::GrowerSort>(&query);
    let filter = growers::GrowerFilter {
        township_id: parse_id(query.get("township")),
        village_id: parse_id(query.get("village")),
        q: query.get("q").cloned(),
        year: None,
        sort: Some(sort),
        dir: Some(dir),
        page: listing::page_number(&query),
        page_size: Some(50),
    };
    desk.show_with("growers.html", move |c, a| {
        let list = growers::list(c, a, &filter)?;
        let towns = app::areas::townships(c, a)?;
        let villages = app::areas::villages(c, a, filter.township_id.or(a.township_scope()))?;
        let pager = listing::pager("/growers", &query, "户", list.total, list.page, list.pages);
        let sorts = listing::sorter::<growers::GrowerSort>("/growers", &query);
        Ok(
            json!({"list": list, "townships": towns, "villages": villages, "query": query,
                  "pager": pager, "sorts": sorts}),
        )
    })
    .await
}

/// The grower form posting to `action`, with the villages to choose from.
fn grower_form(action: impl Into<String>) -> RecordForm {
    RecordForm::new("grower_form.html", action, |c, a| {
        Ok(json!({"villages": app::areas::villages(c, a, None)?}))
    })
}

struct Grower;

impl Record for Grower {
    const NOUN: &'static str = "农户";
    const PATH: &'static str = "/growers";
    type Input = growers::GrowerInput;
    const CREATE: Create<Self> = growers::create;
    const UPDATE: Update<Self> = growers::update;
    type Saved = growers::GrowerView;

    /// The form as the API's input. The page has no year: a grower registered
    /// on a page belongs to the current season.
    fn input(form: &HashMap<String, String>) -> AppResult<growers::GrowerInput> {
        let mut input: growers::GrowerInput = from_form(form)?;
        input.year = None;
        Ok(input)
    }

    fn form(_: &growers::GrowerInput, action: String) -> RecordForm {
        grower_form(action)
    }

    fn created(g: Self::Saved) -> (String, String) {
        (
            format!("已登记农户{}", g.name),
            format!("/growers/{}", g.id),
        )
    }

    fn updated(g: Self::Saved) -> String {
        format!("已保存农户{}", g.name)
    }

    /// The form again keeps the grower's id: the page is "修改农户".
    fn typed(form: HashMap<String, String>, id: i64) -> Value {
        let mut values = json!(form);
        set_key(&mut values, "id", json!(id));
        values
    }

    fn edit_form(c: &mut DbConn, a: &Actor, id: i64) -> AppResult<(Value, RecordForm)> {
        let g = growers::get_view(c, a, id)?;
        Ok((json!(g), grower_form(format!("/growers/{id}"))))
    }

    fn delete(c: &mut DbConn, a: &Actor, id: i64) -> AppResult<(String, String)> {
        growers::delete(c, a, id)?;
        Ok(("已删除农户及其地块".into(), "/growers".into()))
    }
}

async fn grower_new(desk: Desk) -> Page {
    desk.editor()?;
    grower_form("/growers").show(&desk, json!({})).await
}

async fn grower_show(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "农户")?;
    desk.show_with("grower.html", move |c, a| super::detail(c, a, id))
        .await
}
