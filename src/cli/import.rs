//! `guobao import`: a township's roster (花名册) from a spreadsheet, and plot
//! boundaries from GeoJSON; each previewed with --dry-run or imported.

use super::{connect, fail, write_file, ImportCommand};
use guobao::app;
use guobao::config::Config;
use guobao::db;
use guobao::error::AppError;
use guobao::error::ErrorCode;
use std::process::ExitCode;

pub fn run(command: ImportCommand, config: &Config) -> ExitCode {
    match command {
        ImportCommand::Roster {
            file,
            township,
            scheme,
            dry_run,
            json,
            error_report,
        } => match connect(config).and_then(|mut c| {
            roster(
                (&mut c, config.database_url()),
                &file,
                &township,
                scheme.as_deref(),
                dry_run,
                json,
                error_report.as_deref(),
                config.limits.read_options(),
            )
        }) {
            Ok(true) => ExitCode::SUCCESS,
            // Every row refused: nothing was (or would be) imported.
            Ok(false) => ExitCode::from(2),
            Err(e) => fail(&e, json),
        },
        ImportCommand::Plots {
            file,
            township,
            dry_run,
            json,
        } => plots(&file, &township, dry_run, json, config),
    }
}

#[allow(clippy::too_many_arguments)] // one per command-line option
fn roster(
    (conn, database_url): (&mut db::DbConn, &str),
    file: &std::path::Path,
    township: &str,
    scheme: Option<&str>,
    dry_run: bool,
    json: bool,
    error_report: Option<&std::path::Path>,
    options: guobao::excel::read::ReadOptions,
) -> Result<bool, AppError> {
    // Never more than one byte past the limit: the reader then refuses the
    // file with its own message, and a 10 GB file is not read into memory.
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| {
            use std::io::Read;
            f.take(
                u64::try_from(options.max_bytes)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
            )
            .read_to_end(&mut bytes)
        })
        .map_err(|e| {
            AppError::invalid(
                "file",
                ErrorCode::FileUnreadable,
                format!("无法读取{}：{e}", file.display()),
            )
        })?;
    let actor = app::Actor::system();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(if dry_run {
        "正在检查花名册…"
    } else {
        "正在导入花名册…"
    });
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let req = app::import::ImportRequest {
        database_url,
        township_code: township,
        scheme: scheme.unwrap_or(""),
        filename: &file.display().to_string(),
        bytes: &bytes,
        options,
    };
    let started = std::time::Instant::now();
    let result = if dry_run {
        app::import::preview(conn, &actor, &req)
    } else {
        app::import::commit(conn, &actor, &req)
    };
    spinner.finish_and_clear();
    let rep = result?;
    if let Some(path) = error_report {
        let bytes =
            guobao::excel::write::error_report(&rep.headers, &app::import::error_rows(&rep))
                .map_err(|e| AppError::Internal(e.to_string()))?;
        write_file(path, &bytes)?;
    }
    let c = &rep.counts;
    let nothing_accepted = c.rows > 0 && c.rejected == c.rows;
    if nothing_accepted {
        eprintln!(
            "错误：花名册的{}行数据全部被拒收，未导入任何数据；请按每行列出的原因修改后重新导入",
            c.rows
        );
    }
    if json {
        println!("{}", serde_json::to_string(&rep).unwrap_or_default());
        return Ok(!nothing_accepted);
    }
    println!(
        "{}：{} 工作表“{}”（第{}行为表头）",
        if dry_run {
            "预览（未写入）"
        } else {
            "已导入"
        },
        rep.township,
        rep.sheet,
        rep.header_row
    );
    println!(
        "共{}行：新增{}，变更{}，无变化{}，拒收{}；其中不符合投保条件{}（新增农户{}，变更农户{}）用时{:.1}秒",
        c.rows, c.new, c.changed, c.unchanged, c.rejected, c.ineligible, c.new_growers, c.changed_growers,
        started.elapsed().as_secs_f64()
    );
    for r in rep.rows.iter().filter(|r| !r.problems.is_empty()) {
        for p in &r.problems {
            if p.column.is_empty() {
                println!("  第{}行：{}", r.row, p.message);
            } else {
                println!(
                    "  第{}行 {}列（{}）：{}",
                    r.row, p.column, p.field, p.message
                );
            }
        }
    }
    Ok(!nothing_accepted)
}

fn plots(
    file: &std::path::Path,
    township: &str,
    dry_run: bool,
    json: bool,
    config: &Config,
) -> ExitCode {
    let max = config.limits.max_upload_bytes;
    let unreadable = |e: std::io::Error| {
        AppError::invalid(
            "file",
            ErrorCode::FileUnreadable,
            format!("无法读取{}：{e}", file.display()),
        )
    };
    // The size before the content: a file over the limit is never read.
    let res = std::fs::metadata(file)
        .map_err(unreadable)
        .and_then(|m| {
            if m.len() > u64::try_from(max).unwrap_or(u64::MAX) {
                return Err(AppError::invalid(
                    "file",
                    ErrorCode::FileTooLarge,
                    format!("GeoJSON文件超过{}MB上限", max / (1024 * 1024)),
                ));
            }
            std::fs::read_to_string(file).map_err(unreadable)
        })
        .and_then(|text| {
            let mut c = connect(config)?;
            app::boundaries::import(&mut c, &app::Actor::system(), township, &text, dry_run)
        });
    let r = match res {
        Ok(r) => r,
        Err(e) => return fail(&e, json),
    };
    if json {
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let c = &r.counts;
    println!(
        "{}：{} 要素{}个：更新{}，无变化{}，未找到地块{}，无效{}；面积差异超限{}，与其他投保地块重叠{}",
        if dry_run { "预览（未写入）" } else { "已导入" },
        r.township, c.features, c.updated, c.unchanged, c.not_found, c.invalid, c.area_mismatch, c.overlapping
    );
    for f in &r.features {
        if let Some(m) = &f.message {
            println!("  第{}个要素（{}）：{}", f.feature, f.code, m);
        }
        if f.area_mismatch {
            println!(
                "  {}：申报{}亩，图斑{}亩",
                f.code,
                f.declared_mu.unwrap_or_default(),
                f.polygon_mu.unwrap_or_default()
            );
        }
        if !f.overlaps.is_empty() {
            println!("  {}：与{}重叠", f.code, f.overlaps.join("、"));
        }
    }
    ExitCode::SUCCESS
}
