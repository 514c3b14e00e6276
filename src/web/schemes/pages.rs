//! Scheme pages: the list with the form that adds a scheme from its JSON
//! definition, and one scheme with a sample quote.

use crate::app::schemes;
use crate::web::page::{
    error_page, errors_json, field, flash, is_user_error, page, redirect, show_with, Data, Form,
};
use crate::web::session::PageUser;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/schemes", web::get().to(scheme_list))
        .route("/schemes", web::post().to(scheme_create))
        .route("/schemes/{code}", web::get().to(scheme_show));
}

async fn scheme_list(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    show_with(&state, &session, &actor, "schemes.html", |c, _| {
        Ok(json!({"schemes": definitions(schemes::list(c)?)}))
    })
    .await
}

fn definitions(list: Vec<schemes::Scheme>) -> Vec<crate::domain::scheme::SchemeDef> {
    list.into_iter().map(|s| s.def).collect()
}

async fn scheme_show(
    state: Data,
    session: Session,
    user: PageUser,
    code: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let code = code.into_inner();
    show_with(&state, &session, &actor, "scheme.html", move |c, _| {
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

async fn scheme_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let text = field(&form, "definition");
    let res = match schemes::parse_definition(&text) {
        Ok(def) => {
            state
                .run_as(&actor, move |c, a| schemes::create(c, a, &def))
                .await
        }
        Err(e) => Err(e),
    };
    match res {
        Ok(s) => {
            flash(&session, &format!("已添加险种方案{}", s.def.name));
            redirect(&format!("/schemes/{}", s.def.code))
        }
        Err(e) if is_user_error(&e) => {
            let defs = definitions(state.run(schemes::list).await.unwrap_or_default());
            page(
                &state,
                &session,
                Some(&actor),
                "schemes.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "schemes": defs, "errors": errors_json(&e), "definition": text,
                }),
            )
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}
