//! Growers, plots, eligibility and the policy money through the JSON API.

use crate::helpers::*;
use serde_json::json;

#[test]
fn grower_is_created_validated_and_deduplicated() {
    let app = spawn_app();
    let api = app.api("station_a");
    let id = GrowerBuilder::new("杨建华").seq(11).create(&api);
    let r = api.get(&format!("/api/v1/growers/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["grower"]["name"], "杨建华");
    // The station needs the full number to work with the grower.
    assert_eq!(r.body["grower"]["id_number"], id_number("19700101", 11));
    assert_eq!(r.body["grower"]["township_name"], "甲镇");

    // Every bad field reported at once, nothing written.
    let before = count(&mut app.conn(), "growers");
    let mut wrong_check = id_number("19700101", 12);
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let r = api.post(
        "/api/v1/growers",
        json!({"name": "", "id_number": wrong_check, "phone": "12", "bank_account": "x",
               "village_code": "999"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "validation_failed");
    let codes: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for c in [
        "name_required",
        "id_number_checksum",
        "phone_invalid",
        "bank_account_invalid",
        "village_unknown",
    ] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    assert!(r.body["message"].as_str().unwrap().contains("校验位"));
    assert_eq!(count(&mut app.conn(), "growers"), before);

    // Same ID in the same year: refused, even from another township.
    let api_b = app.api("station_b");
    let r = api_b.post(
        "/api/v1/growers",
        json!({"name": "另一人", "id_number": id_number("19700101", 11), "phone": "13900000000",
               "bank_account": "6228480000000000002", "village_code": app.seed.village_b1}),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "id_number_duplicate");
    assert!(r.body["message"].as_str().unwrap().contains("已登记"));
    assert_eq!(count(&mut app.conn(), "growers"), before);

    // A birth date that doesn't exist.
    let mut bad = String::from("53299919700230001");
    bad.push(guobao::domain::id_number::check_char(&bad).unwrap());
    let r = api.post(
        "/api/v1/growers",
        json!({"name": "某", "id_number": bad, "phone": "13900000000", "bank_account": "6228480000000000002",
               "village_code": app.seed.village_a1}),
    );
    assert_eq!(r.body["fields"][0]["code"], "id_number_birth_date");
}

#[test]
fn station_cannot_enrol_in_another_township() {
    let app = spawn_app();
    let api = app.api("station_a");
    let r = api.post(
        "/api/v1/growers",
        json!({"name": "越界", "id_number": id_number("19800101", 21), "phone": "13900000000",
               "bank_account": "6228480000000000002", "village_code": app.seed.village_b1}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "village_not_in_township");
    assert_eq!(count(&mut app.conn(), "growers"), 0);
}

#[test]
fn eligibility_verdicts_with_reasons_and_inclusive_bounds() {
    let app = spawn_app();
    let api = app.api("station_a");
    let g = GrowerBuilder::new("李四").seq(31).create(&api);
    let cases = [
        ("early", 5, 270, true, vec![]),
        ("early", 4, 270, false, vec!["tree_age_below_min"]),
        ("early", 5, 269, false, vec!["fruit_per_tree_below_min"]),
        ("早实", 6, 271, true, vec![]),
        ("late", 9, 300, false, vec!["tree_age_below_min"]),
        ("晚实核桃", 10, 270, true, vec![]),
        (
            "late",
            9,
            100,
            false,
            vec!["tree_age_below_min", "fruit_per_tree_below_min"],
        ),
    ];
    for (variety, age, fruit, eligible, codes) in cases {
        let r = PlotBuilder::new(g)
            .variety(variety)
            .tree_age(age)
            .fruit_count(fruit)
            .create(&api);
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["eligible"], eligible, "{variety} {age} {fruit}");
        let got: Vec<&str> = r.body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["code"].as_str().unwrap())
            .collect();
        assert_eq!(got, codes, "{variety} {age} {fruit}");
    }
    let r = PlotBuilder::new(g).variety("late").tree_age(9).create(&api);
    assert_eq!(r.body["reasons"][0]["message"], "树龄不足10年");

    // Unknown variety, bad numbers: refused with codes, nothing written.
    let before = count(&mut app.conn(), "plots");
    let r = PlotBuilder::new(g)
        .variety("apple")
        .tree_age(5)
        .mu("-1")
        .create(&api);
    assert_eq!(r.status, 422);
    let codes: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"variety_unknown") && codes.contains(&"area_not_positive"),
        "{codes:?}"
    );
    let r = api.post("/api/v1/plots", json!({"grower_id": g, "variety": "early", "tree_age": "五", "tree_count": 1, "fruit_per_tree": 300, "area_mu": "abc"}));
    let codes: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"tree_age_invalid") && codes.contains(&"area_not_a_number"),
        "{codes:?}"
    );
    assert_eq!(count(&mut app.conn(), "plots"), before);
}

fn policy_of(api: &Api, grower: i64) -> serde_json::Value {
    let r = api.get(&format!("/api/v1/growers/{grower}"));
    r.body["policies"][0].clone()
}

#[test]
fn policy_money_follows_eligible_plots_exactly() {
    let app = spawn_app();
    let api = app.api("station_a");
    let g = GrowerBuilder::new("王五").seq(41).create(&api);
    assert_eq!(PlotBuilder::new(g).mu("3.37").create(&api).status, 201);
    // An ineligible plot adds nothing to the policy.
    assert_eq!(
        PlotBuilder::new(g)
            .variety("late")
            .tree_age(3)
            .mu("5")
            .create(&api)
            .status,
        201
    );
    let p = policy_of(&api, g);
    assert_eq!(p["status"], "draft");
    assert_eq!(p["insured_mu"], "3.37");
    assert_eq!(p["sum_insured"], "3370.00");
    assert_eq!(p["premium"], "269.60");
    assert_eq!(p["grower_share"], "53.92");
    assert_eq!(p["subsidy"], "215.68");
    let levels: Vec<(&str, &str)> = p["subsidy_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["level"].as_str().unwrap(), l["amount"].as_str().unwrap()))
        .collect();
    // 215.68 split 50:10:20 → 134.80, 26.96, 53.92.
    assert_eq!(
        levels,
        vec![
            ("provincial", "134.80"),
            ("city", "26.96"),
            ("county", "53.92")
        ]
    );

    let g2 = GrowerBuilder::new("赵六")
        .seq(42)
        .village(&app.seed.village_a2)
        .create(&api);
    assert_eq!(PlotBuilder::new(g2).mu("0.333").create(&api).status, 201);
    let p = policy_of(&api, g2);
    assert_eq!(
        (
            p["premium"].as_str(),
            p["grower_share"].as_str(),
            p["subsidy"].as_str()
        ),
        (Some("26.64"), Some("5.33"), Some("21.31"))
    );
    let levels: Vec<&str> = p["subsidy_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(levels, vec!["13.32", "2.66", "5.33"]);

    // The list's totals are the sums of its rows.
    let r = api.get("/api/v1/policies");
    assert_eq!(r.body["totals"]["premium"], "296.24");
    assert_eq!(r.body["totals"]["subsidy"], "236.99");
    assert_eq!(r.body["totals"]["insured_mu"], "3.703");

    // Editing a draft's plot re-prices the policy; removing the last eligible plot removes the draft.
    let plot_id = api.get(&format!("/api/v1/growers/{g2}")).body["plots"][0]["id"]
        .as_i64()
        .unwrap();
    let r = api.put(&format!("/api/v1/plots/{plot_id}"), json!({"grower_id": g2, "variety": "early", "tree_age": 8, "tree_count": 30, "fruit_per_tree": 300, "area_mu": "1"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(policy_of(&api, g2)["premium"], "80.00");
    assert_eq!(api.delete(&format!("/api/v1/plots/{plot_id}")).status, 204);
    assert!(policy_of(&api, g2).is_null());
}

#[test]
fn boundary_polygon_area_is_shown_beside_the_declared_area() {
    let app = spawn_app();
    let api = app.api("station_a");
    let g = GrowerBuilder::new("孙七").seq(51).create(&api);
    // About 100 m × 100 m = 15 mu near the demo county.
    let (x0, y0, dx, dy) = (99.95, 25.65, 100.0 / 100_380.0, 100.0 / 110_800.0);
    let ring = json!([
        [x0, y0],
        [x0 + dx, y0],
        [x0 + dx, y0 + dy],
        [x0, y0 + dy],
        [x0, y0]
    ]);
    let boundary = json!({"type": "Polygon", "coordinates": [ring]}).to_string();
    let r = api.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
        "fruit_per_tree": 300, "area_mu": "15", "boundary": boundary}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let measured: f64 = r.body["boundary_area_mu"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((measured - 15.0).abs() < 0.2, "{measured}");
    assert_eq!(r.body["area_mismatch"], false);
    // Declared 10 mu against a 15 mu polygon: flagged beyond the 5% tolerance.
    let r = api.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
        "fruit_per_tree": 300, "area_mu": "10", "boundary": boundary}),
    );
    assert_eq!(r.body["area_mismatch"], true);
    // A self-intersecting ring is refused.
    let bow = json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + dx, y0 + dy], [x0 + dx, y0], [x0, y0 + dy], [x0, y0]]]}).to_string();
    let r = api.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
        "fruit_per_tree": 300, "area_mu": "10", "boundary": bow}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "boundary_self_intersecting");
}

#[test]
fn grower_update_checks_version_and_is_audited() {
    let app = spawn_app();
    let api = app.api("station_a");
    let g = GrowerBuilder::new("周八").seq(61).create(&api);
    let body = |name: &str, version: i32| {
        json!({"name": name, "id_number": id_number("19700101", 61), "phone": "13800000001",
        "bank_account": "6228480000000000009", "village_code": app.seed.village_a2, "version": version})
    };
    let r = api.put(&format!("/api/v1/growers/{g}"), body("周八改", 1));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["village_name"], "二村");
    // A second editor who saw version 1 can't silently overwrite.
    let r = api.put(&format!("/api/v1/growers/{g}"), body("覆盖", 1));
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "version_conflict");

    let audit = app
        .api("admin")
        .get(&format!("/api/v1/audit?entity=grower&entity_id={g}"));
    let rows = audit.body.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["action"], "update");
    assert_eq!(rows[0]["username"], "station_a");
    assert!(rows[0]["before_json"].as_str().unwrap().contains("周八"));
    assert!(rows[0]["after_json"].as_str().unwrap().contains("周八改"));
    assert_eq!(rows[1]["action"], "create");
    // The station itself may not read the audit log.
    assert_eq!(api.get("/api/v1/audit").status, 403);
}

#[test]
fn audit_log_cannot_be_edited_even_in_the_database() {
    use diesel::RunQueryDsl;
    let app = spawn_app();
    let api = app.api("station_a");
    GrowerBuilder::new("吴九").seq(71).create(&api);
    let mut conn = app.conn();
    let n = count(&mut conn, "audit_log");
    assert!(n > 0);
    assert!(diesel::sql_query("UPDATE audit_log SET username = 'x'")
        .execute(&mut conn)
        .is_err());
    assert!(diesel::sql_query("DELETE FROM audit_log")
        .execute(&mut conn)
        .is_err());
    assert_eq!(count(&mut conn, "audit_log"), n);
}

#[test]
fn deleting_a_grower_removes_plots_and_draft_policy() {
    let app = spawn_app();
    let api = app.api("station_a");
    let g = GrowerBuilder::new("郑十").seq(81).create(&api);
    PlotBuilder::new(g).mu("2").create(&api);
    assert_eq!(count(&mut app.conn(), "policies"), 1);
    assert_eq!(api.delete(&format!("/api/v1/growers/{g}")).status, 204);
    let mut c = app.conn();
    assert_eq!(
        (
            count(&mut c, "growers"),
            count(&mut c, "plots"),
            count(&mut c, "policies")
        ),
        (0, 0, 0)
    );
    assert_eq!(api.get(&format!("/api/v1/growers/{g}")).status, 404);
}
