//! `guobao claims overdue`: open claims past or near their survey deadline.

use super::{connect, fail, ClaimsCommand};
use guobao::app;
use guobao::config::Config;
use std::process::ExitCode;

pub fn run(command: ClaimsCommand, config: &Config) -> ExitCode {
    let ClaimsCommand::Overdue {
        warn_hours,
        at,
        json,
    } = command;
    let now = match at {
        Some(t) => match app::clock::parse_input("at", "时间", &t) {
            Ok(t) => t,
            Err(e) => return fail(&e, json),
        },
        None => app::clock::Clock::system().now(),
    };
    let res = connect(config)
        .and_then(|mut c| app::claims::overdue(&mut c, &app::Actor::system(), now, warn_hours));
    match res {
        Ok(items) => {
            print_overdue(&items, json);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

fn print_overdue(items: &[app::claims::BoardItem], json: bool) {
    if json {
        let rows: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "claim_no": i.claim.claim_no, "status": i.claim.status,
                    "grower": i.claim.grower_name, "township": i.claim.township_name,
                    "reported_at": i.claim.reported_at, "survey_due_at": i.claim.survey_due_at,
                    "minutes_left": i.minutes_left, "urgency": i.urgency,
                    "adjuster": i.claim.adjuster,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "items": rows })).unwrap_or_default()
        );
        return;
    }
    if items.is_empty() {
        println!("没有超时或临近时限的待查勘赔案");
        return;
    }
    let overdue = items
        .iter()
        .filter(|i| i.urgency == guobao::domain::claims::Urgency::Overdue)
        .count();
    println!(
        "超过查勘时限 {overdue} 件，临近时限 {} 件：",
        items.len() - overdue
    );
    for i in items {
        println!(
            "{}  {}  {}  {}  时限 {}  查勘员 {}",
            if i.urgency == guobao::domain::claims::Urgency::Overdue {
                "[超时]"
            } else {
                "[临近]"
            },
            i.claim.claim_no,
            i.claim.township_name,
            i.claim.grower_name,
            i.claim.survey_due_display,
            i.claim.adjuster.as_deref().unwrap_or("未派工"),
        );
        println!("        {}", i.time_left);
    }
}
