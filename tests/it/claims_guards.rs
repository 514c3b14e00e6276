//! The claims desk's safeguards: one claim per report however often it is
//! sent, a second report for the same plot and day only with a reason, an
//! excluded cause or a zero-payout approval only once confirmed, and the
//! report search telling the clerk what the plot already has.

use crate::helpers::claims::*;
use crate::helpers::*;
use diesel::prelude::*;
use serde_json::{json, Value};

fn body(ins: &Insured, peril: &str, occurred: &str) -> Value {
    json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": peril,
           "occurred_at": occurred, "reporter_name": "报案人", "reporter_phone": "13900000000"})
}

fn with(mut b: Value, key: &str, v: Value) -> Value {
    b[key] = v;
    b
}

/// Audit entries of `action` on claim `id`.
fn audited(app: &TestApp, action: &str, id: i64) -> Vec<String> {
    use guobao::db::schema::audit_log as a;
    a::table
        .filter(a::action.eq(action))
        .filter(a::entity_id.eq(id))
        .select(a::after_json)
        .load::<Option<String>>(&mut app.conn())
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

/// The single-use token of the report form on `page`.
fn form_token(page: &str) -> String {
    let re = regex::Regex::new(r#"name="client_id" id="client_id" value="([^"]+)""#).unwrap();
    re.captures(page).expect("form token in the report form")[1].to_string()
}

#[test]
fn the_same_report_sent_twice_records_one_claim() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "双击户", 31, true);
    let uw = app.api("underwriter");
    // The API: the same Idempotency-Key twice, one claim, the same id.
    let send = |key: &str| {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/claims", uw.base))
            .bearer_auth(&uw.token)
            .header("Idempotency-Key", key)
            .json(&body(&ins, "hail", "2012-06-12 14:30"))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().unwrap())
    };
    let (s1, first) = send("report-key-0001");
    assert_eq!(s1, 201, "{first}");
    let (s2, again) = send("report-key-0001");
    assert_eq!(s2, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["claim_no"], first["claim_no"]);
    assert_eq!(count(&mut app.conn(), "claims"), 1);
    // The same key in the body does the same; a bad key is refused.
    let r = uw.post(
        "/api/v1/claims",
        with(
            body(&ins, "hail", "2012-06-12 14:30"),
            "client_id",
            json!("report-key-0001"),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], first["id"]);
    let r = uw.post(
        "/api/v1/claims",
        with(
            body(&ins, "hail", "2012-06-12 14:30"),
            "client_id",
            json!("bad key!"),
        ),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "client_id_invalid");
    assert_eq!(count(&mut app.conn(), "claims"), 1);

    // The page form: its token posted twice (a double tap) makes one claim.
    let other = insured(&app, "页面双击", 32, true);
    let desk = app.browser();
    desk.login("underwriter");
    let page = desk.get("/claims/new?q=页面双击");
    assert_eq!(page.status, 200);
    let token = form_token(&page.body);
    assert!(!page.body.contains("POST /api"), "API paths on the page");
    let csrf = desk.csrf("/claims/new?q=页面双击");
    let (plot, policy) = (other.plot_id.to_string(), other.policy_id.to_string());
    let form = [
        ("csrf_token", csrf.as_str()),
        ("client_id", token.as_str()),
        ("policy_id", policy.as_str()),
        ("plot_id", plot.as_str()),
        ("peril", "hail"),
        ("occurred_at", "2012-06-12T14:30"),
        ("reporter_name", "报案人"),
        ("channel", "phone"),
    ];
    let a = desk.post("/claims", &form);
    let b = desk.post("/claims", &form);
    assert_eq!((a.status, b.status), (303, 303), "{}", b.body);
    assert_eq!(a.location, b.location);
    assert_eq!(count(&mut app.conn(), "claims"), 2);
    let shown = desk.get(b.location.as_deref().unwrap());
    assert!(shown.body.contains("重复提交，未再登记"), "{}", shown.body);
    // A new form has a new token.
    assert_ne!(form_token(&desk.get("/claims/new?q=页面双击").body), token);
}

#[test]
fn a_second_report_for_the_same_plot_and_day_needs_a_reason() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "重复户", 33, true);
    let uw = app.api("underwriter");
    let first = report(&uw, &ins, "hail", "2012-06-10 10:00");
    assert_eq!(first.status, 201, "{}", first.body);
    let first_no = first.body["claim_no"].as_str().unwrap().to_string();
    // Same plot, same China day, other hour and peril: refused, nothing written.
    let r = uw.post("/api/v1/claims", body(&ins, "wind", "2012-06-10 18:00"));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"], "duplicate_report");
    assert!(
        r.body["message"].as_str().unwrap().contains(&first_no),
        "{}",
        r.body
    );
    let blank = with(
        body(&ins, "wind", "2012-06-10 18:00"),
        "duplicate_reason",
        json!("  "),
    );
    assert_eq!(uw.post("/api/v1/claims", blank).status, 409);
    assert_eq!(count(&mut app.conn(), "claims"), 1);
    // Another day is no duplicate.
    assert_eq!(report(&uw, &ins, "hail", "2012-06-11 10:00").status, 201);
    // With a reason: taken, the reason stored and audited.
    let r = uw.post(
        "/api/v1/claims",
        with(
            body(&ins, "wind", "2012-06-10 18:00"),
            "duplicate_reason",
            json!("上午冰雹、傍晚大风，两次灾害"),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let stored: Option<String> = {
        use guobao::db::schema::claim_report_marks as m;
        m::table
            .find(id)
            .select(m::duplicate_reason)
            .first(&mut app.conn())
            .unwrap()
    };
    assert_eq!(stored.as_deref(), Some("上午冰雹、傍晚大风，两次灾害"));
    let trail = audited(&app, "report_duplicate", id);
    assert_eq!(trail.len(), 1);
    assert!(
        trail[0].contains("两次灾害") && trail[0].contains(&first_no),
        "{trail:?}"
    );
    assert_eq!(count(&mut app.conn(), "claims"), 3);

    // The page form: the warning, the reason field, then the claim.
    let desk = app.browser();
    desk.login("underwriter");
    let (plot, policy) = (ins.plot_id.to_string(), ins.policy_id.to_string());
    let mut form = vec![
        ("q", "重复户"),
        ("policy_id", policy.as_str()),
        ("plot_id", plot.as_str()),
        ("peril", "hail"),
        ("occurred_at", "2012-06-11T20:00"),
        ("reporter_name", "报案人"),
        ("channel", "phone"),
    ];
    let p = desk.submit("/claims/new?q=重复户", "/claims", &form);
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("id=\"duplicate_reason\""), "{}", p.body);
    assert!(p.body.contains("同一天的损失不能重复报案"));
    assert_eq!(count(&mut app.conn(), "claims"), 3);
    form.push(("duplicate_reason", "农户补报另一地块角落的损失"));
    let p = desk.submit("/claims/new?q=重复户", "/claims", &form);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "claims"), 4);
    // The claim's page says why it was recorded twice; an ordinary one does not.
    let page = desk.get(p.location.as_deref().unwrap()).body;
    assert!(page.contains("同日重复报案"), "{page}");
    assert!(page.contains("农户补报另一地块角落的损失"), "{page}");
    let page = desk.get(&format!("/claims/{id}")).body;
    assert!(page.contains("上午冰雹、傍晚大风，两次灾害"), "{page}");
    let api = uw.get(&format!("/api/v1/claims/{id}")).body;
    assert_eq!(api["duplicate_reason"], "上午冰雹、傍晚大风，两次灾害");
    let ordinary = desk.get(&format!("/claims/{}", r_first_id(&app))).body;
    assert!(!ordinary.contains("同日重复报案"));
}

/// The first claim recorded in the test database.
fn r_first_id(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use guobao::db::schema::claims;
    claims::table
        .select(claims::id)
        .order(claims::id.asc())
        .first(&mut app.conn())
        .unwrap()
}

#[test]
fn an_excluded_cause_is_recorded_only_once_confirmed() {
    let app = spawn_app_at("2012-07-02 09:00");
    let ins = insured(&app, "免责户", 34, true);
    let uw = app.api("underwriter");
    let r = uw.post("/api/v1/claims", body(&ins, "drought", "2012-07-01 10:00"));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"], "exclusion_unconfirmed");
    let says = r.body["message"].as_str().unwrap();
    assert!(says.contains("干旱") && says.contains("拒赔"), "{says}");
    assert_eq!(count(&mut app.conn(), "claims"), 0);
    let r = uw.post(
        "/api/v1/claims",
        with(
            body(&ins, "drought", "2012-07-01 10:00"),
            "confirm_exclusion",
            json!(true),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "declined");
    assert_eq!(r.body["decline_code"], "peril_excluded");

    // The page: perils and exclusions apart; the confirmation step names the outcome.
    let desk = app.browser();
    desk.login("underwriter");
    let page = desk.get("/claims/new?q=免责户");
    let (perils, excluded) = page
        .body
        .split_once("fieldset class=\"excluded\"")
        .expect("a separate group for excluded causes");
    assert!(perils.contains("value=\"hail\"") && !perils.contains("value=\"drought\""));
    assert!(excluded.contains("value=\"drought\"") && excluded.contains("将直接拒赔"));
    let (plot, policy) = (ins.plot_id.to_string(), ins.policy_id.to_string());
    let mut form = vec![
        ("q", "免责户"),
        ("policy_id", policy.as_str()),
        ("plot_id", plot.as_str()),
        ("peril", "flood_storage"),
        ("occurred_at", "2012-07-01T12:00"),
        ("reporter_name", "报案人"),
        ("channel", "phone"),
    ];
    let p = desk.submit("/claims/new?q=免责户", "/claims", &form);
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("id=\"confirm-exclusion\""), "{}", p.body);
    assert!(p.body.contains("政府行蓄洪") && p.body.contains("立即拒赔"));
    assert_eq!(count(&mut app.conn(), "claims"), 1);
    form.push(("confirm_exclusion", "1"));
    let p = desk.submit("/claims/new?q=免责户", "/claims", &form);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "claims"), 2);
}

#[test]
fn a_zero_payout_approval_declines_only_once_confirmed() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "零赔户", 35, true);
    let uw = app.api("underwriter");
    let adj = app.api("adjuster");
    let id = report(&uw, &ins, "hail", "2012-06-12 10:00").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, id);
    let (lat, lon) = point_east(50.0);
    let r = adj.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-zero-001", lat, lon, "15", "5"),
    );
    assert_eq!(r.body["payout"]["amount"], "0.00", "{}", r.body);
    let r = uw.post(&format!("/api/v1/claims/{id}/approve"), json!({}));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"], "decline_unconfirmed");
    assert!(r.body["message"].as_str().unwrap().contains("起赔标准"));
    let d = uw.get(&format!("/api/v1/claims/{id}"));
    assert_eq!(d.body["claim"]["status"], "surveyed");
    // The page asks with what will happen; the checkbox confirms.
    let desk = app.browser();
    desk.login("underwriter");
    let page = desk.get(&format!("/claims/{id}"));
    assert!(page.body.contains("id=\"decline-step\""), "{}", page.body);
    assert!(page.body.contains("确认拒赔并结案"));
    let p = desk.submit(
        &format!("/claims/{id}"),
        &format!("/claims/{id}/approve"),
        &[("note", "")],
    );
    assert_eq!(p.status, 409, "{}", p.body);
    let p = desk.submit(
        &format!("/claims/{id}"),
        &format!("/claims/{id}/approve"),
        &[("confirm_decline", "1")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let d = uw.get(&format!("/api/v1/claims/{id}"));
    assert_eq!(d.body["claim"]["status"], "declined");
    assert_eq!(d.body["claim"]["decline_code"], "below_threshold");
}

#[test]
fn the_report_search_shows_earlier_claims_and_the_sum_insured_left() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "查找户", 36, true);
    let full = insured(&app, "赔完户", 37, true);
    let uw = app.api("underwriter");
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    // A claim paid in full: 1000 × 5 mu × 35% = 1750.00 of 15000.00.
    let id = report(&uw, &ins, "hail", "2012-06-11 10:00").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, id);
    let r = adj.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-find-001", lat, lon, "5", "35"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        uw.post(&format!("/api/v1/claims/{id}/approve"), json!({}))
            .status,
        200
    );
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": "2012-06-12"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    notices::notice_for_claim(&app, id);
    let r = uw.post(
        &format!("/api/v1/claims/{id}/payments"),
        json!({"amount": "1750.00", "paid_on": "2012-06-12", "bank_reference": "FIND-001"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        uw.get(&format!("/api/v1/claims/{id}")).body["claim"]["status"],
        "paid"
    );
    // A total loss surveyed on the other policy holds all of its 15000.00.
    let other = report(&uw, &full, "hail", "2012-06-11 10:00").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, other);
    let r = adj.post(
        &format!("/api/v1/claims/{other}/survey"),
        survey_body("survey-full-001", lat, lon, "15", "90"),
    );
    assert_eq!(r.body["payout"]["amount"], "15000.00", "{}", r.body);

    let hits = uw.get("/api/v1/claims/lookup?q=查找户").body;
    let h = &hits["items"][0];
    assert_eq!(h["sum_insured"], "15000.00");
    assert_eq!(h["remaining_sum"], "13250.00");
    assert_eq!(h["cover_used_up"], false);
    assert_eq!(h["cover_start"], "2012-04-01");
    assert_eq!(h["cover_end"], "2012-10-31");
    assert!(!h["village_name"].as_str().unwrap().is_empty());
    let p = &h["plots"][0];
    assert_eq!(p["claims_count"], 1);
    assert_eq!(p["latest_claim"]["status"], "paid");
    assert_eq!(p["latest_claim"]["occurred_on"], "2012-06-11");
    let hits = uw.get("/api/v1/claims/lookup?q=赔完户").body;
    assert_eq!(hits["items"][0]["remaining_sum"], "0.00");
    assert_eq!(hits["items"][0]["cover_used_up"], true);

    // The page shows the same, row by row.
    let desk = app.browser();
    desk.login("underwriter");
    let page = desk.get("/claims/new?q=查找户").body;
    assert!(page.contains(&ins.plot_code), "{page}");
    assert!(page.contains("13250.00元"));
    assert!(page.contains("1次，最近"));
    assert!(page.contains("已支付") || page.contains("已赔付"), "{page}");
    assert!(page.contains("2012-04-01 至 2012-10-31"));
    let page = desk.get("/claims/new?q=赔完户").body;
    assert!(page.contains("保险金额已赔完"), "{page}");
    assert!(page.contains("data-used-up=\"1\""));
}

#[test]
fn the_adjusters_list_flags_the_24_hour_rule() {
    let app = spawn_app_at("2012-06-12 08:00");
    let late = insured(&app, "超时户", 38, true);
    let soon = insured(&app, "未超户", 39, true);
    let uw = app.api("underwriter");
    let a = report(&uw, &late, "hail", "2012-06-11 06:00").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, a);
    app.clock.advance(chrono::Duration::hours(26));
    let r = report(&uw, &soon, "hail", "2012-06-13 09:00");
    let b = r.body["id"].as_i64().unwrap();
    let b_no = r.body["claim_no"].as_str().unwrap().to_string();
    dispatch(&uw, b);
    app.clock.advance(chrono::Duration::hours(4));
    let desk = app.browser();
    desk.login("adjuster");
    let list = desk.get("/claims/list").body;
    assert!(list.contains("已超24小时（超时"), "{list}");
    assert!(list.contains("剩余20小时00分"), "{list}");
    // The survey page says the same, and offers the other claim next.
    let page = desk.get(&format!("/claims/{a}/survey")).body;
    assert!(page.contains("已超24小时"), "{page}");
    assert!(page.contains("请农户在此签名"));
    let next = page.split_once("\"next\"").expect("a next claim").1;
    assert!(next.contains(&b_no), "{page}");
}
