//! `guobao policies expire`: mark issued policies whose cover has ended.

use super::{connect, fail, PolicyCommand};
use guobao::app;
use guobao::config::Config;
use guobao::error::AppError;
use std::process::ExitCode;

pub fn run(command: PolicyCommand, config: &Config) -> ExitCode {
    let PolicyCommand::Expire { today } = command;
    let today = match today {
        Some(t) => match app::clock::input_day("today", "日期", &t) {
            Ok(d) => d,
            Err(e) => return fail(&AppError::from(e), false),
        },
        None => app::clock::Clock::system().today(),
    };
    match connect(config).and_then(|mut c| app::policies::expire_due(&mut c, today)) {
        Ok(n) => {
            println!("已将 {n} 份到期保单标记为已到期");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}
