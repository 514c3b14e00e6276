//! Reconciliation benchmark (run: `cargo bench --bench reconcile`).
//!
//! For each size (GUOBAO_BENCH_LINES, default "100000,1000000"): a fresh
//! SQLite database with that many issued policies, and the insurer's
//! statement of them as a CSV file of as many lines — 0.5% of amounts off by
//! a fen, 0.2% policy numbers we do not have, 0.25% of our policies left
//! out, 0.1% split over two lines. Each reconciliation runs in its own child
//! process, which reports the wall time, the peak resident memory (VmHWM)
//! and, as the paired baseline, the same file only read through the
//! statement reader (no database) and the process's memory before it began.
//! PostgreSQL too when GUOBAO_BENCH_PG_URL is set.

use diesel::prelude::*;
use guobao::app::reconciliation::{self, statement, ReconcileRequest, StatementFile};
use guobao::app::Actor;
use guobao::db::schema::policies;
use guobao::demo::synth::insert_issued;
use guobao::excel::read::ReadOptions;
use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

mod common;

fn seed(url: &str, n: usize) {
    let (_pool, scheme, places) = common::county(url, None);
    let mut c = guobao::db::establish(url).unwrap();
    let list = common::areas(n);
    c.transaction::<_, guobao::error::AppError, _>(|c| {
        insert_issued(c, &scheme, &places, &list, "R").map(|_| ())
    })
    .unwrap();
    diesel::sql_query("ANALYZE").execute(&mut c).unwrap();
}

/// The insurer's statement of every policy in the database, with the
/// differences described at the top; returns the expected group counts
/// (matched, differs, missing_ours, missing_theirs) and repeated lines.
fn write_statement(url: &str, path: &std::path::Path) -> [usize; 5] {
    let mut c = guobao::db::establish(url).unwrap();
    let ours: Vec<(String, i64)> = policies::table
        .order(policies::id)
        .select((policies::policy_no, policies::subsidy_fen))
        .load(&mut c)
        .unwrap();
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "序号,保单号,被保险人,保费补贴金额(元)").unwrap();
    let mut counts = [0usize; 5];
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    for (i, (no, fen)) in ours.iter().enumerate() {
        if i % 400 == 7 {
            counts[3] += 1;
            continue;
        }
        if i % 500 == 11 {
            writeln!(out, "{i},X{no},农户,{}", yuan(*fen)).unwrap();
            counts[2] += 1;
            counts[3] += 1;
            continue;
        }
        if i % 1000 == 13 && *fen > 1 {
            let half = fen / 2;
            writeln!(out, "{i},{no},农户,{}", yuan(half)).unwrap();
            writeln!(out, "{i},{no},农户,{}", yuan(fen - half)).unwrap();
            counts[0] += 1;
            counts[4] += 1;
            continue;
        }
        if i % 200 == 17 {
            writeln!(out, "{i},{no},农户,{}", yuan(fen + 1)).unwrap();
            counts[1] += 1;
            continue;
        }
        writeln!(out, "{i},{no},农户,{}", yuan(*fen)).unwrap();
        counts[0] += 1;
    }
    writeln!(out, "合计,,,").unwrap();
    out.flush().unwrap();
    counts
}

/// VmHWM (peak resident set) of this process, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// In the child: read the file only (the baseline), or reconcile it.
fn child(mode: &str, url: &str, path: &str) {
    let start_rss = peak_rss_mib();
    let mut reader = BufReader::new(std::fs::File::open(path).unwrap());
    let t = Instant::now();
    let options = ReadOptions::default();
    if mode == "read" {
        let (_, mut rows) = statement::open(
            StatementFile::Csv(&mut reader),
            &options,
            &reconciliation::COLUMNS,
        )
        .unwrap();
        let mut n = 0usize;
        while rows.next_row(["policy_no", "amount"]).unwrap().is_some() {
            n += 1;
        }
        println!(
            "read {n} rows: {:.2} s, peak RSS {:.1} MiB (at start {:.1} MiB)",
            t.elapsed().as_secs_f64(),
            peak_rss_mib(),
            start_rss
        );
        return;
    }
    let mut c = guobao::db::establish(url).unwrap();
    let v = reconciliation::reconcile(
        &mut c,
        &Actor::system(),
        ReconcileRequest {
            scheme: "walnut-2012",
            source: "insurer",
            level: "",
            filename: "statement.csv",
            file: StatementFile::Csv(&mut reader),
            options,
        },
    )
    .unwrap();
    let d = t.elapsed();
    let groups: Vec<String> = v
        .summary
        .groups
        .iter()
        .map(|g| format!("{} {}", g.group, g.count))
        .collect();
    println!(
        "reconcile {} rows: {:.2} s, peak RSS {:.1} MiB (at start {:.1} MiB); {}, repeated {}",
        v.summary.rows_read,
        d.as_secs_f64(),
        peak_rss_mib(),
        start_rss,
        groups.join(", "),
        v.summary.repeated
    );
}

fn run_child(mode: &str, url: &str, path: &std::path::Path) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--child", mode, url, &path.display().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn bench(label: &str, url: &str, n: usize, dir: &std::path::Path) {
    let t = Instant::now();
    seed(url, n);
    let path = dir.join(format!("statement-{n}.csv"));
    let expected = write_statement(url, &path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{label}, {n} policies: set up in {:.1} s; statement file {:.1} MB; expected matched {}, differs {}, missing_ours {}, missing_theirs {}, repeated {}",
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6,
        expected[0],
        expected[1],
        expected[2],
        expected[3],
        expected[4]
    );
    println!("{label}, {n}: {}", run_child("read", url, &path));
    let line = run_child("reconcile", url, &path);
    println!("{label}, {n}: {line}");
    let want = format!(
        "matched {}, differs {}, missing_ours {}, missing_theirs {}, repeated {}",
        expected[0], expected[1], expected[2], expected[3], expected[4]
    );
    assert!(line.ends_with(&want), "expected {want}");
    let _ = std::fs::remove_file(&path);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        if let [_, _, mode, url, path] = args.as_slice() {
            child(mode, url, path);
        }
        return;
    }
    let sizes: Vec<usize> = std::env::var("GUOBAO_BENCH_LINES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for &n in &sizes {
        let file = dir.path().join(format!("reconcile-{n}.db"));
        bench(
            "SQLite",
            &format!("sqlite://{}", file.display()),
            n,
            dir.path(),
        );
        let _ = std::fs::remove_file(&file);
    }
    if let Ok(base) = std::env::var("GUOBAO_BENCH_PG_URL") {
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        for &n in &sizes {
            let name = format!("guobao_reconcile_bench_{}_{n}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap();
            bench("PostgreSQL", &format!("{base}/{name}"), n, dir.path());
            diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut admin)
                .unwrap();
        }
    }
}
