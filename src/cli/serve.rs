//! `guobao serve`: migrate, load the demo county when asked, mark expired
//! policies, then run the web app until stopped.

use super::fail;
use guobao::app;
use guobao::config::Config;
use guobao::db;
use guobao::error::AppError;
use guobao::error::ErrorCode;
use guobao::startup;
use std::process::ExitCode;

pub fn run(bind: &str, demo: bool, config: &Config) -> ExitCode {
    if demo {
        if let Err(e) = super::demo::available() {
            return fail(&e, false);
        }
    }
    let url = config.database_url();
    app::fault::arm(&config.fault_points);
    let lock_wait = config.lock_wait.unwrap_or(db::LOCK_WAIT);
    let pool = match startup::prepare_database_sized(url, lock_wait, config.server.pool_size) {
        Ok(p) => p,
        Err(e) => return fail(&AppError::Internal(e), false),
    };
    if demo {
        let mut conn = match pool.get() {
            Ok(c) => c,
            Err(e) => return fail(&AppError::from(e), false),
        };
        match super::demo::load(&mut conn) {
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
    let mut settings = startup::Settings::from_config(config);
    match guobao::photo_store::PhotoStore::open(config) {
        Ok(p) => settings.photos = Some(p),
        Err(e) => return fail(&AppError::Internal(e), false),
    }
    // Expiry on the server's own clock, in China dates.
    if let Ok(mut conn) = pool.get() {
        if let Err(e) = app::policies::expire_due(&mut conn, settings.clock.today()) {
            log::warn!("标记到期保单失败：{e}");
        }
    }
    let listener = match std::net::TcpListener::bind(bind) {
        Ok(l) => l,
        Err(e) => return fail(&AppError::Internal(format!("无法监听 {bind}：{e}")), false),
    };
    let settings = match listener.local_addr() {
        Ok(addr) => settings.for_listener(config, addr),
        Err(_) => settings,
    };
    let shown = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| bind.to_string());
    // Printed on one line so scripts and tests can find the address.
    let photos = settings
        .photos
        .as_ref()
        .map(|p| p.location().to_string())
        .unwrap_or_default();
    println!(
        "果保已启动：http://{shown}/  数据库：{}  照片存储：{photos}",
        db::redacted(url)
    );
    let result = actix_web::rt::System::new()
        .block_on(async move { startup::run(pool, listener, settings)?.await });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&AppError::Internal(e.to_string()), false),
    }
}
