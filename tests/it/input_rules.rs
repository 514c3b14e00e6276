//! Input that used to panic the server (a 29-digit amount, a multi-byte
//! character inside an ID number) and text that used to be stored as typed
//! (NUL, BEL, direction overrides, 10,000 characters): each is a 4xx with a
//! Chinese message and nothing written, and the next valid request works.
//! Runs on SQLite and, with GUOBAO_TEST_DATABASE=postgres, on PostgreSQL.

use crate::helpers::claims::*;
use crate::helpers::*;
use serde_json::{json, Value};

/// Decimal::MAX: 29 digits, the amount the tester sent everywhere.
const HUGE: &str = "79228162514264337593543950335";

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// A 422 whose first field error is `field` with `code`, and a Chinese message.
fn assert_refused(r: &Resp, field: &str, code: &str) {
    assert_eq!(r.status, 422, "{}", r.body);
    let f = r.body["fields"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["field"] == field))
        .unwrap_or_else(|| panic!("no error for {field}: {}", r.body));
    assert_eq!(f["code"], code, "{}", r.body);
    let m = f["message"].as_str().unwrap_or("");
    assert!(has_chinese(m), "{m}");
}

/// A grower with one eligible plot in township A, its share collected and the
/// policy issued.
fn issued_policy(app: &TestApp, seq: u32) -> Value {
    let station = app.api("station_a");
    let g = GrowerBuilder::new(&format!("农户{seq}"))
        .seq(seq)
        .create(&station);
    let r = PlotBuilder::new(g).mu("3.37").create(&station);
    assert_eq!(r.status, 201, "{}", r.body);
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
    station.get(&format!("/api/v1/policies/{pid}")).body
}

#[test]
fn a_multibyte_character_in_an_id_number_is_a_422_and_the_next_create_works() {
    let app = spawn_app();
    let station = app.api("station_a");
    let before = count(&mut app.conn(), "growers");
    for bad in [
        "5329991970010100中1",
        "53299919700101001中",
        "中32999197001010011",
        "5329991970😀10100X1",
    ] {
        let r = station.post(
            "/api/v1/growers",
            json!({"name": "王芳", "id_number": bad, "phone": "13800000000",
                   "bank_account": "6228480000000000001", "village_code": app.seed.village_a1}),
        );
        assert_refused(&r, "id_number", "id_number_characters");
    }
    assert_eq!(count(&mut app.conn(), "growers"), before);
    // The server is fine: valid creates are written and stay written.
    for seq in 1..=3 {
        GrowerBuilder::new(&format!("农户{seq}"))
            .seq(seq)
            .create(&station);
    }
    assert_eq!(count(&mut app.conn(), "growers"), before + 3);
}

#[test]
fn grower_and_plot_text_follow_the_shared_rules() {
    let app = spawn_app();
    let station = app.api("station_a");
    let grower = |name: &str, village: &str| {
        station.post(
            "/api/v1/growers",
            json!({"name": name, "id_number": id_number("19700101", 7), "phone": "13800000000",
                   "bank_name": "信用社", "bank_account": "6228480000000000001", "village_code": village}),
        )
    };
    let v = app.seed.village_a1.clone();
    let long = "王".repeat(10_000);
    for (name, code) in [
        ("王\u{0}芳", "text_control_char"),
        ("王\u{7}芳", "text_control_char"),
        ("王\n芳", "text_control_char"),
        ("王\u{202E}芳", "text_bidi_char"),
        ("王\u{2066}芳", "text_bidi_char"),
        ("王\u{200B}芳", "text_invisible_char"),
        ("王\u{FEFF}芳", "text_invisible_char"),
        (long.as_str(), "text_too_long"),
    ] {
        assert_refused(&grower(name, &v), "name", code);
    }
    let r = grower(&"王".repeat(31), &v);
    assert_refused(&r, "name", "text_too_long");
    assert!(r.body["fields"][0]["message"]
        .as_str()
        .unwrap()
        .contains("不能超过30个字（现为31个字）"));
    // A NUL in a code that is looked up is refused before the query
    // (PostgreSQL would refuse the text itself with an internal error).
    assert_refused(
        &grower("王芳", "532999\u{0}"),
        "village_code",
        "text_control_char",
    );
    assert_eq!(count(&mut app.conn(), "growers"), 0);
    let r = grower(&"王".repeat(30), &v);
    assert_eq!(r.status, 201, "{}", r.body);
    let g = r.body["id"].as_i64().unwrap();

    let plot = |code: &str, attrs: Value| {
        station.post(
            "/api/v1/plots",
            json!({"grower_id": g, "code": code, "variety": "early", "tree_age": 8,
                   "tree_count": 30, "fruit_per_tree": 300, "area_mu": "3", "attributes": attrs}),
        )
    };
    assert_refused(
        &plot(&"P".repeat(5_000), json!({})),
        "code",
        "text_too_long",
    );
    assert_refused(&plot("P\u{0}1", json!({})), "code", "text_control_char");
    assert_refused(
        &plot("P-1", json!({"slope": "1e3"})),
        "attributes",
        "attribute_not_numeric",
    );
    assert_refused(
        &plot("P-1", json!({"slope": HUGE})),
        "attributes",
        "attribute_not_numeric",
    );
    assert_refused(
        &plot("P-1", json!({"坡\u{202E}度": "1"})),
        "attributes",
        "text_bidi_char",
    );
    for (area, code) in [
        (HUGE, "area_too_large"),
        ("1e3", "area_not_a_number"),
        ("1,00", "area_not_a_number"),
        ("-0", "area_not_positive"),
    ] {
        let r = station.post(
            "/api/v1/plots",
            json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 30,
                   "fruit_per_tree": 300, "area_mu": area}),
        );
        assert_refused(&r, "area_mu", code);
    }
    assert_eq!(count(&mut app.conn(), "plots"), 0);
    let r = plot("P-1", json!({"slope": "１，０００"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = station.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 30,
               "fruit_per_tree": 300, "area_mu": "１，２３４．５"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["area_mu"], "1234.50");
    assert_eq!(count(&mut app.conn(), "plots"), 2);
}

/// Their statement: one policy with the given amount text.
fn statement_file(policy_no: &str, amount: &str) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["序号", "保单号码", "被保险人", "财政补贴（元）"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 1.0).unwrap();
    ws.write_string(1, 1, policy_no).unwrap();
    ws.write_string(1, 2, "某农户").unwrap();
    ws.write_string(1, 3, amount).unwrap();
    wb.save_to_buffer().unwrap()
}

fn post_statement(app: &TestApp, bytes: Vec<u8>) -> Resp {
    let api = app.api("finance");
    let r = reqwest::blocking::Client::new()
        .post(format!(
            "{}/api/v1/finance/reconciliations?source=insurer",
            app.address
        ))
        .bearer_auth(&api.token)
        .body(bytes)
        .send()
        .unwrap();
    Resp {
        status: r.status().as_u16(),
        body: r.json().unwrap(),
    }
}

#[test]
fn huge_amounts_are_refused_by_every_finance_input() {
    let app = spawn_app();
    let policy = issued_policy(&app, 1);
    let policy_no = policy["policy_no"].as_str().unwrap().to_string();
    let fin = app.api("finance");
    let tables = [
        "subsidy_disbursements",
        "subsidy_adjustments",
        "premium_batches",
        "premium_batch_confirmations",
        "reconciliations",
    ];
    let counts = |app: &TestApp| -> Vec<i64> {
        let mut c = app.conn();
        tables.iter().map(|t| count(&mut c, t)).collect()
    };

    // Disbursements.
    let disburse = |amount: &str, voucher: &str, note: &str| {
        fin.post(
            "/api/v1/finance/disbursements",
            json!({"scheme": "walnut-2012", "township_code": TOWNSHIP_A, "level": "county",
                   "amount": amount, "paid_on": "2012-05-01", "voucher_no": voucher, "note": note}),
        )
    };
    let before = counts(&app);
    let r = disburse(HUGE, "PZ-1", "");
    assert_refused(&r, "amount", "amount_invalid");
    assert!(
        r.body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("最多12位"),
        "{}",
        r.body
    );
    let r = disburse("1e3", "PZ-1", "");
    assert_refused(&r, "amount", "amount_invalid");
    assert!(r.body["message"].as_str().unwrap().contains("科学计数法"));
    assert_refused(&disburse("1,00", "PZ-1", ""), "amount", "amount_invalid");
    assert_refused(
        &disburse("0.01", "PZ\u{0}1", ""),
        "voucher_no",
        "text_control_char",
    );
    assert_refused(
        &disburse("0.01", "PZ-1", "备\u{7}注"),
        "note",
        "text_control_char",
    );
    assert_refused(
        &disburse("0.01", "PZ-1", &"注".repeat(2_001)),
        "note",
        "text_too_long",
    );
    assert_eq!(counts(&app), before);
    let r = disburse("０．０１", "PZ-1", "第一笔\n拨付");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["amount"], "0.01");

    // Batch confirmation.
    let r = app.api("station_a").post(
        "/api/v1/batches",
        json!({"receipt_no": "SJ-A1", "handed_over_on": "2012-03-20"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let batch = r.body["id"].as_i64().unwrap();
    let before = counts(&app);
    let uw = app.api("underwriter");
    let confirm = |amount: &str| {
        uw.post(
            &format!("/api/v1/batches/{batch}/confirm"),
            json!({"amount": amount, "confirmed_on": "2012-03-21"}),
        )
    };
    for bad in [HUGE, "1e3", "-1", "NaN", ""] {
        assert_refused(&confirm(bad), "amount", "amount_invalid");
    }
    assert_eq!(counts(&app), before);

    // Adjustments, after sign-off.
    let r = fin.post(
        "/api/v1/finance/statement/lock",
        json!({"scheme": "walnut-2012", "signed_off_by": "张\u{202E}三"}),
    );
    assert_refused(&r, "signed_off_by", "text_bidi_char");
    let r = fin.post(
        "/api/v1/finance/statement/lock",
        json!({"scheme": "walnut-2012", "signed_off_by": "张三"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let before = counts(&app);
    let adjust = |amount: &str, reason: &str| {
        fin.post(
            "/api/v1/finance/adjustments",
            json!({"township_code": TOWNSHIP_A, "level": "county", "amount": amount, "reason": reason}),
        )
    };
    for bad in [HUGE, &format!("-{HUGE}"), "-1e3", "--1", "-1,00"] {
        assert_refused(&adjust(bad, "更正"), "amount", "amount_invalid");
    }
    assert_refused(&adjust("-0.01", "更\u{0}正"), "reason", "text_control_char");
    assert_eq!(counts(&app), before);

    // A reconciliation file cell.
    for bad in [HUGE, "1e3", "1,00"] {
        let r = post_statement(&app, statement_file(&policy_no, bad));
        assert_refused(&r, "file", "amount_invalid");
    }
    assert_eq!(counts(&app), before);
    let r = post_statement(&app, statement_file(&policy_no, "１，０００.００元"));
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn huge_numbers_in_a_scheme_definition_are_refused() {
    let app = spawn_app();
    let admin = app.api("admin");
    let apple: Value =
        serde_json::from_str(include_str!("../../fixtures/schemes/apple-2013.json")).unwrap();
    let before = count(&mut app.conn(), "schemes");
    let with = |path: &[&str], v: Value| {
        let mut d = apple.clone();
        let mut at = &mut d;
        for p in path {
            at = match p.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*p],
            };
        }
        *at = v;
        admin.post("/api/v1/schemes", d)
    };
    for (path, value, code) in [
        (
            &["sum_insured_per_mu"][..],
            json!(HUGE),
            "scheme_json_invalid",
        ),
        (&["premium_per_mu"][..], json!("1e3"), "scheme_json_invalid"),
        (
            &["subsidy_levels", "0", "percent"][..],
            json!(HUGE),
            "scheme_level_percent_invalid",
        ),
        (
            &["claim_rules", "deductible_rate"][..],
            json!(HUGE),
            "scheme_claim_rules_invalid",
        ),
        (
            &["claim_rules", "survey_hours"][..],
            json!(4_000_000_000u32),
            "scheme_claim_deadlines_invalid",
        ),
        (
            &["area_tolerance_percent"][..],
            json!(HUGE),
            "scheme_area_tolerance_invalid",
        ),
        (
            &["term_end"][..],
            json!("9999-12-31"),
            "scheme_term_too_long",
        ),
        (
            &["sum_insured_per_mu"][..],
            json!("999999999999.99"),
            "scheme_rates_too_large",
        ),
        (&["name"][..], json!("苹果\u{0}"), "scheme_text_invalid"),
    ] {
        let r = with(path, value);
        assert_eq!(r.status, 422, "{path:?}: {}", r.body);
        let codes: Vec<&str> = r.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{path:?}: {}", r.body);
        assert!(
            has_chinese(r.body["message"].as_str().unwrap()),
            "{}",
            r.body
        );
    }
    assert_eq!(count(&mut app.conn(), "schemes"), before);
    let r = admin.post("/api/v1/schemes", apple);
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_huge_claim_payment_is_refused_and_a_valid_one_recorded() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "张冰雹", 1, true);
    let uw = app.api("underwriter");
    // The report's text fields follow the shared rules too.
    let bad_report = |field: &str, value: &str| {
        let mut body = json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": "hail",
               "occurred_at": "2012-06-12 14:30", "reporter_name": "报案人",
               "reporter_phone": "13900000000", "channel": "phone", "description": "冰雹"});
        body[field] = json!(value);
        uw.post("/api/v1/claims", body)
    };
    assert_refused(
        &bad_report("reporter_name", "报\u{202E}案人"),
        "reporter_name",
        "text_bidi_char",
    );
    assert_refused(
        &bad_report("description", "冰\u{0}雹"),
        "description",
        "text_control_char",
    );
    assert_refused(
        &bad_report("reporter_phone", "139\u{7}"),
        "reporter_phone",
        "text_control_char",
    );
    assert_eq!(count(&mut app.conn(), "claims"), 0);
    let r = report(&uw, &ins, "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    app.clock.advance(chrono::Duration::hours(15));
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    assert_eq!(upload(&adj, id, "photo-0001-a", jpeg(7)).status, 201);
    let r = adj.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-0001-abc", lat, lon, "5", "35"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let version = r.body["claim"]["version"].as_i64().unwrap();
    let r = uw.post(
        &format!("/api/v1/claims/{id}/approve"),
        json!({"version": version}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": "2012-06-13"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    notices::notice_for_claim(&app, id);

    let pay = |amount: &str, reference: &str| {
        uw.post(
            &format!("/api/v1/claims/{id}/payments"),
            json!({"amount": amount, "paid_on": "2012-06-13", "bank_reference": reference}),
        )
    };
    let before = count(&mut app.conn(), "claim_payments");
    for bad in [HUGE, "1e3", "1,00", "inf", "0x10"] {
        assert_refused(&pay(bad, "LS-1"), "amount", "amount_invalid");
    }
    assert_refused(&pay("1", "LS\u{0}1"), "bank_reference", "text_control_char");
    assert_eq!(count(&mut app.conn(), "claim_payments"), before);
    let r = pay("1,750.00", "LS-1");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "claim_payments"), before + 1);
}
