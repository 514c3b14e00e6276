//! The audit trail: who changed what, when, with the row before and after.
//! Append-only: there is no update or delete here, and the database refuses them.

use super::Actor;
use crate::db::models::AuditEntry;
use crate::db::schema::audit_log;
use crate::db::{now_text, DbConn};
use crate::error::AppResult;
use diesel::prelude::*;
use serde::Serialize;

pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: i64,
    before: Option<&B>,
    after: Option<&A>,
) -> AppResult<()> {
    let to_json = |v: Option<String>| v;
    let before = to_json(before.and_then(|b| serde_json::to_string(b).ok()));
    let after = to_json(after.and_then(|a| serde_json::to_string(a).ok()));
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now_text()),
            audit_log::user_id.eq(if actor.user_id > 0 {
                Some(actor.user_id)
            } else {
                None
            }),
            audit_log::username.eq(&actor.username),
            audit_log::action.eq(action),
            audit_log::entity.eq(entity),
            audit_log::entity_id.eq(Some(entity_id)),
            audit_log::before_json.eq(before),
            audit_log::after_json.eq(after),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    entity: Option<&str>,
    entity_id: Option<i64>,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    actor.require(actor.can_read_audit())?;
    let mut q = audit_log::table.into_boxed();
    if let Some(e) = entity {
        q = q.filter(audit_log::entity.eq(e.to_string()));
    }
    if let Some(id) = entity_id {
        q = q.filter(audit_log::entity_id.eq(id));
    }
    Ok(q.order(audit_log::id.desc())
        .limit(limit.clamp(1, 1000))
        .select(AuditEntry::as_select())
        .load(conn)?)
}

/// One audit row, built before a bulk insert.
pub struct Pending {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: i64,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub fn json<T: Serialize>(v: &T) -> Option<String> {
    serde_json::to_string(v).ok()
}

/// Record many changes at once (bulk imports): the same rows `record` would
/// write, in one COPY (PostgreSQL) or a few multi-row INSERTs (SQLite).
pub fn record_many(conn: &mut DbConn, actor: &Actor, rows: Vec<Pending>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let at = now_text();
    let user_id = (actor.user_id > 0).then_some(actor.user_id);
    let values: Vec<_> = rows
        .iter()
        .map(|p| {
            (
                audit_log::at.eq(&at),
                audit_log::user_id.eq(user_id),
                audit_log::username.eq(&actor.username),
                audit_log::action.eq(p.action),
                audit_log::entity.eq(p.entity),
                audit_log::entity_id.eq(Some(p.entity_id)),
                audit_log::before_json.eq(p.before.as_deref()),
                audit_log::after_json.eq(p.after.as_deref()),
            )
        })
        .collect();
    crate::bulk_copy!(conn, audit_log::table, values, 8)?;
    Ok(())
}
