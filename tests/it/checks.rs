//! Fraud and quality checks (风险核查): every check finds the case planted
//! for it and leaves its clean near-miss alone; a township station sees only
//! what touches its township; the CLI's JSON is the API's; the workbook has
//! a row per finding; wrong roles and bad township codes are refused.

use crate::helpers::claims::*;
use crate::helpers::report::Table;
use crate::helpers::*;
use serde_json::{json, Value};

const VILLAGE_B1: &str = "532999102201";

/// A grower posted as `api`'s user with its own phone and bank account.
fn grower(api: &Api, name: &str, seq: u32, village: &str, phone: &str, account: &str) -> i64 {
    grower_in(api, name, seq, village, phone, account, None)
}

fn grower_in(
    api: &Api,
    name: &str,
    seq: u32,
    village: &str,
    phone: &str,
    account: &str,
    year: Option<i32>,
) -> i64 {
    let mut body = json!({"name": name, "id_number": id_number("19700101", seq), "phone": phone,
        "bank_name": "信用社", "bank_account": account, "village_code": village});
    if let Some(y) = year {
        body["year"] = json!(y);
    }
    let r = api.post("/api/v1/growers", body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_i64().unwrap()
}

/// A square of `w` × `h` metres, south-west corner `east` / `north` metres
/// from (X0, Y0).
fn rect(east: f64, north: f64, w: f64, h: f64) -> String {
    let (x, y) = (X0 + east * DX / 100.0, Y0 + north * DY / 100.0);
    let (x2, y2) = (x + w * DX / 100.0, y + h * DY / 100.0);
    json!({"type": "Polygon", "coordinates": [[[x, y], [x2, y], [x2, y2], [x, y2], [x, y]]]})
        .to_string()
}

/// An eligible plot (early walnut, 8 years, 300 fruit); its id and code.
fn plot(api: &Api, grower: i64, mu: &str, boundary: Option<String>) -> (i64, String) {
    let mut body = json!({"grower_id": grower, "variety": "early", "tree_age": 8,
        "tree_count": 300, "fruit_per_tree": 300, "area_mu": mu});
    if let Some(b) = boundary {
        body["boundary"] = json!(b);
    }
    let r = api.post("/api/v1/plots", body);
    assert_eq!(r.status, 201, "{}", r.body);
    (
        r.body["id"].as_i64().unwrap(),
        r.body["code"].as_str().unwrap().to_string(),
    )
}

/// Collect and issue the grower's policy; (id, number).
fn issue(app: &TestApp, station: &Api, grower: i64) -> (i64, String) {
    let p = &station.get(&format!("/api/v1/growers/{grower}")).body["policies"][0];
    let id = p["id"].as_i64().unwrap();
    let no = p["policy_no"].as_str().unwrap().to_string();
    let r = station.post(
        &format!("/api/v1/policies/{id}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    crate::helpers::notices::notice_for_policy(app, id);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{id}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    (id, no)
}

/// Report, dispatch and survey a claim from (lat, lon); its id.
fn claim(
    uw: &Api,
    adjuster: &Api,
    policy: &(i64, String),
    plot: i64,
    occurred: &str,
    at: (f64, f64),
    n: u32,
) -> i64 {
    let ins = Insured {
        policy_id: policy.0,
        policy_no: policy.1.clone(),
        plot_id: plot,
        plot_code: String::new(),
    };
    let r = report(uw, &ins, "hail", occurred);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(uw, id).status, 200);
    let r = adjuster.post(
        &format!("/api/v1/claims/{id}/survey"),
        survey_body(&format!("checks-survey-{n:04}"), at.0, at.1, "1", "35"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    id
}

/// Ids of the planted records.
struct Planted {
    /// 甲镇: g1 shares a phone with g2 (乙乡) and a bank account with g3;
    /// g5 is g1's ID number again in 乙乡 for 2013; g4 is clean.
    g: [i64; 5],
    /// p1 (g1, 15 mu, its square) overlaps p2 (g3, 17 mu declared on 15);
    /// p3 (g4, 15.5 mu) touches p1's west edge only; p4 (g1, 40 mu) puts g1
    /// over the 50-mu cap; p5 (g3, 33 mu) brings g3 to exactly 50.
    p: [i64; 6],
    /// c1 (p1): reported 4 days 1 hour after, surveyed 50 m outside p1,
    /// photo shared with c2. c2 (p3): reported exactly 3 days after,
    /// surveyed inside. c3–c5 (p4, p5, p6): surveyed from one point.
    c: [i64; 5],
    phone: &'static str,
    account: &'static str,
}

fn plant(app: &TestApp) -> Planted {
    let a = app.api("station_a");
    let b = app.api("station_b");
    let phone = "13912345678";
    let account = "6228481234567890123";
    let g1 = grower(&a, "甲一", 1, VILLAGE_A1, phone, account);
    let g2 = grower(&b, "乙二", 2, VILLAGE_B1, phone, "6228480000000000002");
    let g3 = grower(&a, "甲三", 3, VILLAGE_A1, "13900000003", account);
    let g4 = grower(
        &a,
        "甲四",
        4,
        VILLAGE_A1,
        "13900000004",
        "6228480000000000004",
    );
    let g5 = grower_in(
        &b,
        "乙五",
        1,
        VILLAGE_B1,
        "13900000005",
        "6228480000000000005",
        Some(2013),
    );
    let (p1, _) = plot(&a, g1, "15", Some(rect(0.0, 0.0, 100.0, 100.0)));
    let (p2, _) = plot(&a, g3, "17", Some(rect(50.0, 50.0, 100.0, 100.0)));
    let (p3, _) = plot(&a, g4, "15.5", Some(rect(-100.0, 0.0, 100.0, 100.0)));
    let (p4, _) = plot(&a, g1, "40", None);
    let (p5, _) = plot(&a, g3, "33", None);
    let (p6, _) = plot(&a, g4, "1", None);
    let pol1 = issue(app, &a, g1);
    let pol3 = issue(app, &a, g3);
    let pol4 = issue(app, &a, g4);
    let uw = app.api("underwriter");
    let adj = app.api("adjuster");
    // 50 m east of p1, south of p2: outside both, within the allowed 100 m.
    let c1 = claim(
        &uw,
        &adj,
        &pol1,
        p1,
        "2012-06-10 08:00",
        (Y0 + DY * 0.25, X0 + DX * 1.5),
        1,
    );
    let c2 = claim(
        &uw,
        &adj,
        &pol4,
        p3,
        "2012-06-11 09:00",
        (Y0 + DY * 0.5, X0 - DX * 0.5),
        2,
    );
    let spot = (25.7, 99.9);
    let c3 = claim(&uw, &adj, &pol1, p4, "2012-06-13 08:00", spot, 3);
    let c4 = claim(&uw, &adj, &pol3, p5, "2012-06-13 08:00", spot, 4);
    let c5 = claim(&uw, &adj, &pol4, p6, "2012-06-13 08:00", spot, 5);
    assert_eq!(upload(&adj, c1, "checks-photo-1", jpeg(1)).status, 201);
    assert_eq!(upload(&adj, c2, "checks-photo-2", jpeg(1)).status, 201);
    assert_eq!(upload(&adj, c1, "checks-photo-3", jpeg(2)).status, 201);
    Planted {
        g: [g1, g2, g3, g4, g5],
        p: [p1, p2, p3, p4, p5, p6],
        c: [c1, c2, c3, c4, c5],
        phone,
        account,
    }
}

fn group<'a>(report: &'a Value, check: &str) -> &'a Vec<Value> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["check"] == check)
        .unwrap_or_else(|| panic!("no group {check}"))["findings"]
        .as_array()
        .unwrap()
}

/// The (kind, id) pairs of each finding of a check, sorted.
fn records(report: &Value, check: &str) -> Vec<Vec<(String, i64)>> {
    group(report, check)
        .iter()
        .map(|f| {
            let mut v: Vec<(String, i64)> = f["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["kind"].as_str().unwrap().to_string(),
                        i["id"].as_i64().unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        })
        .collect()
}

fn r(kind: &str, id: i64) -> (String, i64) {
    (kind.to_string(), id)
}

/// Some finding of `check` involves this record.
fn flagged(report: &Value, check: &str, rec: (String, i64)) -> bool {
    records(report, check).iter().any(|f| f.contains(&rec))
}

#[test]
fn every_check_finds_its_case_and_not_the_near_miss() {
    let app = spawn_app_at("2012-06-14 09:00");
    let pl = plant(&app);
    let [g1, g2, g3, g4, g5] = pl.g;
    let [p1, p2, _p3, p4, p5, p6] = pl.p;
    let [c1, c2, c3, c4, c5] = pl.c;
    let admin = app.api("admin");
    let resp = admin.get("/api/v1/checks");
    assert_eq!(resp.status, 200, "{}", resp.body);
    let rep = resp.body;
    assert_eq!(rep["place"], "全县");
    assert_eq!(rep["groups"].as_array().unwrap().len(), 10);

    assert_eq!(
        records(&rep, "duplicate_id"),
        [vec![r("grower", g1), r("grower", g5)]]
    );
    assert_eq!(
        records(&rep, "shared_phone"),
        [vec![r("grower", g1), r("grower", g2)]]
    );
    assert_eq!(
        records(&rep, "shared_bank_account"),
        [vec![r("grower", g1), r("grower", g3)]]
    );
    // Overlap: p1 × p2 with their growers; p3 only shares p1's west edge.
    assert_eq!(
        records(&rep, "plot_overlap"),
        [vec![
            r("grower", g1),
            r("grower", g3),
            r("plot", p1),
            r("plot", p2)
        ]]
    );
    let overlap = &group(&rep, "plot_overlap")[0];
    assert!(
        overlap["detail"].as_str().unwrap().contains("占"),
        "{overlap}"
    );
    // 17 mu declared on about 15 (13%): listed; 15.5 on 15 (3%) and 15 on 15 are not.
    assert_eq!(
        records(&rep, "area_inflated"),
        [vec![r("grower", g3), r("plot", p2)]]
    );
    // g1: 15 + 40 = 55 mu > 50; g3: 17 + 33 = exactly 50, not more.
    let cap = records(&rep, "over_cap");
    assert_eq!(cap.len(), 1, "{cap:?}");
    assert!(cap[0].contains(&r("grower", g1)));
    assert!(!flagged(&rep, "over_cap", r("grower", g3)));
    assert_eq!(
        records(&rep, "photo_reused"),
        [vec![r("claim", c1), r("claim", c2)]]
    );
    // 4 days 1 hour: late; exactly 3 days: not.
    assert!(flagged(&rep, "late_report", r("claim", c1)));
    assert!(!flagged(&rep, "late_report", r("claim", c2)));
    assert_eq!(records(&rep, "late_report").len(), 1);
    // 50 m outside p1: listed; inside p3 and plots without a polygon: not.
    assert_eq!(
        records(&rep, "survey_off_plot"),
        [vec![r("claim", c1), r("plot", p1)]]
    );
    assert_eq!(
        records(&rep, "same_position"),
        [vec![r("claim", c3), r("claim", c4), r("claim", c5)]]
    );
    let _ = (p4, p5, p6, g4);
    let total: usize = rep["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(rep["total"].as_u64().unwrap() as usize, total);
    assert_eq!(total, 10);

    // Masked everywhere: the numbers never appear in full.
    let text = rep.to_string();
    for secret in [pl.phone, pl.account, &id_number("19700101", 1)] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(group(&rep, "shared_phone")[0]["subject"], "139****5678");

    // Every look is audited as an export naming the growers shown.
    let mut conn = app.conn();
    let exports: Vec<String> = {
        use diesel::prelude::*;
        use guobao::db::schema::audit_log;
        audit_log::table
            .filter(audit_log::action.eq("export"))
            .select(audit_log::after_json.assume_not_null())
            .load(&mut conn)
            .unwrap()
    };
    let last: Value = serde_json::from_str(exports.last().unwrap()).unwrap();
    assert_eq!(last["kind"], "checks");
    assert_eq!(last["full"], false);
    assert!(last["ids"].to_string().contains(&g1.to_string()));

    // The workbook: one row per finding, in the report's order.
    let x = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/checks.xlsx", app.address))
        .bearer_auth(&admin.token)
        .send()
        .unwrap();
    assert_eq!(x.status().as_u16(), 200);
    let bytes = x.bytes().unwrap().to_vec();
    let t = Table::read(&bytes, "核查明细", "序号");
    let subjects: Vec<String> = t.texts("对象");
    let expected: Vec<String> = rep["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["findings"].as_array().unwrap())
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, expected);
    let details = t.texts("说明");
    assert!(details.iter().any(|d| d.contains("超过每户上限50亩")));
    let sheet_text = format!("{:?}", t.texts("涉及记录"));
    assert!(!sheet_text.contains(pl.phone));
    let sum = Table::read(&bytes, "核查汇总", "核查项");
    assert_eq!(sum.texts("核查项").len(), 10, "one row per check");
    assert_eq!(t.total[0].to_string(), "合计");

    // The CLI's JSON is the API's.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(["--database-url", &app.db.url, "checks", "--json"])
        .env_remove("GUOBAO_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, admin.get("/api/v1/checks").body);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "checks",
            "--township",
            TOWNSHIP_B,
            "--json",
        ])
        .env_remove("GUOBAO_DATABASE_URL")
        .output()
        .unwrap();
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        cli,
        admin
            .get(&format!("/api/v1/checks?township={TOWNSHIP_B}"))
            .body
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "checks",
            "--township",
            "x1",
            "--json",
        ])
        .env_remove("GUOBAO_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["fields"][0]["code"], "area_code_invalid", "{e}");

    // The thresholds are the scheme's data: with a 55-mu cap, 5 days' grace
    // and 4 plots for one position, g1, c1 and c3–c5 drop out.
    {
        use diesel::prelude::*;
        use guobao::db::schema::schemes;
        let mut conn = app.conn();
        let text: String = schemes::table
            .select(schemes::definition)
            .first(&mut conn)
            .unwrap();
        let mut def: Value = serde_json::from_str(&text).unwrap();
        def["checks"] = json!({"max_mu_per_grower": "55", "late_report_days": 5,
                               "same_position_claims": 4});
        diesel::update(schemes::table)
            .set(schemes::definition.eq(def.to_string()))
            .execute(&mut conn)
            .unwrap();
    }
    let rep = admin.get("/api/v1/checks").body;
    for check in ["over_cap", "late_report", "same_position"] {
        assert!(group(&rep, check).is_empty(), "{check}: {rep}");
    }
    assert_eq!(rep["total"], 7);
}

#[test]
fn a_station_sees_its_own_township_and_only_counts_the_others() {
    let app = spawn_app_at("2012-06-14 09:00");
    let pl = plant(&app);
    let [g1, g2, _g3, _g4, g5] = pl.g;
    let a = app.api("station_a").get("/api/v1/checks");
    assert_eq!(a.status, 200, "{}", a.body);
    let b = app.api("station_b").get("/api/v1/checks");
    assert_eq!(b.status, 200, "{}", b.body);
    let (a, b) = (a.body, b.body);
    assert_eq!(a["place"], "甲镇");
    assert_eq!(b["place"], "乙乡");
    // 乙乡 sees the two findings that touch it, its own grower only.
    assert_eq!(b["total"], 2, "{b}");
    assert_eq!(records(&b, "shared_phone"), [vec![r("grower", g2)]]);
    assert_eq!(records(&b, "duplicate_id"), [vec![r("grower", g5)]]);
    let dup = &group(&b, "duplicate_id")[0];
    assert_eq!(dup["other_townships"], 1);
    let detail = dup["detail"].as_str().unwrap();
    assert!(detail.contains("已登记（其他乡镇）"), "{detail}");
    // Nothing of 甲镇: not its name, its growers, their ids or pages.
    let text = b.to_string();
    for leak in ["甲镇", "甲一", &format!("/growers/{g1}")] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    // 甲镇 sees everything of its own, 乙乡's growers counted only.
    assert_eq!(a["total"], 10, "{a}");
    assert_eq!(records(&a, "shared_phone"), [vec![r("grower", g1)]]);
    assert_eq!(group(&a, "shared_phone")[0]["other_townships"], 1);
    let text = a.to_string();
    for leak in ["乙乡", "乙二", "乙五", &format!("/growers/{g2}")] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    // Its own code is fine; another township's is not found.
    let st = app.api("station_a");
    assert_eq!(
        st.get(&format!("/api/v1/checks?township={TOWNSHIP_A}"))
            .body["total"],
        10
    );
    let r2 = st.get(&format!("/api/v1/checks?township={TOWNSHIP_B}"));
    assert_eq!(r2.status, 404, "{}", r2.body);
    // The county, cut to 乙乡: the same two findings, every record shown.
    let f = app
        .api("forestry")
        .get(&format!("/api/v1/checks?township={TOWNSHIP_B}"));
    assert_eq!(f.status, 200);
    assert_eq!(f.body["total"], 2);
    assert_eq!(
        records(&f.body, "shared_phone"),
        [vec![r("grower", g1), r("grower", g2)]]
    );
    assert_eq!(group(&f.body, "shared_phone")[0]["other_townships"], 0);
    // Finance and the underwriter read the county; the adjuster may not.
    assert_eq!(app.api("finance").get("/api/v1/checks").body["total"], 10);
    assert_eq!(app.api("underwriter").get("/api/v1/checks").status, 200);
    let adj = app.api("adjuster");
    for path in ["/api/v1/checks", "/api/v1/checks.xlsx"] {
        let r = adj.get(path);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(r.code(), "forbidden");
    }
    // Bad township codes: a clean 4xx with a Chinese message, nothing written.
    let before = count(&mut app.conn(), "audit_log");
    let long = "9".repeat(300);
    for (code, status) in [
        ("abc", 422),
        ("5329\u{0}99101", 422),
        (long.as_str(), 422),
        ("999999999", 404),
    ] {
        let resp = reqwest::blocking::Client::new()
            .get(format!("{}/api/v1/checks", app.address))
            .query(&[("township", code)])
            .bearer_auth(&st.token)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{code:?}");
        let body: Value = resp.json().unwrap();
        let msg = body["message"].as_str().unwrap();
        assert!(
            msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{msg}"
        );
        assert!(msg.len() < 200, "{msg}");
    }
    assert_eq!(count(&mut app.conn(), "audit_log"), before);
}

#[test]
fn the_report_page_and_download_for_people() {
    let app = spawn_app_at("2012-06-14 09:00");
    let pl = plant(&app);
    let forestry = app.browser();
    forestry.login("forestry");
    let home = forestry.get("/");
    assert!(home.body.contains(">风险核查</a>"), "menu entry");
    let page = forestry.get("/checks");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("风险核查（全县）"));
    assert!(page.body.contains("id=\"checks-total\">10<"));
    // Links to the records (minijinja writes "/" as "&#x2f;" in attributes).
    let link = format!("href=\"&#x2f;plots&#x2f;{}\"", pl.p[1]);
    assert!(page.body.contains(&link), "{link}");
    assert!(page.body.contains("139****5678"));
    assert!(!page.body.contains(pl.phone));
    assert!(!page.body.contains("style="));
    let one = forestry.get(&format!("/checks?township={TOWNSHIP_B}"));
    assert!(one.body.contains("风险核查（乙乡）"), "{}", one.body);
    assert!(one.body.contains("id=\"checks-total\">2<"));
    let (status, ctype, bytes) = forestry.get_bytes(&format!("/checks.xlsx?township={TOWNSHIP_B}"));
    assert_eq!(status, 200);
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
    let t = Table::read(&bytes, "核查明细", "序号");
    assert_eq!(t.texts("对象").len(), 2);
    let bad = forestry.get("/checks?township=abc");
    assert_eq!(bad.status, 422);
    let station = app.browser();
    station.login("station_b");
    let p = station.get("/checks");
    assert_eq!(p.status, 200);
    assert!(p.body.contains("其他乡镇 1 条"), "{}", p.body);
    assert!(!p.body.contains("甲镇"));
    let adjuster = app.browser();
    adjuster.login("adjuster");
    assert!(!adjuster.get("/").body.contains(">风险核查</a>"));
    assert_eq!(adjuster.get("/checks").status, 403);
    assert_eq!(adjuster.get_bytes("/checks.xlsx").0, 403);
}
