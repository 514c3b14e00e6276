//! Issue 14 items 3 and 7: collection dates inside the scheme's season (and
//! their correction), amounts typed with thousands separators, the
//! confirmation step of the finance and policy actions, and times shown in
//! China time on the pages.

use crate::helpers::*;
use serde_json::json;

/// A grower with one eligible plot of `mu` in village 一村 and the id of its
/// draft policy.
fn draft(app: &TestApp, seq: u32, mu: &str) -> i64 {
    let station = app.api("station_a");
    let g = GrowerBuilder::new(&format!("收费户{seq}"))
        .seq(seq)
        .create(&station);
    let r = PlotBuilder::new(g).mu(mu).create(&station);
    assert_eq!(r.status, 201, "{}", r.body);
    station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap()
}

fn actions(app: &TestApp, pid: i64) -> Vec<String> {
    app.api("admin")
        .get(&format!("/api/v1/audit?entity=policy&entity_id={pid}"))
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn collection_dates_outside_the_season_are_refused_and_a_wrong_one_corrected() {
    // The walnut 2012 scheme: collection from 2012-01-01 to the term end
    // 2012-10-31; the clock stands inside the season.
    let app = spawn_app_at("2012-06-12 10:00");
    let pid = draft(&app, 1, "3.37");
    let station = app.api("station_a");
    let path = format!("/api/v1/policies/{pid}/collect");
    for (date, range) in [
        ("2026-03-01", None),
        ("2011-12-31", Some("2012-01-01至2012-06-12")),
    ] {
        let r = station.post(&path, json!({ "collected_on": date }));
        assert_eq!(r.status, 422, "{date}: {}", r.body);
        let code = r.body["fields"][0]["code"].as_str().unwrap();
        let message = r.body["fields"][0]["message"].as_str().unwrap();
        match range {
            Some(range) => {
                assert_eq!(code, "collection_out_of_season", "{}", r.body);
                assert!(message.contains(range), "{message}");
            }
            // After today: the "not after today" rule speaks first.
            None => assert_eq!(code, "date_in_future", "{}", r.body),
        }
    }
    assert_eq!(
        station.get(&format!("/api/v1/policies/{pid}")).body["status"],
        "draft"
    );
    // After the term end: refused with the whole range named.
    app.clock.set(china_time("2012-12-20 10:00"));
    // Six months on: a new token.
    let station = app.api("station_a");
    let r = station.post(&path, json!({ "collected_on": "2012-11-02" }));
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "collection_out_of_season");
    assert!(
        r.body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("收费日期须在2012-01-01至2012-10-31之间"),
        "{}",
        r.body
    );
    // The page form says the same beside the field, and writes nothing.
    let br = app.browser();
    br.login("station_a");
    let page = format!("/policies/{pid}");
    let form = br.get(&page).body;
    assert!(
        form.contains("收费日期须在2012-01-01至2012-10-31之间"),
        "{form}"
    );
    let p = br.submit(
        &page,
        &format!("/policies/{pid}/collect"),
        &[("collected_on", "2012-11-02")],
    );
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("data-form-errors"));
    assert!(p.body.contains("收费日期须在2012-01-01至2012-10-31之间"));
    assert!(p.body.contains("value=\"2012-11-02\""));
    // A date inside the season, by mistake the wrong one.
    let r = station.post(&path, json!({ "collected_on": "2012-10-30" }));
    assert_eq!(r.status, 200, "{}", r.body);
    // Correction: same rule, only while collected and not issued.
    let fix = format!("/api/v1/policies/{pid}/collection-date");
    let r = station.post(&fix, json!({ "collected_on": "2013-01-05" }));
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "date_in_future");
    let r = station.post(&fix, json!({ "collected_on": "2012-11-01" }));
    assert_eq!(r.body["fields"][0]["code"], "collection_out_of_season");
    assert_eq!(
        app.api("underwriter")
            .post(&fix, json!({ "collected_on": "2012-03-10" }))
            .status,
        403
    );
    let r = station.post(&fix, json!({ "collected_on": "2012-03-10" }));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["share_collected_on"], "2012-03-10");
    assert_eq!(r.body["status"], "collected");
    // Through the page as well.
    let p = br.submit(
        &page,
        &format!("/policies/{pid}/correct-collection"),
        &[("collected_on", "2012/3/11")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        station.get(&format!("/api/v1/policies/{pid}")).body["share_collected_on"],
        "2012-03-11"
    );
    assert_eq!(
        actions(&app, pid),
        [
            "correct_collection",
            "correct_collection",
            "collect",
            "create"
        ]
    );
    // Once issued, the date stays.
    notices::notice_for_policy(&app, pid);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["cover_start"], "2012-04-01");
    let r = station.post(&fix, json!({ "collected_on": "2012-03-12" }));
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "policy_not_collected");
}

#[test]
fn amounts_and_areas_with_thousands_separators_are_read_on_every_path() {
    let app = spawn_app();
    let station = app.api("station_a");
    // API JSON: an area as a string with separators.
    let pid = draft(&app, 2, "1,000.25");
    let p = station.get(&format!("/api/v1/policies/{pid}")).body;
    assert_eq!(p["insured_mu"], "1000.25", "{p}");
    // A page form: the plot form, full-width separators too.
    let g = GrowerBuilder::new("表单户").seq(3).create(&station);
    let br = app.browser();
    br.login("station_a");
    let gid = g.to_string();
    let p = br.submit(
        &format!("/growers/{g}/plots/new"),
        "/plots",
        &[
            ("grower_id", &gid),
            ("scheme", "walnut-2012"),
            ("variety", "late"),
            ("tree_age", "9"),
            ("tree_count", "30"),
            ("fruit_per_tree", "300"),
            ("area_mu", "１，２００．５"),
            ("village_code", VILLAGE_A1),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let plots = station.get(&format!("/api/v1/growers/{g}")).body;
    assert!(plots.to_string().contains("1200.5"), "{plots}");
    // Wrong groups are refused with their own code.
    for bad in ["1,00.0", "1,,000"] {
        let r = PlotBuilder::new(g).mu(bad).create(&station);
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body.to_string().contains("千位分隔符"), "{}", r.body);
    }
    // Money: the 1000-mu policy issued, then its subsidy paid through the
    // finance page and the API with "1,000.00".
    let r = station.post(
        &format!("/api/v1/policies/{pid}/collect"),
        json!({ "collected_on": "2012-03-10" }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    notices::notice_for_policy(&app, pid);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{pid}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let fin = app.browser();
    fin.login("finance");
    let form = [
        ("scheme", "walnut-2012"),
        ("township_code", TOWNSHIP_A),
        ("level", "provincial"),
        ("amount", "1,000.00"),
        ("paid_on", "2012-05-02"),
        ("voucher_no", "PZ-1000"),
        ("note", ""),
    ];
    let p = fin.submit("/finance", "/finance/disbursements", &form);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("确认登记拨付") && p.body.contains("1000.00"));
    let mut confirmed = form.to_vec();
    confirmed.push(("confirm", "1"));
    let p = fin.submit("/finance", "/finance/disbursements", &confirmed);
    assert_eq!(p.status, 303, "{}", p.body);
    let r = app.api("finance").post(
        "/api/v1/finance/disbursements",
        json!({"scheme": "walnut-2012", "township_code": TOWNSHIP_A, "level": "provincial",
               "amount": "2,000.00", "paid_on": "2012-05-03", "voucher_no": "PZ-2000"}),
    );
    assert!(r.status < 300, "{}", r.body);
    let paid: Vec<String> = app
        .api("finance")
        .get("/api/v1/finance/disbursements")
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["amount"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paid.len(), 2, "{paid:?}");
    assert!(paid.contains(&"1000.00".to_string()) && paid.contains(&"2000.00".to_string()));
}

/// One issued and one collected policy in 甲镇.
fn two_policies(app: &TestApp) -> (i64, i64) {
    let station = app.api("station_a");
    let issued = draft(app, 11, "3.37");
    let collected = draft(app, 12, "2.5");
    for pid in [issued, collected] {
        let r = station.post(
            &format!("/api/v1/policies/{pid}/collect"),
            json!({ "collected_on": "2012-03-10" }),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    notices::notice_for_policy(app, issued);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{issued}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    (issued, collected)
}

#[test]
fn money_and_cancel_forms_write_nothing_until_confirmed() {
    let app = spawn_app();
    let (issued, collected) = two_policies(&app);
    let audit_rows = || count(&mut app.conn(), "audit_log");

    // Cancel: the first post shows what will happen.
    let uw = app.browser();
    uw.login("underwriter");
    let page = format!("/policies/{collected}");
    let before = audit_rows();
    let p = uw.submit(&page, &format!("/policies/{collected}/cancel"), &[]);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("确认注销") && p.body.contains("收费户12"));
    assert!(p.body.contains("name=\"confirm\" value=\"1\""));
    assert_eq!(audit_rows(), before);
    assert_eq!(
        app.api("underwriter")
            .get(&format!("/api/v1/policies/{collected}"))
            .body["status"],
        "collected"
    );

    // Premium handover: a preview with the count and the amount.
    let station = app.browser();
    station.login("station_a");
    let form = [("receipt_no", "SJ-77"), ("handed_over_on", "2012-03-31")];
    let p = station.submit("/batches", "/batches", &form);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("确认交付") && p.body.contains("2份已收费保单"),
        "{}",
        p.body
    );
    assert_eq!(count(&mut app.conn(), "premium_batches"), 0);
    assert_eq!(audit_rows(), before);
    let mut yes = form.to_vec();
    yes.push(("confirm", "1"));
    let p = station.submit("/batches", "/batches", &yes);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "premium_batches"), 1);

    // Sign-off: who signs, how many policies, how much subsidy.
    let fin = app.browser();
    fin.login("finance");
    let before = audit_rows();
    let lock = [
        ("scheme", "walnut-2012"),
        ("signed_off_by", "王五"),
        ("note", ""),
    ];
    let p = fin.submit("/finance", "/finance/lock", &lock);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("确认签字锁定") && p.body.contains("王五"));
    assert_eq!(count(&mut app.conn(), "subsidy_statements"), 0);
    assert_eq!(audit_rows(), before);

    // Payment: refused in preview next to its form, nothing written.
    let pay = [
        ("scheme", "walnut-2012"),
        ("township_code", TOWNSHIP_A),
        ("level", "provincial"),
        ("amount", "1.00"),
        ("paid_on", "2012-05-02"),
        ("voucher_no", "PZ-1"),
        ("note", ""),
    ];
    let p = fin.submit("/finance", "/finance/disbursements", &pay);
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "subsidy_disbursements"), 0);
    let mut too_much = pay.to_vec();
    too_much[3] = ("amount", "99,999.00");
    too_much.push(("confirm", "1"));
    let p = fin.submit("/finance", "/finance/disbursements", &too_much);
    assert_eq!(p.status, 409, "{}", p.body);
    let form_at = p.body.find("id=\"disbursement-form\"").unwrap();
    let error_at = p.body.rfind("data-form-errors").unwrap();
    assert!(error_at > form_at, "the error is inside the payment form");
    assert!(p
        .body
        .contains("action=\"/finance/disbursements#disbursement-form\""));
    assert_eq!(count(&mut app.conn(), "subsidy_disbursements"), 0);

    // Confirmed: written.
    let mut yes = lock.to_vec();
    yes.push(("confirm", "1"));
    let p = fin.submit("/finance", "/finance/lock", &yes);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "subsidy_statements"), 1);

    // An adjustment to the signed-off statement: the same two steps.
    let adjust = [
        ("scheme", "walnut-2012"),
        ("township_code", TOWNSHIP_A),
        ("level", "provincial"),
        ("amount", "-1.00"),
        ("reason", "核减一户面积"),
    ];
    let before = audit_rows();
    let p = fin.submit("/finance", "/finance/adjustments", &adjust);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("确认录入调整分录") && p.body.contains("核减一户面积"),
        "{}",
        p.body
    );
    assert_eq!(count(&mut app.conn(), "subsidy_adjustments"), 0);
    assert_eq!(audit_rows(), before);
    let mut yes = adjust.to_vec();
    yes.push(("confirm", "1"));
    let p = fin.submit("/finance", "/finance/adjustments", &yes);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "subsidy_adjustments"), 1);
    let p = uw.submit(
        &page,
        &format!("/policies/{collected}/cancel"),
        &[("confirm", "1")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        app.api("underwriter")
            .get(&format!("/api/v1/policies/{collected}"))
            .body["status"],
        "cancelled"
    );
    let _ = issued;
}

/// "2026-11-29T17:35:21Z" or "2026-11-29T17:35" anywhere in a page.
fn iso_time(body: &str) -> Option<String> {
    let chars: Vec<char> = body.chars().collect();
    chars.windows(16).find_map(|w| {
        let d = |i: usize| w[i].is_ascii_digit();
        let iso = (0..4).all(d)
            && w[4] == '-'
            && d(5)
            && d(6)
            && w[7] == '-'
            && d(8)
            && d(9)
            && w[10] == 'T'
            && d(11)
            && d(12)
            && w[13] == ':'
            && d(14)
            && d(15);
        iso.then(|| w.iter().collect())
    })
}

#[test]
fn pages_show_stored_times_in_china_time() {
    let app = spawn_app();
    let (issued, _) = two_policies(&app);
    let fin = app.api("finance");
    let r = fin.post(
        "/api/v1/finance/statement/lock",
        json!({"scheme": "walnut-2012", "signed_off_by": "王五", "note": ""}),
    );
    assert!(r.status < 300, "{}", r.body);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{issued}/cancel"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    // The API keeps RFC 3339.
    let adj = fin
        .get("/api/v1/finance/adjustments?scheme=walnut-2012")
        .body;
    assert!(adj.to_string().contains('T'), "{adj}");
    let admin = app.browser();
    admin.login("admin");
    let finance = app.browser();
    finance.login("finance");
    let station = app.browser();
    station.login("station_a");
    for (br, page) in [
        (&admin, "/audit".to_string()),
        (&finance, "/finance?scheme=walnut-2012".to_string()),
        (&admin, format!("/policies/{issued}")),
        (&admin, "/notices".to_string()),
        (&station, "/batches".to_string()),
    ] {
        let p = br.get(&page);
        assert_eq!(p.status, 200, "{page}");
        assert_eq!(iso_time(&p.body), None, "{page}");
    }
    // The lock time is shown as China time, to the minute.
    let body = finance.get("/finance?scheme=walnut-2012").body;
    let today = guobao::app::clock::display(chrono::Utc::now());
    assert!(
        body.contains(&format!("已签字锁定</span> {}", &today[..10])),
        "the lock time in China time ({today}) on the finance page"
    );
}
