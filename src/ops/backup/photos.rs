//! The photos a backup holds.
//!
//! Today every survey, notice and inspection photo is a BLOB in its table,
//! so the database copy already carries them and the table hashes cover
//! their bytes; this module only counts them for the manifest.
//!
//! TODO(issue 15 item 1, branch s10-photos): when photos move to the
//! content-addressed `PhotoStore`, `copy_objects` copies each object the
//! store lists into `<root>/objects/<first two hex>/<sha256>` unless it is
//! already there (counting those as `new`), and `restore_objects` puts them
//! back with `PhotoStore::put`, refusing a store that already holds any.
//! Nothing else in the backup changes: the manifest's `photos` keeps its
//! shape, and the database part stays as it is.

use super::manifest::PhotoSummary;
use crate::db::DbConn;
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

/// Copy the photo objects not yet under `<root>/objects`; returns how many
/// were new. No photo lives outside the database yet (see the module note).
pub fn copy_objects(_root: &Path) -> Result<u64, String> {
    Ok(0)
}

/// Put a backup's photo objects into the photo store at `store`. No photo
/// lives outside the database yet (see the module note).
pub fn restore_objects(_root: &Path, _store: Option<&Path>) -> Result<u64, String> {
    Ok(0)
}
