//! The checks report page (`/checks`) and its Excel download (`/checks.xlsx`).

use crate::app::{self, checks};
use crate::web::desk::{Desk, Page};
use crate::web::page::Query;
use actix_web::web;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/checks", web::get().to(report_page))
        .route("/checks.xlsx", web::get().to(report_download));
}

fn query(q: &Query) -> checks::Query {
    checks::Query {
        township: q.get("township").cloned(),
    }
}

async fn report_page(desk: Desk, q: Query) -> Page {
    let q = query(&q);
    desk.show_with("checks.html", move |c, a| {
        let report = checks::report(c, a, &q, "checks")?;
        let towns = app::areas::townships(c, a)?;
        Ok(json!({"report": report, "townships": towns}))
    })
    .await
}

async fn report_download(desk: Desk, q: Query) -> Page {
    let q = query(&q);
    let today = desk.state.clock.today();
    desk.download(move |c, a| {
        let r = checks::report(c, a, &q, "checks_xlsx")?;
        checks::report_xlsx(&r, today)
    })
    .await
}
