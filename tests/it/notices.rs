//! Public notices (公示): the enrollment notice gates issuance, the claim
//! results notice gates payment; the notice keeps its figures, its evidence
//! and its objections, and refuses hostile input cleanly.

use crate::helpers::claims::*;
use crate::helpers::notices::{end_period, post_notice, PHONE, PLACE};
use crate::helpers::*;
use serde_json::{json, Value};

/// A grower of 一村 with one eligible plot of `mu`, the share collected on
/// 2012-03-10 unless `collect` is false: (policy id, plot id).
fn collected(app: &TestApp, name: &str, seq: u32, mu: &str, collect: bool) -> (i64, i64) {
    let station = app.api("station_a");
    let g = GrowerBuilder::new(name)
        .seq(seq)
        .phone("13912345678")
        .create(&station);
    let r = PlotBuilder::new(g).mu(mu).create(&station);
    assert_eq!(r.status, 201, "{}", r.body);
    let plot = r.body["id"].as_i64().unwrap();
    let pid = station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    if collect {
        let r = station.post(
            &format!("/api/v1/policies/{pid}/collect"),
            json!({"collected_on": "2012-03-10"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    (pid, plot)
}

fn enrollment(app: &TestApp, api: &Api, starts_on: &str) -> Resp {
    post_notice(
        api,
        json!({"kind": "enrollment", "village_code": app.seed.village_a1, "starts_on": starts_on}),
    )
}

fn audit_count(app: &TestApp, entity: &str, action: &str) -> i64 {
    use diesel::prelude::*;
    use guobao::db::schema::audit_log;
    audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[test]
fn issuance_waits_for_the_enrollment_notice_its_period_and_its_objections() {
    let app = spawn_app_at("2012-03-20 09:00");
    let (pid, _) = collected(&app, "公示户", 1, "3.37", true);
    let (other, _) = collected(&app, "公示户二", 2, "10", false);
    let uw = app.api("underwriter");
    let issue = || uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));

    // No notice yet.
    let r = issue();
    assert_eq!((r.status, r.code()), (409, "notice_missing"), "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("承保公示"));

    // The station posts the village's notice today; the scheme's 5 days apply.
    let station = app.api("station_a");
    let r = enrollment(&app, &station, "2012-03-20");
    assert_eq!(r.status, 201, "{}", r.body);
    let notice = r.body.clone();
    let id = notice["id"].as_i64().unwrap();
    assert_eq!(notice["ends_on"], "2012-03-25");
    assert_eq!(notice["title"], "一村2012年度核桃树保险承保公示");
    assert_eq!(notice["state"], "posted");
    // The notice's figures are the policies', draft and collected alike.
    let items = notice["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{notice}");
    let mut premium_sum = 0i64;
    for (policy, item) in [pid, other].iter().zip(items) {
        let p = station.get(&format!("/api/v1/policies/{policy}")).body;
        for (a, b) in [
            ("insured_mu", "insured_mu"),
            ("sum_insured", "sum_insured"),
            ("premium", "premium"),
            ("grower_share", "grower_share"),
        ] {
            assert_eq!(item[a], p[b], "{a}: {item} vs {p}");
        }
        assert_eq!(item["policy_id"], *policy);
        // Masked for everyone: this list is posted on a wall.
        assert!(item["id_number"].as_str().unwrap().contains("**********"));
        assert_eq!(item["phone"], "139****5678");
        premium_sum +=
            (p["premium"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64;
    }
    let total = (notice["totals"]["premium"]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        * 100.0)
        .round() as i64;
    assert_eq!(total, premium_sum);

    // During the period: refused, saying until when.
    let r = issue();
    assert_eq!(
        (r.status, r.code()),
        (409, "notice_in_period"),
        "{}",
        r.body
    );
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("本村承保公示期至2012-03-25结束"),
        "{}",
        r.body
    );
    // The same refusal on the policy page, before and after pressing 签发.
    let br = app.browser();
    br.login("underwriter");
    let page = format!("/policies/{pid}");
    let shown = br.get(&page).body;
    assert!(shown.contains("本村承保公示期至2012-03-25结束"), "{shown}");
    let p = br.submit(&page, &format!("/policies/{pid}/issue"), &[]);
    assert_eq!(p.status, 409);
    assert!(
        p.body.contains("本村承保公示期至2012-03-25结束"),
        "{}",
        p.body
    );

    // A grower objects on the 22nd.
    app.clock.set(china_time("2012-03-22 10:00"));
    let r = station.post(
        &format!("/api/v1/notices/{id}/objections"),
        json!({"raised_by": "公示户", "grower_id": items[0]["grower_id"],
               "content": "面积少登记了0.3亩", "raised_on": "2012-03-22"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let oid = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["open"], true);
    assert_eq!(audit_count(&app, "notice_objection", "objection"), 1);

    // The period is over but the objection is open.
    app.clock.set(china_time("2012-03-26 09:00"));
    let r = issue();
    assert_eq!(
        (r.status, r.code()),
        (409, "notice_objection_open"),
        "{}",
        r.body
    );
    assert!(r.body["message"].as_str().unwrap().contains("1条异议"));
    let listed = station.get("/api/v1/notices").body;
    assert_eq!(listed["items"][0]["open_objections"], 1, "{listed}");
    assert_eq!(listed["items"][0]["state"], "ended");

    // Resolved (once), then issued.
    let resolve = |text: &str| {
        station.post(
            &format!("/api/v1/notices/{id}/objections/{oid}/resolve"),
            json!({"resolution": text}),
        )
    };
    let r = resolve("现场复核，面积无误，农户认可");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["open"], false);
    assert_eq!(r.body["resolved_by"], "station_a");
    let r = resolve("再改一次");
    assert_eq!((r.status, r.code()), (409, "objection_resolved"));
    assert_eq!(audit_count(&app, "notice_objection", "resolve"), 1);
    // (Days later: the page session has ended, so log in again.)
    let br = app.browser();
    br.login("underwriter");
    let shown = br.get(&page).body;
    assert!(shown.contains("承保公示期已满，异议已处理完毕"), "{shown}");
    let r = issue();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "issued");
    assert_eq!(audit_count(&app, "notice", "create"), 1);
    // The audit row of the notice holds what it showed.
    let entry: String = {
        use diesel::prelude::*;
        use guobao::db::schema::audit_log;
        audit_log::table
            .filter(audit_log::entity.eq("notice"))
            .select(audit_log::after_json)
            .first::<Option<String>>(&mut app.conn())
            .unwrap()
            .unwrap()
    };
    let entry: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(entry["items"].as_array().unwrap().len(), 2);
}

#[test]
fn a_policy_changed_after_posting_needs_a_new_notice() {
    let app = spawn_app_at("2012-03-20 09:00");
    let (pid, plot) = collected(&app, "变更户", 3, "3", false);
    let station = app.api("station_a");
    let r = enrollment(&app, &station, "2012-03-20");
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.body["id"].as_i64().unwrap();
    // The plot is remeasured while the policy is a draft: its figures move.
    let mut body = station.get(&format!("/api/v1/plots/{plot}")).body;
    body["area_mu"] = json!("4.5");
    let r = station.put(&format!("/api/v1/plots/{plot}"), body);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "2012-03-20"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["insured_mu"], "4.50", "{}", r.body);
    app.clock.set(china_time("2012-03-26 09:00"));
    let uw = app.api("underwriter");
    let r = uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!((r.status, r.code()), (409, "notice_stale"), "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("须重新公示"));
    // A new notice with the current figures, then its period.
    let r = enrollment(&app, &station, "2012-03-26");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["items"][0]["insured_mu"], "4.50");
    let second = r.body["id"].as_i64().unwrap();
    assert_ne!(first, second);
    let r = uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.code(), "notice_in_period", "{}", r.body);
    app.clock.set(china_time("2012-04-01 09:00"));
    let r = uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn payment_waits_for_the_claim_results_notice() {
    let app = spawn_app_at("2012-06-12 08:00");
    let ins = insured(&app, "理赔公示户", 5, true);
    let uw = app.api("underwriter");
    let r = report(&uw, &ins, "hail", "2012-06-12 06:00");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    let payout = surveyed_and_agreed(&app, &uw, id, "survey-notice-01", "2012-06-12");
    let pay = |reference: &str, day: &str| {
        uw.post(
            &format!("/api/v1/claims/{id}/payments"),
            json!({"amount": payout, "paid_on": day, "bank_reference": reference}),
        )
    };
    let r = pay("NOTICE-1", "2012-06-12");
    assert_eq!(
        (r.status, r.code()),
        (409, "claim_notice_missing"),
        "{}",
        r.body
    );
    // The board lists it as waiting on its notice.
    let b = uw.get("/api/v1/claims/board").body;
    assert_eq!(b["waiting_notice"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["waiting_notice"][0]["id"], id);
    assert_eq!(
        b["waiting_notice"][0]["reason_code"],
        "claim_notice_missing"
    );

    // The village's results notice: the claim's payout, loss rate and area.
    let r = post_notice(
        &app.api("forestry"),
        json!({"kind": "claim", "village_code": app.seed.village_a1, "starts_on": "2012-06-12"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["ends_on"], "2012-06-15");
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["payout"], payout);
    assert_eq!(r.body["items"][0]["loss_rate"], "35");
    assert_eq!(r.body["items"][0]["affected_mu"], "5.00");
    assert_eq!(r.body["totals"]["payout"], payout);
    let r = pay("NOTICE-1", "2012-06-12");
    assert_eq!(
        (r.status, r.code()),
        (409, "claim_notice_in_period"),
        "{}",
        r.body
    );
    assert!(r.body["message"].as_str().unwrap().contains("2012-06-15"));
    let br = app.browser();
    br.login("underwriter");
    let page = br.get("/claims").body;
    assert!(page.contains(r#"id="waiting-notice-count">1<"#), "{page}");
    assert_eq!(count(&mut app.conn(), "claim_payments"), 0);
    // After the period: paid.
    app.clock.set(china_time("2012-06-16 09:00"));
    let r = pay("NOTICE-1", "2012-06-16");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "paid");
    let b = uw.get("/api/v1/claims/board").body;
    assert_eq!(b["waiting_notice"].as_array().unwrap().len(), 0, "{b}");
}

/// The board reads the notices of every approved claim it shows at once
/// (`notices::waiting`); for each claim it must give the refusal a payment
/// of that claim is given, one claim at a time: in its period, missing,
/// objection open, or none.
#[test]
fn the_boards_notice_reasons_are_what_a_payment_is_told() {
    let app = spawn_app_at("2012-06-12 08:00");
    let uw = app.api("underwriter");
    let agreed = |name: &str, seq: u32| -> (i64, Value) {
        let ins = insured(&app, name, seq, true);
        let r = report(&uw, &ins, "hail", "2012-06-12 06:00");
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_i64().unwrap();
        assert_eq!(dispatch(&uw, id).status, 200);
        let client_id = format!("survey-board-{seq}");
        (
            id,
            surveyed_and_agreed(&app, &uw, id, &client_id, "2012-06-12"),
        )
    };
    // Each claim's reason on the board, and what paying it is told.
    let check = |claims: &[(i64, Value)], expected: &[Option<&str>]| {
        let b = uw.get("/api/v1/claims/board").body;
        let waiting = b["waiting_notice"].as_array().unwrap();
        for ((id, payout), want) in claims.iter().zip(expected) {
            let on_board = waiting
                .iter()
                .find(|w| w["id"] == *id)
                .map(|w| w["reason_code"].as_str().unwrap().to_string());
            assert_eq!(on_board.as_deref(), *want, "claim {id}: {b}");
            if let Some(code) = want {
                let r = uw.post(
                    &format!("/api/v1/claims/{id}/payments"),
                    json!({"amount": payout, "paid_on": "2012-06-12",
                           "bank_reference": format!("BOARD-{id}")}),
                );
                assert_eq!((r.status, r.code()), (409, *code), "{}", r.body);
            }
        }
    };
    let first = agreed("公示甲", 31);
    let second = agreed("公示乙", 32);
    let r = post_notice(
        &app.api("forestry"),
        json!({"kind": "claim", "village_code": app.seed.village_a1, "starts_on": "2012-06-12"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{}", r.body);
    let notice = r.body["id"].as_i64().unwrap();
    let grower = r.body["items"][0]["grower_id"].clone();
    // Approved after the notice went up: not on it.
    let third = agreed("公示丙", 33);
    let all = [first, second, third];
    check(
        &all,
        &[
            Some("claim_notice_in_period"),
            Some("claim_notice_in_period"),
            Some("claim_notice_missing"),
        ],
    );
    // An objection raised in the period, still open after it.
    let station = app.api("station_a");
    let r = station.post(
        &format!("/api/v1/notices/{notice}/objections"),
        json!({"raised_by": "公示甲", "grower_id": grower,
               "content": "受灾面积少算了", "raised_on": "2012-06-12"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let objection = r.body["id"].as_i64().unwrap();
    app.clock.set(china_time("2012-06-16 09:00"));
    check(
        &all,
        &[
            Some("claim_notice_objection_open"),
            Some("claim_notice_objection_open"),
            Some("claim_notice_missing"),
        ],
    );
    let r = station.post(
        &format!("/api/v1/notices/{notice}/objections/{objection}/resolve"),
        json!({"resolution": "现场复核无误"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    check(&all, &[None, None, Some("claim_notice_missing")]);
    assert_eq!(count(&mut app.conn(), "claim_payments"), 0);
}

#[test]
fn the_spreadsheet_holds_the_masked_rows_and_a_totals_row_that_adds_up() {
    let app = spawn_app_at("2012-03-20 09:00");
    collected(&app, "表格户甲", 11, "3.37", true);
    collected(&app, "表格户乙", 12, "12.5", false);
    collected(&app, "表格户丙", 13, "0.73", true);
    let station = app.api("station_a");
    let r = enrollment(&app, &station, "2012-03-20");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let resp = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/notices/{id}/sheet.xlsx", app.address))
        .bearer_auth(&station.token)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().unwrap().to_vec();
    let t = crate::helpers::report::Table::read(&bytes, "承保公示", "序号");
    assert_eq!(t.rows.len(), 3);
    for idn in t.texts("身份证号") {
        assert!(idn.contains("**********") && idn.len() == 18, "{idn}");
    }
    assert!(t.texts("联系电话").iter().all(|p| p == "139****5678"));
    assert_eq!(t.texts("农户姓名"), ["表格户甲", "表格户乙", "表格户丙"]);
    for (col, scale) in [
        ("保费（元）", 100.0),
        ("农户自缴（元）", 100.0),
        ("保险金额（元）", 100.0),
        ("投保面积（亩）", 10_000.0),
    ] {
        let (sum, total) = t.sum_and_total(col, scale);
        assert_eq!(sum, total, "{col}");
        assert!(sum > 0);
    }
    let (premium, _) = t.sum_and_total("保费（元）", 100.0);
    // 16.6 mu × 80 = 1328.00 yuan.
    assert_eq!(premium, 132_800);
    // The page's download and its printable page work too.
    let br = app.browser();
    br.login("station_a");
    let (status, _, _) = br.get_bytes(&format!("/notices/{id}/sheet.xlsx"));
    assert_eq!(status, 200);
    let p = br.get(&format!("/notices/{id}/print"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("一村2012年度核桃树保险承保公示"));
    assert!(p.body.contains(PHONE) && p.body.contains("盖章"));
    assert!(!p.body.contains("<script") && !p.body.contains("style="));
}

#[test]
fn a_posting_photo_is_checked_by_its_bytes_and_its_size() {
    let app = spawn_app_at("2012-03-20 09:00");
    collected(&app, "照片户", 21, "3", true);
    let station = app.api("station_a");
    let id = enrollment(&app, &station, "2012-03-20").body["id"]
        .as_i64()
        .unwrap();
    let send = |api: &Api, bytes: Vec<u8>| {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/notices/{id}/photos", app.address))
            .bearer_auth(&api.token)
            .header("Content-Type", "image/jpeg")
            .body(bytes)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().unwrap_or(Value::Null);
        (status, body)
    };
    let photo = jpeg(3);
    let (status, body) = send(&station, photo.clone());
    assert_eq!(status, 201, "{body}");
    use sha2::Digest;
    assert_eq!(body["sha256"], hex::encode(sha2::Sha256::digest(&photo)));
    assert_eq!(body["content_type"], "image/jpeg");
    // Not a photo, whatever the header says.
    let (status, body) = send(&station, b"<html>not a photo</html>".to_vec());
    assert_eq!(
        (status, body["fields"][0]["code"].as_str()),
        (422, Some("photo_not_image"))
    );
    // Too large (the limit is 10 MB).
    let (status, body) = send(&station, vec![0xFF; 11 * 1024 * 1024]);
    assert!(status == 422 || status == 413, "{status} {body}");
    assert!(body.to_string().contains("photo_too_large"), "{body}");
    // Another township's station, the adjuster: not theirs.
    assert_eq!(send(&app.api("station_b"), photo.clone()).0, 404);
    assert_eq!(send(&app.api("adjuster"), photo.clone()).0, 403);
    assert_eq!(count(&mut app.conn(), "notice_photos"), 1);
    assert_eq!(audit_count(&app, "notice", "photo"), 1);
    let n = station.get(&format!("/api/v1/notices/{id}")).body;
    assert_eq!(n["photos"].as_array().unwrap().len(), 1);
    // The page shows it.
    let br = app.browser();
    br.login("station_a");
    let pid = n["photos"][0]["id"].as_i64().unwrap();
    let (status, ct, bytes) = br.get_bytes(&format!("/notices/{id}/photos/{pid}"));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(bytes, photo);
}

#[test]
fn hostile_input_is_refused_cleanly_and_writes_nothing() {
    let app = spawn_app_at("2012-03-20 09:00");
    collected(&app, "防护户", 31, "3", true);
    let station = app.api("station_a");
    let base = json!({"kind": "enrollment", "village_code": app.seed.village_a1,
                      "starts_on": "2012-03-20", "place": PLACE, "contact_phone": PHONE});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, field, code) in [
        (
            with("place", json!("公".repeat(101))),
            "place",
            "text_too_long",
        ),
        (
            with("place", json!("公示栏\u{7}")),
            "place",
            "text_control_char",
        ),
        (with("place", json!("")), "place", "value_required"),
        (
            with("contact_phone", json!("call me")),
            "contact_phone",
            "phone_invalid",
        ),
        (
            with("starts_on", json!("2012-02-30")),
            "starts_on",
            "date_invalid",
        ),
        (
            with("starts_on", json!("2012-03-01")),
            "starts_on",
            "notice_start_invalid",
        ),
        (
            with("ends_on", json!("2012-03-19")),
            "ends_on",
            "notice_period_invalid",
        ),
        (
            with("ends_on", json!("2012-03-22")),
            "ends_on",
            "notice_period_invalid",
        ),
        (
            with("kind", json!("party")),
            "kind",
            "notice_target_required",
        ),
        (
            with("village_code", json!("")),
            "village_code",
            "notice_target_required",
        ),
    ] {
        let r = station.post("/api/v1/notices", body.clone());
        assert_eq!(r.status, 422, "{body} → {}", r.body);
        let fields: Vec<&str> = r.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body} → {}", r.body);
        assert!(
            r.body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code),
            "{body} → {}",
            r.body
        );
        assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Another township's village is not found; so is a made-up one.
    let r = station.post(
        "/api/v1/notices",
        with("village_code", json!(app.seed.village_b1)),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let r = station.post("/api/v1/notices", with("village_code", json!("999")));
    assert_eq!(r.status, 404);
    // Roles without notices.
    for who in ["adjuster", "finance"] {
        let r = app.api(who).post("/api/v1/notices", base.clone());
        assert_eq!(r.status, 403, "{who}");
        assert_eq!(app.api(who).get("/api/v1/notices").status, 403);
    }
    // A village with nothing to post.
    let r = station.post(
        "/api/v1/notices",
        with("village_code", json!(app.seed.village_a2)),
    );
    assert_eq!((r.status, r.code()), (409, "notice_empty"));
    assert_eq!(count(&mut app.conn(), "notices"), 0);
    assert_eq!(count(&mut app.conn(), "notice_items"), 0);

    // A good one, then hostile objections.
    let r = station.post("/api/v1/notices", base.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let grower = r.body["items"][0]["grower_id"].as_i64().unwrap();
    let ok = json!({"raised_by": "村民", "content": "有异议", "raised_on": "2012-03-20"});
    let obj = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    for (body, code) in [
        (obj("content", json!("长".repeat(2001))), "text_too_long"),
        (obj("raised_by", json!("\u{202E}村民")), "text_bidi_char"),
        (obj("raised_by", json!("")), "value_required"),
        (obj("raised_on", json!("2012-03-19")), "date_invalid"),
        (obj("raised_on", json!("2012-03-21")), "date_invalid"),
        (obj("raised_on", json!("昨天")), "date_invalid"),
        (
            obj("grower_id", json!(grower + 1000)),
            "objection_target_unknown",
        ),
        (
            obj("plot_code", json!("NO-SUCH-PLOT")),
            "objection_target_unknown",
        ),
    ] {
        let r = station.post(&format!("/api/v1/notices/{id}/objections"), body.clone());
        assert_eq!(r.status, 422, "{body} → {}", r.body);
        assert!(
            r.body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code),
            "{body} → {}",
            r.body
        );
    }
    // Other township, wrong role, unknown ids.
    let url = format!("/api/v1/notices/{id}/objections");
    assert_eq!(app.api("station_b").post(&url, ok.clone()).status, 404);
    assert_eq!(
        app.api("station_b")
            .get(&format!("/api/v1/notices/{id}"))
            .status,
        404
    );
    assert_eq!(app.api("finance").post(&url, ok.clone()).status, 403);
    assert_eq!(
        station
            .post("/api/v1/notices/99999/objections", ok.clone())
            .status,
        404
    );
    assert_eq!(station.get("/api/v1/notices/abc").status, 404);
    let r = station.post(
        &format!("/api/v1/notices/{id}/objections/99999/resolve"),
        json!({"resolution": "已处理"}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(count(&mut app.conn(), "notice_objections"), 0);
    // A resolution must say something.
    let r = station.post(&url, ok.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    let oid = r.body["id"].as_i64().unwrap();
    let r = station.post(
        &format!("/api/v1/notices/{id}/objections/{oid}/resolve"),
        json!({"resolution": "  "}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "resolution_required");
    let r = app.api("station_b").post(
        &format!("/api/v1/notices/{id}/objections/{oid}/resolve"),
        json!({"resolution": "越权处理"}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        station.get(&format!("/api/v1/notices/{id}")).body["open_objections"],
        1
    );
    // The county sees every township's notices; the other station none.
    assert_eq!(
        app.api("forestry").get("/api/v1/notices").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.api("station_b").get("/api/v1/notices").body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(audit_count(&app, "notice", "create"), 1);
}

#[test]
fn the_pages_make_a_notice_and_record_an_objection() {
    let app = spawn_app_at("2012-03-20 09:00");
    collected(&app, "页面公示户", 41, "3", true);
    let br = app.browser();
    br.login("station_a");
    let list = br.get("/notices");
    assert_eq!(list.status, 200);
    assert!(list.body.contains("生成公示"));
    // A mistake shows the form again with the reason.
    let p = br.submit(
        "/notices",
        "/notices",
        &[
            ("kind", "enrollment"),
            ("village_code", &app.seed.village_a1),
            ("starts_on", "2012-03-20"),
            ("place", ""),
            ("contact_phone", PHONE),
        ],
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("请填写张贴地点"), "{}", p.body);
    let p = br.submit(
        "/notices",
        "/notices",
        &[
            ("kind", "enrollment"),
            ("village_code", &app.seed.village_a1),
            ("starts_on", "2012-03-20"),
            ("ends_on", ""),
            ("place", PLACE),
            ("contact_phone", PHONE),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let id = {
        use diesel::prelude::*;
        use guobao::db::schema::notices;
        notices::table
            .select(notices::id)
            .first::<i64>(&mut app.conn())
            .unwrap()
    };
    let page = format!("/notices/{id}");
    let show = br.get(&page);
    assert!(show.body.contains("页面公示户") && show.body.contains("公示中"));
    let p = br.submit(
        &page,
        &format!("/notices/{id}/objections"),
        &[
            ("raised_by", "邻居"),
            ("raised_on", "2012-03-20"),
            ("content", "地界有争议"),
            ("grower_id", ""),
            ("plot_code", ""),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(br.get(&page).body.contains("地界有争议"));
    // The menu shows 公示 to the station, not to the adjuster.
    let menu = br.get("/policies").body;
    assert!(menu.contains(">公示</a>"), "{menu}");
    let adj = app.browser();
    adj.login("adjuster");
    assert!(!adj.get("/claims").body.contains(">公示</a>"));
    assert_eq!(adj.get("/notices").status, 403);
    end_period(&app, id);
}

#[test]
fn a_scheme_sets_the_notice_periods() {
    let mut def: guobao::domain::scheme::SchemeDef =
        serde_json::from_str(guobao::domain::scheme::WALNUT_2012_JSON).unwrap();
    assert_eq!(def.notices.enrollment_days, 5);
    assert_eq!(def.notices.claim_days, 3);
    // Stored as before while it holds the defaults.
    assert!(!serde_json::to_string(&def).unwrap().contains("notices"));
    def.notices.enrollment_days = 7;
    let back: guobao::domain::scheme::SchemeDef =
        serde_json::from_str(&serde_json::to_string(&def).unwrap()).unwrap();
    assert_eq!(back.notices.enrollment_days, 7);
    assert_eq!(back.notices.claim_days, 3);
    def.notices.claim_days = 0;
    let problems = def.validate().unwrap_err();
    assert!(problems
        .iter()
        .any(|p| p.code == guobao::error::ErrorCode::SchemeNoticeDaysInvalid));
}

/// Surveyed (35% on 5 mu), approved and agreed: the payout.
fn approved(app: &TestApp, id: i64, client: &str) -> Value {
    let uw = app.api("underwriter");
    assert_eq!(dispatch(&uw, id).status, 200);
    crate::helpers::claims::surveyed_and_agreed(app, &uw, id, client, "2012-06-12")
}

#[test]
fn an_event_notice_covers_the_events_approved_claims_and_a_new_payout_needs_a_new_one() {
    let app = spawn_app_at("2012-06-12 20:00");
    let a = insured(&app, "事件甲", 51, true);
    let b = insured(&app, "事件乙", 52, true);
    let uw = app.api("underwriter");
    let r = uw.post(
        "/api/v1/claim-events",
        json!({"name": "6月12日冰雹", "peril": "hail", "occurred_at": "2012-06-12 15:00",
               "items": [
            {"policy_no": a.policy_no, "plot_code": a.plot_code, "reporter_name": "事件甲"},
            {"policy_no": b.policy_no, "plot_code": b.plot_code, "reporter_name": "事件乙"},
        ]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let event = r.body["event_id"].as_i64().unwrap();
    let first = r.body["claims"][0]["id"].as_i64().unwrap();
    let first_payout = approved(&app, first, "survey-event-01");
    let second = r.body["claims"][1]["id"].as_i64().unwrap();
    // Only the approved claim is on the event's notice; it belongs to 甲镇.
    let r = post_notice(
        &app.api("forestry"),
        json!({"kind": "claim", "event_id": event, "starts_on": "2012-06-12"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let notice = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["event_id"], event);
    assert_eq!(r.body["township_name"], "甲镇");
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.body);
    assert_eq!(items[0]["claim_id"], first);
    assert!(r.body["title"].as_str().unwrap().contains("6月12日冰雹"));
    assert_eq!(
        app.api("station_a")
            .get(&format!("/api/v1/notices/{notice}"))
            .status,
        200
    );
    assert_eq!(
        app.api("station_b")
            .get(&format!("/api/v1/notices/{notice}"))
            .status,
        404
    );
    // An event of another scheme or none at all: not found.
    let r = post_notice(
        &app.api("forestry"),
        json!({"kind": "claim", "event_id": event + 100, "starts_on": "2012-06-12"}),
    );
    assert_eq!(r.status, 404);
    end_period(&app, notice);
    let pay = |id: i64, amount: &Value, reference: &str| {
        uw.post(
            &format!("/api/v1/claims/{id}/payments"),
            json!({"amount": amount, "paid_on": "2012-06-12", "bank_reference": reference}),
        )
    };
    let r = pay(first, &first_payout, "EVENT-1");
    assert_eq!(r.status, 201, "{}", r.body);
    // The second claim, approved later, was not on that notice.
    let amount = approved(&app, second, "survey-event-02");
    let r = pay(second, &amount, "EVENT-2");
    assert_eq!(
        (r.status, r.code()),
        (409, "claim_notice_missing"),
        "{}",
        r.body
    );
    // A stale notice: the payout it showed is not the payout now.
    {
        use diesel::prelude::*;
        use guobao::db::schema::notice_items;
        let r = post_notice(
            &app.api("forestry"),
            json!({"kind": "claim", "event_id": event, "starts_on": "2012-06-12"}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let again = r.body["id"].as_i64().unwrap();
        end_period(&app, again);
        diesel::update(
            notice_items::table
                .filter(notice_items::notice_id.eq(again))
                .filter(notice_items::claim_id.eq(second)),
        )
        .set(notice_items::payout_fen.eq(1))
        .execute(&mut app.conn())
        .unwrap();
    }
    let r = pay(second, &amount, "EVENT-2");
    assert_eq!(
        (r.status, r.code()),
        (409, "claim_notice_stale"),
        "{}",
        r.body
    );
    assert!(r.body["message"].as_str().unwrap().contains("须重新公示"));
    assert_eq!(count(&mut app.conn(), "claim_payments"), 1);
}
