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
