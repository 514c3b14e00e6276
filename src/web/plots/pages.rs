//! Plot pages: the list, a plot with its grower, and the form that registers
//! or edits one (reached from its grower).

use crate::app::{self, growers, plots, schemes, Actor};
use crate::db::models::{self, Grower};
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
    cfg.route("/growers/{id}/plots/new", web::get().to(plot_new))
        .route("/plots", web::get().to(plot_list))
        .route("/plots", web::post().to(record::create::<Plot>))
        .route("/plots/{id}", web::get().to(plot_show))
        .route("/plots/{id}", web::post().to(record::update::<Plot>))
        .route("/plots/{id}/edit", web::get().to(record::edit::<Plot>))
        .route("/plots/{id}/delete", web::post().to(record::delete::<Plot>));
}

/// The plot form of one grower posting to `action`: the grower, the villages
/// of their township and this season's schemes with their varieties.
fn plot_form(grower_id: i64, action: impl Into<String>) -> RecordForm {
    RecordForm::new("plot_form.html", action, move |c, a| {
        let g = growers::get_masked(c, a, grower_id)?;
        let gr = crate::app::load::<Grower>(c, grower_id)?;
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

async fn plot_list(desk: Desk, q: Query) -> Page {
    let query = q.into_inner();
    let (sort, dir) = listing::sort_params::<plots::PlotSort>(&query);
    let filter = plots::PlotFilter {
        scheme: query.get("scheme").cloned().filter(|s| !s.is_empty()),
        township_id: parse_id(query.get("township")),
        village_id: parse_id(query.get("village")),
        eligible: match query.get("eligible").map(String::as_str) {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
        q: query.get("q").cloned(),
        sort: Some(sort),
        dir: Some(dir),
        page: listing::page_number(&query),
        page_size: Some(50),
    };
    desk.show_with("plots.html", move |c, a| {
        let list = plots::list(c, a, &filter)?;
        let towns = app::areas::townships(c, a)?;
        let villages = app::areas::villages(c, a, filter.township_id.or(a.township_scope()))?;
        // The page's growers in one query.
        let ids: Vec<i64> = list.items.iter().map(|p| p.grower_id).collect();
        let growers: HashMap<String, String> = growers::names_of(c, &ids)?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect();
        let pager = listing::pager("/plots", &query, "块", list.total, list.page, list.pages);
        let sorts = listing::sorter::<plots::PlotSort>("/plots", &query);
        Ok(
            json!({"list": list, "townships": towns, "villages": villages, "growers": growers,
                  "query": query, "pager": pager, "sorts": sorts}),
        )
    })
    .await
}

async fn plot_new(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "农户")?;
    desk.editor()?;
    plot_form(id, "/plots")
        .show(&desk, json!({"grower_id": id}))
        .await
}

struct Plot;

impl Record for Plot {
    const NOUN: &'static str = "地块";
    const PATH: &'static str = "/plots";
    type Input = plots::PlotInput;
    const CREATE: Create<Self> = plots::create;
    const UPDATE: Update<Self> = plots::update;
    type Saved = plots::PlotView;

    /// The form as the API's input; the page names further attributes
    /// `attr_<name>` (the API sends them as `attributes`), blank ones left out.
    fn input(form: &HashMap<String, String>) -> AppResult<plots::PlotInput> {
        let mut input: plots::PlotInput = from_form(form)?;
        input.attributes = form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("attr_")?, v)))
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(name, v)| (name.to_string(), json!(v)))
            .collect();
        Ok(input)
    }

    /// The form of the grower the input names.
    fn form(input: &plots::PlotInput, action: String) -> RecordForm {
        plot_form(input.grower_id, action)
    }

    fn created(p: Self::Saved) -> (String, String) {
        let eligibility = if p.eligible {
            "符合投保条件"
        } else {
            "不符合投保条件"
        };
        (
            format!("已登记地块{}：{eligibility}", p.code),
            format!("/plots/{}", p.id),
        )
    }

    fn updated(p: Self::Saved) -> String {
        format!("已保存地块{}", p.code)
    }

    /// The plot with its scheme and boundary as the form's fields name them.
    fn edit_form(c: &mut DbConn, a: &Actor, id: i64) -> AppResult<(Value, RecordForm)> {
        let p = plots::get_view(c, a, id)?;
        let mut values = json!(p);
        set_key(&mut values, "scheme", json!(p.scheme_code));
        let boundary = p.boundary.as_ref().map(|b| b.to_string());
        set_key(&mut values, "boundary", json!(boundary.unwrap_or_default()));
        Ok((values, plot_form(p.grower_id, format!("/plots/{id}"))))
    }

    /// Back to the plot's grower.
    fn delete(c: &mut DbConn, a: &Actor, id: i64) -> AppResult<(String, String)> {
        let p = crate::app::scoped::<models::Plot>(c, a, id)?;
        plots::delete(c, a, id)?;
        Ok(("已删除地块".into(), format!("/growers/{}", p.grower_id)))
    }
}

async fn plot_show(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "地块")?;
    desk.show_with("plot.html", move |c, a| {
        let p = plots::get_view(c, a, id)?;
        let g = growers::get_masked(c, a, p.grower_id)?;
        Ok(json!({"plot": p, "grower": g,
                  "boundary_text": p.boundary.as_ref().map(|b| b.to_string())}))
    })
    .await
}
