//! The `guobao` command: serve the web app, migrate, manage users, and the
//! quote / eligibility calculators.

use clap::{Args, Parser, Subcommand};
use guobao::app;
use guobao::db;
use guobao::error::AppError;
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
    if err.status().is_server_error() {
        eprintln!("详情：{err}");
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

fn open(url: &str) -> Result<db::PooledConn, AppError> {
    let pool = startup::prepare_database(url).map_err(AppError::Internal)?;
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
        let mut conn = open(&url)?;
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
    let url_arg = cli
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok());
    let url = url_arg.clone().unwrap_or_else(|| DEFAULT_DB.to_string());
    match cli.command {
        Command::Serve { bind, demo } => serve(&url, &bind, demo),
        Command::Migrate => match startup::prepare_database(&url) {
            Ok(_) => {
                println!("数据库已是最新：{url}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&AppError::Internal(e), false),
        },
        Command::Demo => match open(&url).and_then(|mut c| load_demo(&mut c)) {
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
            let res = open(&url).and_then(|mut c| {
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
        Command::Policies {
            command: PolicyCommand::Expire { today },
        } => {
            let today = match today {
                Some(t) => match chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
                    Ok(d) => d,
                    Err(_) => {
                        return fail(
                            &AppError::invalid("today", "date_invalid", "日期格式应为YYYY-MM-DD"),
                            false,
                        )
                    }
                },
                None => chrono::Utc::now().date_naive(),
            };
            match open(&url).and_then(|mut c| app::policies::expire_due(&mut c, today)) {
                Ok(n) => {
                    println!("已将 {n} 份到期保单标记为已到期");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
    }
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

fn serve(url: &str, bind: &str, demo: bool) -> ExitCode {
    let pool = match startup::prepare_database(url) {
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
            Err(AppError::Conflict { code, .. }) if code == "database_not_empty" => {
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
    let settings = startup::Settings::from_env();
    let result = actix_web::rt::System::new()
        .block_on(async move { startup::run(pool, listener, settings)?.await });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&AppError::Internal(e.to_string()), false),
    }
}
