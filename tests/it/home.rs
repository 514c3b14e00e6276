//! Each desk's home page (/): what waits for this person, counted within what
//! their role may see, and linked to where it is done.

use crate::helpers::claims::{dispatch, insured, report};
use crate::helpers::*;
use serde_json::json;

/// The text of the to-do line whose label is `label`, tags stripped.
fn todo_line(body: &str, label: &str) -> String {
    let at = body
        .find(&format!(r#"<span class="todo-label">{label}</span>"#))
        .unwrap_or_else(|| panic!("no to-do line {label}:\n{body}"));
    let end = body[at..].find("</li>").map_or(body.len(), |e| at + e);
    let re = regex::Regex::new(r"<[^>]+>").unwrap();
    re.replace_all(&body[at..end], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn home_of(app: &TestApp, username: &str) -> String {
    let b = app.browser();
    b.login(username);
    let p = b.get("/");
    assert_eq!(p.status, 200, "{}", p.body);
    // The template engine writes "/" in attributes as an entity.
    p.body.replace("&#x2f;", "/")
}

fn draft_policy(station: &Api, name: &str, seq: u32, village: &str) -> i64 {
    let g = GrowerBuilder::new(name)
        .seq(seq)
        .village(village)
        .create(station);
    let r = PlotBuilder::new(g).mu("10").create(station);
    assert_eq!(r.status, 201, "{}", r.body);
    let p = &station.get(&format!("/api/v1/growers/{g}")).body["policies"][0];
    p["id"].as_i64().unwrap()
}

#[test]
fn a_station_sees_its_own_townships_collection_and_handover_to_do() {
    let app = spawn_app();
    let a = app.api("station_a");
    let b = app.api("station_b");
    let first = draft_policy(&a, "甲一", 1, VILLAGE_A1);
    draft_policy(&a, "甲二", 2, VILLAGE_A1);
    draft_policy(&b, "乙一", 3, "532999102201");

    let home = home_of(&app, "station_a");
    assert!(home.contains("林业站工作台"), "{home}");
    assert!(
        todo_line(&home, "待登记收费的保单").contains("2 份"),
        "{}",
        todo_line(&home, "待登记收费的保单")
    );
    assert!(home.contains(r#"href="/policies?status=draft""#));
    // The progress table is part of a station's home.
    assert!(home.contains(r#"id="progress""#));
    let other = home_of(&app, "station_b");
    assert!(todo_line(&other, "待登记收费的保单").contains("1 份"));

    // Collected: one fewer to collect, one to hand over with its share.
    let r = a.post(
        &format!("/api/v1/policies/{first}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let share = r.body["grower_share"].as_str().unwrap().to_string();
    let home = home_of(&app, "station_a");
    assert!(todo_line(&home, "待登记收费的保单").contains("1 份"));
    let handover = todo_line(&home, "已收费、待交付保险公司");
    assert!(
        handover.contains("1 份") && handover.contains(&format!("{share} 元")),
        "{handover} (share {share})"
    );
    // Station B's desk is unchanged by A's work.
    let other = home_of(&app, "station_b");
    assert!(todo_line(&other, "已收费、待交付保险公司").contains("0 份"));
}

#[test]
fn an_underwriter_sees_the_queue_and_the_claims_to_dispatch() {
    let app = spawn_app();
    // One collected (waiting for the underwriter), one issued.
    insured(&app, "待签户", 1, false);
    let issued = insured(&app, "已签户", 2, true);
    let home = home_of(&app, "underwriter");
    assert!(home.contains("承保理赔工作台"), "{home}");
    let queue = todo_line(&home, "待签发保单（农户保费已收）");
    assert!(queue.contains("1 份"), "{queue}");
    assert!(home.contains(r#"href="/policies/queue""#));
    assert!(todo_line(&home, "待派工赔案").contains("0 件"));

    let uw = app.api("underwriter");
    let r = report(&uw, &issued, "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    let home = home_of(&app, "underwriter");
    assert!(todo_line(&home, "待派工赔案").contains("1 件"));
    // Reported, nobody sent yet: shown as late work.
    assert!(home
        .contains(r#"<li class="todo bad"><a href="/claims"><span class="todo-label">待派工赔案"#));
}

#[test]
fn an_adjuster_lands_on_their_own_claims_with_a_survey_link() {
    let app = spawn_app();
    let ins = insured(&app, "查勘户", 1, true);
    let uw = app.api("underwriter");
    let r = report(&uw, &ins, "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();

    // Not yet dispatched: nothing of theirs.
    let home = home_of(&app, "adjuster");
    assert!(home.contains("目前没有分派给您的待查勘赔案"), "{home}");
    assert!(
        !home.contains(r#"id="progress""#),
        "no enrolment table here"
    );

    assert_eq!(dispatch(&uw, id).status, 200);
    let home = home_of(&app, "adjuster");
    assert!(
        home.contains(&format!(r#"href="/claims/{id}/survey""#)),
        "{home}"
    );
    assert!(home.contains(&format!(r#"data-urls="/claims/{id}/survey""#)));
    assert!(home.contains(r#"href="tel:"#), "a phone link to the grower");
    assert!(home.contains("查勘户"));
    assert!(todo_line(&home, "待查勘赔案").contains("1 件"));
    // Reported just now: within its 24 hours, the time left shown.
    assert!(todo_line(&home, "已超过查勘时限").contains("0 件"));
    assert!(home.contains(r#"<span class="badge ok">剩余"#), "{home}");
}

#[test]
fn finance_lands_on_what_is_still_owed() {
    let app = spawn_app();
    let ins = insured(&app, "补贴户", 1, true);
    let policy = app
        .api("underwriter")
        .get(&format!("/api/v1/policies/{}", ins.policy_id));
    let subsidy = policy.body["subsidy"].as_str().unwrap().to_string();
    let home = home_of(&app, "finance");
    assert!(home.contains("财政补贴工作台"), "{home}");
    let re = regex::Regex::new(r#"id="home-outstanding">([^<]+)<"#).unwrap();
    let owed = re.captures(&home).expect("outstanding total")[1].to_string();
    assert_eq!(owed, subsidy);
    assert!(home.contains("甲镇"));
    assert!(!home.contains(r#"id="progress""#));
}

#[test]
fn an_administrator_lands_on_the_accounts() {
    let app = spawn_app();
    let home = home_of(&app, "admin");
    assert!(home.contains("系统管理工作台"), "{home}");
    assert!(todo_line(&home, "在用账号").contains("7 个"));
    assert!(todo_line(&home, "被锁定的账号").contains("0 个"));
    // Five failed logins lock an account; the admin's desk counts it.
    let b = app.browser();
    for _ in 0..5 {
        let _ = b.submit(
            "/login",
            "/login",
            &[("username", "finance"), ("password", "wrong-password")],
        );
    }
    let home = home_of(&app, "admin");
    assert!(
        todo_line(&home, "被锁定的账号").contains("1 个"),
        "{}",
        todo_line(&home, "被锁定的账号")
    );
}

/// The printable pages: a certificate with the policy's own figures, the
/// household list and the statement with their signature blocks.
#[test]
fn certificate_household_list_and_statement_print_on_a4() {
    let app = spawn_app();
    let ins = insured(&app, "凭证户", 1, true);
    let draft = insured(&app, "未签户", 2, false);
    let policy = app
        .api("underwriter")
        .get(&format!("/api/v1/policies/{}", ins.policy_id))
        .body;
    let b = app.browser();
    b.login("station_a");
    let p = b.get(&format!("/policies/{}/print", ins.policy_id));
    assert_eq!(p.status, 200, "{}", p.body);
    for figure in ["sum_insured", "premium", "grower_share", "policy_no"] {
        let v = policy[figure].as_str().unwrap();
        assert!(p.body.contains(v), "{figure} {v} on the certificate");
    }
    assert!(p.body.contains("保险凭证") && p.body.contains("被保险人签字"));
    assert!(
        p.body.contains(&ins.plot_code),
        "the insured plot is listed"
    );
    assert!(p.body.contains("雹灾、低温霜冻"), "the perils are named");
    assert!(!p.body.contains(r#"id="not-in-force""#));
    // The policy page links to it once issued.
    let page = b.get(&format!("/policies/{}", ins.policy_id));
    assert!(page.body.contains(r#"id="print-certificate""#));
    // A policy not yet issued prints with a warning, never as a certificate.
    let p = b.get(&format!("/policies/{}/print", draft.policy_id));
    assert_eq!(p.status, 200);
    assert!(p.body.contains(r#"id="not-in-force""#));
    // Another township's station cannot print it.
    let other = app.browser();
    other.login("station_b");
    assert_eq!(
        other
            .get(&format!("/policies/{}/print", ins.policy_id))
            .status,
        404
    );

    let p = b.get(&format!(
        "/reports/household-list/print?township={TOWNSHIP_A}"
    ));
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("凭证户") && p.body.contains("未签户"));
    assert!(p.body.contains("村委会（盖章）"));
    assert_eq!(b.get("/reports/nonsense/print").status, 404);

    let f = app.browser();
    f.login("finance");
    let p = f.get("/finance/statement/print");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("县财政局（盖章）") && p.body.contains("甲镇"));
    assert!(p.body.contains(policy["subsidy"].as_str().unwrap()));
    assert!(
        p.body.contains(r#"id="not-locked""#),
        "an open statement says so"
    );
}

#[test]
fn a_long_menu_keeps_one_row_with_the_rest_under_more() {
    let app = spawn_app();
    let admin = app.browser();
    admin.login("admin");
    let page = admin.get("/").body;
    let nav = &page[page.find("主菜单").unwrap()..page.find("</nav>").unwrap()];
    let more_at = nav
        .find("<details class=\"menu-more\">")
        .expect("更多 in the admin's menu");
    let row = &nav[..more_at];
    let more = &nav[more_at..];
    assert!(row.contains(">首页<") && row.contains(">理赔<"), "{nav}");
    assert!(
        more.contains(">账号管理<") && more.contains(">操作日志<"),
        "{nav}"
    );
    assert!(!row.contains(">账号管理<"), "{nav}");
    // Every entry once, the row no longer than 11 and 更多.
    assert_eq!(row.matches("<a ").count(), 11, "{nav}");
    // A shorter menu has no 更多.
    let adjuster = app.browser();
    adjuster.login("adjuster");
    let page = adjuster.get("/").body;
    assert!(page.contains(">理赔<"));
    assert!(
        !page.contains("menu-more"),
        "an adjuster's menu fits one row"
    );
}
