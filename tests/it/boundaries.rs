//! Plot boundaries uploaded as GeoJSON, and exported again.

use crate::helpers::*;
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
    let g = GrowerBuilder::new("边界户").create(&a);
    let p1 = PlotBuilder::new(g).mu("15").create(&a).body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let p2 = PlotBuilder::new(g).mu("10").create(&a).body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let gb = GrowerBuilder::new("乙户")
        .seq(2)
        .village(&app.seed.village_b1)
        .create(&app.api("station_b"));
    let other = PlotBuilder::new(gb).create(&app.api("station_b")).body["code"]
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

/// A closed ring of `n` distinct corners round (x, y), about 100 m across.
fn circle(n: usize, x: f64, y: f64) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let t = i as f64 * std::f64::consts::TAU / n as f64;
            [x + DX / 2.0 * t.cos(), y + DY / 2.0 * t.sin()]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

fn rect(x: f64, y: f64, w: f64, h: f64) -> Vec<[f64; 2]> {
    vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
}

fn polygon(rings: Vec<Vec<[f64; 2]>>) -> Value {
    json!({"type": "Polygon", "coordinates": rings})
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

/// A plot of station A with a stored 15-mu boundary; returns (code, id).
fn plot_with_boundary(app: &TestApp, a: &Api, seq: u32) -> (String, i64) {
    let g = GrowerBuilder::new("边界户").seq(seq).create(a);
    let r = PlotBuilder::new(g).mu("15").create(a);
    let code = r.body["code"].as_str().unwrap().to_string();
    let id = r.body["id"].as_i64().unwrap();
    let fc = collection(vec![feature(&code, square(99.95, 25.65))]);
    let (status, v) = post_geojson(app, a, TOWNSHIP_A, &fc, false);
    assert_eq!((status, &v["counts"]["updated"]), (200, &json!(1)), "{v}");
    (code, id)
}

fn stored(a: &Api, id: i64) -> (Value, Value, Value) {
    let p = a.get(&format!("/api/v1/plots/{id}")).body;
    (
        p["boundary"].clone(),
        p["boundary_area_mu"].clone(),
        p["version"].clone(),
    )
}

fn audit_rows(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    guobao::db::schema::audit_log::table
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[test]
fn wrong_geometry_is_refused_with_the_reason_and_nothing_is_stored() {
    let app = spawn_app();
    let a = app.api("station_a");
    let (code, id) = plot_with_boundary(&app, &a, 1);
    let before = stored(&a, id);
    let audits = audit_rows(&app);
    let (x, y) = (99.95, 25.65);
    let shell = rect(x, y, DX, DY);
    let mut unclosed = shell.clone();
    unclosed.pop();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            polygon(vec![
                shell.clone(),
                rect(x + 3.0 * DX, y, DX / 2.0, DY / 2.0),
            ]),
            "boundary_hole_outside_shell",
            "不在外边界以内",
        ),
        (
            polygon(vec![
                shell.clone(),
                rect(x - DX, y - DY, 3.0 * DX, 3.0 * DY),
            ]),
            "boundary_hole_outside_shell",
            "第1个内洞",
        ),
        (
            polygon(vec![
                shell.clone(),
                rect(x + DX / 2.0, y + DY / 4.0, DX, DY / 2.0),
            ]),
            "boundary_hole_crosses_shell",
            "相交或接触",
        ),
        (
            polygon(vec![vec![
                [179.999, 10.0],
                [-179.999, 10.0],
                [-179.999, 10.001],
                [179.999, 10.001],
                [179.999, 10.0],
            ]]),
            "boundary_antimeridian",
            "180°经线",
        ),
        (
            polygon(vec![rect(-180.0, -90.0, 360.0, 180.0)]),
            "boundary_too_large",
            "范围过大",
        ),
        (
            polygon(vec![vec![[x, y], [x + DX, y], [x + 2.0 * DX, y], [x, y]]]),
            "boundary_degenerate",
            "一条直线",
        ),
        (
            polygon(vec![shell.clone(), rect(x, 1000.0, DX, DY)]),
            "boundary_out_of_range",
            "纬度1000",
        ),
        (polygon(vec![unclosed]), "boundary_not_closed", "没有闭合"),
        (
            polygon(vec![circle(5_000, x, y)]),
            "boundary_too_many_vertices",
            "5001个顶点，超过每块地5000个",
        ),
    ];
    let fc = collection(
        cases
            .iter()
            .map(|(g, _, _)| feature(&code, g.clone()))
            .collect(),
    );
    let (status, v) = post_geojson(&app, &a, TOWNSHIP_A, &fc, false);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["counts"]["invalid"], cases.len(), "{v}");
    assert_eq!(v["counts"]["updated"], 0, "{v}");
    for (i, (_, _, words)) in cases.iter().enumerate() {
        let f = &v["features"][i];
        assert_eq!(f["outcome"], "invalid", "{f}");
        let message = f["message"].as_str().unwrap();
        assert!(message.contains(words), "case {i}: {message}");
        assert!(f["polygon_mu"].is_null(), "{f}");
    }
    assert_eq!(stored(&a, id), before, "no boundary changed");
    assert_eq!(audit_rows(&app), audits);

    // The same shapes on a plot's own boundary field: 422 with the code, nothing written.
    let g = GrowerBuilder::new("单块户").seq(2).create(&a);
    let plots_before = a.get("/api/v1/plots").body["total"].clone();
    for (geometry, wanted, words) in &cases {
        let r = a.post(
            "/api/v1/plots",
            json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 30,
                   "fruit_per_tree": 300, "area_mu": "15", "boundary": geometry.to_string()}),
        );
        assert_eq!(r.status, 422, "{}", r.body);
        let field = &r.body["fields"][0];
        assert_eq!(
            (field["field"].as_str(), field["code"].as_str()),
            (Some("boundary"), Some(*wanted)),
            "{}",
            r.body
        );
        assert!(field["message"].as_str().unwrap().contains(words));
    }
    assert_eq!(a.get("/api/v1/plots").body["total"], plots_before);
}

#[test]
fn holes_and_repeated_corners_are_measured_right() {
    let app = spawn_app();
    let a = app.api("station_a");
    let (code, id) = plot_with_boundary(&app, &a, 1);
    let (x, y) = (99.95, 25.65);
    // A corner given twice in a row is one corner, not a self-intersection.
    let repeated = json!({"type": "Polygon", "coordinates": [[
        [x, y], [x + DX, y], [x + DX, y], [x + DX, y + DY], [x, y + DY], [x, y + DY], [x, y]
    ]]});
    let (status, v) = post_geojson(
        &app,
        &a,
        TOWNSHIP_A,
        &collection(vec![feature(&code, repeated)]),
        false,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["features"][0]["outcome"], "unchanged", "{v}");
    // A 50 m hole (a pond) takes a quarter off.
    let with_hole = polygon(vec![
        rect(x, y, DX, DY),
        rect(x + DX / 4.0, y + DY / 4.0, DX / 2.0, DY / 2.0),
    ]);
    let (status, v) = post_geojson(
        &app,
        &a,
        TOWNSHIP_A,
        &collection(vec![feature(&code, with_hole)]),
        false,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["features"][0]["outcome"], "updated", "{v}");
    let (_, area, _) = stored(&a, id);
    let area: f64 = area.as_str().unwrap().parse().unwrap();
    assert!((area - 15.0 * 0.75).abs() < 0.2, "{area}");
}

#[test]
fn an_upload_over_the_limits_is_refused_whole() {
    let app = spawn_app();
    let a = app.api("station_a");
    let (code, id) = plot_with_boundary(&app, &a, 1);
    let before = stored(&a, id);
    let audits = audit_rows(&app);
    // 41 plots at 4,900 corners: each within the per-plot limit, together
    // over the 200,000 of one upload.
    let features: Vec<Value> = (0..41)
        .map(|i| {
            feature(
                &code,
                polygon(vec![circle(4_900, 99.95 + i as f64 * 0.01, 25.65)]),
            )
        })
        .collect();
    let (status, v) = post_geojson(&app, &a, TOWNSHIP_A, &collection(features), false);
    assert_eq!(status, 422, "{v}");
    let field = &v["fields"][0];
    assert_eq!(field["code"], "geojson_too_many_vertices");
    let message = field["message"].as_str().unwrap();
    assert!(
        message.contains("200941个顶点") && message.contains("200000个"),
        "{message}"
    );
    assert_eq!(stored(&a, id), before);
    assert_eq!(audit_rows(&app), audits);
}

#[test]
fn a_big_upload_does_not_hold_connections_from_other_requests() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let app = spawn_app();
    let a = app.api("station_a");
    let (code, _) = plot_with_boundary(&app, &a, 1);
    // Plots at the per-plot limit; as many uploads at once as SQLite has
    // pooled connections. Holding a connection while checking, they would
    // leave none for anyone else until the first of them finished.
    let features: Vec<Value> = (0..6)
        .map(|i| {
            feature(
                &code,
                polygon(vec![circle(4_999, 99.95 + i as f64 * 0.01, 25.65)]),
            )
        })
        .collect();
    let fc = collection(features);
    let uploads = 4;
    let finished = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..uploads)
        .map(|_| {
            let (address, token, fc, finished) = (
                app.address.clone(),
                a.token.clone(),
                fc.to_string(),
                finished.clone(),
            );
            std::thread::spawn(move || {
                let r = reqwest::blocking::Client::new()
                    .post(format!(
                        "{address}/api/v1/townships/{TOWNSHIP_A}/boundaries?dry_run=1"
                    ))
                    .bearer_auth(token)
                    .header("Content-Type", "application/geo+json")
                    .body(fc)
                    .timeout(std::time::Duration::from_secs(300))
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().unwrap();
                finished.fetch_add(1, Ordering::SeqCst);
                (status, v)
            })
        })
        .collect();
    // Other people's requests are answered while every upload is still being checked.
    let mut answered_during = 0;
    while finished.load(Ordering::SeqCst) < uploads {
        let r = a.get("/api/v1/growers");
        assert_eq!(r.status, 200, "{}", r.body);
        if finished.load(Ordering::SeqCst) == 0 {
            answered_during += 1;
        }
    }
    for t in threads {
        let (status, v) = t.join().unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["counts"]["features"], 6);
        assert_eq!(v["counts"]["invalid"], 0, "{v}");
        assert_eq!(v["committed"], false);
    }
    assert!(
        answered_during > 0,
        "no request was answered while the uploads were checked"
    );
}

#[test]
fn a_plot_changed_during_the_check_refuses_the_commit() {
    use guobao::app::{boundaries, Actor};
    use guobao::geo::{Deadline, CHECK_TIME_LIMIT};
    let app = spawn_app();
    let a = app.api("station_a");
    let (code, id) = plot_with_boundary(&app, &a, 1);
    let actor = Actor::system();
    let moved = collection(vec![feature(&code, square(99.96, 25.65))]).to_string();
    let deadline = Deadline::after(CHECK_TIME_LIMIT);
    let prepared = boundaries::prepare(&actor, &moved, deadline).unwrap();
    let ctx = boundaries::load_context(&mut app.conn(), &actor, TOWNSHIP_A).unwrap();
    // Meanwhile someone else stores another boundary for the plot.
    let other = collection(vec![feature(&code, square(99.97, 25.65))]);
    let (status, _) = post_geojson(&app, &a, TOWNSHIP_A, &other, false);
    assert_eq!(status, 200);
    let theirs = stored(&a, id);
    let plan = boundaries::plan(&ctx, prepared, deadline).unwrap();
    let e = boundaries::apply(&mut app.conn(), &actor, plan).unwrap_err();
    assert_eq!(
        (e.status().as_u16(), e.code().as_str()),
        (409, "plot_changed")
    );
    assert!(e.to_string().contains(&code), "{e}");
    assert_eq!(stored(&a, id), theirs, "their boundary is kept");
}

#[test]
fn the_upload_page_refuses_the_same_way() {
    let app = spawn_app();
    let a = app.api("station_a");
    let (code, id) = plot_with_boundary(&app, &a, 1);
    let before = stored(&a, id);
    let b = app.browser();
    b.login("station_a");
    let hole_outside = collection(vec![feature(
        &code,
        polygon(vec![
            rect(99.95, 25.65, DX, DY),
            rect(99.95 + 3.0 * DX, 25.65, DX / 2.0, DY / 2.0),
        ]),
    )]);
    let p = b.upload(
        "/import",
        "/import/boundaries",
        &[("mode", "commit")],
        "b.geojson",
        hole_outside.to_string().into_bytes(),
        true,
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("第1个内洞不在外边界以内"), "{}", p.body);
    let too_many: Vec<Value> = (0..41)
        .map(|i| {
            feature(
                &code,
                polygon(vec![circle(4_900, 99.95 + i as f64 * 0.01, 25.65)]),
            )
        })
        .collect();
    let p = b.upload(
        "/import",
        "/import/boundaries",
        &[("mode", "commit")],
        "b.geojson",
        collection(too_many).to_string().into_bytes(),
        true,
    );
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("超过每次上传200000个的上限"), "{}", p.body);
    assert_eq!(stored(&a, id), before);
}
