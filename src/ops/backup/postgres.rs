//! PostgreSQL: `pg_dump --format=custom` of the snapshot the table hashes
//! were read in, and `pg_restore` into an empty database.

use super::digest;
use super::manifest::TableDigest;
use crate::db::{self, DbConn};
use crate::error::{AppError, ErrorCode};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pg_dump` or `pg_restore`: on the PATH, else the newest under
/// /usr/lib/postgresql/*/bin (Debian installs them there), else an error
/// saying what to install.
pub fn tool(name: &str) -> Result<PathBuf, AppError> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((version, p))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).ok_or_else(|| {
        AppError::invalid(
            "database_url",
            ErrorCode::BackupToolMissing,
            format!(
                "未找到{name}：PostgreSQL数据库的备份和恢复需要它。请安装与数据库服务器同版本或更新的postgresql-client（如 apt-get install postgresql-client），或把它所在的目录加入PATH"
            ),
        )
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL without its password, and the password: the tools get it through
/// PGPASSWORD, not on a command line every user can read.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}://{user}@{host}{tail}"),
            Some(percent_decode(password)),
        ),
        None => (url.to_string(), None),
    }
}

/// The same server and role, another database.
pub fn with_database(url: &str, name: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |q| tail.split_at(q).1);
    Some(format!("{scheme}://{authority}/{name}{query}"))
}

/// The database name in a URL.
pub fn database_name(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let path = rest.split_once('/')?.1;
    let name = path.split('?').next()?;
    (!name.is_empty()).then(|| percent_decode(name))
}

fn command(tool: &Path, url: &str) -> (Command, String) {
    let (plain, password) = split_password(url);
    let mut cmd = Command::new(tool);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    (cmd, plain)
}

fn internal(what: &str) -> impl Fn(diesel::result::Error) -> AppError + '_ {
    move |e| AppError::Internal(format!("{what}：{e}"))
}

/// What a dump holds besides its file: the table digests and the schema
/// version, read in the very snapshot `pg_dump` copied.
pub struct Dumped {
    pub tables: BTreeMap<String, TableDigest>,
    pub schema_version: String,
    pub photos: super::manifest::PhotoSummary,
}

/// Dump the database at `url` into `file` while hashing every table in the
/// same snapshot: one repeatable-read transaction exports its snapshot,
/// `pg_dump --snapshot` copies exactly that, and the hashes are read inside
/// it while the dump runs.
pub fn dump(
    url: &str,
    file: &Path,
    progress: &mut dyn FnMut(u64, u64, &str),
) -> Result<Dumped, AppError> {
    let pg_dump = tool("pg_dump")?;
    let mut conn =
        db::establish(url).map_err(|e| AppError::Internal(format!("无法连接数据库：{e}")))?;
    conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .map_err(internal("开始读事务失败"))?;
    let result = dump_in_snapshot(&mut conn, &pg_dump, url, file, progress);
    // Read only: ending it either way changes nothing.
    let _ = conn.batch_execute("ROLLBACK");
    result
}

#[derive(QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn dump_in_snapshot(
    conn: &mut DbConn,
    pg_dump: &Path,
    url: &str,
    file: &Path,
    progress: &mut dyn FnMut(u64, u64, &str),
) -> Result<Dumped, AppError> {
    let snapshot = diesel::sql_query("SELECT pg_export_snapshot() AS id")
        .get_result::<Snapshot>(conn)
        .map_err(internal("导出快照失败"))?
        .id;
    let log_path = file.with_extension("log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| AppError::Internal(format!("无法写入{}：{e}", log_path.display())))?;
    let (mut cmd, plain) = command(pg_dump, url);
    let mut child = cmd
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(file)
        .arg("--dbname")
        .arg(&plain)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| AppError::Internal(format!("无法运行{}：{e}", pg_dump.display())))?;
    let read = (|| -> Result<Dumped, AppError> {
        let tables = digest::all(conn, progress).map_err(AppError::Internal)?;
        let schema_version =
            digest::schema_version(conn).map_err(internal("读取数据库版本失败"))?;
        let photos = super::photos::in_database(conn).map_err(AppError::Internal)?;
        Ok(Dumped {
            tables,
            schema_version,
            photos,
        })
    })();
    let status = child
        .wait()
        .map_err(|e| AppError::Internal(format!("等待pg_dump失败：{e}")))?;
    let said = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    if !status.success() {
        return Err(AppError::Internal(format!(
            "pg_dump失败（{status}）：{}",
            said.trim()
        )));
    }
    read
}

/// Whether the database at `url` can be reached and holds no table.
/// Refuses (exit 2) a database that holds any.
pub fn check_empty(url: &str) -> Result<(), AppError> {
    let mut conn = db::establish(url).map_err(|e| {
        let name = database_name(url).unwrap_or_else(|| "guobao".into());
        AppError::invalid(
            "database_url",
            ErrorCode::BackupInvalid,
            format!(
                "无法连接恢复目标数据库：{e}。请先建一个空数据库（如 createdb {name}），再恢复到它"
            ),
        )
    })?;
    if digest::any_table(&mut conn).map_err(internal("检查目标数据库失败"))? {
        return Err(AppError::invalid(
            "database_url",
            ErrorCode::RestoreTargetNotEmpty,
            "恢复目标数据库不是空的（已有数据表），为免覆盖现有数据，未写入任何内容。请恢复到新建的空数据库",
        ));
    }
    Ok(())
}

/// Load `file` into the (checked empty) database at `url` in one transaction.
pub fn restore(file: &Path, url: &str) -> Result<(), AppError> {
    let pg_restore = tool("pg_restore")?;
    let (mut cmd, plain) = command(&pg_restore, url);
    let out = cmd
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
        ])
        .arg("--dbname")
        .arg(&plain)
        .arg(file)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| AppError::Internal(format!("无法运行{}：{e}", pg_restore.display())))?;
    if !out.status.success() {
        return Err(AppError::Internal(format!(
            "pg_restore失败（{}）：{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A scratch database beside the one at `url` (same server and role), for
/// the restore test; dropped by [`drop_scratch`].
pub fn create_scratch(url: &str, name: &str) -> Result<String, AppError> {
    let scratch = with_database(url, name)
        .ok_or_else(|| AppError::Internal(format!("无法从连接地址得出临时库地址：{name}")))?;
    let mut conn =
        db::establish(url).map_err(|e| AppError::Internal(format!("无法连接数据库：{e}")))?;
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .map_err(|e| {
            AppError::Internal(format!(
                "无法建立恢复校验用的临时数据库{name}（数据库账号需要CREATEDB权限）：{e}"
            ))
        })?;
    Ok(scratch)
}

pub fn drop_scratch(url: &str, name: &str) -> Result<(), AppError> {
    let mut conn =
        db::establish(url).map_err(|e| AppError::Internal(format!("无法连接数据库：{e}")))?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .map_err(internal("删除临时数据库失败"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_and_is_decoded() {
        assert_eq!(
            split_password("postgres://guobao:p%40ss:w@db.local:5432/guobao?sslmode=require"),
            (
                "postgres://guobao@db.local:5432/guobao?sslmode=require".to_string(),
                Some("p@ss:w".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://postgres@127.0.0.1:5432/x".to_string(), None)
        );
        assert_eq!(
            split_password("postgres://127.0.0.1/x"),
            ("postgres://127.0.0.1/x".to_string(), None)
        );
    }

    #[test]
    fn another_database_on_the_same_server() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/guobao?sslmode=require", "scratch").as_deref(),
            Some("postgres://u:p@h:5432/scratch?sslmode=require")
        );
        assert_eq!(
            with_database("postgres://u@h", "scratch").as_deref(),
            Some("postgres://u@h/scratch")
        );
        assert_eq!(
            database_name("postgres://u@h:1/guo%62ao?x=1").as_deref(),
            Some("guobao")
        );
        assert_eq!(database_name("postgres://u@h"), None);
    }
}
