//! Schemes are data: an administrator adds a crop without code changes.
//! Areas and targets are managed through the API.

use crate::helpers::*;
use serde_json::{json, Value};

const APPLE: &str = include_str!("../../fixtures/schemes/apple-2013.json");

#[test]
fn admin_adds_a_scheme_for_another_crop_and_its_rules_apply() {
    let app = spawn_app();
    let apple: Value = serde_json::from_str(APPLE).unwrap();
    assert_eq!(
        app.api("station_a")
            .post("/api/v1/schemes", apple.clone())
            .status,
        403
    );
    let admin = app.api("admin");
    let r = admin.post("/api/v1/schemes", apple.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        admin.post("/api/v1/schemes", apple).code(),
        "scheme_code_taken"
    );
    let list = admin.get("/api/v1/schemes").body;
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["apple-2013", "walnut-2012"]);

    // 1.5 mu of apple: 180.00 premium = 45.00 grower + 135.00 subsidy (35:25:15).
    let q = admin
        .get("/api/v1/quote?scheme=apple-2013&variety=富士&mu=1.5")
        .body;
    assert_eq!(
        (
            q["premium"].as_str(),
            q["grower_share"].as_str(),
            q["subsidy"].as_str()
        ),
        (Some("180.00"), Some("45.00"), Some("135.00"))
    );
    let parts: Vec<&str> = q["subsidy_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(parts, ["63.00", "45.00", "27.00"]);

    // A 2013 grower's apple plot is judged by the apple rules, including an
    // attribute the walnut scheme never had.
    let station = app.api("station_a");
    let r = station.post("/api/v1/growers", json!({"year": 2013, "name": "苹果户", "id_number": id_number("19700101", 1),
        "phone": "13800000000", "bank_account": "6228480000000000001", "village_code": app.seed.village_a1}));
    assert_eq!(r.status, 201, "{}", r.body);
    let g = r.body["id"].as_i64().unwrap();
    let plot = |attrs: Value| {
        station.post("/api/v1/plots", json!({"grower_id": g, "scheme": "apple-2013", "variety": "fuji",
        "tree_age": 6, "tree_count": 40, "fruit_per_tree": 100, "area_mu": "1.5", "attributes": attrs}))
    };
    let r = plot(json!({}));
    assert_eq!(r.body["eligible"], false);
    assert_eq!(r.body["reasons"][0]["code"], "slope_degrees_missing");
    let r = plot(json!({"slope_degrees": "30"}));
    assert_eq!(r.body["reasons"][0]["message"], "坡度超过25度");
    let r = plot(json!({"slope_degrees": 25}));
    assert_eq!(r.body["eligible"], true, "{}", r.body);
    // A walnut plot for a 2013 grower is refused: the years don't match.
    let r = station.post(
        "/api/v1/plots",
        json!({"grower_id": g, "scheme": "walnut-2012", "variety": "early",
        "tree_age": 6, "tree_count": 40, "fruit_per_tree": 300, "area_mu": "1"}),
    );
    assert_eq!(r.body["fields"][0]["code"], "scheme_year_mismatch");
}

#[test]
fn invalid_scheme_definitions_are_refused_with_every_problem() {
    let app = spawn_app();
    let admin = app.api("admin");
    let mut bad: Value = serde_json::from_str(APPLE).unwrap();
    bad["code"] = json!("pear 2013");
    bad["grower_share_per_mu"] = json!("130.00");
    bad["subsidy_levels"][0]["level"] = json!("village");
    let r = admin.post("/api/v1/schemes", bad);
    assert_eq!(r.status, 422);
    let codes: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for c in [
        "scheme_code_invalid",
        "scheme_grower_share_invalid",
        "scheme_level_unknown",
    ] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    let mut float_money: Value = serde_json::from_str(APPLE).unwrap();
    float_money["premium_per_mu"] = json!("120.005");
    assert_eq!(
        admin.post("/api/v1/schemes", float_money).code(),
        "validation_failed"
    );
    assert_eq!(count(&mut app.conn(), "schemes"), 1);
}

#[test]
fn scheme_page_lets_an_admin_paste_a_definition() {
    let app = spawn_app();
    let b = app.browser();
    b.login("admin");
    let p = b.submit("/schemes", "/schemes", &[("definition", "{\"code\": 1}")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("方案定义不是有效的JSON"));
    let p = b.submit("/schemes", "/schemes", &[("definition", APPLE)]);
    assert_eq!(p.status, 303);
    let page = b.get("/schemes/apple-2013").body;
    assert!(
        page.contains("红富士") && page.contains("坡度 ≤ 25度"),
        "{page}"
    );
    let walnut = b.get("/schemes/walnut-2012").body;
    assert!(walnut.contains("树龄 ≥ 5年") && walnut.contains("政府行蓄洪"));
}

#[test]
fn areas_and_targets_are_managed_by_the_right_roles() {
    let app = spawn_app();
    let admin = app.api("admin");
    let r = admin.post("/api/v1/areas", json!({"code": "532999101203", "name": "新村", "level": "village", "parent_code": TOWNSHIP_A}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(admin.post("/api/v1/areas", json!({"code": "532999101203", "name": "重复", "level": "village", "parent_code": TOWNSHIP_A})).code(), "area_code_taken");
    let r = admin.post(
        "/api/v1/areas",
        json!({"code": "x", "name": "", "level": "hamlet"}),
    );
    let codes: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "area_code_invalid",
            "area_name_required",
            "area_level_invalid"
        ]
    );
    assert_eq!(
        app.api("station_a")
            .post(
                "/api/v1/areas",
                json!({"code": "1", "name": "x", "level": "county"})
            )
            .status,
        403
    );
    let villages = app
        .api("station_a")
        .get(&format!("/api/v1/townships/{TOWNSHIP_A}/villages"))
        .body;
    assert_eq!(villages.as_array().unwrap().len(), 3);

    let forestry = app.api("forestry");
    let r = forestry.put(
        &format!("/api/v1/townships/{TOWNSHIP_A}/target"),
        json!({"target_mu": "1250.5"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let towns = forestry.get("/api/v1/townships").body;
    assert_eq!(towns[0]["target_mu"], "1250.50");
    assert_eq!(
        app.api("station_a")
            .put(
                &format!("/api/v1/townships/{TOWNSHIP_A}/target"),
                json!({"target_mu": "1"})
            )
            .status,
        403
    );
    assert_eq!(
        forestry
            .put(
                &format!("/api/v1/townships/{TOWNSHIP_A}/target"),
                json!({"target_mu": "-1"})
            )
            .code(),
        "validation_failed"
    );
}

#[test]
fn progress_counts_insured_mu_against_the_target() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("进度").create(&a);
    PlotBuilder::new(g).mu("12.5").create(&a);
    PlotBuilder::new(g).tree_age(2).mu("7").create(&a);
    let towns = app.api("forestry").get("/api/v1/townships").body;
    let t = &towns[0];
    assert_eq!(t["name"], "甲镇");
    assert_eq!(t["target_mu"], "100.00");
    assert_eq!(t["insured_mu"], "12.50");
    assert_eq!(t["eligible_mu"], "12.50");
    assert_eq!(t["plots"], 2);
    assert_eq!(t["eligible_plots"], 1);
    assert_eq!(t["progress_percent"], "12.5");
    assert_eq!(towns[1]["insured_mu"], "0.00");
}
