//! The monthly inspection (按月巡检, issue 15): one report per month of what
//! keeps the system safe to run — the last backup and its restore test, the
//! audit chain, failed logins and lockouts, surveys against their deadline,
//! payments past their limit, server errors, the database's size and growth,
//! free disk and the certificate's expiry. Every figure is read from the
//! database or the file system when the report is made; none is typed.
//!
//! A month is a China calendar month; its bounds become the stored UTC text
//! (`2026-10-31T16:00:00Z` for 2026-11-01 00:00 China time), so a text
//! comparison selects it on both databases. Each section gets a status by
//! the rules written next to it ([`Status`]); the report's status is the worst.
//! Each computed report is kept in `ops_inspections` (one row per month, a
//! new computation replaces it): the written record, and the base the next
//! month's database growth is measured from.

pub mod sheet;

use crate::app::{clock, Action, Actor};
use crate::config::Config;
use crate::db::audit_chain::{self, Break};
use crate::db::schema::{
    audit_log, claim_payments, claim_surveys, claims, error_events, ops_inspections,
};
use crate::db::{Backend, DbConn};
use crate::domain::money::Fen;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ops::backup::manifest;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use diesel::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

// ---- the rules (each section's status) ----

/// A backup older than this is a finding (注意): the nightly timer missed.
pub const BACKUP_LATE_HOURS: i64 = 48;
/// No backup for this many days, or none at all: 异常.
pub const BACKUP_MISSING_DAYS: i64 = 8;
/// Less free space than this on a file system the system writes to: 异常.
pub const DISK_MIN_FREE_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Less than this share free: 异常 …
pub const DISK_MIN_FREE_PERCENT: i64 = 10;
/// … and less than this: 注意.
pub const DISK_LOW_FREE_PERCENT: i64 = 20;
/// A certificate expiring within this many days: 注意 (expired: 异常).
pub const CERT_WARN_DAYS: i64 = 30;
/// The database grew by more than this share in a month: 注意.
pub const GROWTH_WARN_PERCENT: i64 = 50;
/// Claim numbers listed per finding (the count is always whole).
pub const LISTED: usize = 20;

/// A section's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Normal,
    Attention,
    Abnormal,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Normal => "正常",
            Status::Attention => "注意",
            Status::Abnormal => "异常",
        }
    }
}

/// A section's status, its Chinese name and a one-line finding.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub status: Status,
    pub status_name: &'static str,
    pub note: String,
}

fn judged(status: Status, note: impl Into<String>) -> Judged {
    Judged {
        status,
        status_name: status.label(),
        note: note.into(),
    }
}

/// The rules above in words, for the page and the printed report.
pub fn rules() -> Vec<String> {
    vec![
        format!("备份：没有完整备份，或最近一次备份已满{BACKUP_MISSING_DAYS}天，或其恢复测试未通过为“异常”；从未做恢复测试，或已超过{BACKUP_LATE_HOURS}小时为“注意”。"),
        "审计日志：哈希链断开为“异常”。".to_string(),
        "登录：本月有账户、地址或自助查询被锁定为“注意”。".to_string(),
        "查勘：有逾期仍未查勘的赔案为“异常”；有超过查勘时限（报案后24小时，以险种方案为准）才查勘的为“注意”。".to_string(),
        "赔款：农户确认后超过支付期限（10日，以险种方案为准）仍未付清为“异常”。".to_string(),
        "系统错误：本月有系统错误（5xx）为“注意”。".to_string(),
        format!("数据库：比上月增长超过{GROWTH_WARN_PERCENT}%为“注意”。"),
        format!(
            "磁盘：剩余不足{}或不足{DISK_MIN_FREE_PERCENT}%为“异常”，不足{DISK_LOW_FREE_PERCENT}%为“注意”。",
            size_text(i64::try_from(DISK_MIN_FREE_BYTES).unwrap_or(i64::MAX))
        ),
        format!("证书：已过期为“异常”，{CERT_WARN_DAYS}天内到期为“注意”；未配置不判定。"),
    ]
}

// ---- the month ----

/// A China calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// `None` unless `month` is 1–12 and the year has four digits.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1000..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    /// The month an instant falls in, in China time.
    pub fn containing(t: DateTime<Utc>) -> Month {
        let d = clock::china_date(t);
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// The last full month before the one `now` falls in: what the
    /// inspection looks at unless told otherwise.
    pub fn previous_full(now: DateTime<Utc>) -> Month {
        Month::containing(now).previous()
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Its first day (valid by construction: `new` checked the month).
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or_default()
    }

    /// 00:00 China time of its first day, as a UTC instant.
    pub fn start(self) -> DateTime<Utc> {
        clock::china()
            .from_local_datetime(&self.first_day().and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// The start of the next month (the bound is exclusive).
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// "2026-11" or "2026-1"; nothing else.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.trim().split_once('-')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if y.len() != 4 || !digits(y) || m.len() > 2 || !digits(m) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The month a person or a script asked for: `YYYY-MM`, not after the month
/// `now` falls in (the current month is inspected up to `now`); none given:
/// the previous full month.
pub fn month_asked(input: Option<&str>, now: DateTime<Utc>) -> AppResult<Month> {
    let Some(s) = input.filter(|s| !s.trim().is_empty()) else {
        return Ok(Month::previous_full(now));
    };
    let example = Month::previous_full(now);
    let m = Month::parse(s).ok_or_else(|| {
        AppError::invalid(
            "month",
            ErrorCode::DateInvalid,
            format!(
                "巡检月份应为“年-月”，例如 {example}：{}",
                crate::domain::number::shown(s)
            ),
        )
    })?;
    let current = Month::containing(now);
    if m > current {
        return Err(AppError::invalid(
            "month",
            ErrorCode::DateInFuture,
            format!("巡检月份 {m} 还没有到：只能巡检本月（{current}）或以前的月份"),
        ));
    }
    Ok(m)
}

// ---- where to look ----

/// The places outside the database the inspection reads.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// The backup root (`GUOBAO_BACKUP_DIR`).
    pub backup_root: PathBuf,
    /// The photo store's directory; `None` for an object store (S3) or memory.
    pub photo_dir: Option<PathBuf>,
    /// The TLS certificate to check (`GUOBAO_TLS_CERT`).
    pub tls_cert: Option<PathBuf>,
}

impl Places {
    /// From the settings and the photo store's location (a directory, an
    /// `s3://` URL, or `memory`).
    pub fn new(config: &Config, photo_location: &str) -> Places {
        Places::from_ops(&config.ops, photo_location)
    }

    /// The same from the server's operations settings.
    pub fn from_ops(ops: &crate::config::Ops, photo_location: &str) -> Places {
        let local = !photo_location.contains("://") && photo_location != "memory";
        let root = ops.backup_dir.clone();
        Places {
            // Absolute, so the report says where it looked whatever the
            // working directory of the reader.
            backup_root: std::path::absolute(&root).unwrap_or(root),
            photo_dir: local.then(|| PathBuf::from(photo_location)),
            tls_cert: ops.tls_cert.clone(),
        }
    }
}

// ---- the report ----

/// The whole report. Times are China time as people read them.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `YYYY-MM`.
    pub month: String,
    /// The month's bounds, China time ("2026-11-01 00:00" to "2026-12-01 00:00").
    pub from: String,
    pub to: String,
    /// When the figures were read.
    pub computed_at: String,
    /// The worst section's status.
    pub status: Status,
    pub status_name: &'static str,
    /// One line per section, in report order.
    pub sections: Vec<SectionLine>,
    pub backup: BackupSection,
    pub audit: AuditSection,
    pub logins: LoginSection,
    pub surveys: SurveySection,
    pub payments: PaymentSection,
    pub errors: ErrorSection,
    pub storage: StorageSection,
    pub disk: DiskSection,
    pub certificate: CertificateSection,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionLine {
    pub key: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub status_name: &'static str,
    pub note: String,
}

/// Whether the latest backup's restore test passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreTest {
    Passed,
    Failed,
    Never,
}

impl RestoreTest {
    pub fn label(self) -> &'static str {
        match self {
            RestoreTest::Passed => "通过",
            RestoreTest::Failed => "未通过",
            RestoreTest::Never => "从未测试",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupSection {
    #[serde(flatten)]
    pub judged: Judged,
    pub root: String,
    /// Complete backups under the root.
    pub backups: usize,
    pub latest: Option<LatestBackup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatestBackup {
    pub dir: String,
    pub created_at: String,
    /// Whole hours from the backup to the inspection.
    pub age_hours: i64,
    pub database: &'static str,
    pub schema_version: String,
    pub rows: u64,
    pub photos: u64,
    pub restore_test: RestoreTest,
    pub restore_test_name: &'static str,
    pub restore_tested_at: Option<String>,
    pub restore_detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    #[serde(flatten)]
    pub judged: Judged,
    pub intact: bool,
    /// Rows checked (all when intact).
    pub rows: i64,
    pub last_id: i64,
    pub head_hash: String,
    /// The first broken link, when there is one.
    pub broken_at: Option<i64>,
    pub broken: Option<Break>,
    /// Rows written in the month.
    pub month_rows: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NameCount {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoginSection {
    #[serde(flatten)]
    pub judged: Judged,
    /// Failed logins in the month.
    pub failures: i64,
    /// Distinct user names they were for.
    pub accounts: usize,
    /// Distinct client addresses they came from.
    pub addresses: usize,
    /// Login locks (a user name or an address locked by failures).
    pub lockouts: i64,
    /// What was locked: "用户名 station_a", "地址 10.0.0.9".
    pub locked: Vec<String>,
    /// Self-service lookups (农户自助查询) locked.
    pub self_service_lockouts: i64,
    /// The user names failed most often (up to 10).
    pub top_accounts: Vec<NameCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SurveySection {
    #[serde(flatten)]
    pub judged: Judged,
    /// Claims reported in the month.
    pub reported: i64,
    /// Of these, declined without a survey (the deadline does not apply).
    pub declined_unsurveyed: i64,
    /// Surveyed by their deadline (report time + the scheme's hours, 24 by default).
    pub on_time: i64,
    /// Surveyed after it.
    pub late: i64,
    /// Not surveyed and past the deadline when the report was made.
    pub overdue: i64,
    /// Not surveyed, deadline still ahead.
    pub pending: i64,
    /// on_time ÷ (on_time + late + overdue) in percent, one decimal; none
    /// when no claim's deadline has come.
    pub on_time_percent: Option<Decimal>,
    pub late_claims: Vec<String>,
    pub overdue_claims: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverduePayment {
    pub claim_no: String,
    pub agreed_on: String,
    pub due_on: String,
    pub days_overdue: i64,
    pub owed: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentSection {
    #[serde(flatten)]
    pub judged: Judged,
    /// The day the figures stand at: the month's last day, or today for the
    /// current month.
    pub as_of: String,
    /// Claims agreed with the grower and not paid in full by their payment
    /// day (agreed day + the scheme's payment days, 10 by default).
    pub overdue: usize,
    pub owed: Fen,
    /// The first [`LISTED`], longest overdue first.
    pub claims: Vec<OverduePayment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    pub at: String,
    pub request_id: String,
    pub method: String,
    pub route: String,
    pub status: i32,
    pub code: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorSection {
    #[serde(flatten)]
    pub judged: Judged,
    /// Server faults (5xx answers) logged in the month.
    pub total: i64,
    /// By error code, most frequent first.
    pub by_code: Vec<NameCount>,
    pub last: Option<LastError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageSection {
    #[serde(flatten)]
    pub judged: Judged,
    pub database: &'static str,
    /// Pages in use (SQLite: with the write-ahead log) or `pg_database_size`.
    pub db_bytes: i64,
    pub db_size: String,
    pub wal_bytes: Option<i64>,
    pub previous_month: String,
    /// The size the previous month's inspection recorded, if it was made.
    pub previous_bytes: Option<i64>,
    pub growth_bytes: Option<i64>,
    pub growth_percent: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskPlace {
    /// 数据库目录 / 照片目录 / 备份目录
    pub what: &'static str,
    pub path: String,
    pub free_bytes: u64,
    pub total_bytes: u64,
    pub free_size: String,
    pub free_percent: Decimal,
    pub status: Status,
    pub status_name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskSection {
    #[serde(flatten)]
    pub judged: Judged,
    pub places: Vec<DiskPlace>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateSection {
    #[serde(flatten)]
    pub judged: Judged,
    pub configured: bool,
    pub path: Option<String>,
    pub not_after: Option<String>,
    /// Whole days left (negative once expired).
    pub days_left: Option<i64>,
}

// ---- the use case ----

/// Compute the month's report and keep it (replacing an earlier one of the
/// same month). Only those who may see the system's operations (the admin).
pub fn inspect(
    conn: &mut DbConn,
    actor: &Actor,
    places: &Places,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<Inspection> {
    actor.require(actor.may(Action::ViewOperations))?;
    let report = compute(conn, places, month, now)?;
    keep(conn, &report, month, now)?;
    Ok(report)
}

/// The report, without keeping it.
pub fn compute(
    conn: &mut DbConn,
    places: &Places,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<Inspection> {
    let start = clock::to_text(month.start());
    let end = clock::to_text(month.end());
    let backup = backup_section(&places.backup_root, now);
    let audit = audit_section(conn, &start, &end)?;
    let logins = login_section(conn, &start, &end)?;
    let surveys = survey_section(conn, &start, &end, now)?;
    let as_of = month.last_day().min(clock::china_date(now));
    let payments = payment_section(conn, as_of)?;
    let errors = error_section(conn, &start, &end)?;
    let size = database_size(conn)?;
    let storage = storage_section(conn, &size, month)?;
    let disk = disk_section(size.file.as_deref(), places);
    let certificate = certificate_section(places.tls_cert.as_deref(), now);
    let sections = vec![
        line("backup", "备份与恢复测试", &backup.judged),
        line("audit", "审计日志哈希链", &audit.judged),
        line("logins", "登录失败与锁定", &logins.judged),
        line("surveys", "24小时查勘", &surveys.judged),
        line("payments", "赔款支付时限", &payments.judged),
        line("errors", "系统错误", &errors.judged),
        line("storage", "数据库大小与增长", &storage.judged),
        line("disk", "磁盘剩余空间", &disk.judged),
        line("certificate", "证书有效期", &certificate.judged),
    ];
    let status = sections
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Normal);
    Ok(Inspection {
        month: month.to_string(),
        from: clock::display(month.start()),
        to: clock::display(month.end()),
        computed_at: seconds(now),
        status,
        status_name: status.label(),
        sections,
        backup,
        audit,
        logins,
        surveys,
        payments,
        errors,
        storage,
        disk,
        certificate,
    })
}

fn line(key: &'static str, title: &'static str, j: &Judged) -> SectionLine {
    SectionLine {
        key,
        title,
        status: j.status,
        status_name: j.status_name,
        note: j.note.clone(),
    }
}

/// China time with seconds.
fn seconds(t: DateTime<Utc>) -> String {
    t.with_timezone(&clock::china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn stored_time(s: &str) -> AppResult<DateTime<Utc>> {
    clock::from_text(s)
}

/// Keep the report as the month's record (one row per month).
fn keep(conn: &mut DbConn, report: &Inspection, month: Month, now: DateTime<Utc>) -> AppResult<()> {
    let json = serde_json::to_string(report).map_err(|e| AppError::Internal(e.to_string()))?;
    let month = month.to_string();
    crate::app::tx(conn, |c| {
        diesel::delete(ops_inspections::table.filter(ops_inspections::month.eq(&month)))
            .execute(c)?;
        diesel::insert_into(ops_inspections::table)
            .values((
                ops_inspections::month.eq(&month),
                ops_inspections::computed_at.eq(clock::to_text(now)),
                ops_inspections::db_bytes.eq(report.storage.db_bytes),
                ops_inspections::report_json.eq(&json),
            ))
            .execute(c)?;
        Ok(())
    })
}

// ---- backup ----

fn backup_section(root: &Path, now: DateTime<Utc>) -> BackupSection {
    let all = manifest::complete(root);
    let count = all.len();
    let Some(b) = all.into_iter().next_back() else {
        return BackupSection {
            judged: judged(
                Status::Abnormal,
                format!("备份目录{}中没有任何完整的备份", root.display()),
            ),
            root: root.display().to_string(),
            backups: 0,
            latest: None,
        };
    };
    let m = &b.manifest;
    let age_hours = (now - m.created_at).num_hours().max(0);
    let (test, tested_at, detail) = match &m.restore_check {
        None => (RestoreTest::Never, None, None),
        Some(c) => (
            if c.ok {
                RestoreTest::Passed
            } else {
                RestoreTest::Failed
            },
            Some(seconds(c.at)),
            Some(c.detail.clone()),
        ),
    };
    let when = seconds(m.created_at);
    let (status, note) = if age_hours >= BACKUP_MISSING_DAYS * 24 {
        (
            Status::Abnormal,
            format!("最近一次备份在{when}，已有{}天没有备份", age_hours / 24),
        )
    } else if test == RestoreTest::Failed {
        (
            Status::Abnormal,
            format!("最近一次备份（{when}）的恢复测试未通过"),
        )
    } else if test == RestoreTest::Never {
        (
            Status::Attention,
            format!("最近一次备份（{when}）从未做过恢复测试（guobao backup verify）"),
        )
    } else if age_hours >= BACKUP_LATE_HOURS {
        (
            Status::Attention,
            format!("最近一次备份在{when}，已超过{BACKUP_LATE_HOURS}小时"),
        )
    } else {
        (
            Status::Normal,
            format!("最近一次备份在{when}，恢复测试通过"),
        )
    };
    BackupSection {
        judged: judged(status, note),
        root: root.display().to_string(),
        backups: count,
        latest: Some(LatestBackup {
            dir: b.dir.display().to_string(),
            created_at: when,
            age_hours,
            database: m.database.label(),
            schema_version: m.schema_version.clone(),
            rows: m.total_rows(),
            photos: m.photos.count,
            restore_test: test,
            restore_test_name: test.label(),
            restore_tested_at: tested_at,
            restore_detail: detail,
        }),
    }
}

// ---- audit chain ----

fn audit_section(conn: &mut DbConn, start: &str, end: &str) -> AppResult<AuditSection> {
    let v = audit_chain::verify(conn)?;
    let month_rows: i64 = audit_log::table
        .filter(audit_log::at.ge(start))
        .filter(audit_log::at.lt(end))
        .count()
        .get_result(conn)?;
    let judged = match &v.broken {
        None => judged(
            Status::Normal,
            format!("哈希链完整：共{}行，无断点", v.rows),
        ),
        Some(b) => judged(Status::Abnormal, format!("哈希链断开：{}", b.message())),
    };
    Ok(AuditSection {
        judged,
        intact: v.broken.is_none(),
        rows: v.rows,
        last_id: v.last_id,
        head_hash: v.head_hash,
        broken_at: v.broken.as_ref().and_then(Break::id),
        broken: v.broken,
        month_rows,
    })
}

// ---- logins ----

fn login_section(conn: &mut DbConn, start: &str, end: &str) -> AppResult<LoginSection> {
    let rows: Vec<(String, String, Option<String>, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq_any(["login_failed", "lockout"]))
        .filter(audit_log::at.ge(start))
        .filter(audit_log::at.lt(end))
        .order(audit_log::id.asc())
        .select((
            audit_log::action,
            audit_log::entity,
            audit_log::after_json,
            audit_log::client_addr,
        ))
        .load(conn)?;
    let field = |json: &Option<String>, key: &str| -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(json.as_deref()?).ok()?;
        v.get(key)?.as_str().map(str::to_string)
    };
    let mut failures = 0i64;
    let mut by_name: BTreeMap<String, i64> = BTreeMap::new();
    let mut addresses = BTreeSet::new();
    let mut lockouts = 0i64;
    let mut locked = Vec::new();
    let mut self_service = 0i64;
    for (action, entity, after, addr) in &rows {
        if action == "login_failed" {
            failures += 1;
            *by_name
                .entry(field(after, "username").unwrap_or_default())
                .or_default() += 1;
            if let Some(a) = addr {
                addresses.insert(a.clone());
            }
        } else if entity == "user" {
            lockouts += 1;
            let key = field(after, "key").unwrap_or_default();
            let shown = if let Some(name) = key.strip_prefix("user:") {
                format!("用户名 {name}")
            } else if let Some(a) = key.strip_prefix("addr:") {
                format!("地址 {a}")
            } else {
                key
            };
            if !locked.contains(&shown) {
                locked.push(shown);
            }
        } else {
            self_service += 1;
        }
    }
    let mut top: Vec<NameCount> = by_name
        .iter()
        .map(|(name, count)| NameCount {
            name: name.clone(),
            count: *count,
        })
        .collect();
    top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    top.truncate(10);
    let note = format!(
        "登录失败{failures}次（{}个用户名），登录锁定{lockouts}次，自助查询锁定{self_service}次",
        by_name.len()
    );
    let status = if lockouts + self_service > 0 {
        Status::Attention
    } else {
        Status::Normal
    };
    Ok(LoginSection {
        judged: judged(status, note),
        failures,
        accounts: by_name.len(),
        addresses: addresses.len(),
        lockouts,
        locked,
        self_service_lockouts: self_service,
        top_accounts: top,
    })
}

// ---- surveys ----

fn survey_section(
    conn: &mut DbConn,
    start: &str,
    end: &str,
    now: DateTime<Utc>,
) -> AppResult<SurveySection> {
    let rows: Vec<(i64, String, String, String, Option<String>)> = claims::table
        .filter(claims::reported_at.ge(start))
        .filter(claims::reported_at.lt(end))
        .order((claims::reported_at.asc(), claims::id.asc()))
        .select((
            claims::id,
            claims::claim_no,
            claims::status,
            claims::survey_due_at,
            claims::surveyed_at,
        ))
        .load(conn)?;
    // The first visit counts: a survey sent back and done again later does
    // not make a claim surveyed on time late.
    let visits: Vec<(i64, String)> = claim_surveys::table
        .inner_join(claims::table.on(claims::id.eq(claim_surveys::claim_id)))
        .filter(claims::reported_at.ge(start))
        .filter(claims::reported_at.lt(end))
        .select((claim_surveys::claim_id, claim_surveys::surveyed_at))
        .load(conn)?;
    let mut first: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for (id, at) in &visits {
        let at = stored_time(at)?;
        first
            .entry(*id)
            .and_modify(|t| *t = (*t).min(at))
            .or_insert(at);
    }
    let mut s = SurveySection {
        judged: judged(Status::Normal, ""),
        reported: 0,
        declined_unsurveyed: 0,
        on_time: 0,
        late: 0,
        overdue: 0,
        pending: 0,
        on_time_percent: None,
        late_claims: Vec::new(),
        overdue_claims: Vec::new(),
    };
    for (id, no, status, due, surveyed) in rows {
        s.reported += 1;
        let due = stored_time(&due)?;
        let surveyed = match (first.get(&id), surveyed.as_deref()) {
            (Some(t), _) => Some(*t),
            (None, Some(t)) => Some(stored_time(t)?),
            (None, None) => None,
        };
        match surveyed {
            Some(t) if t <= due => s.on_time += 1,
            Some(_) => {
                s.late += 1;
                if s.late_claims.len() < LISTED {
                    s.late_claims.push(no);
                }
            }
            None if status == "declined" => s.declined_unsurveyed += 1,
            None if due < now => {
                s.overdue += 1;
                if s.overdue_claims.len() < LISTED {
                    s.overdue_claims.push(no);
                }
            }
            None => s.pending += 1,
        }
    }
    s.on_time_percent = percent(s.on_time, s.on_time + s.late + s.overdue);
    let share = s
        .on_time_percent
        .map_or_else(|| "无（没有到期的赔案）".to_string(), |p| format!("{p}%"));
    let note = format!(
        "本月报案{}件：按时查勘{}件，超时查勘{}件，逾期未查勘{}件；按时率{share}",
        s.reported, s.on_time, s.late, s.overdue
    );
    let status = if s.overdue > 0 {
        Status::Abnormal
    } else if s.late > 0 {
        Status::Attention
    } else {
        Status::Normal
    };
    s.judged = judged(status, note);
    Ok(s)
}

/// Rounded half away from zero to one decimal, and always written with it ("100.0").
fn one_decimal(p: Decimal) -> Decimal {
    let mut p = p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    p.rescale(1);
    p
}

/// part ÷ whole in percent, one decimal (half away from zero); `None` when whole is 0.
pub fn percent(part: i64, whole: i64) -> Option<Decimal> {
    if whole <= 0 {
        return None;
    }
    Decimal::from(part)
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(Decimal::from(whole))
        .map(one_decimal)
}

// ---- payments ----

fn payment_section(conn: &mut DbConn, as_of: NaiveDate) -> AppResult<PaymentSection> {
    let day = as_of.format("%Y-%m-%d").to_string();
    type Row = (i64, String, Option<String>, Option<String>, Option<i64>);
    let due: Vec<Row> = claims::table
        .filter(claims::agreed_on.le(&day))
        .filter(claims::payment_due_on.lt(&day))
        .filter(claims::status.ne("declined"))
        .order((claims::payment_due_on.asc(), claims::id.asc()))
        .select((
            claims::id,
            claims::claim_no,
            claims::agreed_on,
            claims::payment_due_on,
            claims::payout_fen,
        ))
        .load(conn)?;
    // Paid by the day the figures stand at, whatever was paid after it.
    let paid: Vec<(i64, i64)> = claim_payments::table
        .inner_join(claims::table.on(claims::id.eq(claim_payments::claim_id)))
        .filter(claims::agreed_on.le(&day))
        .filter(claims::payment_due_on.lt(&day))
        .filter(claim_payments::paid_on.le(&day))
        .select((claim_payments::claim_id, claim_payments::amount_fen))
        .load(conn)?;
    let mut paid_by: HashMap<i64, i64> = HashMap::new();
    for (id, fen) in paid {
        let e = paid_by.entry(id).or_default();
        *e = e.saturating_add(fen);
    }
    let mut list = Vec::new();
    let mut owed_total = 0i64;
    for (id, no, agreed, due_on, payout) in due {
        let owed = payout
            .unwrap_or(0)
            .saturating_sub(paid_by.get(&id).copied().unwrap_or(0));
        if owed <= 0 {
            continue;
        }
        let due_on = due_on.unwrap_or_default();
        let days = crate::domain::time::read_day(&due_on).map_or(0, |d| (as_of - d).num_days());
        owed_total = owed_total.saturating_add(owed);
        list.push(OverduePayment {
            claim_no: no,
            agreed_on: agreed.unwrap_or_default(),
            due_on,
            days_overdue: days,
            owed: Fen(owed),
        });
    }
    list.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.claim_no.cmp(&b.claim_no))
    });
    let overdue = list.len();
    list.truncate(LISTED);
    let (status, note) = if overdue > 0 {
        (
            Status::Abnormal,
            format!(
                "截至{day}，{overdue}件赔案达成协议后超过支付期限仍未付清，欠付{}元",
                Fen(owed_total)
            ),
        )
    } else {
        (
            Status::Normal,
            format!("截至{day}，没有超过支付期限未付的赔款"),
        )
    };
    Ok(PaymentSection {
        judged: judged(status, note),
        as_of: day,
        overdue,
        owed: Fen(owed_total),
        claims: list,
    })
}

// ---- errors ----

fn error_section(conn: &mut DbConn, start: &str, end: &str) -> AppResult<ErrorSection> {
    let counted: Vec<(String, i64)> = error_events::table
        .filter(error_events::at.ge(start))
        .filter(error_events::at.lt(end))
        .group_by(error_events::code)
        .select((error_events::code, diesel::dsl::count_star()))
        .load(conn)?;
    let mut by_code: Vec<NameCount> = counted
        .into_iter()
        .map(|(name, count)| NameCount { name, count })
        .collect();
    by_code.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let total: i64 = by_code.iter().map(|c| c.count).sum();
    let last: Option<(String, String, String, String, i32, String)> = error_events::table
        .filter(error_events::at.ge(start))
        .filter(error_events::at.lt(end))
        .order(error_events::id.desc())
        .select((
            error_events::at,
            error_events::request_id,
            error_events::method,
            error_events::route,
            error_events::status,
            error_events::code,
        ))
        .first(conn)
        .optional()?;
    let (status, note) = if total > 0 {
        let codes: Vec<String> = by_code
            .iter()
            .map(|c| format!("{} {}次", c.name, c.count))
            .collect();
        (
            Status::Attention,
            format!("本月系统错误{total}次（{}）", codes.join("、")),
        )
    } else {
        (Status::Normal, "本月没有系统错误".to_string())
    };
    Ok(ErrorSection {
        judged: judged(status, note),
        total,
        by_code,
        last: last.map(|(at, request_id, method, route, status, code)| LastError {
            at: clock::display_text(&at),
            request_id,
            method,
            route,
            status,
            code,
        }),
    })
}

// ---- database size ----

struct Size {
    bytes: i64,
    wal: Option<i64>,
    /// The SQLite file, for the disk it lies on.
    file: Option<PathBuf>,
}

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct FileRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

fn database_size(conn: &mut DbConn) -> AppResult<Size> {
    match crate::db::backend(conn) {
        Backend::Postgres => {
            let b: Bytes =
                diesel::sql_query("SELECT pg_database_size(current_database())::BIGINT AS n")
                    .get_result(conn)?;
            Ok(Size {
                bytes: b.n,
                wal: None,
                file: None,
            })
        }
        Backend::Sqlite => {
            let b: Bytes = diesel::sql_query(
                "SELECT p.page_count * s.page_size AS n FROM pragma_page_count() p, pragma_page_size() s",
            )
            .get_result(conn)?;
            let f: Option<FileRow> =
                diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .get_result(conn)
                    .optional()?;
            let file = f
                .map(|f| PathBuf::from(f.file))
                .filter(|p| !p.as_os_str().is_empty());
            let wal = file.as_ref().and_then(|p| {
                let mut w = p.clone().into_os_string();
                w.push("-wal");
                std::fs::metadata(PathBuf::from(w))
                    .ok()
                    .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
            });
            Ok(Size {
                bytes: b.n.saturating_add(wal.unwrap_or(0)),
                wal,
                file,
            })
        }
    }
}

fn storage_section(conn: &mut DbConn, size: &Size, month: Month) -> AppResult<StorageSection> {
    let previous = month.previous();
    let before: Option<i64> = ops_inspections::table
        .filter(ops_inspections::month.eq(previous.to_string()))
        .select(ops_inspections::db_bytes)
        .first(conn)
        .optional()?;
    let growth = before.map(|b| size.bytes.saturating_sub(b));
    let growth_percent = match (growth, before) {
        (Some(g), Some(b)) => percent(g, b),
        _ => None,
    };
    let database = match crate::db::backend(conn) {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let now_size = size_text(size.bytes);
    let (status, note) = match (growth, growth_percent) {
        (Some(g), Some(p)) if p > Decimal::from(GROWTH_WARN_PERCENT) => (
            Status::Attention,
            format!(
                "数据库{now_size}，比{previous}增长{}（{p}%），增长过快",
                signed_size(g)
            ),
        ),
        (Some(g), p) => (
            Status::Normal,
            format!(
                "数据库{now_size}，比{previous}{}{}",
                if g < 0 { "减少" } else { "增长" },
                match p {
                    Some(p) => format!("{}（{}%）", size_text_abs(g), p.abs()),
                    None => size_text_abs(g),
                }
            ),
        ),
        (None, _) => (
            Status::Normal,
            format!("数据库{now_size}；{previous}没有巡检记录，无法计算增长"),
        ),
    };
    Ok(StorageSection {
        judged: judged(status, note),
        database,
        db_bytes: size.bytes,
        db_size: now_size,
        wal_bytes: size.wal,
        previous_month: previous.to_string(),
        previous_bytes: before,
        growth_bytes: growth,
        growth_percent,
    })
}

/// Bytes as people read them: "812 B", "3.4 MiB", "1.2 GiB".
pub fn size_text(bytes: i64) -> String {
    if bytes < 0 {
        format!("-{}", size_text_abs(bytes))
    } else {
        size_text_abs(bytes)
    }
}

fn size_text_abs(bytes: i64) -> String {
    let n = u128::from(bytes.unsigned_abs());
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        let base = 1u128 << shift;
        if n >= base {
            let tenths = (n * 10 + base / 2) / base;
            return format!("{}.{} {unit}", tenths / 10, tenths % 10);
        }
    }
    format!("{n} B")
}

fn signed_size(bytes: i64) -> String {
    if bytes < 0 {
        format!("-{}", size_text_abs(bytes))
    } else {
        size_text_abs(bytes)
    }
}

// ---- disk ----

fn disk_section(db_file: Option<&Path>, places: &Places) -> DiskSection {
    let mut wanted: Vec<(&'static str, PathBuf)> = Vec::new();
    if let Some(f) = db_file {
        let dir = f
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        wanted.push(("数据库目录", dir.to_path_buf()));
    }
    if let Some(p) = &places.photo_dir {
        wanted.push(("照片目录", p.clone()));
    }
    wanted.push(("备份目录", places.backup_root.clone()));
    let mut out = Vec::new();
    let mut unread = Vec::new();
    for (what, path) in wanted {
        match crate::ops::disk::space(&path) {
            Ok(s) => {
                let free_percent = u64_percent(s.free, s.total);
                let status = if s.free < DISK_MIN_FREE_BYTES
                    || free_percent < Decimal::from(DISK_MIN_FREE_PERCENT)
                {
                    Status::Abnormal
                } else if free_percent < Decimal::from(DISK_LOW_FREE_PERCENT) {
                    Status::Attention
                } else {
                    Status::Normal
                };
                out.push(DiskPlace {
                    what,
                    path: path.display().to_string(),
                    free_bytes: s.free,
                    total_bytes: s.total,
                    free_size: size_text(i64::try_from(s.free).unwrap_or(i64::MAX)),
                    free_percent,
                    status,
                    status_name: status.label(),
                });
            }
            Err(e) => unread.push(format!("{what}{}：{e}", path.display())),
        }
    }
    let worst = out.iter().map(|p| p.status).max().unwrap_or(Status::Normal);
    let status = if unread.is_empty() {
        worst
    } else {
        worst.max(Status::Attention)
    };
    let mut parts: Vec<String> = out
        .iter()
        .map(|p| format!("{}剩余{}（{}%）", p.what, p.free_size, p.free_percent))
        .collect();
    parts.extend(unread.iter().map(|u| format!("无法读取{u}")));
    DiskSection {
        judged: judged(status, parts.join("；")),
        places: out,
    }
}

fn u64_percent(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        return Decimal::ZERO;
    }
    Decimal::from(part)
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|p| p.checked_div(Decimal::from(whole)))
        .map_or(Decimal::ZERO, one_decimal)
}

// ---- certificate ----

fn certificate_section(path: Option<&Path>, now: DateTime<Utc>) -> CertificateSection {
    let Some(path) = path else {
        return CertificateSection {
            judged: judged(Status::Normal, "未配置（GUOBAO_TLS_CERT）"),
            configured: false,
            path: None,
            not_after: None,
            days_left: None,
        };
    };
    let shown = path.display().to_string();
    match not_after(path) {
        Ok(t) => {
            let days = (t - now).num_days();
            let when = seconds(t);
            let (status, note) = if t <= now {
                (Status::Abnormal, format!("证书已于{when}过期"))
            } else if days < CERT_WARN_DAYS {
                (
                    Status::Attention,
                    format!("证书将于{when}到期，还剩{days}天"),
                )
            } else {
                (Status::Normal, format!("证书将于{when}到期，还剩{days}天"))
            };
            CertificateSection {
                judged: judged(status, note),
                configured: true,
                path: Some(shown),
                not_after: Some(when),
                days_left: Some(days),
            }
        }
        Err(e) => CertificateSection {
            judged: judged(Status::Abnormal, format!("无法读取证书{shown}：{e}")),
            configured: true,
            path: Some(shown),
            not_after: None,
            days_left: None,
        },
    }
}

/// The certificate's notAfter through `openssl x509 -enddate`.
fn not_after(path: &Path) -> Result<DateTime<Utc>, String> {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-enddate", "-noout", "-in"])
        .arg(path)
        .output()
        .map_err(|e| format!("无法运行openssl：{e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl无法读取：{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_enddate(&text).ok_or_else(|| format!("openssl的输出无法识别：{}", text.trim()))
}

/// `notAfter=Nov 30 18:00:00 2027 GMT` → the instant.
pub fn parse_enddate(text: &str) -> Option<DateTime<Utc>> {
    let rest = text.trim().strip_prefix("notAfter=")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let joined = words.join(" ");
    let t = NaiveDateTime::parse_from_str(&joined, "%b %d %H:%M:%S %Y GMT").ok()?;
    Some(Utc.from_utc_datetime(&t))
}

// ---- the report as lines (the command's text, the workbook, the page) ----

/// One figure of the report as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub section: &'static str,
    pub item: String,
    pub value: Figure,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Int(i64),
    Money(Fen),
    Text(String),
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Int(n) => write!(f, "{n}"),
            Figure::Money(m) => write!(f, "{m}元"),
            Figure::Text(t) => f.write_str(t),
        }
    }
}

fn count(n: usize) -> Figure {
    Figure::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn text(s: impl Into<String>) -> Figure {
    Figure::Text(s.into())
}

fn or_none(v: Option<String>) -> Figure {
    text(v.unwrap_or_else(|| "无".to_string()))
}

/// Every figure of the report, section by section.
pub fn lines(r: &Inspection) -> Vec<Line> {
    let mut out = Vec::new();
    let mut add = |section: &'static str, item: &str, value: Figure| {
        out.push(Line {
            section,
            item: item.to_string(),
            value,
        });
    };
    let s = "备份与恢复测试";
    add(s, "备份目录", text(&r.backup.root));
    add(s, "完整备份份数", count(r.backup.backups));
    match &r.backup.latest {
        None => add(s, "最近一次备份", text("无")),
        Some(b) => {
            add(s, "最近一次备份", text(&b.created_at));
            add(s, "距今小时数", Figure::Int(b.age_hours));
            add(s, "备份数据库", text(b.database));
            add(s, "恢复测试", text(b.restore_test_name));
            add(s, "恢复测试时间", or_none(b.restore_tested_at.clone()));
            if let Some(d) = &b.restore_detail {
                add(s, "恢复测试结果", text(d));
            }
        }
    }
    let s = "审计日志哈希链";
    add(
        s,
        "校验结果",
        text(if r.audit.intact { "完整" } else { "断开" }),
    );
    add(s, "已校验行数", Figure::Int(r.audit.rows));
    add(s, "本月新增行数", Figure::Int(r.audit.month_rows));
    if let Some(b) = &r.audit.broken {
        add(s, "断点", text(b.message()));
    } else {
        add(s, "链头哈希", text(&r.audit.head_hash));
    }
    let s = "登录失败与锁定";
    add(s, "登录失败次数", Figure::Int(r.logins.failures));
    add(s, "涉及用户名数", count(r.logins.accounts));
    add(s, "来源地址数", count(r.logins.addresses));
    add(s, "登录锁定次数", Figure::Int(r.logins.lockouts));
    add(
        s,
        "被锁定",
        or_none((!r.logins.locked.is_empty()).then(|| r.logins.locked.join("、"))),
    );
    add(
        s,
        "自助查询锁定次数",
        Figure::Int(r.logins.self_service_lockouts),
    );
    let s = "24小时查勘";
    add(s, "本月报案", Figure::Int(r.surveys.reported));
    add(s, "按时查勘", Figure::Int(r.surveys.on_time));
    add(s, "超时查勘", Figure::Int(r.surveys.late));
    add(s, "逾期未查勘", Figure::Int(r.surveys.overdue));
    add(s, "未到期未查勘", Figure::Int(r.surveys.pending));
    add(
        s,
        "报案即拒赔（不需查勘）",
        Figure::Int(r.surveys.declined_unsurveyed),
    );
    add(
        s,
        "按时率",
        or_none(r.surveys.on_time_percent.map(|p| format!("{p}%"))),
    );
    add(
        s,
        "超时查勘的赔案",
        or_none((!r.surveys.late_claims.is_empty()).then(|| r.surveys.late_claims.join("、"))),
    );
    add(
        s,
        "逾期未查勘的赔案",
        or_none(
            (!r.surveys.overdue_claims.is_empty()).then(|| r.surveys.overdue_claims.join("、")),
        ),
    );
    let s = "赔款支付时限";
    add(s, "统计截至", text(&r.payments.as_of));
    add(s, "逾期未付赔案", count(r.payments.overdue));
    add(s, "逾期欠付金额", Figure::Money(r.payments.owed));
    for p in &r.payments.claims {
        add(
            s,
            &format!("赔案 {}", p.claim_no),
            text(format!(
                "{}确认，应于{}前支付，逾期{}天，欠付{}元",
                p.agreed_on, p.due_on, p.days_overdue, p.owed
            )),
        );
    }
    let s = "系统错误";
    add(s, "错误次数", Figure::Int(r.errors.total));
    for c in &r.errors.by_code {
        add(s, &format!("错误代码 {}", c.name), Figure::Int(c.count));
    }
    if let Some(e) = &r.errors.last {
        add(
            s,
            "最近一次",
            // The route stays in the JSON: the page shows no API paths.
            text(format!(
                "{}，状态码{}，请求编号 {}",
                e.at, e.status, e.request_id
            )),
        );
    }
    let s = "数据库大小与增长";
    add(s, "数据库", text(r.storage.database));
    add(s, "数据库大小", text(&r.storage.db_size));
    add(s, "数据库字节数", Figure::Int(r.storage.db_bytes));
    add(
        s,
        &format!("{}记录的字节数", r.storage.previous_month),
        or_none(r.storage.previous_bytes.map(|b| b.to_string())),
    );
    add(
        s,
        "增长",
        or_none(
            r.storage
                .growth_bytes
                .map(|g| match r.storage.growth_percent {
                    Some(p) => format!("{}（{p}%）", signed_size(g)),
                    None => signed_size(g),
                }),
        ),
    );
    let s = "磁盘剩余空间";
    for p in &r.disk.places {
        add(
            s,
            p.what,
            text(format!(
                "{}：剩余{}，占{}%（{}）",
                p.path, p.free_size, p.free_percent, p.status_name
            )),
        );
    }
    let s = "证书有效期";
    if r.certificate.configured {
        add(s, "证书文件", or_none(r.certificate.path.clone()));
        add(s, "到期时间", or_none(r.certificate.not_after.clone()));
        add(
            s,
            "剩余天数",
            r.certificate
                .days_left
                .map_or_else(|| text("无"), Figure::Int),
        );
    } else {
        add(s, "证书", text("未配置"));
    }
    out
}

/// The report as text for the terminal.
pub fn to_text(r: &Inspection) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "果保 {} 月度巡检（{} 至 {}）：{}",
        r.month, r.from, r.to, r.status_name
    );
    let _ = writeln!(out, "巡检时间：{}", r.computed_at);
    let all = lines(r);
    for sec in &r.sections {
        let _ = writeln!(out);
        let _ = writeln!(out, "【{}】{}：{}", sec.title, sec.status_name, sec.note);
        for l in all.iter().filter(|l| l.section == sec.title) {
            let _ = writeln!(out, "  {}：{}", l.item, l.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_month_is_a_china_calendar_month_in_stored_utc() {
        let m = Month::parse("2026-11").unwrap();
        assert_eq!(clock::to_text(m.start()), "2026-10-31T16:00:00Z");
        assert_eq!(clock::to_text(m.end()), "2026-11-30T16:00:00Z");
        assert_eq!(m.last_day().to_string(), "2026-11-30");
        let dec = Month::parse("2026-12").unwrap();
        assert_eq!(dec.next().to_string(), "2027-01");
        assert_eq!(Month::parse("2027-1").unwrap().previous(), dec);
        assert_eq!(
            Month::parse("2028-02").unwrap().last_day().to_string(),
            "2028-02-29"
        );
        // 2026-11-30 16:30 UTC is already December in China.
        assert_eq!(Month::containing(at("2026-11-30T16:30:00Z")), dec);
        assert_eq!(
            Month::previous_full(at("2026-11-30T16:30:00Z")).to_string(),
            "2026-11"
        );
    }

    #[test]
    fn only_real_months_up_to_now_are_accepted() {
        let now = at("2026-11-15T04:00:00Z");
        for bad in [
            "2026-13",
            "2026-00",
            "abc",
            "2026-1-1",
            "26-11",
            "２０２６-11",
            "2026-",
        ] {
            let e = month_asked(Some(bad), now).unwrap_err();
            assert!(matches!(e, AppError::Validation(_)), "{bad}");
            assert!(e.messages().join("").contains("巡检月份"), "{bad}");
        }
        let e = month_asked(Some("2026-12"), now).unwrap_err();
        assert!(e.messages().join("").contains("还没有到"));
        assert_eq!(
            month_asked(Some("2026-11"), now).unwrap().to_string(),
            "2026-11"
        );
        assert_eq!(month_asked(None, now).unwrap().to_string(), "2026-10");
        assert_eq!(month_asked(Some(" "), now).unwrap().to_string(), "2026-10");
    }

    #[test]
    fn percent_is_exact_to_one_decimal() {
        assert_eq!(percent(2, 3).unwrap().to_string(), "66.7");
        assert_eq!(percent(1, 3).unwrap().to_string(), "33.3");
        assert_eq!(percent(1, 8).unwrap().to_string(), "12.5");
        assert_eq!(percent(3, 3).unwrap().to_string(), "100.0");
        assert_eq!(percent(1, 2000).unwrap().to_string(), "0.1");
        assert_eq!(percent(1, 2001).unwrap().to_string(), "0.0");
        assert_eq!(u64_percent(1, 4).to_string(), "25.0");
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(1536), "1.5 KiB");
        assert_eq!(size_text(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(size_text(-2048), "-2.0 KiB");
    }

    #[test]
    fn openssl_enddate_is_read() {
        let t = parse_enddate("notAfter=Jan  5 08:00:00 2027 GMT\n").unwrap();
        assert_eq!(clock::to_text(t), "2027-01-05T08:00:00Z");
        assert!(parse_enddate("garbage").is_none());
    }

    #[test]
    fn a_missing_backup_root_is_a_finding_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = backup_section(&dir.path().join("none"), Utc::now());
        assert_eq!(s.judged.status, Status::Abnormal);
        assert!(s.latest.is_none());
    }

    #[test]
    fn certificate_not_configured_is_said() {
        let c = certificate_section(None, Utc::now());
        assert_eq!(c.judged.status, Status::Normal);
        assert!(c.judged.note.contains("未配置"));
    }
}
