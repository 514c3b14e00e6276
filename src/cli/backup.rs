//! `guobao backup [--to ROOT] [--keep N] [--verify]` and
//! `guobao backup verify [PATH]`: a consistent copy of the database while the
//! server runs, retention, and the restore test (`ops::backup`).

use super::{fail, BackupArgs, BackupCommand};
use guobao::config::Config;
use guobao::ops::backup::{self, manifest::RestoreCheck, Backup};
use serde_json::json;
use std::process::ExitCode;

/// The exit code when a restore test finds the data differs from the manifest.
pub const DIFFERS: u8 = 3;

/// A progress bar on stderr over the tables being hashed (hidden when
/// stderr is not a terminal, as under systemd).
pub fn table_bar(label: &'static str) -> (indicatif::ProgressBar, impl FnMut(u64, u64, &str)) {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{label} {{bar:30}} {{pos}}/{{len}} 张表 {{msg}} {{elapsed}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    (bar, move |done, total, table: &str| {
        b.set_length(total);
        b.set_position(done);
        b.set_message(table.to_string());
    })
}

pub fn run(args: BackupArgs, config: &Config) -> ExitCode {
    let url = config.database_url();
    if let Some(BackupCommand::Verify { path, json }) = args.command {
        let path = path.unwrap_or_else(|| config.backup_dir());
        let found = match backup::open(&path) {
            Ok(b) => b,
            Err(e) => return fail(&e, json),
        };
        return verify(&found, url, json, None);
    }
    let root = args.to.unwrap_or_else(|| config.backup_dir());
    let json = args.json;
    eprintln!("正在备份到{} …", root.display());
    let started = std::time::Instant::now();
    let (bar, mut progress) = table_bar("核对数据表");
    let store = match guobao::photo_store::PhotoStore::open(config) {
        Ok(s) => s,
        Err(e) => return fail(&guobao::error::AppError::Internal(e), json),
    };
    let made = backup::make(url, &root, Some(&store), &mut progress);
    bar.finish_and_clear();
    let made = match made {
        Ok(m) => m,
        Err(e) => return fail(&e, json),
    };
    let removed = match args.keep {
        Some(n) => match backup::prune(&root, n as usize, &made.dir) {
            Ok(r) => r,
            Err(e) => return fail(&e, json),
        },
        None => Vec::new(),
    };
    let m = &made.manifest;
    let summary = json!({
        "dir": made.dir,
        "manifest": m,
        "removed": removed,
        "seconds": started.elapsed().as_secs_f64(),
    });
    if !json {
        println!("备份完成：{}", made.dir.display());
        println!(
            "  数据库：{}，版本 {}，{} 张表，{} 行",
            m.database.label(),
            m.schema_version,
            m.tables.len(),
            m.total_rows()
        );
        println!(
            "  照片：{} 张，{} 字节；本次新复制 {} 个",
            m.photos.count, m.photos.bytes, m.photos.new
        );
        println!("  用时 {:.1} 秒", started.elapsed().as_secs_f64());
        for r in &removed {
            println!("  按保留份数删除旧备份：{}", r.display());
        }
    }
    if args.verify {
        return verify(&made, url, json, Some(summary));
    }
    if json {
        println!("{summary}");
    }
    ExitCode::SUCCESS
}

fn verify(found: &Backup, url: &str, json: bool, made: Option<serde_json::Value>) -> ExitCode {
    eprintln!("正在恢复校验{} …", found.dir.display());
    let (bar, mut progress) = table_bar("核对恢复结果");
    let checked = backup::verify(found, url, &mut progress);
    bar.finish_and_clear();
    let check: RestoreCheck = match checked {
        Ok(c) => c,
        Err(e) => return fail(&e, json),
    };
    if json {
        let mut out = made.unwrap_or_else(|| json!({"dir": found.dir}));
        if let Some(o) = out.as_object_mut() {
            o.insert("restore_check".into(), json!(check));
        }
        println!("{out}");
    } else if check.ok {
        println!("恢复校验通过：{}", check.detail);
    } else {
        println!("恢复校验未通过：{}", check.detail);
    }
    if check.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DIFFERS)
    }
}
