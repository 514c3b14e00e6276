//! Real-browser test of the pages a township station uses on a 10-inch tablet.
//!
//! Spawns the app over a fresh seeded database, then drives Debian's Chromium with
//! playwright-core through `tests/browser/enroll.mjs` (login, dashboard, grower form
//! with a wrong and a right ID number, plot eligibility, policy money, layout and
//! touch-target checks, and a dashboard screenshot whose path is printed).
//!
//! Needs /usr/bin/chromium, node and `npm ci` in tests/browser (all done by
//! `.ci/run`). Without them the test is skipped locally and fails under CI=true.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const TIMEOUT: Duration = Duration::from_secs(240);

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

#[test]
fn tablet_enrollment_in_a_real_browser() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let script = dir.join("enroll.mjs");
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
    if !missing.is_empty() {
        let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0");
        if ci.unwrap_or(false) {
            panic!(
                "browser test cannot run under CI: missing {}; run .ci/run (it installs chromium and runs npm ci in tests/browser)",
                missing.join(", ")
            );
        }
        println!("skipped: chromium/playwright-core not installed (run .ci/run)");
        println!("  missing: {}", missing.join(", "));
        return;
    }

    let app = common::spawn_app();

    let out_dir = tempfile::tempdir().expect("tempdir for script output");
    let out_path = out_dir.path().join("stdout.txt");
    let err_path = out_dir.path().join("stderr.txt");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(&app.address)
        .arg(common::PASSWORD)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start node tests/browser/enroll.mjs");

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
    println!("--- enroll.mjs stdout ---\n{stdout}");
    if !stderr.trim().is_empty() {
        println!("--- enroll.mjs stderr ---\n{stderr}");
    }
    match status {
        None => panic!(
            "enroll.mjs did not finish within {TIMEOUT:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
        Some(s) => assert!(
            s.success(),
            "enroll.mjs failed ({s})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
    }
    assert!(
        stdout.contains("browser checks passed"),
        "enroll.mjs exited 0 without finishing its checks\n{stdout}"
    );
}
