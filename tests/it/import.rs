//! Roster import through the CLI and through the web upload.

use crate::helpers::report::{Table, FEN, MU_UNITS};
use crate::helpers::*;
use calamine::Reader;
use serde_json::Value;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/rosters/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn guobao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn import_json(app: &TestApp, file: &str, extra: &[&str]) -> (Option<i32>, Value) {
    import_into(app, TOWNSHIP_A, &fixture(file), extra)
}

/// `guobao import roster PATH --township CODE --json` and the report it prints.
fn import_into(app: &TestApp, township: &str, path: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec![
        "--database-url",
        &app.db.url,
        "import",
        "roster",
        path,
        "--township",
        township,
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = guobao(&args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code(), v)
}

/// The same, for an import expected to exit 0.
fn imported(app: &TestApp, township: &str, path: &str, extra: &[&str]) -> Value {
    let (status, v) = import_into(app, township, path, extra);
    assert_eq!(status, Some(0), "{v}");
    v
}

#[test]
fn dry_run_writes_nothing_then_commit_then_reupload_changes_nothing() {
    for file in ["standard.xlsx", "standard.xls", "standard.ods"] {
        let app = spawn_app();
        let (code, v) = import_json(&app, file, &["--dry-run"]);
        assert_eq!(code, Some(0), "{file}: {v}");
        assert_eq!(v["counts"]["rows"], 10, "{file}");
        assert_eq!(v["counts"]["new"], 10, "{file}");
        assert_eq!(v["counts"]["ineligible"], 2, "{file}");
        assert_eq!(v["counts"]["rejected"], 0, "{file}: {v}");
        assert_eq!(v["committed"], false);
        let mut c = app.conn();
        assert_eq!(
            (count(&mut c, "growers"), count(&mut c, "plots")),
            (0, 0),
            "{file}: dry run wrote"
        );

        let (code, v) = import_json(&app, file, &[]);
        assert_eq!(code, Some(0));
        assert_eq!(v["committed"], true);
        assert_eq!(v["counts"]["new"], 10);
        let plots = count(&mut c, "plots");
        assert_eq!(plots, 10, "{file}");
        let growers = count(&mut c, "growers");
        let policies = count(&mut c, "policies");
        let audit = count(&mut c, "audit_log");
        assert!(policies > 0);

        let (_, v) = import_json(&app, file, &[]);
        assert_eq!(v["counts"]["unchanged"], 10, "{file}: {v}");
        assert_eq!(v["counts"]["new"], 0);
        assert_eq!(
            (
                count(&mut c, "growers"),
                count(&mut c, "plots"),
                count(&mut c, "policies"),
                count(&mut c, "audit_log")
            ),
            (growers, plots, policies, audit),
            "{file}: re-upload changed something"
        );
    }
}

#[test]
fn broken_files_get_clear_messages_and_write_nothing() {
    let app = spawn_app();
    for (file, code, words) in [
        ("not-a-spreadsheet.xlsx", "not_a_spreadsheet", "不是Excel"),
        ("truncated.xlsx", "file_corrupt", "已损坏"),
        ("encrypted.xlsx", "file_encrypted", "密码"),
        ("no-header.xlsx", "no_header", "表头"),
        ("zipbomb.xlsx", "file_zip_bomb", "压缩炸弹"),
    ] {
        let (status, v) = import_json(&app, file, &[]);
        assert_eq!(status, Some(2), "{file}: {v}");
        assert_eq!(v["fields"][0]["code"], code, "{file}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(words),
            "{file}: {v}"
        );
    }
    assert_eq!(count(&mut app.conn(), "growers"), 0);
}

#[test]
fn another_townships_station_cannot_import_here() {
    let app = spawn_app();
    let roster = std::fs::read(fixture("standard.xlsx")).unwrap();
    let b = app.browser();
    b.login("station_b");
    // 乙乡's station naming 甲镇: not found, nothing staged.
    let p = b.upload(
        "/import",
        "/import",
        &[("township_code", TOWNSHIP_A)],
        "standard.xlsx",
        roster.clone(),
        true,
    );
    assert_eq!(p.status, 404, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "roster_uploads"), 0);
    // 甲镇's roster into its own township: every village is foreign.
    let p = b.upload("/import", "/import", &[], "standard.xlsx", roster, true);
    assert_eq!(p.status, 303, "{}", p.body);
    let preview = p.location.unwrap();
    let page = b.get(&preview).body;
    assert!(page.contains(r#"id="count-rejected">10<"#), "{page}");
    assert!(page.contains(r#"id="count-new">0<"#), "{page}");
    assert!(page.contains("属于甲镇"), "{page}");
    let id = preview.rsplit('/').next().unwrap();
    b.submit(&preview, &format!("/import/{id}/commit"), &[]);
    assert_eq!(count(&mut app.conn(), "plots"), 0);
    assert_eq!(count(&mut app.conn(), "growers"), 0);

    // The command line (run by the county) says the same for 乙乡.
    let path = fixture("standard.xlsx");
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "import",
        "roster",
        &path,
        "--township",
        TOWNSHIP_B,
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["rejected"], 10, "{v}");
    assert_eq!(
        v["rows"][0]["problems"][0]["code"],
        "village_not_in_township"
    );
    assert!(v["rows"][0]["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("属于甲镇"));
    assert_eq!(count(&mut app.conn(), "plots"), 0);
}

#[test]
fn id_enrolled_in_another_township_is_rejected() {
    let app = spawn_app();
    // Someone in 乙乡 already holds the first ID of the standard roster.
    let b = app.api("station_b");
    let first_id = {
        let (_, v) = import_json(&app, "standard.xlsx", &["--dry-run"]);
        v["rows"][0]["id_number"].as_str().unwrap().to_string()
    };
    assert!(first_id.contains('*'), "ids are masked in reports");
    // Find the full ID from the fixture through the reader.
    let bytes = std::fs::read(fixture("standard.xlsx")).unwrap();
    let roster = guobao::excel::read::read_roster(&bytes, &Default::default()).unwrap();
    let full = roster.rows[0].cells[&guobao::excel::read::Field::IdNumber].clone();
    let r = b.post(
        "/api/v1/growers",
        serde_json::json!({"name": "先登记", "id_number": full, "phone": "13900000000",
        "bank_account": "6228480000000000002", "village_code": app.seed.village_b1}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, v) = import_json(&app, "standard.xlsx", &[]);
    assert_eq!(v["counts"]["rejected"], 1, "{v}");
    assert_eq!(v["rows"][0]["problems"][0]["code"], "id_in_other_township");
    assert_eq!(count(&mut app.conn(), "plots"), 9);
}

#[test]
fn error_report_lists_the_rejected_rows() {
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("errors.xlsx");
    let out_s = out.display().to_string();
    let (_, v) = import_json(&app, "messy.xlsx", &["--dry-run", "--error-report", &out_s]);
    let rejected = v["counts"]["rejected"].as_u64().unwrap();
    assert_eq!(rejected, 1, "messy.xlsx has one ID stored as a number: {v}");
    let bytes = std::fs::read(&out).unwrap();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    let text: Vec<String> = range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(text.iter().any(|t| t == "错误原因"));
    assert!(
        text.iter().any(|t| t.contains("文本")),
        "the number-stored ID row says to format as text"
    );
    assert_eq!(
        range.height() as u64,
        rejected + 1,
        "header + one row per rejected row"
    );
}

#[test]
fn messy_real_world_roster_is_read_as_documented() {
    let app = spawn_app();
    let (code, v) = import_json(&app, "messy.xlsx", &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["sheet"], "花名册");
    assert_eq!(v["sheets"], serde_json::json!(["说明", "花名册"]));
    assert_eq!(v["header_row"], 3);
    let c = &v["counts"];
    assert_eq!(
        (
            c["rows"].as_u64(),
            c["new"].as_u64(),
            c["rejected"].as_u64(),
            c["ineligible"].as_u64()
        ),
        (Some(7), Some(6), Some(1), Some(0)),
        "{v}"
    );
    let rejected: Vec<&Value> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "rejected")
        .collect();
    assert_eq!(rejected[0]["row"], 9);
    assert_eq!(
        rejected[0]["problems"][0]["code"],
        "id_number_stored_as_number"
    );
    assert_eq!(rejected[0]["problems"][0]["column"], "D");
    let skipped: Vec<(u64, String)> = v["skipped_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_u64().unwrap(), s[1].as_str().unwrap().to_string()))
        .collect();
    assert!(skipped.contains(&(14, "totals".to_string())), "{skipped:?}");
    assert!(skipped.contains(&(7, "blank".to_string())), "{skipped:?}");
    // Cleaned values arrived: 王  芳 with spaces, a lowercase x.
    let names: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["grower_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"王芳"), "{names:?}");
    assert_eq!(count(&mut app.conn(), "plots"), 6);
}

/// The household list, policy list and eligibility list of 甲镇 after the
/// standard roster: the rows are what the database holds, and every total is
/// the sum of its rows; `--village` keeps one village.
fn check_exports(app: &TestApp, out: &dyn Fn(&str) -> String) {
    let mut c = app.conn();
    let read = |name: &str, sheet: &str, first: &str| {
        Table::read(&std::fs::read(out(name)).unwrap(), sheet, first)
    };
    let households = read("h.xlsx", "分户清单", "序号");
    assert_eq!(households.rows.len(), 8, "8 eligible households");
    assert_eq!(
        households.total[households.col("户主姓名")].to_string(),
        "8户"
    );
    assert!(households.texts("乡镇").iter().all(|t| t == "甲镇"));
    for col in ["保费(元)", "农户自缴(元)", "财政补贴(元)", "保险金额(元)"] {
        let (sum, total) = households.sum_and_total(col, FEN);
        assert_eq!(sum, total, "household list {col}");
    }
    let (area, area_total) = households.sum_and_total("投保面积(亩)", MU_UNITS);
    assert_eq!(area, area_total);
    let (premium, _) = households.sum_and_total("保费(元)", FEN);
    let (share, _) = households.sum_and_total("农户自缴(元)", FEN);
    let (subsidy, _) = households.sum_and_total("财政补贴(元)", FEN);
    assert_eq!(premium, share + subsidy);

    // The policy list: not exported anywhere else by the command line.
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "export",
        "policies",
        "--township",
        TOWNSHIP_A,
        "-o",
        &out("p.xlsx"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let policies = read("p.xlsx", "保单清单", "保单号");
    let n = count(&mut c, "policies") as usize;
    assert_eq!(policies.rows.len(), n);
    assert_eq!(policies.total[1].to_string(), format!("{n}份"));
    for col in ["保费(元)", "农户自缴(元)", "财政补贴(元)"] {
        let (sum, total) = policies.sum_and_total(col, FEN);
        assert_eq!(sum, total, "policy list {col}");
    }
    let (policy_mu, policy_mu_total) = policies.sum_and_total("投保面积(亩)", MU_UNITS);
    assert_eq!(policy_mu, policy_mu_total);
    assert_eq!(policies.sum_and_total("保费(元)", FEN).1, premium);
    assert_eq!(policies.sum_and_total("投保面积(亩)", MU_UNITS).1, area);

    let plots = read("e.xlsx", "投保条件", "地块编号");
    assert_eq!(plots.rows.len(), 10);
    let eligible = plots
        .texts("投保条件")
        .iter()
        .filter(|t| *t == "符合")
        .count();
    assert_eq!(eligible, 8, "the standard roster has 2 ineligible plots");
    assert_eq!(
        plots.total[plots.col("投保条件")].to_string(),
        format!("符合{eligible}块")
    );
    let (mu, mu_total) = plots.sum_and_total("面积(亩)", MU_UNITS);
    assert_eq!(mu, mu_total);
    assert_eq!(count(&mut c, "plots"), 10);

    // One village's household list: its rows only, and its own total.
    let mut by_village = 0;
    for village in ["532999101201", "532999101202"] {
        let name = format!("h-{village}.xlsx");
        let o = guobao(&[
            "--database-url",
            &app.db.url,
            "export",
            "household-list",
            "--township",
            TOWNSHIP_A,
            "--village",
            village,
            "-o",
            &out(&name),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let t = read(&name, "分户清单", "序号");
        let villages = t.texts("村");
        let expect = if village.ends_with("201") {
            "一村"
        } else {
            "二村"
        };
        assert!(
            villages.iter().all(|v| v == expect),
            "{village}: {villages:?}"
        );
        let (sum, total) = t.sum_and_total("保费(元)", FEN);
        assert_eq!(sum, total);
        by_village += t.rows.len();
    }
    assert_eq!(
        by_village, 8,
        "the two villages' lists make up the township's"
    );
}

#[test]
fn cli_template_exports_and_boundaries() {
    let app = spawn_app();
    import_json(&app, "standard.xlsx", &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).display().to_string();
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "roster-template",
        "--township",
        TOWNSHIP_A,
        "-o",
        &out("t.xlsx"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let template = std::fs::read(out("t.xlsx")).unwrap();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(template)).unwrap();
    let first = wb.worksheet_range("花名册").unwrap();
    assert_eq!(
        first.get((0, 0)).map(|c| c.to_string()).as_deref(),
        Some("姓名")
    );
    let options: Vec<String> = wb
        .worksheet_range("选项")
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(options.contains(&"一村".to_string()) && options.contains(&"二村".to_string()));
    assert!(
        !options.contains(&"三村".to_string()),
        "乙乡's village in 甲镇's template"
    );

    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "export",
        "household-list",
        "--township",
        TOWNSHIP_A,
        "-o",
        &out("h.xlsx"),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("8 行"),
        "8 eligible households: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "export",
        "eligibility",
        "--township",
        TOWNSHIP_A,
        "-o",
        &out("e.xlsx"),
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("10 行"));
    check_exports(&app, &out);
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "export",
        "household-list",
        "--township",
        "999",
        "-o",
        &out("x.xlsx"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("未找到乡镇"));

    let (x, y, d) = (99.95, 25.65, 0.0009);
    let fc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "532999101201-0001"},
         "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}},
        {"type": "Feature", "properties": {"code": "nope"},
         "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y]]]}}
    ]});
    std::fs::write(out("b.geojson"), fc.to_string()).unwrap();
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "import",
        "plots",
        &out("b.geojson"),
        "--township",
        TOWNSHIP_A,
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            v["counts"]["updated"].as_u64(),
            v["counts"]["not_found"].as_u64()
        ),
        (Some(1), Some(1)),
        "{v}"
    );
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "export",
        "geojson",
        "--township",
        TOWNSHIP_A,
        "-o",
        &out("o.geojson"),
    ]);
    assert!(o.status.success());
    let back: Value =
        serde_json::from_str(&std::fs::read_to_string(out("o.geojson")).unwrap()).unwrap();
    assert_eq!(
        back["features"][0]["properties"]["code"],
        "532999101201-0001"
    );
}

/// A failure in the middle of a commit (here: the database refusing the
/// tenth plot) leaves the database exactly as it was.
#[test]
fn a_failure_mid_commit_leaves_nothing_behind() {
    use diesel::RunQueryDsl;
    let app = spawn_app();
    let mut c = app.conn();
    let sql: &[&str] = if backend() == "postgres" {
        &[
            "CREATE FUNCTION refuse_plot() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_plot BEFORE INSERT ON plots FOR EACH ROW WHEN (NEW.code = '532999101202-0005') EXECUTE FUNCTION refuse_plot()",
        ]
    } else {
        &["CREATE TRIGGER refuse_plot BEFORE INSERT ON plots WHEN NEW.code = '532999101202-0005' BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    };
    for s in sql {
        diesel::sql_query(*s).execute(&mut c).unwrap();
    }
    let before: Vec<i64> = ["growers", "plots", "policies", "audit_log"]
        .iter()
        .map(|t| count(&mut c, t))
        .collect();
    let (code, v) = import_json(&app, "standard.xlsx", &[]);
    assert_eq!(code, Some(1), "{v}");
    let after: Vec<i64> = ["growers", "plots", "policies", "audit_log"]
        .iter()
        .map(|t| count(&mut c, t))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn size_and_row_limits_are_configurable() {
    let app = spawn_app();
    let path = fixture("standard.xlsx");
    let o = Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "import",
            "roster",
            &path,
            "--township",
            TOWNSHIP_A,
            "--json",
        ])
        .env("GUOBAO_MAX_ROSTER_ROWS", "5")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fields"][0]["code"], "too_many_rows", "{v}");
    let big = vec![b'x'; 2 * 1024 * 1024];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.xlsx");
    std::fs::write(&file, big).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &app.db.url,
            "import",
            "roster",
            &file.display().to_string(),
            "--township",
            TOWNSHIP_A,
            "--json",
        ])
        .env("GUOBAO_MAX_UPLOAD_MB", "1")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fields"][0]["code"], "file_too_large", "{v}");
    assert!(v["message"].as_str().unwrap().contains("1MB"), "{v}");
    assert_eq!(count(&mut app.conn(), "growers"), 0);
}

/// What an import creates is recorded in one audit entry for the import (who,
/// when, which file, the ids created); the audit history of each created
/// grower, plot and policy shows that entry. A change is recorded row by row.
#[test]
fn an_import_is_one_audit_entry_found_from_each_created_row() {
    use diesel::prelude::*;
    use guobao::db::schema::{growers, plots, policies};
    let app = spawn_app();
    let mut c = app.conn();
    let before = count(&mut c, "audit_log");
    let (code, v) = import_json(&app, "standard.xlsx", &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(count(&mut c, "audit_log"), before + 1);
    let ids = [
        (
            "grower",
            growers::table
                .select(growers::id)
                .order(growers::id.desc())
                .first::<i64>(&mut c)
                .unwrap(),
        ),
        (
            "plot",
            plots::table
                .select(plots::id)
                .order(plots::id.desc())
                .first::<i64>(&mut c)
                .unwrap(),
        ),
        (
            "policy",
            policies::table
                .select(policies::id)
                .first::<i64>(&mut c)
                .unwrap(),
        ),
    ];
    let admin = app.api("admin");
    for (entity, id) in ids {
        let rows = admin.get(&format!("/api/v1/audit?entity={entity}&entity_id={id}"));
        let rows = rows.body.as_array().unwrap();
        assert_eq!(rows.len(), 1, "{entity} {id}: {rows:?}");
        assert_eq!(rows[0]["entity"], "roster_import");
        assert_eq!(rows[0]["action"], "import");
        assert_eq!(rows[0]["username"], "system");
        let after: Value = serde_json::from_str(rows[0]["after_json"].as_str().unwrap()).unwrap();
        assert_eq!(after["file"].as_str().unwrap(), fixture("standard.xlsx"));
        assert_eq!(after["counts"]["new"], 10);
        assert_eq!(after["sha256"].as_str().unwrap().len(), 64);
    }
    // Another grower's history does not show it.
    let none = admin.get("/api/v1/audit?entity=grower&entity_id=999999");
    assert_eq!(none.body.as_array().unwrap().len(), 0);
}

/// Uploading a corrected roster: changed growers and plots are updated and
/// audited row by row with before and after, a draft policy follows its
/// grower's new area, a new plot is created, and unchanged rows stay as they are.
#[test]
fn a_corrected_roster_updates_audits_and_resyncs_policies() {
    use diesel::prelude::*;
    use guobao::db::schema::{growers, policies};
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (id_number("19700101", 11), id_number("19700102", 12));
    let first = roster_file(
        dir.path(),
        "v1.xlsx",
        &[
            ("王明", &a, "13800000001", "一村", "T-1", 3.0),
            ("王明", &a, "13800000001", "一村", "T-2", 2.0),
            ("李华", &b, "13800000002", "二村", "T-3", 1.5),
        ],
    );
    let second = roster_file(
        dir.path(),
        "v2.xlsx",
        &[
            ("王明", &a, "13900000009", "一村", "T-1", 4.0),
            ("王明", &a, "13900000009", "一村", "T-2", 2.0),
            ("李华", &b, "13800000002", "二村", "T-3", 1.5),
            ("李华", &b, "13800000002", "二村", "T-4", 1.0),
        ],
    );
    let run = |file: &str| -> Value {
        let o = guobao(&[
            "--database-url",
            &app.db.url,
            "import",
            "roster",
            file,
            "--township",
            TOWNSHIP_A,
            "--json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = run(&first);
    assert_eq!(v["counts"]["new"], 3, "{v}");
    assert_eq!(v["counts"]["new_growers"], 2, "{v}");
    let mut c = app.conn();
    let area = |c: &mut guobao::db::DbConn, id: &str| -> (i64, i64, String) {
        growers::table
            .inner_join(policies::table)
            .filter(growers::id_number.eq(id))
            .select((growers::id, policies::insured_area_units, policies::status))
            .first(c)
            .unwrap()
    };
    let (ga, units_a, _) = area(&mut c, &a);
    let (_, units_b, _) = area(&mut c, &b);
    assert_eq!((units_a, units_b), (50_000, 15_000));
    let audit_before = count(&mut c, "audit_log");

    let v = run(&second);
    let counts = &v["counts"];
    assert_eq!(
        (
            &counts["new"],
            &counts["changed"],
            &counts["unchanged"],
            &counts["changed_growers"],
            &counts["new_growers"]
        ),
        (
            &Value::from(1),
            &Value::from(2),
            &Value::from(1),
            &Value::from(1),
            &Value::from(0)
        ),
        "{v}"
    );
    let (_, units_a, status) = area(&mut c, &a);
    let (_, units_b, _) = area(&mut c, &b);
    assert_eq!(
        (units_a, units_b, status.as_str()),
        (60_000, 25_000, "draft")
    );
    // One row each for the changed grower and plot (before/after), one update
    // per changed draft policy (王明 and 李华), one entry for the new plot.
    assert_eq!(count(&mut c, "audit_log"), audit_before + 5);
    let admin = app.api("admin");
    let rows = admin.get(&format!("/api/v1/audit?entity=grower&entity_id={ga}"));
    let rows = rows.body.as_array().unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["entity"].as_str().unwrap(), r["action"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("grower", "import"), ("roster_import", "import")]);
    assert!(rows[0]["before_json"]
        .as_str()
        .unwrap()
        .contains("13800000001"));
    assert!(rows[0]["after_json"]
        .as_str()
        .unwrap()
        .contains("13900000009"));

    // The same corrected file again changes nothing.
    let v = run(&second);
    assert_eq!(v["counts"]["unchanged"], 4, "{v}");
    assert_eq!(count(&mut c, "audit_log"), audit_before + 5);
}

/// The roster path meets the same text rules as the API: NUL, BEL, a
/// right-to-left override, a 10,000-character name and a 5,000-character plot
/// code each reject their own row in the preview (with the column), and the
/// commit writes the good rows only — on PostgreSQL too, where a NUL used to
/// fail the whole commit.
#[test]
fn bad_text_cells_reject_their_rows_and_the_commit_writes_the_rest() {
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (1..=7).map(|i| id_number("19700101", 20 + i)).collect();
    let long_name = "王".repeat(10_000);
    let long_code = "P".repeat(5_000);
    let file = roster_file(
        dir.path(),
        "bad-text.xlsx",
        &[
            ("好甲", &ids[0], "13800000001", "一村", "G-1", 2.0),
            ("王\u{0}芳", &ids[1], "13800000002", "一村", "G-2", 2.0),
            ("王\u{7}芳", &ids[2], "13800000003", "一村", "G-3", 2.0),
            ("李四", &ids[3], "13800000004", "一\u{202E}村", "G-4", 2.0),
            (&long_name, &ids[4], "13800000005", "一村", "G-5", 2.0),
            ("赵六", &ids[5], "13800000006", "一村", &long_code, 2.0),
            ("好乙", &ids[6], "13800000007", "一村", "G-7", 2.0),
        ],
    );
    let run = |extra: &[&str]| -> (Option<i32>, Value) {
        let mut args = vec![
            "--database-url",
            &app.db.url,
            "import",
            "roster",
            &file,
            "--township",
            TOWNSHIP_A,
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = guobao(&args);
        let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
        });
        (o.status.code(), v)
    };
    let (code, v) = run(&["--dry-run"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["counts"]["rows"], 7, "{v}");
    assert_eq!(v["counts"]["rejected"], 5, "{v}");
    assert_eq!(v["counts"]["new"], 2, "{v}");
    let rejected: Vec<(u64, String, String, String)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "rejected")
        .map(|r| {
            assert_eq!(r["problems"].as_array().unwrap().len(), 1, "{r}");
            let p = &r["problems"][0];
            let message = p["message"].as_str().unwrap().to_string();
            assert!(message.chars().count() < 200, "{message}");
            (
                r["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_string(),
                p["code"].as_str().unwrap().to_string(),
                message,
            )
        })
        .collect();
    let summary: Vec<(u64, &str, &str)> = rejected
        .iter()
        .map(|(r, c, code, _)| (*r, c.as_str(), code.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (3, "A", "text_control_char"),
            (4, "A", "text_control_char"),
            (5, "D", "text_bidi_char"),
            (6, "A", "text_too_long"),
            (7, "E", "text_too_long"),
        ]
    );
    assert!(rejected[0].3.contains("NUL"), "{}", rejected[0].3);
    assert!(
        rejected[3].3.contains("姓名不能超过30个字"),
        "{}",
        rejected[3].3
    );
    assert!(
        rejected[4].3.contains("地块编号不能超过40个字"),
        "{}",
        rejected[4].3
    );
    assert_eq!(count(&mut app.conn(), "growers"), 0);

    let (code, v) = run(&[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["committed"], true, "{v}");
    assert_eq!(v["counts"]["new"], 2, "{v}");
    let mut c = app.conn();
    assert_eq!((count(&mut c, "growers"), count(&mut c, "plots")), (2, 2));
}

/// The ID that used to panic the CLI (a multi-byte character at byte 17):
/// the row is rejected with a Chinese reason, and as no row could be
/// imported the command exits 2 without writing.
#[test]
fn cli_import_of_a_multibyte_id_exits_2_with_a_chinese_message() {
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let file = roster_file(
        dir.path(),
        "multibyte-id.xlsx",
        &[(
            "王芳",
            "5329991970010100中1",
            "13800000001",
            "一村",
            "M-1",
            2.0,
        )],
    );
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec![
            "--database-url",
            &app.db.url,
            "import",
            "roster",
            &file,
            "--township",
            TOWNSHIP_A,
        ];
        args.extend_from_slice(extra);
        let o = guobao(&args);
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{out} {err}");
        assert!(err.contains("全部被拒收"), "{err}");
        assert!(out.contains("身份证号前17位必须是数字"), "{out}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(count(&mut app.conn(), "growers"), 0);
}

/// A re-upload where most rows changed (new phone, new area) is written in
/// bulk: every grower, plot and draft policy gets its new values and one
/// audit row with its before and after — across the reader's chunks of
/// 8,192 rows too (grower 4096 has a row on each side of the first chunk
/// boundary), on SQLite and on PostgreSQL.
#[test]
fn a_reupload_with_most_rows_changed_updates_and_audits_every_row() {
    use diesel::prelude::*;
    use guobao::db::schema::{audit_log, growers, plots, policies};
    const ROWS: usize = 8_300;
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    // Rows 2k-1 and 2k belong to grower k; grower k changes unless k % 5 == 0.
    let grower = |i: usize| i.div_ceil(2);
    let changes = |k: usize| !k.is_multiple_of(5);
    let write = |name: &str, edited: bool| {
        let rows: Vec<[String; 5]> = (0..ROWS)
            .map(|i| {
                let k = grower(i);
                let phone = if edited && changes(k) { 139 } else { 138 };
                [
                    format!("农户{k}"),
                    id_number(
                        &format!("19{:02}0101", 50 + k / 900),
                        (k % 900) as u32 + 100,
                    ),
                    format!("{phone}{k:08}"),
                    "一村".to_string(),
                    format!("C{i:05}"),
                ]
            })
            .collect();
        let refs: Vec<RosterRow> = rows
            .iter()
            .enumerate()
            .map(|(i, [n, id, phone, village, code])| {
                let bump = if edited && changes(grower(i)) {
                    1.0
                } else {
                    0.0
                };
                (
                    n.as_str(),
                    id.as_str(),
                    phone.as_str(),
                    village.as_str(),
                    code.as_str(),
                    1.0 + (i % 7) as f64 + bump,
                )
            })
            .collect();
        roster_file(dir.path(), name, &refs)
    };
    let (first, second) = (write("v1.xlsx", false), write("v2.xlsx", true));
    let run = |file: &str| -> Value {
        let o = guobao(&[
            "--database-url",
            &app.db.url,
            "import",
            "roster",
            file,
            "--township",
            TOWNSHIP_A,
            "--json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = run(&first);
    let growers_n = grower(ROWS - 1) + 1;
    assert_eq!(v["counts"]["new"], ROWS, "{}", v["counts"]);
    assert_eq!(v["counts"]["new_growers"], growers_n, "{}", v["counts"]);
    let mut c = app.conn();
    assert_eq!(count(&mut c, "policies"), growers_n as i64);
    let audit_before: i64 = audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first::<Option<i64>>(&mut c)
        .unwrap()
        .unwrap_or(0);

    let v = run(&second);
    let changed_growers = (0..growers_n).filter(|k| changes(*k)).count();
    let changed_rows = (0..ROWS).filter(|i| changes(grower(*i))).count();
    let counts = &v["counts"];
    assert_eq!(counts["changed"], changed_rows, "{counts}");
    assert_eq!(counts["unchanged"], ROWS - changed_rows, "{counts}");
    assert_eq!(counts["changed_growers"], changed_growers, "{counts}");
    assert_eq!(counts["rejected"], 0, "{counts}");

    // The stored rows: every plot's area as in the second file, every grower's
    // phone, every draft policy the sum of its grower's plots.
    let area_units = |i: usize, edited: bool| -> i64 {
        let bump = i64::from(edited && changes(grower(i)));
        (1 + (i % 7) as i64 + bump) * 10_000
    };
    let stored: Vec<(String, i64, i32)> = plots::table
        .select((plots::code, plots::area_units, plots::version))
        .order(plots::code)
        .load(&mut c)
        .unwrap();
    assert_eq!(stored.len(), ROWS);
    for (i, (code, units, version)) in stored.iter().enumerate() {
        assert_eq!(code, &format!("C{i:05}"));
        assert_eq!(*units, area_units(i, true), "{code}");
        assert_eq!(*version, if changes(grower(i)) { 2 } else { 1 }, "{code}");
    }
    let phones: Vec<(String, String, i32)> = growers::table
        .select((growers::name, growers::phone, growers::version))
        .load(&mut c)
        .unwrap();
    assert_eq!(phones.len(), growers_n);
    for (name, phone, version) in &phones {
        let k: usize = name.trim_start_matches("农户").parse().unwrap();
        let (want, v) = if changes(k) { (139, 2) } else { (138, 1) };
        assert_eq!(phone, &format!("{want}{k:08}"), "{name}");
        assert_eq!(*version, v, "{name}");
    }
    let mut want_units = vec![0i64; growers_n];
    for i in 0..ROWS {
        want_units[grower(i)] += area_units(i, true);
    }
    let policy_rows: Vec<(String, i64, i64, i64, i32, String)> = policies::table
        .inner_join(growers::table)
        .select((
            growers::name,
            policies::id,
            policies::insured_area_units,
            policies::premium_fen,
            policies::version,
            policies::status,
        ))
        .load(&mut c)
        .unwrap();
    assert_eq!(policy_rows.len(), growers_n);
    let mut policy_of = std::collections::HashMap::new();
    for (name, id, units, premium, version, status) in &policy_rows {
        let k: usize = name.trim_start_matches("农户").parse().unwrap();
        assert_eq!(*units, want_units[k], "{name}");
        // 80 yuan per mu.
        assert_eq!(*premium, want_units[k] * 8_000 / 10_000, "{name}");
        assert_eq!(*version, if changes(k) { 2 } else { 1 }, "{name}");
        assert_eq!(status, "draft");
        policy_of.insert(k, *id);
    }

    // One audit row per changed grower, plot and policy, with before and after.
    type AuditRow = (String, String, Option<i64>, Option<String>, Option<String>);
    let audit: Vec<AuditRow> = audit_log::table
        .filter(audit_log::id.gt(audit_before))
        .order(audit_log::id)
        .select((
            audit_log::action,
            audit_log::entity,
            audit_log::entity_id,
            audit_log::before_json,
            audit_log::after_json,
        ))
        .load(&mut c)
        .unwrap();
    let of = |entity: &str| -> Vec<(i64, Value, Value)> {
        audit
            .iter()
            .filter(|(_, e, ..)| e == entity)
            .map(|(_, _, id, before, after)| {
                let json =
                    |s: &Option<String>| serde_json::from_str(s.as_deref().unwrap()).unwrap();
                (id.unwrap(), json(before), json(after))
            })
            .collect()
    };
    let (grower_rows, plot_rows, policy_audit) = (of("grower"), of("plot"), of("policy"));
    assert_eq!(grower_rows.len(), changed_growers);
    assert_eq!(plot_rows.len(), changed_rows);
    assert_eq!(policy_audit.len(), changed_growers);
    assert_eq!(
        audit.len(),
        changed_growers * 2 + changed_rows,
        "no other audit rows"
    );
    for (_, before, after) in &grower_rows {
        let k: usize = after["name"].as_str().unwrap()[6..].parse().unwrap();
        assert_eq!(before["phone"], format!("138{k:08}"));
        assert_eq!(after["phone"], format!("139{k:08}"));
    }
    for (_, before, after) in &plot_rows {
        let i: usize = after["code"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(before["area_units"], area_units(i, false), "{after}");
        assert_eq!(after["area_units"], area_units(i, true), "{after}");
        assert_eq!(before["version"], 1);
    }
    // The changed rows' audit rows waited in a temporary table until the
    // end on PostgreSQL (so the chain's head was held only then) and went
    // straight into the chain on SQLite (whose write lock the import holds
    // throughout); either way the chain is whole, and
    // grower and plot rows come before the policies they changed.
    let verdict = guobao::db::audit_chain::verify(&mut c).unwrap();
    assert!(verdict.broken.is_none(), "{:?}", verdict.broken);
    let first_policy = audit.iter().position(|(_, e, ..)| e == "policy").unwrap();
    assert!(audit[..first_policy].iter().all(|(_, e, ..)| e != "policy"));
    assert_eq!(first_policy, changed_growers + changed_rows);
    // Grower 4096 has a plot on each side of the first chunk boundary.
    assert!(changes(4096));
    let (_, before, after) = policy_audit
        .iter()
        .find(|(id, ..)| *id == policy_of[&4096])
        .unwrap();
    assert_eq!(
        before["insured_area_units"],
        area_units(8191, false) + area_units(8192, false)
    );
    assert_eq!(after["insured_area_units"], want_units[4096]);
    assert_eq!(after["version"], 2);
    assert_eq!(before["version"], 1);
    for (_, _, after) in &policy_audit {
        assert_eq!(after["status"], "draft");
    }

    // The same corrected file again changes nothing.
    let v = run(&second);
    assert_eq!(v["counts"]["unchanged"], ROWS, "{}", v["counts"]);
}

/// Rows without a plot code get readable codes, the village code and a
/// sequence (as the plot page numbers plots); re-uploading the same file
/// finds the same plots (the grower's k-th code-less row in a village is
/// that grower's k-th plot there) and writes nothing; a new code-less row
/// gets its village's next free number, skipping codes earlier rows of the
/// file use.
#[test]
fn rows_without_a_plot_code_get_readable_stable_codes() {
    use diesel::prelude::*;
    use guobao::db::schema::{growers, plots};
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..4).map(|k| id_number("19700101", 200 + k)).collect();
    let (a, b, c, d) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let first: Vec<RosterRow> = vec![
        ("张甲", a, "13800000001", "一村", "", 2.0),
        ("李乙", b, "13800000002", "一村", "", 3.0),
        ("张甲", a, "13800000001", "一村", "", 4.0),
        ("王丙", c, "13800000003", "二村", "", 5.0),
    ];
    let run = |file: &str| imported(&app, TOWNSHIP_A, file, &[]);
    let mut conn = app.conn();
    let mut stored = || -> Vec<(String, String, i64, i32)> {
        plots::table
            .inner_join(growers::table)
            .select((
                growers::id_number,
                plots::code,
                plots::area_units,
                plots::version,
            ))
            .order(plots::code)
            .load(&mut conn)
            .unwrap()
    };
    let file = roster_file(dir.path(), "first.xlsx", &first);
    let v = run(&file);
    assert_eq!(v["counts"]["new"], 4, "{v}");
    let codes: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["plot_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "532999101201-0001",
            "532999101201-0002",
            "532999101201-0003",
            "532999101202-0001"
        ]
    );
    let want = vec![
        (a.clone(), "532999101201-0001".to_string(), 20_000, 1),
        (b.clone(), "532999101201-0002".to_string(), 30_000, 1),
        (a.clone(), "532999101201-0003".to_string(), 40_000, 1),
        (c.clone(), "532999101202-0001".to_string(), 50_000, 1),
    ];
    assert_eq!(stored(), want);

    // The same file again: every row found, nothing written or audited.
    let (audit, policies) = (
        count(&mut app.conn(), "audit_log"),
        count(&mut app.conn(), "policies"),
    );
    let v = run(&file);
    assert_eq!(v["counts"]["unchanged"], 4, "{v}");
    assert_eq!(v["counts"]["new"], 0, "{v}");
    assert_eq!(stored(), want);
    assert_eq!(count(&mut app.conn(), "audit_log"), audit);
    assert_eq!(count(&mut app.conn(), "policies"), policies);

    // A new grower with an explicit code, then a new code-less plot of 乙 in
    // 一村, and 甲's second plot with a new area: 乙's new plot takes the next
    // free number after the stored ones and the one 丁's row uses; 甲's
    // second code-less row is still his second plot.
    let mut second = first.clone();
    second[2].5 = 4.5;
    second.push(("赵丁", d, "13800000004", "一村", "532999101201-0004", 1.0));
    second.push(("李乙", b, "13800000002", "一村", "", 6.0));
    let file = roster_file(dir.path(), "second.xlsx", &second);
    let v = run(&file);
    let counts = &v["counts"];
    assert_eq!(
        [&counts["new"], &counts["changed"], &counts["unchanged"]],
        [&Value::from(2), &Value::from(1), &Value::from(3)],
        "{v}"
    );
    assert_eq!(v["rows"][5]["plot_code"], "532999101201-0005", "{v}");
    let mut want = want;
    want[2].2 = 45_000;
    want[2].3 = 2;
    want.insert(3, (d.clone(), "532999101201-0004".into(), 10_000, 1));
    want.insert(4, (b.clone(), "532999101201-0005".into(), 60_000, 1));
    assert_eq!(stored(), want);
    // And that file again changes nothing.
    let v = run(&file);
    assert_eq!(v["counts"]["unchanged"], 6, "{v}");
    assert_eq!(stored(), want);
}

/// The import reads its own township's growers and plots and looks up the
/// rest by the keys its file names (a province holds a million growers a
/// year). What another township holds still refuses a row, and a code typed
/// into another township's roster with one of this township's village
/// prefixes is skipped by a new code — in the preview and in the commit.
#[test]
fn what_another_township_holds_is_found_by_the_files_own_keys() {
    use diesel::prelude::*;
    use guobao::db::schema::plots;
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..4).map(|k| id_number("19750101", 300 + k)).collect();
    let (a, b, e, f) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let run = |township: &str, file: &str, extra: &[&str]| imported(&app, township, file, extra);
    // 乙乡 first: one plot under a code with 甲镇 一村's prefix, one under a
    // code of its own.
    let in_b: Vec<RosterRow> = vec![
        ("钱戊", e, "13800000005", "三村", "532999101201-0001", 2.0),
        ("孙己", f, "13800000006", "三村", "B-7", 3.0),
    ];
    let v = run(TOWNSHIP_B, &roster_file(dir.path(), "b.xlsx", &in_b), &[]);
    assert_eq!(v["counts"]["new"], 2, "{v}");

    // 甲镇: a code-less row in 一村, a row naming 乙乡's plot B-7 for
    // another grower, a row of 孙己 (enrolled in 乙乡), and a row of a new
    // grower naming a code nobody holds.
    let in_a: Vec<RosterRow> = vec![
        ("张甲", a, "13800000001", "一村", "", 2.0),
        ("李乙", b, "13800000002", "一村", "B-7", 3.0),
        ("孙己", f, "13800000006", "一村", "", 1.0),
        ("李乙", b, "13800000002", "二村", "A-9", 1.5),
    ];
    let file = roster_file(dir.path(), "a.xlsx", &in_a);
    let before = count(&mut app.conn(), "plots");
    for extra in [&["--dry-run"][..], &[][..]] {
        let v = run(TOWNSHIP_A, &file, extra);
        let c = &v["counts"];
        assert_eq!(
            [&c["new"], &c["rejected"]],
            [&Value::from(2), &Value::from(2)],
            "{extra:?} {v}"
        );
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows[0]["plot_code"], "532999101201-0002", "{v}");
        assert_eq!(rows[1]["problems"][0]["code"], "plot_code_taken", "{v}");
        assert_eq!(
            rows[2]["problems"][0]["code"], "id_in_other_township",
            "{v}"
        );
        assert_eq!(rows[3]["outcome"], "new", "{v}");
        assert_eq!(rows[3]["plot_code"], "A-9", "{v}");
    }
    assert_eq!(count(&mut app.conn(), "plots"), before + 2);
    let codes: Vec<String> = plots::table
        .select(plots::code)
        .order(plots::code)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(
        codes,
        ["532999101201-0001", "532999101201-0002", "A-9", "B-7"],
        "each code once, 乙乡's two untouched"
    );
    // The same file again finds 甲镇's own rows and refuses the same two.
    let v = run(TOWNSHIP_A, &file, &[]);
    let c = &v["counts"];
    assert_eq!(
        [&c["unchanged"], &c["rejected"]],
        [&Value::from(2), &Value::from(2)],
        "{v}"
    );
}

/// An import reads the areas of its township's county only: a village of
/// another county (a province's database) is not "in another township" of
/// this one, and this county's other villages still are.
#[test]
fn villages_of_another_county_are_unknown_to_an_import() {
    use diesel::prelude::*;
    use guobao::db::models::NewArea;
    use guobao::db::schema::areas;
    use guobao::domain::area::AreaLevel;
    let app = spawn_app();
    let mut conn = app.conn();
    let mut add = |code: &'static str, name: &'static str, level, parent| -> i64 {
        diesel::insert_into(areas::table)
            .values(NewArea {
                code,
                name,
                level,
                parent_id: parent,
                target_mu_units: None,
            })
            .returning(areas::id)
            .get_result(&mut conn)
            .unwrap()
    };
    let county = add("532888", "邻县", AreaLevel::County, None);
    let town = add("532888101", "丙镇", AreaLevel::Township, Some(county));
    add("532888101201", "五村", AreaLevel::Village, Some(town));
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..3).map(|k| id_number("19800101", 400 + k)).collect();
    let rows: Vec<RosterRow> = vec![
        ("周一", &ids[0], "13800000011", "五村", "C-1", 2.0),
        ("周二", &ids[1], "13800000012", "三村", "C-2", 2.0),
        ("周三", &ids[2], "13800000013", "一村", "C-3", 2.0),
    ];
    let file = roster_file(dir.path(), "c.xlsx", &rows);
    let v = imported(&app, TOWNSHIP_A, &file, &[]);
    assert_eq!(v["counts"]["new"], 1, "{v}");
    assert_eq!(
        v["rows"][0]["problems"][0]["code"], "village_unknown",
        "{v}"
    );
    assert_eq!(
        v["rows"][1]["problems"][0]["code"], "village_not_in_township",
        "{v}"
    );
    assert!(
        v["rows"][1]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("乙乡"),
        "{v}"
    );
}

/// A SQLite import works with a 64 MiB page cache; the connection it ran on
/// goes back to the pool with the cache every connection starts with, not
/// SQLite's 2 MiB default.
#[test]
fn the_connection_an_import_ran_on_gets_its_page_cache_back() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct CacheSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cache_size: i64,
    }
    let app = spawn_app();
    let mut c = app.conn();
    let bytes = std::fs::read(fixture("standard.xlsx")).unwrap();
    let req = guobao::app::import::ImportRequest {
        database_url: &app.db.url,
        township_code: TOWNSHIP_A,
        scheme: "walnut-2012",
        filename: "standard.xlsx",
        bytes: &bytes,
        options: Default::default(),
    };
    let rep = guobao::app::import::commit(&mut c, &guobao::app::Actor::system(), &req).unwrap();
    assert!(rep.counts.new_growers > 0, "{:?}", rep.counts);
    if backend() == "sqlite" {
        let after: CacheSize = diesel::sql_query("PRAGMA cache_size")
            .get_result(&mut c)
            .unwrap();
        assert_eq!(after.cache_size, -i64::from(guobao::db::SQLITE_CACHE_KIB));
    }
}
