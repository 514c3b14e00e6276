//! The audit page: the latest 200 rows, optionally of one entity.

use crate::app;
use crate::web::page::{parse_id, show_with, Data, Query};
use crate::web::session::PageUser;
use actix_session::Session;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_list));
}

async fn audit_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let entity = q.get("entity").cloned().filter(|s| !s.is_empty());
    let entity_id = parse_id(q.get("entity_id"));
    let query = q.into_inner();
    show_with(&state, &session, &actor, "audit.html", move |c, a| {
        let rows = app::audit::list(c, a, entity.as_deref(), entity_id, 200)?;
        Ok(json!({"rows": rows, "query": query}))
    })
    .await
}
