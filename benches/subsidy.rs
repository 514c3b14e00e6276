//! Subsidy statement benchmark (run: `cargo bench --bench subsidy`).
//!
//! Writes 1,000,000 policies (GUOBAO_BENCH_POLICIES to change) over 15
//! townships with the walnut scheme's three funding levels — 93% issued, 5%
//! drafts, 2% cancelled — and payments for 12 townships, then measures (best
//! of 3 each) the statement (SUM over integer fen grouped by township, one
//! column per level, in SQL), the same for one level, the balances, the
//! statement download (statement computed + workbook), the sign-off, and
//! after 300 cancellations and 100 manual adjustments the statement,
//! balances and download again. A plain COUNT over the subsidised policies
//! is measured in the same run as the baseline. SQLite always; PostgreSQL too
//! when GUOBAO_BENCH_PG_URL is set (e.g. postgres://postgres@127.0.0.1:5432).

use diesel::prelude::*;
use guobao::app::finance::{self, StatementQuery};
use guobao::app::{self, Actor};
use guobao::demo::synth::{insert_issued, insert_policies, Place};
use guobao::domain::policy::PolicyStatus;
use std::time::{Duration, Instant};

mod common;
use common::{areas, TOWNSHIPS};

fn seed(url: &str) -> (guobao::db::Pool, Vec<Place>) {
    let (pool, _, places) = common::county(url, Some(20_000 * 10_000 / TOWNSHIPS as i64));
    (pool, places)
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// Best of `runs`: the fastest time and the value it gave.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Duration, Vec<Duration>) {
    let mut all = Vec::new();
    let mut out = None;
    for _ in 0..runs {
        let (v, d) = time(&mut f);
        all.push(d);
        out = Some(v);
    }
    let min = all.iter().copied().min().unwrap_or_default();
    (out.unwrap(), min, all)
}

fn runs(all: &[Duration]) -> String {
    all.iter()
        .map(|d| format!("{:.3}", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn run(label: &str, url: &str, n: usize) {
    let (_pool, places) = seed(url);
    let mut c = guobao::db::establish(url).unwrap();
    let scheme = app::schemes::by_code(&mut c, "walnut-2012").unwrap();
    // A season part-way: of every 100 policies 93 issued, 5 still drafts
    // and 2 cancelled.
    let list = areas(n);
    let (drafts, rest) = list.split_at(n * 5 / 100);
    let (cancelled, issued) = rest.split_at(n * 2 / 100);
    let (_, fill) = time(|| {
        c.transaction::<_, guobao::error::AppError, _>(|c| {
            insert_issued(c, &scheme, &places, issued, "B")?;
            insert_policies(c, &scheme, &places, drafts, "D", PolicyStatus::Draft)?;
            insert_policies(c, &scheme, &places, cancelled, "C", PolicyStatus::Cancelled)?;
            Ok(())
        })
        .unwrap()
    });
    diesel::sql_query("ANALYZE").execute(&mut c).unwrap();
    println!(
        "{label}: wrote {n} policies ({} issued, {} drafts, {} cancelled) in {:.1} s",
        issued.len(),
        drafts.len(),
        cancelled.len(),
        fill.as_secs_f64()
    );
    let actor = Actor::system();
    let all = StatementQuery {
        scheme: "walnut-2012".into(),
        ..Default::default()
    };
    // The floor any statement stands on: one pass summing the subsidy of
    // the subsidised policies, measured in the same run.
    let (_, d, r) = best(3, || {
        diesel::sql_query(
            "SELECT COUNT(*) AS n FROM policies WHERE status IN ('issued', 'expired') \
             AND subsidy_fen >= 0",
        )
        .execute(&mut c)
        .unwrap()
    });
    println!(
        "{label}: baseline, COUNT over the subsidised policies: best {:.3} s ({})",
        d.as_secs_f64(),
        runs(&r)
    );
    // Payments so far: the provincial share in full for 12 townships, half
    // the county share for 8 (the walnut scheme funds provincial, city and
    // county levels).
    let balances = finance::balances(&mut c, &actor, "walnut-2012").unwrap();
    let mut voucher = 0;
    let (_, d) = time(|| {
        for (i, t) in balances.townships.iter().enumerate().take(12) {
            for l in &t.levels {
                let amount = match l.level.as_str() {
                    "provincial" => l.figures.outstanding,
                    "county" if i < 8 => guobao::domain::Fen(l.figures.outstanding.0 / 2),
                    _ => continue,
                };
                voucher += 1;
                finance::disburse(
                    &mut c,
                    &actor,
                    &finance::DisbursementInput {
                        scheme: "walnut-2012".into(),
                        township_code: t.township_code.clone(),
                        level: l.level.clone(),
                        amount: amount.to_string(),
                        paid_on: "2012-05-20".into(),
                        voucher_no: format!("BK-{voucher:04}"),
                        note: String::new(),
                    },
                    chrono::NaiveDate::from_ymd_opt(2012, 12, 31).unwrap(),
                )
                .unwrap();
            }
        }
    });
    println!(
        "{label}: {voucher} payments recorded (setup) in {:.1} s",
        d.as_secs_f64()
    );

    let (st, d, r) = best(3, || finance::statement(&mut c, &actor, &all).unwrap());
    assert_eq!(st.totals.policies, issued.len() as i64);
    assert_eq!(
        st.totals.subsidy,
        st.totals.levels.iter().map(|l| l.amount).sum()
    );
    println!(
        "{label}: statement best {:.3} s ({}) — {} policies, premium {} yuan, subsidy {} yuan",
        d.as_secs_f64(),
        runs(&r),
        st.totals.policies,
        st.totals.premium,
        st.totals.subsidy
    );
    let county = StatementQuery {
        level: "county".into(),
        ..all.clone()
    };
    let (_, d, r) = best(3, || finance::statement(&mut c, &actor, &county).unwrap());
    println!(
        "{label}: statement, county level only: best {:.3} s ({})",
        d.as_secs_f64(),
        runs(&r)
    );
    let (b, d, r) = best(3, || {
        finance::balances(&mut c, &actor, "walnut-2012").unwrap()
    });
    assert!(b.total.paid > guobao::domain::Fen::ZERO);
    println!(
        "{label}: balances (due vs paid): best {:.3} s ({}) — paid {} yuan, outstanding {} yuan",
        d.as_secs_f64(),
        runs(&r),
        b.total.paid,
        b.total.outstanding
    );
    let (bytes, d, r) = best(3, || {
        let fresh = finance::statement(&mut c, &actor, &all).unwrap();
        finance::statement_xlsx(&fresh).unwrap()
    });
    println!(
        "{label}: statement download (statement computed + workbook): best {:.3} s ({}; {} bytes)",
        d.as_secs_f64(),
        runs(&r),
        bytes.len()
    );
    let (_, d) = time(|| {
        finance::lock(
            &mut c,
            &actor,
            &finance::LockInput {
                scheme: "walnut-2012".into(),
                signed_off_by: "基准".into(),
                note: String::new(),
            },
        )
        .unwrap()
    });
    println!(
        "{label}: sign-off (computes and copies the figures): {:.3} s",
        d.as_secs_f64()
    );
    // After sign-off: 300 issued policies cancelled (each reverses its
    // subsidy per level) and 100 corrections entered by hand.
    let ids: Vec<i64> = guobao::db::schema::policies::table
        .filter(guobao::db::schema::policies::status.eq(PolicyStatus::Issued))
        .order(guobao::db::schema::policies::id)
        .select(guobao::db::schema::policies::id)
        .limit(300)
        .load(&mut c)
        .unwrap();
    let (_, d) = time(|| {
        for id in &ids {
            app::policies::cancel(&mut c, &actor, *id).unwrap();
        }
        for i in 0..100 {
            let t = &places[i % places.len()];
            finance::add_adjustment(
                &mut c,
                &actor,
                &finance::AdjustmentInput {
                    scheme: "walnut-2012".into(),
                    township_code: t.township_code.clone(),
                    level: ["provincial", "city", "county"][i % 3].into(),
                    amount: if i % 2 == 0 { "12.34" } else { "-5.00" }.into(),
                    reason: format!("基准更正{i}"),
                },
            )
            .unwrap();
        }
    });
    let adjustments = finance::adjustments(&mut c, &actor, "walnut-2012")
        .unwrap()
        .len();
    println!(
        "{label}: {adjustments} adjustments after sign-off (setup) in {:.1} s",
        d.as_secs_f64()
    );
    let (locked, d, r) = best(3, || finance::statement(&mut c, &actor, &all).unwrap());
    assert_eq!(locked.totals.policies, st.totals.policies);
    println!(
        "{label}: statement after sign-off (copied figures + adjustments): best {:.3} s ({})",
        d.as_secs_f64(),
        runs(&r)
    );
    let (_, d, r) = best(3, || {
        finance::balances(&mut c, &actor, "walnut-2012").unwrap()
    });
    println!(
        "{label}: balances after sign-off: best {:.3} s ({})",
        d.as_secs_f64(),
        runs(&r)
    );
    let (bytes, d, r) = best(3, || {
        let fresh = finance::statement(&mut c, &actor, &all).unwrap();
        finance::statement_xlsx(&fresh).unwrap()
    });
    println!(
        "{label}: statement download after sign-off: best {:.3} s ({}; {} bytes)",
        d.as_secs_f64(),
        runs(&r),
        bytes.len()
    );
}

fn main() {
    let n: usize = std::env::var("GUOBAO_BENCH_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    // GUOBAO_BENCH_SQLITE_FILE keeps the SQLite database for a look afterwards.
    let file = std::env::var("GUOBAO_BENCH_SQLITE_FILE")
        .unwrap_or_else(|_| dir.path().join("bench.db").display().to_string());
    run("SQLite", &format!("sqlite://{file}"), n);
    if let Ok(base) = std::env::var("GUOBAO_BENCH_PG_URL") {
        let name = format!("guobao_subsidy_bench_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        run("PostgreSQL", &format!("{base}/{name}"), n);
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }
}
