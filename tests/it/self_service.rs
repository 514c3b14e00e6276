//! 农户自助查询 (/self and POST /api/v1/self-service/lookup): a grower's own
//! records for their ID number and phone, nobody else's; one answer for
//! every mismatch; the throttle; the audit trail; the answer time.

use crate::helpers::claims::{insured, report, Insured};
use crate::helpers::{count, id_number, spawn_app_at, GrowerBuilder, TestApp};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LOOKUP: &str = "/api/v1/self-service/lookup";
/// The phone `GrowerBuilder` gives every grower unless told otherwise.
const SHARED_PHONE: &str = "13800000000";
const OTHER_PHONE: &str = "13900000013";

struct Answer {
    status: u16,
    retry_after: Option<String>,
    cache: Option<String>,
    body: Value,
    text: String,
}

fn lookup(app: &TestApp, id: &str, phone: &str) -> Answer {
    lookup_body(app, json!({"id_number": id, "phone": phone}))
}

fn lookup_body(app: &TestApp, body: Value) -> Answer {
    let r = Client::new()
        .post(format!("{}{LOOKUP}", app.address))
        .json(&body)
        .send()
        .unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (status, retry_after, cache) = (
        r.status().as_u16(),
        header("retry-after"),
        header("cache-control"),
    );
    let text = r.text().unwrap();
    Answer {
        status,
        retry_after,
        cache,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// Three growers: A (insured, issued, one hail claim) and B (insured, draft)
/// share a phone; C has a phone of its own and no policy.
struct County {
    app: TestApp,
    a: Insured,
    b: Insured,
    a_claim_no: String,
}

fn county() -> County {
    let app = spawn_app_at("2012-06-12 08:00");
    let a = insured(&app, "甲农户", 11, true);
    let b = insured(&app, "乙农户", 12, false);
    let station = app.api("station_a");
    GrowerBuilder::new("丙农户")
        .seq(13)
        .phone(OTHER_PHONE)
        .create(&station);
    let r = report(&app.api("underwriter"), &a, "hail", "2012-06-11 20:00");
    assert_eq!(r.status, 201, "{}", r.body);
    let a_claim_no = r.body["claim_no"].as_str().unwrap().to_string();
    County {
        app,
        a,
        b,
        a_claim_no,
    }
}

fn self_lookups(app: &TestApp) -> Vec<(Option<String>, Option<String>, Option<i64>)> {
    use diesel::prelude::*;
    use guobao::db::schema::audit_log;
    audit_log::table
        .filter(audit_log::action.eq("self_lookup"))
        .order(audit_log::id)
        .select((
            audit_log::after_json,
            audit_log::client_addr,
            audit_log::entity_id,
        ))
        .load(&mut app.conn())
        .unwrap()
}

fn outcome(row: &(Option<String>, Option<String>, Option<i64>)) -> String {
    let v: Value = serde_json::from_str(row.0.as_deref().unwrap_or("null")).unwrap();
    v["outcome"].as_str().unwrap_or("").to_string()
}

#[test]
fn the_right_pair_shows_only_that_growers_policies_plots_and_claims() {
    let c = county();
    let id_a = id_number("19700101", 11);
    let r = lookup(&c.app, &id_a, SHARED_PHONE);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.cache.as_deref(), Some("no-store"));
    let v = &r.body;
    assert_eq!(v["name"], "甲农户");
    assert_eq!(v["id_number"], format!("5329**********{}", &id_a[14..]));
    assert_eq!(v["phone"], "138****0000");
    let policies = v["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{v}");
    assert_eq!(policies[0]["policy_no"], c.a.policy_no.as_str());
    assert_eq!(policies[0]["status_name"], "已签发");
    // Issued only after the village's enrollment notice ran its course.
    assert_eq!(policies[0]["notice"], "承保公示已期满，异议均已处理");
    assert_eq!(policies[0]["insured_mu"], "15.00");
    assert_eq!(policies[0]["premium"], "1200.00");
    assert_eq!(policies[0]["grower_share"], "240.00");
    assert_eq!(policies[0]["cover_start"], "2012-04-01");
    assert_eq!(policies[0]["cover_end"], "2012-10-31");
    let plots = v["plots"].as_array().unwrap();
    assert_eq!(plots.len(), 1);
    assert_eq!(plots[0]["code"], c.a.plot_code.as_str());
    assert_eq!(plots[0]["village"], "一村");
    assert_eq!(plots[0]["variety"], "早实核桃");
    assert_eq!(plots[0]["mu"], "15.00");
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["claim_no"], c.a_claim_no.as_str());
    assert_eq!(claims[0]["status_name"], "待派工");
    assert_eq!(claims[0]["peril_name"], "雹灾");
    assert!(claims[0]["payout"].is_null());
    assert_eq!(claims[0]["paid"], "0.00");
    // No payout yet: nothing to post.
    assert!(claims[0]["notice"].is_null(), "{}", claims[0]);
    // B shares the phone: none of B's records, and never the full ID.
    assert!(!r.text.contains(&c.b.policy_no) && !r.text.contains(&c.b.plot_code));
    assert!(!r.text.contains(&id_a) && !r.text.contains(SHARED_PHONE));

    // B with the same phone sees B's draft policy, not A's, and no claim.
    let r = lookup(&c.app, &id_number("19700101", 12), SHARED_PHONE);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "乙农户");
    assert_eq!(r.body["policies"][0]["policy_no"], c.b.policy_no.as_str());
    assert_eq!(r.body["policies"][0]["status_name"], "已收自缴保费");
    assert_eq!(r.body["claims"].as_array().unwrap().len(), 0);
    assert!(!r.text.contains(&c.a.policy_no) && !r.text.contains(&c.a_claim_no));

    // The page: typed with full-width digits and spaces, as a phone keyboard may.
    let wide: String = id_a
        .chars()
        .map(|ch| char::from_u32(ch as u32 + 0xFEE0).unwrap())
        .collect();
    let typed_id = format!(" {} {} ", &wide[..18], &wide[18..]);
    let browser = c.app.browser();
    let form = browser.get("/self");
    assert_eq!(form.status, 200);
    assert!(form.body.contains("农户自助查询") && form.body.contains("name=\"csrf_token\""));
    let p = browser.submit(
        "/self",
        "/self",
        &[("id_number", &typed_id), ("phone", "138 0000 0000")],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains(&c.a.policy_no) && p.body.contains(&c.a_claim_no));
    assert!(p.body.contains("已签发") && p.body.contains("一村") && p.body.contains("早实核桃"));
    assert!(p.body.contains("240.00") && p.body.contains("2012-10-31"));
    assert!(!p.body.contains(&c.b.policy_no));
    assert!(!p.body.contains(&id_a) && !p.body.contains(SHARED_PHONE));
    // CSP: no inline script or style on the form or the result.
    for body in [&form.body, &p.body] {
        assert!(
            body.matches("<script").count() == body.matches(r#"<script src="/static/"#).count()
                && !body.contains(" style=\"")
                && !body.contains("<style")
        );
    }
    // The login page leads here.
    assert!(c
        .app
        .browser()
        .get("/login")
        .body
        .contains("href=\"/self\""));
}

#[test]
fn every_mismatched_pair_is_refused_with_one_identical_answer() {
    let c = county();
    let id_a = id_number("19700101", 11);
    let id_c = id_number("19700101", 13);
    let unknown = id_number("19800202", 77);
    let answers = [
        // A's ID with C's phone.
        lookup(&c.app, &id_a, OTHER_PHONE),
        // An ID nobody enrolled, with A's phone.
        lookup(&c.app, &unknown, SHARED_PHONE),
        // A's (shared) phone with C's ID.
        lookup(&c.app, &id_c, SHARED_PHONE),
    ];
    for a in &answers {
        assert_eq!(a.status, 404, "{}", a.text);
        assert_eq!(a.body, answers[0].body);
        assert_eq!(a.cache.as_deref(), Some("no-store"));
    }
    assert_eq!(answers[0].body["error"], "self_lookup_no_match");
    assert!(answers[0].body["message"]
        .as_str()
        .unwrap()
        .contains("身份证号与联系电话不匹配"));
    assert!(answers.iter().all(|a| !a.text.contains("农户")));
    // C's own pair works.
    assert_eq!(lookup(&c.app, &id_c, OTHER_PHONE).status, 200);

    // The page says the same for each.
    let browser = c.app.browser();
    let bodies: Vec<String> = [
        (&id_a, OTHER_PHONE),
        (&unknown, SHARED_PHONE),
        (&id_c, SHARED_PHONE),
    ]
    .iter()
    .map(|(id, phone)| {
        let p = browser.submit("/self", "/self", &[("id_number", id), ("phone", phone)]);
        assert_eq!(p.status, 404, "{}", p.body);
        assert!(p.body.contains("身份证号与联系电话不匹配"));
        assert!(!p.body.contains(id.as_str()), "the full ID is never echoed");
        let alert = regex::Regex::new(r#"(?s)<div class="errors"[^>]*>(.*?)</div>"#).unwrap();
        let msg = alert.captures(&p.body).unwrap()[1].to_string();
        // Only the typed pair, masked, differs.
        msg.split("您输入的").next().unwrap().to_string()
    })
    .collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert!(!bodies[0].contains("甲农户") && !bodies[0].contains("丙农户"));
}

#[test]
fn the_throttle_locks_an_id_number_and_then_an_address_even_for_the_right_pair() {
    let c = county();
    let id_a = id_number("19700101", 11);
    // Ten failures for A's ID (default limit 10 in 15 minutes).
    for i in 0..10 {
        let r = lookup(&c.app, &id_a, OTHER_PHONE);
        assert_eq!(r.status, 404, "attempt {i}: {}", r.text);
    }
    let r = lookup(&c.app, &id_a, SHARED_PHONE);
    assert_eq!(
        r.status, 429,
        "the right pair is refused once locked: {}",
        r.text
    );
    assert_eq!(r.body["error"], "self_lookup_locked");
    assert!(r.body["message"].as_str().unwrap().contains("15分钟后再试"));
    let wait: u64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "Retry-After {wait}");
    assert!(!r.text.contains(&c.a.policy_no));
    // The page too, with its own message (not the login's).
    let p = c.app.browser().submit(
        "/self",
        "/self",
        &[("id_number", &id_a), ("phone", SHARED_PHONE)],
    );
    assert_eq!(p.status, 429);
    assert!(p.body.contains("查询失败次数过多") && !p.body.contains(&c.a.policy_no));
    // Another grower from the same address still gets in (10 of 30 used).
    assert_eq!(
        lookup(&c.app, &id_number("19700101", 12), SHARED_PHONE).status,
        200
    );
    // The login throttle is its own: staff can still log in.
    c.app.api("station_a");

    // Twenty more failures with other IDs reach the address's 30.
    for seq in 100..120 {
        let r = lookup(&c.app, &id_number("19800101", seq), SHARED_PHONE);
        assert_eq!(r.status, 404, "{seq}: {}", r.text);
    }
    let r = lookup(&c.app, &id_number("19700101", 12), SHARED_PHONE);
    assert_eq!(r.status, 429, "the address is locked: {}", r.text);
    assert!(r.retry_after.is_some());
    // The locks were audited, neither with the full ID.
    use diesel::prelude::*;
    use guobao::db::schema::audit_log;
    let locks: Vec<Option<String>> = audit_log::table
        .filter(audit_log::action.eq("lockout"))
        .select(audit_log::after_json)
        .load(&mut c.app.conn())
        .unwrap();
    let locks: Vec<String> = locks.into_iter().flatten().collect();
    assert_eq!(locks.len(), 2, "{locks:?}");
    assert!(
        locks[0].contains("\"self_service\":\"id_number\""),
        "{locks:?}"
    );
    assert!(
        locks[1].contains("\"self_service\":\"address\""),
        "{locks:?}"
    );
    assert!(locks.iter().all(|l| !l.contains(&id_a)));
    // The throttle table keeps a hash, not the number.
    let keys: Vec<String> = guobao::db::schema::login_throttle::table
        .select(guobao::db::schema::login_throttle::key)
        .load(&mut c.app.conn())
        .unwrap();
    assert!(keys.iter().any(|k| k.starts_with("self_id:")));
    assert!(keys.iter().any(|k| k == "self_addr:127.0.0.1"));
    assert!(keys.iter().all(|k| !k.contains(&id_a[..17])), "{keys:?}");
}

#[test]
fn concurrent_guesses_cannot_slip_past_the_limit() {
    let c = county();
    let id_a = id_number("19700101", 11);
    let handles: Vec<_> = (0..14)
        .map(|_| {
            let address = c.app.address.clone();
            let id = id_a.clone();
            std::thread::spawn(move || {
                Client::new()
                    .post(format!("{address}{LOOKUP}"))
                    .json(&json!({"id_number": id, "phone": OTHER_PHONE}))
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let checked = statuses.iter().filter(|s| **s == 404).count();
    assert!(checked <= 10, "at most 10 pairs checked: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 14 - checked);
    assert_eq!(lookup(&c.app, &id_a, SHARED_PHONE).status, 429);
}

#[test]
fn every_lookup_is_audited_with_the_id_number_masked() {
    let c = county();
    let id_a = id_number("19700101", 11);
    let before = count(&mut c.app.conn(), "audit_log");
    assert_eq!(lookup(&c.app, &id_a, SHARED_PHONE).status, 200);
    assert_eq!(lookup(&c.app, &id_a, OTHER_PHONE).status, 404);
    assert_eq!(lookup(&c.app, "12345", SHARED_PHONE).status, 400);
    let p = c.app.browser().submit(
        "/self",
        "/self",
        &[("id_number", &id_a), ("phone", SHARED_PHONE)],
    );
    assert_eq!(p.status, 200);
    let rows = self_lookups(&c.app);
    let outcomes: Vec<String> = rows.iter().map(outcome).collect();
    assert_eq!(outcomes, ["found", "no_match", "invalid", "found"]);
    for row in &rows {
        let after = row.0.as_deref().unwrap();
        assert!(
            !after.contains(&id_a),
            "full ID in the audit trail: {after}"
        );
        assert_eq!(row.1.as_deref(), Some("127.0.0.1"));
    }
    let masked = format!("5329**********{}", &id_a[14..]);
    assert!(rows[0].0.as_deref().unwrap().contains(&masked));
    assert!(rows[1].0.as_deref().unwrap().contains(&masked));
    // The found lookup names the grower it showed.
    let grower_a: i64 = {
        use diesel::prelude::*;
        use guobao::db::schema::growers;
        growers::table
            .filter(growers::id_number.eq(&id_a))
            .select(growers::id)
            .first(&mut c.app.conn())
            .unwrap()
    };
    assert_eq!(rows[0].2, Some(grower_a));
    assert_eq!(rows[1].2, Some(0));
    // Reads, not changes: the "nothing written" count of other tests holds.
    assert_eq!(count(&mut c.app.conn(), "audit_log"), before);
    // The audit chain still verifies with the lookups in it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(["audit", "verify"])
        .env("GUOBAO_DATABASE_URL", &c.app.db.url)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hostile_input_is_a_400_in_chinese_counted_against_the_address_and_nothing_else_is_written() {
    let c = county();
    let id_a = id_number("19700101", 11);
    let tables = [
        "growers",
        "plots",
        "policies",
        "claims",
        "sessions",
        "audit_log",
    ];
    let snapshot =
        |app: &TestApp| -> Vec<i64> { tables.iter().map(|t| count(&mut app.conn(), t)).collect() };
    let before = snapshot(&c.app);
    let long = "1".repeat(5000);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"id_number": "", "phone": ""}),
            "id_number",
            "value_required",
        ),
        (json!({}), "id_number", "value_required"),
        (
            json!({"id_number": long, "phone": SHARED_PHONE}),
            "id_number",
            "text_too_long",
        ),
        (
            json!({"id_number": id_a, "phone": long}),
            "phone",
            "text_too_long",
        ),
        (
            json!({"id_number": format!("{id_a}\u{0}"), "phone": SHARED_PHONE}),
            "id_number",
            "text_control_char",
        ),
        (
            json!({"id_number": id_a, "phone": "1380000\n0000"}),
            "phone",
            "text_control_char",
        ),
        (
            json!({"id_number": format!("{}\u{202E}", &id_a[..17]), "phone": SHARED_PHONE}),
            "id_number",
            "text_bidi_char",
        ),
        (
            json!({"id_number": "53299919700101001", "phone": SHARED_PHONE}),
            "id_number",
            "id_number_length",
        ),
        (
            json!({"id_number": "5329991970010100AB", "phone": SHARED_PHONE}),
            "id_number",
            "id_number_characters",
        ),
        (
            json!({"id_number": id_number("19701301", 1), "phone": SHARED_PHONE}),
            "id_number",
            "id_number_birth_date",
        ),
        (
            json!({"id_number": id_a, "phone": "12345"}),
            "phone",
            "phone_invalid",
        ),
        (
            json!({"id_number": id_a, "phone": "<script>"}),
            "phone",
            "phone_invalid",
        ),
    ];
    let n = cases.len();
    for (body, field, code) in cases {
        let r = lookup_body(&c.app, body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"], "validation_failed", "{body}");
        let fields = r.body["fields"].as_array().unwrap();
        assert!(
            fields
                .iter()
                .any(|f| f["field"] == field && f["code"] == code),
            "{body}: {fields:?}"
        );
        let msg = r.body["message"].as_str().unwrap();
        assert!(
            msg.chars()
                .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
            "{msg}"
        );
    }
    // An unknown field or a wrong type is refused before the lookup.
    let r = lookup_body(
        &c.app,
        json!({"id_number": id_a, "phone": SHARED_PHONE, "x": 1}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    let r = lookup_body(&c.app, json!({"id_number": 5, "phone": SHARED_PHONE}));
    assert_eq!(r.status, 422, "{}", r.text);
    // The page: the same 400 in Chinese, the form again; without the CSRF token a 403.
    let browser = c.app.browser();
    let p = browser.submit("/self", "/self", &[("id_number", "abc"), ("phone", "")]);
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("请修改以下问题") && p.body.contains("请填写登记时留的联系电话"));
    let p = browser.post("/self", &[("id_number", &id_a), ("phone", SHARED_PHONE)]);
    assert_eq!(p.status, 403);
    assert!(p.body.contains("页面已过期") && !p.body.contains(&c.a.policy_no));
    let p = browser.post(
        "/self",
        &[
            ("id_number", &id_a),
            ("phone", SHARED_PHONE),
            ("csrf_token", "0badc0de"),
        ],
    );
    assert_eq!(p.status, 403);

    // Nothing but the lookups' own audit rows and the address's count.
    assert_eq!(snapshot(&c.app), before);
    let audited = self_lookups(&c.app);
    assert_eq!(
        audited.len(),
        n + 1,
        "each 400 audited, the CSRF refusals not"
    );
    assert!(audited.iter().all(|r| outcome(r) == "invalid"));
    use diesel::prelude::*;
    use guobao::db::schema::login_throttle;
    let failures: i32 = login_throttle::table
        .find("self_addr:127.0.0.1")
        .select(login_throttle::failures)
        .first(&mut c.app.conn())
        .unwrap();
    assert_eq!(failures as usize, n + 1);
    // A's ID was never a pair, so its own count is untouched: the right pair works.
    assert_eq!(lookup(&c.app, &id_a, SHARED_PHONE).status, 200);
}

#[test]
fn a_right_pair_and_a_wrong_one_take_about_the_same_time() {
    let c = county();
    let id_a = id_number("19700101", 11);
    let took = |phone: &str, status: u16| {
        let t = Instant::now();
        let r = lookup(&c.app, &id_a, phone);
        assert_eq!(r.status, status, "{}", r.text);
        t.elapsed()
    };
    // Interleaved and compared by the fastest of each, so a busy moment on
    // the shared cores cannot fall on one kind only (load only adds time).
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        right.push(took(SHARED_PHONE, 200));
        wrong.push(took(OTHER_PHONE, 404));
    }
    let right = right.into_iter().min().unwrap();
    let wrong = wrong.into_iter().min().unwrap();
    let unknown = {
        let t = Instant::now();
        assert_eq!(
            lookup(&c.app, &id_number("19800101", 9), SHARED_PHONE).status,
            404
        );
        t.elapsed()
    };
    // Every answer waits for the floor (300 ms by default) from its start.
    for d in [right, wrong, unknown] {
        assert!(d >= Duration::from_millis(300), "{d:?}");
    }
    assert!(
        right * 2 > wrong && wrong * 2 > right,
        "right pair {right:?}, wrong pair {wrong:?}"
    );
}

#[test]
fn a_surveyed_and_part_paid_claim_shows_its_payout_and_what_was_paid() {
    use crate::helpers::claims::{dispatch, point_east, survey_body};
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "赔付户", 44, true);
    let uw = app.api("underwriter");
    let id = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    app.clock.advance(chrono::Duration::hours(15));
    let (lat, lon) = point_east(50.0);
    let r = app.api("adjuster").post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-self-0001", lat, lon, "5", "35"),
    );
    let version = r.body["claim"]["version"].as_i64().unwrap();
    let r = uw.post(
        &format!("/api/v1/claims/{id}/approve"),
        json!({"version": version, "note": "同意"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": "2012-06-13"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Before its results notice: the grower reads that it is not posted yet.
    let r = lookup(&app, &id_number("19700101", 44), SHARED_PHONE);
    assert_eq!(
        r.body["claims"][0]["notice"], "尚未进行理赔结果公示",
        "{}",
        r.body
    );
    crate::helpers::notices::notice_for_claim(&app, id);
    let r = uw.post(
        &format!("/api/v1/claims/{id}/payments"),
        json!({"amount": "1000.00", "paid_on": "2012-06-13", "bank_reference": "BANK-S1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    let r = lookup(&app, &id_number("19700101", 44), SHARED_PHONE);
    assert_eq!(r.status, 200, "{}", r.text);
    let claim = &r.body["claims"][0];
    assert_eq!(claim["status_name"], "待支付", "{claim}");
    // 5 mu × 1000 元 × 35%.
    assert_eq!(claim["payout"], "1750.00", "{claim}");
    assert_eq!(claim["paid"], "1000.00", "{claim}");
    // Paid only after its results notice ran its course.
    assert_eq!(
        claim["notice"], "理赔结果公示已期满，异议均已处理",
        "{claim}"
    );
    assert_eq!(claim["policy_no"], ins.policy_no.as_str());
    let p = app.browser().submit(
        "/self",
        "/self",
        &[
            ("id_number", &id_number("19700101", 44)),
            ("phone", SHARED_PHONE),
        ],
    );
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("1750.00 元") && p.body.contains("1000.00 元") && p.body.contains("待支付")
    );
}
