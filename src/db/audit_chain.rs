//! The audit trail as a hash chain.
//!
//! Every row carries `hash` = SHA-256 (hex) over the hash of the row before it
//! (`prev_hash`; [`GENESIS`] for the first) and an unambiguous encoding of its
//! own content ([`encode`]: id, at, user_id, username, action, entity,
//! entity_id, before_json, after_json, client_addr). The one-row table
//! `audit_chain` holds the head: the last row appended and its hash.
//!
//! An append reads the head and draws the new ids under a lock held until the
//! caller's transaction ends (PostgreSQL: `audit_chain_next` locks the head row
//! `FOR UPDATE` before `nextval`; SQLite: the write lock of the transaction), so
//! two transactions never chain onto the same row and id order is chain order.
//! A row changed, deleted or slipped in by SQL breaks the chain, and
//! [`verify`] names the first broken link.

use super::schema::{audit_chain, audit_log};
use super::{now_text, DbConn};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How far a row's time may lie before the previous row's (clocks of several
/// servers, a clock corrected by NTP) before `verify` calls it back-dated.
pub const AT_TOLERANCE_SECONDS: i64 = 300;

/// One audit row as the chain sees it.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub id: i64,
    pub at: &'a str,
    pub user_id: Option<i64>,
    pub username: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
    pub client_addr: Option<&'a str>,
}

/// A row to append: its content but the id and time, which the append gives.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub user_id: Option<i64>,
    pub username: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
    pub client_addr: Option<&'a str>,
}

/// The content as bytes that no other content gives: a version tag, then
/// each field in a fixed order as `<byte length>:<bytes>;`, or `~;` when
/// absent (numbers in decimal). A length prefix makes every field boundary
/// explicit, whatever the text holds.
pub fn encode(prev_hash: &str, c: &Content<'_>) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, v: Option<&str>) {
        match v {
            Some(s) => {
                out.extend_from_slice(s.len().to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(s.as_bytes());
            }
            None => out.push(b'~'),
        }
        out.push(b';');
    }
    let num = |n: Option<i64>| n.map(|n| n.to_string());
    let mut out = Vec::with_capacity(
        160 + c.before_json.map_or(0, str::len) + c.after_json.map_or(0, str::len),
    );
    out.extend_from_slice(b"guobao-audit-v1;");
    field(&mut out, Some(prev_hash));
    field(&mut out, Some(&c.id.to_string()));
    field(&mut out, Some(c.at));
    field(&mut out, num(c.user_id).as_deref());
    field(&mut out, Some(c.username));
    field(&mut out, Some(c.action));
    field(&mut out, Some(c.entity));
    field(&mut out, num(c.entity_id).as_deref());
    field(&mut out, c.before_json);
    field(&mut out, c.after_json);
    field(&mut out, c.client_addr);
    out
}

/// The row's hash: SHA-256 of [`encode`], lowercase hex.
pub fn hash(prev_hash: &str, c: &Content<'_>) -> String {
    hex::encode(Sha256::digest(encode(prev_hash, c)))
}

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = Text)]
    prev: String,
    #[diesel(sql_type = BigInt)]
    next_id: i64,
}

/// The head's hash and `n` new ids, in order; holds the chain until the
/// transaction ends. Must run inside the caller's (write) transaction.
fn next_ids(conn: &mut DbConn, n: usize) -> QueryResult<(String, Vec<i64>)> {
    let count = i32::try_from(n).map_err(|_| {
        diesel::result::Error::QueryBuilderError("too many audit rows at once".into())
    })?;
    match conn {
        DbConn::Postgresql(_) => {
            let rows: Vec<Next> =
                diesel::sql_query("SELECT prev, next_id FROM audit_chain_next($1)")
                    .bind::<Integer, _>(count)
                    .load(conn)?;
            let prev = rows
                .first()
                .map(|r| r.prev.clone())
                .ok_or(diesel::result::Error::NotFound)?;
            let mut ids: Vec<i64> = rows.into_iter().map(|r| r.next_id).collect();
            ids.sort_unstable();
            Ok((prev, ids))
        }
        DbConn::Sqlite(_) => {
            // The write lock is held: nobody else appends until we commit. The
            // next id is the one AUTOINCREMENT would give.
            let head: Next = diesel::sql_query(
                "SELECT c.last_hash AS prev, MAX(c.last_id, \
                 COALESCE((SELECT MAX(id) FROM audit_log), 0), \
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)) AS next_id \
                 FROM audit_chain c WHERE c.id = 1",
            )
            .get_result(conn)?;
            let first = head.next_id + 1;
            Ok((head.prev, (first..first + i64::from(count)).collect()))
        }
    }
}

/// Append `entries` to the chain, in order, inside the caller's transaction
/// (on SQLite a write transaction). One read of the head (which also draws
/// the ids), then the rows and the new head: on PostgreSQL one row and the
/// head go in one statement, so an audit row costs one round trip more than
/// it did before the chain.
pub fn append(conn: &mut DbConn, entries: &[NewEntry<'_>]) -> QueryResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut prev, ids) = next_ids(conn, entries.len())?;
    // Taken after the chain is held, so times rise along it.
    let at = now_text();
    let mut rows = Vec::with_capacity(entries.len());
    for (e, &id) in entries.iter().zip(&ids) {
        let h = hash(
            &prev,
            &Content {
                id,
                at: &at,
                user_id: e.user_id,
                username: e.username,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                before_json: e.before_json,
                after_json: e.after_json,
                client_addr: e.client_addr,
            },
        );
        rows.push((id, std::mem::replace(&mut prev, h.clone()), h));
    }
    if let (DbConn::Postgresql(_), [e], [(id, prev_hash, h)]) = (&*conn, entries, &rows[..]) {
        // One row on PostgreSQL: the row and the head in one statement.
        let n = diesel::sql_query(
            "WITH added AS (INSERT INTO audit_log (id, at, user_id, username, action, entity, \
             entity_id, before_json, after_json, client_addr, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id) \
             UPDATE audit_chain SET last_id = added.id, last_hash = $12 FROM added WHERE audit_chain.id = 1",
        )
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(&at)
        .bind::<Nullable<BigInt>, _>(e.user_id)
        .bind::<Text, _>(e.username)
        .bind::<Text, _>(e.action)
        .bind::<Text, _>(e.entity)
        .bind::<Nullable<BigInt>, _>(e.entity_id)
        .bind::<Nullable<Text>, _>(e.before_json)
        .bind::<Nullable<Text>, _>(e.after_json)
        .bind::<Nullable<Text>, _>(e.client_addr)
        .bind::<Text, _>(prev_hash)
        .bind::<Text, _>(h)
        .execute(conn)?;
        return if n == 1 {
            Ok(())
        } else {
            Err(diesel::result::Error::NotFound)
        };
    }
    let values: Vec<_> = entries
        .iter()
        .zip(&rows)
        .map(|(e, (id, prev_hash, h))| {
            (
                audit_log::id.eq(*id),
                audit_log::at.eq(&at),
                audit_log::user_id.eq(e.user_id),
                audit_log::username.eq(e.username),
                audit_log::action.eq(e.action),
                audit_log::entity.eq(e.entity),
                audit_log::entity_id.eq(e.entity_id),
                audit_log::before_json.eq(e.before_json),
                audit_log::after_json.eq(e.after_json),
                audit_log::client_addr.eq(e.client_addr),
                audit_log::prev_hash.eq(prev_hash.as_str()),
                audit_log::hash.eq(h.as_str()),
            )
        })
        .collect();
    let written = if values.len() == 1 {
        let mut values = values;
        match values.pop() {
            Some(row) => diesel::insert_into(audit_log::table)
                .values(row)
                .execute(conn)?,
            None => 0,
        }
    } else {
        crate::bulk_copy!(conn, audit_log::table, values, 12)?
    };
    if written != entries.len() {
        return Err(diesel::result::Error::QueryBuilderError(
            format!("audit rows written: {written} of {}", entries.len()).into(),
        ));
    }
    let (last_id, _, last_hash) = rows.last().ok_or(diesel::result::Error::NotFound)?;
    diesel::update(audit_chain::table.find(1))
        .set((
            audit_chain::last_id.eq(*last_id),
            audit_chain::last_hash.eq(last_hash),
        ))
        .execute(conn)?;
    Ok(())
}

/// The stored row, every column as text or number (`at` exactly as stored).
type RawRow = (
    i64,
    String,
    Option<i64>,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Rows after `after` in id order, at most `limit`.
fn page(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<RawRow>> {
    audit_log::table
        .filter(audit_log::id.gt(after))
        .order(audit_log::id.asc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::user_id,
            audit_log::username,
            audit_log::action,
            audit_log::entity,
            audit_log::entity_id,
            audit_log::before_json,
            audit_log::after_json,
            audit_log::client_addr,
            audit_log::prev_hash,
            audit_log::hash,
        ))
        .load(conn)
}

fn content(r: &RawRow) -> Content<'_> {
    Content {
        id: r.0,
        at: &r.1,
        user_id: r.2,
        username: &r.3,
        action: &r.4,
        entity: &r.5,
        entity_id: r.6,
        before_json: r.7.as_deref(),
        after_json: r.8.as_deref(),
        client_addr: r.9.as_deref(),
    }
}

/// Rows read per page when walking the chain.
const PAGE: i64 = 1000;

/// Chain the rows written before the chain existed, once: when the head row
/// is missing and no row has a hash yet (right after the migration that made
/// the table), every row is hashed in id order and the head written, in one
/// transaction. Does nothing when the head exists, so it is safe to run at
/// every start.
pub fn chain_existing(conn: &mut DbConn) -> QueryResult<()> {
    if head(conn)?.is_some() {
        return Ok(());
    }
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgresql(_) => Manager::begin_transaction(conn)?,
    }
    match chain_existing_in_tx(conn) {
        Ok(()) => Manager::commit_transaction(conn),
        Err(e) => {
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// The append-only triggers, as the first migration made them (SQLite).
const SQLITE_TRIGGERS: &str = "\
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;";

fn chain_existing_in_tx(conn: &mut DbConn) -> QueryResult<()> {
    if matches!(conn, DbConn::Postgresql(_)) {
        // No one appends (nor chains) while we do.
        conn.batch_execute("LOCK TABLE audit_chain, audit_log IN EXCLUSIVE MODE")?;
    }
    if head(conn)?.is_some() {
        return Ok(());
    }
    // Rows already chained but no head: the head was deleted. Chaining again
    // would bless whatever was done to the rows; `verify` reports it instead.
    let chained: i64 = audit_log::table
        .filter(audit_log::hash.is_not_null())
        .count()
        .get_result(conn)?;
    if chained > 0 {
        return Ok(());
    }
    // The rows must be updated once, so the append-only triggers step aside
    // inside this transaction and are back when it commits.
    match conn {
        DbConn::Sqlite(_) => conn
            .batch_execute("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")?,
        DbConn::Postgresql(_) => {
            conn.batch_execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")?
        }
    }
    let (mut last_id, mut prev) = (0_i64, GENESIS.to_string());
    loop {
        let rows = page(conn, last_id, PAGE)?;
        let Some(last) = rows.last() else { break };
        last_id = last.0;
        let mut links = Vec::with_capacity(rows.len());
        for r in &rows {
            let h = hash(&prev, &content(r));
            links.push((r.0, std::mem::replace(&mut prev, h.clone()), h));
        }
        super::update_from(
            conn,
            "audit_log",
            "audit_links",
            &[("id", "BIGINT"), ("prev_hash", "TEXT"), ("hash", "TEXT")],
            |conn| {
                let values: Vec<_> = links
                    .iter()
                    .map(|(id, p, h)| {
                        (
                            audit_links::id.eq(*id),
                            audit_links::prev_hash.eq(p.as_str()),
                            audit_links::hash.eq(h.as_str()),
                        )
                    })
                    .collect();
                crate::bulk_copy!(conn, audit_links::table, values, 3)
            },
        )?;
    }
    match conn {
        DbConn::Sqlite(_) => conn.batch_execute(SQLITE_TRIGGERS)?,
        DbConn::Postgresql(_) => {
            conn.batch_execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")?
        }
    }
    diesel::insert_into(audit_chain::table)
        .values((
            audit_chain::id.eq(1),
            audit_chain::last_id.eq(last_id),
            audit_chain::last_hash.eq(&prev),
        ))
        .execute(conn)?;
    Ok(())
}

diesel::table! {
    /// The temporary table `chain_existing` fills (see `db::update_from`).
    audit_links (id) {
        id -> BigInt,
        prev_hash -> Text,
        hash -> Text,
    }
}

/// The head: (last id, last hash), or `None` before the rows are chained.
pub fn head(conn: &mut DbConn) -> QueryResult<Option<(i64, String)>> {
    audit_chain::table
        .find(1)
        .select((audit_chain::last_id, audit_chain::last_hash))
        .first(conn)
        .optional()
}

/// What is wrong with the chain at its first broken link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Break {
    /// The row has no hash: it was inserted by SQL, not by the program.
    NoHash { id: i64 },
    /// The row's content (or its hash) was changed after it was written.
    Altered { id: i64 },
    /// Rows between `after` (0: the start) and `id` are gone.
    Missing { after: i64, id: i64 },
    /// The row's hash is sound but it does not belong between its neighbours:
    /// inserted by someone who computed a hash.
    Inserted { id: i64 },
    /// The row's time lies before the previous row's by more than the tolerance.
    BackDated {
        id: i64,
        at: String,
        previous_at: String,
    },
    /// The rows after `after` up to the head's `id` are gone.
    MissingAtEnd { after: i64, id: i64 },
    /// The head does not match the last row (it, or the rows, were edited).
    HeadMismatch { id: i64 },
    /// The head row is gone (deleted, or the program never migrated this database).
    NoHead,
}

impl Break {
    /// The row the break is reported at.
    pub fn id(&self) -> Option<i64> {
        match self {
            Break::NoHash { id }
            | Break::Altered { id }
            | Break::Missing { id, .. }
            | Break::Inserted { id }
            | Break::BackDated { id, .. }
            | Break::MissingAtEnd { id, .. }
            | Break::HeadMismatch { id } => Some(*id),
            Break::NoHead => None,
        }
    }

    /// In Chinese, for the person running the check.
    pub fn message(&self) -> String {
        match self {
            Break::NoHash { id } => format!(
                "第 {id} 行没有哈希：这一行不是系统写入的，是绕过系统直接插入（可能倒填了时间）的"
            ),
            Break::Altered { id } => {
                format!("第 {id} 行的内容与它的哈希不符：这一行写入后被修改过")
            }
            Break::Missing { after: 0, id } => {
                format!("第 {id} 行之前的记录缺失：链的开头有记录被删除")
            }
            Break::Missing { after, id } => {
                format!("第 {after} 行与第 {id} 行之间缺少记录：第 {id} 行所接的上一行已被删除")
            }
            Break::Inserted { id } => {
                format!("第 {id} 行不在链上：它的下一行接的是它前面的行，这一行是事后插入的")
            }
            Break::BackDated {
                id,
                at,
                previous_at,
            } => format!(
                "第 {id} 行的时间（{}）早于上一行（{}）：时间被倒填",
                china_time(at),
                china_time(previous_at)
            ),
            Break::MissingAtEnd { after, id } => {
                format!("第 {after} 行之后的记录缺失：链头记到第 {id} 行，末尾有记录被删除")
            }
            Break::HeadMismatch { id } => {
                format!("第 {id} 行的哈希与链头记下的不符：末尾的记录或链头被改动过")
            }
            Break::NoHead => {
                "审计链头（audit_chain 表中的记录）缺失：链头被删除，或数据库尚未由本程序迁移"
                    .to_string()
            }
        }
    }
}

/// The result of walking the chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    /// Rows read (all of them when intact; up to the break otherwise).
    pub rows: i64,
    /// The last row's id and hash when intact.
    pub last_id: i64,
    pub head_hash: String,
    pub broken: Option<Break>,
}

/// Walk the chain in id order, a page at a time, in one read-only snapshot
/// (rows appended meanwhile are not seen, nor is the head they move). Stops
/// at the first broken link.
pub fn verify(conn: &mut DbConn) -> QueryResult<Verdict> {
    use diesel::connection::TransactionManager;
    type Manager = <DbConn as Connection>::TransactionManager;
    Manager::begin_transaction(conn)?;
    if matches!(conn, DbConn::Postgresql(_)) {
        if let Err(e) =
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        {
            let _ = Manager::rollback_transaction(conn);
            return Err(e);
        }
    }
    let walked = walk(conn);
    let _ = Manager::rollback_transaction(conn);
    walked
}

fn walk(conn: &mut DbConn) -> QueryResult<Verdict> {
    let verdict = |rows: i64, last_id: i64, hash: &str, broken: Option<Break>| Verdict {
        rows,
        last_id,
        head_hash: hash.to_string(),
        broken,
    };
    let Some((head_id, head_hash)) = head(conn)? else {
        return Ok(verdict(0, 0, "", Some(Break::NoHead)));
    };
    let mut count = 0_i64;
    // The last good row: id, hash, time; and the hash before it.
    let (mut last_id, mut last_hash, mut last_at) = (0_i64, GENESIS.to_string(), None::<String>);
    let mut before_last = None::<String>;
    loop {
        let rows = page(conn, last_id, PAGE)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id = r.0;
            let broken = |b: Break| Ok(verdict(count, last_id, &last_hash, Some(b)));
            let (Some(prev_hash), Some(stored)) = (r.10.as_deref(), r.11.as_deref()) else {
                return broken(Break::NoHash { id });
            };
            if hash(prev_hash, &content(r)) != stored {
                return broken(Break::Altered { id });
            }
            if prev_hash != last_hash {
                return broken(if before_last.as_deref() == Some(prev_hash) {
                    Break::Inserted { id: last_id }
                } else {
                    Break::Missing { after: last_id, id }
                });
            }
            if id > head_id {
                // Chained by hand onto the last row the program wrote.
                return broken(Break::Inserted { id });
            }
            if let Some(previous_at) = &last_at {
                if back_dated(previous_at, &r.1) {
                    return broken(Break::BackDated {
                        id,
                        at: r.1.clone(),
                        previous_at: previous_at.clone(),
                    });
                }
            }
            count += 1;
            before_last = Some(std::mem::replace(&mut last_hash, stored.to_string()));
            last_id = id;
            last_at = Some(r.1.clone());
        }
    }
    let broken = if head_id > last_id {
        Some(Break::MissingAtEnd {
            after: last_id,
            id: head_id,
        })
    } else if head_hash != last_hash {
        Some(Break::HeadMismatch { id: last_id })
    } else {
        None
    };
    Ok(verdict(count, last_id, &last_hash, broken))
}

/// A stored time as China time with seconds ("2026-11-29 17:35:21").
pub fn china_time(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|t| {
            t.with_timezone(&crate::domain::time::CHINA)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| stored.to_string())
}

/// `at` lies before `previous` by more than [`AT_TOLERANCE_SECONDS`]; times
/// that cannot be read are not judged here (their hash is what counts).
fn back_dated(previous: &str, at: &str) -> bool {
    let read = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (read(previous), read(at)) {
        (Some(p), Some(a)) => (p - a).num_seconds() > AT_TOLERANCE_SECONDS,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(id: i64, username: &'a str, after: Option<&'a str>) -> Content<'a> {
        Content {
            id,
            at: "2026-11-29T09:35:21Z",
            user_id: Some(1),
            username,
            action: "update",
            entity: "plot",
            entity_id: Some(7),
            before_json: None,
            after_json: after,
            client_addr: Some("127.0.0.1"),
        }
    }

    #[test]
    fn the_encoding_keeps_field_boundaries() {
        // The same characters split differently between fields hash differently.
        let a = row(1, "ab", Some("c"));
        let b = row(1, "a", Some("bc"));
        assert_ne!(encode(GENESIS, &a), encode(GENESIS, &b));
        // An absent value is not an empty one.
        assert_ne!(
            encode(GENESIS, &row(1, "x", None)),
            encode(GENESIS, &row(1, "x", Some("")))
        );
        assert_ne!(hash(GENESIS, &a), hash("1", &a));
        assert_ne!(hash(GENESIS, &a), hash(GENESIS, &row(2, "ab", Some("c"))));
        assert_eq!(hash(GENESIS, &a).len(), 64);
        assert_eq!(hash(GENESIS, &a), hash(GENESIS, &row(1, "ab", Some("c"))));
    }

    #[test]
    fn a_time_more_than_the_tolerance_earlier_is_back_dated() {
        assert!(!back_dated("2026-11-29T09:35:21Z", "2026-11-29T09:35:21Z"));
        assert!(!back_dated("2026-11-29T09:35:21Z", "2026-11-29T09:30:21Z"));
        assert!(back_dated("2026-11-29T09:35:21Z", "2026-11-29T09:30:20Z"));
        assert!(!back_dated("2026-11-29T09:35:21Z", "2027-01-01T00:00:00Z"));
        assert!(!back_dated("2026-11-29T09:35:21Z", "not a time"));
    }
}
