//! The audit trail: who changed what, when, with the row before and after.
//! Append-only: there is no update or delete here, and the database refuses them.
//! Every row is chained to the one before by a SHA-256 hash (`db::audit_chain`),
//! so a row changed, deleted or inserted behind the program's back is found by
//! `guobao audit verify`.

use super::clock::input_day;
use super::{Actor, Page, Paged};
use crate::db::audit_chain::{self, NewEntry};
use crate::db::models::AuditEntry;
use crate::db::schema::{audit_log, users};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::NaiveDate;
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
    let before = before.and_then(json);
    let after = after.and_then(json);
    entry(
        conn,
        actor,
        action,
        entity,
        Some(entity_id),
        before.as_deref(),
        after.as_deref(),
    )
}

/// Any audit row, with its JSON already written: appended to the chain
/// (`db::audit_chain`) inside the caller's transaction, or in one of its own.
pub fn entry(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&str>,
    after: Option<&str>,
) -> AppResult<()> {
    let row = NewEntry {
        user_id: (actor.user_id > 0).then_some(actor.user_id),
        username: &actor.username,
        action,
        entity,
        entity_id,
        before_json: before,
        after_json: after,
        client_addr: actor.client.as_deref(),
    };
    chained(conn, |c| Ok(audit_chain::append(c, &[row])?))
}

/// `f` inside the caller's transaction, or in a write transaction of its own:
/// reading the chain's head and appending to it must happen in one.
fn chained<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
    if crate::db::is_dirty(conn) {
        f(conn)
    } else {
        super::tx(conn, f)
    }
}

/// What the audit page and `/api/v1/audit` filter on; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// The person (exact user name).
    pub username: Option<String>,
    /// The person by user name or display name (part of it), `系统` the system.
    pub person: Option<String>,
    /// The record: its kind and id.
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub action: Option<String>,
    /// China calendar days, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The filter as typed (query parameters): blank means "any".
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FilterInput {
    pub username: Option<String>,
    pub person: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl FilterInput {
    /// The filter, or every reason it is not one (in Chinese).
    pub fn parse(&self) -> AppResult<Filter> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut errors = Vec::new();
        let entity_id = given(&self.entity_id).and_then(|s| match s.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "entity_id",
                    ErrorCode::QueryInvalid,
                    format!("记录编号应为正整数：{}", crate::domain::number::shown(&s)),
                ));
                None
            }
        });
        let mut day = |field: &str, label: &str, v: &Option<String>| {
            given(v).and_then(|s| match input_day(field, label, &s) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(e);
                    None
                }
            })
        };
        let from = day("from", "开始日期", &self.from);
        let to = day("to", "结束日期", &self.to);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.push(FieldError::new(
                    "to",
                    ErrorCode::QueryInvalid,
                    format!("结束日期（{t}）不能早于开始日期（{f}）"),
                ));
            }
        }
        for (field, label, v) in [
            ("username", "操作人", &self.username),
            ("person", "操作人", &self.person),
            ("entity", "对象", &self.entity),
            ("action", "操作", &self.action),
        ] {
            if given(v).is_some_and(|s| s.chars().count() > 100 || s.chars().any(char::is_control))
            {
                errors.push(FieldError::new(
                    field,
                    ErrorCode::QueryInvalid,
                    format!("{label}须为不超过100个字的文字"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Filter {
            username: given(&self.username),
            person: given(&self.person),
            entity: given(&self.entity),
            entity_id,
            action: given(&self.action),
            from,
            to,
        })
    }
}

/// The user name the system's own changes are recorded under, and how the
/// log names it.
pub const SYSTEM_USERNAME: &str = "system";
pub const SYSTEM_LABEL: &str = "系统";

/// Who did it, as the log shows them: the name and role of each account
/// among `ids`.
pub fn people(
    conn: &mut DbConn,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<std::collections::HashMap<i64, (String, String)>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name, users::role))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, role)| {
            let role =
                crate::domain::access::Role::parse(&role).map_or(role, |r| r.name().to_string());
            (id, (name, role))
        })
        .collect())
}

/// One audit row by its id (the log's detail page).
pub fn get(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<AuditEntry> {
    actor.require(actor.can_read_audit())?;
    audit_log::table
        .find(id)
        .select(AuditEntry::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("日志记录"))
}

/// The stored (UTC) text of China midnight at the start of `day`.
fn china_midnight(day: NaiveDate) -> String {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let utc = local - chrono::Duration::hours(8);
    utc.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The audit rows `filter` picks, newest first, one page of them with the
/// total. A record's rows include the roster import (or demo load) entry
/// that created it.
pub fn search(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &Filter,
    page: Page,
) -> AppResult<Paged<AuditEntry>> {
    actor.require(actor.can_read_audit())?;
    let imports: Vec<i64> = match (filter.entity.as_deref(), filter.entity_id) {
        (Some(e), Some(id)) if IMPORT_CREATES.contains(&e) => {
            let entries: Vec<(i64, Option<String>)> = audit_log::table
                .filter(audit_log::entity.eq(IMPORT_ENTITY))
                .select((audit_log::id, audit_log::after_json))
                .load(conn)?;
            entries
                .into_iter()
                .filter(|(_, after)| import_created(after.as_deref(), e, id))
                .map(|(row, _)| row)
                .collect()
        }
        _ => Vec::new(),
    };
    let query = || {
        let mut q = audit_log::table.into_boxed();
        match (&filter.entity, filter.entity_id) {
            (Some(e), Some(id)) => {
                q = q.filter(
                    audit_log::entity
                        .eq(e.clone())
                        .and(audit_log::entity_id.eq(id))
                        .or(audit_log::id.eq_any(imports.clone())),
                )
            }
            (Some(e), None) => q = q.filter(audit_log::entity.eq(e.clone())),
            (None, Some(id)) => q = q.filter(audit_log::entity_id.eq(id)),
            (None, None) => {}
        }
        if let Some(u) = &filter.username {
            q = q.filter(audit_log::username.eq(u.clone()));
        }
        if let Some(p) = &filter.person {
            let named = users::table
                .filter(
                    users::username
                        .eq(p.clone())
                        .or(users::display_name.like(super::listing::contains(p))),
                )
                .select(users::id.nullable());
            let system = if p == SYSTEM_LABEL {
                SYSTEM_USERNAME
            } else {
                p.as_str()
            };
            q = q.filter(
                audit_log::username
                    .eq(system.to_string())
                    .or(audit_log::user_id.eq_any(named)),
            );
        }
        if let Some(a) = &filter.action {
            q = q.filter(audit_log::action.eq(a.clone()));
        }
        if let Some(d) = filter.from {
            q = q.filter(audit_log::at.ge(china_midnight(d)));
        }
        if let Some(d) = filter.to.and_then(|d| d.succ_opt()) {
            q = q.filter(audit_log::at.lt(china_midnight(d)));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items: Vec<AuditEntry> = query()
        .order(audit_log::id.desc())
        .offset(page.offset())
        .limit(page.size)
        .select(AuditEntry::as_select())
        .load(conn)?;
    Ok(Paged::new(items, total, page))
}

/// The latest `limit` rows (1 to 1000) of a kind of record, or of one record.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    entity: Option<&str>,
    entity_id: Option<i64>,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    let filter = Filter {
        entity: entity.map(str::to_string),
        entity_id,
        ..Filter::default()
    };
    let page = Page {
        number: 1,
        size: limit.clamp(1, 1000),
    };
    Ok(search(conn, actor, &filter, page)?.items)
}

/// The entity of the one audit row a roster import writes: who imported
/// which file when, what it counted, and the ids of every grower, plot and
/// policy it created (`"created": {"grower": [[first, last], ...], ...}`).
/// What the import changed is recorded row by row, with before and after.
pub const IMPORT_ENTITY: &str = "roster_import";
const IMPORT_CREATES: [&str; 3] = ["grower", "plot", "policy"];

/// Whether an import entry records creating `entity` `id`.
fn import_created(after: Option<&str>, entity: &str, id: i64) -> bool {
    let Some(after) = after else {
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
    self::entry(
        conn,
        actor,
        "import",
        IMPORT_ENTITY,
        None,
        None,
        Some(&entry.to_string()),
    )
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
/// write, chained in order, in one COPY (PostgreSQL) or a few multi-row
/// INSERTs (SQLite).
pub fn record_many(conn: &mut DbConn, actor: &Actor, rows: Vec<Pending>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let user_id = (actor.user_id > 0).then_some(actor.user_id);
    let entries: Vec<NewEntry<'_>> = rows
        .iter()
        .map(|p| NewEntry {
            user_id,
            username: &actor.username,
            action: p.action,
            entity: p.entity,
            entity_id: Some(p.entity_id),
            before_json: p.before.as_deref(),
            after_json: p.after.as_deref(),
            client_addr: actor.client.as_deref(),
        })
        .collect();
    chained(conn, |c| Ok(audit_chain::append(c, &entries)?))
}

diesel::table! {
    /// Where [`Deferred`] keeps a long use case's audit rows until its end
    /// (a temporary table, created on first use, private to the connection).
    audit_stage (seq) {
        seq -> BigInt,
        action -> Text,
        entity -> Text,
        entity_id -> BigInt,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
    }
}

/// The audit rows of a long use case (the roster import), kept in a
/// temporary table while it runs and appended to the chain at its end, in
/// order. Appending holds the chain's head until the transaction commits,
/// so appending as the work goes would make every other writer of the
/// county wait for the whole import; this way they wait only for the last
/// step. Memory stays flat: the rows wait in the database, not in a Vec.
///
/// On SQLite the use case's transaction (`BEGIN IMMEDIATE`) already holds
/// the database's one write lock from its start, so nobody else can append
/// meanwhile anyway: there the rows go straight into the chain as they come,
/// written once instead of written, read back and written again.
#[derive(Default)]
pub struct Deferred {
    staged: i64,
}

impl Deferred {
    /// Keep `rows` for [`Deferred::flush`] (on SQLite: append them now, as
    /// `actor`, inside the caller's transaction).
    pub fn add(&mut self, conn: &mut DbConn, actor: &Actor, rows: Vec<Pending>) -> AppResult<()> {
        use diesel::connection::SimpleConnection;
        if rows.is_empty() {
            return Ok(());
        }
        if crate::db::backend(conn) == crate::db::Backend::Sqlite {
            let user_id = (actor.user_id > 0).then_some(actor.user_id);
            let entries: Vec<NewEntry<'_>> = rows
                .iter()
                .map(|p| NewEntry {
                    user_id,
                    username: &actor.username,
                    action: p.action,
                    entity: p.entity,
                    entity_id: Some(p.entity_id),
                    before_json: p.before.as_deref(),
                    after_json: p.after.as_deref(),
                    client_addr: actor.client.as_deref(),
                })
                .collect();
            return chained(conn, |c| Ok(audit_chain::append(c, &entries)?));
        }
        if self.staged == 0 {
            conn.batch_execute(
                "DROP TABLE IF EXISTS audit_stage; CREATE TEMPORARY TABLE audit_stage \
                 (seq BIGINT PRIMARY KEY, action TEXT NOT NULL, entity TEXT NOT NULL, \
                 entity_id BIGINT NOT NULL, before_json TEXT, after_json TEXT)",
            )?;
        }
        let first = self.staged;
        self.staged += rows.len() as i64;
        let values: Vec<_> = rows
            .into_iter()
            .zip(first..)
            .map(|(p, seq)| {
                (
                    audit_stage::seq.eq(seq),
                    audit_stage::action.eq(p.action),
                    audit_stage::entity.eq(p.entity),
                    audit_stage::entity_id.eq(p.entity_id),
                    audit_stage::before_json.eq(p.before),
                    audit_stage::after_json.eq(p.after),
                )
            })
            .collect();
        crate::bulk_copy!(conn, audit_stage::table, values, 6)?;
        Ok(())
    }

    /// Append every kept row to the chain as `actor`, in the order kept,
    /// inside the caller's transaction.
    pub fn flush(self, conn: &mut DbConn, actor: &Actor) -> AppResult<()> {
        use diesel::connection::SimpleConnection;
        const BATCH: i64 = 5_000;
        let user_id = (actor.user_id > 0).then_some(actor.user_id);
        let mut from = 0;
        while from < self.staged {
            type Row = (String, String, i64, Option<String>, Option<String>);
            let rows: Vec<Row> = audit_stage::table
                .filter(audit_stage::seq.ge(from))
                .filter(audit_stage::seq.lt(from + BATCH))
                .order(audit_stage::seq.asc())
                .select((
                    audit_stage::action,
                    audit_stage::entity,
                    audit_stage::entity_id,
                    audit_stage::before_json,
                    audit_stage::after_json,
                ))
                .load(conn)?;
            let entries: Vec<NewEntry<'_>> = rows
                .iter()
                .map(|(action, entity, id, before, after)| NewEntry {
                    user_id,
                    username: &actor.username,
                    action,
                    entity,
                    entity_id: Some(*id),
                    before_json: before.as_deref(),
                    after_json: after.as_deref(),
                    client_addr: actor.client.as_deref(),
                })
                .collect();
            chained(conn, |c| Ok(audit_chain::append(c, &entries)?))?;
            from += BATCH;
        }
        if self.staged > 0 {
            conn.batch_execute("DROP TABLE IF EXISTS audit_stage")?;
        }
        Ok(())
    }
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
        let entry = Some(r#"{"created":{"grower":[[3,5],[9,9]],"plot":[]}}"#);
        assert!(import_created(entry, "grower", 3));
        assert!(import_created(entry, "grower", 9));
        assert!(!import_created(entry, "grower", 6));
        assert!(!import_created(entry, "plot", 4));
        assert!(!import_created(entry, "policy", 4));
        assert!(!import_created(None, "grower", 3));
    }

    #[test]
    fn a_china_day_starts_at_sixteen_hundred_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(china_midnight(d), "2026-11-28T16:00:00Z");
        let jan1 = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(china_midnight(jan1), "2026-12-31T16:00:00Z");
    }

    #[test]
    fn filters_are_read_or_refused_in_chinese() {
        let f = FilterInput {
            username: Some(" station_a ".into()),
            entity_id: Some("12".into()),
            from: Some("2026-11-01".into()),
            to: Some("2026/11/29".into()),
            action: Some(String::new()),
            ..FilterInput::default()
        }
        .parse()
        .unwrap();
        assert_eq!(f.username.as_deref(), Some("station_a"));
        assert_eq!(f.entity_id, Some(12));
        assert_eq!(f.action, None);
        assert_eq!(f.to, NaiveDate::from_ymd_opt(2026, 11, 29));
        let e = FilterInput {
            entity_id: Some("0".into()),
            from: Some("2026-12-01".into()),
            to: Some("2026-11-01".into()),
            ..FilterInput::default()
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["entity_id", "to"]);
    }
}
