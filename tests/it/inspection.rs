//! Pre-cover inspection (验标): drawing a village's sample, recording results
//! on site, and issuance waiting for the sample when the scheme says so.

use crate::helpers::claims::{jpeg, point_east, square};
use crate::helpers::*;
use diesel::prelude::*;
use guobao::domain::inspection::{draw, required_units, Candidate};
use guobao::domain::Mu;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

/// Areas (mu) of the plots in village 一村, one grower each.
const AREAS: [&str; 10] = [
    "3.2", "7.55", "1.1", "12", "4.25", "2.0001", "9.9", "5.5", "6.75", "0.8",
];

fn village_id(app: &TestApp, code: &str) -> i64 {
    use guobao::db::schema::areas;
    areas::table
        .filter(areas::code.eq(code))
        .select(areas::id)
        .first(&mut app.conn())
        .unwrap()
}

/// Ten growers of 一村 with one plot each (the last three with the test
/// square as boundary), policies left as drafts; the plots' ids.
fn village_with_plots(app: &TestApp, scheme: &str) -> Vec<i64> {
    let station = app.api("station_a");
    let mut ids = Vec::new();
    for (i, mu) in AREAS.iter().enumerate() {
        let g = GrowerBuilder::new(&format!("验标户{i}"))
            .seq(100 + i as u32)
            .create(&station);
        let mut body = json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
                              "fruit_per_tree": 300, "area_mu": mu, "scheme": scheme});
        if i >= 7 {
            body["boundary"] = json!(square());
        }
        let r = station.post("/api/v1/plots", body);
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    ids
}

fn mu(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("not a decimal: {v}"))).unwrap()
}

fn sample_codes(v: &Value) -> Vec<String> {
    v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["plot_code"].as_str().unwrap().to_string())
        .collect()
}

fn result_body(client_id: &str, outcome: &str) -> Value {
    let (lat, lon) = point_east(50.0);
    json!({"client_id": client_id, "outcome": outcome, "latitude": lat, "longitude": lon,
           "accuracy_m": 5.0})
}

#[test]
fn a_sample_meets_its_share_and_the_same_seed_draws_the_same_plots() {
    let app = spawn_app_at("2012-03-20 09:00");
    village_with_plots(&app, "");
    let v = village_id(&app, VILLAGE_A1);
    let station = app.api("station_a");
    let r = station.post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "individual", "seed": "20120315"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let d = &r.body["draw"];
    assert_eq!(d["seed"], 20120315);
    assert_eq!(d["percent"], "50");
    let total: Decimal = AREAS.iter().map(|a| Decimal::from_str(a).unwrap()).sum();
    assert_eq!(mu(&d["population_mu"]), total);
    let sample_mu = mu(&d["sample_mu"]);
    // At least the share, exactly: sample × 100 ≥ total × 50.
    assert!(sample_mu * Decimal::ONE_HUNDRED >= total * Decimal::from(50));
    assert_eq!(d["share_reached"], true);
    let listed: Decimal = r.body["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| mu(&s["area_mu"]))
        .sum();
    assert_eq!(listed, sample_mu);
    // The rule, applied by hand to the plots as stored, gives the same sample.
    let codes = sample_codes(&r.body);
    let candidates: Vec<Candidate> = {
        use guobao::db::schema::plots;
        plots::table
            .select((plots::id, plots::code, plots::area_units))
            .load::<(i64, String, i64)>(&mut app.conn())
            .unwrap()
            .into_iter()
            .map(|(id, key, units)| Candidate {
                key,
                id,
                area: Mu::from_units(units),
            })
            .collect()
    };
    let req = required_units(
        Mu::from_units(candidates.iter().map(|c| c.area.units()).sum()),
        Decimal::from(50),
    )
    .unwrap();
    let by_hand: Vec<String> = draw(candidates, 20120315, req)
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(codes, by_hand);
    // Drawn again with the same seed: the same plots, in the same order.
    let forestry = app.api("forestry");
    let again = forestry.post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "individual", "seed": 20120315, "reason": "核对抽样结果"}),
    );
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(sample_codes(&again.body), codes);
    // Another seed: another sample.
    let other = forestry.post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "individual", "seed": "7", "reason": "换种子重新抽取"}),
    );
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(sample_codes(&other.body), codes);
    assert!(
        mu(&other.body["draw"]["sample_mu"]) * Decimal::ONE_HUNDRED >= total * Decimal::from(50)
    );
    // Village-organised enrolment: 5% of the area is enough.
    let small = forestry.post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "village", "seed": "7", "reason": "按村集体组织投保重新抽取"}),
    );
    assert_eq!(small.status, 201, "{}", small.body);
    let small_mu = mu(&small.body["draw"]["sample_mu"]);
    assert!(small_mu * Decimal::ONE_HUNDRED >= total * Decimal::from(5));
    assert!(small_mu < sample_mu);
    assert_eq!(small.body["draw"]["mode"], "village");
    assert_eq!(small.body["earlier"].as_array().unwrap().len(), 3);
    // The list shows the village with its current draw.
    let list = station.get("/api/v1/inspection/villages");
    assert_eq!(list.status, 200, "{}", list.body);
    let item = &list.body["items"][0];
    assert_eq!(item["village_id"], v);
    assert_eq!(item["seed"], 7);
    assert_eq!(item["drawn"], true);
    assert_eq!(item["complete"], false);
}

#[test]
fn a_redraw_is_for_county_forestry_with_a_reason_and_is_audited() {
    let app = spawn_app_at("2012-03-20 09:00");
    village_with_plots(&app, "");
    let v = village_id(&app, VILLAGE_A1);
    let path = format!("/api/v1/inspection/villages/{v}/draws");
    // Another township's station does not see the village; finance may not draw.
    let r = app
        .api("station_b")
        .post(&path, json!({"mode": "individual"}));
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .api("finance")
        .post(&path, json!({"mode": "individual"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "inspection_draws"), 0);
    let station = app.api("station_a");
    let first = station.post(&path, json!({"mode": "individual"}));
    assert_eq!(first.status, 201, "{}", first.body);
    let seed = first.body["draw"]["seed"].as_i64().unwrap();
    assert!(seed >= 100_000_000_000, "a twelve-digit seed: {seed}");
    // The station may not draw again, even with a reason.
    let r = station.post(&path, json!({"mode": "individual", "reason": "重抽"}));
    assert_eq!(r.status, 403, "{}", r.body);
    // County forestry may, but only with a reason.
    let forestry = app.api("forestry");
    let r = forestry.post(&path, json!({"mode": "individual"}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "inspection_reason_required");
    let r = forestry.post(&path, json!({"mode": "individual", "reason": "  "}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "inspection_draws"), 1);
    let r = forestry.post(
        &path,
        json!({"mode": "individual", "reason": "抽样时有两户尚未登记地块"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["draw"]["reason"], "抽样时有两户尚未登记地块");
    let earlier = &r.body["earlier"][0];
    assert_eq!(earlier["id"], first.body["draw"]["id"]);
    assert_eq!(earlier["status"], "superseded");
    assert_eq!(earlier["superseded_by"], r.body["draw"]["id"]);
    assert_eq!(count(&mut app.conn(), "inspection_draws"), 2);
    // The audit trail holds both draws, the re-draw with the one it replaced.
    let actions: Vec<(String, Option<String>)> = {
        use guobao::db::schema::audit_log;
        audit_log::table
            .filter(audit_log::entity.eq("inspection_draw"))
            .order(audit_log::id)
            .select((audit_log::action, audit_log::before_json))
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].0, "draw");
    assert_eq!(actions[1].0, "redraw");
    assert!(actions[1].1.as_deref().unwrap().contains(&seed.to_string()));
    // The admin may re-draw too.
    let r = app.api("admin").post(
        &path,
        json!({"mode": "village", "reason": "管理员重新抽取"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The first sample of a fresh draw (seed 1) in 一村, with a boundary when
/// `bounded`.
fn drawn(app: &TestApp, bounded: bool) -> (i64, Value) {
    let v = village_id(app, VILLAGE_A1);
    let r = app.api("station_a").post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "individual", "seed": 1}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.body["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["has_boundary"] == bounded)
        .cloned()
        .expect("a sample with/without boundary");
    (s["id"].as_i64().unwrap(), r.body)
}

#[test]
fn a_result_sent_twice_or_twice_at_once_is_recorded_once() {
    let app = spawn_app_at("2012-03-20 09:00");
    village_with_plots(&app, "");
    let (sid, all) = drawn(&app, true);
    let adjuster = app.api("adjuster");
    let path = format!("/api/v1/inspection/samples/{sid}/result");
    let body = result_body("tablet-aaaa-0001", "verified");
    let first = adjuster.post(&path, body.clone());
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["result"]["outcome"], "verified");
    assert_eq!(first.body["result"]["location_check"], "inside");
    let again = adjuster.post(&path, body.clone());
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["result"]["id"], first.body["result"]["id"]);
    // Another result for the same plot is refused.
    let other = adjuster.post(&path, result_body("tablet-aaaa-0002", "verified"));
    assert_eq!(other.status, 409, "{}", other.body);
    assert_eq!(other.code(), "inspection_already_recorded");
    // The same client id on another plot is not the same result.
    let second = all["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .find(|id| *id != sid)
        .unwrap();
    let r = adjuster.post(
        &format!("/api/v1/inspection/samples/{second}/result"),
        result_body("tablet-aaaa-0001", "verified"),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.code(), "client_id_reused");
    assert_eq!(count(&mut app.conn(), "inspection_results"), 1);
    // Two copies at the same moment (a tablet replaying its queue).
    let base = adjuster.base.clone();
    let token = adjuster.token.clone();
    let copies: Vec<_> = (0..2)
        .map(|_| {
            let (base, token) = (base.clone(), token.clone());
            std::thread::spawn(move || {
                let r = reqwest::blocking::Client::new()
                    .post(format!("{base}/api/v1/inspection/samples/{second}/result"))
                    .bearer_auth(token)
                    .json(&result_body("tablet-bbbb-0001", "verified"))
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().unwrap())
            })
        })
        .collect();
    let mut answers: Vec<(u16, Value)> = copies.into_iter().map(|t| t.join().unwrap()).collect();
    answers.sort_by_key(|a| a.0);
    assert_eq!(
        answers.iter().map(|a| a.0).collect::<Vec<_>>(),
        [200, 201],
        "{answers:?}"
    );
    assert_eq!(answers[0].1["result"]["id"], answers[1].1["result"]["id"]);
    assert_eq!(count(&mut app.conn(), "inspection_results"), 2);
    // The village shows two of its plots done.
    let v = village_id(&app, VILLAGE_A1);
    let s = adjuster.get(&format!("/api/v1/inspection/villages/{v}"));
    assert_eq!(s.body["done"], 2);
    assert_eq!(s.body["verified"], 2);
}

#[test]
fn a_position_beyond_the_limit_is_refused_and_nothing_is_written() {
    let app = spawn_app_at("2012-03-20 09:00");
    village_with_plots(&app, "");
    let (sid, _) = drawn(&app, true);
    let path = format!("/api/v1/inspection/samples/{sid}/result");
    let forestry = app.api("forestry");
    let audit_before = count(&mut app.conn(), "audit_log");
    let (lat, lon) = point_east(400.0);
    let r = forestry.post(
        &path,
        json!({"client_id": "tablet-far-0001", "outcome": "verified", "latitude": lat, "longitude": lon}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "position_far");
    let r = forestry.post(
        &path,
        json!({"client_id": "tablet-far-0002", "outcome": "verified"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "gps_missing");
    assert_eq!(count(&mut app.conn(), "inspection_results"), 0);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);
    // Within the scheme's 100 m of the edge is near enough.
    let (lat, lon) = point_east(180.0);
    let r = forestry.post(
        &path,
        json!({"client_id": "tablet-near-001", "outcome": "verified", "latitude": lat, "longitude": lon}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["result"]["location_check"], "near");
}

/// The draft policy (via the grower page) of the grower of `plot`.
fn policy_of_plot(api: &Api, plot: i64) -> Option<Value> {
    let p = api.get(&format!("/api/v1/plots/{plot}"));
    let g = p.body["grower_id"].as_i64().unwrap();
    let g = api.get(&format!("/api/v1/growers/{g}"));
    g.body["policies"].as_array().unwrap().first().cloned()
}

#[test]
fn an_area_correction_reprices_the_draft_and_a_refused_plot_leaves_the_policy() {
    let app = spawn_app_at("2012-03-20 09:00");
    let station = app.api("station_a");
    // One grower with two plots: 15 mu (with the square) and 5 mu.
    let g = GrowerBuilder::new("两块地").seq(300).create(&station);
    let big = station.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
               "fruit_per_tree": 300, "area_mu": "15", "boundary": square()}),
    );
    assert_eq!(big.status, 201, "{}", big.body);
    let small = PlotBuilder::new(g).mu("5").create(&station);
    assert_eq!(small.status, 201, "{}", small.body);
    let (big, small) = (
        big.body["id"].as_i64().unwrap(),
        small.body["id"].as_i64().unwrap(),
    );
    let before = policy_of_plot(&station, big).unwrap();
    assert_eq!(before["premium"], "1600.00");
    // Both plots are the whole village: a 50% sample takes at least one.
    let v = village_id(&app, VILLAGE_A1);
    let d = app.api("forestry").post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "village", "seed": 3}),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    // 5% of 20 mu is one mu: whichever plot came first is the sample. Draw
    // both by taking 100% through a scheme-free path: record on what we have.
    let samples: Vec<(i64, i64)> = d.body["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_i64().unwrap(), s["plot_id"].as_i64().unwrap()))
        .collect();
    assert_eq!(samples.len(), 1);
    let (sid, plot) = samples[0];
    let uw = app.api("underwriter");
    // Correct whichever plot was drawn to 12.5 mu.
    let r = uw.post(
        &format!("/api/v1/inspection/samples/{sid}/result"),
        json!({"client_id": "tablet-corr-0001", "outcome": "corrected", "area_mu": "12.5",
               "latitude": point_east(50.0).0, "longitude": point_east(50.0).1,
               "notes": "实测面积较登记面积少"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["plot_mu"], "12.50");
    let other_mu = if plot == big { "5" } else { "15" };
    let insured = Decimal::from_str("12.5").unwrap() + Decimal::from_str(other_mu).unwrap();
    let policy = &r.body["policy"];
    assert_eq!(mu(&policy["insured_mu"]), insured);
    // 80 a mu, 16 of it the grower's: exact to the fen.
    assert_eq!(mu(&policy["premium"]), insured * Decimal::from(80));
    assert_eq!(mu(&policy["grower_share"]), insured * Decimal::from(16));
    assert_eq!(mu(&policy["subsidy"]), insured * Decimal::from(64));
    let now = policy_of_plot(&station, big).unwrap();
    assert_eq!(now["premium"], policy["premium"]);
    assert_eq!(
        r.body["result"]["area_before_mu"],
        if plot == big { "15.00" } else { "5.00" }
    );
    // The other plot, refused on a re-draw that takes it (seed chosen so).
    let other_plot = if plot == big { small } else { big };
    let mut refused_sample = None;
    for seed in 10..60 {
        let d = app.api("forestry").post(
            &format!("/api/v1/inspection/villages/{v}/draws"),
            json!({"mode": "village", "seed": seed, "reason": "补抽另一地块"}),
        );
        assert_eq!(d.status, 201, "{}", d.body);
        if let Some(s) = d.body["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["plot_id"] == other_plot)
        {
            refused_sample = s["id"].as_i64();
            break;
        }
    }
    let sid = refused_sample.expect("some seed draws the other plot");
    let r = uw.post(
        &format!("/api/v1/inspection/samples/{sid}/result"),
        json!({"client_id": "tablet-refu-0001", "outcome": "refused",
               "reason": "树体衰弱，管理粗放",
               "latitude": point_east(50.0).0, "longitude": point_east(50.0).1}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["plot_eligible"], false);
    let policy = &r.body["policy"];
    assert_eq!(
        mu(&policy["insured_mu"]),
        Decimal::from_str("12.5").unwrap()
    );
    assert_eq!(policy["premium"], "1000.00");
    let p = station.get(&format!("/api/v1/plots/{other_plot}"));
    assert_eq!(p.body["eligible"], false);
    let reasons = p.body["reasons"].to_string();
    assert!(reasons.contains("inspection_refused"), "{reasons}");
    assert!(reasons.contains("树体衰弱"), "{reasons}");
    // Editing the refused plot later keeps it refused.
    let r = station.put(
        &format!("/api/v1/plots/{other_plot}"),
        json!({"grower_id": g, "variety": "early", "tree_age": 9, "tree_count": 300,
               "fruit_per_tree": 300, "area_mu": other_mu}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["eligible"], false);
    assert_eq!(policy_of_plot(&station, big).unwrap()["premium"], "1000.00");
    // A sampled plot is not deleted.
    let r = station.delete(&format!("/api/v1/plots/{other_plot}"));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.code(), "plot_sampled");
}

#[test]
fn issuance_waits_for_the_villages_sample_when_the_scheme_requires_it() {
    let app = spawn_app_at("2012-03-20 09:00");
    let mut def: Value = serde_json::from_str(guobao::domain::scheme::WALNUT_2012_JSON).unwrap();
    def["code"] = json!("walnut-2012-ins");
    def["name"] = json!("核桃保险（验标后签发）");
    def["inspection"] =
        json!({"individual_percent": "50", "village_percent": "5", "required_before_issue": true});
    let r = app.api("admin").post("/api/v1/schemes", def);
    assert_eq!(r.status, 201, "{}", r.body);
    let plots = village_with_plots(&app, "walnut-2012-ins");
    let station = app.api("station_a");
    let policy = policy_of_plot(&station, plots[0]).unwrap();
    let id = policy["id"].as_i64().unwrap();
    let r = station.post(
        &format!("/api/v1/policies/{id}/collect"),
        json!({"collected_on": "2012-03-15"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // The village's enrollment notice has run its course: only the sample waits.
    let today = app.clock.today().to_string();
    let n = crate::helpers::notices::post_notice(
        &app.api("forestry"),
        json!({"kind": "enrollment", "village_code": VILLAGE_A1,
               "scheme": "walnut-2012-ins", "starts_on": today}),
    );
    assert_eq!(n.status, 201, "{}", n.body);
    crate::helpers::notices::end_period(&app, n.body["id"].as_i64().unwrap());
    let uw = app.api("underwriter");
    let issue = format!("/api/v1/policies/{id}/issue");
    let r = uw.post(&issue, json!({}));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.code(), "inspection_incomplete");
    let v = village_id(&app, VILLAGE_A1);
    let d = station.post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "individual", "seed": 99, "scheme": "walnut-2012-ins"}),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    let samples: Vec<i64> = d.body["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let n = samples.len();
    assert!(n >= 2, "{n}");
    for (i, sid) in samples.iter().enumerate() {
        if i + 1 == n {
            let r = uw.post(&issue, json!({}));
            assert_eq!(r.status, 409, "{}", r.body);
            assert_eq!(
                r.body["message"],
                format!("本村验标抽样尚未完成（已完成{i}/{n}块），不能签发")
            );
            let status: String = {
                use guobao::db::schema::policies;
                policies::table
                    .find(id)
                    .select(policies::status)
                    .first(&mut app.conn())
                    .unwrap()
            };
            assert_eq!(status, "collected");
        }
        let r = uw.post(
            &format!("/api/v1/inspection/samples/{sid}/result"),
            result_body(&format!("tablet-issu-{i:04}"), "verified"),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = uw.post(&issue, json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "issued");
    // The reference scheme does not require it: its policies issue as before.
    let ins = crate::helpers::claims::insured(&app, "不验标户", 400, true);
    assert!(ins.policy_id > 0);
}

#[test]
fn hostile_input_gets_a_clean_refusal_and_nothing_is_written() {
    let app = spawn_app_at("2012-03-20 09:00");
    village_with_plots(&app, "");
    let v = village_id(&app, VILLAGE_A1);
    let station = app.api("station_a");
    let draws = format!("/api/v1/inspection/villages/{v}/draws");
    for (body, code) in [
        (json!({"mode": "everyone"}), "inspection_mode_invalid"),
        (json!({"mode": ""}), "inspection_mode_invalid"),
        (
            json!({"mode": "individual", "seed": "-1"}),
            "inspection_seed_invalid",
        ),
        (
            json!({"mode": "individual", "seed": "abc"}),
            "inspection_seed_invalid",
        ),
        (
            json!({"mode": "individual", "seed": "99999999999999999999999"}),
            "inspection_seed_invalid",
        ),
        (
            json!({"mode": "individual", "seed": 1.5}),
            "inspection_seed_invalid",
        ),
        (
            json!({"mode": "individual", "reason": "原因\u{0}"}),
            "text_control_char",
        ),
        (
            json!({"mode": "individual", "reason": "长".repeat(201)}),
            "text_too_long",
        ),
    ] {
        let r = station.post(&draws, body.clone());
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.body["fields"][0]["code"], code, "{body}: {}", r.body);
        assert!(r.body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    }
    for (path, status) in [
        ("/api/v1/inspection/villages/999999/draws".to_string(), 404),
        // A township, not a village.
        (
            format!("/api/v1/inspection/villages/{}/draws", app.seed.township_a),
            404,
        ),
    ] {
        let r = station.post(&path, json!({"mode": "individual"}));
        assert_eq!(r.status, status, "{path}: {}", r.body);
    }
    let r = station.post(&draws, json!([1, 2]));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "inspection_draws"), 0);
    let audit_before = count(&mut app.conn(), "audit_log");

    let (sid, _) = drawn(&app, false);
    let audit_before = audit_before + 1;
    let path = format!("/api/v1/inspection/samples/{sid}/result");
    let adjuster = app.api("adjuster");
    let mut good = result_body("tablet-host-0001", "verified");
    for (change, code) in [
        (json!({"client_id": "short"}), "client_id_invalid"),
        (json!({"client_id": "has space 12345"}), "client_id_invalid"),
        (json!({"outcome": "maybe"}), "inspection_outcome_invalid"),
        (json!({"outcome": "corrected"}), "inspection_area_invalid"),
        (
            json!({"outcome": "corrected", "area_mu": "-3"}),
            "inspection_area_invalid",
        ),
        (
            json!({"outcome": "corrected", "area_mu": "1e9"}),
            "inspection_area_invalid",
        ),
        (json!({"outcome": "refused"}), "inspection_reason_required"),
        (json!({"notes": "备".repeat(2001)}), "text_too_long"),
        (json!({"notes": "备注\u{202E}"}), "text_bidi_char"),
        (json!({"latitude": 123.0}), "gps_missing"),
        (json!({"latitude": "北纬"}), "gps_missing"),
        (
            json!({"inspected_at": "2099-01-01 00:00"}),
            "surveyed_in_future",
        ),
        (json!({"inspected_at": "昨天"}), "time_invalid"),
    ] {
        let mut body = good.clone();
        for (k, val) in change.as_object().unwrap() {
            body[k] = val.clone();
        }
        let r = adjuster.post(&path, body.clone());
        assert!(r.status == 422, "{body}: {} {}", r.status, r.body);
        let codes: Vec<&str> = r.body["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(|x| x["code"].as_str()).collect())
            .unwrap_or_else(|| vec![r.code()]);
        assert!(codes.contains(&code), "{body}: {}", r.body);
    }
    // Wrong ids, another township, wrong roles.
    let r = adjuster.post("/api/v1/inspection/samples/999999/result", good.clone());
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .api("station_b")
        .get(&format!("/api/v1/inspection/samples/{sid}"));
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .api("station_b")
        .get(&format!("/api/v1/inspection/villages/{v}"));
    assert_eq!(r.status, 404, "{}", r.body);
    for who in ["station_a", "finance"] {
        let r = app.api(who).post(&path, good.clone());
        assert_eq!(r.status, 403, "{who}: {}", r.body);
    }
    let r = app.api("finance").get("/api/v1/inspection/villages");
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "inspection_results"), 0);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit_before);
    // Photos: recognised by their bytes, once per client id.
    let upload = |who: &Api, client: &str, bytes: Vec<u8>| -> Resp {
        let r = reqwest::blocking::Client::new()
            .post(format!(
                "{}/api/v1/inspection/samples/{sid}/photos?client_id={client}",
                who.base
            ))
            .bearer_auth(&who.token)
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
    };
    let r = upload(
        &adjuster,
        "photo-aaaa-0001",
        b"<html>not a photo</html>".to_vec(),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "photo_not_image");
    let r = upload(&app.api("finance"), "photo-aaaa-0001", jpeg(3));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "inspection_photos"), 0);
    let r = upload(&adjuster, "photo-aaaa-0001", jpeg(3));
    assert_eq!(r.status, 201, "{}", r.body);
    let r2 = upload(&adjuster, "photo-aaaa-0001", jpeg(3));
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_eq!(r2.body["id"], r.body["id"]);
    let r3 = upload(&adjuster, "photo-aaaa-0001", jpeg(4));
    assert_eq!(r3.status, 409, "{}", r3.body);
    assert_eq!(count(&mut app.conn(), "inspection_photos"), 1);
    let pid = r.body["id"].as_i64().unwrap();
    let got = reqwest::blocking::Client::new()
        .get(format!(
            "{}/api/v1/inspection/samples/{sid}/photos/{pid}",
            adjuster.base
        ))
        .bearer_auth(&adjuster.token)
        .send()
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().unwrap().to_vec(), jpeg(3));
    let detail = adjuster.get(&format!("/api/v1/inspection/samples/{sid}"));
    assert_eq!(detail.body["photo_ids"], json!([pid]));
    assert_eq!(detail.body["sample"]["photos"], 1);
    // With everything right, the result goes in.
    good["notes"] = json!("核实无误");
    let r = adjuster.post(&path, good);
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn the_pages_draw_show_and_take_a_result_from_the_tablet() {
    let app = spawn_app_at("2012-03-20 09:00");
    let plots = village_with_plots(&app, "");
    let v = village_id(&app, VILLAGE_A1);
    let b = app.browser();
    b.login("forestry");
    let list = b.get("/inspection");
    assert_eq!(list.status, 200);
    assert!(list.body.contains("一村"), "{}", list.body);
    assert!(list.body.contains("未抽样"));
    let page = format!("/inspection/villages/{v}");
    let p = b.get(&page);
    assert_eq!(p.status, 200);
    assert!(p.body.contains("尚未抽样"));
    let r = b.submit(
        &page,
        &format!("/inspection/villages/{v}/draw"),
        &[("mode", "individual"), ("seed", "４２"), ("scheme", "")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let p = b.get(&page);
    assert!(p.body.contains(r#"<dd id="seed">42</dd>"#), "{}", p.body);
    assert!(p.body.contains("核验中"));
    // A redraw without a reason shows the form again with the message.
    let r = b.submit(
        &page,
        &format!("/inspection/villages/{v}/draw"),
        &[("mode", "individual"), ("seed", "43")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("重新抽取须写明原因"), "{}", r.body);
    // The tablet page of a sample, and its queued result sent with the
    // session's token, once.
    let sid: i64 = {
        use guobao::db::schema::inspection_samples;
        inspection_samples::table
            .order(inspection_samples::id)
            .select(inspection_samples::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let tablet = b.get(&format!("/inspection/samples/{sid}"));
    assert_eq!(tablet.status, 200);
    assert!(tablet.body.contains("inspection-config"));
    assert!(!tablet.body.contains("style="));
    let csrf = regex::Regex::new(r#"data-csrf="([0-9a-f]+)""#)
        .unwrap()
        .captures(&tablet.body)
        .unwrap()[1]
        .to_string();
    let body = result_body("page-tablet-0001", "verified").to_string();
    let send = |token: &str| {
        b.post_raw(
            &format!("/inspection/samples/{sid}/result.json"),
            &[("X-CSRF-Token", token)],
            "application/json",
            body.clone().into_bytes(),
        )
    };
    assert_eq!(send("0000").status, 403);
    assert_eq!(send(&csrf).status, 201);
    assert_eq!(send(&csrf).status, 200);
    assert_eq!(count(&mut app.conn(), "inspection_results"), 1);
    let done = b.get(&format!("/inspection/samples/{sid}"));
    assert!(done.body.contains(r#"id="recorded""#), "{}", done.body);
    // The policy page shows the village's progress before issuance.
    let policy = policy_of_plot(&app.api("station_a"), plots[0]).unwrap();
    let pp = b.get(&format!("/policies/{}", policy["id"]));
    assert!(pp.body.contains(r#"id="inspection""#), "{}", pp.body);
    assert!(pp.body.contains("已完成1/"), "{}", pp.body);
    // The scripts are served.
    for js in ["/inspection/inspection.js", "/inspection/sw.js"] {
        let (status, ct, _) = b.get_bytes(js);
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/javascript"));
    }
}

#[test]
fn a_roster_imported_again_keeps_a_refused_plot_refused() {
    let app = spawn_app_at("2012-03-20 09:00");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (id_number("19700101", 61), id_number("19700102", 62));
    let file = roster_file(
        dir.path(),
        "roster.xlsx",
        &[
            ("王明", &a, "13800000001", "一村", "R-1", 3.0),
            ("王明", &a, "13800000001", "一村", "R-2", 2.0),
            ("李华", &b, "13800000002", "一村", "R-3", 1.5),
        ],
    );
    let import = || {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
            .args([
                "--database-url",
                &app.db.url,
                "import",
                "roster",
                &file,
                "--township",
                TOWNSHIP_A,
                "--json",
            ])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    import();
    let v = village_id(&app, VILLAGE_A1);
    let d = app.api("forestry").post(
        &format!("/api/v1/inspection/villages/{v}/draws"),
        json!({"mode": "individual", "seed": 5}),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    let s = &d.body["samples"][0];
    let (sid, plot) = (s["id"].as_i64().unwrap(), s["plot_id"].as_i64().unwrap());
    let mut body = result_body("tablet-roster-01", "refused");
    body["reason"] = json!("已砍伐改种");
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/inspection/samples/{sid}/result"), body);
    assert_eq!(r.status, 201, "{}", r.body);
    let station = app.api("station_a");
    assert_eq!(
        station.get(&format!("/api/v1/plots/{plot}")).body["eligible"],
        false
    );
    // The same roster again: the row would be eligible by the scheme's
    // rules, but the plot was refused on site.
    let again = import();
    assert_eq!(again["counts"]["rejected"], 0, "{again}");
    let p = station.get(&format!("/api/v1/plots/{plot}"));
    assert_eq!(p.body["eligible"], false, "{}", p.body);
    assert!(
        p.body["reasons"].to_string().contains("已砍伐改种"),
        "{}",
        p.body
    );
}
