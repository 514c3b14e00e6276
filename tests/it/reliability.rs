//! Never lose an acknowledged write: a panic inside a write, writers arriving
//! at once, identical retries racing each other, and `kill -9` in the middle
//! of a roster import. Every test runs on SQLite and on PostgreSQL.

use crate::helpers::claims::*;
use crate::helpers::*;
use diesel::RunQueryDsl;
use rand::Rng;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::Barrier;

/// The real server in its own process, so that "restart" means a new
/// process and a write that was only ever in the old one's memory is gone.
type Server = ServerProcess;

fn with_faults(url: &str, points: &str) -> Server {
    ServerProcess::start(url, &[], &[("GUOBAO_FAULT_INJECTION", points)])
}

fn post(address: &str, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{address}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn get_status(address: &str, token: &str, path: &str) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{address}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn grower_body(name: &str, seq: u32) -> Value {
    json!({"name": name, "id_number": id_number("19800101", seq), "phone": "13800000000",
           "bank_name": "信用社", "bank_account": "6228480000000000001",
           "village_code": "532999101201"})
}

/// Connections left "idle in transaction" on this test's PostgreSQL database.
fn idle_in_transaction(url: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = guobao::db::establish(url).unwrap();
    diesel::sql_query(
        "SELECT COUNT(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    .get_result::<N>(&mut c)
    .unwrap()
    .n
}

/// The tester's finding: a panic inside a transaction used to return its
/// connection to the pool with the transaction open, and every later write on
/// it answered 201 and vanished. Now the panic is a 500 with its own code, and
/// 20 writes after it (with more panics in between) all survive `kill -9` and
/// a restart.
#[test]
fn a_panic_inside_a_write_loses_no_write_acknowledged_after_it() {
    let db = TestDb::new();
    {
        let pool = guobao::startup::prepare_database(&db.url).unwrap();
        seed(&mut pool.get().unwrap());
    }
    let server = with_faults(&db.url, "grower_insert");
    let token = server.token("station_a", PASSWORD);
    let mut ids = Vec::new();
    for round in 0..4u32 {
        let (status, body) = post(
            &server.address,
            &token,
            "/api/v1/growers",
            &grower_body(guobao::app::fault::MARKER, 900 + round),
        );
        assert_eq!(status, 500, "{body}");
        assert_eq!(body["error"], "internal_panic", "{body}");
        assert!(body["message"].as_str().unwrap().contains("没有保存"));
        for k in 0..5u32 {
            let seq = round * 5 + k + 1;
            let (status, body) = post(
                &server.address,
                &token,
                "/api/v1/growers",
                &grower_body(&format!("农户{seq}"), seq),
            );
            assert_eq!(status, 201, "{body}");
            ids.push(body["id"].as_i64().unwrap());
        }
    }
    assert_eq!(ids.len(), 20);
    if backend() == "postgres" {
        assert_eq!(idle_in_transaction(&db.url), 0);
    }
    server.kill();

    // After the restart every acknowledged grower is there, the panicked ones are not.
    assert_eq!(count(&mut db.conn(), "growers"), 20);
    let server = with_faults(&db.url, "grower_handler");
    let token = server.token("station_a", PASSWORD);
    for id in &ids {
        assert_eq!(
            get_status(&server.address, &token, &format!("/api/v1/growers/{id}")),
            200
        );
    }
    // A panic in a handler, outside any transaction: a 500 with a JSON body,
    // the worker survives and the next request is served.
    let (status, body) = post(
        &server.address,
        &token,
        "/api/v1/growers",
        &grower_body(guobao::app::fault::MARKER, 950),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"], "internal_panic");
    let (status, body) = post(
        &server.address,
        &token,
        "/api/v1/growers",
        &grower_body("农户21", 21),
    );
    assert_eq!(status, 201, "{body}");
    server.kill();
    assert_eq!(count(&mut db.conn(), "growers"), 21);
}

/// A writer that cannot get its lock within the configured wait is told
/// "busy, retry" (503 with Retry-After and a Chinese message), never a 500,
/// and nothing of it is written; once the lock is free the same request works.
#[test]
fn a_writer_that_cannot_get_the_lock_in_time_gets_503_and_writes_nothing() {
    use diesel::connection::SimpleConnection;
    let db = TestDb::new();
    {
        let pool = guobao::startup::prepare_database(&db.url).unwrap();
        seed(&mut pool.get().unwrap());
    }
    let server = ServerProcess::start(&db.url, &[], &[("GUOBAO_LOCK_WAIT_MS", "300")]);
    let token = server.token("station_a", PASSWORD);
    // Someone else holds the lock: the SQLite write lock, or on PostgreSQL a
    // table lock that blocks inserts into growers.
    let mut holder = db.conn();
    holder
        .batch_execute(if backend() == "postgres" {
            "BEGIN; LOCK TABLE growers IN EXCLUSIVE MODE;"
        } else {
            "BEGIN IMMEDIATE;"
        })
        .unwrap();
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/growers", server.address))
        .bearer_auth(&token)
        .json(&grower_body("农户1", 1))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(
        r.headers().get("Retry-After").and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "busy", "{body}");
    assert!(body["message"].as_str().unwrap().contains("系统繁忙"));
    holder.batch_execute("ROLLBACK;").unwrap();
    assert_eq!(count(&mut db.conn(), "growers"), 0);

    let (status, body) = post(
        &server.address,
        &token,
        "/api/v1/growers",
        &grower_body("农户1", 1),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&mut db.conn(), "growers"), 1);
}

/// Claims dispatched and ready for a survey, on a server whose clock is the
/// next morning.
fn dispatched_claims(app: &TestApp, n: u32) -> Vec<(i64, i64)> {
    let uw = app.api("underwriter");
    let mut claims = Vec::new();
    for i in 0..n {
        let ins = insured(app, &format!("并发{i}"), 100 + i, true);
        let r = report(&uw, &ins, "hail", "2012-06-12 06:30");
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_i64().unwrap();
        let r = dispatch(&uw, id);
        assert_eq!(r.status, 200, "{}", r.body);
        claims.push((id, r.body["version"].as_i64().unwrap()));
    }
    claims
}

/// 50 surveys of 50 claims at the same instant: SQLite used to answer about
/// half of them "database is locked" (500). Writers now wait their turn.
#[test]
fn fifty_surveys_at_once_are_all_recorded() {
    let app = spawn_app_at("2012-06-12 08:00");
    let claims = dispatched_claims(&app, 50);
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    let start = Barrier::new(claims.len());
    let statuses: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = claims
            .iter()
            .map(|(id, version)| {
                let (adj, start) = (&adj, &start);
                s.spawn(move || {
                    let mut body = survey_body(&format!("survey-many-{id}"), lat, lon, "5", "35");
                    body["version"] = json!(version);
                    start.wait();
                    let r = adj.post(&format!("/api/v1/claims/{id}/survey"), body);
                    (r.status, r.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &statuses {
        assert_eq!(*status, 201, "{body}");
    }
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 50);
}

/// A tablet's queue replaying a survey while the first copy is still in
/// flight: of 30 identical copies sent at once exactly one is recorded (201)
/// and every other copy gets the recorded result (200), never a 409 or 5xx.
/// The same for a photo.
#[test]
fn identical_retries_at_once_answer_the_recorded_result() {
    let app = spawn_app_at("2012-06-12 08:00");
    let claims = dispatched_claims(&app, 1);
    let (id, version) = claims[0];
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    let mut body = survey_body("survey-retry-0001", lat, lon, "5", "35");
    body["version"] = json!(version);
    let copies = 30;
    let start = Barrier::new(copies);
    let replies: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..copies)
            .map(|_| {
                let (adj, start, body) = (&adj, &start, body.clone());
                s.spawn(move || {
                    start.wait();
                    let r = adj.post(&format!("/api/v1/claims/{id}/survey"), body);
                    (r.status, r.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = replies.iter().filter(|(s, _)| *s == 201).count();
    let replayed = replies.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, replayed), (1, copies - 1), "{replies:?}");
    let survey_ids: std::collections::BTreeSet<i64> = replies
        .iter()
        .map(|(_, b)| b["survey_id"].as_i64().unwrap())
        .collect();
    assert_eq!(survey_ids.len(), 1);
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 1);

    let photo = jpeg(42);
    let start = Barrier::new(copies);
    let replies: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..copies)
            .map(|_| {
                let (adj, start, photo) = (&adj, &start, photo.clone());
                s.spawn(move || {
                    start.wait();
                    upload(adj, id, "photo-retry-0001", photo).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = replies.iter().filter(|s| **s == 201).count();
    let replayed = replies.iter().filter(|s| **s == 200).count();
    assert_eq!((created, replayed), (1, copies - 1), "{replies:?}");
    assert_eq!(count(&mut app.conn(), "claim_photos"), 1);
}

/// A second, different survey of a claim that already has one must name the
/// version it was made against: without it the later survey would silently
/// replace the payout.
#[test]
fn a_second_survey_needs_the_current_version() {
    let app = spawn_app_at("2012-06-12 08:00");
    let claims = dispatched_claims(&app, 1);
    let (id, version) = claims[0];
    let adj = app.api("adjuster");
    let (lat, lon) = point_east(50.0);
    let url = format!("/api/v1/claims/{id}/survey");
    let first = adj.post(&url, survey_body("survey-first-001", lat, lon, "5", "35"));
    assert_eq!(first.status, 201, "{}", first.body);
    let now = first.body["claim"]["version"].as_i64().unwrap();
    assert!(now > version);

    let second = survey_body("survey-second-01", lat, lon, "5", "60");
    let r = adj.post(&url, second.clone());
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.code(), "version_required");
    let mut stale = second.clone();
    stale["version"] = json!(version);
    let r = adj.post(&url, stale);
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "version_conflict");
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 1);
    let detail = adj.get(&format!("/api/v1/claims/{id}"));
    assert_eq!(
        detail.body["claim"]["payout"],
        first.body["claim"]["payout"]
    );

    let mut current = second;
    current["version"] = json!(now);
    let r = adj.post(&url, current);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 2);
}

// ---------------------------------------------------------------- kill -9

const CRASH_ROWS: usize = 3000;

/// A roster of `CRASH_ROWS` new, eligible growers of 甲镇's two villages.
fn big_roster(dir: &std::path::Path) -> String {
    let rows: Vec<[String; 5]> = (0..CRASH_ROWS)
        .map(|i| {
            let birth = format!(
                "19{:02}{:02}{:02}",
                50 + i / 336,
                1 + (i / 28) % 12,
                1 + i % 28
            );
            [
                format!("农户{i}"),
                id_number(&birth, (i % 900) as u32 + 100),
                format!("138{i:08}"),
                if i % 2 == 0 { "一村" } else { "二村" }.to_string(),
                format!("K{i:06}"),
            ]
        })
        .collect();
    let refs: Vec<RosterRow> = rows
        .iter()
        .enumerate()
        .map(|(i, [n, id, phone, village, code])| {
            (
                n.as_str(),
                id.as_str(),
                phone.as_str(),
                village.as_str(),
                code.as_str(),
                1.0 + (i % 7) as f64,
            )
        })
        .collect();
    roster_file(dir, "big.xlsx", &refs)
}

fn import_command(url: &str, roster: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guobao"));
    cmd.args([
        "--database-url",
        url,
        "import",
        "roster",
        roster,
        "--township",
        TOWNSHIP_A,
        "--json",
    ])
    .env("RUST_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

fn seeded_db() -> TestDb {
    let db = TestDb::new();
    let pool = guobao::startup::prepare_database(&db.url).unwrap();
    seed(&mut pool.get().unwrap());
    db
}

const IMPORTED_TABLES: [&str; 4] = ["growers", "plots", "policies", "audit_log"];

fn counts(db: &TestDb) -> Vec<i64> {
    let mut c = db.conn();
    IMPORTED_TABLES.iter().map(|t| count(&mut c, t)).collect()
}

/// `kill -9` of the CLI roster import at random moments: each time the
/// database holds either none of the roster or all of it, and SQLite's
/// integrity check passes. The seed is printed so a failure can be replayed.
#[test]
fn kill_9_during_a_roster_import_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let roster = big_roster(dir.path());

    // One undisturbed import: how long it takes and what "all" is.
    let reference = seeded_db();
    let before = counts(&reference);
    let started = std::time::Instant::now();
    let status = import_command(&reference.url, &roster).status().unwrap();
    let took = started.elapsed();
    assert!(status.success());
    let after = counts(&reference);
    assert_eq!(after[0] - before[0], CRASH_ROWS as i64);

    let seed_value: u64 = rand::thread_rng().gen();
    eprintln!("kill -9 trials: seed {seed_value}, undisturbed import {took:?}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed_value);
    let (mut none, mut all) = (0, 0);
    for trial in 0..10u32 {
        let db = seeded_db();
        assert_eq!(counts(&db), before);
        // Spread over the whole run, from process start (reading the file)
        // through the writing to past the usual end, with some jitter: a
        // freshly started import under test load takes longer than the
        // reference, so the last trials are the ones that may see a commit.
        let delay = took.mul_f64(f64::from(trial) * 0.18 + rng.gen_range(0.0..0.18));
        let mut child = import_command(&db.url, &roster).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        child.wait().unwrap();
        let now = counts(&db);
        if now == before {
            none += 1;
        } else {
            assert_eq!(
                now, after,
                "trial {trial} (seed {seed_value}, killed after {delay:?}): a partial import"
            );
            all += 1;
        }
        if backend() == "sqlite" {
            #[derive(diesel::QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
                .load(&mut db.conn())
                .unwrap();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].integrity_check, "ok", "trial {trial}");
        }
        // Whatever the kill left, the next import finishes and gives "all".
        assert!(import_command(&db.url, &roster).status().unwrap().success());
        assert_eq!(counts(&db)[..3], after[..3], "trial {trial}");
    }
    eprintln!("kill -9 trials: {none} left nothing, {all} left everything");
}
