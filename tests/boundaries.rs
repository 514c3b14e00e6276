//! Plot boundaries uploaded as GeoJSON, and exported again.

mod common;
use common::*;
use serde_json::{json, Value};

const DX: f64 = 100.0 / 100_380.0;
const DY: f64 = 100.0 / 110_800.0;

/// A square of about 100 m (15 mu) whose south-west corner is (x, y).
fn square(x: f64, y: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x, y], [x + DX, y], [x + DX, y + DY], [x, y + DY], [x, y]]]})
}

fn feature(code: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code}, "geometry": geometry})
}

fn post_geojson(
    app: &TestApp,
    api: &Api,
    township: &str,
    body: &Value,
    dry_run: bool,
) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .post(format!(
            "{}/api/v1/townships/{township}/boundaries{}",
            app.address,
            if dry_run { "?dry_run=1" } else { "" }
        ))
        .bearer_auth(&api.token)
        .header("Content-Type", "application/geo+json")
        .body(body.to_string())
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

#[test]
fn boundaries_are_measured_flagged_and_stored() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = app.grower(&a, "边界户", 1, &app.seed.village_a1);
    let p1 = app.plot(&a, g, "early", 8, 300, "15").body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let p2 = app.plot(&a, g, "early", 8, 300, "10").body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let gb = app.grower(&app.api("station_b"), "乙户", 2, &app.seed.village_b1);
    let other = app
        .plot(&app.api("station_b"), gb, "early", 8, 300, "1")
        .body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let (x, y) = (99.95, 25.65);
    let bow = json!({"type": "Polygon", "coordinates": [[[x, y], [x + DX, y + DY], [x + DX, y], [x, y + DY], [x, y]]]});
    let fc = json!({"type": "FeatureCollection", "features": [
        feature(&p1, square(x, y)),
        // Half a square east: overlaps p1, and 15 mu against 10 declared.
        feature(&p2, square(x + DX / 2.0, y)),
        feature("no-such-plot", square(x + 1.0, y)),
        feature(&other, square(x + 2.0, y)),
        feature(&p1, bow),
    ]});

    let (status, v) = post_geojson(&app, &a, TOWNSHIP_A, &fc, true);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["committed"], false);
    let c = &v["counts"];
    assert_eq!(
        (
            c["features"].as_i64(),
            c["updated"].as_i64(),
            c["not_found"].as_i64(),
            c["invalid"].as_i64()
        ),
        (Some(5), Some(2), Some(2), Some(1)),
        "{v}"
    );
    assert_eq!(c["area_mismatch"], 1);
    assert_eq!(c["overlapping"], 1);
    let f = &v["features"];
    assert_eq!(f[0]["area_mismatch"], false);
    let polygon_mu: f64 = f[0]["polygon_mu"].as_str().unwrap().parse().unwrap();
    assert!((polygon_mu - 15.0).abs() < 0.2, "{polygon_mu}");
    assert_eq!(f[1]["area_mismatch"], true);
    assert_eq!(f[1]["overlaps"], json!([p1]));
    assert_eq!(
        f[3]["outcome"], "not_found",
        "another township's plot is not found"
    );
    assert!(f[4]["message"].as_str().unwrap().contains("自相交"));
    // The dry run wrote nothing.
    let plot1: Value = a.get("/api/v1/plots?page_size=10").body["items"][0].clone();
    assert!(plot1["boundary"].is_null());

    let (_, v) = post_geojson(&app, &a, TOWNSHIP_A, &fc, false);
    assert_eq!(v["committed"], true);
    let items = a.get("/api/v1/plots").body["items"].clone();
    let stored: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["boundary"].is_null())
        .collect();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().any(|p| p["area_mismatch"] == true));
    // Same file again: nothing new.
    let (_, v) = post_geojson(&app, &a, TOWNSHIP_A, &fc, false);
    assert_eq!(v["counts"]["updated"], 0);
    assert_eq!(v["counts"]["unchanged"], 2);

    let r = reqwest::blocking::Client::new()
        .get(format!(
            "{}/api/v1/townships/{TOWNSHIP_A}/plots.geojson",
            app.address
        ))
        .bearer_auth(&a.token)
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let out: Value = r.json().unwrap();
    assert_eq!(out["type"], "FeatureCollection");
    assert_eq!(out["features"].as_array().unwrap().len(), 2);
    assert_eq!(out["features"][0]["properties"]["code"], p1.as_str());
    // Another township's station can't upload here.
    let (status, _) = post_geojson(&app, &app.api("station_b"), TOWNSHIP_A, &fc, false);
    assert_eq!(status, 404);
    let (status, v) = post_geojson(
        &app,
        &a,
        TOWNSHIP_A,
        &json!({"type": "Point", "coordinates": [1, 2]}),
        false,
    );
    assert_eq!(
        (status, v["fields"][0]["code"].as_str()),
        (422, Some("geojson_not_collection"))
    );
}
