//! Subsidy statement benchmark (run: `cargo bench --bench subsidy`).
//!
//! Writes 1,000,000 issued policies (GUOBAO_BENCH_POLICIES to change) over 15
//! townships with the walnut scheme's three funding levels, then measures the
//! statement (SUM over integer fen grouped by township, one column per level,
//! in SQL), the same for one level, the workbook, the sign-off (which copies
//! the figures) and the statement read back after sign-off. SQLite always; PostgreSQL too
//! when GUOBAO_BENCH_PG_URL is set (e.g. postgres://postgres@127.0.0.1:5432).

use diesel::prelude::*;
use guobao::app::finance::{self, StatementQuery};
use guobao::app::{self, Actor};
use guobao::db::models::NewArea;
use guobao::db::schema::areas;
use guobao::demo::synth::{insert_issued, Place};
use guobao::domain::scheme::{SchemeDef, WALNUT_2012_JSON};
use std::time::{Duration, Instant};

const TOWNSHIPS: usize = 15;

fn seed(url: &str) -> (guobao::db::Pool, Vec<Place>) {
    let pool = guobao::startup::prepare_database(url).unwrap();
    let mut c = pool.get().unwrap();
    let def: SchemeDef = serde_json::from_str(WALNUT_2012_JSON).unwrap();
    app::schemes::create(&mut c, &Actor::system(), &def).unwrap();
    let county: i64 = diesel::insert_into(areas::table)
        .values(NewArea {
            code: "532999",
            name: "基准县",
            level: guobao::domain::area::AreaLevel::County,
            parent_id: None,
            target_mu_units: None,
        })
        .returning(areas::id)
        .get_result(&mut c)
        .unwrap();
    let mut places = Vec::new();
    for t in 0..TOWNSHIPS {
        let code = format!("532999{:03}", 101 + t);
        let town: i64 = diesel::insert_into(areas::table)
            .values(NewArea {
                code: &code,
                name: &format!("基准镇{t:02}"),
                level: guobao::domain::area::AreaLevel::Township,
                parent_id: Some(county),
                target_mu_units: Some(20_000 * 10_000 / TOWNSHIPS as i64),
            })
            .returning(areas::id)
            .get_result(&mut c)
            .unwrap();
        let village: i64 = diesel::insert_into(areas::table)
            .values(NewArea {
                code: &format!("{code}201"),
                name: "一村",
                level: guobao::domain::area::AreaLevel::Village,
                parent_id: Some(town),
                target_mu_units: None,
            })
            .returning(areas::id)
            .get_result(&mut c)
            .unwrap();
        places.push(Place {
            township_id: town,
            village_id: village,
            township_code: code,
        });
    }
    (pool, places)
}

/// Areas from 0.0001 to 20 mu with four decimals, deterministic.
fn areas(n: usize) -> Vec<i64> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + (x % 200_000) as i64
        })
        .collect()
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn run(label: &str, url: &str, n: usize) {
    let (pool, places) = seed(url);
    let mut c = pool.get().unwrap();
    let scheme = app::schemes::by_code(&mut c, "walnut-2012").unwrap();
    let list = areas(n);
    let (_, fill) = time(|| {
        c.transaction::<_, guobao::error::AppError, _>(|c| {
            insert_issued(c, &scheme, &places, &list, "B").map(|_| ())
        })
        .unwrap()
    });
    diesel::sql_query("ANALYZE").execute(&mut c).unwrap();
    println!(
        "{label}: wrote {n} issued policies in {:.1} s",
        fill.as_secs_f64()
    );
    let actor = Actor::system();
    let all = StatementQuery {
        scheme: "walnut-2012".into(),
        ..Default::default()
    };
    let mut best = Duration::MAX;
    let mut st = None;
    for i in 0..3 {
        let (s, d) = time(|| finance::statement(&mut c, &actor, &all).unwrap());
        println!(
            "{label}: statement, run {}: {:.3} s",
            i + 1,
            d.as_secs_f64()
        );
        best = best.min(d);
        st = Some(s);
    }
    let st = st.unwrap();
    assert_eq!(st.totals.policies, n as i64);
    assert_eq!(
        st.totals.subsidy,
        st.totals.levels.iter().map(|l| l.amount).sum()
    );
    println!(
        "{label}: statement best {:.3} s — {} policies, premium {} yuan, subsidy {} yuan",
        best.as_secs_f64(),
        st.totals.policies,
        st.totals.premium,
        st.totals.subsidy
    );
    let county = StatementQuery {
        level: "county".into(),
        ..all.clone()
    };
    let (_, d) = time(|| finance::statement(&mut c, &actor, &county).unwrap());
    println!(
        "{label}: statement, county level only: {:.3} s",
        d.as_secs_f64()
    );
    let (bytes, d) = time(|| finance::statement_xlsx(&st).unwrap());
    println!(
        "{label}: workbook from the statement: {:.3} s ({} bytes)",
        d.as_secs_f64(),
        bytes.len()
    );
    let (_, d) = time(|| finance::balances(&mut c, &actor, "walnut-2012").unwrap());
    println!("{label}: balances (due vs paid): {:.3} s", d.as_secs_f64());
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
        "{label}: sign-off (copies the figures): {:.3} s",
        d.as_secs_f64()
    );
    let (locked, d) = time(|| finance::statement(&mut c, &actor, &all).unwrap());
    assert_eq!(locked.totals, st.totals);
    println!(
        "{label}: statement after sign-off: {:.3} s",
        d.as_secs_f64()
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
