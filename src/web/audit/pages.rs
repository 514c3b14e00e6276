//! The audit page: the latest 200 rows, optionally of one entity.

use crate::app;
use crate::web::page::{error_page, page, parse_id, Data, Query};
use crate::web::session::PageUser;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_list));
}

async fn audit_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let entity = q.get("entity").cloned().filter(|s| !s.is_empty());
    let entity_id = parse_id(q.get("entity_id"));
    match state
        .run(move |c| app::audit::list(c, &a, entity.as_deref(), entity_id, 200))
        .await
    {
        Ok(rows) => page(
            &state,
            &session,
            Some(&actor),
            "audit.html",
            StatusCode::OK,
            json!({"rows": rows, "query": q.into_inner()}),
        ),
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}
