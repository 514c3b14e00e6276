//! `guobao audit verify`: walk the audit trail's hash chain and report the
//! first broken link, or the row count and the head hash to write down.

use super::{connect, fail, AuditCommand};
use guobao::config::Config;
use guobao::db::audit_chain;
use guobao::error::AppError;
use std::process::ExitCode;

/// The exit code when the chain is broken (errors are 1 and 2, see `fail`).
const BROKEN: u8 = 3;

pub fn run(command: AuditCommand, config: &Config) -> ExitCode {
    let AuditCommand::Verify { json } = command;
    let res = connect(config).and_then(|mut c| audit_chain::verify(&mut c).map_err(AppError::from));
    let v = match res {
        Ok(v) => v,
        Err(e) => return fail(&e, json),
    };
    match &v.broken {
        None => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "rows": v.rows, "last_id": v.last_id, "head_hash": v.head_hash})
                );
            } else {
                println!("审计日志完整：共 {} 行，哈希链无断点。", v.rows);
                println!("最后一行编号：{}", v.last_id);
                println!("链头哈希：{}", v.head_hash);
                println!("请把链头哈希另行记下（纸面或系统之外），日后核对时它应仍在链上。");
            }
            ExitCode::SUCCESS
        }
        Some(b) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "ok": false,
                        "rows_checked": v.rows,
                        "last_good_id": v.last_id,
                        "last_good_hash": v.head_hash,
                        "broken": b,
                        "id": b.id(),
                        "message": b.message(),
                    })
                );
            } else {
                println!("审计日志已被篡改：{}", b.message());
                println!(
                    "断点之前完好的记录：{} 行（到第 {} 行为止）",
                    v.rows, v.last_id
                );
            }
            ExitCode::from(BROKEN)
        }
    }
}
