//! `guobao report subsidy`: the subsidy statement per township and funding
//! level, as text, JSON or .xlsx.

use super::{fail, open, write_file, ReportCommand};
use guobao::app;
use guobao::config::Config;
use guobao::db;
use guobao::error::AppError;
use std::process::ExitCode;

pub fn run(command: ReportCommand, config: &Config) -> ExitCode {
    let ReportCommand::Subsidy {
        scheme,
        level,
        json,
        output,
    } = command;
    let query = app::finance::StatementQuery {
        scheme: scheme.unwrap_or_default(),
        level: level.unwrap_or_default(),
        township: String::new(),
    };
    let res = open(config.database_url(), db::LOCK_WAIT).and_then(|mut c| {
        let st = app::finance::statement(&mut c, &app::Actor::system(), &query)?;
        if let Some(path) = &output {
            write_file(path, &app::finance::statement_xlsx(&st)?)?;
        }
        Ok(st)
    });
    let st = match res {
        Ok(st) => st,
        Err(e) => return fail(&e, json),
    };
    if json {
        match serde_json::to_string(&st) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&AppError::Internal(e.to_string()), true),
        }
    } else {
        let levels: Vec<String> = st.levels.iter().map(|l| l.name.clone()).collect();
        println!(
            "{} 保费补贴结算表（{}）",
            st.scheme_name,
            if st.lock.is_some() {
                "已锁定"
            } else {
                "未锁定"
            }
        );
        println!(
            "乡镇\t保单数\t投保面积(亩)\t保费\t农户自缴\t财政补贴\t{}\t应拨补贴",
            levels.join("\t")
        );
        let line = |name: &str, f: &app::finance::Figures| {
            let lv: Vec<String> = f.levels.iter().map(|l| l.amount.to_string()).collect();
            println!(
                "{name}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                f.policies,
                f.insured_mu,
                f.premium,
                f.grower_share,
                f.subsidy,
                lv.join("\t"),
                f.subsidy_due
            );
        };
        for r in &st.rows {
            line(&r.township_name, &r.figures);
        }
        line("合计", &st.totals);
    }
    if let Some(path) = &output {
        if !json {
            println!("已写出 {}", path.display());
        }
    }
    ExitCode::SUCCESS
}
