//! `guobao reconcile`: a statement file against our subsidy per policy. A
//! CSV file is streamed from disk line by line, so a statement of a million
//! lines needs no more memory than one of a thousand; workbooks go through
//! the upload limits like a web upload.

use super::{connect, fail, write_file, ReconcileArgs};
use guobao::app::reconciliation::{self, ReconcileRequest, StatementFile};
use guobao::app::Actor;
use guobao::config::Config;
use guobao::error::{AppError, ErrorCode};
use std::io::Read;
use std::process::ExitCode;

pub fn run(args: ReconcileArgs, config: &Config) -> ExitCode {
    let unreadable = |e: std::io::Error| {
        AppError::invalid(
            "file",
            ErrorCode::FileUnreadable,
            format!("无法读取{}：{e}", args.file.display()),
        )
    };
    let filename = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let options = config.limits.read_options();
    let res = std::fs::File::open(&args.file)
        .map_err(unreadable)
        .and_then(|f| {
            let mut c = connect(config)?;
            let scheme = args.scheme.clone().unwrap_or_default();
            let level = args.level.clone().unwrap_or_default();
            let mut text = std::io::BufReader::with_capacity(256 * 1024, f);
            let mut bytes = Vec::new();
            let file = if filename.to_lowercase().ends_with(".csv") {
                StatementFile::Csv(&mut text)
            } else {
                // Never more than one byte past the limit: the reader then
                // refuses the file with its own message.
                let limit = u64::try_from(options.max_bytes).unwrap_or(u64::MAX);
                (&mut text)
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(unreadable)?;
                StatementFile::Workbook(&bytes)
            };
            let v = reconciliation::reconcile(
                &mut c,
                &Actor::system(),
                ReconcileRequest {
                    scheme: &scheme,
                    source: &args.source,
                    level: &level,
                    filename: &filename,
                    file,
                    options: options.clone(),
                },
            )?;
            if let Some(path) = &args.output {
                let (_, xlsx) = reconciliation::workbook(&mut c, &Actor::system(), v.id)?;
                write_file(path, &xlsx)?;
            }
            Ok(v)
        });
    let v = match res {
        Ok(v) => v,
        Err(e) => return fail(&e, args.json),
    };
    if args.json {
        match serde_json::to_string(&v.summary) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&AppError::Internal(e.to_string()), true),
        }
        return ExitCode::SUCCESS;
    }
    println!(
        "对账记录 {}：读取{}行（{}，表头第{}行），重复保单号{}行",
        v.id, v.summary.rows_read, v.summary.sheet, v.summary.header_row, v.summary.repeated
    );
    for g in &v.summary.groups {
        println!(
            "  {:<8} {:>8}份  我方{:>14}元  对方{:>14}元  差额{:>12}元",
            g.name, g.count, g.ours, g.theirs, g.difference
        );
    }
    ExitCode::SUCCESS
}
