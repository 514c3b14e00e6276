//! Claims: report → dispatch → survey → approval → agreement → payment, every
//! decline reason, the deadline board, the offline-safe survey submission and
//! the role limits. The server's clock is set by each test; nothing sleeps.

use crate::helpers::claims::*;
use crate::helpers::*;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

#[test]
fn a_claim_from_report_to_payment() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "张冰雹", 1, true);
    let uw = app.api("underwriter");

    let r = report(&uw, &ins, "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.body.clone();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["status"], "reported");
    assert_eq!(c["peril_name"], "雹灾");
    assert_eq!(c["policy_id"], ins.policy_id);
    assert_eq!(c["reported_at"], "2012-06-12T08:00:00Z");
    // Report time + 24 clock hours.
    assert_eq!(c["survey_due_at"], "2012-06-13T08:00:00Z");
    assert!(c["claim_no"].as_str().unwrap().starts_with("BA2012"));

    // Both surveyors are required.
    let r = uw.post(
        &format!("/api/v1/claims/{id}/dispatch"),
        json!({"adjuster": "adjuster"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "co_surveyor_invalid");
    let r = uw.post(
        &format!("/api/v1/claims/{id}/dispatch"),
        json!({"adjuster": "forestry", "co_surveyor": "forestry"}),
    );
    assert_eq!(r.body["fields"][0]["code"], "adjuster_invalid");
    let r = dispatch(&uw, id);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "dispatched");

    // Surveyed on site the next morning, inside the polygon.
    app.clock.advance(chrono::Duration::hours(15));
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    let photo = upload(&adj, id, "photo-0001-a", jpeg(7));
    assert_eq!(photo.status, 201, "{}", photo.body);
    assert!(photo.body["reused_claim_no"].is_null());
    let r = adj.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-0001-abc", lat, lon, "5", "35"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["created"], true);
    assert_eq!(r.body["location_check"], "inside");
    // 1000 per mu × 5 mu × 35% (threshold 10%, no deductible, total loss at 80%).
    assert_eq!(r.body["payout"]["amount"], "1750.00");
    assert_eq!(r.body["payout"]["rule"], "proportional");
    assert_eq!(r.body["claim"]["status"], "surveyed");
    assert_eq!(r.body["claim"]["surveyed_on_time"], true);

    // The tablet retries after a dropped connection: same id, nothing new.
    let again = adj.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-0001-abc", lat, lon, "5", "35"),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["survey_id"], r.body["survey_id"]);
    let photo_again = upload(&adj, id, "photo-0001-a", jpeg(7));
    assert_eq!(photo_again.status, 200);
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 1);
    assert_eq!(count(&mut app.conn(), "claim_photos"), 1);

    // Only the insurer's desk approves.
    let version = r.body["claim"]["version"].as_i64().unwrap();
    assert_eq!(
        adj.post(&format!("/api/v1/claims/{id}/approve"), json!({}))
            .status,
        403
    );
    let r = uw.post(
        &format!("/api/v1/claims/{id}/approve"),
        json!({"version": version, "note": "同意"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(r.body["payout"], "1750.00");

    // The grower agrees two days later; payment is due ten days after.
    app.clock.advance(chrono::Duration::days(2));
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": "2099-01-01"}),
    );
    assert_eq!(r.body["fields"][0]["code"], "agreed_on_invalid");
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": "2012-06-15"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["payment_due_on"], "2012-06-25");
    notices::notice_for_claim(&app, id);

    // Payments: partial, never above what is owed, one bank reference once.
    let pay = |amount: &str, reference: &str| {
        uw.post(
            &format!("/api/v1/claims/{id}/payments"),
            json!({"amount": amount, "paid_on": "2012-06-15", "bank_reference": reference}),
        )
    };
    assert_eq!(
        adj.post(
            &format!("/api/v1/claims/{id}/payments"),
            json!({"amount": "1", "paid_on": "2012-06-15", "bank_reference": "X"})
        )
        .status,
        403
    );
    let r = pay("1000.00", "BANK-001");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "agreed");
    assert_eq!(r.body["paid"], "1000.00");
    let r = pay("750.01", "BANK-002");
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "amount_above_owed");
    let r = pay("750.00", "BANK-001");
    assert_eq!(r.body["fields"][0]["code"], "bank_reference_duplicate");
    let r = pay("-5", "BANK-003");
    assert_eq!(r.status, 422);
    let r = pay("750.00", "BANK-002");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "paid");
    assert_eq!(r.body["paid"], "1750.00");
    assert_eq!(count(&mut app.conn(), "claim_payments"), 2);

    // Every step is in the audit log.
    let audit = app.api("admin").get("/api/v1/audit?entity=claim");
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .or(audit.body.as_array())
        .unwrap()
        .iter()
        .filter(|e| e["entity_id"] == id)
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for step in [
        "report", "dispatch", "photo", "survey", "approve", "agree", "pay",
    ] {
        assert!(actions.contains(&step), "{step} missing from {actions:?}");
    }

    // Claims, surveys and payments cannot be deleted or rewritten.
    let mut conn = app.conn();
    assert!(diesel::sql_query("DELETE FROM claims")
        .execute(&mut conn)
        .is_err());
    assert!(
        diesel::sql_query("UPDATE claim_payments SET amount_fen = 1")
            .execute(&mut conn)
            .is_err()
    );
    assert!(diesel::sql_query("DELETE FROM claim_surveys")
        .execute(&mut conn)
        .is_err());
    assert_eq!(count(&mut app.conn(), "claims"), 1);
}

#[test]
fn reports_outside_cover_are_declined_with_the_reason_kept() {
    let app = spawn_app_at("2012-11-06 09:00");
    let ins = insured(&app, "李干旱", 2, true);
    let unissued = insured(&app, "王未签", 3, false);
    let uw = app.api("underwriter");
    let cases = [
        (
            &ins,
            "drought",
            "2012-07-01 10:00",
            "peril_excluded",
            "干旱",
        ),
        (
            &ins,
            "病虫害",
            "2012-07-01 10:00",
            "peril_excluded",
            "病虫害",
        ),
        (
            &ins,
            "flood_storage",
            "2012-07-01 10:00",
            "flood_storage_excluded",
            "政府行蓄洪",
        ),
        (
            &ins,
            "earthquake",
            "2012-07-01 10:00",
            "peril_not_covered",
            "earthquake",
        ),
        (
            &ins,
            "hail",
            "2012-11-01 10:00",
            "outside_cover_period",
            "2012-04-01至2012-10-31",
        ),
        (
            &ins,
            "hail",
            "2012-03-31 23:00",
            "outside_cover_period",
            "2012-03-31",
        ),
        (
            &unissued,
            "hail",
            "2012-07-01 10:00",
            "policy_not_in_force",
            "已收自缴",
        ),
    ];
    for (who, peril, at, code, says) in cases {
        // An excluded cause is recorded, declined, only once confirmed.
        let r = uw.post(
            "/api/v1/claims",
            json!({"policy_no": who.policy_no, "plot_id": who.plot_id, "peril": peril,
                   "occurred_at": at, "reporter_name": "报案人", "confirm_exclusion": true}),
        );
        assert_eq!(r.status, 201, "{peril} {at}: {}", r.body);
        assert_eq!(r.body["status"], "declined", "{peril} {at}");
        assert_eq!(r.body["decline_code"], code, "{peril} {at}");
        let reason = r.body["decline_reason"].as_str().unwrap();
        assert!(reason.contains(says), "{reason} should mention {says}");
    }
    // Inside cover, on the last day: accepted.
    let r = report(&uw, &ins, "风灾", "2012-10-31 23:00");
    assert_eq!(r.body["status"], "reported", "{}", r.body);
    assert_eq!(r.body["peril"], "wind");
    assert_eq!(count(&mut app.conn(), "claims"), 8);
    // Declined reports stay on the list.
    let list = uw.get("/api/v1/claims?status=declined");
    assert_eq!(list.body["items"].as_array().unwrap().len(), 7);

    // Bad input is not a decline: nothing is written.
    let bad = [
        (
            json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": "hail",
                   "occurred_at": "2012-11-07 10:00", "reporter_name": "甲"}),
            "occurred_in_future",
        ),
        (
            json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": "hail",
                   "occurred_at": "2012-07-01 10:00", "reporter_name": " "}),
            "reporter_missing",
        ),
        (
            json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": "hail",
                   "occurred_at": "七月一日", "reporter_name": "甲"}),
            "time_invalid",
        ),
        (
            json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": "hail",
                   "occurred_at": "2012-07-02 10:00", "reported_at": "2012-07-01 10:00", "reporter_name": "甲"}),
            "occurred_after_report",
        ),
        (
            json!({"policy_no": ins.policy_no, "plot_id": unissued.plot_id, "peril": "hail",
                   "occurred_at": "2012-07-01 10:00", "reporter_name": "甲"}),
            "plot_not_on_policy",
        ),
        (
            json!({"policy_no": "NOPE", "peril": "hail",
                   "occurred_at": "2012-07-01 10:00", "reporter_name": "甲"}),
            "policy_not_found",
        ),
    ];
    for (body, code) in bad {
        let r = uw.post("/api/v1/claims", body);
        assert_eq!(r.status, 422, "{code}: {}", r.body);
        let codes: Vec<&str> = r.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
    assert_eq!(count(&mut app.conn(), "claims"), 8);
    // Only the insurer's desk takes reports.
    assert_eq!(
        report(&app.api("station_a"), &ins, "hail", "2012-07-01").status,
        403
    );
}

#[test]
fn the_board_counts_down_to_the_deadline() {
    let app = spawn_app_at("2012-06-12 08:00");
    let a = insured(&app, "甲户", 4, true);
    let b = insured(&app, "乙户", 5, true);
    let uw = app.api("underwriter");
    let c1 = report(&uw, &a, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    app.clock.advance(chrono::Duration::hours(5));
    let c2 = report(&uw, &b, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(dispatch(&uw, c1).status, 200);

    // 19 h after the first report: 5 h left (nearly due), 10 h left on the second.
    app.clock.set(china_time("2012-06-13 03:00"));
    let board = uw.get("/api/v1/claims/board").body;
    let open = board["open"].as_array().unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["id"], c1);
    assert_eq!(open[0]["minutes_left"], 300);
    assert_eq!(open[0]["urgency"], "due_soon");
    assert_eq!(open[0]["time_left"], "剩余5小时00分");
    assert_eq!(open[1]["urgency"], "ok");
    assert_eq!(board["due_soon"], 1);
    assert_eq!(board["overdue"], 0);
    // The warning window is configurable.
    let wide = uw.get("/api/v1/claims/board?warn_hours=12").body;
    assert_eq!(wide["due_soon"], 2);

    // 25 h after the first: overdue by an hour; the second now nearly due.
    app.clock.set(china_time("2012-06-13 09:00"));
    let board = uw.get("/api/v1/claims/board").body;
    assert_eq!(board["overdue"], 1);
    assert_eq!(board["due_soon"], 1);
    assert_eq!(board["open"][0]["time_left"], "超时1小时00分");
    let by_adjuster = board["by_adjuster"].as_array().unwrap();
    assert!(by_adjuster
        .iter()
        .any(|c| c["name"] == "adjuster" && c["overdue"] == 1));
    assert!(by_adjuster
        .iter()
        .any(|c| c["name"] == "（未派工）" && c["due_soon"] == 1));
    assert_eq!(board["by_township"][0]["name"], "甲镇");
    assert_eq!(board["by_township"][0]["open"], 2);

    // The second is surveyed in time; the first stays overdue.
    assert_eq!(dispatch(&uw, c2).status, 200);
    let (lat, lon) = point_east(20.0);
    let r = app.api("adjuster").post(
        &format!("/api/v1/claims/{c2}/survey"),
        survey_body("survey-board-2", lat, lon, "2", "50"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let board = uw.get("/api/v1/claims/board").body;
    assert_eq!(board["open"].as_array().unwrap().len(), 1);
    assert_eq!(board["monthly"][0]["month"], "2012-06");
    assert_eq!(board["monthly"][0]["due"], 2);
    assert_eq!(board["monthly"][0]["on_time"], 1);
    assert_eq!(board["monthly"][0]["share"], "50.0");

    // The same list from the command line, as of a given time.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "claims",
            "overdue",
            "--at",
            "2012-06-13 09:00",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["urgency"], "overdue");
    assert_eq!(items[0]["minutes_left"], -60);
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "claims",
            "overdue",
            "--at",
            "2012-06-12 12:00",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("没有超时或临近时限"), "{text}");
}

/// README, claims step 2 and the command line: `guobao claims overdue
/// --warn-hours N` lists a claim with N-1 hours left as nearly due, and not
/// one with N+1 hours left.
#[test]
fn claims_overdue_takes_the_warning_window_from_the_command_line() {
    let app = spawn_app_at("2012-06-12 08:00");
    let uw = app.api("underwriter");
    let reported = |name: &str, seq: u32| {
        let r = report(
            &uw,
            &insured(&app, name, seq, true),
            "hail",
            "2012-06-12 07:00",
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r
    };
    let soon = reported("早报户", 8);
    app.clock.advance(chrono::Duration::hours(2));
    let later = reported("晚报户", 9);
    let overdue = |extra: &[&str]| -> Vec<(String, String, i64)> {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
            .args(["--database-url", &app.db.url, "claims", "overdue"])
            // Due 2012-06-13 08:00 and 10:00: 9 and 11 hours left.
            .args(["--at", "2012-06-12 23:00", "--json"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["claim_no"].as_str().unwrap().to_string(),
                    i["urgency"].as_str().unwrap().to_string(),
                    i["minutes_left"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let no = |c: &Resp| c.body["claim_no"].as_str().unwrap().to_string();
    // The scheme's 6 hours: neither is near its deadline yet.
    assert!(overdue(&[]).is_empty());
    assert_eq!(
        overdue(&["--warn-hours", "10"]),
        [(no(&soon), "due_soon".to_string(), 540)]
    );
    assert_eq!(
        overdue(&["--warn-hours", "12"]),
        [
            (no(&soon), "due_soon".to_string(), 540),
            (no(&later), "due_soon".to_string(), 660)
        ]
    );
}

#[test]
fn a_bad_survey_writes_nothing() {
    let app = spawn_app_at("2012-06-12 08:00");
    let ins = insured(&app, "赵查勘", 6, true);
    let uw = app.api("underwriter");
    let id = report(&uw, &ins, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    let adj = app.api("adjuster");
    // Not yet dispatched: the adjuster doesn't see it at all.
    let (lat, lon) = point_east(50.0);
    let r = adj.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-early-01", lat, lon, "5", "35"),
    );
    assert_eq!(r.status, 404);
    let version = dispatch(&uw, id).body["version"].as_i64().unwrap();
    let url = format!("/api/v1/claims/{id}/survey");

    let mut no_gps = survey_body("survey-bad-0001", lat, lon, "5", "35");
    no_gps["latitude"] = Value::Null;
    let far = point_east(1100.0);
    let mut unconfirmed = survey_body("survey-bad-0001", lat, lon, "5", "35");
    unconfirmed["co_surveyor_confirmed"] = json!(false);
    let mut unsigned = survey_body("survey-bad-0001", lat, lon, "5", "35");
    unsigned["grower_signature"] = json!("");
    let mut too_many_trees = survey_body("survey-bad-0001", lat, lon, "5", "35");
    too_many_trees["damaged_trees"] = json!(301);
    // Reported at 07:00 and now 08:00, China time.
    let mut before_report = survey_body("survey-bad-0001", lat, lon, "5", "35");
    before_report["surveyed_at"] = json!("2012-06-11T22:30:00Z");
    let mut ahead = survey_body("survey-bad-0001", lat, lon, "5", "35");
    ahead["surveyed_at"] = json!("2012-06-12T00:10:00Z");
    let cases = [
        (no_gps, "gps_missing"),
        (
            survey_body("survey-bad-0001", far.0, far.1, "5", "35"),
            "position_far",
        ),
        (
            survey_body("survey-bad-0001", lat, lon, "5", "120"),
            "loss_rate_invalid",
        ),
        (
            survey_body("survey-bad-0001", lat, lon, "5", "-1"),
            "loss_rate_invalid",
        ),
        (
            survey_body("survey-bad-0001", lat, lon, "15.0001", "35"),
            "affected_area_too_large",
        ),
        (unconfirmed, "confirmation_missing"),
        (unsigned, "signature_missing"),
        (too_many_trees, "damaged_trees_too_many"),
        (before_report, "surveyed_before_report"),
        (ahead, "surveyed_in_future"),
    ];
    for (body, code) in cases {
        let r = adj.post(&url, body);
        assert_eq!(r.status, 422, "{code}: {}", r.body);
        let codes: Vec<&str> = r.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{code} not in {codes:?}");
        if code == "position_far" {
            assert!(r.body["message"]
                .as_str()
                .unwrap()
                .contains("超出允许的100米"));
        }
    }
    // 80 m outside the edge is within the default 100 m.
    let near = point_east(180.0);
    // Someone else changed the claim since this tablet loaded it.
    let mut stale = survey_body("survey-stale-01", near.0, near.1, "5", "35");
    stale["version"] = json!(version - 1);
    let r = adj.post(&url, stale);
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "version_conflict");
    // Township stations only read; the forestry bureau surveys only when assigned.
    assert_eq!(
        app.api("station_a")
            .post(&url, survey_body("survey-st-0001", lat, lon, "5", "35"))
            .status,
        403
    );
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 0);
    assert_eq!(
        uw.get(&format!("/api/v1/claims/{id}")).body["claim"]["status"],
        "dispatched"
    );

    // Photos: only images, not too large.
    let r = upload(&adj, id, "photo-bad-001", b"%PDF-1.7 not a photo".to_vec());
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "photo_not_image");
    let mut huge = jpeg(1);
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let r = upload(&adj, id, "photo-big-001", huge);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "photo_too_large");
    assert_eq!(count(&mut app.conn(), "claim_photos"), 0);

    // The good one, from 80 m outside: accepted as "near".
    let mut good = survey_body("survey-near-01", near.0, near.1, "5", "35");
    good["version"] = json!(version);
    let r = adj.post(&url, good);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["location_check"], "near");
    let d = r.body["distance_m"].as_i64().unwrap();
    assert!((75..=85).contains(&d), "{d}");
}

#[test]
fn the_same_photo_on_another_claim_is_flagged() {
    let app = spawn_app_at("2012-06-12 08:00");
    let a = insured(&app, "照片甲", 7, true);
    let b = insured(&app, "照片乙", 8, true);
    let uw = app.api("underwriter");
    let ca = report(&uw, &a, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    let cb = report(&uw, &b, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, ca);
    dispatch(&uw, cb);
    let adj = app.api("adjuster");
    let first = upload(&adj, ca, "photo-dup-0001", jpeg(42));
    assert_eq!(first.status, 201);
    let second = upload(&adj, cb, "photo-dup-0002", jpeg(42));
    assert_eq!(second.status, 201);
    assert_eq!(second.body["sha256"], first.body["sha256"]);
    let claim_no_a = uw.get(&format!("/api/v1/claims/{ca}")).body["claim"]["claim_no"].clone();
    assert_eq!(second.body["reused_claim_no"], claim_no_a);
    let detail = uw.get(&format!("/api/v1/claims/{cb}")).body;
    assert_eq!(detail["photos"][0]["reused_claim_no"], claim_no_a);
    // A different photo is not flagged; a client id can't be reused for other bytes.
    assert!(upload(&adj, cb, "photo-dup-0003", jpeg(43)).body["reused_claim_no"].is_null());
    assert_eq!(
        upload(&adj, cb, "photo-dup-0003", jpeg(44)).code(),
        "client_id_reused"
    );
    // The picture itself comes back byte for byte.
    let pid = detail["photos"][0]["id"].as_i64().unwrap();
    let bytes = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/claims/{cb}/photos/{pid}", adj.base))
        .bearer_auth(&adj.token)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(bytes.to_vec(), jpeg(42));
}

#[test]
fn payouts_follow_the_claim_rules_and_never_exceed_the_sum_insured() {
    let app = spawn_app_at("2012-06-12 08:00");
    let ins = insured(&app, "钱全损", 9, true);
    let uw = app.api("underwriter");
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    let survey = |occurred: &str, client: &str, affected: &str, loss: &str| -> (i64, Value) {
        let id = report(&uw, &ins, "hail", occurred).body["id"]
            .as_i64()
            .unwrap();
        dispatch(&uw, id);
        let r = adj.post(
            &format!("/api/v1/claims/{id}/survey"),
            survey_body(client, lat, lon, affected, loss),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        (id, r.body)
    };
    // Under the 10% threshold: nothing; approval closes it.
    let (small, s) = survey("2012-05-01 10:00", "survey-rule-01", "15", "9.99");
    assert_eq!(s["payout"]["amount"], "0.00");
    assert_eq!(s["payout"]["rule"], "below_threshold");
    let r = uw.post(
        &format!("/api/v1/claims/{small}/approve"),
        json!({"confirm_decline": true}),
    );
    assert_eq!(r.body["status"], "declined");
    assert_eq!(r.body["decline_code"], "below_threshold");
    // 85% ≥ the 80% total-loss rate: the full sum for the 12 affected mu.
    let (big, s) = survey("2012-05-20 10:00", "survey-rule-02", "12", "85");
    assert_eq!(s["payout"]["amount"], "12000.00");
    assert_eq!(s["payout"]["rule"], "total_loss");
    // 15 mu × 1000 = 15,000 insured; 3,000 left for the next claim.
    let (third, s) = survey("2012-06-11 10:00", "survey-rule-03", "15", "50");
    assert_eq!(s["payout"]["computed"], "7500.00");
    assert_eq!(s["payout"]["capped"], true);
    assert_eq!(s["payout"]["amount"], "3000.00");
    assert_eq!(
        uw.post(&format!("/api/v1/claims/{big}/approve"), json!({}))
            .body["payout"],
        "12000.00"
    );
    assert_eq!(
        uw.post(&format!("/api/v1/claims/{third}/approve"), json!({}))
            .body["payout"],
        "3000.00"
    );
    // Nothing left: a fourth claim is surveyed at 0 and closed as exhausted.
    let (fourth, s) = survey("2012-06-12 06:00", "survey-rule-04", "1", "50");
    assert_eq!(s["payout"]["amount"], "0.00");
    let r = uw.post(
        &format!("/api/v1/claims/{fourth}/approve"),
        json!({"confirm_decline": true}),
    );
    assert_eq!(r.body["decline_code"], "sum_insured_exhausted");
    let total: i64 = uw.get("/api/v1/claims").body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["payout"].as_str())
        .map(|p| (p.parse::<f64>().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(total, 1_500_000);
    // Sending back keeps the survey on record and reopens the claim.
    let (back, _) = {
        let other = insured(&app, "孙退回", 10, true);
        let id = report(&uw, &other, "hail", "2012-06-12 06:00").body["id"]
            .as_i64()
            .unwrap();
        dispatch(&uw, id);
        let r = adj.post(
            &format!("/api/v1/claims/{id}/survey"),
            survey_body("survey-back-01", lat, lon, "3", "40"),
        );
        (id, r)
    };
    let r = uw.post(&format!("/api/v1/claims/{back}/send-back"), json!({}));
    assert_eq!(r.body["fields"][0]["code"], "note_missing");
    let r = uw.post(
        &format!("/api/v1/claims/{back}/send-back"),
        json!({"note": "受灾面积与照片不符，请复核"}),
    );
    assert_eq!(r.body["status"], "dispatched");
    assert!(r.body["payout"].is_null());
    let d = uw.get(&format!("/api/v1/claims/{back}")).body;
    assert_eq!(d["surveys"].as_array().unwrap().len(), 1);
}

#[test]
fn one_event_registers_many_reports_or_none() {
    let app = spawn_app_at("2012-06-12 20:00");
    let a = insured(&app, "带甲", 11, true);
    let b = insured(&app, "带乙", 12, true);
    let c = insured(&app, "带丙", 13, false);
    let uw = app.api("underwriter");
    let items = |third: &str| {
        json!({"name": "6月12日冰雹", "peril": "hail", "occurred_at": "2012-06-12 15:00",
               "description": "冰雹带自西向东", "items": [
            {"policy_no": a.policy_no, "plot_code": a.plot_code, "reporter_name": "带甲"},
            {"policy_no": b.policy_no, "reporter_name": "带乙"},
            {"policy_no": third, "reporter_name": "带丙"},
        ]})
    };
    let r = uw.post("/api/v1/claim-events", items("NO-SUCH-POLICY"));
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["field"], "items[2].policy_no");
    assert!(r.body["fields"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("第3行"));
    assert_eq!(count(&mut app.conn(), "claims"), 0);
    assert_eq!(count(&mut app.conn(), "claim_events"), 0);
    let r = uw.post("/api/v1/claim-events", items(&c.policy_no));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["reported"], 2);
    assert_eq!(r.body["declined"], 1);
    let event = r.body["event_id"].as_i64().unwrap();
    let listed = uw.get(&format!("/api/v1/claims?event_id={event}")).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["report_channel"] == "batch"));
}

#[test]
fn who_sees_and_does_what() {
    let app = spawn_app_at("2012-06-12 08:00");
    let ins = insured(&app, "周范围", 14, true);
    let uw = app.api("underwriter");
    let id = report(&uw, &ins, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    // A second adjuster, not assigned.
    guobao::app::auth::create_user(
        &mut app.conn(),
        &guobao::app::auth::NewAccount {
            username: "adjuster2",
            display_name: "adjuster2",
            password: PASSWORD,
            role: "adjuster",
            township_code: None,
            must_change_password: false,
        },
    )
    .unwrap();
    dispatch(&uw, id);
    let path = format!("/api/v1/claims/{id}");
    assert_eq!(app.api("adjuster").get(&path).status, 200);
    assert_eq!(app.api("adjuster2").get(&path).status, 404);
    assert!(app.api("adjuster2").get("/api/v1/claims").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    // The township sees its own township's claims, read-only; not its neighbour's.
    let a = app.api("station_a");
    assert_eq!(a.get(&path).status, 200);
    assert_eq!(
        a.post(
            &format!("{path}/dispatch"),
            json!({"adjuster": "adjuster", "co_surveyor": "forestry"})
        )
        .status,
        403
    );
    assert_eq!(app.api("station_b").get(&path).status, 404);
    // Finance and the forestry bureau see the county; masked IDs for finance.
    let f = app.api("finance").get(&path).body;
    assert!(f["claim"]["grower_id_number"]
        .as_str()
        .unwrap()
        .contains("****"));
    assert_eq!(app.api("forestry").get(&path).status, 200);
    assert_eq!(
        app.api("finance")
            .post(&format!("{path}/approve"), json!({}))
            .status,
        403
    );
}

/// The board's monthly on-time figures, counted by the database per day of
/// report, are the ones the claim-by-claim computation gives (the board's
/// code before the aggregate query, kept here as the reference): reports
/// either side of midnight China time at a month's and a year's end,
/// surveyed in time, to the second at the deadline and a second late,
/// overdue and not yet due, declined with and without a survey, in two
/// townships and assigned or not to the adjuster.
#[test]
fn the_boards_monthly_figures_match_counting_claim_by_claim() {
    use diesel::prelude::*;
    use guobao::db::schema::{claims, users};
    let app = spawn_app_at("2012-06-12 08:00");
    let uw = app.api("underwriter");
    // reported, survey due, surveyed, status, in township B, assigned to the adjuster
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static str,
        bool,
        bool,
    );
    let cases: [Case; 12] = [
        // China 06-30 23:59:59: June, surveyed in time.
        (
            "2012-06-30T15:59:59Z",
            "2012-07-01T15:59:59Z",
            Some("2012-07-01T10:00:00Z"),
            "surveyed",
            false,
            true,
        ),
        // China 07-01 00:00: July, surveyed a day late.
        (
            "2012-06-30T16:00:00Z",
            "2012-07-01T16:00:00Z",
            Some("2012-07-02T16:00:00Z"),
            "approved",
            true,
            false,
        ),
        // China 08-01: August, never surveyed and overdue.
        (
            "2012-07-31T16:30:00Z",
            "2012-08-01T16:30:00Z",
            None,
            "dispatched",
            true,
            true,
        ),
        // Not yet due at the board's time: left out.
        (
            "2013-01-05T01:00:00Z",
            "2013-01-06T01:00:00Z",
            None,
            "reported",
            false,
            false,
        ),
        // Declined without a survey: left out.
        (
            "2012-05-10T02:00:00Z",
            "2012-05-11T02:00:00Z",
            None,
            "declined",
            false,
            true,
        ),
        // Declined after a survey exactly at the deadline: counted, in time (China 05-11).
        (
            "2012-05-10T20:00:00Z",
            "2012-05-11T20:00:00Z",
            Some("2012-05-11T20:00:00Z"),
            "declined",
            true,
            false,
        ),
        // A second late.
        (
            "2012-07-10T08:00:00Z",
            "2012-07-11T08:00:00Z",
            Some("2012-07-11T08:00:01Z"),
            "surveyed",
            false,
            true,
        ),
        // Overdue, July.
        (
            "2012-07-20T00:00:00Z",
            "2012-07-21T00:00:00Z",
            None,
            "dispatched",
            false,
            false,
        ),
        // China 2013-01-01 00:00: January of the next year, in time.
        (
            "2012-12-31T16:00:00Z",
            "2013-01-01T16:00:00Z",
            Some("2013-01-01T09:00:00Z"),
            "surveyed",
            true,
            true,
        ),
        // China 2012-12-31 23:00: December.
        (
            "2012-12-31T15:00:00Z",
            "2013-01-01T15:00:00Z",
            Some("2013-01-01T09:00:00Z"),
            "paid",
            false,
            false,
        ),
        // Due exactly at the board's time and not surveyed: counted, late.
        (
            "2013-01-04T04:00:00Z",
            "2013-01-05T04:00:00Z",
            None,
            "dispatched",
            false,
            true,
        ),
        // Due a second after the board's time: left out.
        (
            "2013-01-04T04:00:01Z",
            "2013-01-05T04:00:01Z",
            None,
            "reported",
            true,
            false,
        ),
    ];
    let mut ids = Vec::new();
    for (i, _) in cases.iter().enumerate() {
        let ins = insured(&app, &format!("月度{i}"), 40 + i as u32, true);
        let r = report(&uw, &ins, "hail", "2012-06-12 07:00");
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    let mut conn = app.conn();
    let adjuster: i64 = users::table
        .filter(users::username.eq("adjuster"))
        .select(users::id)
        .first(&mut conn)
        .unwrap();
    for (id, (reported, due, surveyed, status, in_b, assigned)) in ids.iter().zip(cases) {
        diesel::update(claims::table.find(id))
            .set((
                claims::reported_at.eq(reported),
                claims::survey_due_at.eq(due),
                claims::surveyed_at.eq(surveyed),
                claims::status.eq(status),
                claims::adjuster_id.eq(assigned.then_some(adjuster)),
            ))
            .execute(&mut conn)
            .unwrap();
        if in_b {
            diesel::update(claims::table.find(id))
                .set(claims::township_id.eq(app.seed.township_b))
                .execute(&mut conn)
                .unwrap();
        }
    }
    // China 2013-01-05 12:00 = 04:00 UTC.
    app.clock.set(china_time("2013-01-05 12:00"));
    let now = china_time("2013-01-05 12:00");

    // The reference: every claim read and counted one by one.
    // status, reported, survey due, surveyed, township, adjuster
    type Stored = (String, String, String, Option<String>, i64, Option<i64>);
    let stored: Vec<Stored> = claims::table
        .select((
            claims::status,
            claims::reported_at,
            claims::survey_due_at,
            claims::surveyed_at,
            claims::township_id,
            claims::adjuster_id,
        ))
        .load(&mut conn)
        .unwrap();
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let expected = |keep: &dyn Fn(i64, Option<i64>) -> bool| -> Vec<(String, u64, u64)> {
        let mut months = std::collections::BTreeMap::<String, (u64, u64)>::new();
        for (status, reported, due, surveyed, township, adjuster) in &stored {
            if !keep(*township, *adjuster) {
                continue;
            }
            if status == "declined" && surveyed.is_none() {
                continue;
            }
            if surveyed.is_none() && at(due) > now {
                continue;
            }
            let month = (at(reported) + chrono::Duration::hours(8))
                .format("%Y-%m")
                .to_string();
            let e = months.entry(month).or_default();
            e.0 += 1;
            if surveyed.as_deref().is_some_and(|s| at(s) <= at(due)) {
                e.1 += 1;
            }
        }
        months
            .into_iter()
            .rev()
            .map(|(m, (due, on_time))| (m, due, on_time))
            .collect()
    };
    let monthly = |who: &str| -> Vec<(String, u64, u64)> {
        let r = app.api(who).get("/api/v1/claims/board");
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        r.body["monthly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["month"].as_str().unwrap().to_string(),
                    m["due"].as_u64().unwrap(),
                    m["on_time"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let county = expected(&|_, _| true);
    assert_eq!(
        county,
        [
            ("2013-01".to_string(), 2, 1),
            ("2012-12".to_string(), 1, 1),
            ("2012-08".to_string(), 1, 0),
            ("2012-07".to_string(), 3, 0),
            ("2012-06".to_string(), 1, 1),
            ("2012-05".to_string(), 1, 1),
        ],
        "the reference itself"
    );
    assert_eq!(monthly("underwriter"), county);
    let b = app.seed.township_b;
    assert_eq!(monthly("station_b"), expected(&|t, _| t == b));
    assert_eq!(monthly("station_a"), expected(&|t, _| t != b));
    let mine = expected(&|_, a| a == Some(adjuster));
    assert!(!mine.is_empty() && mine != county);
    assert_eq!(monthly("adjuster"), mine);
}

/// The board, the list and the claim's page load only the names the claims
/// they show need (a province holds tens of thousands of areas): each name
/// still comes from the right row — township, the grower's village, both
/// surveyors, the peril from the claim's own scheme.
#[test]
fn the_board_and_the_claim_name_what_they_show() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "张名称", 1, true);
    let uw = app.api("underwriter");
    let r = report(&uw, &ins, "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    let shown = |c: &Value| {
        assert_eq!(c["id"], id);
        assert_eq!(c["township_name"], "甲镇", "{c}");
        assert_eq!(c["village_name"], "一村", "{c}");
        assert_eq!(c["adjuster"], "adjuster", "{c}");
        assert_eq!(c["co_surveyor"], "forestry", "{c}");
        assert_eq!(c["peril_name"], "雹灾", "{c}");
        assert_eq!(c["scheme_code"], "walnut-2012", "{c}");
    };
    let board = uw.get("/api/v1/claims/board").body;
    assert_eq!(board["open"].as_array().unwrap().len(), 1, "{board}");
    shown(&board["open"][0]);
    assert_eq!(board["by_township"][0]["name"], "甲镇");
    assert_eq!(board["by_adjuster"][0]["name"], "adjuster");
    let list = uw.get("/api/v1/claims").body;
    shown(&list["items"][0]);
    // Another township's station sees none of it.
    let other = app.api("station_b").get("/api/v1/claims/board").body;
    assert_eq!(other["open"].as_array().unwrap().len(), 0, "{other}");

    app.clock.advance(chrono::Duration::hours(3));
    let (lat, lon) = point_east(50.0);
    let r = app.api("adjuster").post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body("survey-names-1", lat, lon, "5", "35"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let page = uw.get(&format!("/api/v1/claims/{id}")).body;
    shown(&page["claim"]);
    assert_eq!(page["surveys"][0]["adjuster"], "adjuster", "{page}");
    assert_eq!(page["surveys"][0]["co_surveyor"], "forestry", "{page}");
}
