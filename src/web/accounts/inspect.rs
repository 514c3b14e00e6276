//! The monthly inspection page (`/admin/inspect?month=YYYY-MM`, 按月巡检) and
//! its workbook (`/admin/inspect.xlsx?month=`), for the admin only. The
//! figures come from `ops::inspect`, the same as `guobao inspect`; opening a
//! month keeps its report as the month's record.
//!
//! (Kept beside the account pages, the admin's other desk, because the web
//! module list is being changed elsewhere; it may move to `web/inspect`.)

use crate::app::{Action, Actor};
use crate::ops::inspect::{self, Month, Places};
use crate::web::desk::{Desk, Page};
use crate::web::page::Query;
use actix_web::web;
use serde_json::{json, Value};

pub const PATH: &str = "/admin/inspect";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(inspect_page))
        .route("/admin/inspect.xlsx", web::get().to(inspect_download));
}

/// Where the server's settings say backups, photos and the certificate are.
/// The settings are read from the environment the server was started with
/// (the same `GUOBAO_BACKUP_DIR` and `GUOBAO_TLS_CERT` the command reads).
fn places(desk: &Desk) -> Places {
    Places::from_ops(&desk.state.ops, desk.state.photos.location())
}

fn allowed(actor: &Actor) -> crate::error::AppResult<()> {
    actor.require(actor.may(Action::ViewOperations))
}

async fn inspect_page(desk: Desk, q: Query) -> Page {
    let now = desk.state.clock.now();
    let places = places(&desk);
    let asked = q.get("month").cloned();
    desk.show_with("inspect.html", move |c, a| {
        allowed(a)?;
        let month = inspect::month_asked(asked.as_deref(), now)?;
        let report = inspect::inspect(c, a, &places, month, now)?;
        Ok(context(&report, Month::containing(now)))
    })
    .await
}

async fn inspect_download(desk: Desk, q: Query) -> Page {
    let now = desk.state.clock.now();
    let places = places(&desk);
    let asked = q.get("month").cloned();
    desk.download(move |c, a| {
        allowed(a)?;
        let month = inspect::month_asked(asked.as_deref(), now)?;
        let report = inspect::inspect(c, a, &places, month, now)?;
        inspect::sheet::to_xlsx(&report)
    })
    .await
}

/// The report, and its figures grouped under their sections.
fn context(report: &inspect::Inspection, current: Month) -> Value {
    let lines = inspect::lines(report);
    let sections: Vec<Value> = report
        .sections
        .iter()
        .map(|s| {
            let figures: Vec<Value> = lines
                .iter()
                .filter(|l| l.section == s.title)
                .map(|l| json!({"item": l.item, "value": l.value.to_string()}))
                .collect();
            json!({
                "key": s.key,
                "title": s.title,
                "status": s.status,
                "status_name": s.status_name,
                "note": s.note,
                "figures": figures,
            })
        })
        .collect();
    json!({
        "report": report,
        "sections": sections,
        "current_month": current.to_string(),
        "rules": inspect::rules(),
    })
}
