//! `guobao user add`: create an account.

use super::{connect, fail, UserCommand};
use guobao::app;
use guobao::config::Config;
use std::process::ExitCode;

pub fn run(command: UserCommand, config: &Config) -> ExitCode {
    let UserCommand::Add {
        username,
        password,
        role,
        township,
        name,
    } = command;
    let res = connect(config).and_then(|mut c| {
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
