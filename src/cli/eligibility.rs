//! `guobao eligibility`: the eligibility verdict for a plot's facts.

use super::{fail, scheme_def, EligibilityArgs};
use guobao::app;
use guobao::config::Config;
use std::process::ExitCode;

pub fn run(a: EligibilityArgs, config: &Config) -> ExitCode {
    let mut facts = Vec::new();
    for (name, v) in [
        ("tree_age", &a.tree_age),
        ("fruit_per_tree", &a.fruit_per_tree),
        ("tree_count", &a.tree_count),
    ] {
        if let Some(v) = v {
            facts.push((name.to_string(), v.clone()));
        }
    }
    facts.extend(a.attrs.iter().cloned());
    let res = scheme_def(config.database_url.as_deref(), &a.scheme)
        .and_then(|def| app::schemes::eligibility(&def, &a.variety, &facts));
    match res {
        Ok(v) if a.json => {
            println!("{}", serde_json::to_string(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(v) => {
            if v.eligible {
                println!("符合投保条件");
            } else {
                println!("不符合投保条件：");
                for r in &v.reasons {
                    println!("  - {}（{}）", r.message, r.code);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, a.json),
    }
}
