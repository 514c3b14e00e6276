//! The bad-input corpus: well over 150 hostile inputs sent through the real
//! interfaces — JSON bodies, query strings, photo and GeoJSON uploads,
//! spreadsheet files and the CLI import. Every one must be refused with a 4xx
//! (the CLI: exit code 2) carrying a Chinese message, and must change no row
//! in any table. Runs on SQLite and, with GUOBAO_TEST_DATABASE=postgres, on
//! PostgreSQL.

use crate::helpers::claims::*;
use crate::helpers::*;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

/// Decimal::MAX: 29 digits.
const HUGE: &str = "79228162514264337593543950335";

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Text no field accepts, whatever its other rules.
fn hostile_text() -> Vec<(&'static str, Value)> {
    vec![
        ("NUL", json!("王\u{0}芳")),
        ("BEL", json!("王\u{7}芳")),
        ("RLO", json!("王\u{202E}芳")),
        ("zero-width space", json!("王\u{200B}芳")),
        ("10,000 characters", json!("王".repeat(10_000))),
        ("an array", json!(["王芳"])),
        ("an object", json!({"name": "王芳"})),
    ]
}

/// Amounts and counts no numeric field accepts.
fn hostile_numbers() -> Vec<(&'static str, Value)> {
    vec![
        ("29 digits", json!(HUGE)),
        ("exponent", json!("1e3")),
        ("full-width exponent", json!("１ｅ３")),
        ("NaN", json!("NaN")),
        ("inf", json!("inf")),
        ("hex", json!("0x10")),
        ("bad grouping", json!("1,00")),
        ("negative", json!("-1")),
        ("words", json!("三亩")),
        ("an array", json!(["1"])),
    ]
}

fn with(base: &Value, field: &str, value: Value) -> Value {
    let mut b = base.clone();
    b[field] = value;
    b
}

enum Send {
    Json {
        user: &'static str,
        method: &'static str,
        path: String,
        body: Value,
    },
    Raw {
        user: &'static str,
        path: String,
        content_type: &'static str,
        body: Vec<u8>,
    },
    Get {
        user: &'static str,
        path: String,
    },
    Cli {
        args: Vec<String>,
    },
}

struct Case {
    name: String,
    send: Send,
}

fn json_case(
    name: String,
    user: &'static str,
    method: &'static str,
    path: &str,
    body: Value,
) -> Case {
    Case {
        name,
        send: Send::Json {
            user,
            method,
            path: path.to_string(),
            body,
        },
    }
}

/// Rows per table, over every table of the schema.
fn snapshot(app: &TestApp) -> Vec<(String, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let mut c = app.conn();
    let sql = if backend() == "postgres" {
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> '__diesel_schema_migrations' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '__diesel_schema_migrations' ORDER BY 1"
    };
    let names: Vec<Name> = diesel::sql_query(sql).load(&mut c).unwrap();
    names
        .into_iter()
        .map(|n| {
            let rows = count(&mut c, &n.name);
            (n.name, rows)
        })
        .collect()
}

struct World {
    app: TestApp,
    tokens: std::collections::HashMap<&'static str, Api>,
    grower: i64,
    claim: i64,
    batch: i64,
    roster_dir: tempfile::TempDir,
}

fn world() -> World {
    let app = spawn_app_at("2012-06-12 08:00");
    let station = app.api("station_a");
    let grower = GrowerBuilder::new("王芳").create(&station);
    let ins = insured(&app, "李冰雹", 2, true);
    let uw = app.api("underwriter");
    let r = report(&uw, &ins, "hail", "2012-06-12 06:30");
    assert_eq!(r.status, 201, "{}", r.body);
    let claim = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, claim).status, 200);
    let r = station.post(
        "/api/v1/batches",
        json!({"receipt_no": "SJ-A1", "handed_over_on": "2012-03-20"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let batch = r.body["id"].as_i64().unwrap();
    let mut tokens = std::collections::HashMap::new();
    for user in ["station_a", "underwriter", "adjuster", "finance", "admin"] {
        tokens.insert(user, app.api(user));
    }
    World {
        app,
        tokens,
        grower,
        claim,
        batch,
        roster_dir: tempfile::tempdir().unwrap(),
    }
}

fn corpus(w: &World) -> Vec<Case> {
    let mut cases = Vec::new();
    let village = w.app.seed.village_a1.clone();

    // Growers: every text field × every hostile text, and broken ID numbers.
    let grower = json!({"name": "赵四", "id_number": id_number("19700101", 9), "phone": "13800000000",
                        "bank_name": "信用社", "bank_account": "6228480000000000001",
                        "village_code": village});
    for field in [
        "name",
        "id_number",
        "phone",
        "bank_name",
        "bank_account",
        "village_code",
    ] {
        for (what, v) in hostile_text() {
            cases.push(json_case(
                format!("grower {field}: {what}"),
                "station_a",
                "POST",
                "/api/v1/growers",
                with(&grower, field, v),
            ));
        }
    }
    for (what, id) in [
        ("multi-byte at byte 17", "5329991970010100中1".to_string()),
        ("emoji", "5329991970😀10100X1".to_string()),
        ("17 digits", "53299919700101009".to_string()),
        ("wrong check digit", {
            let mut s = id_number("19700101", 9);
            let last = if s.ends_with('0') { '1' } else { '0' };
            s.pop();
            s.push(last);
            s
        }),
        ("impossible birth date", "532999197002300091".to_string()),
    ] {
        cases.push(json_case(
            format!("grower id_number: {what}"),
            "station_a",
            "POST",
            "/api/v1/growers",
            with(&grower, "id_number", json!(id)),
        ));
    }
    cases.push(json_case(
        "grower: unknown village".into(),
        "station_a",
        "POST",
        "/api/v1/growers",
        with(&grower, "village_code", json!("532999999999")),
    ));
    cases.push(json_case(
        "grower: another township's village".into(),
        "station_a",
        "POST",
        "/api/v1/growers",
        with(&grower, "village_code", json!(w.app.seed.village_b1)),
    ));

    // Plots: every number field × every hostile number; text and boundaries.
    let plot = json!({"grower_id": w.grower, "variety": "early", "tree_age": 8, "tree_count": 30,
                      "fruit_per_tree": 300, "area_mu": "3"});
    for field in ["tree_age", "tree_count", "fruit_per_tree", "area_mu"] {
        for (what, v) in hostile_numbers() {
            cases.push(json_case(
                format!("plot {field}: {what}"),
                "station_a",
                "POST",
                "/api/v1/plots",
                with(&plot, field, v),
            ));
        }
    }
    for field in ["code", "variety"] {
        for (what, v) in hostile_text() {
            cases.push(json_case(
                format!("plot {field}: {what}"),
                "station_a",
                "POST",
                "/api/v1/plots",
                with(&plot, field, v),
            ));
        }
    }
    for (what, b) in [
        ("not JSON", json!("{not json")),
        (
            "a point",
            json!(r#"{"type":"Point","coordinates":[99.9,25.6]}"#),
        ),
        (
            "latitude 1000",
            json!(
                r#"{"type":"Polygon","coordinates":[[[99.9,1000],[99.91,1000],[99.91,1000.01],[99.9,1000]]]}"#
            ),
        ),
        (
            "two vertices",
            json!(r#"{"type":"Polygon","coordinates":[[[99.9,25.6],[99.91,25.6],[99.9,25.6]]]}"#),
        ),
        ("a number", json!(5)),
    ] {
        cases.push(json_case(
            format!("plot boundary: {what}"),
            "station_a",
            "POST",
            "/api/v1/plots",
            with(&plot, "boundary", b),
        ));
    }
    cases.push(json_case(
        "plot: unknown grower".into(),
        "station_a",
        "POST",
        "/api/v1/plots",
        with(&plot, "grower_id", json!(999_999)),
    ));
    cases.push(json_case(
        "plot: grower id beyond i64".into(),
        "station_a",
        "POST",
        "/api/v1/plots",
        with(&plot, "grower_id", json!(HUGE)),
    ));

    // Claim reports.
    let ins_report = json!({"policy_no": "none", "peril": "hail", "occurred_at": "2012-06-12 06:00",
                            "reporter_name": "报案人", "reporter_phone": "13900000000",
                            "channel": "phone", "description": "冰雹"});
    for (field, v, what) in [
        ("occurred_at", json!("2012-13-45 25:00"), "impossible time"),
        ("occurred_at", json!("1e3"), "exponent"),
        ("occurred_at", json!("\u{0}"), "NUL"),
        ("peril", json!("alien-invasion"), "unknown peril"),
        ("peril", json!("hail\u{0}"), "NUL"),
        ("reporter_name", json!("张\u{202E}三"), "RLO"),
        (
            "reporter_name",
            json!("张".repeat(10_000)),
            "10,000 characters",
        ),
        ("reporter_phone", json!("139\u{7}00000000"), "BEL"),
        ("channel", json!("pigeon"), "unknown channel"),
        ("description", json!("冰\u{0}雹"), "NUL"),
        (
            "description",
            json!("雹".repeat(10_000)),
            "10,000 characters",
        ),
        ("policy_no", json!("BD\u{0}1"), "NUL"),
        ("policy_no", json!(["x"]), "an array"),
    ] {
        cases.push(json_case(
            format!("claim report {field}: {what}"),
            "underwriter",
            "POST",
            "/api/v1/claims",
            with(&ins_report, field, v),
        ));
    }

    // Surveys of the dispatched claim.
    let (lat, lon) = point_east(50.0);
    let survey = survey_body("survey-corpus-01", lat, lon, "5", "35");
    let survey_path = format!("/api/v1/claims/{}/survey", w.claim);
    for (field, v, what) in [
        ("latitude", json!(1000.0), "latitude 1000"),
        ("latitude", json!("north"), "words"),
        ("longitude", json!(-1000.0), "longitude -1000"),
        ("longitude", json!(null), "missing"),
        ("damaged_trees", json!(-1), "negative"),
        ("damaged_trees", json!(HUGE), "29 digits"),
        ("damaged_trees", json!("1e3"), "exponent"),
        ("affected_mu", json!(HUGE), "29 digits"),
        ("affected_mu", json!("1e3"), "exponent"),
        ("affected_mu", json!("-1"), "negative"),
        ("affected_mu", json!("0"), "zero"),
        ("affected_mu", json!("1000"), "more than the plot"),
        ("loss_rate", json!(HUGE), "29 digits"),
        ("loss_rate", json!("1e2"), "exponent"),
        ("loss_rate", json!("150"), "over 100%"),
        ("loss_rate", json!("-5"), "negative"),
        ("grower_signed_name", json!("\u{0}"), "NUL"),
        ("grower_signed_name", json!(""), "empty"),
        ("grower_signature", json!("not a picture"), "not a data URL"),
        ("client_id", json!("短"), "too short"),
        ("client_id", json!("survey\u{0}corpus"), "NUL"),
        ("surveyed_at", json!("9999-99-99 99:99"), "impossible time"),
        ("surveyed_at", json!("2030-01-01 08:00"), "in the future"),
        ("version", json!("x"), "not a number"),
        ("adjuster_confirmed", json!(false), "not confirmed"),
    ] {
        cases.push(json_case(
            format!("survey {field}: {what}"),
            "adjuster",
            "POST",
            &survey_path,
            with(&survey, field, v),
        ));
    }

    // Photos: bytes that are not a JPEG, PNG or WebP image.
    let photo_path = |id: &str| format!("/api/v1/claims/{}/photos?client_id={id}", w.claim);
    let mut html_jpeg = vec![0xFF, 0xD8, 0xFF];
    html_jpeg.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut png_sig = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png_sig.extend_from_slice(&[0; 64]);
    let real = jpeg(3);
    for (what, bytes) in [
        ("JPEG header then HTML", html_jpeg),
        ("empty", Vec::new()),
        ("PNG signature only", png_sig),
        ("RIFF WEBP header only", b"RIFF\x10\0\0\0WEBPVP8 ".to_vec()),
        ("GIF", b"GIF89a\x01\0\x01\0\0\0\0;".to_vec()),
        ("half a JPEG", real[..real.len() / 2].to_vec()),
        ("text", "这不是照片".as_bytes().to_vec()),
        ("PDF", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec()),
    ] {
        cases.push(Case {
            name: format!("photo: {what}"),
            send: Send::Raw {
                user: "adjuster",
                path: photo_path("photo-corpus-01"),
                content_type: "image/jpeg",
                body: bytes,
            },
        });
    }
    for (what, id) in [("no client id", ""), ("short client id", "x")] {
        cases.push(Case {
            name: format!("photo: {what}"),
            send: Send::Raw {
                user: "adjuster",
                path: photo_path(id),
                content_type: "image/jpeg",
                body: jpeg(4),
            },
        });
    }

    // Money: disbursements and batch confirmation × every hostile number.
    let disburse = json!({"scheme": "walnut-2012", "township_code": TOWNSHIP_A, "level": "county",
                          "amount": "10.00", "paid_on": "2012-05-01", "voucher_no": "PZ-1", "note": ""});
    for (what, v) in hostile_numbers() {
        cases.push(json_case(
            format!("disbursement amount: {what}"),
            "finance",
            "POST",
            "/api/v1/finance/disbursements",
            with(&disburse, "amount", v.clone()),
        ));
        cases.push(json_case(
            format!("batch confirmation amount: {what}"),
            "underwriter",
            "POST",
            &format!("/api/v1/batches/{}/confirm", w.batch),
            json!({"amount": v, "confirmed_on": "2012-03-21"}),
        ));
    }
    for (field, v, what) in [
        ("level", json!("galactic"), "unknown level"),
        ("township_code", json!("532999\u{0}"), "NUL"),
        ("paid_on", json!("2012-02-30"), "impossible date"),
        ("voucher_no", json!("PZ\u{202E}1"), "RLO"),
        ("note", json!("注".repeat(2_001)), "2,001 characters"),
        ("scheme", json!("no-such-scheme"), "unknown scheme"),
    ] {
        cases.push(json_case(
            format!("disbursement {field}: {what}"),
            "finance",
            "POST",
            "/api/v1/finance/disbursements",
            with(&disburse, field, v),
        ));
    }

    // Scheme definitions.
    let scheme: Value = serde_json::from_str(guobao::domain::scheme::WALNUT_2012_JSON).unwrap();
    let mut apple = scheme.clone();
    apple["code"] = json!("apple-corpus");
    for (field, v, what) in [
        ("sum_insured_per_mu", json!(HUGE), "29 digits"),
        ("premium_per_mu", json!("1e3"), "exponent"),
        ("code", json!("apple\u{0}"), "NUL"),
        ("name", json!("苹果\u{202E}"), "RLO"),
        (
            "term_end",
            json!("9999-12-31"),
            "a term of eight thousand years",
        ),
        ("varieties", json!("early"), "varieties as text"),
    ] {
        cases.push(json_case(
            format!("scheme {field}: {what}"),
            "admin",
            "POST",
            "/api/v1/schemes",
            with(&apple, field, v),
        ));
    }

    // Bodies that are not what the operation reads.
    for (what, path, user) in [
        ("grower", "/api/v1/growers", "station_a"),
        ("plot", "/api/v1/plots", "station_a"),
        ("claim", "/api/v1/claims", "underwriter"),
        ("survey", survey_path.as_str(), "adjuster"),
    ] {
        cases.push(Case {
            name: format!("{what}: body is not JSON"),
            send: Send::Raw {
                user,
                path: path.to_string(),
                content_type: "application/json",
                body: b"{\"name\": ".to_vec(),
            },
        });
        cases.push(Case {
            name: format!("{what}: JSON nested 100,000 deep"),
            send: Send::Raw {
                user,
                path: path.to_string(),
                content_type: "application/json",
                body: format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            },
        });
        cases.push(Case {
            name: format!("{what}: body over the limit"),
            send: Send::Raw {
                user,
                path: path.to_string(),
                content_type: "application/json",
                body: format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024)).into_bytes(),
            },
        });
    }

    // GeoJSON uploads.
    let geo_path = format!("/api/v1/townships/{TOWNSHIP_A}/boundaries");
    for (what, body) in [
        ("not JSON", "{\"type\": ".to_string()),
        ("empty", String::new()),
        ("a bare number", "5".to_string()),
        ("a JSON array", "[]".to_string()),
        (
            "features not a list",
            json!({"type": "FeatureCollection", "features": "all of them"}).to_string(),
        ),
        (
            "coordinates as text",
            json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "X"},
                "geometry": {"type": "Polygon", "coordinates": [[["a","b"],["c","d"],["e","f"],["a","b"]]]}}]})
            .to_string(),
        ),
        (
            "a number beyond f64",
            "{\"type\":\"Polygon\",\"coordinates\":[[[1e400,25.6],[99.9,25.6],[99.9,25.7],[1e400,25.6]]]}"
                .to_string(),
        ),
        ("nested 100,000 deep", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
    ] {
        cases.push(Case {
            name: format!("GeoJSON: {what}"),
            send: Send::Raw {
                user: "station_a",
                path: geo_path.clone(),
                content_type: "application/geo+json",
                body: body.into_bytes(),
            },
        });
    }

    // Reconciliation statements that are not spreadsheets.
    for (what, body) in [
        ("empty", Vec::new()),
        ("text", "保单号,金额\nBD1,10".as_bytes().to_vec()),
        (
            "a zip that is not a workbook",
            b"PK\x03\x04garbage".to_vec(),
        ),
    ] {
        cases.push(Case {
            name: format!("reconciliation file: {what}"),
            send: Send::Raw {
                user: "finance",
                path: "/api/v1/finance/reconciliations?source=insurer".into(),
                content_type: "application/octet-stream",
                body,
            },
        });
    }

    // Query strings.
    for (what, path) in [
        ("page 0", "/api/v1/growers?page=0"),
        ("page_size 100000", "/api/v1/growers?page_size=100000"),
        ("page not a number", "/api/v1/growers?page=abc"),
        ("unknown policy status", "/api/v1/policies?status=lost"),
        ("unknown claim status", "/api/v1/claims?status=lost"),
        ("page beyond i64", "/api/v1/plots?page=92233720368547758070"),
        ("claims: unknown sort", "/api/v1/claims?sort=drop"),
        ("claims: unknown direction", "/api/v1/claims?dir=sideways"),
        (
            "claims: page_size 100000",
            "/api/v1/claims?page_size=100000",
        ),
        ("claims: per_page 0", "/api/v1/claims?per_page=0"),
        ("claims: page 0", "/api/v1/claims?page=0"),
        ("claims: NUL in the search", "/api/v1/claims?q=%E7%8E%8B%00"),
        (
            "claims: unknown township",
            "/api/v1/claims?township=999999999",
        ),
        (
            "claims: village not a number",
            "/api/v1/claims?village_id=abc",
        ),
        ("policies: unknown sort", "/api/v1/policies?sort=drop"),
        ("metrics: a station's token", "/metrics"),
    ] {
        cases.push(Case {
            name: format!("query: {what}"),
            send: Send::Get {
                user: "station_a",
                path: path.into(),
            },
        });
    }

    // The CLI roster import: files it cannot use, and rosters whose every row is bad.
    let fixture = |f: &str| format!("{}/fixtures/rosters/{f}", env!("CARGO_MANIFEST_DIR"));
    let dir = w.roster_dir.path();
    let empty = dir.join("empty.xlsx");
    std::fs::write(&empty, b"").unwrap();
    let random = dir.join("random.xlsx");
    std::fs::write(
        &random,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let mut files = vec![
        ("not a spreadsheet", fixture("not-a-spreadsheet.xlsx")),
        ("truncated", fixture("truncated.xlsx")),
        ("encrypted", fixture("encrypted.xlsx")),
        ("no header", fixture("no-header.xlsx")),
        ("zip bomb", fixture("zipbomb.xlsx")),
        ("empty file", empty.display().to_string()),
        ("random bytes", random.display().to_string()),
        (
            "missing file",
            dir.join("absent.xlsx").display().to_string(),
        ),
    ];
    let ok_id = id_number("19700101", 31);
    for (what, name, id) in [
        ("NUL names", "王\u{0}芳", ok_id.as_str()),
        ("RLO names", "王\u{202E}芳", ok_id.as_str()),
        ("multi-byte ID", "王芳", "5329991970010100中1"),
        (
            "10,000-character name",
            &"王".repeat(10_000)[..],
            ok_id.as_str(),
        ),
    ] {
        let file = format!("bad-{}.xlsx", files.len());
        files.push((
            what,
            roster_file(dir, &file, &[(name, id, "13800000000", "一村", "", 2.0)]),
        ));
    }
    // The CLI's other commands: values they refuse before doing anything.
    let url = w.app.db.url.clone();
    let backups = w.roster_dir.path().join("backups");
    for (what, args) in [
        ("inspect: month 13", vec!["inspect", "--month", "2026-13"]),
        (
            "inspect: month without a year",
            vec!["inspect", "--month", "11"],
        ),
        (
            "inspect: full-width month",
            vec!["inspect", "--month", "２０２６-１１"],
        ),
        ("inspect: year 0", vec!["inspect", "--month", "0000-01"]),
        ("backup: keep 0", vec!["backup", "--keep", "0"]),
        ("backup: keep negative", vec!["backup", "--keep", "-1"]),
        ("backup: keep not a number", vec!["backup", "--keep", "三"]),
        (
            "restore: no such directory",
            vec!["restore", "/nonexistent/guobao-backup"],
        ),
        (
            "photos: batch 0",
            vec!["photos", "move-out", "--batch", "0"],
        ),
        (
            "photos: batch negative",
            vec!["photos", "move-out", "--batch", "-5"],
        ),
        ("log format xml", vec!["--log-format", "xml", "inspect"]),
        ("unknown command", vec!["drop-everything"]),
    ] {
        let mut full = vec!["--database-url".to_string(), url.clone()];
        full.extend(args.iter().map(|a| a.to_string()));
        if what.starts_with("backup") {
            full.extend(["--to".to_string(), backups.display().to_string()]);
        }
        cases.push(Case {
            name: format!("CLI {what}"),
            send: Send::Cli { args: full },
        });
    }
    for (what, path) in files {
        cases.push(Case {
            name: format!("CLI import: {what}"),
            send: Send::Cli {
                args: vec![
                    "--database-url".into(),
                    w.app.db.url.clone(),
                    "import".into(),
                    "roster".into(),
                    path,
                    "--township".into(),
                    TOWNSHIP_A.into(),
                ],
            },
        });
    }
    cases
}

/// What came back: a status (or exit code) and the text a person would read.
fn send(w: &World, s: &Send) -> (u16, String) {
    let client = reqwest::blocking::Client::new();
    let http = |rb: reqwest::blocking::RequestBuilder, user: &str| {
        let r = rb.bearer_auth(&w.tokens[user].token).send().unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        (status, message)
    };
    let base = &w.app.address;
    match s {
        Send::Json {
            user,
            method,
            path,
            body,
        } => {
            let url = format!("{base}{path}");
            let rb = match *method {
                "PUT" => client.put(url),
                _ => client.post(url),
            };
            http(rb.json(body), user)
        }
        Send::Raw {
            user,
            path,
            content_type,
            body,
        } => http(
            client
                .post(format!("{base}{path}"))
                .header("Content-Type", *content_type)
                .body(body.clone()),
            user,
        ),
        Send::Get { user, path } => http(client.get(format!("{base}{path}")), user),
        Send::Cli { args } => {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
                .args(args)
                .env("RUST_LOG", "warn")
                .output()
                .unwrap();
            let code = o.status.code().map_or(999, |c| c as u16);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            (code, text)
        }
    }
}

#[test]
fn every_hostile_input_is_refused_cleanly_and_writes_nothing() {
    let w = world();
    let cases = corpus(&w);
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut before = snapshot(&w.app);
    let mut failures = Vec::new();
    for case in &cases {
        let (status, message) = send(&w, &case.send);
        let refused = match case.send {
            Send::Cli { .. } => status == 2,
            _ => (400..500).contains(&status),
        };
        if !refused {
            failures.push(format!("{}: status {status}: {message}", case.name));
        } else if !has_chinese(&message) {
            failures.push(format!("{}: no Chinese message: {message:.200}", case.name));
        }
        let after = snapshot(&w.app);
        if after != before {
            let changed: Vec<_> = before
                .iter()
                .zip(&after)
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("{} {} -> {}", a.0, a.1, b.1))
                .collect();
            failures.push(format!("{}: wrote {changed:?}", case.name));
            before = after;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // And the server still takes a good request.
    let r = w.tokens["station_a"].post(
        "/api/v1/growers",
        json!({"name": "赵四", "id_number": id_number("19700101", 9), "phone": "13800000000",
               "bank_name": "信用社", "bank_account": "6228480000000000001",
               "village_code": w.app.seed.village_a1}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}
