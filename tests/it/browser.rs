//! Real-browser tests of the pages used on a 10-inch tablet: the township
//! station's enrollment pages, and the adjuster's survey page with no signal.
//!
//! Spawns the app over a fresh seeded database, then drives Debian's Chromium with
//! playwright-core through `tests/browser/enroll.mjs` (login, dashboard, grower form
//! with a wrong and a right ID number, plot eligibility, policy money, layout and
//! touch-target checks, and a dashboard screenshot whose path is printed).
//!
//! Needs /usr/bin/chromium, node and `npm ci` in tests/browser (all done by
//! `.ci/run`). Without them the test is skipped locally and fails under CI=true.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A script's limit: the demo walk (six roles, two screen sizes, ~200 pages)
/// takes about 2 minutes on a quiet 2-core machine and 4 on a busy one.
const TIMEOUT: Duration = Duration::from_secs(480);

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn read_all(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

/// Tools present, or the reason the browser tests cannot run (fatal under CI).
fn tools_ready() -> bool {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let playwright = dir.join("node_modules/playwright-core/package.json");
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(CHROMIUM.to_string());
    }
    if !playwright.exists() {
        missing.push(format!(
            "{} (npm ci in tests/browser)",
            playwright.display()
        ));
    }
    if !node_available() {
        missing.push("node".to_string());
    }
    if missing.is_empty() {
        return true;
    }
    let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0");
    if ci.unwrap_or(false) {
        panic!(
            "browser test cannot run under CI: missing {}; run .ci/run (it installs chromium and runs npm ci in tests/browser)",
            missing.join(", ")
        );
    }
    println!("skipped: chromium/playwright-core not installed (run .ci/run)");
    println!("  missing: {}", missing.join(", "));
    false
}

/// Run a script in tests/browser with node; its stdout, after insisting it passed.
fn run_script(name: &str, args: &[&str], env: &[(&str, &str)], done: &str) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(name);
    let out_dir = tempfile::tempdir().expect("tempdir for script output");
    let out_path = out_dir.path().join("stdout.txt");
    let err_path = out_dir.path().join("stderr.txt");
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start node");

    let started = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait for node") {
            Some(status) => break Some(status),
            None if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let stdout = read_all(&out_path);
    let stderr = read_all(&err_path);
    println!("--- {name} stdout ---\n{stdout}");
    if !stderr.trim().is_empty() {
        println!("--- {name} stderr ---\n{stderr}");
    }
    match status {
        None => panic!(
            "{name} did not finish within {TIMEOUT:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
        Some(s) => assert!(
            s.success(),
            "{name} failed ({s})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
    }
    assert!(
        stdout.contains(done),
        "{name} exited 0 without finishing its checks\n{stdout}"
    );
    stdout
}

#[test]
fn tablet_enrollment_in_a_real_browser() {
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app();
    run_script(
        "enroll.mjs",
        &[&app.address, crate::helpers::PASSWORD],
        &[],
        "browser checks passed",
    );
}

/// Accounts in a real browser (tests/browser/accounts.mjs): an admin creates
/// an account, its person must choose a password first, logout kills the cookie.
#[test]
fn tablet_account_and_first_password_in_a_real_browser() {
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app();
    run_script(
        "accounts.mjs",
        &[&app.address, crate::helpers::PASSWORD],
        &[],
        "account checks passed",
    );
}

/// The survey page with the network cut and restored (tests/browser/survey.mjs);
/// also the home's 保存全部查勘页 (a saved page opens with no signal) and the
/// survey worker leaving the 验标 page's offline cache alone.
#[test]
fn tablet_survey_survives_a_lost_signal() {
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app();
    let claim = survey_fixture(&app);
    let next = next_fixture(&app);
    let token = app.api("underwriter").token;
    run_script(
        "survey.mjs",
        &[
            &app.address,
            crate::helpers::PASSWORD,
            &claim.to_string(),
            &token,
            &next.to_string(),
        ],
        &[("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")],
        "survey checks passed",
    );
    // Exactly one survey and one photo reached the database.
    assert_eq!(crate::helpers::count(&mut app.conn(), "claim_surveys"), 1);
    assert_eq!(crate::helpers::count(&mut app.conn(), "claim_photos"), 1);
}

/// An issued policy on a 15-mu plot with its polygon, a hail report on it,
/// dispatched to `adjuster` and `forestry`. Returns the claim id.
fn survey_fixture(app: &crate::helpers::TestApp) -> i64 {
    use crate::helpers::claims::*;
    let ins = insured(app, "查勘户", 1, true);
    let uw = app.api("underwriter");
    let r = report(&uw, &ins, "hail", "2012-06-12 14:30");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "reported", "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    id
}

/// A second claim dispatched to `adjuster`, the survey page's next one.
fn next_fixture(app: &crate::helpers::TestApp) -> i64 {
    use crate::helpers::claims::*;
    let ins = insured(app, "下一户", 2, true);
    let uw = app.api("underwriter");
    let r = report(&uw, &ins, "wind", "2012-06-12 15:00");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    id
}

/// The report form double-clicked on a slow line (tests/browser/report.mjs):
/// one claim, the rows told apart at 800 px, an excluded cause confirmed.
#[test]
fn a_double_clicked_report_records_one_claim() {
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app_at("2012-06-12 16:00");
    let ins = crate::helpers::claims::insured(&app, "双击报案", 3, true);
    let token = app.api("underwriter").token;
    run_script(
        "report.mjs",
        &[
            &app.address,
            crate::helpers::PASSWORD,
            &token,
            &ins.plot_id.to_string(),
        ],
        &[],
        "report checks passed",
    );
    assert_eq!(crate::helpers::count(&mut app.conn(), "claims"), 1);
}

/// 农户自助查询 on a 360 px phone (tests/browser/self.mjs): reached from the
/// login page, no sideways scroll, large touch targets, the right pair's
/// records and a wrong pair's refusal.
#[test]
fn grower_self_service_on_a_phone_in_a_real_browser() {
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app_at("2012-06-12 08:00");
    let ins = crate::helpers::claims::insured(&app, "自助户", 21, true);
    run_script(
        "self.mjs",
        &[
            &app.address,
            &crate::helpers::id_number("19700101", 21),
            "13800000000",
            &ins.policy_no,
        ],
        &[],
        "self-service checks passed",
    );
}

/// A 200-household enrollment notice printed to A4 (tests/browser/notice_print.mjs):
/// more than one page, the table header repeating (thead as table-header-group).
#[test]
fn a_long_notice_prints_on_several_a4_pages_with_its_header() {
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app_at("2012-03-20 09:00");
    {
        let mut conn = app.conn();
        let scheme = guobao::app::schemes::by_code(&mut conn, "walnut-2012").unwrap();
        let village: i64 = {
            use diesel::prelude::*;
            use guobao::db::schema::areas;
            areas::table
                .filter(areas::code.eq(crate::helpers::VILLAGE_A1))
                .select(areas::id)
                .first(&mut conn)
                .unwrap()
        };
        let places = [guobao::demo::synth::Place {
            township_id: app.seed.township_a,
            village_id: village,
            township_code: crate::helpers::TOWNSHIP_A.into(),
        }];
        let areas: Vec<i64> = (0..200).map(|i| 10_000 + i * 137).collect();
        guobao::demo::synth::insert_policies(
            &mut conn,
            &scheme,
            &places,
            &areas,
            "np",
            guobao::domain::policy::PolicyStatus::Collected,
        )
        .unwrap();
    }
    let r = crate::helpers::notices::post_notice(
        &app.api("station_a"),
        serde_json::json!({"kind": "enrollment", "village_code": crate::helpers::VILLAGE_A1,
                           "starts_on": "2012-03-20"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 200);
    let id = r.body["id"].as_i64().unwrap().to_string();
    run_script(
        "notice_print.mjs",
        &[&app.address, crate::helpers::PASSWORD, &id],
        &[],
        "notice print checks passed",
    );
}

/// The inspection page with the network cut and restored, then the server
/// answering 503 before it answers again (tests/browser/inspection.mjs),
/// after the village page's 保存本村待核验地块 kept it for use with no signal:
/// one 15-mu plot with its polygon on a draft policy, the only plot of 一村,
/// drawn as the village's sample.
#[test]
fn tablet_inspection_survives_a_lost_signal() {
    if !tools_ready() {
        return;
    }
    use serde_json::json;
    let app = crate::helpers::spawn_app();
    let station = app.api("station_a");
    let g = crate::helpers::GrowerBuilder::new("验标户")
        .seq(1)
        .create(&station);
    let r = station.post(
        "/api/v1/plots",
        json!({"grower_id": g, "variety": "early", "tree_age": 8, "tree_count": 300,
               "fruit_per_tree": 300, "area_mu": "15", "boundary": crate::helpers::claims::square()}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let village: i64 = {
        use diesel::prelude::*;
        use guobao::db::schema::areas;
        areas::table
            .filter(areas::code.eq(crate::helpers::VILLAGE_A1))
            .select(areas::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let d = station.post(
        &format!("/api/v1/inspection/villages/{village}/draws"),
        json!({"mode": "individual", "seed": 1}),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    let sample = d.body["samples"][0]["id"].as_i64().unwrap();
    let token = app.api("underwriter").token;
    run_script(
        "inspection.mjs",
        &[
            &app.address,
            crate::helpers::PASSWORD,
            &sample.to_string(),
            &token,
        ],
        &[("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")],
        "inspection checks passed",
    );
    assert_eq!(
        crate::helpers::count(&mut app.conn(), "inspection_results"),
        1
    );
    assert_eq!(
        crate::helpers::count(&mut app.conn(), "inspection_photos"),
        1
    );
}

/// Every page of every role of the demo county, at 1280×800 and 800×1280
/// (tests/browser/walk.mjs): nothing tappable under 44 px, no ISO timestamp,
/// no internal code or hash, no key column cut off, no sideways page.
#[test]
fn every_page_of_every_role_fits_a_tablet_and_speaks_chinese() {
    if !tools_ready() {
        return;
    }
    let db = crate::helpers::TestDb::new();
    let pool = guobao::startup::prepare_database(&db.url).expect("database");
    {
        let mut conn = pool.get().expect("connection");
        guobao::demo::load::load(&mut conn, &mut |_, _| {}).expect("demo county");
    }
    let address = crate::helpers::start_server(pool);
    let out = run_script(
        "walk.mjs",
        &[
            &address,
            guobao::demo::load::DEMO_PASSWORD,
            "admin,forestry,station01,underwriter,adjuster,finance",
        ],
        &[],
        "walk checks passed",
    );
    // The walk reached the pages that matter for each desk.
    for page in [
        "/policies/queue",
        "/claims",
        "/finance",
        "/audit",
        "/accounts",
        "/admin/inspect",
    ] {
        assert!(
            out.contains(&format!(" {page} ")),
            "{page} not walked:\n{out}"
        );
    }
}

/// Bulk issuance in a real browser (tests/browser/bulk_issue.mjs): every
/// collected policy of a township, over more than one page, issued in one
/// action after a preview whose counts and money the script checks.
#[test]
fn bulk_issuance_of_a_township_in_a_real_browser() {
    use crate::helpers::{GrowerBuilder, PlotBuilder};
    use serde_json::json;
    if !tools_ready() {
        return;
    }
    let app = crate::helpers::spawn_app();
    let station = app.api("station_a");
    for i in 0..5u32 {
        let g = GrowerBuilder::new(&format!("浏览器签发{i}"))
            .seq(150 + i)
            .create(&station);
        PlotBuilder::new(g).mu("1.25").create(&station);
        let id = station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
            .as_i64()
            .unwrap();
        let r = station.post(
            &format!("/api/v1/policies/{id}/collect"),
            json!({"collected_on": "2012-03-10"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    crate::helpers::notices::enrollment_notice_ended(&app, crate::helpers::VILLAGE_A1);
    let township = app.seed.township_a.to_string();
    run_script(
        "bulk_issue.mjs",
        &[&app.address, crate::helpers::PASSWORD, &township, "5"],
        &[],
        "bulk issue checks passed",
    );
    let uw = app.api("underwriter");
    let list = uw.get("/api/v1/policies?status=issued");
    assert_eq!(list.body["total"], 5, "{}", list.body);
}
