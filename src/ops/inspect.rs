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

mod database;
mod host;
mod lines;
mod report;
pub mod sheet;

use database::*;
pub use database::{percent, size_text};
pub use host::parse_enddate;
use host::*;
pub use lines::{lines, to_text, Figure, Line};
pub use report::*;

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
