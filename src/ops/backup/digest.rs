//! A content hash per table that SQLite and PostgreSQL compute alike for
//! the same data, so a backup's manifest can be checked against a restored
//! database of either kind.
//!
//! The canonical dump of a table is its column names (sorted) as a JSON
//! array on the first line, then one compact JSON array per row, values in
//! that column order, rows in primary-key order (byte order for text keys):
//! integers as numbers, text as strings, booleans as 0/1, binary as
//! lower-case hex, NULL as null. Each database builds the JSON array itself
//! (`json_array` / `json_build_array`); Rust parses it and writes it back
//! compactly, so the two databases' spacing and escaping do not matter.

use super::manifest::TableDigest;
use crate::db::{backend, Backend, DbConn};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Rows read per query (keyset pages on an integer key).
const PAGE: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Blob,
    Text,
}

impl Kind {
    fn of(declared: &str) -> Kind {
        let t = declared.to_ascii_lowercase();
        if t.contains("bool") {
            Kind::Bool
        } else if t.contains("int") || t.contains("serial") {
            Kind::Int
        } else if t.contains("blob") || t.contains("bytea") {
            Kind::Blob
        } else {
            Kind::Text
        }
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    /// Position in the primary key, 1-based; 0 when not part of it.
    key: i32,
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Integer)]
    key: i32,
}

#[derive(QueryableByName)]
struct DumpRow {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = Text)]
    r: String,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    version: Option<String>,
}

/// A double-quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The application's tables, in byte order of their names: everything but
/// the databases' own and diesel's migration bookkeeping.
pub fn tables(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let sql = match backend(conn) {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let mut names: Vec<String> = diesel::sql_query(sql)
        .load::<NameRow>(conn)?
        .into_iter()
        .map(|r| r.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The latest migration applied, or "" when none is.
pub fn schema_version(conn: &mut DbConn) -> QueryResult<String> {
    let has = tables_named(conn, "__diesel_schema_migrations")?;
    if !has {
        return Ok(String::new());
    }
    Ok(
        diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations")
            .get_result::<VersionRow>(conn)?
            .version
            .unwrap_or_default(),
    )
}

fn tables_named(conn: &mut DbConn, name: &str) -> QueryResult<bool> {
    let sql = match backend(conn) {
        Backend::Sqlite => format!(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = {}",
            literal(name)
        ),
        Backend::Postgres => format!(
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = {}",
            literal(name)
        ),
    };
    Ok(!diesel::sql_query(sql).load::<NameRow>(conn)?.is_empty())
}

/// Tables of any kind in the database (the emptiness test of a restore
/// target): diesel's bookkeeping counts too.
pub fn any_table(conn: &mut DbConn) -> QueryResult<bool> {
    let sql = match backend(conn) {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') LIMIT 1"
        }
    };
    Ok(!diesel::sql_query(sql).load::<NameRow>(conn)?.is_empty())
}

fn columns(conn: &mut DbConn, table: &str) -> QueryResult<Vec<Column>> {
    let sql = match backend(conn) {
        Backend::Sqlite => format!(
            "SELECT name, type AS declared, pk AS key FROM pragma_table_info({})",
            literal(table)
        ),
        Backend::Postgres => format!(
            "SELECT c.column_name::text AS name, c.data_type::text AS declared, \
             COALESCE((SELECT k.ordinal_position::int \
               FROM information_schema.table_constraints t \
               JOIN information_schema.key_column_usage k \
                 ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema \
                AND k.table_name = t.table_name \
              WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema \
                AND t.table_name = c.table_name AND k.column_name = c.column_name), 0) AS key \
             FROM information_schema.columns c \
             WHERE c.table_schema = current_schema() AND c.table_name = {}",
            literal(table)
        ),
    };
    let mut cols: Vec<Column> = diesel::sql_query(sql)
        .load::<ColumnRow>(conn)?
        .into_iter()
        .map(|r| Column {
            kind: Kind::of(&r.declared),
            name: r.name,
            key: r.key,
        })
        .collect();
    cols.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cols)
}

/// The SQL expression for one column's value inside the JSON array.
fn value_sql(col: &Column, backend: Backend) -> String {
    let c = ident(&col.name);
    match (col.kind, backend) {
        (Kind::Bool, _) => {
            format!("CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 1 ELSE 0 END")
        }
        (Kind::Blob, Backend::Sqlite) => {
            format!("CASE WHEN {c} IS NULL THEN NULL ELSE lower(hex({c})) END")
        }
        (Kind::Blob, Backend::Postgres) => format!("encode({c}, 'hex')"),
        (Kind::Int | Kind::Text, _) => c,
    }
}

/// `ORDER BY` terms: the primary key, else every column; text in byte
/// order on both databases, NULLs first.
fn order_sql(cols: &[Column], backend: Backend) -> String {
    let mut key: Vec<&Column> = cols.iter().filter(|c| c.key > 0).collect();
    key.sort_by_key(|c| c.key);
    if key.is_empty() {
        key = cols.iter().collect();
    }
    key.iter()
        .map(|c| {
            let collate = match (c.kind, backend) {
                (Kind::Text, Backend::Postgres) => " COLLATE \"C\"",
                _ => "",
            };
            format!("{}{collate} ASC NULLS FIRST", ident(&c.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row as the database wrote it, in canonical form: parsed and written
/// back compactly; a number in a text column (SQLite's loose typing)
/// becomes its text.
fn canonical(row: &str, cols: &[Column]) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(row).map_err(|e| format!("行数据无法解析：{e}"))?;
    let serde_json::Value::Array(values) = v else {
        return Err("行数据不是数组".into());
    };
    let values: Vec<serde_json::Value> = values
        .into_iter()
        .zip(cols)
        .map(|(v, c)| match (c.kind, v) {
            (Kind::Text, serde_json::Value::Number(n)) => serde_json::Value::String(n.to_string()),
            (_, v) => v,
        })
        .collect();
    serde_json::to_string(&values).map_err(|e| e.to_string())
}

/// One table's row count and hash.
pub fn table(conn: &mut DbConn, table: &str) -> Result<TableDigest, String> {
    let be = backend(conn);
    let cols = columns(conn, table).map_err(|e| format!("读取表{table}的列失败：{e}"))?;
    let mut hash = Sha256::new();
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    hash.update(serde_json::to_string(&names).map_err(|e| e.to_string())?);
    hash.update(b"\n");
    let array = match be {
        Backend::Sqlite => "json_array",
        Backend::Postgres => "json_build_array",
    };
    let values: Vec<String> = cols.iter().map(|c| value_sql(c, be)).collect();
    let row_sql = match be {
        Backend::Sqlite => format!("{array}({})", values.join(", ")),
        Backend::Postgres => format!("{array}({})::text", values.join(", ")),
    };
    let keys: Vec<&Column> = cols.iter().filter(|c| c.key > 0).collect();
    let int_key = match keys.as_slice() {
        [k] if k.kind == Kind::Int => Some(ident(&k.name)),
        _ => None,
    };
    let mut rows = 0u64;
    let mut feed = |batch: &[DumpRow], hash: &mut Sha256| -> Result<(), String> {
        for r in batch {
            hash.update(canonical(&r.r, &cols)?);
            hash.update(b"\n");
            rows += 1;
        }
        Ok(())
    };
    let read_err = |e: diesel::result::Error| format!("读取表{table}失败：{e}");
    match int_key {
        Some(k) => {
            let mut after: Option<i64> = None;
            loop {
                let filter = after.map_or(String::new(), |a| format!(" WHERE {k} > {a}"));
                let sql = format!(
                    "SELECT CAST({k} AS BIGINT) AS k, {row_sql} AS r FROM {}{filter} \
                     ORDER BY {k} LIMIT {PAGE}",
                    ident(table)
                );
                let batch = diesel::sql_query(sql)
                    .load::<DumpRow>(conn)
                    .map_err(read_err)?;
                feed(&batch, &mut hash)?;
                match batch.last() {
                    Some(last) if batch.len() as i64 == PAGE => after = Some(last.k),
                    _ => break,
                }
            }
        }
        None => {
            let sql = format!(
                "SELECT CAST(0 AS BIGINT) AS k, {row_sql} AS r FROM {} ORDER BY {}",
                ident(table),
                order_sql(&cols, be)
            );
            let batch = diesel::sql_query(sql)
                .load::<DumpRow>(conn)
                .map_err(read_err)?;
            feed(&batch, &mut hash)?;
        }
    }
    Ok(TableDigest {
        rows,
        sha256: hex::encode(hash.finalize()),
    })
}

/// Every application table's digest; `progress(done, total, table)` after each.
pub fn all(
    conn: &mut DbConn,
    progress: &mut dyn FnMut(u64, u64, &str),
) -> Result<BTreeMap<String, TableDigest>, String> {
    let names = tables(conn).map_err(|e| format!("读取表清单失败：{e}"))?;
    let total = names.len() as u64;
    let mut out = BTreeMap::new();
    for (i, name) in names.into_iter().enumerate() {
        let d = table(conn, &name)?;
        progress(i as u64 + 1, total, &name);
        out.insert(name, d);
    }
    Ok(out)
}

/// The differences between what a manifest says and what a database holds,
/// one Chinese line each; empty when they agree.
pub fn compare(
    expected: &BTreeMap<String, TableDigest>,
    found: &BTreeMap<String, TableDigest>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, want) in expected {
        match found.get(name) {
            None => out.push(format!("缺少表{name}")),
            Some(got) if got.rows != want.rows => {
                out.push(format!("表{name}：应有{}行，实有{}行", want.rows, got.rows))
            }
            Some(got) if got.sha256 != want.sha256 => {
                out.push(format!("表{name}：行数相同（{}行）但内容不同", got.rows))
            }
            Some(_) => {}
        }
    }
    for name in found.keys().filter(|n| !expected.contains_key(*n)) {
        out.push(format!("多出表{name}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds_on_both_databases() {
        for (t, k) in [
            ("BIGINT", Kind::Int),
            ("INTEGER", Kind::Int),
            ("bigint", Kind::Int),
            ("integer", Kind::Int),
            ("BOOLEAN", Kind::Bool),
            ("boolean", Kind::Bool),
            ("BLOB", Kind::Blob),
            ("bytea", Kind::Blob),
            ("TEXT", Kind::Text),
            ("text", Kind::Text),
            ("character varying", Kind::Text),
        ] {
            assert_eq!(Kind::of(t), k, "{t}");
        }
    }

    #[test]
    fn rows_are_canonical_whatever_the_spacing_and_escaping() {
        let cols = vec![
            Column {
                name: "a".into(),
                kind: Kind::Int,
                key: 1,
            },
            Column {
                name: "b".into(),
                kind: Kind::Text,
                key: 0,
            },
            Column {
                name: "c".into(),
                kind: Kind::Text,
                key: 0,
            },
        ];
        let pg = canonical(r#"[1, "\u679c\u4fdd", null]"#, &cols).unwrap();
        let sqlite = canonical(r#"[1,"果保",null]"#, &cols).unwrap();
        assert_eq!(pg, sqlite);
        assert_eq!(sqlite, r#"[1,"果保",null]"#);
        // SQLite may hand a number back from a text column.
        assert_eq!(
            canonical(r#"[1,12,"x"]"#, &cols).unwrap(),
            r#"[1,"12","x"]"#
        );
    }

    #[test]
    fn differences_name_the_table_and_what_differs() {
        let d = |rows, h: &str| TableDigest {
            rows,
            sha256: h.into(),
        };
        let want = BTreeMap::from([("a".to_string(), d(1, "x")), ("b".to_string(), d(2, "y"))]);
        assert!(compare(&want, &want).is_empty());
        let got = BTreeMap::from([("a".to_string(), d(1, "z")), ("c".to_string(), d(0, "w"))]);
        let diff = compare(&want, &got);
        assert_eq!(diff.len(), 3, "{diff:?}");
        assert!(diff
            .iter()
            .any(|l| l.contains("表a") && l.contains("内容不同")));
        assert!(diff.iter().any(|l| l.contains("缺少表b")));
        assert!(diff.iter().any(|l| l.contains("多出表c")));
    }
}
