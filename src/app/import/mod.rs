//! Township roster import: preview (dry run) first, then commit all accepted
//! rows in one transaction. Re-uploading the same file changes nothing:
//! growers are keyed on ID number (per scheme year), plots on plot code.

use super::{Actor, Phases};
use crate::db::schema::roster_uploads;
use crate::db::{now_text, DbConn};
use crate::domain::Reason;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::excel::read::{read_roster, Field, RawRow, ReadOptions, Roster};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

mod context;
mod plan;
mod report;
mod row;
mod write;

pub use report::error_rows;

use context::load_context;
use plan::analyse;
use report::report;
use write::write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    New,
    Changed,
    Unchanged,
    Rejected,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::New => "新增",
            Outcome::Changed => "变更",
            Outcome::Unchanged => "无变化",
            Outcome::Rejected => "拒收",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RowProblem {
    /// Excel column letter, empty when the problem is about the whole row.
    pub column: String,
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub row: usize,
    pub outcome: Outcome,
    pub grower_name: String,
    pub id_number: String,
    pub plot_code: String,
    /// Accepted rows only: the plot's eligibility verdict.
    pub eligible: Option<bool>,
    pub reasons: Vec<Reason>,
    pub problems: Vec<RowProblem>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub rows: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub ineligible: usize,
    pub rejected: usize,
    pub new_growers: usize,
    pub changed_growers: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub upload_id: Option<i64>,
    pub committed: bool,
    pub township: String,
    pub scheme: String,
    pub sheet: String,
    pub sheets: Vec<String>,
    pub header_row: usize,
    pub counts: Counts,
    pub skipped_rows: Vec<(usize, String)>,
    pub rows: Vec<RowResult>,
    #[serde(skip)]
    pub headers: Vec<String>,
    #[serde(skip)]
    pub originals: HashMap<usize, Vec<String>>,
    #[serde(skip)]
    pub columns: Vec<(Field, String)>,
    /// Time per phase (commit only; empty for a preview).
    #[serde(skip)]
    pub phases: Vec<(&'static str, std::time::Duration)>,
}

pub struct ImportRequest<'a> {
    pub township_code: &'a str,
    pub scheme: &'a str,
    pub filename: &'a str,
    pub bytes: &'a [u8],
    pub options: ReadOptions,
}

fn read(bytes: &[u8], options: &ReadOptions) -> AppResult<Roster> {
    let mut roster = read_roster(bytes, options)
        .map_err(|e| AppError::invalid("file", e.code(), e.to_string()))?;
    // The template's example row (张三) is not a grower.
    let example = crate::excel::write::EXAMPLE_ID_NUMBER;
    let (examples, rows): (Vec<RawRow>, Vec<RawRow>) = roster
        .rows
        .into_iter()
        .partition(|r| r.cells.get(&Field::IdNumber).map(String::as_str) == Some(example));
    roster.rows = rows;
    roster
        .skipped_rows
        .extend(examples.iter().map(|r| (r.row, "example")));
    roster.skipped_rows.sort_unstable();
    Ok(roster)
}

/// Read and check a roster without writing anything (the preview / dry run).
pub fn preview(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    checked(conn, actor, req).map(|(rep, _)| rep)
}

/// The preview, and the township and scheme ids it was checked against.
fn checked(
    conn: &mut DbConn,
    actor: &Actor,
    req: &ImportRequest,
) -> AppResult<(ImportReport, (i64, i64))> {
    actor.require(actor.can_edit_enrollment())?;
    let roster = read(req.bytes, &req.options)?;
    let ctx = load_context(conn, actor, req.township_code, req.scheme)?;
    let (results, _, counts) = analyse(&ctx, &roster);
    let rep = report(&ctx, &roster, results, counts, None, false);
    Ok((rep, (ctx.township.id, ctx.scheme.id)))
}

/// Keep an uploaded file for a later commit; returns the preview with its id.
pub fn stage(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    let (mut rep, (township_id, scheme_id)) = checked(conn, actor, req)?;
    let id: i64 = diesel::insert_into(roster_uploads::table)
        .values((
            roster_uploads::township_id.eq(township_id),
            roster_uploads::scheme_id.eq(scheme_id),
            roster_uploads::user_id.eq((actor.user_id > 0).then_some(actor.user_id)),
            roster_uploads::filename.eq(req.filename),
            roster_uploads::sha256.eq(hex::encode(Sha256::digest(req.bytes))),
            roster_uploads::content.eq(req.bytes),
            roster_uploads::status.eq("previewed"),
            roster_uploads::summary.eq(serde_json::to_string(&rep.counts).unwrap_or_default()),
            roster_uploads::created_at.eq(now_text()),
        ))
        .returning(roster_uploads::id)
        .get_result(conn)?;
    rep.upload_id = Some(id);
    Ok(rep)
}

/// Write every accepted row in one transaction; rejected rows are not written.
pub fn commit(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    actor.require(actor.can_edit_enrollment())?;
    let mut phases = Phases::default();
    let mut roster = Some(read(req.bytes, &req.options)?);
    phases.lap("read");
    let sqlite = crate::db::backend(conn) == crate::db::Backend::Sqlite;
    if sqlite {
        // A large import touches far more pages than SQLite's default 2 MB
        // page cache holds; it would spill them to the WAL mid-transaction.
        conn.batch_execute(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
    }
    let result = super::tx(conn, |conn| {
        let ctx = load_context(conn, actor, req.township_code, req.scheme)?;
        phases.lap("load existing");
        let roster = roster
            .take()
            .ok_or_else(|| AppError::Internal("花名册已被读取过一次".into()))?;
        let (results, planned, counts) = analyse(&ctx, &roster);
        phases.lap("validate + eligibility");
        // The report is complete before anything is written; the roster's
        // rows are not needed any more.
        let rep = report(&ctx, &roster, results, counts, None, true);
        drop(roster);
        phases.lap("report");
        write(conn, actor, &ctx, planned, (req, &rep.counts), &mut phases)?;
        Ok(rep)
    });
    phases.lap("commit");
    if sqlite {
        conn.batch_execute(&format!("PRAGMA cache_size = -{DEFAULT_CACHE_KIB}"))?;
    }
    let mut rep = result?;
    rep.phases = phases.laps;
    Ok(rep)
}

/// SQLite page cache while importing, and SQLite's default, in KiB.
const IMPORT_CACHE_KIB: u32 = 64 * 1024;
const DEFAULT_CACHE_KIB: u32 = 2_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roster_uploads)]
pub struct Upload {
    pub id: i64,
    pub township_id: i64,
    pub scheme_id: i64,
    pub user_id: Option<i64>,
    pub filename: String,
    pub sha256: String,
    pub content: Vec<u8>,
    pub status: String,
    pub summary: String,
    pub created_at: String,
    pub committed_at: Option<String>,
}
crate::db::scope::township_row!(Upload, roster_uploads);

pub fn upload(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Upload> {
    super::scoped(conn, actor, id, "上传的花名册")
}

/// Commit a staged upload (the file the clerk previewed).
/// Commit a staged upload, reading it again within the county's `options`
/// (the limits it was staged under).
pub fn commit_upload(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    options: ReadOptions,
) -> AppResult<ImportReport> {
    let u = upload(conn, actor, id)?;
    if u.status == "committed" {
        return Err(AppError::conflict(
            ErrorCode::UploadAlreadyCommitted,
            "该花名册已经导入，无需重复导入",
        ));
    }
    let township = super::areas::area_by_id(conn, u.township_id)?;
    let scheme = super::schemes::by_id(conn, u.scheme_id)?;
    let req = ImportRequest {
        township_code: &township.code,
        scheme: &scheme.def.code,
        filename: &u.filename,
        bytes: &u.content,
        options,
    };
    super::tx(conn, |conn| {
        let mut rep = commit(conn, actor, &req)?;
        diesel::update(roster_uploads::table.find(id))
            .set((
                roster_uploads::status.eq("committed"),
                roster_uploads::committed_at.eq(Some(now_text())),
                roster_uploads::summary.eq(serde_json::to_string(&rep.counts).unwrap_or_default()),
            ))
            .execute(conn)?;
        rep.upload_id = Some(id);
        Ok(rep)
    })
}
