//! Load benchmark: many clients at once against the real server
//! (run: `cargo bench --bench load`; PostgreSQL too when GUOBAO_BENCH_PG_URL
//! is set, e.g. `postgres://postgres@127.0.0.1:5432`).
//!
//! The demo county is loaded, 200 claims are reported and dispatched, and
//! `guobao serve` (the release binary) is started as its own process. Then,
//! for `GUOBAO_LOAD_SECS` seconds each (30 by default), with
//! `GUOBAO_LOAD_CLIENTS` clients (200 by default):
//!   1. every client posts surveys of its own claim, one after another, each
//!      against the version the previous answer gave;
//!   2. every client reads the claims board;
//!   3. half the clients post surveys while the other half read the board.
//!
//! Reported per phase: requests, throughput, p50/p99 latency, and the status
//! codes seen. Afterwards the server is killed with SIGKILL and every survey
//! that was answered 201 is looked up in the database: "lost" must be 0.

use diesel::prelude::*;
use guobao::app::{self, Actor};
use guobao::db::schema::{claim_surveys, claims, plots, policies, users};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = guobao::demo::load::DEMO_PASSWORD;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A dispatched claim and where to stand to survey it.
#[derive(Clone)]
struct Target {
    claim_id: i64,
    version: i64,
    lat: f64,
    lon: f64,
}

fn actor(conn: &mut guobao::db::DbConn, name: &str) -> Actor {
    let id: i64 = users::table
        .filter(users::username.eq(name))
        .select(users::id)
        .first(conn)
        .unwrap();
    app::auth::actor_by_id(conn, id).unwrap().unwrap()
}

/// Demo county plus `n` fresh claims, reported and dispatched.
fn prepare(url: &str, n: usize) -> Vec<Target> {
    let pool = guobao::startup::prepare_database(url).unwrap();
    let mut c = pool.get().unwrap();
    guobao::demo::load::load(&mut c, &mut |_, _| {}).unwrap();
    let desk = actor(&mut c, "underwriter");
    let taken: Vec<i64> = claims::table
        .select(claims::policy_id)
        .load(&mut c)
        .unwrap();
    let insured: Vec<(i64, i64, Option<String>)> = policies::table
        .inner_join(plots::table.on(plots::grower_id.eq(policies::grower_id)))
        .filter(policies::status.eq("issued"))
        .filter(plots::eligible.eq(true))
        .filter(policies::id.ne_all(taken))
        .order((policies::id, plots::id))
        .select((policies::id, plots::id, plots::boundary))
        .load(&mut c)
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    let now = chrono::Utc::now();
    let mut targets = Vec::new();
    for (policy, plot, boundary) in insured.into_iter().filter(|(p, _, _)| seen.insert(*p)) {
        if targets.len() == n {
            break;
        }
        let reported = now - chrono::Duration::hours(2);
        let claim = app::claims::report(
            &mut c,
            &desk,
            reported,
            &app::claims::ReportInput {
                target: app::claims::PlotRef {
                    policy_id: Some(policy),
                    plot_id: Some(plot),
                    ..Default::default()
                },
                peril: "hail".into(),
                occurred_at: "2012-06-12 15:00".into(),
                reporter_name: "报案农户".into(),
                reporter_phone: "13800000000".into(),
                channel: Some("phone".into()),
                description: "冰雹".into(),
                ..Default::default()
            },
        )
        .unwrap();
        if claim.status != "reported" {
            continue;
        }
        let d = app::claims::dispatch(
            &mut c,
            &desk,
            reported + chrono::Duration::minutes(10),
            claim.id,
            &app::claims::DispatchInput {
                adjuster: "adjuster".into(),
                co_surveyor: "forestry".into(),
                version: None,
            },
        )
        .unwrap();
        let (lat, lon) = boundary
            .as_deref()
            .and_then(|b| guobao::geo::parse_polygon(b).ok())
            .and_then(|p| geo::Centroid::centroid(&p))
            .map(|p| (p.y(), p.x()))
            .unwrap_or((25.65, 99.95));
        targets.push(Target {
            claim_id: claim.id,
            version: i64::from(d.version),
            lat,
            lon,
        });
    }
    assert_eq!(targets.len(), n, "not enough insured plots in the demo");
    targets
}

struct Server {
    child: std::process::Child,
    address: String,
}

fn start(url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("果保已启动：") {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
        }
    };
    Server { child, address }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.errors += other.errors;
    }
}

const SIGNATURE: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// One client posting surveys of its claim until the deadline.
async fn surveyor(
    client: reqwest::Client,
    base: String,
    token: String,
    mut t: Target,
    until: Instant,
    acknowledged: Arc<Mutex<Vec<i64>>>,
    serial: Arc<AtomicU64>,
) -> (Tally, Target) {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let n = serial.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({
            "client_id": format!("load-{}-{n}", t.claim_id), "version": t.version,
            "latitude": t.lat, "longitude": t.lon, "accuracy_m": 5.0, "damaged_trees": 10,
            "affected_mu": "0.5", "loss_rate": "30", "adjuster_confirmed": true,
            "co_surveyor_confirmed": true, "grower_signed_name": "农户",
            "grower_signature": SIGNATURE, "notes": ""});
        let started = Instant::now();
        let sent = client
            .post(format!("{base}/api/v1/claims/{}/survey", t.claim_id))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                tally.latencies.push(started.elapsed());
                *tally.statuses.entry(status).or_default() += 1;
                if status == 201 {
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(v["survey_id"].as_i64().unwrap_or(-1));
                }
                if let Some(version) = v["claim"]["version"].as_i64() {
                    t.version = version;
                }
            }
            Err(_) => tally.errors += 1,
        }
    }
    (tally, t)
}

/// One client reading the claims board until the deadline.
async fn reader(client: reqwest::Client, base: String, token: String, until: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let started = Instant::now();
        match client
            .get(format!("{base}/api/v1/claims/board"))
            .bearer_auth(&token)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                tally.latencies.push(started.elapsed());
                *tally.statuses.entry(status).or_default() += 1;
            }
            Err(_) => tally.errors += 1,
        }
    }
    tally
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, secs: f64, mut t: Tally) -> u64 {
    t.latencies.sort();
    let n = t.latencies.len();
    let fivexx: u64 = t
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, v)| v)
        .sum();
    println!(
        "{label:<34} {n:>7} req  {:>7.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms  5xx {fivexx}  transport errors {}  statuses {:?}",
        n as f64 / secs,
        percentile(&t.latencies, 0.50),
        percentile(&t.latencies, 0.99),
        t.errors,
        t.statuses
    );
    fivexx + t.errors
}

fn token(base: &str, user: &str) -> String {
    let v: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn run(label: &str, url: &str) -> u64 {
    let clients = env_or("GUOBAO_LOAD_CLIENTS", 200) as usize;
    let secs = env_or("GUOBAO_LOAD_SECS", 30);
    let t = Instant::now();
    let mut targets = prepare(url, clients);
    println!(
        "{label}: demo county and {clients} dispatched claims in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let server = start(url);
    let base = server.address.clone();
    let adjuster = token(&base, "adjuster");
    let desk = token(&base, "underwriter");
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let serial = Arc::new(AtomicU64::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut bad = 0;
    for (phase, writers, readers) in [
        ("surveys (all clients write)", clients, 0),
        ("board (all clients read)", 0, clients),
        (
            "mixed (half write, half read)",
            clients / 2,
            clients - clients / 2,
        ),
    ] {
        let until = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let (tally, moved) = rt.block_on(async {
            let mut writing = Vec::new();
            for t in targets.iter().take(writers) {
                writing.push(tokio::spawn(surveyor(
                    client.clone(),
                    base.clone(),
                    adjuster.clone(),
                    t.clone(),
                    until,
                    acknowledged.clone(),
                    serial.clone(),
                )));
            }
            let mut reading = Vec::new();
            for _ in 0..readers {
                reading.push(tokio::spawn(reader(
                    client.clone(),
                    base.clone(),
                    desk.clone(),
                    until,
                )));
            }
            let mut all = Tally::default();
            let mut moved = Vec::new();
            for task in writing {
                let (tally, t) = task.await.unwrap();
                all.add(tally);
                moved.push(t);
            }
            for task in reading {
                all.add(task.await.unwrap());
            }
            (all, moved)
        });
        // Each claim's version has moved on with its surveys.
        for (slot, t) in targets.iter_mut().zip(moved) {
            *slot = t;
        }
        bad += report(
            &format!("{label} {phase}"),
            started.elapsed().as_secs_f64(),
            tally,
        );
    }
    // No goodbye: SIGKILL, then every acknowledged survey must be on disk.
    let mut child = server.child;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut c = guobao::db::establish(url).unwrap();
    let stored: std::collections::HashSet<i64> = claim_surveys::table
        .select(claim_surveys::id)
        .load(&mut c)
        .unwrap()
        .into_iter()
        .collect();
    let acknowledged = acknowledged.lock().unwrap();
    let lost = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .count();
    println!(
        "{label}: {} surveys answered 201, {lost} lost after kill -9",
        acknowledged.len()
    );
    bad + lost as u64
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = run(
        "SQLite",
        &format!("sqlite://{}", dir.path().join("load.db").display()),
    );
    if let Ok(base) = std::env::var("GUOBAO_BENCH_PG_URL") {
        let name = format!("guobao_load_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        bad += run("PostgreSQL", &format!("{base}/{name}"));
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }
    if bad > 0 {
        println!("FAILED: {bad} server errors, transport errors or lost writes");
        std::process::exit(1);
    }
}
