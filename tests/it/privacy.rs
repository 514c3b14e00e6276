//! Personal data (issue 12): lists mask it for every role, full values only on
//! detail pages and in exports, each such read audited; a role that sees
//! masked data cannot unmask by searching; a township station learns nothing
//! of other townships; pages run no inline script.

use crate::helpers::claims::{dispatch, insured, jpeg, report, upload, Insured, DX, DY, X0, Y0};
use crate::helpers::*;
use diesel::prelude::*;
use guobao::db::schema::audit_log;
use serde_json::{json, Value};

/// Audit rows with `action`: (username, entity, entity_id, after_json).
fn audited(app: &TestApp, action: &str) -> Vec<(String, String, Option<i64>, Value)> {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .order(audit_log::id)
        .select((
            audit_log::username,
            audit_log::entity,
            audit_log::entity_id,
            audit_log::after_json,
        ))
        .load::<(String, String, Option<i64>, Option<String>)>(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|(u, e, id, after)| {
            let v = after
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or(Value::Null);
            (u, e, id, v)
        })
        .collect()
}

/// The "read" rows of one user on one record, with the fields they name.
fn reads(app: &TestApp, user: &str, entity: &str, id: i64) -> Vec<Vec<String>> {
    audited(app, "read")
        .into_iter()
        .filter(|(u, e, i, _)| u == user && e == entity && *i == Some(id))
        .map(|(_, _, _, v)| {
            v["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

fn masked_id(full: &str) -> String {
    format!("{}**********{}", &full[..4], &full[14..])
}

const GROWER_PHONE: &str = "13800000000";
const REPORTER_PHONE: &str = "13900000000";

/// Every list, board and lookup, as API and page, for every role: no full ID
/// number, grower phone or reporter phone; the masked number is there.
#[test]
fn every_list_masks_personal_data_for_every_role() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "列表户", 7, true);
    let uw = app.api("underwriter");
    let claim = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(dispatch(&uw, claim).status, 200);
    let full = id_number("19700101", 7);
    let masked = masked_id(&full);
    let apis = [
        "/api/v1/growers",
        "/api/v1/policies",
        "/api/v1/claims",
        "/api/v1/claims/board",
        "/api/v1/claims/lookup?q=列表户",
    ];
    let pages = [
        "/growers",
        "/policies",
        "/claims/list",
        "/claims",
        "/claims/new?q=列表户",
    ];
    let roles = [
        "admin",
        "forestry",
        "station_a",
        "underwriter",
        "adjuster",
        "finance",
    ];
    let mut shown = 0;
    for role in roles {
        let api = app.api(role);
        let br = app.browser();
        br.login(role);
        let mut bodies: Vec<(String, String)> = apis
            .iter()
            .map(|p| {
                let r = api.get(p);
                (p.to_string(), r.status, r.body.to_string())
            })
            .filter(|(_, s, _)| *s == 200)
            .map(|(p, _, b)| (p, b))
            .collect();
        bodies.extend(
            pages
                .iter()
                .map(|p| (p.to_string(), br.get(p)))
                .filter(|(_, pg)| pg.status == 200)
                .map(|(p, pg)| (p, pg.body)),
        );
        for (path, body) in &bodies {
            for secret in [full.as_str(), GROWER_PHONE, REPORTER_PHONE] {
                assert!(!body.contains(secret), "{role} {path} shows {secret}");
            }
            if body.contains("列表户") && body.contains(&masked) {
                shown += 1;
            }
        }
    }
    // Lists that name the grower show the masked number instead (not vacuous).
    assert!(shown >= 20, "{shown}");
    // The claim-report lookup table in particular, for the insurer's desk.
    let br = app.browser();
    br.login("underwriter");
    let p = br.get("/claims/new?q=列表户");
    assert!(p.body.contains(&masked), "{}", p.body);
    let lookup = uw.get("/api/v1/claims/lookup?q=列表户").body;
    assert_eq!(lookup["items"][0]["grower_id_number"], masked.as_str());
    assert_eq!(lookup["items"][0]["grower_phone"], "138****0000");
    let list = uw.get("/api/v1/claims").body.to_string();
    assert!(list.contains("139****0000"), "{list}");
}

/// finance and the adjuster see masked data: a full phone or ID number finds
/// nothing (the same answer as a wrong number), the last 4 characters, the
/// name and the policy number do.
#[test]
fn a_masked_role_cannot_search_by_full_number_but_by_its_tail() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("尾号户")
        .seq(21)
        .phone("13312341313")
        .create(&a);
    PlotBuilder::new(g).mu("2").create(&a);
    GrowerBuilder::new("别户")
        .seq(22)
        .phone("13700005678")
        .create(&a);
    let full = id_number("19700101", 21);
    let policy_no = a.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["policy_no"]
        .as_str()
        .unwrap()
        .to_string();
    let before = audited(&app, "read").len();
    for role in ["finance", "adjuster"] {
        let api = app.api(role);
        let found = |q: &str| -> Vec<i64> {
            let r = api.get(&format!("/api/v1/growers?q={}", urlencode(q)));
            assert_eq!(r.status, 200, "{role} {q}: {}", r.body);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .collect()
        };
        // No oracle: the right number answers as a wrong one does.
        for q in [
            "13312341313",
            full.as_str(),
            "13399999999",
            "110101197001010000",
        ] {
            assert_eq!(found(q), Vec::<i64>::new(), "{role} {q}");
        }
        assert_eq!(
            api.get("/api/v1/growers?q=13312341313").body,
            api.get("/api/v1/growers?q=13399999999").body
        );
        // The masked tail, the name and the policy number find the grower.
        assert_eq!(found("1313"), vec![g], "{role}");
        assert_eq!(found("133****1313"), vec![g], "{role}");
        assert_eq!(found(&full[14..]), vec![g], "{role}");
        assert_eq!(found("尾号"), vec![g], "{role}");
        assert_eq!(found(&policy_no), vec![g], "{role}");
        // The page's search box answers the same.
        let br = app.browser();
        br.login(role);
        assert!(!br.get("/growers?q=13312341313").body.contains("尾号户"));
        assert!(br.get("/growers?q=1313").body.contains("尾号户"));
    }
    // Nothing was revealed, so nothing was read.
    assert_eq!(audited(&app, "read").len(), before);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Roles that see personal data may search by the full number; each record
/// that search found is audited with the field it matched, and the hits stay
/// masked.
#[test]
fn a_full_number_search_by_an_allowed_role_is_audited() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "全号户", 23, true);
    let station = app.api("station_a");
    let g = station
        .get(&format!("/api/v1/policies/{}", ins.policy_id))
        .body["grower_id"]
        .as_i64()
        .unwrap();
    let full = id_number("19700101", 23);

    let admin = app.api("admin");
    let r = admin.get(&format!("/api/v1/growers?q={GROWER_PHONE}"));
    assert_eq!(r.body["total"], 1, "{}", r.body);
    assert_eq!(r.body["items"][0]["id"], g);
    assert!(!r.body.to_string().contains(&full));
    assert_eq!(reads(&app, "admin", "grower", g), vec![vec!["phone"]]);

    let r = station.get(&format!("/api/v1/growers?q={full}"));
    assert_eq!(r.body["items"][0]["id"], g);
    assert_eq!(
        reads(&app, "station_a", "grower", g).last().unwrap(),
        &vec!["id_number"]
    );

    // The claim-report lookup: found by the full ID number, shown masked, audited.
    let uw = app.api("underwriter");
    let hits = &uw.get(&format!("/api/v1/claims/lookup?q={full}")).body["items"];
    assert_eq!(hits[0]["policy_no"], ins.policy_no.as_str(), "{hits}");
    assert_eq!(hits[0]["grower_id_number"], masked_id(&full).as_str());
    assert_eq!(
        reads(&app, "underwriter", "grower", g),
        vec![vec!["id_number"]]
    );
    // Found by the last 4 and by the policy number too; neither is audited.
    let by_tail = uw
        .get(&format!("/api/v1/claims/lookup?q={}", &full[14..]))
        .body;
    assert_eq!(by_tail["items"][0]["policy_no"], ins.policy_no.as_str());
    let by_no = uw
        .get(&format!("/api/v1/claims/lookup?q={}", ins.policy_no))
        .body;
    assert_eq!(by_no["items"][0]["policy_no"], ins.policy_no.as_str());
    assert_eq!(reads(&app, "underwriter", "grower", g).len(), 1);
}

/// Detail pages and endpoints record who read which fields of which record;
/// a masked role's view records nothing.
#[test]
fn a_detail_view_in_full_leaves_an_access_row() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "详情户", 24, true);
    let uw = app.api("underwriter");
    let claim = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    let station = app.api("station_a");
    let g = station
        .get(&format!("/api/v1/policies/{}", ins.policy_id))
        .body["grower_id"]
        .as_i64()
        .unwrap();

    let before = reads(&app, "station_a", "grower", g).len();
    let d = station.get(&format!("/api/v1/growers/{g}")).body;
    assert_eq!(d["grower"]["phone"], GROWER_PHONE);
    let after = reads(&app, "station_a", "grower", g);
    assert_eq!(after.len(), before + 1);
    assert_eq!(after[before], vec!["id_number", "phone", "bank_account"]);
    // The policies on the grower's page are a list: masked.
    assert!(!d["policies"]
        .to_string()
        .contains(&id_number("19700101", 24)));

    let br = app.browser();
    br.login("admin");
    // A policy shows its insured's ID number masked, even to the admin (the
    // full number is on the grower's page): nothing to audit.
    let pol = br.get(&format!("/policies/{}", ins.policy_id)).body;
    assert!(!pol.contains(&id_number("19700101", 24)), "{pol}");
    assert!(
        pol.contains(&masked_id(&id_number("19700101", 24))),
        "{pol}"
    );
    assert!(reads(&app, "admin", "policy", ins.policy_id).is_empty());
    let p = br.get(&format!("/claims/{claim}"));
    assert!(p.body.contains(REPORTER_PHONE));
    assert_eq!(
        reads(&app, "admin", "claim", claim),
        vec![vec![
            "grower_id_number",
            "grower_phone",
            "reporter_phone",
            "bank_account"
        ]]
    );
    let d = uw.get(&format!("/api/v1/claims/{claim}")).body;
    assert_eq!(d["claim"]["grower_phone"], GROWER_PHONE);
    assert_eq!(reads(&app, "underwriter", "claim", claim).len(), 1);

    // finance sees the masked page: no full data, no read.
    let f = app.api("finance");
    let d = f.get(&format!("/api/v1/claims/{claim}")).body;
    assert_eq!(d["claim"]["grower_phone"], "138****0000");
    assert!(audited(&app, "read").iter().all(|(u, ..)| u != "finance"));
    // Nor does the survey page, which shows none.
    dispatch(&uw, claim);
    let br = app.browser();
    br.login("forestry");
    assert_eq!(br.get(&format!("/claims/{claim}/survey")).status, 200);
    assert!(reads(&app, "forestry", "claim", claim).is_empty());
}

/// An export of personal data is one audit row naming the records in it.
#[test]
fn an_export_leaves_an_export_row_naming_its_records() {
    let app = spawn_app_at("2012-06-12 16:00");
    let one = insured(&app, "导出甲", 25, true);
    let two = insured(&app, "导出乙", 26, true);
    let br = app.browser();
    br.login("station_a");
    let (status, _, bytes) = br.get_bytes(&format!(
        "/reports/household-list.xlsx?township={TOWNSHIP_A}"
    ));
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"PK"));
    let (status, _, _) = br.get_bytes("/reports/policies.xlsx");
    assert_eq!(status, 200);
    let rows = audited(&app, "export");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (user, entity, _, after) = &rows[0];
    assert_eq!((user.as_str(), entity.as_str()), ("station_a", "policy"));
    assert_eq!(after["kind"], "household_list");
    assert_eq!(after["count"], 2);
    assert_eq!(after["full"], true);
    assert_eq!(after["filter"]["township"], TOWNSHIP_A);
    let (lo, hi) = (
        one.policy_id.min(two.policy_id),
        one.policy_id.max(two.policy_id),
    );
    let ids = &after["ids"];
    assert!(
        *ids == json!([[lo, hi]]) || *ids == json!([[lo, lo], [hi, hi]]),
        "{ids}"
    );
    assert_eq!(rows[1].3["kind"], "policy_list");
    // A role that sees masked data exports masked, and that is recorded too.
    let f = app.browser();
    f.login("finance");
    let (status, _, _) = f.get_bytes("/reports/household-list.xlsx");
    assert_eq!(status, 200);
    let rows = audited(&app, "export");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[2].0.as_str(), &rows[2].3["full"]),
        ("finance", &json!(false))
    );
}

/// A polygon of `size` plot widths whose south-west corner is `east` widths
/// east of the claims square.
fn square_at(east: f64, size: f64) -> String {
    let (x, y) = (X0 + east * DX, Y0);
    json!({"type": "Polygon", "coordinates": [[
        [x, y], [x + size * DX, y], [x + size * DX, y + DY], [x, y + DY], [x, y]
    ]]})
    .to_string()
}

fn plot_with(api: &Api, grower: i64, boundary: Option<String>) -> String {
    let mut body = json!({"grower_id": grower, "variety": "early", "tree_age": 8,
        "tree_count": 300, "fruit_per_tree": 300, "area_mu": "15"});
    if let Some(b) = boundary {
        body["boundary"] = json!(b);
    }
    let r = api.post("/api/v1/plots", body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["code"].as_str().unwrap().to_string()
}

/// A station's boundary preview names its own township's overlapping plots,
/// only counts another township's and says whom to ask; the county sees both.
#[test]
fn a_station_boundary_preview_only_counts_other_townships_overlaps() {
    let app = spawn_app();
    let a = app.api("station_a");
    let b = app.api("station_b");
    let ga = GrowerBuilder::new("边界甲").seq(31).create(&a);
    let gb = GrowerBuilder::new("边界乙")
        .seq(32)
        .village(&app.seed.village_b1)
        .create(&b);
    let own = plot_with(&a, ga, Some(square_at(0.5, 1.0)));
    let theirs = plot_with(&b, gb, Some(square_at(-0.5, 1.0)));
    let drawn = plot_with(&a, ga, None);
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": drawn},
         "geometry": serde_json::from_str::<Value>(&square_at(0.0, 1.0)).unwrap()}
    ]});
    let post = |api: &Api| -> Value {
        let r = reqwest::blocking::Client::new()
            .post(format!(
                "{}/api/v1/townships/{TOWNSHIP_A}/boundaries?dry_run=1",
                app.address
            ))
            .bearer_auth(&api.token)
            .header("Content-Type", "application/geo+json")
            .body(fc.to_string())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json().unwrap()
    };
    let v = post(&a);
    let f = &v["features"][0];
    assert_eq!(f["overlaps"], json!([own]), "{v}");
    assert_eq!(f["other_overlaps"], 1);
    assert_eq!(f["message"], "与其他乡镇1个投保地块重叠，请联系县林业局");
    assert_eq!(v["counts"]["overlapping"], 1);
    assert!(!v.to_string().contains(&theirs), "{v}");
    // The page says the same.
    let br = app.browser();
    br.login("station_a");
    let p = br.upload(
        "/import",
        "/import/boundaries",
        &[("mode", "preview")],
        "b.geojson",
        fc.to_string().into_bytes(),
        true,
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("请联系县林业局"), "{}", p.body);
    assert!(p.body.contains(&own));
    assert!(!p.body.contains(&theirs));
    // The county forestry bureau is told both codes.
    let v = post(&app.api("forestry"));
    let mut both = vec![own.clone(), theirs.clone()];
    both.sort();
    assert_eq!(v["features"][0]["overlaps"], json!(both), "{v}");
    assert_eq!(v["features"][0]["other_overlaps"], 0);
}

/// The duplicate-ID refusal does not tell a station where else the person is
/// enrolled (grower form, API and roster import); the county is told.
#[test]
fn the_duplicate_id_message_does_not_name_another_township_to_a_station() {
    let app = spawn_app();
    let a = app.api("station_a");
    GrowerBuilder::new("先登记").seq(33).create(&a);
    let full = id_number("19700101", 33);
    let body = json!({"name": "再登记", "id_number": full, "phone": "13800000001",
        "bank_account": "6228480000000000009", "village_code": app.seed.village_b1});
    let r = app.api("station_b").post("/api/v1/growers", body.clone());
    assert_eq!((r.status, r.code()), (409, "id_number_duplicate"));
    let msg = r.body["message"].as_str().unwrap();
    assert!(!msg.contains("甲镇"), "{msg}");
    assert!(msg.contains("其他乡镇"), "{msg}");
    let r = app.api("forestry").post("/api/v1/growers", body);
    assert_eq!(r.status, 409);
    assert!(
        r.body["message"].as_str().unwrap().contains("甲镇"),
        "{}",
        r.body
    );
    // The grower form.
    let br = app.browser();
    br.login("station_b");
    let p = br.submit(
        "/growers/new",
        "/growers",
        &[
            ("name", "再登记"),
            ("id_number", &full),
            ("phone", "13800000001"),
            ("bank_name", "信用社"),
            ("bank_account", "6228480000000000009"),
            ("village_code", &app.seed.village_b1),
        ],
    );
    assert!(p.body.contains("其他乡镇"), "{}", p.body);
    assert!(!p.body.contains("甲镇"), "{}", p.body);
    // The roster import's check.
    let dir = tempfile::tempdir().unwrap();
    let file = roster_file(
        dir.path(),
        "dup.xlsx",
        &[(
            "再登记",
            &full,
            "13800000001",
            &app.seed.village_b1,
            "D-1",
            2.0,
        )],
    );
    let p = br.upload(
        "/import",
        "/import",
        &[],
        "dup.xlsx",
        std::fs::read(file).unwrap(),
        true,
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let page = br.get(&p.location.unwrap()).body;
    assert!(page.contains("id_in_other_township"), "{page}");
    assert!(page.contains("其他乡镇"), "{page}");
    assert!(!page.contains("甲镇"), "{page}");
    assert_eq!(count(&mut app.conn(), "growers"), 1);
}

/// A grower of township B with an issued policy on a plot with the claims square.
fn insured_b(app: &TestApp, name: &str, seq: u32) -> Insured {
    let station = app.api("station_b");
    let g = GrowerBuilder::new(name)
        .seq(seq)
        .village(&app.seed.village_b1)
        .create(&station);
    let r = station.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
               "fruit_per_tree": 300, "area_mu": "15", "boundary": crate::helpers::claims::square()}),
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
    notices::notice_for_policy(app, policy_id);
    let r = app
        .api("underwriter")
        .post(&format!("/api/v1/policies/{policy_id}/issue"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    Insured {
        policy_id,
        policy_no,
        plot_id,
        plot_code,
    }
}

/// A photo already on another claim names that claim only to those who may
/// see it; a station of another township is told only that it was used.
#[test]
fn a_reused_photo_names_the_other_claim_only_to_who_may_see_it() {
    let app = spawn_app_at("2012-06-12 08:00");
    let a = insured(&app, "照片甲", 34, true);
    let b = insured_b(&app, "照片乙", 35);
    let uw = app.api("underwriter");
    let ca = report(&uw, &a, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    let cb = report(&uw, &b, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, ca);
    dispatch(&uw, cb);
    let adj = app.api("adjuster");
    assert_eq!(upload(&adj, ca, "photo-priv-0001", jpeg(42)).status, 201);
    let second = upload(&adj, cb, "photo-priv-0002", jpeg(42));
    assert_eq!(second.status, 201);
    let claim_no_a = uw.get(&format!("/api/v1/claims/{ca}")).body["claim"]["claim_no"]
        .as_str()
        .unwrap()
        .to_string();
    // The adjuster holds both claims: told which.
    assert_eq!(second.body["reused_claim_no"], claim_no_a.as_str());
    assert_eq!(
        second.body["reused_note"],
        format!("与赔案{claim_no_a}的照片相同")
    );
    assert_eq!(
        uw.get(&format!("/api/v1/claims/{cb}")).body["photos"][0]["reused_claim_no"],
        claim_no_a.as_str()
    );
    // Township B's station may not see claim A.
    let sb = app.api("station_b");
    let d = sb.get(&format!("/api/v1/claims/{cb}")).body;
    assert!(d["photos"][0]["reused_claim_no"].is_null(), "{d}");
    assert_eq!(d["photos"][0]["reused_note"], "该照片已在其他赔案中使用");
    assert!(!d.to_string().contains(&claim_no_a));
    let br = app.browser();
    br.login("station_b");
    let p = br.get(&format!("/claims/{cb}"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("该照片已在其他赔案中使用"));
    assert!(!p.body.contains(&claim_no_a));
}

/// Scripts come from files: the CSP allows no inline script, and no page
/// carries one (the survey page reads its token from an attribute).
#[test]
fn pages_carry_no_inline_script_and_the_csp_forbids_it() {
    let app = spawn_app_at("2012-06-12 16:00");
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/login", app.address))
        .send()
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .expect("script-src");
    assert_eq!(script_src, "script-src 'self'", "{csp}");
    let style_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("style-src"))
        .expect("style-src");
    assert_eq!(style_src, "style-src 'self'", "{csp}");

    let ins = insured(&app, "脚本户", 36, true);
    let uw = app.api("underwriter");
    let claim = report(&uw, &ins, "hail", "2012-06-12 14:30").body["id"]
        .as_i64()
        .unwrap();
    dispatch(&uw, claim);
    let g = uw.get(&format!("/api/v1/policies/{}", ins.policy_id)).body["grower_id"]
        .as_i64()
        .unwrap();
    let inline = regex::Regex::new(r#"<script(?:\s[^>]*)?>"#).unwrap();
    let handler = regex::Regex::new(r#"\son[a-z]+\s*="#).unwrap();
    let check = |who: &str, path: &str| {
        let br = app.browser();
        br.login(who);
        let p = br.get(path);
        assert!(p.status == 200 || p.status >= 400, "{path}");
        for tag in inline.find_iter(&p.body) {
            let t = tag.as_str();
            assert!(
                t.contains(" src=") || t.contains(r#"type="application/json""#),
                "{path}: inline script {t}"
            );
        }
        assert!(!handler.is_match(&p.body), "{path}: inline event handler");
        assert!(!p.body.contains("javascript:"), "{path}");
        assert!(!p.body.contains(" style=\""), "{path}: inline style");
        assert!(!p.body.contains("<style"), "{path}: style block");
        p.body
    };
    let survey = check("adjuster", &format!("/claims/{claim}/survey"));
    assert!(survey.contains("data-csrf=\""), "{survey}");
    assert!(check("admin", &format!("/growers/{g}")).contains("data-confirm="));
    check("underwriter", "/claims/new?q=脚本户");
    check("admin", "/no-such-page");
    check("admin", "/growers/999999");
    check("admin", "/audit");
    check("admin", "/accounts");
    check("admin", "/");
    check("finance", "/finance");
    check("underwriter", "/claims/board");
    check("station_a", "/account/password");
    // The file the pages load is served.
    let js = reqwest::blocking::Client::new()
        .get(format!("{}/static/app.js", app.address))
        .send()
        .unwrap();
    assert_eq!(js.status().as_u16(), 200);
    assert!(js.text().unwrap().contains("data-confirm"));
}

/// `guobao export household-list` writes the list in full and records it as
/// an export by the system, naming the policies in it.
#[test]
fn a_cli_export_is_audited_too() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "命令行户", 37, true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.xlsx").display().to_string();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "export",
            "household-list",
            "--township",
            TOWNSHIP_A,
            "-o",
            &out,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = audited(&app, "export");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "system");
    assert_eq!(rows[0].3["kind"], "household_list");
    assert_eq!(rows[0].3["ids"], json!([[ins.policy_id, ins.policy_id]]));
}

/// Pages and API answers hold personal data: the browser must not keep a copy
/// (a shared desk, the back button after logout). Static files, photos and
/// the tablet scripts keep the caching they ask for.
#[test]
fn personal_pages_and_answers_are_not_kept_by_the_browser() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "缓存户", 37, true);
    let station = app.api("station_a");
    let grower = station
        .get(&format!("/api/v1/policies/{}", ins.policy_id))
        .body["grower_id"]
        .as_i64()
        .unwrap();
    let br = app.browser();
    br.login("station_a");
    for path in [
        "/".to_string(),
        format!("/growers/{grower}"),
        format!("/policies/{}", ins.policy_id),
        "/growers".to_string(),
    ] {
        let p = br.get(&path);
        assert_eq!(p.status, 200, "{path}");
        assert_eq!(p.cache.as_deref(), Some("no-store"), "{path}");
    }
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/growers/{grower}", app.address))
        .bearer_auth(&station.token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let css = br.get("/static/app.css");
    assert_eq!(css.cache.as_deref(), Some("public, max-age=3600"));
    let script = br.get("/claims/survey.js");
    assert_eq!(script.cache.as_deref(), Some("no-cache"));
}
