//! `guobao user`: create an account, set a password, revoke a user's tokens
//! and sessions, lift a login lock. Passwords come from a prompt or stdin,
//! never from argv (which shell history and `ps` keep).

use super::{connect, fail, UserCommand};
use guobao::app;
use guobao::config::Config;
use guobao::error::{AppError, ErrorCode};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

/// The password: the first line of stdin, or typed twice at a prompt.
fn read_password(from_stdin: bool) -> Result<String, AppError> {
    if from_stdin {
        use std::io::Read;
        let mut line = String::new();
        // One line, at most 4 KiB of it (a password is far shorter).
        std::io::stdin()
            .lock()
            .take(4096)
            .read_line(&mut line)
            .map_err(|e| AppError::Internal(format!("无法读取标准输入：{e}")))?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            return Err(AppError::invalid(
                "password",
                ErrorCode::PasswordTooShort,
                "标准输入的第一行是空的：请在第一行提供密码",
            ));
        }
        return Ok(pw);
    }
    if !std::io::stdin().is_terminal() {
        return Err(AppError::invalid(
            "password",
            ErrorCode::PasswordTooShort,
            "没有终端可以输入密码：请用 --password-stdin 从标准输入提供密码",
        ));
    }
    let first = rpassword::prompt_password("密码（输入时不显示）：")
        .map_err(|e| AppError::Internal(format!("无法读取密码：{e}")))?;
    let again = rpassword::prompt_password("再次输入密码：")
        .map_err(|e| AppError::Internal(format!("无法读取密码：{e}")))?;
    if first != again {
        return Err(AppError::invalid(
            "password",
            ErrorCode::PasswordUnchanged,
            "两次输入的密码不一致",
        ));
    }
    Ok(first)
}

pub fn run(command: UserCommand, config: &Config) -> ExitCode {
    match command {
        UserCommand::Add {
            username,
            role,
            township,
            name,
            password_stdin,
            must_change,
            password,
        } => {
            if password.is_some() {
                return fail(
                    &AppError::invalid(
                        "password",
                        ErrorCode::QueryInvalid,
                        "为安全起见，密码不能写在命令行上（会留在命令历史和进程列表中）：请去掉 --password，改用 --password-stdin，或在终端中按提示输入",
                    ),
                    false,
                );
            }
            let res = read_password(password_stdin).and_then(|pw| {
                let mut c = connect(config)?;
                app::auth::create_user(
                    &mut c,
                    &app::auth::NewAccount {
                        username: &username,
                        display_name: name.as_deref().unwrap_or(&username),
                        password: &pw,
                        role: &role,
                        township_code: township.as_deref(),
                        must_change_password: must_change,
                    },
                )
                .and_then(|u| {
                    app::audit::record(
                        &mut c,
                        &app::Actor::system(),
                        "account_create",
                        "user",
                        u.id,
                        None::<&()>,
                        Some(&serde_json::json!({"username": u.username, "role": u.role, "by": "cli"})),
                    )?;
                    Ok(u)
                })
            });
            match res {
                Ok(u) => {
                    println!("已创建账号 {}（{}）", u.username, u.role);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        UserCommand::Passwd {
            username,
            password_stdin,
            must_change,
        } => {
            let res = read_password(password_stdin).and_then(|pw| {
                let mut c = connect(config)?;
                app::accounts::set_password_by_name(&mut c, &username, &pw, must_change)
            });
            match res {
                Ok(()) => {
                    println!("已设置 {username} 的密码；其登录和API令牌已全部失效");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        UserCommand::Revoke { username } => {
            let res = connect(config).and_then(|mut c| {
                let tokens = app::accounts::revoke_all_by_name(&mut c, &username)?;
                let u = app::accounts::by_username(&mut c, &username)?;
                let sessions = app::sessions::end_all(&mut c, u.id)?;
                Ok((tokens, sessions))
            });
            match res {
                Ok((tokens, sessions)) => {
                    println!("已吊销 {username} 的 {tokens} 个API令牌，结束 {sessions} 个页面会话");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        UserCommand::Unlock { username } => {
            match connect(config).and_then(|mut c| app::accounts::unlock_by_name(&mut c, &username))
            {
                Ok(true) => {
                    println!("已解除 {username} 的登录锁定");
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    println!("{username} 没有被锁定");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
    }
}
