//! Policy lifecycle and township premium batches.

use crate::helpers::*;
use serde_json::json;

fn setup(app: &TestApp) -> (Api, i64) {
    let a = app.api("station_a");
    let g = GrowerBuilder::new("投保户").create(&a);
    PlotBuilder::new(g).mu("3.37").create(&a);
    let pid = a.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    (a, pid)
}

#[test]
fn draft_collected_issued_with_cover_from_the_later_date() {
    let app = spawn_app();
    let (station, pid) = setup(&app);
    let uw = app.api("underwriter");
    // Not yet paid: cannot issue.
    let r = uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "policy_not_collected");
    // The underwriter does not collect premium; the station does.
    assert_eq!(
        uw.post(
            &format!("/api/v1/policies/{pid}/collect"),
            json!({"collected_on": "2012-03-10"})
        )
        .status,
        403
    );
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "2012-03-32"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "date_invalid");
    // A date in the future (China date) is refused.
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "2099-12-31"}),
    );
    assert_eq!(r.body["fields"][0]["code"], "date_in_future", "{}", r.body);
    // Every entry path reads dates alike: 2012/3/10 and full-width digits as
    // the roster import does.
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "２０１２/3/10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "collected");
    assert_eq!(r.body["share_collected_on"], "2012-03-10", "{}", r.body);
    assert_eq!(
        station
            .post(
                &format!("/api/v1/policies/{pid}/collect"),
                json!({"collected_on": "2012-03-11"})
            )
            .code(),
        "policy_not_draft"
    );
    // The station may not issue.
    assert_eq!(
        station
            .post(&format!("/api/v1/policies/{pid}/issue"), json!({}))
            .status,
        403
    );
    notices::notice_for_policy(&app, pid);
    let r = uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "issued");
    // Collected in March, before the term (April 1): cover starts at the term.
    assert_eq!(r.body["cover_start"], "2012-04-01");
    assert_eq!(r.body["cover_end"], "2012-10-31");
    // Once paid, the policy keeps its money when plots change.
    let g = r.body["grower_id"].as_i64().unwrap();
    PlotBuilder::new(g).mu("10").create(&station);
    assert_eq!(
        station.get(&format!("/api/v1/policies/{pid}")).body["premium"],
        "269.60"
    );
    let r = uw.post(&format!("/api/v1/policies/{pid}/cancel"), json!({}));
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(
        uw.post(&format!("/api/v1/policies/{pid}/cancel"), json!({}))
            .code(),
        "policy_closed"
    );

    let actions: Vec<String> = app
        .api("admin")
        .get(&format!("/api/v1/audit?entity=policy&entity_id={pid}"))
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect();
    // Reading a policy shows its insured's ID number masked: no "read" row.
    assert_eq!(actions, ["cancel", "issue", "collect", "create"]);
}

#[test]
fn cover_starts_on_the_collection_day_when_later_than_the_term_start() {
    let app = spawn_app();
    let (station, pid) = setup(&app);
    station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "2012-05-20"}),
    );
    notices::notice_for_policy(&app, pid);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.body["cover_start"], "2012-05-20");
}

#[test]
fn premium_batch_hands_over_collected_shares_once() {
    let app = spawn_app();
    let (station, pid) = setup(&app);
    let g2 = GrowerBuilder::new("第二户")
        .seq(2)
        .village(&app.seed.village_a2)
        .create(&station);
    PlotBuilder::new(g2).mu("0.333").create(&station);
    let pid2 = station.get(&format!("/api/v1/growers/{g2}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();

    let r = station.post(
        "/api/v1/batches",
        json!({"receipt_no": "SJ-1", "handed_over_on": "2012-03-31"}),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "batch_empty");

    for p in [pid, pid2] {
        station.post(
            &format!("/api/v1/policies/{p}/collect"),
            json!({"collected_on": "2012-03-10"}),
        );
    }
    let r = station.post(
        "/api/v1/batches",
        json!({"receipt_no": "SJ-1", "handed_over_on": "2012-03-31"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // 53.92 + 5.33
    assert_eq!(r.body["amount"], "59.25");
    assert_eq!(r.body["policy_count"], 2);
    assert_eq!(
        station.get(&format!("/api/v1/policies/{pid}")).body["batch_receipt_no"],
        "SJ-1"
    );

    // Nothing left to hand over; a reused receipt number is refused.
    assert_eq!(
        station
            .post(
                "/api/v1/batches",
                json!({"receipt_no": "SJ-2", "handed_over_on": "2012-03-31"})
            )
            .code(),
        "batch_empty"
    );
    assert_eq!(
        station
            .post(
                "/api/v1/batches",
                json!({"receipt_no": "SJ-1", "handed_over_on": "2012-03-31"})
            )
            .code(),
        "receipt_no_duplicate"
    );
    // Another township's station can't hand over this township's money.
    let b = app.api("station_b");
    assert_eq!(
        b.post(
            "/api/v1/batches",
            json!({"township_code": TOWNSHIP_A, "receipt_no": "X", "handed_over_on": "2012-03-31"})
        )
        .status,
        404
    );
    assert_eq!(b.get("/api/v1/batches").body.as_array().unwrap().len(), 0);
    assert_eq!(count(&mut app.conn(), "premium_batches"), 1);
}

/// Bulk issuance previews exactly what it will do (nothing written), then
/// issues the ones that may be issued in one go, each audited, and lists
/// the others with the same reason a single issuance gives.
#[test]
fn bulk_issuance_previews_then_issues_and_lists_the_refusals() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let app = spawn_app();
    let station = app.api("station_a");
    let uw = app.api("underwriter");
    let policy_of = |name: &str, seq: u32, mu: &str| -> i64 {
        let g = GrowerBuilder::new(name).seq(seq).create(&station);
        PlotBuilder::new(g).mu(mu).create(&station);
        station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
            .as_i64()
            .unwrap()
    };
    let a = policy_of("批量甲", 61, "3.37");
    let b = policy_of("批量乙", 62, "2.50");
    let c = policy_of("批量丙", 63, "4.00");
    for id in [a, b] {
        let r = station.post(
            &format!("/api/v1/policies/{id}/collect"),
            json!({"collected_on": "2012-03-10"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    notices::notice_for_policy(&app, a);
    let premium = |id: i64| -> Decimal {
        Decimal::from_str(
            uw.get(&format!("/api/v1/policies/{id}")).body["premium"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let expected = premium(a) + premium(b);
    let status = |id: i64| uw.get(&format!("/api/v1/policies/{id}")).body["status"].clone();
    let audit_before = count(&mut app.conn(), "audit_log");

    // The preview: two to issue, the draft and an unknown id refused, nothing written.
    let ids = json!([a, b, c, a, 999_999]);
    let r = uw.post("/api/v1/policies/issue-batch", json!({"ids": ids}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["committed"], false);
    assert_eq!(r.body["issued"], 2, "{}", r.body);
    assert_eq!(r.body["refused"], 2, "{}", r.body);
    assert_eq!(
        Decimal::from_str(r.body["premium"].as_str().unwrap()).unwrap(),
        expected
    );
    let lines = r.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4, "duplicates count once: {}", r.body);
    assert_eq!(lines[2]["code"], "policy_not_collected");
    assert!(lines[2]["message"]
        .as_str()
        .unwrap()
        .contains("尚未收取农户自缴保费"));
    assert_eq!(lines[3]["code"], "not_found");
    assert_eq!(lines[3]["policy_no"], "");
    assert_eq!(status(a), "collected");
    assert_eq!(status(b), "collected");
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);

    // The same with confirm: both issued, one audit row each, the refusals as previewed.
    let r = uw.post(
        "/api/v1/policies/issue-batch",
        json!({"ids": ids, "confirm": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["committed"], true);
    assert_eq!(r.body["issued"], 2);
    assert_eq!(r.body["refused"], 2);
    assert_eq!(status(a), "issued");
    assert_eq!(status(b), "issued");
    assert_eq!(status(c), "draft");
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before + 2);

    // Again: nothing left to issue, each refusal says why.
    let r = uw.post(
        "/api/v1/policies/issue-batch",
        json!({"ids": [a], "confirm": true}),
    );
    assert_eq!(r.body["issued"], 0);
    assert_eq!(r.body["lines"][0]["code"], "policy_not_collected");

    // A station may not; an empty or oversized selection is refused; nothing written.
    let r = station.post("/api/v1/policies/issue-batch", json!({"ids": [c]}));
    assert_eq!(r.status, 403, "{}", r.body);
    let r = uw.post("/api/v1/policies/issue-batch", json!({"ids": []}));
    assert_eq!(r.status, 422, "{}", r.body);
    let many: Vec<i64> = (1..=1001).collect();
    let r = uw.post(
        "/api/v1/policies/issue-batch",
        json!({"ids": many, "confirm": true}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("分批签发"), "{}", r.body);
    let r = uw.post("/api/v1/policies/issue-batch", json!({"ids": "all"}));
    assert_eq!(r.status / 100, 4, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before + 2);
}

/// A policy whose village notice is still up is refused in bulk with the
/// same message as on its own.
#[test]
fn bulk_issuance_gives_the_notice_refusal_of_a_single_issuance() {
    let app = spawn_app();
    let (station, pid) = setup(&app);
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let village = notices::village_of_policy(&app, pid);
    let today = app.clock.today().to_string();
    let r = notices::post_notice(
        &app.api("forestry"),
        json!({"kind": "enrollment", "village_code": village, "starts_on": today}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let uw = app.api("underwriter");
    let single = uw.post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(single.status, 409);
    let bulk = uw.post(
        "/api/v1/policies/issue-batch",
        json!({"ids": [pid], "confirm": true}),
    );
    assert_eq!(bulk.body["issued"], 0, "{}", bulk.body);
    assert_eq!(bulk.body["lines"][0]["code"], single.body["error"]);
    assert_eq!(bulk.body["lines"][0]["message"], single.body["message"]);
    assert_eq!(single.body["error"], "notice_in_period");
}

/// The underwriter's 待签发 page: the collected policies ticked, a preview
/// that writes nothing, then one confirmation issues them.
#[test]
fn the_queue_page_previews_then_issues_the_ticked_policies() {
    let app = spawn_app();
    let station = app.api("station_a");
    let mut ids = Vec::new();
    for (name, seq) in [("队列甲", 71), ("队列乙", 72)] {
        let g = GrowerBuilder::new(name).seq(seq).create(&station);
        PlotBuilder::new(g).mu("2.00").create(&station);
        let id = station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
            .as_i64()
            .unwrap();
        let r = station.post(
            &format!("/api/v1/policies/{id}/collect"),
            json!({"collected_on": "2012-03-10"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(id);
    }
    notices::notice_for_policy(&app, ids[0]);
    let b = app.browser();
    b.login("underwriter");
    let list = b.get("/policies");
    assert!(list.body.contains("/policies/queue"), "{}", list.body);
    let q = b.get("/policies/queue");
    assert_eq!(q.status, 200);
    for id in &ids {
        assert!(q.body.contains(&format!("name=\"p{id}\"")), "{}", q.body);
    }
    let (f0, f1) = (format!("p{}", ids[0]), format!("p{}", ids[1]));
    let p = b.submit(
        "/policies/queue",
        "/policies/queue/preview",
        &[(&f0, "1"), (&f1, "1")],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("预览（尚未签发）"), "{}", p.body);
    assert!(p.body.contains("确认签发 2 份"), "{}", p.body);
    let status = |id: i64| station.get(&format!("/api/v1/policies/{id}")).body["status"].clone();
    assert_eq!(status(ids[0]), "collected");
    let joined = format!("{},{}", ids[0], ids[1]);
    let done = b.submit(
        "/policies/queue",
        "/policies/queue/issue",
        &[("ids", &joined)],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("已签发 2 份"), "{}", done.body);
    assert_eq!(status(ids[0]), "issued");
    assert_eq!(status(ids[1]), "issued");
    // Without a token nothing happens; a station has no queue.
    let r = b.post("/policies/queue/issue", &[("ids", &joined)]);
    assert_eq!(r.status / 100, 4, "{}", r.body);
    let s = app.browser();
    s.login("station_a");
    assert_eq!(s.get("/policies/queue").status, 403);
    assert!(!s.get("/policies").body.contains("/policies/queue"));
}
