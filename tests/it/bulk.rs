//! Bulk work with a preview (issue 14): grower shares collected with one
//! date, premium hand-over batches and subsidy requests from a selection,
//! and "all matching" issuance. Ticked ids or every policy matching a
//! filter (resolved on the server, across pages); a preview that writes
//! nothing; one confirmation in one transaction, one audit row per record.

use crate::helpers::*;
use diesel::prelude::*;
use guobao::db::schema::areas;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

fn area_id(app: &TestApp, code: &str) -> i64 {
    areas::table
        .filter(areas::code.eq(code))
        .select(areas::id)
        .first(&mut app.conn())
        .unwrap()
}

/// A draft policy of a new grower of `village` (created by `api`).
fn draft(api: &Api, name: &str, seq: u32, village: &str, mu: &str) -> i64 {
    let g = GrowerBuilder::new(name)
        .seq(seq)
        .village(village)
        .create(api);
    PlotBuilder::new(g).mu(mu).create(api);
    api.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap()
}

fn money(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("not money: {v}"))).unwrap()
}

fn status(api: &Api, id: i64) -> Value {
    api.get(&format!("/api/v1/policies/{id}")).body["status"].clone()
}

fn collect_one(api: &Api, id: i64) {
    let r = api.post(
        &format!("/api/v1/policies/{id}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

const A2: &str = "532999101202";
const B1: &str = "532999102201";

/// All drafts of a village collected with one date: a preview that writes
/// nothing with the count and the grower share total, then one
/// confirmation, one audit row per policy; the other village untouched.
#[test]
fn bulk_collection_of_a_village_previews_then_collects_all_matching() {
    let app = spawn_app();
    let station = app.api("station_a");
    let a1: Vec<i64> = (0..3)
        .map(|i| draft(&station, &format!("收费{i}"), 80 + i, VILLAGE_A1, "2.50"))
        .collect();
    let other = draft(&station, "二村户", 90, A2, "1.00");
    let expected: Decimal = a1
        .iter()
        .map(|id| money(&station.get(&format!("/api/v1/policies/{id}")).body["grower_share"]))
        .sum();
    let village = area_id(&app, VILLAGE_A1);
    let audit_before = count(&mut app.conn(), "audit_log");

    let body = json!({"filter": {"village_id": village}, "date": "2012-03-10"});
    let r = station.post("/api/v1/policies/collect-batch", body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["committed"], false);
    assert_eq!(r.body["done"], 3, "{}", r.body);
    assert_eq!(r.body["refused"], 0);
    assert_eq!(money(&r.body["grower_share"]), expected);
    for id in &a1 {
        assert_eq!(status(&station, *id), "draft");
    }
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);

    let mut confirm = body.clone();
    confirm["confirm"] = json!(true);
    let r = station.post("/api/v1/policies/collect-batch", confirm.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["committed"], true);
    assert_eq!(r.body["done"], 3);
    for id in &a1 {
        let p = station.get(&format!("/api/v1/policies/{id}")).body;
        assert_eq!(p["status"], "collected");
        assert_eq!(p["share_collected_on"], "2012-03-10");
    }
    assert_eq!(status(&station, other), "draft");
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before + 3);
    let actions: i64 = {
        use guobao::db::schema::audit_log;
        audit_log::table
            .filter(audit_log::action.eq("collect"))
            .filter(audit_log::entity_id.eq_any(&a1))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(actions, 3);

    // Nothing left matching in that village; ticked ids list the refusal
    // with the reason a single collection gives, and the draft is collected.
    let r = station.post("/api/v1/policies/collect-batch", confirm);
    assert_eq!(r.status, 422, "{}", r.body);
    let r = station.post(
        "/api/v1/policies/collect-batch",
        json!({"ids": [a1[0], other, other], "date": "2012-03-11", "confirm": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["done"], 1, "{}", r.body);
    assert_eq!(r.body["refused"], 1);
    assert_eq!(r.body["lines"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["lines"][0]["code"], "policy_not_draft");
    assert!(r.body["lines"][0]["message"]
        .as_str()
        .unwrap()
        .contains("不能再登记收费"));
    assert_eq!(status(&station, other), "collected");
}

/// A station reaches only its own township: another township's ids, its
/// township or its village as a filter are refused whole, nothing written;
/// limits and malformed bodies are refused the same way.
#[test]
fn bulk_collection_is_scoped_and_limited() {
    let app = spawn_app();
    let a = app.api("station_a");
    let b = app.api("station_b");
    let mine = draft(&b, "乙乡户", 81, B1, "2.00");
    let theirs = draft(&a, "甲镇户", 82, VILLAGE_A1, "2.00");
    let audit_before = count(&mut app.conn(), "audit_log");
    let post = |api: &Api, body: Value| api.post("/api/v1/policies/collect-batch", body);

    let r = post(
        &b,
        json!({"ids": [mine, theirs], "date": "2012-03-10", "confirm": true}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.to_string().contains("不属于您所在的乡镇"),
        "{}",
        r.body
    );
    assert_eq!(status(&b, mine), "draft");
    let town_a = app.seed.township_a;
    let r = post(
        &b,
        json!({"filter": {"township_id": town_a}, "date": "2012-03-10", "confirm": true}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post(
        &b,
        json!({"filter": {"village_id": area_id(&app, VILLAGE_A1)}, "date": "2012-03-10", "confirm": true}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // The underwriter does not collect premium.
    let r = app.api("underwriter").post(
        "/api/v1/policies/collect-batch",
        json!({"ids": [theirs], "date": "2012-03-10"}),
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // Limits and hostile bodies.
    let many: Vec<i64> = (1..=1001).collect();
    let r = post(
        &a,
        json!({"ids": many, "date": "2012-03-10", "confirm": true}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "too_many_policies");
    let r = post(&a, json!({"ids": ["x"], "date": "2012-03-10"}));
    assert_eq!(r.status / 100, 4, "{}", r.body);
    let r = post(
        &a,
        json!({"ids": [theirs], "filter": {}, "date": "2012-03-10"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "selection_invalid");
    let r = post(&a, json!({"date": "2012-03-10"}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(&a, json!({"ids": [], "date": "2012-03-10"}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(
        &a,
        json!({"ids": [theirs], "date": "2012-02-30", "confirm": true}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(&a, json!({"ids": [theirs], "date": "", "confirm": true}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(
        &a,
        json!({"ids": [theirs], "date": "2012-03-10", "sneaky": 1}),
    );
    assert_eq!(r.status / 100, 4, "{}", r.body);
    assert_eq!(status(&a, theirs), "draft");
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);
}

/// A hand-over batch from a selection: a preview of count and money that
/// writes nothing, then the batch in one go with its audit row; policies
/// that can't go in are listed, other townships refused.
#[test]
fn handover_batch_from_a_selection_previews_then_creates() {
    let app = spawn_app();
    let station = app.api("station_a");
    let ids: Vec<i64> = (0..3)
        .map(|i| draft(&station, &format!("交付{i}"), 83 + i, VILLAGE_A1, "2.00"))
        .collect();
    for id in &ids[..2] {
        collect_one(&station, *id);
    }
    let expected: Decimal = ids[..2]
        .iter()
        .map(|id| money(&station.get(&format!("/api/v1/policies/{id}")).body["grower_share"]))
        .sum();
    let audit_before = count(&mut app.conn(), "audit_log");
    let body = json!({"ids": ids, "receipt_no": "SEL-1", "handed_over_on": "2012-03-20"});
    let r = station.post("/api/v1/batches/from-selection", body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["committed"], false);
    assert_eq!(r.body["count"], 2, "{}", r.body);
    assert_eq!(r.body["refused"], 1);
    assert_eq!(money(&r.body["amount"]), expected);
    assert!(r.body["lines"][2]["message"]
        .as_str()
        .unwrap()
        .contains("没有已收取的农户自缴保费可交付"));
    assert!(r.body["batch"].is_null());
    assert_eq!(count(&mut app.conn(), "premium_batches"), 0);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);

    // Another township's station: refused whole.
    let r = app
        .api("station_b")
        .post("/api/v1/batches/from-selection", body.clone());
    assert_eq!(r.status, 403, "{}", r.body);

    let mut confirm = body.clone();
    confirm["confirm"] = json!(true);
    let r = station.post("/api/v1/batches/from-selection", confirm.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["batch"]["policy_count"], 2);
    assert_eq!(money(&r.body["batch"]["amount"]), expected);
    assert_eq!(count(&mut app.conn(), "premium_batches"), 1);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before + 1);
    assert_eq!(
        station.get(&format!("/api/v1/policies/{}", ids[0])).body["batch_receipt_no"],
        "SEL-1"
    );
    // Again: nothing left to hand over (the receipt number is new).
    confirm["receipt_no"] = json!("SEL-2");
    let r = station.post("/api/v1/batches/from-selection", confirm);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.code(), "batch_empty");

    // The administrator (county-wide) can't mix townships in one batch.
    let b = app.api("station_b");
    let theirs = draft(&b, "乙乡交付", 88, B1, "2.00");
    collect_one(&b, theirs);
    collect_one(&station, ids[2]);
    let r = app.api("admin").post(
        "/api/v1/batches/from-selection",
        json!({"ids": [ids[2], theirs], "receipt_no": "SEL-3", "handed_over_on": "2012-03-20", "confirm": true}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "batch_mixed_townships");
    // "All matching" for the township: the one collected policy left.
    let r = station.post(
        "/api/v1/batches/from-selection",
        json!({"filter": {"township_id": app.seed.township_a}, "receipt_no": "SEL-3",
               "handed_over_on": "2012-03-20", "confirm": true}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["count"], 1);
    assert_eq!(count(&mut app.conn(), "premium_batches"), 2);
}

/// Every collected policy of a village issued in one action ("all
/// matching"), then a subsidy request over every issued policy of the
/// township: previews that write nothing, confirmations that do it all.
#[test]
fn all_matching_issuance_then_subsidy_request_from_the_selection() {
    let app = spawn_app();
    let station = app.api("station_a");
    let uw = app.api("underwriter");
    let a1: Vec<i64> = (0..3)
        .map(|i| draft(&station, &format!("签发{i}"), 100 + i, VILLAGE_A1, "1.50"))
        .collect();
    let a2 = draft(&station, "二村签发", 110, A2, "1.50");
    for id in a1.iter().chain([&a2]) {
        collect_one(&station, *id);
    }
    enrollment_notice_ended_for(&app, VILLAGE_A1);
    let village = area_id(&app, VILLAGE_A1);
    let body = json!({"filter": {"village_id": village}});
    let r = uw.post("/api/v1/policies/issue-batch", body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["issued"], 3, "{}", r.body);
    assert_eq!(status(&uw, a1[0]), "collected");
    let r = uw.post(
        "/api/v1/policies/issue-batch",
        json!({"filter": {"village_id": village}, "confirm": true}),
    );
    assert_eq!(r.body["issued"], 3, "{}", r.body);
    for id in &a1 {
        assert_eq!(status(&uw, *id), "issued");
    }
    assert_eq!(status(&uw, a2), "collected");

    // The subsidy request over every issued policy of the township.
    let subsidy: Decimal = a1
        .iter()
        .map(|id| money(&uw.get(&format!("/api/v1/policies/{id}")).body["subsidy"]))
        .sum();
    let requests_before = count(&mut app.conn(), "subsidy_requests");
    let audit_before = count(&mut app.conn(), "audit_log");
    let body = json!({"filter": {"township_id": app.seed.township_a}, "request_no": "BT-1"});
    let r = uw.post("/api/v1/finance/requests/from-selection", body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["committed"], false);
    assert_eq!(r.body["request"]["eligible_count"], 3, "{}", r.body);
    assert_eq!(r.body["request"]["ineligible_count"], 0);
    assert_eq!(money(&r.body["request"]["eligible_subsidy"]), subsidy);
    assert_eq!(count(&mut app.conn(), "subsidy_requests"), requests_before);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);
    let mut confirm = body.clone();
    confirm["confirm"] = json!(true);
    let r = uw.post("/api/v1/finance/requests/from-selection", confirm.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["request"]["eligible_count"], 3);
    assert_eq!(
        count(&mut app.conn(), "subsidy_requests"),
        requests_before + 1
    );
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before + 1);
    // Nothing left to request in the township; ticked ids show the
    // not-yet-issued policy as ineligible, the requested one too.
    confirm["request_no"] = json!("BT-2");
    let r = uw.post("/api/v1/finance/requests/from-selection", confirm);
    assert_eq!(r.status, 422, "{}", r.body);
    let r = uw.post(
        "/api/v1/finance/requests/from-selection",
        json!({"ids": [a1[0], a2], "request_no": "BT-3"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["request"]["eligible_count"], 0, "{}", r.body);
    assert_eq!(r.body["request"]["ineligible_count"], 2);
    // A station can't submit; an unknown id is refused; nothing written.
    let r = station.post(
        "/api/v1/finance/requests/from-selection",
        json!({"ids": [a1[0]], "request_no": "BT-4", "confirm": true}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = uw.post(
        "/api/v1/finance/requests/from-selection",
        json!({"ids": [a1[0], 999_999], "request_no": "BT-4", "confirm": true}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        count(&mut app.conn(), "subsidy_requests"),
        requests_before + 1
    );
}

fn enrollment_notice_ended_for(app: &TestApp, village: &str) {
    crate::helpers::notices::enrollment_notice_ended(app, village);
}

/// The station's 批量登记收费 page: a page of two rows out of three drafts,
/// "all matching" takes all three (the other page too), the preview writes
/// nothing, one confirmation collects them; hostile forms get a 4xx page.
#[test]
fn the_collect_page_takes_all_matching_across_pages() {
    let app = spawn_app();
    let station = app.api("station_a");
    let ids: Vec<i64> = (0..3)
        .map(|i| {
            draft(
                &station,
                &format!("页面收费{i}"),
                120 + i,
                VILLAGE_A1,
                "2.00",
            )
        })
        .collect();
    let other = draft(&station, "页面二村", 130, A2, "2.00");
    let village = area_id(&app, VILLAGE_A1).to_string();
    let b = app.browser();
    b.login("station_a");
    let list_path = format!("/policies/collect?village={village}&page_size=2");
    let list = b.get(&list_path);
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.body.matches("class=\"pick\"").count(),
        2,
        "{}",
        list.body
    );
    assert!(list.body.contains("共 3 份"), "{}", list.body);
    assert!(list.body.contains("第 1 / 2 页"), "{}", list.body);

    let form = [
        ("all", "1"),
        ("village", village.as_str()),
        ("township", ""),
        ("page_size", "2"),
        ("collected_on", "2012-03-10"),
    ];
    let p = b.submit(&list_path, "/policies/collect/preview", &form);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("预览（尚未登记）"), "{}", p.body);
    assert!(p.body.contains("确认登记 3 份"), "{}", p.body);
    for id in &ids {
        assert_eq!(status(&station, *id), "draft");
    }
    let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let done = b.submit(
        "/policies/collect",
        "/policies/collect/confirm",
        &[("ids", &joined), ("collected_on", "2012-03-10")],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("已登记收费 3 份"), "{}", done.body);
    for id in &ids {
        assert_eq!(status(&station, *id), "collected");
    }
    assert_eq!(status(&station, other), "draft");

    // Hostile forms: a box that is not a number, ids that are not numbers,
    // no token; another township's station; nothing written.
    let audit_before = count(&mut app.conn(), "audit_log");
    let bad = b.submit(
        "/policies/collect",
        "/policies/collect/preview",
        &[("p12x", "1"), ("collected_on", "2012-03-10")],
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("保单编号无效"), "{}", bad.body);
    let other_s = other.to_string();
    let bad = b.submit(
        "/policies/collect",
        "/policies/collect/confirm",
        &[
            ("ids", &format!("{other_s},abc")),
            ("collected_on", "2012-03-10"),
        ],
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    let r = b.post(
        "/policies/collect/confirm",
        &[("ids", &other_s), ("collected_on", "2012-03-10")],
    );
    assert_eq!(r.status / 100, 4, "{}", r.body);
    let s = app.browser();
    s.login("station_b");
    let r = s.submit(
        "/policies/collect",
        "/policies/collect/confirm",
        &[("ids", &other_s), ("collected_on", "2012-03-10")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("不属于您所在的乡镇"), "{}", r.body);
    assert_eq!(status(&station, other), "draft");
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);
    // The underwriter has no collect page.
    let u = app.browser();
    u.login("underwriter");
    assert_eq!(u.get("/policies/collect").status, 403);
}

/// The queue's "all matching" by village, the batches page's hand-over
/// from a selection and the finance page's request from a selection:
/// each previewed on its page, then confirmed.
#[test]
fn queue_batches_and_requests_pages_work_on_all_matching() {
    let app = spawn_app();
    let station = app.api("station_a");
    let ids: Vec<i64> = (0..3)
        .map(|i| {
            draft(
                &station,
                &format!("页面签发{i}"),
                140 + i,
                VILLAGE_A1,
                "1.00",
            )
        })
        .collect();
    for id in &ids {
        collect_one(&station, *id);
    }
    crate::helpers::notices::enrollment_notice_ended(&app, VILLAGE_A1);
    let village = area_id(&app, VILLAGE_A1).to_string();
    let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");

    // 保费交付: the station hands over all matching in one batch.
    let s = app.browser();
    s.login("station_a");
    let page = s.get(&format!("/batches?village={village}&page_size=2"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("共 3 份"), "{}", page.body);
    let p = s.submit(
        "/batches",
        "/batches/preview",
        &[
            ("all", "1"),
            ("village", &village),
            ("receipt_no", "PG-1"),
            ("handed_over_on", "2012-03-20"),
        ],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("将交付 3 份"), "{}", p.body);
    assert_eq!(count(&mut app.conn(), "premium_batches"), 0);
    let done = s.submit(
        "/batches",
        "/batches/confirm",
        &[
            ("ids", &joined),
            ("receipt_no", "PG-1"),
            ("handed_over_on", "2012-03-20"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(count(&mut app.conn(), "premium_batches"), 1);

    // 待签发: the underwriter issues all matching of the village.
    let u = app.browser();
    u.login("underwriter");
    let q = u.get(&format!("/policies/queue?village={village}"));
    assert_eq!(q.status, 200, "{}", q.body);
    let p = u.submit(
        "/policies/queue",
        "/policies/queue/preview",
        &[("all", "1"), ("village", &village)],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("确认签发 3 份"), "{}", p.body);
    let done = u.submit(
        "/policies/queue",
        "/policies/queue/issue",
        &[("ids", &joined)],
    );
    assert!(done.body.contains("已签发 3 份"), "{}", done.body);

    // 补贴申请: the underwriter requests the subsidy of all matching.
    let p = u.submit(
        "/finance/requests",
        "/finance/requests/preview",
        &[("all", "1"), ("village", &village), ("request_no", "PG-R1")],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("可补贴 3 份"), "{}", p.body);
    assert_eq!(count(&mut app.conn(), "subsidy_requests"), 0);
    let done = u.submit(
        "/finance/requests",
        "/finance/requests/confirm",
        &[("ids", &joined), ("request_no", "PG-R1")],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(count(&mut app.conn(), "subsidy_requests"), 1);
    // Pasting numbers still works beside the list.
    let page = u.get("/finance/requests");
    assert!(page.body.contains("name=\"policy_nos\""), "{}", page.body);
}
