//! Reconciliation (对账): the insurer's or the treasury's statement, line by
//! line against our figures, by policy number. Four groups: matched, amount
//! differs (both shown), missing on our side, missing on theirs; each group
//! with its totals. The result is stored and can be exported as a workbook.
//!
//! The file is read a row at a time (`statement`) into a staging table of
//! the transaction, and matched against the policies by the database: what
//! we hold while a million-line statement is read is one chunk of lines.

use super::finance::{can_manage, scheme_or_current};
use super::{audit, Actor};
use crate::db::schema::reconciliations;
use crate::db::{self, now_text, DbConn};
use crate::domain::scheme::level_name;
use crate::domain::time::Instant;
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::excel::read::table::ColumnSpec;
use crate::excel::read::ReadOptions;
use crate::excel::write::{Cell, Column, Table};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

pub mod statement;
pub use statement::StatementFile;

const POLICY_NO: &str = "policy_no";
const AMOUNT: &str = "amount";

pub const COLUMNS: [ColumnSpec; 2] = [
    ColumnSpec {
        key: POLICY_NO,
        label: "保单号",
        aliases: &[
            "保单号",
            "保单号码",
            "保单编号",
            "保险单号",
            "保险单号码",
            "保单",
        ],
        required: true,
    },
    ColumnSpec {
        key: AMOUNT,
        label: "补贴金额",
        aliases: &[
            "补贴金额",
            "财政补贴",
            "财政补贴金额",
            "保费补贴",
            "保费补贴金额",
            "应补贴金额",
            "补贴合计",
            "应拨金额",
            "拨付金额",
            "金额",
            "补贴",
        ],
        required: true,
    },
];

pub const GROUPS: [(&str, &str); 4] = [
    ("matched", "一致"),
    ("differs", "金额不一致"),
    ("missing_ours", "我方无此保单"),
    ("missing_theirs", "对方缺少"),
];

fn group_name(g: &str) -> &str {
    GROUPS
        .iter()
        .find(|(c, _)| *c == g)
        .map(|(_, n)| *n)
        .unwrap_or(g)
}

pub struct ReconcileRequest<'a> {
    pub scheme: &'a str,
    /// insurer | treasury
    pub source: &'a str,
    /// Compare one funding level's amount instead of the whole subsidy.
    pub level: &'a str,
    pub filename: &'a str,
    pub file: StatementFile<'a>,
    /// The county's upload limits (`config::Limits`).
    pub options: ReadOptions,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupTotals {
    pub group: String,
    pub name: String,
    pub count: i64,
    #[serde(deserialize_with = "signed_fen")]
    pub ours: Fen,
    #[serde(deserialize_with = "signed_fen")]
    pub theirs: Fen,
    /// theirs − ours
    #[serde(deserialize_with = "signed_fen")]
    pub difference: Fen,
}

/// Stored summaries hold signed amounts ("-12.50"); `Fen`'s own
/// deserializer is for input and refuses negatives.
fn signed_fen<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
    let s = String::deserialize(d)?;
    crate::domain::number::parse(&s, &crate::domain::number::SIGNED_TOTAL)
        .map(|v| Fen(v.units))
        .map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub scheme: String,
    pub source: String,
    pub level: Option<String>,
    pub filename: String,
    pub sheet: String,
    pub header_row: usize,
    pub rows_read: usize,
    /// Policy numbers listed on more than one row of their file (amounts added).
    pub repeated: usize,
    pub skipped_rows: Vec<(usize, String)>,
    pub groups: Vec<GroupTotals>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub policy_no: String,
    pub status: String,
    pub status_name: String,
    pub ours: Option<Fen>,
    pub theirs: Option<Fen>,
    pub row: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReconciliationView {
    pub id: i64,
    pub created_at: Instant,
    #[serde(flatten)]
    pub summary: Summary,
    /// Lines not matched, by group then policy number (matched ones are only counted).
    pub lines: Vec<Line>,
}

/// An amount as people type it into a statement: "1,234.50", "269.6元", "￥12", "-3".
/// Only the currency marks are taken off; the number itself goes through the
/// one amount parser (digit limit, grouping in threes, no exponents).
fn parse_amount(s: &str) -> Result<Fen, crate::domain::number::NumberError> {
    let t = s.trim();
    let t = t.strip_suffix('元').unwrap_or(t).trim_end();
    let t = match t.strip_prefix('-').or_else(|| t.strip_prefix('－')) {
        Some(rest) => format!("-{}", rest.trim_start().trim_start_matches(['¥', '￥'])),
        None => t.trim_start_matches(['¥', '￥']).to_string(),
    };
    Fen::parse_signed(&t)
}

/// Their figures summed per policy and overall are kept within this many fen
/// (one trillion yuan), so every total and difference after it fits.
const MAX_FILE_TOTAL_FEN: i64 = 100_000_000_000_000;

/// Lines staged per write: bounds what is held while the file is read.
const STAGE_CHUNK: usize = 10_000;

pub fn reconcile(
    conn: &mut DbConn,
    actor: &Actor,
    req: ReconcileRequest,
) -> AppResult<ReconciliationView> {
    actor.require(can_manage(actor))?;
    let source = req.source.trim();
    if !matches!(source, "insurer" | "treasury") {
        return Err(AppError::invalid(
            "source",
            ErrorCode::SourceInvalid,
            "对账来源应为 insurer（保险公司）或 treasury（国库）",
        ));
    }
    let scheme = scheme_or_current(conn, req.scheme)?;
    let level = match Some(req.level.trim()).filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(
            scheme
                .def
                .subsidy_levels
                .iter()
                .find(|s| s.level == l)
                .and_then(|s| s.funding_level())
                .ok_or_else(|| {
                    AppError::invalid(
                        "level",
                        ErrorCode::LevelUnknown,
                        format!("{}没有“{}”这一补贴层级", scheme.def.name, l),
                    )
                })?,
        ),
    };
    let (layout, mut rows) = statement::open(req.file, &req.options, &COLUMNS)?;
    // Their lines go into a staging table as they are read, every one
    // checked; a file with a bad line rolls back and nothing is kept.
    super::tx(conn, |conn| {
        db::finance::stage_begin(conn)?;
        let mut chunk: Vec<db::finance::StagedLine> = Vec::with_capacity(STAGE_CHUNK);
        let mut problems = Vec::new();
        let mut rows_read: usize = 0;
        let mut file_total: i64 = 0;
        while let Some(r) = rows.next_row([POLICY_NO, AMOUNT])? {
            rows_read += 1;
            let amount = r.amount.as_deref().map(parse_amount);
            match (r.policy_no, amount) {
                (Some(no), Some(Ok(a))) => {
                    file_total = file_total
                        .checked_add(a.0.saturating_abs())
                        .filter(|t| *t <= MAX_FILE_TOTAL_FEN)
                        .unwrap_or(i64::MAX);
                    if file_total == i64::MAX {
                        problems.push(FieldError::new(
                            "file",
                            ErrorCode::AmountTotalTooLarge,
                            format!(
                                "第{}行起对账文件的金额合计超过{}元，请检查金额列是否填错",
                                r.row,
                                Fen(MAX_FILE_TOTAL_FEN)
                            ),
                        ));
                        break;
                    }
                    if problems.is_empty() {
                        chunk.push((r.row as i64, no, a.0));
                        if chunk.len() == STAGE_CHUNK {
                            db::finance::stage_lines(conn, &chunk)?;
                            chunk.clear();
                        }
                    }
                }
                (None, _) => problems.push(FieldError::new(
                    "file",
                    ErrorCode::PolicyNoMissing,
                    format!("第{}行没有保单号", r.row),
                )),
                (Some(no), Some(Err(e))) => problems.push(FieldError::new(
                    "file",
                    ErrorCode::AmountInvalid,
                    format!(
                        "第{}行（保单{}）的金额无法识别：{e}",
                        r.row,
                        crate::domain::number::shown(&no)
                    ),
                )),
                (Some(no), None) => problems.push(FieldError::new(
                    "file",
                    ErrorCode::AmountInvalid,
                    format!(
                        "第{}行（保单{}）的金额为空",
                        r.row,
                        crate::domain::number::shown(&no)
                    ),
                )),
            }
            // The first problems are what the user is shown.
            if problems.len() >= MAX_PROBLEMS {
                break;
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Validation(problems));
        }
        if rows_read == 0 {
            return Err(AppError::invalid(
                "file",
                ErrorCode::NoRows,
                "对账文件中没有数据行",
            ));
        }
        db::finance::stage_lines(conn, &chunk)?;
        drop(chunk);
        let listed = db::finance::stage_sum(conn)?;
        let (mut skipped_rows, _) = rows.skipped();
        if skipped_rows.is_empty() {
            skipped_rows = layout.skipped_rows;
        }
        let id: i64 = diesel::insert_into(reconciliations::table)
            .values((
                reconciliations::scheme_id.eq(scheme.id),
                reconciliations::source.eq(source),
                reconciliations::filename.eq(req.filename),
                reconciliations::summary.eq("{}"),
                reconciliations::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                reconciliations::created_at.eq(now_text()),
            ))
            .returning(reconciliations::id)
            .get_result(conn)?;
        db::finance::stage_match(conn, id, scheme.id, level)?;
        db::finance::stage_end(conn)?;
        let sums = db::finance::reconciliation_group_sums(conn, id)?;
        let groups: Vec<GroupTotals> = GROUPS
            .iter()
            .map(|(g, name)| {
                let (count, ours, theirs) = sums
                    .iter()
                    .find(|s| s.0 == *g)
                    .map(|s| (s.1, Fen(s.2), Fen(s.3)))
                    .unwrap_or((0, Fen::ZERO, Fen::ZERO));
                GroupTotals {
                    group: g.to_string(),
                    name: name.to_string(),
                    count,
                    ours,
                    theirs,
                    difference: theirs - ours,
                }
            })
            .collect();
        let summary = Summary {
            scheme: scheme.def.code.clone(),
            source: source.to_string(),
            level: level.map(|l| l.to_string()),
            filename: req.filename.to_string(),
            sheet: layout.sheet,
            header_row: layout.header_row,
            rows_read,
            repeated: rows_read.saturating_sub(usize::try_from(listed).unwrap_or(0)),
            skipped_rows,
            groups,
        };
        diesel::update(reconciliations::table.find(id))
            .set(reconciliations::summary.eq(
                serde_json::to_string(&summary).map_err(|e| AppError::Internal(e.to_string()))?,
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            "create",
            "reconciliation",
            id,
            None::<&()>,
            Some(&summary),
        )?;
        get_inner(conn, id, false)
    })
}

/// Problems with their file reported at once (the first ones, in file order).
const MAX_PROBLEMS: usize = 20;

fn get_inner(conn: &mut DbConn, id: i64, all: bool) -> AppResult<ReconciliationView> {
    let stored = db::finance::reconciliations(conn, Some(id))?
        .pop()
        .ok_or_else(|| AppError::not_found("对账记录"))?;
    let created_at = stored.created_at;
    let summary: Summary =
        serde_json::from_str(&stored.summary).map_err(|e| AppError::Internal(e.to_string()))?;
    let matched = GROUPS[0].0;
    let mut rows = db::finance::reconciliation_lines(conn, id, (!all).then_some(matched))?;
    let rank = |s: &str| GROUPS.iter().position(|(g, _)| *g == s).unwrap_or(9);
    rows.sort_by(|a, b| (rank(&a.1), &a.0).cmp(&(rank(&b.1), &b.0)));
    Ok(ReconciliationView {
        id,
        created_at,
        summary,
        lines: rows
            .into_iter()
            .map(|(no, status, o, t, row)| Line {
                policy_no: no,
                status_name: group_name(&status).to_string(),
                status,
                ours: o.map(Fen),
                theirs: t.map(Fen),
                row,
            })
            .collect(),
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<ReconciliationView> {
    actor.require(can_manage(actor))?;
    get_inner(conn, id, false)
}

#[derive(Debug, Clone, Serialize)]
pub struct ReconciliationItem {
    pub id: i64,
    pub created_at: Instant,
    pub source: String,
    pub filename: String,
    pub groups: Vec<GroupTotals>,
}

pub fn list(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<ReconciliationItem>> {
    actor.require(can_manage(actor))?;
    Ok(db::finance::reconciliations(conn, None)?
        .into_iter()
        .map(|r| ReconciliationItem {
            id: r.id,
            created_at: r.created_at,
            source: r.source,
            filename: r.filename,
            groups: serde_json::from_str::<Summary>(&r.summary)
                .map(|s| s.groups)
                .unwrap_or_default(),
        })
        .collect())
}

fn col(h: &str, width: f64) -> Column {
    Column {
        header: h.to_string(),
        width,
    }
}

fn money(f: Option<Fen>) -> Cell {
    f.map(Cell::Money).unwrap_or(Cell::Empty)
}

/// The reconciliation workbook: a summary sheet, then one sheet per group.
pub fn workbook(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<(String, Vec<u8>)> {
    actor.require(can_manage(actor))?;
    let v = get_inner(conn, id, true)?;
    let s = &v.summary;
    let source = if s.source == "insurer" {
        "保险公司"
    } else {
        "国库"
    };
    let what = s
        .level
        .as_deref()
        .map(|l| format!("{}补贴", level_name(l)))
        .unwrap_or_else(|| "财政补贴".into());
    let mut tables = vec![Table {
        sheet_name: "汇总".into(),
        title: Some(format!("{} {}对账（{}）", s.scheme, source, what)),
        subtitle: Some(format!(
            "文件：{}，工作表{}，表头第{}行，读取{}行；金额单位：元",
            s.filename, s.sheet, s.header_row, s.rows_read
        )),
        columns: vec![
            col("类别", 16.0),
            col("保单数", 10.0),
            col("我方金额", 14.0),
            col("对方金额", 14.0),
            col("差额(对方-我方)", 16.0),
        ],
        rows: s
            .groups
            .iter()
            .map(|g| {
                vec![
                    Cell::Text(g.name.clone()),
                    Cell::Int(g.count),
                    Cell::Money(g.ours),
                    Cell::Money(g.theirs),
                    Cell::Money(g.difference),
                ]
            })
            .collect(),
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Int(s.groups.iter().map(|g| g.count).sum()),
            Cell::Money(s.groups.iter().map(|g| g.ours).sum()),
            Cell::Money(s.groups.iter().map(|g| g.theirs).sum()),
            Cell::Money(s.groups.iter().map(|g| g.difference).sum()),
        ]),
    }];
    for g in &s.groups {
        let lines: Vec<&Line> = v.lines.iter().filter(|l| l.status == g.group).collect();
        tables.push(Table {
            sheet_name: g.name.clone(),
            title: Some(format!("{}（{}份）", g.name, g.count)),
            subtitle: None,
            columns: vec![
                col("保单号", 22.0),
                col("我方金额", 14.0),
                col("对方金额", 14.0),
                col("差额(对方-我方)", 16.0),
                col("对方文件行号", 12.0),
            ],
            rows: lines
                .iter()
                .map(|l| {
                    vec![
                        Cell::Text(l.policy_no.clone()),
                        money(l.ours),
                        money(l.theirs),
                        Cell::Money(l.theirs.unwrap_or(Fen::ZERO) - l.ours.unwrap_or(Fen::ZERO)),
                        l.row.map(Cell::Int).unwrap_or(Cell::Empty),
                    ]
                })
                .collect(),
            totals: Some(vec![
                Cell::Text("合计".into()),
                Cell::Money(g.ours),
                Cell::Money(g.theirs),
                Cell::Money(g.difference),
                Cell::Empty,
            ]),
        });
    }
    let bytes = crate::excel::write::tables_to_xlsx(&tables)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((format!("对账结果-{}-{}.xlsx", s.scheme, v.id), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_typed() {
        assert_eq!(parse_amount("1,234.50"), Ok(Fen(123_450)));
        assert_eq!(parse_amount("1，234.50"), Ok(Fen(123_450)));
        assert_eq!(parse_amount("269.6元"), Ok(Fen(26_960)));
        assert_eq!(parse_amount("￥12"), Ok(Fen(1_200)));
        assert_eq!(parse_amount("-￥12"), Ok(Fen(-1_200)));
        assert_eq!(parse_amount("-3"), Ok(Fen(-300)));
        assert_eq!(parse_amount("－３"), Ok(Fen(-300)));
        assert!(parse_amount("1.234").is_err());
        assert!(parse_amount("abc").is_err());
        assert!(parse_amount("1,00").is_err());
        assert!(parse_amount("1e3").is_err());
        assert_eq!(
            parse_amount("79228162514264337593543950335").map_err(|e| e.code()),
            Err(ErrorCode::NumberTooManyDigits)
        );
    }
}
