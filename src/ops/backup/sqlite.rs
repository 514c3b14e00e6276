//! SQLite: `VACUUM INTO` a new file (one read transaction, so a consistent
//! copy while the server writes), the table hashes read from that copy, and
//! a restore that copies the file into place under a temporary name.

use super::digest;
use super::manifest::{sync_dir, PhotoSummary, TableDigest};
use crate::db::{self, DbConn};
use crate::error::{AppError, ErrorCode};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file a SQLite URL names.
pub fn path_of(url: &str) -> PathBuf {
    PathBuf::from(db::sqlite_path(url))
}

/// Open `path` read-only (nothing is written to it, not even the journal
/// mode that our usual connection sets).
pub fn open_read_only(path: &Path) -> Result<DbConn, AppError> {
    let mut text = String::new();
    for ch in path.to_string_lossy().chars() {
        match ch {
            '%' => text.push_str("%25"),
            '?' => text.push_str("%3f"),
            '#' => text.push_str("%23"),
            c => text.push(c),
        }
    }
    diesel::SqliteConnection::establish(&format!("file:{text}?mode=ro"))
        .map(DbConn::Sqlite)
        .map_err(|e| AppError::Internal(format!("无法打开{}：{e}", path.display())))
}

pub struct Copied {
    pub tables: BTreeMap<String, TableDigest>,
    pub schema_version: String,
    pub photos: PhotoSummary,
}

/// Copy the database at `url` into `file` and read the copy's digests.
pub fn copy(
    url: &str,
    file: &Path,
    progress: &mut dyn FnMut(u64, u64, &str),
) -> Result<Copied, AppError> {
    let source = path_of(url);
    if !source.is_file() {
        return Err(AppError::invalid(
            "database_url",
            ErrorCode::BackupInvalid,
            format!("数据库文件不存在：{}", source.display()),
        ));
    }
    let mut conn =
        db::establish(url).map_err(|e| AppError::Internal(format!("无法打开数据库：{e}")))?;
    let target = file.to_string_lossy().replace('\'', "''");
    conn.batch_execute(&format!("VACUUM INTO '{target}'"))
        .map_err(|e| AppError::Internal(format!("复制数据库失败（VACUUM INTO）：{e}")))?;
    drop(conn);
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .map_err(|e| AppError::Internal(format!("无法写入{}：{e}", file.display())))?;
    read(file, progress)
}

/// The digests, schema version and photos of the SQLite file at `file`.
pub fn read(file: &Path, progress: &mut dyn FnMut(u64, u64, &str)) -> Result<Copied, AppError> {
    let mut copy = open_read_only(file)?;
    let tables = digest::all(&mut copy, progress).map_err(AppError::Internal)?;
    let schema_version = digest::schema_version(&mut copy)
        .map_err(|e| AppError::Internal(format!("读取数据库版本失败：{e}")))?;
    let photos = super::photos::in_database(&mut copy).map_err(AppError::Internal)?;
    Ok(Copied {
        tables,
        schema_version,
        photos,
    })
}

fn side_files(path: &Path) -> [PathBuf; 2] {
    let name = path.as_os_str().to_owned();
    let with = |suffix: &str| {
        let mut n = name.clone();
        n.push(suffix);
        PathBuf::from(n)
    };
    [with("-wal"), with("-shm")]
}

/// Refuse a target that holds a database with any table (exit 2, nothing
/// written). A missing file or an empty one is fine.
pub fn check_empty(url: &str) -> Result<(), AppError> {
    let path = path_of(url);
    let not_empty = || {
        AppError::invalid(
            "database_url",
            ErrorCode::RestoreTargetNotEmpty,
            format!(
                "恢复目标{}不是空数据库（已有数据表），为免覆盖现有数据，未写入任何内容。请指定一个尚不存在的文件",
                path.display()
            ),
        )
    };
    let [wal, _] = side_files(&path);
    if wal.metadata().is_ok_and(|m| m.len() > 0) {
        return Err(not_empty());
    }
    match path.metadata() {
        Err(_) => {}
        Ok(m) if m.is_dir() => {
            return Err(AppError::invalid(
                "database_url",
                ErrorCode::BackupInvalid,
                format!("恢复目标{}是一个目录，不是数据库文件", path.display()),
            ))
        }
        Ok(m) if m.len() == 0 => {}
        Ok(_) => {
            let mut conn = open_read_only(&path).map_err(|_| not_empty())?;
            // A file that is not a database at all is not empty either.
            if digest::any_table(&mut conn).unwrap_or(true) {
                return Err(not_empty());
            }
        }
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(AppError::invalid(
                "database_url",
                ErrorCode::BackupInvalid,
                format!("恢复目标所在的目录不存在：{}", parent.display()),
            ));
        }
    }
    Ok(())
}

/// Put the backup's file in place at `url`'s path: copied under a temporary
/// name beside it, synced, then renamed, so the target is whole or absent.
pub fn restore(file: &Path, url: &str) -> Result<(), AppError> {
    let path = path_of(url);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".restoring-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let io = |e: std::io::Error| AppError::Internal(format!("无法写入{}：{e}", path.display()));
    std::fs::copy(file, &tmp).map_err(io)?;
    let done = std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .and_then(|()| {
            for side in side_files(&path) {
                if side.exists() {
                    std::fs::remove_file(side)?;
                }
            }
            std::fs::rename(&tmp, &path)
        });
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent).map_err(io)?;
    }
    Ok(())
}
