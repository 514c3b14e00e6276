//! `/api/v1/audit`: audit rows, newest first, filtered by person, record,
//! action and China dates (`username`, `person` (user name or name),
//! `entity`, `entity_id`, `action`,
//! `from`, `to`), `limit` rows (default 100, at most 1000) from `page`.

use crate::app;
use crate::app::audit::FilterInput;
use crate::db::models::AuditEntry;
use crate::web::api::{ok, Reply};
use crate::web::session::Bearer;
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit));
}

#[derive(Deserialize)]
struct AuditQuery {
    username: Option<String>,
    person: Option<String>,
    entity: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    page: Option<i64>,
}

async fn audit(api: Bearer, q: web::Query<AuditQuery>) -> Reply {
    let q = q.into_inner();
    let rows: Vec<AuditEntry> = api
        .run(move |c, a| {
            let filter = FilterInput {
                username: q.username,
                person: q.person,
                entity: q.entity,
                entity_id: q.entity_id,
                action: q.action,
                from: q.from,
                to: q.to,
            }
            .parse()?;
            let page = app::Page {
                number: app::Page::new(q.page, None)?.number,
                size: q.limit.unwrap_or(100).clamp(1, 1000),
            };
            Ok(app::audit::search(c, a, &filter, page)?.items)
        })
        .await?;
    ok(rows)
}
