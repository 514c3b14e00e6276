//! `guobao checks`: the fraud and quality checks report (风险核查), run as
//! the system (the whole county), audited like the page and the API.

use super::{connect, fail, write_file, ChecksArgs};
use guobao::app::{self, checks};
use guobao::config::Config;
use std::process::ExitCode;

pub fn run(args: ChecksArgs, config: &Config) -> ExitCode {
    let q = checks::Query {
        township: args.township,
    };
    let res = connect(config).and_then(|mut c| {
        let report = checks::report(&mut c, &app::Actor::system(), &q, "checks")?;
        if let Some(path) = &args.output {
            let today = app::clock::Clock::system().today();
            let (_, bytes) = checks::report_xlsx(&report, today)?;
            write_file(path, &bytes)?;
        }
        Ok(report)
    });
    let report = match res {
        Ok(r) => r,
        Err(e) => return fail(&e, args.json),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    println!("风险核查（{}）：共{}条", report.place, report.total);
    for g in &report.groups {
        println!("\n{}：{}条", g.title, g.count);
        for f in &g.findings {
            println!("  - {}：{}", f.subject, f.detail);
            for i in &f.items {
                println!(
                    "      {} {}（{}） {}",
                    i.kind_name, i.label, i.township, i.href
                );
            }
        }
    }
    if let Some(path) = &args.output {
        println!("\n已写入 {}", path.display());
    }
    ExitCode::SUCCESS
}
