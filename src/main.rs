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

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// Allocation was a fifth of the server's CPU under load with the system
/// allocator (README, "Load benchmark").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `RUST_LOG` filters as usual (default `info`). In JSON each line is one
/// object: time, level, target and the message; a request line's fields
/// (request_id, user_id, method, path, route, status, ms) are its own keys.
fn init_logging(format: cli::LogFormat) {
    use std::io::Write;
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == cli::LogFormat::Json {
        guobao::web::observe::set_json_lines(true);
        builder.format(|buf, record| {
            let message = record.args().to_string();
            let mut line = serde_json::Map::new();
            line.insert(
                "ts".into(),
                chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    .into(),
            );
            line.insert("level".into(), record.level().as_str().into());
            line.insert("target".into(), record.target().into());
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&message) {
                Ok(fields) if record.target() == "guobao::request" => line.extend(fields),
                _ => {
                    line.insert("message".into(), message.into());
                }
            }
            writeln!(buf, "{}", serde_json::Value::Object(line))
        });
        // A panic's report is a log line too (the default hook writes
        // plain text to stderr, which would break a JSON log).
        std::panic::set_hook(Box::new(|info| {
            log::error!(target: "guobao::panic", "{info}");
        }));
    }
    builder.init();
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::args_error(&e),
    };
    init_logging(cli.log_format);
    let config = match guobao::config::Config::from_env() {
        Ok(c) => c
            .with_database_url(cli.database_url)
            .with_photo_store(cli.photo_store),
        Err(e) => {
            eprintln!("错误：{e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve { bind, demo } => cli::serve::run(&bind, demo, &config),
        Command::Migrate => cli::migrate::run(&config),
        Command::Demo => cli::demo::run(&config),
        Command::User { command } => cli::user::run(command, &config),
        Command::Quote(args) => cli::quote::run(args, &config),
        Command::Eligibility(args) => cli::eligibility::run(args, &config),
        Command::Policies { command } => cli::policies::run(command, &config),
        Command::Import { command } => cli::import::run(command, &config),
        Command::RosterTemplate(args) => cli::roster_template::run(args, &config),
        Command::Export { command } => cli::export::run(command, &config),
        Command::Claims { command } => cli::claims::run(command, &config),
        Command::Report { command } => cli::report::run(command, &config),
        Command::Reconcile(args) => cli::reconcile::run(args, &config),
        Command::Audit { command } => cli::audit::run(command, &config),
        Command::Checks(args) => cli::checks::run(args, &config),
        Command::Backup(args) => cli::backup::run(args, &config),
        Command::Restore(args) => cli::restore::run(args, &config),
        Command::Photos { command } => cli::photos::run(command, &config),
        Command::Inspect(args) => cli::inspect::run(args, &config),
    }
}
