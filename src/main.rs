//! The `guobao` command: serve the web app, migrate, manage users, and the
//! quote / eligibility calculators.

// No panics on input (issue 9): non-test code may not unwrap, expect, panic,
// index or byte-slice. Unit tests (`cfg(test)`) may; every remaining `allow`
// says why its construct cannot fail.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice
    )
)]

use clap::{Args, Parser, Subcommand};
use guobao::app;
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
struct Cli {
    /// sqlite://path/to/file.db (or a plain path) or postgres://user@host/db
    #[arg(long, global = true, env = "GUOBAO_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    Quote {
        #[arg(long)]
        scheme: String,
        #[arg(long)]
        variety: String,
        #[arg(long)]
        mu: String,
        #[arg(long)]
        json: bool,
    },
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
    RosterTemplate {
        #[arg(long)]
        township: String,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
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
}

#[derive(Subcommand)]
enum ClaimsCommand {
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
enum ReportCommand {
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
enum ImportCommand {
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
enum ExportCommand {
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
    HouseholdList {
        #[arg(long)]
        township: Option<String>,
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// 保单清单.
    Policies {
        #[arg(long)]
        township: Option<String>,
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// 地块投保条件清单.
    Eligibility {
        #[arg(long)]
        township: Option<String>,
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// admin | county_forestry | township | underwriter | adjuster | finance
        #[arg(long)]
        role: String,
        /// Township code, required for role township.
        #[arg(long)]
        township: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Mark issued policies whose cover has ended as expired.
    Expire {
        /// YYYY-MM-DD, today by default.
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Args)]
struct EligibilityArgs {
    #[arg(long)]
    scheme: String,
    #[arg(long)]
    variety: String,
    #[arg(long)]
    tree_age: Option<String>,
    #[arg(long)]
    fruit_per_tree: Option<String>,
    #[arg(long)]
    tree_count: Option<String>,
    /// Other numeric attributes: --attr slope_degrees=20
    #[arg(long = "attr", value_parser = parse_kv)]
    attrs: Vec<(String, String)>,
    #[arg(long)]
    json: bool,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("应为 名称=数值：{s}"))
}

const DEFAULT_DB: &str = "guobao.db";

fn fail(err: &AppError, json: bool) -> ExitCode {
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

fn open(url: &str, lock_wait: std::time::Duration) -> Result<db::PooledConn, AppError> {
    let pool = startup::prepare_database_with(url, lock_wait).map_err(AppError::Internal)?;
    Ok(pool.get()?)
}

/// A scheme by code: from the database when one is configured or present,
/// else from the definitions shipped in the binary.
fn scheme_def(
    url: Option<&str>,
    code: &str,
) -> Result<guobao::domain::scheme::SchemeDef, AppError> {
    let url = url.map(str::to_string).or_else(|| {
        std::path::Path::new(DEFAULT_DB)
            .exists()
            .then(|| DEFAULT_DB.to_string())
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

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let config = match guobao::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("错误：{e}");
            return ExitCode::from(2);
        }
    };
    let lock_wait = config.lock_wait.unwrap_or(db::LOCK_WAIT);
    let url_arg = cli
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok());
    let url = url_arg.clone().unwrap_or_else(|| DEFAULT_DB.to_string());
    match cli.command {
        Command::Serve { bind, demo } => serve(&url, &bind, demo, &config),
        Command::Migrate => match startup::prepare_database(&url) {
            Ok(_) => {
                println!("数据库已是最新：{url}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&AppError::Internal(e), false),
        },
        Command::Demo => match open(&url, lock_wait).and_then(|mut c| load_demo(&mut c)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e, false),
        },
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    password,
                    role,
                    township,
                    name,
                },
        } => {
            let res = open(&url, lock_wait).and_then(|mut c| {
                app::auth::create_user(
                    &mut c,
                    &app::auth::NewAccount {
                        username: &username,
                        display_name: name.as_deref().unwrap_or(&username),
                        password: &password,
                        role: &role,
                        township_code: township.as_deref(),
                    },
                )
            });
            match res {
                Ok(u) => {
                    println!("已创建账号 {}（{}）", u.username, u.role);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        Command::Quote {
            scheme,
            variety,
            mu,
            json,
        } => {
            let res = scheme_def(url_arg.as_deref(), &scheme)
                .and_then(|def| app::schemes::quote(&def, &variety, &mu));
            match res {
                Ok(q) if json => {
                    println!("{}", serde_json::to_string(&q).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Ok(q) => {
                    println!(
                        "方案：{}  品种：{}  面积：{} 亩",
                        q.scheme, q.variety_name, q.mu
                    );
                    println!("保险金额：{} 元", q.sum_insured);
                    println!("保费：    {} 元", q.premium);
                    println!("农户自缴：{} 元", q.grower_share);
                    println!("财政补贴：{} 元", q.subsidy);
                    for l in &q.subsidy_levels {
                        println!("  {}（{}%）：{} 元", l.name, l.percent, l.amount);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::Eligibility(a) => {
            let mut facts = Vec::new();
            for (name, v) in [
                ("tree_age", &a.tree_age),
                ("fruit_per_tree", &a.fruit_per_tree),
                ("tree_count", &a.tree_count),
            ] {
                if let Some(v) = v {
                    facts.push((name.to_string(), v.clone()));
                }
            }
            facts.extend(a.attrs.iter().cloned());
            let res = scheme_def(url_arg.as_deref(), &a.scheme)
                .and_then(|def| app::schemes::eligibility(&def, &a.variety, &facts));
            match res {
                Ok(v) if a.json => {
                    println!("{}", serde_json::to_string(&v).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Ok(v) => {
                    if v.eligible {
                        println!("符合投保条件");
                    } else {
                        println!("不符合投保条件：");
                        for r in &v.reasons {
                            println!("  - {}（{}）", r.message, r.code);
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, a.json),
            }
        }
        Command::Import {
            command:
                ImportCommand::Roster {
                    file,
                    township,
                    scheme,
                    dry_run,
                    json,
                    error_report,
                },
        } => match open(&url, lock_wait).and_then(|mut c| {
            import_roster(
                &mut c,
                &file,
                &township,
                scheme.as_deref(),
                dry_run,
                json,
                error_report.as_deref(),
                config.limits.read_options(),
            )
        }) {
            Ok(true) => ExitCode::SUCCESS,
            // Every row refused: nothing was (or would be) imported.
            Ok(false) => ExitCode::from(2),
            Err(e) => fail(&e, json),
        },
        Command::Import {
            command:
                ImportCommand::Plots {
                    file,
                    township,
                    dry_run,
                    json,
                },
        } => import_plots(&url, &file, &township, dry_run, json, &config),
        Command::Export {
            command:
                ExportCommand::Geojson {
                    township,
                    village,
                    output,
                },
        } => {
            let res = open(&url, lock_wait).and_then(|mut c| {
                let text = app::boundaries::export(
                    &mut c,
                    &app::Actor::system(),
                    &township,
                    village.as_deref(),
                )?;
                write_file(&output, text.as_bytes())
            });
            match res {
                Ok(()) => {
                    println!("已写出 {}", output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        Command::RosterTemplate {
            township,
            scheme,
            output,
        } => {
            let res = open(&url, lock_wait).and_then(|mut c| {
                let bytes = app::reports::roster_template(
                    &mut c,
                    &app::Actor::system(),
                    &township,
                    scheme.as_deref(),
                )?;
                write_file(&output, &bytes)
            });
            match res {
                Ok(()) => {
                    println!("已写出花名册模板：{}", output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        Command::Export { command } => {
            let (kind, township, village, scheme, output) = match command {
                ExportCommand::HouseholdList {
                    township,
                    village,
                    scheme,
                    output,
                } => ("household", township, village, scheme, output),
                ExportCommand::Eligibility {
                    township,
                    village,
                    scheme,
                    output,
                } => ("eligibility", township, village, scheme, output),
                ExportCommand::Policies {
                    township,
                    village,
                    scheme,
                    output,
                } => ("policies", township, village, scheme, output),
                ExportCommand::Geojson { .. } => unreachable!("matched before"),
            };
            let res = open(&url, lock_wait).and_then(|mut c| {
                let scope = app::reports::Scope {
                    township_code: township,
                    village_code: village,
                    scheme,
                };
                let actor = app::Actor::system();
                let table = match kind {
                    "household" => app::reports::household_list(&mut c, &actor, &scope)?,
                    "policies" => app::reports::policy_list(&mut c, &actor, &scope)?,
                    _ => app::reports::eligibility_report(&mut c, &actor, &scope)?,
                };
                let rows = table.rows.len();
                let bytes = guobao::excel::write::tables_to_xlsx(&[table])
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                write_file(&output, &bytes)?;
                Ok(rows)
            });
            match res {
                Ok(rows) => {
                    println!("已写出 {}（{} 行）", output.display(), rows);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        Command::Claims {
            command:
                ClaimsCommand::Overdue {
                    warn_hours,
                    at,
                    json,
                },
        } => {
            let now = match at {
                Some(t) => match app::clock::parse_input("at", "时间", &t) {
                    Ok(t) => t,
                    Err(e) => return fail(&e, json),
                },
                None => chrono::Utc::now(),
            };
            let res = open(&url, lock_wait).and_then(|mut c| {
                app::claims::overdue(&mut c, &app::Actor::system(), now, warn_hours)
            });
            match res {
                Ok(items) => {
                    print_overdue(&items, json);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::Report {
            command:
                ReportCommand::Subsidy {
                    scheme,
                    level,
                    json,
                    output,
                },
        } => report_subsidy(&url, scheme, level, json, output),
        Command::Policies {
            command: PolicyCommand::Expire { today },
        } => {
            let today = match today {
                Some(t) => match chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
                    Ok(d) => d,
                    Err(_) => {
                        return fail(
                            &AppError::invalid(
                                "today",
                                ErrorCode::DateInvalid,
                                "日期格式应为YYYY-MM-DD",
                            ),
                            false,
                        )
                    }
                },
                None => chrono::Utc::now().date_naive(),
            };
            match open(&url, lock_wait).and_then(|mut c| app::policies::expire_due(&mut c, today)) {
                Ok(n) => {
                    println!("已将 {n} 份到期保单标记为已到期");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
    }
}

fn print_overdue(items: &[app::claims::BoardItem], json: bool) {
    if json {
        let rows: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "claim_no": i.claim.claim_no, "status": i.claim.status,
                    "grower": i.claim.grower_name, "township": i.claim.township_name,
                    "reported_at": i.claim.reported_at, "survey_due_at": i.claim.survey_due_at,
                    "minutes_left": i.minutes_left, "urgency": i.urgency,
                    "adjuster": i.claim.adjuster,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "items": rows })).unwrap_or_default()
        );
        return;
    }
    if items.is_empty() {
        println!("没有超时或临近时限的待查勘赔案");
        return;
    }
    let overdue = items.iter().filter(|i| i.urgency == "overdue").count();
    println!(
        "超过查勘时限 {overdue} 件，临近时限 {} 件：",
        items.len() - overdue
    );
    for i in items {
        println!(
            "{}  {}  {}  {}  时限 {}  查勘员 {}",
            if i.urgency == "overdue" {
                "[超时]"
            } else {
                "[临近]"
            },
            i.claim.claim_no,
            i.claim.township_name,
            i.claim.grower_name,
            i.claim.survey_due_display,
            i.claim.adjuster.as_deref().unwrap_or("未派工"),
        );
        println!("        {}", i.time_left);
    }
}

fn report_subsidy(
    url: &str,
    scheme: Option<String>,
    level: Option<String>,
    json: bool,
    output: Option<std::path::PathBuf>,
) -> ExitCode {
    let query = app::finance::StatementQuery {
        scheme: scheme.unwrap_or_default(),
        level: level.unwrap_or_default(),
        township: String::new(),
    };
    let res = open(url, db::LOCK_WAIT).and_then(|mut c| {
        let st = app::finance::statement(&mut c, &app::Actor::system(), &query)?;
        if let Some(path) = &output {
            write_file(path, &app::finance::statement_xlsx(&st)?)?;
        }
        Ok(st)
    });
    let st = match res {
        Ok(st) => st,
        Err(e) => return fail(&e, json),
    };
    if json {
        match serde_json::to_string(&st) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&AppError::Internal(e.to_string()), true),
        }
    } else {
        let levels: Vec<String> = st.levels.iter().map(|l| l.name.clone()).collect();
        println!(
            "{} 保费补贴结算表（{}）",
            st.scheme_name,
            if st.lock.is_some() {
                "已锁定"
            } else {
                "未锁定"
            }
        );
        println!(
            "乡镇\t保单数\t投保面积(亩)\t保费\t农户自缴\t财政补贴\t{}\t应拨补贴",
            levels.join("\t")
        );
        let line = |name: &str, f: &app::finance::Figures| {
            let lv: Vec<String> = f.levels.iter().map(|l| l.amount.to_string()).collect();
            println!(
                "{name}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                f.policies,
                f.insured_mu,
                f.premium,
                f.grower_share,
                f.subsidy,
                lv.join("\t"),
                f.subsidy_due
            );
        };
        for r in &st.rows {
            line(&r.township_name, &r.figures);
        }
        line("合计", &st.totals);
    }
    if let Some(path) = &output {
        if !json {
            println!("已写出 {}", path.display());
        }
    }
    ExitCode::SUCCESS
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), AppError> {
    std::fs::write(path, bytes).map_err(|e| {
        AppError::invalid(
            "output",
            ErrorCode::OutputUnwritable,
            format!("无法写入{}：{e}", path.display()),
        )
    })
}

#[allow(clippy::too_many_arguments)] // one per command-line option
fn import_roster(
    conn: &mut db::DbConn,
    file: &std::path::Path,
    township: &str,
    scheme: Option<&str>,
    dry_run: bool,
    json: bool,
    error_report: Option<&std::path::Path>,
    options: guobao::excel::read::ReadOptions,
) -> Result<bool, AppError> {
    // Never more than one byte past the limit: the reader then refuses the
    // file with its own message, and a 10 GB file is not read into memory.
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| {
            use std::io::Read;
            f.take(
                u64::try_from(options.max_bytes)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
            )
            .read_to_end(&mut bytes)
        })
        .map_err(|e| {
            AppError::invalid(
                "file",
                ErrorCode::FileUnreadable,
                format!("无法读取{}：{e}", file.display()),
            )
        })?;
    let actor = app::Actor::system();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(if dry_run {
        "正在检查花名册…"
    } else {
        "正在导入花名册…"
    });
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let req = app::import::ImportRequest {
        township_code: township,
        scheme: scheme.unwrap_or(""),
        filename: &file.display().to_string(),
        bytes: &bytes,
        options,
    };
    let started = std::time::Instant::now();
    let result = if dry_run {
        app::import::preview(conn, &actor, &req)
    } else {
        app::import::commit(conn, &actor, &req)
    };
    spinner.finish_and_clear();
    let rep = result?;
    if let Some(path) = error_report {
        let bytes =
            guobao::excel::write::error_report(&rep.headers, &app::import::error_rows(&rep))
                .map_err(|e| AppError::Internal(e.to_string()))?;
        write_file(path, &bytes)?;
    }
    let c = &rep.counts;
    let nothing_accepted = c.rows > 0 && c.rejected == c.rows;
    if nothing_accepted {
        eprintln!(
            "错误：花名册的{}行数据全部被拒收，未导入任何数据；请按每行列出的原因修改后重新导入",
            c.rows
        );
    }
    if json {
        println!("{}", serde_json::to_string(&rep).unwrap_or_default());
        return Ok(!nothing_accepted);
    }
    println!(
        "{}：{} 工作表“{}”（第{}行为表头）",
        if dry_run {
            "预览（未写入）"
        } else {
            "已导入"
        },
        rep.township,
        rep.sheet,
        rep.header_row
    );
    println!(
        "共{}行：新增{}，变更{}，无变化{}，拒收{}；其中不符合投保条件{}（新增农户{}，变更农户{}）用时{:.1}秒",
        c.rows, c.new, c.changed, c.unchanged, c.rejected, c.ineligible, c.new_growers, c.changed_growers,
        started.elapsed().as_secs_f64()
    );
    for r in rep.rows.iter().filter(|r| !r.problems.is_empty()) {
        for p in &r.problems {
            if p.column.is_empty() {
                println!("  第{}行：{}", r.row, p.message);
            } else {
                println!(
                    "  第{}行 {}列（{}）：{}",
                    r.row, p.column, p.field, p.message
                );
            }
        }
    }
    Ok(!nothing_accepted)
}

fn import_plots(
    url: &str,
    file: &std::path::Path,
    township: &str,
    dry_run: bool,
    json: bool,
    config: &guobao::config::Config,
) -> ExitCode {
    let max = config.limits.max_upload_bytes;
    let unreadable = |e: std::io::Error| {
        AppError::invalid(
            "file",
            ErrorCode::FileUnreadable,
            format!("无法读取{}：{e}", file.display()),
        )
    };
    // The size before the content: a file over the limit is never read.
    let res = std::fs::metadata(file)
        .map_err(unreadable)
        .and_then(|m| {
            if m.len() > u64::try_from(max).unwrap_or(u64::MAX) {
                return Err(AppError::invalid(
                    "file",
                    ErrorCode::FileTooLarge,
                    format!("GeoJSON文件超过{}MB上限", max / (1024 * 1024)),
                ));
            }
            std::fs::read_to_string(file).map_err(unreadable)
        })
        .and_then(|text| {
            let mut c = open(url, config.lock_wait.unwrap_or(db::LOCK_WAIT))?;
            app::boundaries::import(&mut c, &app::Actor::system(), township, &text, dry_run)
        });
    let r = match res {
        Ok(r) => r,
        Err(e) => return fail(&e, json),
    };
    if json {
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let c = &r.counts;
    println!(
        "{}：{} 要素{}个：更新{}，无变化{}，未找到地块{}，无效{}；面积差异超限{}，与其他投保地块重叠{}",
        if dry_run { "预览（未写入）" } else { "已导入" },
        r.township, c.features, c.updated, c.unchanged, c.not_found, c.invalid, c.area_mismatch, c.overlapping
    );
    for f in &r.features {
        if let Some(m) = &f.message {
            println!("  第{}个要素（{}）：{}", f.feature, f.code, m);
        }
        if f.area_mismatch {
            println!(
                "  {}：申报{}亩，图斑{}亩",
                f.code,
                f.declared_mu.unwrap_or_default(),
                f.polygon_mu.unwrap_or_default()
            );
        }
        if !f.overlaps.is_empty() {
            println!("  {}：与{}重叠", f.code, f.overlaps.join("、"));
        }
    }
    ExitCode::SUCCESS
}

fn load_demo(conn: &mut db::DbConn) -> Result<(), AppError> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("载入演示数据 {bar:40} {pos}/{len} 户 {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let summary = app::demo_load::load(conn, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    println!(
        "已载入演示县：{} 个乡镇，{} 个村，{} 户农户，{} 块地，{} 份保单（用时 {:.1} 秒）",
        summary.townships,
        summary.villages,
        summary.growers,
        summary.plots,
        summary.policies,
        started.elapsed().as_secs_f64()
    );
    println!("演示账号（密码均为 {}）：", app::demo_load::DEMO_PASSWORD);
    for (u, _, role, _) in app::demo_load::demo_accounts().iter().take(5) {
        println!("  {u:<12} {}", role.name());
    }
    println!("  station01 … station15 为各乡镇林业站");
    Ok(())
}

fn serve(url: &str, bind: &str, demo: bool, config: &guobao::config::Config) -> ExitCode {
    app::fault::arm(&config.fault_points);
    let lock_wait = config.lock_wait.unwrap_or(db::LOCK_WAIT);
    let pool = match startup::prepare_database_with(url, lock_wait) {
        Ok(p) => p,
        Err(e) => return fail(&AppError::Internal(e), false),
    };
    if demo {
        let mut conn = match pool.get() {
            Ok(c) => c,
            Err(e) => return fail(&AppError::from(e), false),
        };
        match load_demo(&mut conn) {
            Ok(()) => {}
            Err(AppError::Conflict {
                code: ErrorCode::DatabaseNotEmpty,
                ..
            }) => {
                println!("数据库中已有数据，跳过演示数据载入");
            }
            Err(e) => return fail(&e, false),
        }
    }
    if let Ok(mut conn) = pool.get() {
        if let Err(e) = app::policies::expire_due(&mut conn, chrono::Utc::now().date_naive()) {
            log::warn!("标记到期保单失败：{e}");
        }
    }
    let listener = match std::net::TcpListener::bind(bind) {
        Ok(l) => l,
        Err(e) => return fail(&AppError::Internal(format!("无法监听 {bind}：{e}")), false),
    };
    let shown = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| bind.to_string());
    // Printed on one line so scripts and tests can find the address.
    println!("果保已启动：http://{shown}/  数据库：{url}");
    let settings = startup::Settings::from_config(config);
    let result = actix_web::rt::System::new()
        .block_on(async move { startup::run(pool, listener, settings)?.await });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&AppError::Internal(e.to_string()), false),
    }
}
