//! `/api/v1/schemes` (list, read, add), `/api/v1/quote` and `/api/v1/eligibility`.

use crate::app::schemes;
use crate::web::api::{created, ok, Reply};
use crate::web::session::Bearer;
use actix_web::web;
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/schemes", web::get().to(list_schemes))
        .route("/schemes", web::post().to(create_scheme))
        .route("/schemes/{code}", web::get().to(get_scheme))
        .route("/quote", web::get().to(quote))
        .route("/eligibility", web::post().to(eligibility));
}

async fn list_schemes(api: Bearer) -> Reply {
    let list = api.state.run(schemes::list).await?;
    ok(list.into_iter().map(|s| s.def).collect::<Vec<_>>())
}

async fn get_scheme(api: Bearer, code: web::Path<String>) -> Reply {
    let code = code.into_inner();
    ok(api
        .state
        .run(move |c| schemes::by_code(c, &code))
        .await?
        .def)
}

async fn create_scheme(api: Bearer, body: web::Json<serde_json::Value>) -> Reply {
    let text = body.into_inner().to_string();
    let def = schemes::parse_definition(&text)?;
    created(api.run(move |c, a| schemes::create(c, a, &def)).await?.def)
}

#[derive(Deserialize)]
struct QuoteQuery {
    scheme: String,
    variety: String,
    mu: String,
}

async fn quote(api: Bearer, q: web::Query<QuoteQuery>) -> Reply {
    let q = q.into_inner();
    ok(api
        .state
        .run(move |c| {
            let s = schemes::by_code(c, &q.scheme)?;
            schemes::quote(&s.def, &q.variety, &q.mu)
        })
        .await?)
}

#[derive(Deserialize)]
struct EligibilityBody {
    scheme: String,
    variety: String,
    #[serde(flatten)]
    facts: BTreeMap<String, serde_json::Value>,
}

async fn eligibility(api: Bearer, body: web::Json<EligibilityBody>) -> Reply {
    let b = body.into_inner();
    let facts: Vec<(String, String)> = b
        .facts
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect();
    ok(api
        .state
        .run(move |c| {
            let s = schemes::by_code(c, &b.scheme)?;
            schemes::eligibility(&s.def, &b.variety, &facts)
        })
        .await?)
}
