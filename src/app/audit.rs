//! The audit trail: who changed what, when, with the row before and after.
//! Append-only: there is no update or delete here, and the database refuses them.

use super::Actor;
use crate::db::models::AuditEntry;
use crate::db::schema::audit_log;
use crate::db::{now_text, DbConn};
use crate::error::AppResult;
use diesel::prelude::*;
use serde::Serialize;

/// A change: the row before and after it.
pub fn updated<T: Serialize>(
    conn: &mut DbConn,
    actor: &Actor,
    entity: &str,
    id: i64,
    before: &T,
    after: &T,
) -> AppResult<()> {
    record(conn, actor, "update", entity, id, Some(before), Some(after))
}

/// A deletion: the row as it was.
pub fn deleted<T: Serialize>(
    conn: &mut DbConn,
    actor: &Actor,
    entity: &str,
    id: i64,
    before: &T,
) -> AppResult<()> {
    record(conn, actor, "delete", entity, id, Some(before), None::<&()>)
}

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
    let limit = limit.clamp(1, 1000);
    let mut q = audit_log::table.into_boxed();
    if let Some(e) = entity {
        q = q.filter(audit_log::entity.eq(e.to_string()));
    }
    if let Some(id) = entity_id {
        q = q.filter(audit_log::entity_id.eq(id));
    }
    let mut rows: Vec<AuditEntry> = q
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)?;
    // A row created by a roster import is recorded in that import's entry.
    if let (Some(e), Some(id)) = (entity, entity_id) {
        if IMPORT_CREATES.contains(&e) {
            let imports: Vec<AuditEntry> = audit_log::table
                .filter(audit_log::entity.eq(IMPORT_ENTITY))
                .order(audit_log::id.desc())
                .select(AuditEntry::as_select())
                .load(conn)?;
            rows.extend(imports.into_iter().filter(|a| import_created(a, e, id)));
            rows.sort_by_key(|a| std::cmp::Reverse(a.id));
            rows.truncate(limit as usize);
        }
    }
    Ok(rows)
}

/// The entity of the one audit row a roster import writes: who imported
/// which file when, what it counted, and the ids of every grower, plot and
/// policy it created (`"created": {"grower": [[first, last], ...], ...}`).
/// What the import changed is recorded row by row, with before and after.
pub const IMPORT_ENTITY: &str = "roster_import";
const IMPORT_CREATES: [&str; 3] = ["grower", "plot", "policy"];

/// Whether an import entry records creating `entity` `id`.
fn import_created(entry: &AuditEntry, entity: &str, id: i64) -> bool {
    let Some(after) = entry.after_json.as_deref() else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(after) else {
        return false;
    };
    let end = |r: &serde_json::Value, i: usize| r.get(i).and_then(serde_json::Value::as_i64);
    v.get("created")
        .and_then(|c| c.get(entity))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|runs| {
            runs.iter()
                .any(|r| matches!((end(r, 0), end(r, 1)), (Some(a), Some(b)) if a <= id && id <= b))
        })
}

/// Sorted ids as `[first, last]` runs of consecutive ids.
pub fn id_runs(mut ids: Vec<i64>) -> Vec<[i64; 2]> {
    ids.sort_unstable();
    let mut runs: Vec<[i64; 2]> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some(run) if run[1] + 1 == id => run[1] = id,
            Some(run) if run[1] == id => {}
            _ => runs.push([id, id]),
        }
    }
    runs
}

/// The one entry of a roster import (see `IMPORT_ENTITY`).
pub fn record_import(conn: &mut DbConn, actor: &Actor, entry: &serde_json::Value) -> AppResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now_text()),
            audit_log::user_id.eq((actor.user_id > 0).then_some(actor.user_id)),
            audit_log::username.eq(&actor.username),
            audit_log::action.eq("import"),
            audit_log::entity.eq(IMPORT_ENTITY),
            audit_log::entity_id.eq(None::<i64>),
            audit_log::before_json.eq(None::<String>),
            audit_log::after_json.eq(Some(entry.to_string())),
        ))
        .execute(conn)?;
    Ok(())
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

/// A response that showed personal data in full (ID number, phone, bank
/// account): who saw which fields of which record, recorded as a `read`.
pub fn accessed(
    conn: &mut DbConn,
    actor: &Actor,
    entity: &str,
    id: i64,
    fields: &[&str],
) -> AppResult<()> {
    record(
        conn,
        actor,
        "read",
        entity,
        id,
        None::<&()>,
        Some(&serde_json::json!({ "fields": fields })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_runs() {
        assert_eq!(id_runs(vec![]), Vec::<[i64; 2]>::new());
        assert_eq!(
            id_runs(vec![7, 3, 4, 5, 9, 10, 5]),
            vec![[3, 5], [7, 7], [9, 10]]
        );
    }

    #[test]
    fn an_import_entry_covers_the_ids_it_created() {
        let entry = AuditEntry {
            id: 1,
            at: crate::domain::time::Instant::parse_stored("2026-06-12T06:30:00Z").unwrap(),
            user_id: None,
            username: "system".into(),
            action: "import".into(),
            entity: IMPORT_ENTITY.into(),
            entity_id: None,
            before_json: None,
            after_json: Some(r#"{"created":{"grower":[[3,5],[9,9]],"plot":[]}}"#.into()),
        };
        assert!(import_created(&entry, "grower", 3));
        assert!(import_created(&entry, "grower", 9));
        assert!(!import_created(&entry, "grower", 6));
        assert!(!import_created(&entry, "plot", 4));
        assert!(!import_created(&entry, "policy", 4));
    }
}
