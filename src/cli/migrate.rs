//! `guobao migrate`: bring the database schema up to date.

use super::fail;
use guobao::config::Config;
use guobao::error::AppError;
use guobao::startup;
use std::process::ExitCode;

pub fn run(config: &Config) -> ExitCode {
    let url = config.database_url();
    match startup::prepare_database(url) {
        Ok(_) => {
            println!("数据库已是最新：{}", guobao::db::redacted(url));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&AppError::Internal(e), false),
    }
}
