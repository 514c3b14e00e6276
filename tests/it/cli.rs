//! The `guobao` command line.

use crate::helpers::*;
use serde_json::Value;
use std::process::{Command, Output};

fn guobao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(args)
        .env_remove("GUOBAO_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn quote_prints_exact_amounts() {
    let o = guobao(&[
        "quote",
        "--scheme",
        "walnut-2012",
        "--variety",
        "early",
        "--mu",
        "3.37",
        "--json",
    ]);
    assert!(o.status.success());
    let v = json_of(&o);
    assert_eq!(v["sum_insured"], "3370.00");
    assert_eq!(v["premium"], "269.60");
    assert_eq!(v["grower_share"], "53.92");
    assert_eq!(v["subsidy"], "215.68");
    let levels: Vec<&str> = v["subsidy_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["134.80", "26.96", "53.92"]);

    for (mu, premium, share, subsidy, sum) in [
        ("1", "80.00", "16.00", "64.00", "1000.00"),
        ("0.333", "26.64", "5.33", "21.31", "333.00"),
    ] {
        let v = json_of(&guobao(&[
            "quote",
            "--scheme",
            "walnut-2012",
            "--variety",
            "晚实",
            "--mu",
            mu,
            "--json",
        ]));
        assert_eq!(
            (
                v["premium"].as_str(),
                v["grower_share"].as_str(),
                v["subsidy"].as_str(),
                v["sum_insured"].as_str()
            ),
            (Some(premium), Some(share), Some(subsidy), Some(sum)),
            "{mu}"
        );
    }
    let o = guobao(&[
        "quote",
        "--scheme",
        "walnut-2012",
        "--variety",
        "早实",
        "--mu",
        "3.37",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("保费：    269.60 元") && text.contains("县级财政（20%）：53.92 元"),
        "{text}"
    );
}

#[test]
fn quote_refuses_bad_input_with_chinese_messages() {
    let o = guobao(&[
        "quote",
        "--scheme",
        "walnut-2012",
        "--variety",
        "early",
        "--mu=-3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("面积必须大于0"));
    let o = guobao(&[
        "quote",
        "--scheme",
        "walnut-2012",
        "--variety",
        "pear",
        "--mu",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json_of(&o)["fields"][0]["code"], "variety_unknown");
    let o = guobao(&[
        "quote",
        "--scheme",
        "nope",
        "--variety",
        "early",
        "--mu",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("未找到险种方案"));
}

#[test]
fn eligibility_gives_verdict_and_reasons() {
    let o = guobao(&[
        "eligibility",
        "--scheme",
        "walnut-2012",
        "--variety",
        "late",
        "--tree-age",
        "9",
        "--fruit-per-tree",
        "300",
        "--json",
    ]);
    assert!(o.status.success());
    let v = json_of(&o);
    assert_eq!(v["eligible"], false);
    assert_eq!(v["reasons"][0]["code"], "tree_age_below_min");
    assert_eq!(v["reasons"][0]["message"], "树龄不足10年");
    let v = json_of(&guobao(&[
        "eligibility",
        "--scheme",
        "walnut-2012",
        "--variety",
        "早实",
        "--tree-age",
        "5",
        "--fruit-per-tree",
        "270",
        "--json",
    ]));
    assert_eq!(v["eligible"], true);
    assert_eq!(v["reasons"].as_array().unwrap().len(), 0);
    let o = guobao(&[
        "eligibility",
        "--scheme",
        "walnut-2012",
        "--variety",
        "early",
        "--tree-age",
        "4",
        "--fruit-per-tree",
        "100",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("不符合投保条件")
            && text.contains("树龄不足5年")
            && text.contains("单株挂果数不足270个"),
        "{text}"
    );
}

/// README, command line: `guobao eligibility ... --attr k=v` judges a rule on
/// any numeric attribute of the scheme, here one read from the database.
#[test]
fn eligibility_takes_other_attributes_with_attr() {
    let app = spawn_app();
    let mut hill: Value =
        serde_json::from_str(include_str!("../../fixtures/schemes/apple-2013.json")).unwrap();
    hill["code"] = "apple-hill".into();
    hill["varieties"][0]["rules"][1]["max"] = "15".into();
    let r = app.api("admin").post("/api/v1/schemes", hill);
    assert_eq!(r.status, 201, "{}", r.body);
    let verdict = |scheme: &str, url: Option<&str>, attrs: &[&str]| -> Output {
        let mut args = Vec::new();
        if let Some(url) = url {
            args.extend(["--database-url", url]);
        }
        args.extend(["eligibility", "--scheme", scheme, "--variety", "富士"]);
        args.extend(["--tree-age", "6", "--json"]);
        for a in attrs {
            args.extend(["--attr", a]);
        }
        guobao(&args)
    };
    let codes = |o: &Output| -> (bool, Vec<String>) {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = json_of(o);
        let codes = v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect();
        (v["eligible"].as_bool().unwrap(), codes)
    };
    let url = Some(app.db.url.as_str());
    let (ok, why) = codes(&verdict("apple-hill", url, &[]));
    assert!(!ok);
    assert_eq!(why, ["slope_degrees_missing"]);
    let o = verdict("apple-hill", url, &["slope_degrees=20"]);
    let (ok, why) = codes(&o);
    assert!(!ok);
    assert_eq!(why.len(), 1);
    assert_eq!(json_of(&o)["reasons"][0]["message"], "坡度超过15度");
    assert!(codes(&verdict("apple-hill", url, &["slope_degrees=15"])).0);
    // The shipped apple scheme allows 25 degrees.
    assert!(codes(&verdict("apple-2013", None, &["slope_degrees=20"])).0);
    // An attribute the rule doesn't know changes nothing; a malformed one is refused.
    let (ok, why) = codes(&verdict("apple-hill", url, &["altitude_m=2000"]));
    assert!(!ok);
    assert_eq!(why, ["slope_degrees_missing"]);
    let o = verdict("apple-hill", url, &["slope_degrees"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("名称=数值"));
}

/// `guobao ARGS` with `input` on stdin.
fn guobao_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(args)
        .env_remove("GUOBAO_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn migrate_and_user_add_create_a_working_account() {
    let db = TestDb::new();
    let o = guobao(&["--database-url", &db.url, "migrate"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let add = |user: &str, role: &str, pw: &str| {
        guobao_with_stdin(
            &[
                "--database-url",
                &db.url,
                "user",
                "add",
                "--username",
                user,
                "--role",
                role,
                "--password-stdin",
                "--name",
                "承保员",
            ],
            &format!("{pw}\n"),
        )
    };
    let o = add("clerk", "pilot", "short");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("密码至少10位") && err.contains("未知角色"),
        "{err}"
    );
    // Weak passwords of every kind the issue tried, refused with the reason.
    for (pw, says) in [
        ("12345678", "至少10位"),
        ("password", "至少10位"),
        ("          ", "太容易被猜到"),
        ("clerk-clerk-clerk", "不能包含用户名"),
        ("password123456", "太容易被猜到"),
        ("qwertyuiop12", "太容易被猜到"),
    ] {
        let o = add("clerk", "underwriter", pw);
        assert_eq!(o.status.code(), Some(2), "{pw:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{pw:?}: {err}");
    }
    // Never on the command line.
    let o = guobao(&[
        "--database-url",
        &db.url,
        "user",
        "add",
        "--username",
        "clerk",
        "--password",
        "Long-enough-walnut-1",
        "--role",
        "underwriter",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--password-stdin"));
    // No terminal and no --password-stdin: told how, nothing created.
    let o = guobao_with_stdin(
        &[
            "--database-url",
            &db.url,
            "user",
            "add",
            "--username",
            "clerk",
            "--role",
            "underwriter",
        ],
        "Long-enough-walnut-1\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--password-stdin"));

    let o = add("clerk", "underwriter", "Long-enough-walnut-1");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = add("clerk", "underwriter", "Long-enough-walnut-1");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("已存在"));
    let o = guobao_with_stdin(
        &[
            "--database-url",
            &db.url,
            "user",
            "add",
            "--username",
            "st",
            "--role",
            "township",
            "--password-stdin",
        ],
        "Long-enough-walnut-1\n",
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("必须指定所属乡镇"));

    let pool = guobao::startup::prepare_database(&db.url).unwrap();
    let address = start_server(pool);
    let login = |pw: &str| {
        reqwest::blocking::Client::new()
            .post(format!("{address}/api/v1/session"))
            .json(&serde_json::json!({"username": "clerk", "password": pw}))
            .send()
            .unwrap()
    };
    let r = login("Long-enough-walnut-1");
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["user"]["role"], "underwriter");
    let token = v["token"].as_str().unwrap().to_string();
    let me = || {
        reqwest::blocking::Client::new()
            .get(format!("{address}/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(me(), 200);

    // `user revoke`: the token is dead at once.
    let o = guobao(&[
        "--database-url",
        &db.url,
        "user",
        "revoke",
        "--username",
        "clerk",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("已吊销 clerk 的 1 个API令牌"));
    assert_eq!(me(), 401);

    // Lock the name, then `user unlock`.
    for _ in 0..5 {
        assert_eq!(login("wrong-password-99").status().as_u16(), 401);
    }
    assert_eq!(login("Long-enough-walnut-1").status().as_u16(), 429);
    let o = guobao(&[
        "--database-url",
        &db.url,
        "user",
        "unlock",
        "--username",
        "clerk",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("已解除 clerk 的登录锁定"));
    assert_eq!(login("Long-enough-walnut-1").status().as_u16(), 200);

    // `user passwd --must-change`: the old password is gone and the new one
    // must be changed before a token is given.
    let o = guobao_with_stdin(
        &[
            "--database-url",
            &db.url,
            "user",
            "passwd",
            "--username",
            "clerk",
            "--password-stdin",
            "--must-change",
        ],
        "Another-long-pear-tree-8\n",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(login("Long-enough-walnut-1").status().as_u16(), 401);
    let r = login("Another-long-pear-tree-8");
    assert_eq!(r.status().as_u16(), 409);
    let o = guobao(&[
        "--database-url",
        &db.url,
        "user",
        "unlock",
        "--username",
        "nobody",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// The README's first command: serve with the demo county on a fresh database.
#[cfg(feature = "demo")]
#[test]
fn serve_demo_loads_the_demo_county_once_and_serves_it() {
    let db = TestDb::new();
    let server = ServerProcess::start(&db.url, &["--demo"], &[]);
    let (address, out) = (server.address.clone(), server.startup_output.clone());
    assert!(out.contains("15 个乡镇，164 个村，3000 户农户"), "{out}");
    let client = reqwest::blocking::Client::new();
    let login = |u: &str| server.token(u, guobao::demo::load::DEMO_PASSWORD);
    let county: Value = client
        .get(format!("{address}/api/v1/townships"))
        .bearer_auth(login("forestry"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let towns = county.as_array().unwrap();
    assert_eq!(towns.len(), 15);
    let targets: f64 = towns
        .iter()
        .map(|t| t["target_mu"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(targets, 20000.0);
    let ineligible: i64 = towns
        .iter()
        .map(|t| t["plots"].as_i64().unwrap() - t["eligible_plots"].as_i64().unwrap())
        .sum();
    assert!(ineligible > 0, "the demo has ineligible plots");
    let mine: Value = client
        .get(format!("{address}/api/v1/townships"))
        .bearer_auth(login("station01"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    for u in ["admin", "underwriter", "adjuster", "finance", "station15"] {
        login(u);
    }
    let boundaries: Value = client
        .get(format!("{address}/api/v1/plots?page_size=500"))
        .bearer_auth(login("forestry"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(boundaries["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| !p["boundary"].is_null()));
    server.kill();

    // The demo season is today's (its dates follow the day it is loaded):
    // started today, no issued policy expires and no policy changed,
    // compared with the same county loaded without a start (on SQLite, the
    // quicker to load: the demo is the same on both backends).
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("sqlite://{}", dir.path().join("reference.db").display());
    let pool = guobao::startup::prepare_database(&reference).unwrap();
    guobao::demo::load::load(&mut pool.get().unwrap(), &mut |_, _| {}).unwrap();
    let loaded = policy_statuses(&reference);
    for status in ["draft", "collected", "issued"] {
        assert!(
            loaded.values().any(|s| s == status),
            "the demo has {status} policies"
        );
    }
    let expected = loaded;
    let after_first = policy_statuses(&db.url);
    assert!(
        after_first == expected,
        "policy statuses after the first start"
    );

    // A second start keeps the data and does not load the demo again.
    let tables = ["areas", "users", "growers", "plots", "policies", "claims"];
    let counts = |db: &TestDb| -> Vec<i64> {
        let mut c = db.conn();
        tables.iter().map(|t| count(&mut c, t)).collect()
    };
    let before = counts(&db);
    assert_eq!(before[2], 3000, "{tables:?}: {before:?}");
    let again = ServerProcess::start(&db.url, &["--demo"], &[]);
    assert!(
        again.startup_output.contains("跳过演示数据载入"),
        "{}",
        again.startup_output
    );
    assert!(!again.startup_output.contains("已载入演示县"));
    again.token("forestry", guobao::demo::load::DEMO_PASSWORD);
    again.kill();
    assert_eq!(counts(&db), before, "{tables:?} after the second start");
    assert!(
        policy_statuses(&db.url) == after_first,
        "policy statuses after the second start"
    );
    let o = guobao(&["--database-url", &db.url, "demo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("只能载入空数据库"));
}

/// Every policy's status by policy number, straight from the database at `url`.
#[cfg(feature = "demo")]
fn policy_statuses(url: &str) -> std::collections::BTreeMap<String, String> {
    use diesel::prelude::*;
    use guobao::db::schema::policies;
    policies::table
        .select((policies::policy_no, policies::status))
        .load::<(String, String)>(&mut guobao::db::establish(url).unwrap())
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn policies_expire_after_their_cover_ends() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("到期").create(&a);
    PlotBuilder::new(g).create(&a);
    let pid = a.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    a.post(
        &format!("/api/v1/policies/{pid}/collect"),
        serde_json::json!({"collected_on": "2012-03-01"}),
    );
    notices::notice_for_policy(&app, pid);
    app.api("underwriter").post(
        &format!("/api/v1/policies/{pid}/issue"),
        serde_json::json!({}),
    );
    // The last day of cover is still in force.
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "policies",
        "expire",
        "--today",
        "2012-10-31",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("已将 0 份"));
    assert_eq!(
        a.get(&format!("/api/v1/policies/{pid}")).body["status"],
        "issued"
    );
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "policies",
        "expire",
        "--today",
        "2012-11-01",
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("已将 1 份"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        a.get(&format!("/api/v1/policies/{pid}")).body["status"],
        "expired"
    );
    let o = guobao(&[
        "--database-url",
        &app.db.url,
        "policies",
        "expire",
        "--today",
        "2012-11-31",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// Settings are read once at start-up (`config`); one that is set but cannot
/// be read stops the program with its name, instead of a silent default.
#[test]
fn a_setting_that_cannot_be_read_stops_the_program_and_names_it() {
    for (key, value) in [
        ("GUOBAO_MAX_UPLOAD_MB", "20MB"),
        ("GUOBAO_LOCK_WAIT_MS", "-5"),
        ("GUOBAO_SECURE_COOKIES", "yes"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_guobao"))
            .args([
                "quote",
                "--scheme",
                "walnut-2012",
                "--variety",
                "early",
                "--mu",
                "1",
            ])
            .env(key, value)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{key}={value}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(key) && err.contains("无效"), "{err}");
    }
    // The GeoJSON import checks the file's size before reading it.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.geojson");
    std::fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    let db = dir.path().join("never-opened.db");
    let o = Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args([
            "--database-url",
            &db.display().to_string(),
            "import",
            "plots",
            &big.display().to_string(),
            "--township",
            TOWNSHIP_A,
            "--json",
        ])
        .env("GUOBAO_MAX_UPLOAD_MB", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let v = json_of(&o);
    assert_eq!(v["fields"][0]["code"], "file_too_large", "{v}");
    assert!(!db.exists(), "the database was opened for a refused file");
}
