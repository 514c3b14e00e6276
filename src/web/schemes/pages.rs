//! Scheme pages: the list with the form that adds a scheme from its JSON
//! definition, and one scheme with a sample quote.

use crate::app::schemes;
use crate::web::desk::{Desk, Page};
use crate::web::page::{errors_json, field, is_user_error, Form};
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/schemes", web::get().to(scheme_list))
        .route("/schemes", web::post().to(scheme_create))
        .route("/schemes/{code}", web::get().to(scheme_show));
}

async fn scheme_list(desk: Desk) -> Page {
    desk.show_with("schemes.html", |c, _| {
        Ok(json!({"schemes": definitions(schemes::list(c)?)}))
    })
    .await
}

fn definitions(list: Vec<schemes::Scheme>) -> Vec<crate::domain::scheme::SchemeDef> {
    list.into_iter().map(|s| s.def).collect()
}

async fn scheme_show(desk: Desk, code: web::Path<String>) -> Page {
    let code = code.into_inner();
    desk.show_with("scheme.html", move |c, _| {
        let s = schemes::by_code(c, &code)?;
        let quote = s
            .def
            .varieties
            .first()
            .and_then(|v| schemes::quote(&s.def, &v.code, "1").ok());
        Ok(json!({
            "scheme": s.def,
            "quote": quote,
            "levels": s.def.subsidy_levels.iter().map(|l| json!({
                "name": crate::domain::scheme::level_name(&l.level), "percent": l.percent
            })).collect::<Vec<_>>(),
        }))
    })
    .await
}

async fn scheme_create(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let text = field(&form, "definition");
    let res = match schemes::parse_definition(&text) {
        Ok(def) => desk.run(move |c, a| schemes::create(c, a, &def)).await,
        Err(e) => Err(e),
    };
    match res {
        Err(e) if is_user_error(&e) => {
            let defs = definitions(desk.state.run(schemes::list).await.unwrap_or_default());
            desk.render(
                "schemes.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "schemes": defs, "errors": errors_json(&e), "definition": text,
                }),
            )
        }
        res => desk.done(res, |s| {
            (
                format!("已添加险种方案{}", s.def.name),
                format!("/schemes/{}", s.def.code),
            )
        }),
    }
}
