//! `guobao export`: plot boundaries as GeoJSON, and the household, policy and
//! eligibility lists as .xlsx.

use super::{connect, fail, write_file, ExportCommand};
use guobao::app;
use guobao::config::Config;
use guobao::error::AppError;
use std::process::ExitCode;

pub fn run(command: ExportCommand, config: &Config) -> ExitCode {
    let (kind, args) = match command {
        ExportCommand::Geojson {
            township,
            village,
            output,
        } => return geojson(&township, village.as_deref(), &output, config),
        ExportCommand::HouseholdList(args) => ("household", args),
        ExportCommand::Eligibility(args) => ("eligibility", args),
        ExportCommand::Policies(args) => ("policies", args),
    };
    let res = connect(config).and_then(|mut c| {
        let scope = app::reports::Scope {
            township_code: args.township,
            village_code: args.village,
            scheme: args.scheme,
            today: guobao::app::clock::Clock::system().today(),
        };
        let actor = app::Actor::system();
        let table = match kind {
            "household" => app::reports::household_list(&mut c, &actor, &scope)?,
            "policies" => app::reports::policy_list(&mut c, &actor, &scope)?,
            _ => app::reports::eligibility_report(&mut c, &actor, &scope)?,
        };
        let rows = table.rows.len();
        let bytes = guobao::excel::write::tables_to_xlsx(&[table])
            .map_err(|e| AppError::Internal(e.to_string()))?;
        write_file(&args.output, &bytes)?;
        Ok(rows)
    });
    match res {
        Ok(rows) => {
            println!("已写出 {}（{} 行）", args.output.display(), rows);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

fn geojson(
    township: &str,
    village: Option<&str>,
    output: &std::path::Path,
    config: &Config,
) -> ExitCode {
    let res = connect(config).and_then(|mut c| {
        let text = app::boundaries::export(&mut c, &app::Actor::system(), township, village)?;
        write_file(output, text.as_bytes())
    });
    match res {
        Ok(()) => {
            println!("已写出 {}", output.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}
