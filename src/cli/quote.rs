//! `guobao quote`: premium, grower share, subsidy and sum insured for an area.

use super::{fail, scheme_def, QuoteArgs};
use guobao::app;
use guobao::config::Config;
use std::process::ExitCode;

pub fn run(args: QuoteArgs, config: &Config) -> ExitCode {
    let QuoteArgs {
        scheme,
        variety,
        mu,
        json,
    } = args;
    let res = scheme_def(config.database_url.as_deref(), &scheme)
        .and_then(|def| app::schemes::quote(&def, &variety, &mu));
    match res {
        Ok(q) if json => {
            println!("{}", serde_json::to_string(&q).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(q) => {
            println!(
                "方案：{}  品种：{}  面积：{} 亩",
                q.scheme, q.variety_name, q.mu
            );
            println!("保险金额：{} 元", q.sum_insured);
            println!("保费：    {} 元", q.premium);
            println!("农户自缴：{} 元", q.grower_share);
            println!("财政补贴：{} 元", q.subsidy);
            for l in &q.subsidy_levels {
                println!("  {}（{}%）：{} 元", l.name, l.percent, l.amount);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}
