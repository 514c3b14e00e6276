//! The command line: clap's types for every command and the helpers the
//! commands share (error output and exit codes, opening the database, writing
//! files). Each command's work lives in its own file below.

pub mod audit;
pub mod backup;
pub mod checks;
pub mod claims;
pub mod demo;
pub mod eligibility;
pub mod export;
pub mod import;
pub mod inspect;
pub mod migrate;
pub mod photos;
pub mod policies;
pub mod quote;
pub mod reconcile;
pub mod report;
pub mod restore;
pub mod roster_template;
pub mod serve;
pub mod user;

use clap::{Args, Parser, Subcommand};
use guobao::app;
use guobao::config::{Config, DEFAULT_DATABASE_URL};
use guobao::db;
use guobao::error::AppError;
use guobao::error::ErrorCode;
use guobao::startup;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "guobao",
    version,
    about = "果保：政策性果树保险 承保·理赔·补贴"
)]
pub struct Cli {
    /// sqlite://path/to/file.db (or a plain path) or postgres://user@host/db
    #[arg(long, global = true, env = "GUOBAO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where photo bytes are kept: a directory, or s3://bucket/prefix (with
    /// AWS_* for the endpoint and keys). Default: `photos` beside the SQLite
    /// file; `data/photos` for PostgreSQL.
    #[arg(long, global = true, env = "GUOBAO_PHOTO_STORE")]
    pub photo_store: Option<String>,
    /// Log lines as text (default) or as one JSON object per line.
    #[arg(
        long,
        global = true,
        env = "GUOBAO_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start the web app (migrates first).
    Serve {
        #[arg(long, env = "GUOBAO_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load the demo county into an empty database first.
        #[arg(long)]
        demo: bool,
    },
    /// Run pending database migrations.
    Migrate,
    /// Load the demo county into an empty database.
    Demo,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Premium, grower share, subsidy and sum insured for an area.
    Quote(QuoteArgs),
    /// The eligibility verdict for a plot's facts.
    Eligibility(EligibilityArgs),
    /// Policy maintenance.
    Policies {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Import a township roster (花名册) from .xlsx / .xls / .ods.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write the roster template a township fills in.
    RosterTemplate(RosterTemplateArgs),
    /// Export reports as .xlsx.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Claims (理赔).
    Claims {
        #[command(subcommand)]
        command: ClaimsCommand,
    },
    /// Finance bureau reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Reconcile the insurer's or the treasury's statement (.csv, read line
    /// by line, or .xlsx / .xls / .ods) against our subsidy per policy.
    Reconcile(ReconcileArgs),
    /// The audit trail (操作日志).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Fraud and quality checks (风险核查): every finding, grouped by check.
    Checks(ChecksArgs),
    /// Back up the database and photos while the server runs (备份).
    Backup(BackupArgs),
    /// Restore a backup into an empty database and photo store, then check
    /// every table against the backup's manifest (恢复).
    Restore(RestoreArgs),
    /// Survey, notice and inspection photos in the photo store.
    Photos {
        #[command(subcommand)]
        command: PhotosCommand,
    },
    /// The monthly inspection (按月巡检): backups and their restore test, the
    /// audit chain, failed logins, survey and payment deadlines, errors,
    /// database size, disk and certificate; kept as the month's record.
    Inspect(InspectArgs),
}

#[derive(Args)]
pub struct InspectArgs {
    /// The month, YYYY-MM (China time); the previous full month by default.
    #[arg(long)]
    pub month: Option<String>,
    /// The report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as .xlsx.
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    /// The backup root (`GUOBAO_BACKUP_DIR`, else ./backups).
    #[arg(long)]
    pub to: Option<std::path::PathBuf>,
    /// Then keep only the newest N complete backups, this one included.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub keep: Option<u32>,
    /// Then restore the new backup into a scratch place, compare it with its
    /// manifest and record the result there (exit 3 when they differ).
    #[arg(long)]
    pub verify: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Restore a backup into a scratch place, compare it with its manifest
    /// and record the result in the manifest (exit 3 when they differ).
    Verify {
        /// A backup directory, or a backup root for its newest backup
        /// (`GUOBAO_BACKUP_DIR`, else ./backups).
        path: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A backup directory, or a backup root for its newest backup.
    pub dir: std::path::PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum PhotosCommand {
    /// Move photo bytes still kept in the database out into the photo store,
    /// a batch at a time, each batch committed: safe to stop and run again.
    MoveOut {
        /// Photos per batch (per commit), 1 to 10,000.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        batch: i64,
        /// Stop after this many batches (the rest waits for the next run).
        #[arg(long)]
        max_batches: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ChecksArgs {
    /// Only the findings that touch this township (its code).
    #[arg(long)]
    pub township: Option<String>,
    /// Also write the report as .xlsx.
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
    /// The report as JSON, exactly as `GET /api/v1/checks` answers it.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain in id order: exit 0 and print the row count and
    /// the head hash when intact, exit 3 naming the first broken link.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ReconcileArgs {
    pub file: std::path::PathBuf,
    /// insurer | treasury
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub scheme: Option<String>,
    /// Compare one funding level: central | provincial | city | county.
    #[arg(long)]
    pub level: Option<String>,
    /// Write the result (summary and one sheet per group) as .xlsx.
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ClaimsCommand {
    /// Open claims past or near their survey deadline (report time + 24 h).
    Overdue {
        /// "Nearly overdue" means fewer hours left than this (the scheme's warn_hours by default).
        #[arg(long)]
        warn_hours: Option<u32>,
        /// As of this time (China time "2026-06-12 14:30", or RFC 3339); now by default.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// 保费补贴结算表: per township and funding level.
    Subsidy {
        #[arg(long)]
        scheme: Option<String>,
        /// Only this funding level: central | provincial | city | county.
        #[arg(long)]
        level: Option<String>,
        #[arg(long)]
        json: bool,
        /// Write the statement as .xlsx.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Plot boundaries from a GeoJSON FeatureCollection (property `code` names the plot).
    Plots {
        file: std::path::PathBuf,
        #[arg(long)]
        township: String,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Preview (--dry-run) or import a roster for one township.
    Roster {
        file: std::path::PathBuf,
        #[arg(long)]
        township: String,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
        /// Write the rejected rows with their reasons to this .xlsx.
        #[arg(long)]
        error_report: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Plot boundaries of a township (or village) as GeoJSON.
    Geojson {
        #[arg(long)]
        township: String,
        #[arg(long)]
        village: Option<String>,
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// 分户清单 per township (or village).
    HouseholdList(ListArgs),
    /// 保单清单.
    Policies(ListArgs),
    /// 地块投保条件清单.
    Eligibility(ListArgs),
}

// The scope and file of one exported list (household-list, policies, eligibility);
// a plain comment, so the subcommands keep their own help text.
#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    pub township: Option<String>,
    #[arg(long)]
    pub village: Option<String>,
    #[arg(long)]
    pub scheme: Option<String>,
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from a prompt (twice, not
    /// shown) or, with --password-stdin, from the first line of stdin;
    /// never from the command line.
    Add {
        #[arg(long)]
        username: String,
        /// admin | county_forestry | township | underwriter | adjuster | finance
        #[arg(long)]
        role: String,
        /// Township code, required for role township.
        #[arg(long)]
        township: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// The person must choose their own password at first login.
        #[arg(long)]
        must_change: bool,
        /// Refused: a password on the command line stays in shell history
        /// and the process list.
        #[arg(long, hide = true)]
        password: Option<String>,
    },
    /// Set a user's password (prompt or --password-stdin); every session
    /// and token of the user ends.
    Passwd {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
        /// The person must choose their own password at next login.
        #[arg(long)]
        must_change: bool,
    },
    /// Revoke every API token of a user and end their page sessions.
    Revoke {
        #[arg(long)]
        username: String,
    },
    /// Lift a login lock on a user name.
    Unlock {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Mark issued policies whose cover has ended as expired.
    Expire {
        /// YYYY-MM-DD, today by default.
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Args)]
pub struct QuoteArgs {
    #[arg(long)]
    pub scheme: String,
    #[arg(long)]
    pub variety: String,
    #[arg(long)]
    pub mu: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RosterTemplateArgs {
    #[arg(long)]
    pub township: String,
    #[arg(long)]
    pub scheme: Option<String>,
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

#[derive(Args)]
pub struct EligibilityArgs {
    #[arg(long)]
    pub scheme: String,
    #[arg(long)]
    pub variety: String,
    #[arg(long)]
    pub tree_age: Option<String>,
    #[arg(long)]
    pub fruit_per_tree: Option<String>,
    #[arg(long)]
    pub tree_count: Option<String>,
    /// Other numeric attributes: --attr slope_degrees=20
    #[arg(long = "attr", value_parser = parse_kv)]
    pub attrs: Vec<(String, String)>,
    #[arg(long)]
    pub json: bool,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("应为 名称=数值：{s}"))
}

pub fn fail(err: &AppError, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({"error": err.code(), "message": err.messages().join("；"), "fields": err.fields()})
        );
    } else {
        eprintln!("错误：{}", err.messages().join("；"));
    }
    if err.is_server_fault() {
        eprintln!("详情：{err}");
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

pub fn open(url: &str, lock_wait: std::time::Duration) -> Result<db::PooledConn, AppError> {
    let pool = startup::prepare_database_with(url, lock_wait).map_err(AppError::Internal)?;
    Ok(pool.get()?)
}

/// A connection to the configured database, migrated first, waiting for
/// other writers as long as the settings say.
pub fn connect(config: &Config) -> Result<db::PooledConn, AppError> {
    open(
        config.database_url(),
        config.lock_wait.unwrap_or(db::LOCK_WAIT),
    )
}

/// A scheme by code: from the database when one is configured or present,
/// else from the definitions shipped in the binary.
pub fn scheme_def(
    url: Option<&str>,
    code: &str,
) -> Result<guobao::domain::scheme::SchemeDef, AppError> {
    let url = url.map(str::to_string).or_else(|| {
        std::path::Path::new(DEFAULT_DATABASE_URL)
            .exists()
            .then(|| DEFAULT_DATABASE_URL.to_string())
    });
    if let Some(url) = url {
        let mut conn = open(&url, db::LOCK_WAIT)?;
        match app::schemes::by_code(&mut conn, code) {
            Ok(s) => return Ok(s.def),
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    app::schemes::builtin(code).ok_or_else(|| AppError::NotFound(format!("未找到险种方案：{code}")))
}

pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), AppError> {
    std::fs::write(path, bytes).map_err(|e| {
        AppError::invalid(
            "output",
            ErrorCode::OutputUnwritable,
            format!("无法写入{}：{e}", path.display()),
        )
    })
}

/// A command line clap refused: the reason in Chinese first, then clap's own
/// text (the argument, the value, the values allowed), exit 2. Help and
/// version are printed as clap prints them, with clap's exit code.
pub fn args_error(e: &clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let reason = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => "缺少子命令或参数",
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => "参数的取值不正确",
        ErrorKind::UnknownArgument => "不认识的参数",
        ErrorKind::InvalidSubcommand => "没有这个子命令",
        ErrorKind::MissingRequiredArgument => "缺少必需的参数",
        ErrorKind::MissingSubcommand => "缺少子命令",
        ErrorKind::NoEquals => "参数的取值要用“=”写在参数名后",
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            "参数的取值个数不对"
        }
        ErrorKind::ArgumentConflict => "这些参数不能同时使用",
        ErrorKind::InvalidUtf8 => "参数不是有效的 UTF-8 文本",
        _ => "命令行不正确",
    };
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join("、")),
        _ => None,
    };
    let mut line = format!("错误：{reason}");
    if let Some(arg) = context(ContextKind::InvalidArg) {
        line.push_str(&format!("：{arg}"));
    }
    if let Some(value) = context(ContextKind::InvalidValue) {
        line.push_str(&format!("，取值“{value}”"));
    }
    if let Some(valid) = context(ContextKind::ValidValue) {
        line.push_str(&format!("（可用：{valid}）"));
    }
    eprintln!("{line}。用法见 guobao --help");
    let _ = e.print();
    std::process::ExitCode::from(2)
}
