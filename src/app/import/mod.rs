//! Township roster import: preview (dry run) first, then commit all accepted
//! rows in one transaction. Re-uploading the same file changes nothing:
//! growers are keyed on ID number (per scheme year), plots on plot code.

use super::{Actor, Phases};
use crate::db::schema::roster_uploads;
use crate::db::{now_text, DbConn};
use crate::domain::Reason;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::excel::read::{stream_roster, Field, Head, RawRow, ReadOptions, RowSink, UncleanRow};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

mod codes;
mod context;
mod elsewhere;
mod plan;
mod report;
mod row;
mod write;

pub use report::error_rows;

use context::{load_context, Context};
use plan::{Analyser, Planned};
use report::report;
use write::Writer;

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
    /// The URL of the database the import goes to: a commit opens a second
    /// connection to it to look up what is stored outside the township
    /// while its own connection writes.
    pub database_url: &'a str,
    pub township_code: &'a str,
    pub scheme: &'a str,
    pub filename: &'a str,
    pub bytes: &'a [u8],
    pub options: ReadOptions,
}

fn file_error(e: crate::excel::read::ReadError) -> AppError {
    AppError::invalid("file", e.code(), e.to_string())
}

/// The preview's reading: every row checked, a batch at a time (what the
/// batch names outside the township looked up first), nothing kept to write.
struct Checking<'a, 'c> {
    analyser: Analyser<'c>,
    conn: &'a mut DbConn,
    batch: Vec<RawRow>,
    failed: Option<AppError>,
}

impl Checking<'_, '_> {
    fn flush(&mut self) {
        if self.batch.is_empty() || self.failed.is_some() {
            return;
        }
        let rows = std::mem::take(&mut self.batch);
        match self.analyser.prefetch(self.conn, &rows) {
            Ok(()) => {
                for raw in rows {
                    self.analyser.row(raw);
                }
            }
            Err(e) => self.failed = Some(e),
        }
    }
}

impl RowSink for Checking<'_, '_> {
    fn head(&mut self, head: &Head) {
        self.analyser.head(head);
    }

    fn row(&mut self, row: RawRow) -> bool {
        self.batch.push(row);
        if self.batch.len() >= READ_BATCH {
            self.flush();
        }
        self.failed.is_none()
    }
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
    let ctx = load_context(conn, actor, req.township_code, req.scheme)?;
    let mut checking = Checking {
        analyser: Analyser::new(&ctx, false),
        conn,
        batch: Vec::with_capacity(READ_BATCH),
        failed: None,
    };
    let streamed = stream_roster(req.bytes, &req.options, &mut checking);
    checking.flush();
    if let Some(e) = checking.failed {
        return Err(e);
    }
    let streamed = streamed.map_err(file_error)?;
    let rep = report(&ctx, streamed, checking.analyser.finish(), None, false);
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

/// Rows the reader thread hands to the checker at a time, and how many such
/// batches may wait: enough that reading goes on while the stored growers
/// and plots are loaded, little enough to keep memory bounded.
const READ_BATCH: usize = 1_024;
const READ_BATCHES_AHEAD: usize = 32;
/// Accepted rows the checker hands to the writer at a time, and how many
/// such chunks may wait while one is written.
const CHUNK_ROWS: usize = 8_192;
const CHUNKS_AHEAD: usize = 2;

/// What the reader thread sends the checker.
enum Read {
    Head(Head),
    Rows(Vec<Pending>),
}

/// A row on its way to the checker: the reader only parses, the checker
/// cleans the cells (the reader thread is the import's longest).
enum Pending {
    Unclean(UncleanRow),
    Clean(RawRow),
}

impl Pending {
    fn clean(self) -> RawRow {
        match self {
            Pending::Unclean(row) => row.clean(),
            Pending::Clean(row) => row,
        }
    }
}

/// The reader thread's sink: rows in batches into a bounded channel.
struct Batches {
    batch: Vec<Pending>,
    to: std::sync::mpsc::SyncSender<Read>,
    /// False once the checker has stopped taking rows.
    open: bool,
}

impl Batches {
    fn send(&mut self) {
        if !self.batch.is_empty() && self.open {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(READ_BATCH));
            self.open = self.to.send(Read::Rows(batch)).is_ok();
        }
    }
}

impl RowSink for Batches {
    fn head(&mut self, head: &Head) {
        self.open = self.open && self.to.send(Read::Head(head.clone())).is_ok();
    }

    fn row(&mut self, row: RawRow) -> bool {
        self.push(Pending::Clean(row))
    }

    fn unclean(&mut self, row: UncleanRow) -> bool {
        self.push(Pending::Unclean(row))
    }
}

impl Batches {
    fn push(&mut self, row: Pending) -> bool {
        self.batch.push(row);
        if self.batch.len() >= READ_BATCH {
            self.send();
        }
        self.open
    }
}

/// Write every accepted row in one transaction; rejected rows are not written.
///
/// Reading overlaps writing, in three threads joined by bounded channels: a
/// reader parses the file (starting while the township's stored growers and
/// plots are loaded), a checker validates each row against what was stored
/// before the import (looking up on a second connection what the file names
/// outside the township) and hands accepted rows on in chunks, and this
/// thread writes each chunk as it comes. All of it is one transaction: a failure anywhere rolls
/// everything back.
pub fn commit(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    actor.require(actor.can_edit_enrollment())?;
    let mut phases = Phases::default();
    let sqlite = crate::db::backend(conn) == crate::db::Backend::Sqlite;
    if sqlite {
        // A large import touches far more pages than SQLite's default 2 MB
        // page cache holds; it would spill them to the WAL mid-transaction.
        conn.batch_execute(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
    }
    let result = super::tx(conn, |conn| pipeline(conn, actor, req, &mut phases));
    phases.lap("commit");
    if sqlite {
        conn.batch_execute(&format!(
            "PRAGMA cache_size = -{}",
            crate::db::SQLITE_CACHE_KIB
        ))?;
    }
    let mut rep = result?;
    rep.phases = phases.laps;
    Ok(rep)
}

fn thread_died() -> AppError {
    AppError::Internal("导入花名册的线程异常退出".into())
}

/// Reader → checker → writer (this thread).
fn pipeline(
    conn: &mut DbConn,
    actor: &Actor,
    req: &ImportRequest,
    phases: &mut Phases,
) -> AppResult<ImportReport> {
    // Outside the scope, so that the threads may borrow it.
    let stored: std::sync::OnceLock<Context> = std::sync::OnceLock::new();
    std::thread::scope(|s| {
        let (to_checker, read_rows) = std::sync::mpsc::sync_channel(READ_BATCHES_AHEAD);
        let reader = s.spawn(move || {
            let started = std::time::Instant::now();
            let mut out = Batches {
                batch: Vec::with_capacity(READ_BATCH),
                to: to_checker,
                open: true,
            };
            let streamed = stream_roster(req.bytes, &req.options, &mut out);
            out.send();
            (streamed, started.elapsed())
        });
        // A failure here drops `read_rows`, which stops the reader.
        let ctx = load_context(conn, actor, req.township_code, req.scheme)?;
        let ctx: &Context = stored.get_or_init(|| ctx);
        phases.lap("load existing (reader already running)");

        let (to_writer, chunks) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        let checker = s.spawn(move || -> AppResult<_> {
            let started = std::time::Instant::now();
            // Its own connection: the import's is busy writing, and what it
            // wrote is not what was stored before the import.
            let mut lookups = crate::db::establish(req.database_url)
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            let mut analyser = Analyser::new(ctx, true);
            let mut looking_up = std::time::Duration::ZERO;
            let mut chunk: Vec<Planned> = Vec::with_capacity(CHUNK_ROWS);
            'read: for read in read_rows.iter() {
                match read {
                    Read::Head(head) => analyser.head(&head),
                    Read::Rows(rows) => {
                        let rows: Vec<RawRow> = rows.into_iter().map(Pending::clean).collect();
                        let asked = std::time::Instant::now();
                        analyser.prefetch(&mut lookups, &rows)?;
                        looking_up += asked.elapsed();
                        for raw in rows {
                            let Some(planned) = analyser.row(raw) else {
                                continue;
                            };
                            chunk.push(planned);
                            if chunk.len() >= CHUNK_ROWS {
                                let full =
                                    std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                                if to_writer.send(full).is_err() {
                                    // The writer failed; dropping `read_rows`
                                    // stops the reader.
                                    break 'read;
                                }
                            }
                        }
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = to_writer.send(chunk);
            }
            Ok((analyser.finish(), started.elapsed(), looking_up))
        });

        let mut writer = Writer::new(ctx, actor, now_text());
        let mut failed = None;
        phases.lap("start");
        for chunk in chunks.iter() {
            phases.lap("wait for checked rows");
            if let Err(e) = writer.chunk(conn, chunk, phases) {
                failed = Some(e);
                break;
            }
        }
        phases.lap("wait for checked rows");
        // A checker still sending sees the channel closed and stops.
        drop(chunks);
        let checked = checker.join().map_err(|_| thread_died())?;
        let (streamed, reading) = reader.join().map_err(|_| thread_died())?;
        if let Some(e) = failed {
            return Err(e);
        }
        let (analysed, checking, looking_up) = checked?;
        let streamed = streamed.map_err(file_error)?;
        let rep = report(ctx, streamed, analysed, None, true);
        writer.finish(conn, actor, (req, &rep.counts), phases)?;
        phases
            .laps
            .push(("(reader thread: parse, overlapped)", reading));
        phases
            .laps
            .push(("(checker thread: validate, overlapped)", checking));
        phases.laps.push((
            "(checker thread: of which lookups outside the township)",
            looking_up,
        ));
        Ok(rep)
    })
}

/// SQLite page cache while importing, in KiB (afterwards the connection gets
/// back `db::SQLITE_CACHE_KIB`, the cache every connection starts with).
const IMPORT_CACHE_KIB: u32 = 64 * 1024;

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
crate::db::scope::township_row!(Upload, roster_uploads, "上传的花名册");

pub fn upload(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Upload> {
    super::scoped(conn, actor, id)
}

/// Commit a staged upload, reading it again within the county's `options`
/// (the limits it was staged under).
pub fn commit_upload(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    (database_url, options): (&str, ReadOptions),
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
        database_url,
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
