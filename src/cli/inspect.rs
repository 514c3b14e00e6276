//! `guobao inspect [--month YYYY-MM] [--json] [-o FILE.xlsx]`: the monthly
//! inspection (按月巡检, `ops::inspect`), kept in the database as the month's
//! record, printed as a Chinese report or JSON, and written as .xlsx.

use super::{connect, fail, write_file, InspectArgs};
use guobao::app::Actor;
use guobao::config::Config;
use guobao::error::{AppError, ErrorCode};
use guobao::ops::inspect::{self, Places};
use std::process::ExitCode;

pub fn run(args: InspectArgs, config: &Config) -> ExitCode {
    let json = args.json;
    let now = chrono::Utc::now();
    // Everything the command line got wrong is refused before anything is read or written.
    let month = match inspect::month_asked(args.month.as_deref(), now) {
        Ok(m) => m,
        Err(e) => return fail(&e, json),
    };
    if let Some(path) = &args.output {
        let xlsx = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        if !xlsx {
            return fail(
                &AppError::invalid(
                    "output",
                    ErrorCode::OutputUnwritable,
                    format!("输出文件应以 .xlsx 结尾：{}", path.display()),
                ),
                json,
            );
        }
    }
    let places = Places::new(config, &guobao::photo_store::location_for(config));
    let res = connect(config).and_then(|mut c| {
        let report = inspect::inspect(&mut c, &Actor::system(), &places, month, now)?;
        if let Some(path) = &args.output {
            let (_, bytes) = inspect::sheet::to_xlsx(&report)?;
            write_file(path, &bytes)?;
        }
        Ok(report)
    });
    let report = match res {
        Ok(r) => r,
        Err(e) => return fail(&e, json),
    };
    if json {
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&AppError::Internal(e.to_string()), true),
        }
    } else {
        print!("{}", inspect::to_text(&report));
        if let Some(path) = &args.output {
            println!();
            println!("已写出 {}", path.display());
        }
    }
    ExitCode::SUCCESS
}
