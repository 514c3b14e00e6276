//! What the load benchmarks share (`load`, `province`): the demo county with
//! dispatched claims, the real server as its own process, a small
//! keep-alive HTTP client, the reading and writing clients, and the report
//! of one phase (throughput, latencies, CPU by process).

use diesel::prelude::*;
use guobao::app::{self, Actor};
use guobao::db::schema::{claim_surveys, claims, plots, policies, users};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PASSWORD: &str = guobao::demo::load::DEMO_PASSWORD;

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A dispatched claim and where to stand to survey it.
#[derive(Clone)]
pub struct Target {
    claim_id: i64,
    version: i64,
    lat: f64,
    lon: f64,
}

pub fn actor(conn: &mut guobao::db::DbConn, name: &str) -> Actor {
    let id: i64 = users::table
        .filter(users::username.eq(name))
        .select(users::id)
        .first(conn)
        .unwrap();
    app::auth::actor_by_id(conn, id).unwrap().unwrap()
}

/// Demo county plus `n` fresh claims, reported and dispatched.
pub fn prepare(url: &str, n: usize) -> Vec<Target> {
    let pool = guobao::startup::prepare_database(url).unwrap();
    let mut c = pool.get().unwrap();
    guobao::demo::load::load(&mut c, &mut |_, _| {}).unwrap();
    drop(c);
    dispatched_claims(url, n)
}

/// The demo county's scheme (`walnut-<year>`): the first one created.
pub fn demo_scheme(c: &mut guobao::db::DbConn) -> app::schemes::Scheme {
    let code: String = guobao::db::schema::schemes::table
        .order(guobao::db::schema::schemes::id)
        .select(guobao::db::schema::schemes::code)
        .first(c)
        .unwrap();
    app::schemes::by_code(c, &code).unwrap()
}

/// `n` fresh claims on the demo scheme's issued policies that have none
/// yet, reported and dispatched.
pub fn dispatched_claims(url: &str, n: usize) -> Vec<Target> {
    let mut c = guobao::db::establish(url).unwrap();
    let scheme = demo_scheme(&mut c);
    let desk = actor(&mut c, "underwriter");
    let taken: Vec<i64> = claims::table
        .select(claims::policy_id)
        .load(&mut c)
        .unwrap();
    let insured: Vec<(i64, i64, Option<String>)> = policies::table
        .inner_join(plots::table.on(plots::grower_id.eq(policies::grower_id)))
        .filter(policies::status.eq("issued"))
        .filter(policies::scheme_id.eq(scheme.id))
        .filter(plots::eligible.eq(true))
        .filter(policies::id.ne_all(taken))
        .order((policies::id, plots::id))
        .select((policies::id, plots::id, plots::boundary))
        .load(&mut c)
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    let now = chrono::Utc::now();
    let mut targets = Vec::new();
    let candidates = insured.len();
    let mut statuses = BTreeMap::new();
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
                // An hour before the report, in China time: within the
                // demo season's cover, which runs around today.
                occurred_at: (reported + chrono::Duration::hours(7))
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                reporter_name: "报案农户".into(),
                reporter_phone: "13800000000".into(),
                channel: Some("phone".into()),
                description: "冰雹".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .claim;
        *statuses.entry(claim.status).or_insert(0) += 1;
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
    assert_eq!(
        targets.len(),
        n,
        "not enough insured plots in the demo: {candidates} candidates, reported as {statuses:?}"
    );
    targets
}

/// Every demo account with the ids of the policies it may read: all of
/// them for a county-wide role, its own township's for a station.
pub fn readers(url: &str) -> Vec<(String, Vec<i64>)> {
    let mut c = guobao::db::establish(url).unwrap();
    let all: Vec<(i64, i64)> = policies::table
        .select((policies::id, policies::township_id))
        .order(policies::id)
        .load(&mut c)
        .unwrap();
    guobao::demo::load::demo_accounts()
        .into_iter()
        .map(|(username, ..)| {
            let a = actor(&mut c, &username);
            let ids: Vec<i64> = all
                .iter()
                .filter(|(_, t)| a.township_scope().is_none_or(|s| s == *t))
                .map(|(id, _)| *id)
                .collect();
            assert!(!ids.is_empty(), "{username} sees no policy");
            (username, ids)
        })
        .collect()
}

pub struct Server {
    pub child: std::process::Child,
    pub address: String,
}

pub fn start(bin: &str, url: &str, log: &std::path::Path) -> Server {
    // The server's own default logging (info: one line per request), to a
    // file as a service manager would keep it.
    let mut child = Command::new(bin)
        .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("果保已启动：http://") {
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

// ------------------------------------------------------------- the client

/// One keep-alive HTTP/1.1 connection. Requests are written whole; answers
/// are read by `Content-Length` (or chunked, should the server choose it).
struct Client {
    address: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    at: usize,
    request: Vec<u8>,
}

struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Client {
    fn new(address: &str) -> Client {
        Client {
            address: address.to_string(),
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
            at: 0,
            request: Vec::with_capacity(4096),
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&[u8]>,
    ) -> Option<Answer> {
        self.request.clear();
        let _ = write!(
            self.request,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n",
            self.address
        );
        if let Some(b) = body {
            let _ = write!(
                self.request,
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            );
        }
        self.request.extend_from_slice(b"\r\n");
        if let Some(b) = body {
            self.request.extend_from_slice(b);
        }
        match self.exchange() {
            Ok(a) => Some(a),
            Err(_) => {
                // A broken connection is a transport error; the next
                // request opens a new one.
                self.stream = None;
                None
            }
        }
    }

    fn exchange(&mut self) -> std::io::Result<Answer> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.address)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            self.stream = Some(s);
            self.buf.clear();
            self.at = 0;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        stream.write_all(&self.request)?;
        // The head.
        let head_end = loop {
            if let Some(i) = find(&self.buf[self.at..], b"\r\n\r\n") {
                break self.at + i + 4;
            }
            self.fill()?;
        };
        let head = std::str::from_utf8(&self.buf[self.at..head_end])
            .map_err(|_| std::io::ErrorKind::InvalidData)?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let mut length = None;
        let mut chunked = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        self.at = head_end;
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[self.at..], b"\r\n") {
                        break self.at + i;
                    }
                    self.fill()?;
                };
                let size = std::str::from_utf8(&self.buf[self.at..line_end])
                    .ok()
                    .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
                    .ok_or(std::io::ErrorKind::InvalidData)?;
                self.at = line_end + 2;
                while self.buf.len() < self.at + size + 2 {
                    self.fill()?;
                }
                body.extend_from_slice(&self.buf[self.at..self.at + size]);
                self.at += size + 2;
                if size == 0 {
                    break body;
                }
            }
        } else {
            let n = length.unwrap_or(0);
            while self.buf.len() < self.at + n {
                self.fill()?;
            }
            let body = self.buf[self.at..self.at + n].to_vec();
            self.at += n;
            body
        };
        // Keep what was read past this answer (nothing, as requests are not
        // pipelined) and reuse the buffer.
        self.buf.drain(..self.at);
        self.at = 0;
        if close {
            self.stream = None;
        }
        Ok(Answer { status, body })
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        let len = self.buf.len();
        self.buf.resize(len + 64 * 1024, 0);
        let n = stream.read(&mut self.buf[len..])?;
        self.buf.truncate(len + n);
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ------------------------------------------------------------- the phases

#[derive(Default)]
pub struct Tally {
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

    fn record(&mut self, started: Instant, answer: &Option<Answer>) {
        match answer {
            Some(a) => {
                self.latencies.push(started.elapsed());
                *self.statuses.entry(a.status).or_default() += 1;
            }
            None => self.errors += 1,
        }
    }
}

pub const SIGNATURE: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// One client posting surveys of its claim until the deadline.
pub fn surveyor(
    base: &str,
    token: &str,
    mut t: Target,
    until: Instant,
    acknowledged: &Mutex<Vec<i64>>,
    serial: &AtomicU64,
) -> (Tally, Target) {
    let mut tally = Tally::default();
    let mut client = Client::new(base);
    let path = format!("/api/v1/claims/{}/survey", t.claim_id);
    while Instant::now() < until {
        let n = serial.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({
            "client_id": format!("load-{}-{n}", t.claim_id), "version": t.version,
            "latitude": t.lat, "longitude": t.lon, "accuracy_m": 5.0, "damaged_trees": 10,
            "affected_mu": "0.5", "loss_rate": "30", "adjuster_confirmed": true,
            "co_surveyor_confirmed": true, "grower_signed_name": "农户",
            "grower_signature": SIGNATURE, "notes": ""});
        let body = serde_json::to_vec(&body).unwrap();
        let started = Instant::now();
        let answer = client.send("POST", &path, token, Some(&body));
        tally.record(started, &answer);
        if let Some(a) = answer {
            let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap_or_default();
            if a.status == 201 {
                acknowledged
                    .lock()
                    .unwrap()
                    .push(v["survey_id"].as_i64().unwrap_or(-1));
            }
            if let Some(version) = v["claim"]["version"].as_i64() {
                t.version = version;
            }
        }
    }
    (tally, t)
}

/// One client reading the claims board until the deadline.
pub fn board_reader(base: &str, token: &str, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut client = Client::new(base);
    while Instant::now() < until {
        let started = Instant::now();
        let answer = client.send("GET", "/api/v1/claims/board", token, None);
        tally.record(started, &answer);
    }
    tally
}

/// One client reading random policies of its scope until the deadline.
pub fn policy_reader(base: &str, token: &str, ids: &[i64], seed: u64, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut client = Client::new(base);
    // xorshift: the choice must cost next to nothing.
    let mut x = seed | 1;
    let mut path = String::with_capacity(64);
    while Instant::now() < until {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let id = ids[(x % ids.len() as u64) as usize];
        path.clear();
        let _ = std::fmt::Write::write_fmt(&mut path, format_args!("/api/v1/policies/{id}"));
        let started = Instant::now();
        let answer = client.send("GET", &path, token, None);
        if let Some(a) = &answer {
            // Every policy asked for is within the caller's scope.
            assert_eq!(
                a.status,
                200,
                "{path}: {}",
                String::from_utf8_lossy(&a.body)
            );
        }
        tally.record(started, &answer);
    }
    tally
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// CPU seconds used so far: a process (`/proc/<pid>/stat`) or, for `None`,
/// the whole machine (`/proc/stat`, all but idle and iowait).
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let hz = 100.0; // USER_HZ on Linux
    match pid {
        Some(pid) => {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Fields after the command name (which may hold spaces).
            let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            let f: Vec<f64> = rest
                .split_whitespace()
                .map(|v| v.parse().unwrap_or(0.0))
                .collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
            (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / hz
        }
        None => {
            let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
            let line = stat.lines().next().unwrap_or("");
            let f: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .map(|v| v.parse().unwrap_or(0.0))
                .collect();
            let total: f64 = f.iter().sum();
            let idle = f.get(3).unwrap_or(&0.0) + f.get(4).unwrap_or(&0.0);
            (total - idle) / hz
        }
    }
}

#[derive(Clone, Copy)]
pub struct Cpu {
    server: f64,
    us: f64,
    machine: f64,
}

impl Cpu {
    fn now(server: u32) -> Cpu {
        Cpu {
            server: cpu_seconds(Some(server)),
            us: cpu_seconds(Some(std::process::id())),
            machine: cpu_seconds(None),
        }
    }
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn report(label: &str, secs: f64, mut t: Tally, before: Cpu, after: Cpu) -> u64 {
    t.latencies.sort();
    let n = t.latencies.len();
    let fivexx: u64 = t
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, v)| v)
        .sum();
    let server = (after.server - before.server) / secs;
    let us = (after.us - before.us) / secs;
    let machine = (after.machine - before.machine) / secs;
    println!(
        "{label:<34} {n:>7} req  {:>7.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms  5xx {fivexx}  transport errors {}  statuses {:?}\n{:<34} CPU (cores): server {server:.2}, load generator {us:.2}, rest of machine {:.2}; load average {}",
        n as f64 / secs,
        percentile(&t.latencies, 0.50),
        percentile(&t.latencies, 0.99),
        t.errors,
        t.statuses,
        "",
        (machine - server - us).max(0.0),
        loadavg(),
    );
    fivexx + t.errors
}

pub fn token(base: &str, user: &str) -> String {
    let v: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("http://{base}/api/v1/session"))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["token"].as_str().unwrap().to_string()
}

// ------------------------------------------------------------- a run

/// One phase: `writers` clients post surveys of their own claims, `boards`
/// read the claims board with `board_token`, `policies` read policies at
/// random within their accounts' scopes.
pub struct Phase<'a> {
    pub name: &'a str,
    pub writers: usize,
    pub boards: usize,
    pub board_token: &'a str,
    pub policies: usize,
}

/// A started server and the logged-in clients' tokens.
pub struct Session<'a> {
    pub server: Server,
    pub base: String,
    pub adjuster: String,
    pub desk: String,
    pub accounts: &'a [(String, Vec<i64>)],
    pub tokens: Vec<String>,
    pub acknowledged: Mutex<Vec<i64>>,
    pub serial: AtomicU64,
}

impl<'a> Session<'a> {
    /// Start `bin` on `url` (its log in `log`) and log every account in.
    pub fn start(
        bin: &str,
        url: &str,
        log: &std::path::Path,
        accounts: &'a [(String, Vec<i64>)],
    ) -> Session<'a> {
        let server = start(bin, url, log);
        let base = server.address.clone();
        Session {
            adjuster: token(&base, "adjuster"),
            desk: token(&base, "underwriter"),
            tokens: accounts.iter().map(|(u, _)| token(&base, u)).collect(),
            server,
            base,
            accounts,
            acknowledged: Mutex::new(Vec::new()),
            serial: AtomicU64::new(0),
        }
    }

    /// Run one phase for `secs` seconds and print its report; returns the
    /// number of server and transport errors. Each claim in `targets`
    /// moves on to the version its last survey gave.
    pub fn phase(&self, label: &str, secs: u64, targets: &mut [Target], p: &Phase) -> u64 {
        let pid = self.server.child.id();
        let base = &self.base;
        let until = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let before = Cpu::now(pid);
        let mut all = Tally::default();
        let moved: Vec<Target> = std::thread::scope(|s| {
            let writing: Vec<_> = targets
                .iter()
                .take(p.writers)
                .map(|t| {
                    let (adjuster, t) = (&self.adjuster, t.clone());
                    let (acknowledged, serial) = (&self.acknowledged, &self.serial);
                    s.spawn(move || surveyor(base, adjuster, t, until, acknowledged, serial))
                })
                .collect();
            let reading: Vec<_> = (0..p.boards)
                .map(|_| {
                    let token = p.board_token;
                    s.spawn(move || board_reader(base, token, until))
                })
                .collect();
            let policy_reading: Vec<_> = (0..p.policies)
                .map(|i| {
                    let k = i % self.accounts.len();
                    let (token, ids) = (&self.tokens[k], &self.accounts[k].1);
                    s.spawn(move || {
                        policy_reader(base, token, ids, 0x9E37_79B9 * (i as u64 + 1), until)
                    })
                })
                .collect();
            let mut moved = Vec::new();
            for w in writing {
                let (tally, t) = w.join().unwrap();
                all.add(tally);
                moved.push(t);
            }
            for r in reading.into_iter().chain(policy_reading) {
                all.add(r.join().unwrap());
            }
            moved
        });
        let after = Cpu::now(pid);
        for (slot, t) in targets.iter_mut().zip(moved) {
            *slot = t;
        }
        report(
            &format!("{label} {}", p.name),
            started.elapsed().as_secs_f64(),
            all,
            before,
            after,
        )
    }

    /// No goodbye: SIGKILL, then every survey answered 201 must be in the
    /// database at `url`. Returns how many are not.
    pub fn kill_and_count_lost(self, label: &str, url: &str) -> usize {
        let mut child = self.server.child;
        child.kill().unwrap();
        child.wait().unwrap();
        let mut c = guobao::db::establish(url).unwrap();
        let stored: std::collections::HashSet<i64> = claim_surveys::table
            .select(claim_surveys::id)
            .load(&mut c)
            .unwrap()
            .into_iter()
            .collect();
        let acknowledged = self.acknowledged.lock().unwrap();
        let lost = acknowledged
            .iter()
            .filter(|id| !stored.contains(id))
            .count();
        println!(
            "{label}: {} surveys answered 201, {lost} lost after kill -9",
            acknowledged.len()
        );
        lost
    }
}
