//! The report's shape: one struct per section, as computed and kept.

use super::*;

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
