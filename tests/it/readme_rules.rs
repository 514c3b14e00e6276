//! Rules the README states that no other test held: each test here fails
//! when its rule is broken (claims first, then the finance pages).

use crate::helpers::claims::*;
use crate::helpers::*;
use serde_json::{json, Value};

/// A grower of 甲镇 with `plots` (tree age, mu); the policy collected and
/// issued. Returns (policy, plot responses).
fn issued_with_plots(
    app: &TestApp,
    name: &str,
    seq: u32,
    plots: &[(i32, &str)],
) -> (Value, Vec<Value>) {
    let station = app.api("station_a");
    let g = GrowerBuilder::new(name).seq(seq).create(&station);
    let made: Vec<Value> = plots
        .iter()
        .map(|(age, mu)| {
            let r = PlotBuilder::new(g).tree_age(*age).mu(mu).create(&station);
            assert_eq!(r.status, 201, "{}", r.body);
            r.body
        })
        .collect();
    let pid = station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    notices::notice_for_policy(app, pid);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    (r.body, made)
}

/// README, claims step 1: a plot not insured (`plot_not_insured`) is kept and declined.
#[test]
fn a_report_on_a_plot_that_is_not_insured_is_declined() {
    let app = spawn_app_at("2012-06-12 16:00");
    let (policy, plots) = issued_with_plots(&app, "两块地", 31, &[(8, "3"), (3, "2")]);
    assert_eq!(plots[0]["eligible"], true);
    assert_eq!(plots[1]["eligible"], false);
    let uw = app.api("underwriter");
    let on = |plot: &Value| Insured {
        policy_id: policy["id"].as_i64().unwrap(),
        policy_no: policy["policy_no"].as_str().unwrap().to_string(),
        plot_id: plot["id"].as_i64().unwrap(),
        plot_code: plot["code"].as_str().unwrap().to_string(),
    };
    let r = report(&uw, &on(&plots[1]), "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "declined", "{}", r.body);
    assert_eq!(r.body["decline_code"], "plot_not_insured");
    let reason = r.body["decline_reason"].as_str().unwrap();
    assert!(
        reason.contains(plots[1]["code"].as_str().unwrap()),
        "{reason}"
    );
    // The insured plot of the same policy is taken.
    let r = report(&uw, &on(&plots[0]), "hail", "2012-06-12 14:30");
    assert_eq!(r.body["status"], "reported", "{}", r.body);
    assert_eq!(count(&mut app.conn(), "claims"), 2);
}

/// README, claims step 1: the desk finds the policy by grower name, ID number,
/// phone or policy number.
#[test]
fn the_report_desk_finds_a_policy_by_id_number_phone_or_policy_number() {
    let app = spawn_app();
    let station = app.api("station_a");
    let mut people = Vec::new();
    for (name, seq, phone) in [("甲查询", 41, "13911110001"), ("乙查询", 42, "13911110002")] {
        let g = GrowerBuilder::new(name)
            .seq(seq)
            .phone(phone)
            .create(&station);
        assert_eq!(PlotBuilder::new(g).create(&station).status, 201);
        let policy_no = station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]
            ["policy_no"]
            .as_str()
            .unwrap()
            .to_string();
        people.push((name, id_number("19700101", seq), phone, policy_no));
    }
    let uw = app.api("underwriter");
    let find = |q: &str| -> Vec<(String, String)> {
        let r = uw.get(&format!("/api/v1/claims/lookup?q={q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["grower_name"].as_str().unwrap().to_string(),
                    h["policy_no"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    for (name, id, phone, policy_no) in &people {
        let want = vec![(name.to_string(), policy_no.clone())];
        assert_eq!(find(id), want, "by ID number");
        assert_eq!(find(phone), want, "by phone");
        assert_eq!(find(policy_no), want, "by policy number");
    }
    assert_eq!(find("查询").len(), 2, "by name");
    assert!(find("13911119999").is_empty());
}

/// README, claims steps 3–4: the county forestry co-surveyor, once assigned,
/// may submit the survey too.
#[test]
fn the_co_surveyor_submits_the_survey() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "林业查勘", 43, true);
    let uw = app.api("underwriter");
    let id = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    let (lat, lon) = point_east(50.0);
    let forestry = app.api("forestry");
    let url = format!("/api/v1/claims/{id}/survey");
    // Before dispatch the bureau is nobody's co-surveyor here.
    let r = forestry.post(&url, survey_body("survey-co-0001", lat, lon, "5", "35"));
    assert!(r.status == 403 || r.status == 404, "{}", r.body);
    assert_eq!(dispatch(&uw, id).status, 200);
    let r = forestry.post(&url, survey_body("survey-co-0001", lat, lon, "5", "35"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["claim"]["status"], "surveyed");
    assert_eq!(r.body["payout"]["amount"], "1750.00");
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 1);
}

/// README, claims step 6: payments past their due date stand out on the board.
#[test]
fn overdue_payments_stand_out_on_the_board() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "待付款", 44, true);
    let uw = app.api("underwriter");
    let id = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, id);
    app.clock.advance(chrono::Duration::hours(15));
    let (lat, lon) = point_east(50.0);
    let r = app.api("adjuster").post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-pay-0001", lat, lon, "5", "35"),
    );
    let version = r.body["claim"]["version"].as_i64().unwrap();
    let r = uw.post(
        &format!("/api/v1/claims/{id}/approve"),
        json!({"version": version, "note": "同意"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    app.clock.advance(chrono::Duration::days(2));
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": "2012-06-15"}),
    );
    assert_eq!(r.body["payment_due_on"], "2012-06-25", "{}", r.body);
    notices::notice_for_claim(&app, id);
    let r = uw.post(
        &format!("/api/v1/claims/{id}/payments"),
        json!({"amount": "1000.00", "paid_on": "2012-06-15", "bank_reference": "BANK-P1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    let board = || uw.get("/api/v1/claims/board").body;
    let b = board();
    assert_eq!(b["payments_overdue"], 0, "{b}");
    assert_eq!(b["payments_due"][0]["id"], id);
    assert!(b["payments_due"][0]["days_overdue"].as_i64().unwrap() < 0);
    // Two days past the due date: overdue, with what is still owed.
    app.clock.set(china_time("2012-06-27 09:00"));
    let b = board();
    assert_eq!(b["payments_overdue"], 1, "{b}");
    assert_eq!(b["payments_due"][0]["days_overdue"], 2);
    assert_eq!(b["payments_due"][0]["owed"], "750.00");
    let br = app.browser();
    br.login("underwriter");
    let page = br.get("/claims").body;
    assert!(
        page.contains(r#"<div class="n bad-text" id="payments-overdue">1<"#),
        "{page}"
    );
    assert!(page.contains("逾期2天"), "{page}");
    // Paid in full: off the list.
    uw.post(
        &format!("/api/v1/claims/{id}/payments"),
        json!({"amount": "750.00", "paid_on": "2012-06-27", "bank_reference": "BANK-P2"}),
    );
    let b = board();
    assert_eq!(b["payments_overdue"], 0, "{b}");
    assert!(b["payments_due"].as_array().unwrap().is_empty());
}

/// README, finance: issued and expired policies count in the statement.
#[test]
fn expired_policies_stay_in_the_statement() {
    let app = spawn_app();
    let (policy, _) = issued_with_plots(&app, "到期户", 45, &[(8, "3.37")]);
    let fin = app.api("finance");
    let statement = || fin.get("/api/v1/finance/statement?scheme=walnut-2012").body;
    let before = statement();
    assert_eq!(before["totals"]["policies"], 1, "{before}");
    assert_eq!(before["totals"]["premium"], policy["premium"]);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "policies",
            "expire",
            "--today",
            "2012-11-01",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("已将 1 份"));
    let id = policy["id"].as_i64().unwrap();
    assert_eq!(
        fin.get(&format!("/api/v1/policies/{id}")).body["status"],
        "expired"
    );
    assert_eq!(statement()["totals"], before["totals"]);
}

/// README, finance roles: the underwriter and county forestry see statements
/// and payments; the adjuster sees none of it; admin signs off and pays.
#[test]
fn who_reads_statements_and_who_signs_off_and_pays() {
    let app = spawn_app();
    let (policy, _) = issued_with_plots(&app, "结算户", 46, &[(8, "10")]);
    let statement = "/api/v1/finance/statement?scheme=walnut-2012";
    let fin = app.api("finance").get(statement).body;
    assert_eq!(fin["totals"]["subsidy"], policy["subsidy"], "{fin}");
    for who in ["underwriter", "forestry"] {
        let api = app.api(who);
        let r = api.get(statement);
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        assert_eq!(r.body, fin, "{who} sees the same statement");
        let r = api.get("/api/v1/finance/disbursements");
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        let r = api.post(
            "/api/v1/finance/statement/lock",
            json!({"scheme": "walnut-2012", "signed_off_by": who}),
        );
        assert_eq!(r.status, 403, "{who} may not sign off");
    }
    assert_eq!(app.api("adjuster").get(statement).status, 403);

    let admin = app.api("admin");
    let r = admin.post(
        "/api/v1/finance/disbursements",
        json!({"scheme": "walnut-2012", "township_code": TOWNSHIP_A, "level": "county",
               "amount": "1.00", "paid_on": "2012-05-01", "voucher_no": "PZ-ADMIN-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = admin.post(
        "/api/v1/finance/statement/lock",
        json!({"scheme": "walnut-2012", "signed_off_by": "管理员"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["subsidy"], policy["subsidy"]);
    assert_eq!(count(&mut app.conn(), "subsidy_disbursements"), 1);
}
