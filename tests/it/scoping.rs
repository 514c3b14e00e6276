//! Area and role scoping: a station sees its own township only; personal data
//! is masked in lists and for roles that don't need it.

use crate::helpers::*;
use serde_json::json;

#[test]
fn station_cannot_see_or_touch_another_townships_data() {
    let app = spawn_app();
    let a = app.api("station_a");
    let b = app.api("station_b");
    let ga = GrowerBuilder::new("甲户").create(&a);
    let pa = PlotBuilder::new(ga).mu("2").create(&a).body["id"]
        .as_i64()
        .unwrap();
    let gb = GrowerBuilder::new("乙户")
        .seq(2)
        .village(&app.seed.village_b1)
        .create(&b);

    // Reads: 404, never the data.
    for path in [
        format!("/api/v1/growers/{ga}"),
        format!("/api/v1/plots/{pa}"),
    ] {
        let r = b.get(&path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.to_string().contains("甲户"));
    }
    let policy = a.get(&format!("/api/v1/growers/{ga}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(b.get(&format!("/api/v1/policies/{policy}")).status, 404);
    // Writes: refused, nothing changed.
    let r = b.put(&format!("/api/v1/growers/{ga}"), json!({"name": "改名", "id_number": id_number("19700101", 1),
        "phone": "13800000000", "bank_account": "6228480000000000001", "village_code": app.seed.village_a1}));
    assert_eq!(r.status, 404);
    assert_eq!(b.delete(&format!("/api/v1/plots/{pa}")).status, 404);
    assert_eq!(
        b.post(
            &format!("/api/v1/policies/{policy}/collect"),
            json!({"collected_on": "2012-03-05"})
        )
        .status,
        404
    );
    assert_eq!(
        a.get(&format!("/api/v1/growers/{ga}")).body["grower"]["name"],
        "甲户"
    );
    assert_eq!(count(&mut app.conn(), "plots"), 1);

    // Lists are filtered to the township.
    let list = b.get("/api/v1/growers").body;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], gb);
    let towns = b.get("/api/v1/townships").body;
    assert_eq!(towns.as_array().unwrap().len(), 1);
    assert_eq!(towns[0]["name"], "乙乡");
    assert_eq!(
        b.get(&format!("/api/v1/townships/{TOWNSHIP_A}/villages"))
            .status,
        404
    );

    // The county forestry bureau sees every township.
    let f = app.api("forestry");
    assert_eq!(f.get("/api/v1/growers").body["total"], 2);
    assert_eq!(f.get("/api/v1/townships").body.as_array().unwrap().len(), 2);
}

#[test]
fn personal_data_is_masked_in_lists_and_for_roles_that_do_not_need_it() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("掩码").seq(3).create(&a);
    PlotBuilder::new(g).mu("2").create(&a);
    let full = id_number("19700101", 3);
    let masked = format!("{}**********{}", &full[..4], &full[14..]);

    let list = a.get("/api/v1/growers").body;
    assert_eq!(list["items"][0]["id_number"], masked.as_str());
    assert_eq!(list["items"][0]["phone"], "138****0000");
    assert_eq!(
        a.get(&format!("/api/v1/growers/{g}")).body["grower"]["id_number"],
        full.as_str()
    );

    for role in ["finance", "adjuster"] {
        let api = app.api(role);
        let d = api.get(&format!("/api/v1/growers/{g}")).body;
        assert_eq!(d["grower"]["id_number"], masked.as_str(), "{role}");
        assert!(
            !d.to_string().contains(&full),
            "{role} sees the full number"
        );
        let pl = api.get("/api/v1/policies").body;
        assert_eq!(pl["items"][0]["grower_id_number"], masked.as_str());
    }
    assert_eq!(
        app.api("underwriter")
            .get(&format!("/api/v1/growers/{g}"))
            .body["grower"]["id_number"],
        full.as_str()
    );
}

#[test]
fn roles_may_only_do_their_own_work() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("角色").seq(4).create(&a);
    let body = json!({"name": "财政", "id_number": id_number("19700101", 5), "phone": "13800000000",
        "bank_account": "6228480000000000001", "village_code": app.seed.village_a1});
    for role in ["finance", "adjuster", "underwriter"] {
        let r = app.api(role).post("/api/v1/growers", body.clone());
        assert_eq!(r.status, 403, "{role}");
        assert_eq!(r.code(), "forbidden");
    }
    let r = PlotBuilder::new(g).create(&app.api("finance"));
    assert_eq!(r.status, 403);
    assert_eq!(count(&mut app.conn(), "growers"), 1);
    assert_eq!(count(&mut app.conn(), "plots"), 0);
}

#[test]
fn api_needs_a_valid_token() {
    let app = spawn_app();
    let client = reqwest::blocking::Client::new();
    let r = client
        .get(format!("{}/api/v1/growers", app.address))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["error"], "unauthenticated");
    let r = client
        .get(format!("{}/api/v1/growers", app.address))
        .bearer_auth("forged")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = client
        .post(format!("{}/api/v1/session", app.address))
        .json(&json!({"username": "station_a", "password": "wrong-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(
        (v["error"].as_str(), v["message"].as_str()),
        (Some("login_failed"), Some("用户名或密码错误"))
    );
    // Malformed JSON gets a stable code too.
    let r = app.api("station_a");
    let resp = client
        .post(format!("{}/api/v1/growers", app.address))
        .bearer_auth(&r.token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let v: serde_json::Value = resp.json().unwrap();
    assert_eq!(v["error"], "validation_failed");
    assert_eq!(v["fields"][0]["code"], "json_invalid");
}

/// README, "Identity numbers": in full only on detail pages, and there only to
/// admin, county forestry, the township station and the underwriter; the
/// adjuster and finance get the masked number; every list masks it.
#[test]
fn detail_pages_show_the_full_id_number_only_to_the_roles_that_may_see_it() {
    use crate::helpers::claims::{dispatch, insured, report};
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "证件户", 7, true);
    let uw = app.api("underwriter");
    let claim = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(dispatch(&uw, claim).status, 200);
    let grower = uw.get(&format!("/api/v1/policies/{}", ins.policy_id)).body["grower_id"]
        .as_i64()
        .unwrap();
    let full = id_number("19700101", 7);
    let masked = format!("{}**********{}", &full[..4], &full[14..]);
    let details = [
        format!("/growers/{grower}"),
        format!("/policies/{}", ins.policy_id),
        format!("/claims/{claim}"),
    ];
    for (role, sees_full) in [
        ("admin", true),
        ("forestry", true),
        ("station_a", true),
        ("underwriter", true),
        ("adjuster", false),
        ("finance", false),
    ] {
        let br = app.browser();
        br.login(role);
        let mut opened = Vec::new();
        for path in &details {
            let p = br.get(path);
            if p.status == 403 || p.status == 404 {
                continue;
            }
            assert_eq!(p.status, 200, "{role} {path}");
            // A policy shows its insured's number masked to every role (the
            // full number is one click away, on the grower's page).
            let full_here = sees_full && !path.starts_with("/policies/");
            let shown = if full_here { &full } else { &masked };
            assert!(p.body.contains(shown.as_str()), "{role} {path}: {shown}");
            if !full_here {
                assert!(
                    !p.body.contains(&full),
                    "{role} {path} shows the full number"
                );
            }
            opened.push(path.as_str());
        }
        // Every role here may open the grower's page; the ones that may see
        // the full number open every detail page.
        assert!(opened.contains(&details[0].as_str()), "{role}: {opened:?}");
        if sees_full {
            assert_eq!(opened.len(), details.len(), "{role}: {opened:?}");
        }
        for list in ["/growers", "/policies"] {
            let p = br.get(list);
            if p.status != 200 {
                continue;
            }
            assert!(
                !p.body.contains(&full),
                "{role} {list} shows the full number"
            );
            assert!(p.body.contains(&masked), "{role} {list}");
        }
    }
}

/// The bearer token is checked against the database on every request, in
/// the same call as the use case (nothing is cached): closing the account or
/// the token's expiry takes effect on the very next request, for a list, the
/// claims board and a write alike; another account's token keeps working.
#[test]
fn a_token_stops_working_at_once_when_its_account_is_closed_or_it_expires() {
    use diesel::prelude::*;
    use guobao::db::schema::{api_tokens, users};
    let app = spawn_app();
    let desk = app.api("underwriter");
    let station = app.api("station_a");
    for path in [
        "/api/v1/growers",
        "/api/v1/claims/board",
        "/api/v1/policies",
    ] {
        assert_eq!(desk.get(path).status, 200, "{path}");
    }
    assert_eq!(station.get("/api/v1/growers").status, 200);

    let mut c = app.conn();
    diesel::update(users::table.filter(users::username.eq("underwriter")))
        .set(users::active.eq(false))
        .execute(&mut c)
        .unwrap();
    for path in [
        "/api/v1/growers",
        "/api/v1/claims/board",
        "/api/v1/policies",
    ] {
        let r = desk.get(path);
        assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{path}");
    }
    let r = desk.post("/api/v1/growers", json!({"name": "农户"}));
    assert_eq!(
        (r.status, r.code()),
        (401, "unauthenticated"),
        "{:?}",
        r.body
    );
    assert_eq!(station.get("/api/v1/growers").status, 200);

    // Back in service: the same token works again, until it expires.
    diesel::update(users::table.filter(users::username.eq("underwriter")))
        .set(users::active.eq(true))
        .execute(&mut c)
        .unwrap();
    assert_eq!(desk.get("/api/v1/claims/board").status, 200);
    diesel::update(api_tokens::table)
        .set(api_tokens::expires_at.eq("2000-01-01T00:00:00Z"))
        .execute(&mut c)
        .unwrap();
    assert_eq!(desk.get("/api/v1/claims/board").status, 401);
    assert_eq!(station.get("/api/v1/growers").status, 401);
}
