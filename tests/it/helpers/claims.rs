//! Claims fixtures shared by the claims tests: an insured plot with its
//! polygon, reports, dispatch, survey bodies and photos.

use super::*;
use serde_json::{json, Value};

/// About 100 m × 100 m (≈ 15 mu) near the demo county.
pub const X0: f64 = 99.95;
pub const Y0: f64 = 25.65;
pub const DX: f64 = 100.0 / 100_380.0;
pub const DY: f64 = 100.0 / 110_800.0;

pub fn square() -> String {
    json!({"type": "Polygon", "coordinates": [[
        [X0, Y0], [X0 + DX, Y0], [X0 + DX, Y0 + DY], [X0, Y0 + DY], [X0, Y0]
    ]]})
    .to_string()
}

/// A point `east_m` metres east of the square's west edge, at mid-height.
pub fn point_east(east_m: f64) -> (f64, f64) {
    (Y0 + DY / 2.0, X0 + east_m / 100_380.0)
}

pub struct Insured {
    pub policy_id: i64,
    pub policy_no: String,
    pub plot_id: i64,
    pub plot_code: String,
}

/// A grower in township A with one 15-mu plot (with its polygon), the policy
/// collected in March and issued: cover 2012-04-01 to 2012-10-31.
pub fn insured(app: &TestApp, name: &str, seq: u32, issue: bool) -> Insured {
    let station = app.api("station_a");
    let g = GrowerBuilder::new(name).seq(seq).create(&station);
    let r = station.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
               "fruit_per_tree": 300, "area_mu": "15", "boundary": square()}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let plot_id = r.body["id"].as_i64().unwrap();
    let plot_code = r.body["code"].as_str().unwrap().to_string();
    let p = &station.get(&format!("/api/v1/growers/{g}")).body["policies"][0];
    let policy_id = p["id"].as_i64().unwrap();
    let policy_no = p["policy_no"].as_str().unwrap().to_string();
    let r = station.post(
        &format!("/api/v1/policies/{policy_id}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    if issue {
        notices::notice_for_policy(app, policy_id);
        let r = app
            .api("underwriter")
            .post(&format!("/api/v1/policies/{policy_id}/issue"), json!({}));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    Insured {
        policy_id,
        policy_no,
        plot_id,
        plot_code,
    }
}

pub fn report(uw: &Api, ins: &Insured, peril: &str, occurred: &str) -> Resp {
    uw.post(
        "/api/v1/claims",
        json!({"policy_no": ins.policy_no, "plot_id": ins.plot_id, "peril": peril,
               "occurred_at": occurred, "reporter_name": "报案人", "reporter_phone": "13900000000",
               "channel": "phone", "description": "冰雹打落青果"}),
    )
}

pub fn dispatch(uw: &Api, id: i64) -> Resp {
    uw.post(
        &format!("/api/v1/claims/{id}/dispatch"),
        json!({"adjuster": "adjuster", "co_surveyor": "forestry"}),
    )
}

pub const SIGNATURE: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

pub fn survey_body(client_id: &str, lat: f64, lon: f64, affected: &str, loss: &str) -> Value {
    json!({"client_id": client_id, "latitude": lat, "longitude": lon, "accuracy_m": 8.0,
           "damaged_trees": 120, "affected_mu": affected, "loss_rate": loss,
           "adjuster_confirmed": true, "co_surveyor_confirmed": true,
           "grower_signed_name": "投保户", "grower_signature": SIGNATURE, "notes": "青果脱落"})
}

/// The dispatched claim `id` surveyed by the adjuster 50 m east of the plot
/// (5 mu at 35%), approved and agreed on `agreed_on` by `uw`: its payout.
pub fn surveyed_and_agreed(
    app: &TestApp,
    uw: &Api,
    id: i64,
    client_id: &str,
    agreed_on: &str,
) -> Value {
    let (lat, lon) = point_east(50.0);
    let r = app.api("adjuster").post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body(client_id, lat, lon, "5", "35"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let version = r.body["claim"]["version"].as_i64().unwrap();
    let r = uw.post(
        &format!("/api/v1/claims/{id}/approve"),
        json!({"version": version}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let payout = r.body["payout"].clone();
    let r = uw.post(
        &format!("/api/v1/claims/{id}/agree"),
        json!({"agreed_on": agreed_on}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    payout
}

/// A real (tiny) JPEG; each marker gives other bytes (its width differs).
pub fn jpeg(marker: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16 + u32::from(marker), 12, |x, y| {
        image::Rgb([marker.wrapping_mul(37), (x * 8) as u8, (y * 10) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

pub fn upload(api: &Api, claim: i64, client_id: &str, bytes: Vec<u8>) -> Resp {
    let r = reqwest::blocking::Client::new()
        .post(format!(
            "{}/api/v1/claims/{claim}/photos?client_id={client_id}",
            api.base
        ))
        .bearer_auth(&api.token)
        .header("Content-Type", "image/jpeg")
        .body(bytes)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    Resp {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}
