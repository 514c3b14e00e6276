//! `guobao demo` and `serve --demo`: load the demo county with a progress
//! bar, or, in a build without the `demo` feature, say there is none.

use super::{connect, fail};
use guobao::config::Config;
use guobao::db;
use guobao::error::AppError;
use guobao::error::ErrorCode;
use std::process::ExitCode;

pub fn run(config: &Config) -> ExitCode {
    match available()
        .and_then(|()| connect(config))
        .and_then(|mut c| load(&mut c))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, false),
    }
}

/// Whether this build carries the demo data (the `demo` feature).
pub fn available() -> Result<(), AppError> {
    if cfg!(feature = "demo") {
        Ok(())
    } else {
        Err(AppError::invalid(
            "demo",
            ErrorCode::DemoUnavailable,
            "此版本编译时未包含演示数据（demo 功能），无法载入演示县；请使用包含默认功能的版本",
        ))
    }
}

#[cfg(not(feature = "demo"))]
pub fn load(_conn: &mut db::DbConn) -> Result<(), AppError> {
    available()
}

#[cfg(feature = "demo")]
pub fn load(conn: &mut db::DbConn) -> Result<(), AppError> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("载入演示数据 {bar:40} {pos}/{len} 户 {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let summary = guobao::demo::load::load(conn, &mut |done, total| {
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
    println!(
        "演示账号（密码均为 {}）：",
        guobao::demo::load::DEMO_PASSWORD
    );
    for (u, _, role, _) in guobao::demo::load::demo_accounts().iter().take(5) {
        println!("  {u:<12} {}", role.name());
    }
    println!("  station01 … station15 为各乡镇林业站");
    Ok(())
}
