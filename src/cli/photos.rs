//! `guobao photos move-out`: photo bytes still in the database go to the
//! photo store, a batch per commit, with progress on the way.

use super::{connect, fail, PhotosCommand};
use guobao::app::photos;
use guobao::config::Config;
use guobao::error::AppError;
use guobao::photo_store::PhotoStore;
use std::process::ExitCode;

pub fn run(command: PhotosCommand, config: &Config) -> ExitCode {
    let PhotosCommand::MoveOut {
        batch,
        max_batches,
        json,
    } = command;
    let store = match PhotoStore::open(config).and_then(|s| s.blocking()) {
        Ok(s) => s,
        Err(e) => return fail(&AppError::Internal(e), json),
    };
    let mut conn = match connect(config) {
        Ok(c) => c,
        Err(e) => return fail(&e, json),
    };
    if !json {
        println!("照片存储：{}", store.store().location());
    }
    let report = photos::move_out(&mut conn, &store, batch, max_batches, |p| {
        if !json {
            println!("{}：本次已移出 {} 张，尚余 {} 张", p.table, p.moved, p.left);
        }
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => return fail(&e, json),
    };
    if json {
        println!("{}", serde_json::json!(report));
    } else {
        for m in &report.mismatches {
            println!(
                "未移出：{} 第 {} 行的内容摘要 {} 与记录的 {} 不符，请人工核查",
                m.table, m.id, m.actual, m.recorded
            );
        }
        println!(
            "完成：本次移出 {} 张（{} 批），数据库中尚余 {} 张照片未移出",
            report.moved, report.batches, report.left
        );
    }
    ExitCode::SUCCESS
}
