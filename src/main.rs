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

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
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
