//! `guobao policies expire`: mark issued policies whose cover has ended.

use super::{connect, fail, PolicyCommand};
use guobao::app;
use guobao::config::Config;
use guobao::error::AppError;
use guobao::error::ErrorCode;
use std::process::ExitCode;

pub fn run(command: PolicyCommand, config: &Config) -> ExitCode {
    let PolicyCommand::Expire { today } = command;
    let today = match today {
        Some(t) => match chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                return fail(
                    &AppError::invalid("today", ErrorCode::DateInvalid, "日期格式应为YYYY-MM-DD"),
                    false,
                )
            }
        },
        None => chrono::Utc::now().date_naive(),
    };
    match connect(config).and_then(|mut c| app::policies::expire_due(&mut c, today)) {
        Ok(n) => {
            println!("已将 {n} 份到期保单标记为已到期");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}
