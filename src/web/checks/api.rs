//! `/api/v1/checks[?township=CODE]`: the report as JSON, or as .xlsx.

use crate::app::checks;
use crate::web::api::{ok, Reply};
use crate::web::page::xlsx;
use crate::web::session::Bearer;
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/checks", web::get().to(report))
        .route("/checks.xlsx", web::get().to(report_xlsx));
}

#[derive(serde::Deserialize)]
pub struct Params {
    township: Option<String>,
}

async fn report(api: Bearer, q: web::Query<Params>) -> Reply {
    let q = checks::Query {
        township: q.into_inner().township,
    };
    ok(api
        .run(move |c, a| checks::report(c, a, &q, "checks"))
        .await?)
}

async fn report_xlsx(api: Bearer, q: web::Query<Params>) -> Reply {
    let q = checks::Query {
        township: q.into_inner().township,
    };
    let today = api.state.clock.today();
    let (name, bytes) = api
        .run(move |c, a| {
            let r = checks::report(c, a, &q, "checks_xlsx")?;
            checks::report_xlsx(&r, today)
        })
        .await?;
    Ok(xlsx(&name, bytes))
}
