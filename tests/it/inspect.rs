//! The monthly inspection (按月巡检): `guobao inspect` and `/admin/inspect`
//! over a month seeded with one claim surveyed on time, one late, one not
//! surveyed past its deadline, payouts unpaid past their 10 days (and one on
//! its last day), failed logins and a lockout, server errors, and backups
//! with and without a restore test — each figure and status asserted.

use crate::helpers::claims::*;
use crate::helpers::*;
use calamine::{Data, Reader};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use guobao::db::schema::{claim_payments, claims, error_events, ops_inspections};
use guobao::ops::backup::manifest::{self, DatabaseKind, Manifest, PhotoSummary, RestoreCheck};
use guobao::ops::inspect::Month;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

struct Cli<'a> {
    app: &'a TestApp,
    backups: &'a Path,
    cert: Option<&'a Path>,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_guobao"));
        cmd.arg("--database-url")
            .arg(&self.app.db.url)
            .arg("--photo-store")
            .arg(self.app.db.photos.path())
            .arg("inspect")
            .args(args)
            .env_remove("GUOBAO_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("GUOBAO_TLS_CERT")
            .env("GUOBAO_BACKUP_DIR", self.backups)
            .env("RUST_LOG", "warn")
            .current_dir(std::env::temp_dir());
        if let Some(c) = self.cert {
            cmd.env("GUOBAO_TLS_CERT", c);
        }
        cmd.output().unwrap()
    }

    /// `inspect --json --month M`, which must succeed.
    fn json(&self, month: Month) -> Value {
        let m = month.to_string();
        let o = self.run(&["--json", "--month", &m]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A backup as `guobao backup` leaves it: a stamp directory with a manifest
/// and the database file.
fn fake_backup(root: &Path, at: DateTime<Utc>, check: Option<bool>) {
    let kind = if backend() == "postgres" {
        DatabaseKind::Postgres
    } else {
        DatabaseKind::Sqlite
    };
    let dir = root.join(manifest::stamp(at));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(kind.file_name()), b"copy").unwrap();
    Manifest {
        format: manifest::FORMAT,
        created_at: at,
        finished_at: at,
        app_version: "0.1.0".into(),
        schema_version: "20261205000019".into(),
        database: kind,
        tables: Default::default(),
        photos: PhotoSummary::default(),
        restore_check: check.map(|ok| RestoreCheck {
            at: at + Duration::minutes(5),
            ok,
            detail: if ok {
                "全部一致".into()
            } else {
                "claims 表不一致".into()
            },
        }),
    }
    .write(&dir)
    .unwrap();
}

struct Seeded {
    on_time: String,
    late: String,
    unsurveyed: String,
    unpaid_11_days: String,
    paid_after_month_end: String,
    due_on_last_day: String,
}

/// Five claims reported through the API, then moved into month `m` by hand
/// (their times and steps, as the desks would have left them).
fn seed_claims(app: &TestApp, m: Month) -> Seeded {
    let uw = app.api("underwriter");
    let mut nos = Vec::new();
    let mut ids = Vec::new();
    for (i, name) in ["准时户", "超时户", "未查户", "欠款户", "后付户", "当日户"]
        .iter()
        .enumerate()
    {
        let ins = insured(app, name, i as u32 + 1, true);
        let r = report(&uw, &ins, "hail", "2012-06-12 08:00");
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_i64().unwrap());
        nos.push(r.body["claim_no"].as_str().unwrap().to_string());
    }
    let mut c = app.conn();
    // Reported on the 3rd at 10:00 China time (02:00 UTC), due 24 h later.
    let reported = m.start() + Duration::days(2) + Duration::hours(10);
    let due = reported + Duration::hours(24);
    let set_survey =
        |c: &mut guobao::db::DbConn, id: i64, status: &str, surveyed: Option<String>| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq(status),
                    claims::reported_at.eq(text(reported)),
                    claims::survey_due_at.eq(text(due)),
                    claims::surveyed_at.eq(surveyed),
                ))
                .execute(c)
                .unwrap();
        };
    set_survey(
        &mut c,
        ids[0],
        "surveyed",
        Some(text(reported + Duration::hours(20))),
    );
    set_survey(
        &mut c,
        ids[1],
        "surveyed",
        Some(text(reported + Duration::hours(30))),
    );
    set_survey(&mut c, ids[2], "dispatched", None);
    let last = m.last_day();
    let agreed = |c: &mut guobao::db::DbConn, id: i64, on: NaiveDate, payout: i64| {
        diesel::update(claims::table.find(id))
            .set((
                claims::status.eq("agreed"),
                claims::payout_fen.eq(Some(payout)),
                claims::agreed_on.eq(Some(day(on))),
                claims::payment_due_on.eq(Some(day(on + Duration::days(10)))),
                claims::paid_fen.eq(0),
            ))
            .execute(c)
            .unwrap();
    };
    // Agreed 11 days before the month's end: one day past the 10.
    agreed(&mut c, ids[3], last - Duration::days(11), 123_456);
    // Past its day at the month's end, paid in full only after it.
    agreed(&mut c, ids[4], last - Duration::days(20), 50_000);
    diesel::insert_into(claim_payments::table)
        .values((
            claim_payments::claim_id.eq(ids[4]),
            claim_payments::amount_fen.eq(50_000i64),
            claim_payments::paid_on.eq(day(last + Duration::days(1))),
            claim_payments::bank_reference.eq("LATE-PAY-1"),
            claim_payments::created_at.eq(text(Utc::now())),
        ))
        .execute(&mut c)
        .unwrap();
    // Agreed 10 days before the end: its last day is the month's last, not late.
    agreed(&mut c, ids[5], last - Duration::days(10), 70_000);
    let mut nos = nos.into_iter();
    let mut next = || nos.next().unwrap();
    Seeded {
        on_time: next(),
        late: next(),
        unsurveyed: next(),
        unpaid_11_days: next(),
        paid_after_month_end: next(),
        due_on_last_day: next(),
    }
}

fn error_event(c: &mut guobao::db::DbConn, at: DateTime<Utc>, code: &str) {
    diesel::insert_into(error_events::table)
        .values((
            error_events::at.eq(text(at)),
            error_events::request_id.eq("req-test"),
            error_events::method.eq("POST"),
            error_events::route.eq("/api/v1/claims"),
            error_events::status.eq(500),
            error_events::code.eq(code),
            error_events::message.eq("测试"),
        ))
        .execute(c)
        .unwrap();
}

fn failed_login(app: &TestApp, username: &str) -> u16 {
    reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/session", app.address))
        .json(&serde_json::json!({"username": username, "password": "wrong-password-1"}))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn stored_rows(app: &TestApp, month: Month) -> i64 {
    ops_inspections::table
        .filter(ops_inspections::month.eq(month.to_string()))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

/// Every sheet of a workbook as rows of text.
fn workbook(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| r.iter().map(cell_text).collect())
                .collect();
            (name, rows)
        })
        .collect()
}

fn row_with<'a>(rows: &'a [Vec<String>], a: &str, b: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r.first().is_some_and(|x| x == a) && r.get(1).is_some_and(|x| x == b))
        .unwrap_or_else(|| panic!("no row {a} / {b} in {rows:?}"))
}

#[test]
fn the_month_is_inspected_figure_by_figure() {
    // The policies' season; the clock moves to today once the claims exist.
    let app = spawn_app_at("2012-06-12 16:00");
    let now = Utc::now();
    let month = Month::previous_full(now);
    let current = Month::containing(now);
    let seeded = seed_claims(&app, month);
    app.clock.set(Utc::now());

    // Failed logins and a lockout, this month: two for station_a, and five
    // for station_b, which lock it.
    for _ in 0..2 {
        assert_eq!(failed_login(&app, "station_a"), 401);
    }
    for _ in 0..5 {
        assert_eq!(failed_login(&app, "station_b"), 401);
    }
    assert_eq!(failed_login(&app, "station_b"), 429, "locked");

    // Server faults: three in the month, one in the next (not counted).
    {
        let mut c = app.conn();
        let mid = month.start() + Duration::days(5);
        error_event(&mut c, mid, "internal");
        error_event(&mut c, mid + Duration::hours(1), "internal");
        error_event(&mut c, month.end() - Duration::seconds(1), "db_unavailable");
        error_event(&mut c, month.end(), "internal");
    }

    let backups = tempfile::tempdir().unwrap();
    let cert_dir = tempfile::tempdir().unwrap();
    let cert = cert_dir.path().join("cert.pem");
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-days",
            "20",
            "-subj",
            "/CN=guobao-test",
            "-keyout",
        ])
        .arg(cert_dir.path().join("key.pem"))
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let cli = Cli {
        app: &app,
        backups: backups.path(),
        cert: Some(&cert),
    };

    // The month before first: its size is what this month's growth is measured from.
    let before = cli.json(month.previous());
    assert!(before["storage"]["previous_bytes"].is_null(), "{before}");
    assert!(
        before["storage"]["note"]
            .as_str()
            .unwrap()
            .contains("没有巡检记录"),
        "{before}"
    );

    // No backup at all: a finding, not an error.
    let r = cli.json(month);
    assert_eq!(r["month"], month.to_string());
    assert_eq!(r["backup"]["status"], "abnormal", "{}", r["backup"]);
    assert_eq!(r["backup"]["status_name"], "异常");
    assert!(r["backup"]["latest"].is_null());
    assert_eq!(r["backup"]["backups"], 0);

    // The audit chain is intact.
    assert_eq!(r["audit"]["status"], "normal", "{}", r["audit"]);
    assert_eq!(r["audit"]["intact"], true);
    assert!(r["audit"]["rows"].as_i64().unwrap() > 10);

    // Surveys: one on time, one late, one past its deadline unsurveyed.
    let s = &r["surveys"];
    assert_eq!(s["reported"], 3, "{s}");
    assert_eq!(s["on_time"], 1, "{s}");
    assert_eq!(s["late"], 1, "{s}");
    assert_eq!(s["overdue"], 1, "{s}");
    assert_eq!(s["pending"], 0, "{s}");
    assert_eq!(s["on_time_percent"], "33.3", "{s}");
    assert_eq!(s["late_claims"], serde_json::json!([seeded.late]));
    assert_eq!(s["overdue_claims"], serde_json::json!([seeded.unsurveyed]));
    assert!(!s.to_string().contains(&seeded.on_time));
    assert_eq!(s["status"], "abnormal", "unsurveyed past the deadline");

    // Payments: 11 days unpaid, and one paid only after the month's end;
    // the one agreed 10 days before the end is on its last day, not late.
    let p = &r["payments"];
    assert_eq!(p["as_of"], month.last_day().to_string());
    assert_eq!(p["overdue"], 2, "{p}");
    assert_eq!(p["owed"], "1734.56", "{p}");
    let listed: Vec<&str> = p["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["claim_no"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![
            seeded.paid_after_month_end.as_str(),
            seeded.unpaid_11_days.as_str()
        ]
    );
    assert_eq!(p["claims"][1]["days_overdue"], 1);
    assert_eq!(p["claims"][1]["owed"], "1234.56");
    assert!(!p.to_string().contains(&seeded.due_on_last_day));
    assert_eq!(p["status"], "abnormal");

    // Errors in the month, by code.
    let e = &r["errors"];
    assert_eq!(e["total"], 3, "{e}");
    assert_eq!(
        e["by_code"],
        serde_json::json!([{"name": "internal", "count": 2}, {"name": "db_unavailable", "count": 1}])
    );
    assert_eq!(e["status"], "attention");

    // Logins happened this month, not in the month inspected.
    assert_eq!(r["logins"]["failures"], 0);
    assert_eq!(r["logins"]["status"], "normal");

    // Size and growth against the month before's record.
    let st = &r["storage"];
    let bytes = st["db_bytes"].as_i64().unwrap();
    assert!(bytes > 0);
    assert_eq!(st["previous_month"], month.previous().to_string());
    assert_eq!(st["previous_bytes"], before["storage"]["db_bytes"]);
    assert_eq!(
        st["growth_bytes"].as_i64().unwrap(),
        bytes - before["storage"]["db_bytes"].as_i64().unwrap()
    );

    // Disk: the database (SQLite), photo and backup directories, read.
    let places = r["disk"]["places"].as_array().unwrap();
    let whats: Vec<&str> = places.iter().map(|p| p["what"].as_str().unwrap()).collect();
    assert!(
        whats.contains(&"照片目录") && whats.contains(&"备份目录"),
        "{whats:?}"
    );
    assert_eq!(
        whats.contains(&"数据库目录"),
        backend() == "sqlite",
        "{whats:?}"
    );
    assert!(places
        .iter()
        .all(|p| p["total_bytes"].as_u64().unwrap() > 0));

    // The certificate runs out in 20 days: 注意.
    let c = &r["certificate"];
    assert_eq!(c["configured"], true);
    assert!((19..=20).contains(&c["days_left"].as_i64().unwrap()), "{c}");
    assert_eq!(c["status"], "attention", "{c}");

    assert_eq!(r["status"], "abnormal");
    assert_eq!(r["sections"].as_array().unwrap().len(), 9);

    // This month: the failed logins and the lock.
    let now_report = cli.json(current);
    let l = &now_report["logins"];
    assert_eq!(l["failures"], 7, "{l}");
    assert_eq!(l["accounts"], 2, "{l}");
    assert_eq!(l["lockouts"], 1, "{l}");
    assert_eq!(l["locked"], serde_json::json!(["用户名 station_b"]));
    assert_eq!(
        l["top_accounts"][0],
        serde_json::json!({"name": "station_b", "count": 5})
    );
    assert_eq!(l["status"], "attention");
    assert_eq!(
        now_report["errors"]["total"], 1,
        "the fault of the next month"
    );

    // A backup never restore-tested: 注意; tested and passed: 正常; a newer
    // one whose test failed: 异常.
    let yesterday = now - Duration::days(1);
    fake_backup(backups.path(), yesterday, None);
    let b = &cli.json(month)["backup"];
    assert_eq!(b["status"], "attention", "{b}");
    assert_eq!(b["latest"]["restore_test"], "never");
    assert_eq!(b["latest"]["restore_test_name"], "从未测试");
    assert_eq!(b["backups"], 1);
    fake_backup(backups.path(), yesterday, Some(true));
    let b = &cli.json(month)["backup"];
    assert_eq!(b["status"], "normal", "{b}");
    assert_eq!(b["latest"]["restore_test"], "passed");
    let age = b["latest"]["age_hours"].as_i64().unwrap();
    assert!((24..=25).contains(&age), "{age}");
    fake_backup(backups.path(), now - Duration::hours(2), Some(false));
    let b = &cli.json(month)["backup"];
    assert_eq!(b["status"], "abnormal", "{b}");
    assert_eq!(b["latest"]["restore_test"], "failed");
    assert_eq!(b["backups"], 2);
    // Only an old one, tested: 异常 all the same, by its age.
    let old = tempfile::tempdir().unwrap();
    fake_backup(old.path(), now - Duration::days(9), Some(true));
    let b = &Cli {
        app: &app,
        backups: old.path(),
        cert: None,
    }
    .json(month);
    assert_eq!(b["backup"]["status"], "abnormal", "{}", b["backup"]);
    assert!(b["backup"]["note"].as_str().unwrap().contains("9天"));
    assert_eq!(b["certificate"]["configured"], false);
    assert!(b["certificate"]["note"]
        .as_str()
        .unwrap()
        .contains("未配置"));

    // Each run replaced the month's record.
    assert_eq!(stored_rows(&app, month), 1);

    // The text report, in Chinese.
    let o = cli.run(&["--month", &month.to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for expected in [
        "月度巡检",
        "【24小时查勘】异常",
        "按时率：33.3%",
        &seeded.unsurveyed,
    ] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }

    // The workbook holds the same figures, in China time.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("巡检.xlsx");
    let o = cli.run(&["--month", &month.to_string(), "-o", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sheets = workbook(&std::fs::read(&file).unwrap());
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["巡检汇总", "巡检明细", "逾期未付赔款", "系统错误"]
    );
    let summary = &sheets[0].1;
    assert_eq!(row_with(summary, "24小时查勘", "异常").len(), 3);
    row_with(summary, "赔款支付时限", "异常");
    row_with(summary, "证书有效期", "注意");
    let figures = &sheets[1].1;
    assert_eq!(row_with(figures, "24小时查勘", "按时率")[2], "33.3%");
    assert_eq!(row_with(figures, "24小时查勘", "逾期未查勘")[2], "1");
    assert_eq!(row_with(figures, "赔款支付时限", "逾期未付赔案")[2], "2");
    assert_eq!(row_with(figures, "系统错误", "错误次数")[2], "3");
    assert_eq!(row_with(figures, "备份与恢复测试", "恢复测试")[2], "未通过");
    let unpaid = &sheets[2].1;
    let r11 = unpaid
        .iter()
        .find(|r| r.first() == Some(&seeded.unpaid_11_days))
        .unwrap();
    assert_eq!(r11[3], "1");
    assert_eq!(r11[4], "1234.56");
    let iso = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").unwrap();
    for (name, rows) in &sheets {
        for row in rows {
            for c in row {
                assert!(!iso.is_match(c), "UTC text {c:?} on {name}");
            }
        }
    }

    // The page shows the figures to the admin, with the download and the menu entry.
    let admin = app.browser();
    admin.login("admin");
    let page = admin.get(&format!("/admin/inspect?month={month}"));
    assert_eq!(page.status, 200, "{}", page.body);
    for expected in [
        "月度巡检",
        "33.3%",
        seeded.unsurveyed.as_str(),
        seeded.unpaid_11_days.as_str(),
        "1234.56元",
        "internal",
        ">巡检<",
        "table-wrap",
        &format!("/admin/inspect.xlsx?month={month}"),
    ] {
        assert!(page.body.contains(expected), "{expected} missing");
    }
    let (status, kind, bytes) = admin.get_bytes(&format!("/admin/inspect.xlsx?month={month}"));
    assert_eq!(status, 200);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    let sheets = workbook(&bytes);
    assert_eq!(row_with(&sheets[1].1, "24小时查勘", "按时率")[2], "33.3%");
    // The default month is the previous full one.
    let page = admin.get("/admin/inspect");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("月度巡检 {month}")));
    // A month that is no month, or has not come: a Chinese 422.
    let next = current.next().to_string();
    for bad in ["2026-13", "abc", next.as_str()] {
        let p = admin.get(&format!("/admin/inspect?month={bad}"));
        assert_eq!(p.status, 422, "{bad}");
        assert!(p.body.contains("巡检月份"), "{bad}");
    }
    assert_eq!(stored_rows(&app, month), 1);

    // Everyone else: 403, and no menu entry.
    let station = app.browser();
    station.login("station_a");
    let p = station.get(&format!("/admin/inspect?month={month}"));
    assert_eq!(p.status, 403);
    assert!(!p.body.contains("33.3%"));
    assert_eq!(station.get_bytes("/admin/inspect.xlsx").0, 403);
    assert!(!station.get("/").body.contains(">巡检<"));
}

#[test]
fn a_bad_month_exits_2_and_writes_nothing() {
    let app = spawn_app();
    let backups = tempfile::tempdir().unwrap();
    let cli = Cli {
        app: &app,
        backups: backups.path(),
        cert: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.xlsx");
    let next = Month::containing(Utc::now()).next().to_string();
    for bad in ["2026-13", "abc", "2026-00", next.as_str()] {
        let o = cli.run(&["--month", bad, "-o", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("巡检月份"), "{bad}: {}", stderr(&o));
        assert!(!file.exists(), "{bad}");
        let o = cli.run(&["--month", bad, "--json"]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["error"], "validation_failed", "{v}");
    }
    // Not an .xlsx name: refused before anything is read.
    let o = cli.run(&["-o", dir.path().join("out.csv").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let n: i64 = ops_inspections::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(n, 0, "nothing kept");
    // The default month is the previous full one, and is kept.
    let o = cli.run(&["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["month"], Month::previous_full(Utc::now()).to_string());
    assert_eq!(stored_rows(&app, Month::previous_full(Utc::now())), 1);
}
