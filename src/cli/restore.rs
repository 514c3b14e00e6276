//! `guobao [--photo-store P] restore DIR`: a backup into an empty
//! database (the global `--database-url`) and photo store, then every table
//! compared with the backup's manifest.

use super::backup::{table_bar, DIFFERS};
use super::{fail, RestoreArgs};
use guobao::config::Config;
use guobao::ops::backup;
use serde_json::json;
use std::process::ExitCode;

pub fn run(args: RestoreArgs, config: &Config) -> ExitCode {
    let url = config.database_url();
    let shown = backup::postgres::split_password(url).0;
    let json = args.json;
    let found = match backup::open(&args.dir) {
        Ok(b) => b,
        Err(e) => return fail(&e, json),
    };
    eprintln!("正在把{}恢复到{shown} …", found.dir.display());
    let (bar, mut progress) = table_bar("核对恢复结果");
    let store = match guobao::photo_store::PhotoStore::open(config) {
        Ok(s) => s,
        Err(e) => return fail(&guobao::error::AppError::Internal(e), json),
    };
    let checked = backup::restore(&found, url, Some(&store), &mut progress);
    bar.finish_and_clear();
    let checked = match checked {
        Ok(c) => c,
        Err(e) => return fail(&e, json),
    };
    if json {
        println!(
            "{}",
            json!({
                "dir": found.dir,
                "database_url": shown,
                "ok": checked.ok(),
                "tables": checked.tables,
                "schema_version": checked.schema_version,
                "photos": checked.photos,
                "differences": checked.differences,
            })
        );
    } else {
        println!("已恢复：{} → {shown}", found.dir.display());
        if checked.ok() {
            println!(
                "核对通过：{} 张表、{} 行、{} 张照片与备份清单一致（数据库版本 {}）",
                checked.tables.len(),
                checked.rows(),
                checked.photos.count,
                checked.schema_version
            );
        } else {
            println!("核对未通过，与备份清单不一致：");
            for d in &checked.differences {
                println!("  {d}");
            }
        }
    }
    if checked.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DIFFERS)
    }
}
