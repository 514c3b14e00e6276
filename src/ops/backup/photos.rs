//! The photos a backup holds.
//!
//! Photo rows (hash, type, size) are in the database; their bytes are
//! objects in the content-addressed `PhotoStore` (or, for photos not yet
//! moved out, still in their row, which the database copy carries).
//! `copy_objects` copies each object the store lists into
//! `<root>/objects/<first two hex>/<sha256>` unless it is already there
//! (those counted as `new`), so a nightly backup copies only the day's
//! photos; `restore_objects` puts them back into an empty store.

use super::manifest::PhotoSummary;
use crate::db::DbConn;
use crate::photo_store::{checked_hash, hash_of, PhotoStore};
use diesel::prelude::*;
use std::path::Path;

/// Tables that hold photo bytes today, each with its size column.
const PHOTO_TABLES: [&str; 3] = ["claim_photos", "notice_photos", "inspection_photos"];

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

/// Count and size of the photos held in the database `conn` reads.
pub fn in_database(conn: &mut DbConn) -> Result<PhotoSummary, String> {
    let present = super::digest::tables(conn).map_err(|e| format!("读取表清单失败：{e}"))?;
    let mut out = PhotoSummary::default();
    for table in PHOTO_TABLES
        .iter()
        .filter(|t| present.iter().any(|p| p == *t))
    {
        let s: Sum = diesel::sql_query(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) AS bytes FROM {table}"
        ))
        .get_result(conn)
        .map_err(|e| format!("统计照片失败：{e}"))?;
        out.count += u64::try_from(s.n).unwrap_or(0);
        out.bytes += u64::try_from(s.bytes).unwrap_or(0);
    }
    Ok(out)
}

/// Where a photo object sits in a backup root: `objects/<2 hex>/<64 hex>`,
/// shared by every backup under that root.
fn object_path(root: &Path, hash: &str) -> std::path::PathBuf {
    root.join("objects")
        .join(hash.get(..2).unwrap_or("00"))
        .join(hash)
}

/// Copy the store's photo objects not yet under `<root>/objects` (each
/// checked against its hash, written under a temporary name and renamed);
/// returns how many were new.
pub fn copy_objects(root: &Path, store: Option<&PhotoStore>) -> Result<u64, String> {
    let Some(store) = store else { return Ok(0) };
    let b = store.blocking()?;
    let mut new = 0;
    for hash in b.list().map_err(|e| e.0)? {
        let Some(hash) = checked_hash(&hash).map(str::to_string) else {
            continue;
        };
        let path = object_path(root, &hash);
        if path.exists() {
            continue;
        }
        let bytes = b
            .get(&hash)
            .map_err(|e| e.0)?
            .ok_or_else(|| format!("照片{hash}在照片库中列出却读不到"))?;
        if hash_of(&bytes) != hash {
            return Err(format!("照片库中的{hash}内容与其SHA-256不符，备份中止"));
        }
        let dir = path.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(|e| format!("无法创建{}：{e}", dir.display()))?;
        let tmp = dir.join(format!(".{hash}.partial"));
        std::fs::write(&tmp, &bytes).map_err(|e| format!("无法写入{}：{e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("无法写入{}：{e}", path.display()))?;
        new += 1;
    }
    Ok(new)
}

/// True when the store holds no photo (a restore fills only an empty one).
pub fn store_is_empty(store: &PhotoStore) -> Result<bool, String> {
    Ok(store.blocking()?.list().map_err(|e| e.0)?.is_empty())
}

/// Put a backup root's photo objects into `store`, each checked against
/// its hash; returns how many.
pub fn restore_objects(root: &Path, store: Option<&PhotoStore>) -> Result<u64, String> {
    let Some(store) = store else { return Ok(0) };
    let objects = root.join("objects");
    if !objects.is_dir() {
        return Ok(0);
    }
    let b = store.blocking()?;
    let mut n = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&objects)
        .map_err(|e| format!("无法读取{}：{e}", objects.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("无法读取{}：{e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            let Some(hash) = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(checked_hash)
                .map(str::to_string)
            else {
                continue;
            };
            let bytes =
                std::fs::read(&file).map_err(|e| format!("无法读取{}：{e}", file.display()))?;
            if hash_of(&bytes) != hash {
                return Err(format!("备份中的照片{hash}已损坏（内容与SHA-256不符）"));
            }
            b.put(&bytes).map_err(|e| e.0)?;
            n += 1;
        }
    }
    Ok(n)
}
