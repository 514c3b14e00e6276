//! Load benchmark: many clients at once against the real server
//! (run: `cargo bench --bench load`; PostgreSQL too when GUOBAO_BENCH_PG_URL
//! is set, e.g. `postgres://postgres@127.0.0.1:5432`).
//!
//! The demo county is loaded, 200 claims are reported and dispatched, and
//! `guobao serve` (the release binary, default logging: one access-log line
//! per request, written to a file) is started as its own process. Then, for
//! `GUOBAO_LOAD_SECS` seconds each (30 by default), with
//! `GUOBAO_LOAD_CLIENTS` clients (200 by default):
//!   1. every client posts surveys of its own claim, one after another, each
//!      against the version the previous answer gave;
//!   2. every client reads the claims board;
//!   3. half the clients post surveys while the other half read the board;
//!   4. every client reads policies (GET /api/v1/policies/{id}) at random
//!      within its account's scope: client i logs in as demo account
//!      i mod 20 (five county-wide accounts, fifteen township stations).
//!
//! Each client is one thread with one keep-alive HTTP/1.1 connection and a
//! small hand-written client (no pool, no URL parsing per request), so the
//! load generator takes as little of the shared CPU as it can; its share is
//! printed with the server's.
//!
//! `GUOBAO_BENCH_BASELINE_BIN=<path of an earlier guobao build>` measures that
//! binary first, with the same client and phases, on a database of its own
//! (the paired baseline); `GUOBAO_LOAD_ONLY=sqlite|postgres` runs one backend.
//!
//! Reported per phase: requests, throughput, p50/p99 latency, the status
//! codes seen, and the CPU used by the server, by the load generator and by
//! everything else on the machine (the database server, other programs).
//! Afterwards the server is killed with SIGKILL and every survey that was
//! answered 201 is looked up in the database: "lost" must be 0.

#[path = "common/serve.rs"]
mod serve;

use diesel::prelude::*;
use serve::{env_or, prepare, readers, Phase, Session};
use std::time::Instant;

fn run(label: &str, url: &str, bin: &str, dir: &std::path::Path) -> u64 {
    let clients = env_or("GUOBAO_LOAD_CLIENTS", 200) as usize;
    let secs = env_or("GUOBAO_LOAD_SECS", 30);
    let t = Instant::now();
    let mut targets = prepare(url, clients);
    let accounts = readers(url);
    println!(
        "{label}: demo county and {clients} dispatched claims in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let session = Session::start(
        bin,
        url,
        &dir.join(format!("{label}-server.log")),
        &accounts,
    );
    let desk = session.desk.clone();
    let half = clients / 2;
    let mut bad = 0;
    for p in [
        Phase {
            name: "surveys (all clients write)",
            writers: clients,
            boards: 0,
            board_token: &desk,
            policies: 0,
        },
        Phase {
            name: "board (all clients read)",
            writers: 0,
            boards: clients,
            board_token: &desk,
            policies: 0,
        },
        Phase {
            name: "mixed (half write, half read)",
            writers: half,
            boards: clients - half,
            board_token: &desk,
            policies: 0,
        },
        Phase {
            name: "policies (all clients read)",
            writers: 0,
            boards: 0,
            board_token: &desk,
            policies: clients,
        },
    ] {
        bad += session.phase(label, secs, &mut targets, &p);
    }
    bad + session.kill_and_count_lost(label, url) as u64
}

/// The servers to measure: this build's, and before it the baseline binary
/// when `GUOBAO_BENCH_BASELINE_BIN` names one (an earlier build of `guobao`
/// kept aside), so both are measured in the same run by the same client.
fn servers() -> Vec<(String, String)> {
    let mut v = Vec::new();
    if let Ok(bin) = std::env::var("GUOBAO_BENCH_BASELINE_BIN") {
        v.push(("baseline".to_string(), bin));
    }
    v.push((String::new(), env!("CARGO_BIN_EXE_guobao").to_string()));
    v
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = 0;
    let only = std::env::var("GUOBAO_LOAD_ONLY").unwrap_or_default();
    for (tag, bin) in servers() {
        let name = |db: &str| format!("{db}{}{tag}", if tag.is_empty() { "" } else { " " });
        if only.is_empty() || only == "sqlite" {
            let file = dir.path().join(format!("load{tag}.db"));
            bad += run(
                &name("SQLite"),
                &format!("sqlite://{}", file.display()),
                &bin,
                dir.path(),
            );
        }
        if only.is_empty() || only == "postgres" {
            if let Ok(base) = std::env::var("GUOBAO_BENCH_PG_URL") {
                let db = format!("guobao_load_{}{tag}", std::process::id());
                let mut admin =
                    diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
                diesel::sql_query(format!("CREATE DATABASE {db}"))
                    .execute(&mut admin)
                    .unwrap();
                bad += run(
                    &name("PostgreSQL"),
                    &format!("{base}/{db}"),
                    &bin,
                    dir.path(),
                );
                diesel::sql_query(format!("DROP DATABASE {db} WITH (FORCE)"))
                    .execute(&mut admin)
                    .unwrap();
            }
        }
    }
    if bad > 0 {
        println!("FAILED: {bad} server errors, transport errors or lost writes");
        std::process::exit(1);
    }
}
