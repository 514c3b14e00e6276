//! `/api/v1/audit`: the latest audit rows, optionally of one entity.

use crate::app;
use crate::web::api::{ok, Reply};
use crate::web::session::Bearer;
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit));
}

#[derive(Deserialize)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<i64>,
    limit: Option<i64>,
}

async fn audit(api: Bearer, q: web::Query<AuditQuery>) -> Reply {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(100);
    ok(api
        .run(move |c, a| app::audit::list(c, a, q.entity.as_deref(), q.entity_id, limit))
        .await?)
}
