//! The audit page: the latest 200 rows, optionally of one entity.

use crate::app;
use crate::web::desk::{Desk, Page};
use crate::web::page::{parse_id, Query};
use actix_web::web;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_list));
}

async fn audit_list(desk: Desk, q: Query) -> Page {
    let entity = q.get("entity").cloned().filter(|s| !s.is_empty());
    let entity_id = parse_id(q.get("entity_id"));
    let query = q.into_inner();
    desk.show_with("audit.html", move |c, a| {
        let rows = app::audit::list(c, a, entity.as_deref(), entity_id, 200)?;
        Ok(json!({"rows": rows, "query": query}))
    })
    .await
}
