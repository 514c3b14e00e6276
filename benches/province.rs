//! Province benchmark (run: `GUOBAO_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432
//! cargo bench --bench province`; PostgreSQL only, it prints a line and stops
//! without the URL).
//!
//! One database, measured twice in the same run:
//!   1. **county**: the demo county with 200 dispatched claims, as the `load`
//!      benchmark sets it up;
//!   2. **province**: the same database after 128 more counties
//!      (`GUOBAO_PROVINCE_COUNTIES`) are written next to it, each with 15
//!      townships of 11 villages, 47 growers per village (7,755 growers per
//!      county), two plots per grower, one policy per grower under the
//!      county's own copy of the walnut scheme (93% issued, 5% drafts, 2%
//!      cancelled; money from the premium engine, exactly) and a claim on
//!      every 50th policy (5% of them still open, 5% declined, the rest
//!      paid). 128 counties bring the province to about 1,000,000 growers,
//!      2,000,000 plots and 1,000,000 policies.
//!
//! The province is written with `INSERT … SELECT` in PostgreSQL (set-up, not
//! the application's path; its time is reported by table). The synthetic
//! counties have no audit rows.
//!
//! Measured in each round, on the demo county's data:
//!   - the subsidy statement of the demo scheme, and its download (best of 3);
//!   - in the province round, the statements of all 129 schemes in sequence;
//!   - a roster import of one new township of 1,034 rows (15,504 plots of a
//!     reference county over 15 townships): full, unchanged, 4 rows in 5
//!     edited (single runs: each changes the database);
//!   - against the release server as its own process, `GUOBAO_LOAD_CLIENTS`
//!     clients (200) for `GUOBAO_LOAD_SECS` seconds (30) each: the claims
//!     board as a county-wide desk and as a township station, policy reads
//!     at random within each account's scope, and survey writes;
//!   - at the end, the size of the largest tables and of the database.

#[path = "common/serve.rs"]
mod serve;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use guobao::app::finance::{self, StatementQuery};
use guobao::app::{self, Actor};
use guobao::db::models::NewArea;
use guobao::db::schema::areas;
use guobao::domain::area::AreaLevel;
use guobao::domain::premium::quote;
use guobao::domain::scheme::{FundingLevel, SchemeDef};
use guobao::domain::Mu;
use serve::{actor, env_or, prepare, readers, Phase, Session};
use std::time::{Duration, Instant};

/// Synthetic area codes start with this digit (real ones never do: no
/// Chinese province code begins with 9).
const PREFIX: &str = "9";
const TOWNSHIPS: i64 = 15;
const VILLAGES: i64 = 11;
const GROWERS_PER_VILLAGE: i64 = 47;
/// Plot areas are 0.5 mu + k × 0.075 mu, k in 0..200, so a policy's two
/// plots take one of 399 sums, each quoted once by the premium engine.
const AREA_STEPS: i64 = 200;
const ROSTER_ROWS: usize = 1_034;

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// Best of `n`: the fastest time, all of them, and the last value.
fn best<T>(n: usize, mut f: impl FnMut() -> T) -> (T, Duration, String) {
    let mut all = Vec::new();
    let mut out = None;
    for _ in 0..n {
        let (v, d) = time(&mut f);
        all.push(d);
        out = Some(v);
    }
    let runs = all
        .iter()
        .map(|d| format!("{:.3}", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" / ");
    (out.unwrap(), all.into_iter().min().unwrap(), runs)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(c: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(c).unwrap().n
}

fn exec(c: &mut PgConnection, sql: &str) -> usize {
    diesel::sql_query(sql)
        .execute(c)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

fn sizes(c: &mut PgConnection, label: &str) {
    for t in [
        "growers",
        "plots",
        "policies",
        "claims",
        "audit_log",
        "areas",
    ] {
        let rows = count(c, &format!("SELECT count(*) AS n FROM {t}"));
        let bytes = count(
            c,
            &format!("SELECT pg_total_relation_size('{t}')::bigint AS n"),
        );
        println!(
            "{label}: {t:<10} {rows:>9} rows  {:>8.1} MB with indexes  ({:.0} bytes a row)",
            bytes as f64 / 1e6,
            bytes as f64 / rows.max(1) as f64
        );
    }
    let db = count(
        c,
        "SELECT pg_database_size(current_database())::bigint AS n",
    );
    println!("{label}: database {:.1} MB", db as f64 / 1e6);
}

// ------------------------------------------------------------- the province

/// Write `n` synthetic counties next to the demo county; prints the time
/// per table.
fn grow(url: &str, n: i64) {
    let mut c = PgConnection::establish(url).unwrap();
    let now = guobao::db::now_text();
    let step = |what: &str, rows: usize, d: Duration| {
        println!(
            "province set-up: {what:<34} {rows:>9} rows in {:>6.1} s ({:>7.0} rows/s)",
            d.as_secs_f64(),
            rows as f64 / d.as_secs_f64()
        )
    };
    let (rows, d) = time(|| {
        let mut rows = exec(
            &mut c,
            &format!(
                "INSERT INTO areas (code, name, level) \
                 SELECT '{PREFIX}' || lpad(k::text, 5, '0'), '模拟县' || k, 'county' \
                 FROM generate_series(1, {n}) k"
            ),
        );
        rows += exec(
            &mut c,
            &format!(
                "INSERT INTO areas (code, name, level, parent_id, target_mu_units) \
                 SELECT c.code || (100 + t)::text, c.name || '镇' || t, 'township', c.id, 0 \
                 FROM areas c, generate_series(1, {TOWNSHIPS}) t \
                 WHERE c.level = 'county' AND c.code LIKE '{PREFIX}%'"
            ),
        );
        rows += exec(
            &mut c,
            &format!(
                "INSERT INTO areas (code, name, level, parent_id) \
                 SELECT t.code || (200 + v)::text, '村' || lpad(v::text, 2, '0'), 'village', t.id \
                 FROM areas t, generate_series(1, {VILLAGES}) v \
                 WHERE t.level = 'township' AND t.code LIKE '{PREFIX}%'"
            ),
        );
        rows
    });
    step("areas", rows, d);

    // One scheme per county, through the application (audited), a copy of
    // the demo's walnut scheme under the county's own code.
    let mut g = guobao::db::establish(url).unwrap();
    let demo = serve::demo_scheme(&mut g);
    let codes: Vec<String> = areas::table
        .filter(areas::level.eq("county"))
        .filter(areas::code.like(format!("{PREFIX}%")))
        .order(areas::code)
        .select(areas::code)
        .load(&mut g)
        .unwrap();
    let (_, d) = time(|| {
        for code in &codes {
            let mut def: SchemeDef = demo.def.clone();
            def.code = format!("{}-{code}", demo.def.code);
            def.name = format!("{}（{code}）", demo.def.name);
            app::schemes::create(&mut g, &Actor::system(), &def).unwrap();
        }
    });
    step("schemes (application path)", codes.len(), d);

    let (rows, d) = time(|| {
        exec(
            &mut c,
            &format!(
                "INSERT INTO growers (year, id_number, name, phone, bank_name, bank_account, \
                   village_id, township_id, version, created_at, updated_at) \
                 SELECT {year}, 'X' || v.code || lpad(i::text, 3, '0'), '农户' || v.code || '-' || i, \
                   '138' || lpad((v.id * 100 + i)::text, 8, '0'), '农村信用社', \
                   '6228' || lpad((v.id * 100 + i)::text, 15, '0'), v.id, v.parent_id, 1, '{now}', '{now}' \
                 FROM areas v, generate_series(1, {GROWERS_PER_VILLAGE}) i \
                 WHERE v.level = 'village' AND v.code LIKE '{PREFIX}%'",
                year = demo.def.year
            ),
        )
    });
    step("growers", rows, d);

    // The synthetic growers with their county's scheme, `extra` joined.
    let from = |extra: &str| {
        format!(
            "FROM growers g JOIN areas t ON t.id = g.township_id \
             JOIN areas c ON c.id = t.parent_id \
             JOIN schemes s ON s.code = '{demo}-' || c.code {extra} \
             WHERE c.code LIKE '{PREFIX}%'",
            demo = demo.def.code
        )
    };
    let area_of = |j: i64| format!("((g.id * 7 + {j} * 13) % {AREA_STEPS})");
    let area_of_j = format!("((g.id * 7 + j * 13) % {AREA_STEPS})");
    let (rows, d) = time(|| {
        exec(
            &mut c,
            &format!(
                "INSERT INTO plots (code, grower_id, scheme_id, village_id, township_id, variety, \
                   tree_age, tree_count, fruit_per_tree, area_units, attributes, eligible, reasons, \
                   version, created_at, updated_at) \
                 SELECT 'X' || g.id || '-' || j, g.id, s.id, g.village_id, g.township_id, \
                   CASE WHEN j = 1 THEN 'early' ELSE 'late' END, 8 + (g.id % 20)::int, \
                   20 + (g.id % 40)::int, 200 + (g.id % 300)::int, \
                   5000 + {area} * 750, '{{}}', TRUE, '[]', 1, '{now}', '{now}' \
                 {from}",
                from = from("CROSS JOIN generate_series(1, 2) j"),
                area = area_of_j,
            ),
        )
    });
    step("plots", rows, d);

    // Every sum two plots can make, quoted by the premium engine.
    let rates = demo.def.rates();
    let level = |q: &guobao::domain::premium::Quote, l| {
        q.level(l).map_or("NULL".to_string(), |f| f.0.to_string())
    };
    let values: Vec<String> = (0..2 * AREA_STEPS - 1)
        .map(|k| {
            let mu = 10_000 + k * 750;
            let q = quote(&rates, Mu::from_units(mu));
            format!(
                "({k}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                q.mu.units(),
                q.sum_insured.0,
                q.premium.0,
                q.grower_share.0,
                q.subsidy.0,
                level(&q, FundingLevel::Central),
                level(&q, FundingLevel::Provincial),
                level(&q, FundingLevel::City),
                level(&q, FundingLevel::County),
            )
        })
        .collect();
    exec(
        &mut c,
        "CREATE TEMP TABLE quotes (k BIGINT PRIMARY KEY, mu BIGINT, sum_insured BIGINT, \
         premium BIGINT, grower BIGINT, subsidy BIGINT, central BIGINT, provincial BIGINT, \
         city BIGINT, county BIGINT)",
    );
    exec(
        &mut c,
        &format!("INSERT INTO quotes VALUES {}", values.join(", ")),
    );
    let start = demo.def.term_start.format("%Y-%m-%d").to_string();
    let end = demo.def.term_end.format("%Y-%m-%d").to_string();
    let (rows, d) = time(|| {
        exec(
            &mut c,
            &format!(
                "INSERT INTO policies (policy_no, scheme_id, grower_id, township_id, status, \
                   insured_area_units, sum_insured_fen, premium_fen, grower_share_fen, subsidy_fen, \
                   subsidy_central_fen, subsidy_provincial_fen, subsidy_city_fen, subsidy_county_fen, \
                   share_collected_on, cover_start, cover_end, version, created_at, updated_at) \
                 SELECT '{year}' || t.code || 'X' || lpad(g.id::text, 9, '0'), s.id, g.id, g.township_id, \
                   CASE WHEN g.id % 100 < 5 THEN 'draft' WHEN g.id % 100 < 7 THEN 'cancelled' ELSE 'issued' END, \
                   q.mu, q.sum_insured, q.premium, q.grower, q.subsidy, \
                   q.central, q.provincial, q.city, q.county, \
                   CASE WHEN g.id % 100 < 5 THEN NULL ELSE '{start}' END, \
                   CASE WHEN g.id % 100 < 5 THEN NULL ELSE '{start}' END, \
                   CASE WHEN g.id % 100 < 5 THEN NULL ELSE '{end}' END, 1, '{now}', '{now}' \
                 {from}",
                year = demo.def.year,
                from = from(&format!("JOIN quotes q ON q.k = {} + {}", area_of(1), area_of(2))),
            ),
        )
    });
    step("policies", rows, d);
    let (_, d) = time(|| exec(&mut c, "ANALYZE"));
    step("ANALYZE", 0, d);

    // A claim on every 50th issued policy: 1 in 40 of them reported in
    // the last 20 hours, 1 in 40 dispatched, 2 in 40 declined, the rest
    // paid after a survey 10 to 60 days ago.
    let at = |hours: &str| {
        format!(
            "to_char((now() AT TIME ZONE 'UTC') - make_interval(hours => ({hours})::int), \
             'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        )
    };
    let kind = "((p.id / 50) % 40)";
    let ago = format!("CASE WHEN {kind} < 2 THEN p.id % 20 ELSE 240 + p.id % 1200 END");
    let (rows, d) = time(|| {
        exec(
            &mut c,
            &format!(
                "INSERT INTO claims (claim_no, scheme_id, policy_id, plot_id, grower_id, township_id, \
                   peril, occurred_at, reported_at, reporter_name, reporter_phone, report_channel, \
                   description, status, decline_code, decline_reason, survey_due_at, adjuster_id, \
                   dispatched_at, surveyed_at, payout_fen, approved_at, agreed_on, payment_due_on, \
                   paid_fen, version, created_at, updated_at) \
                 SELECT 'XC' || lpad(p.id::text, 10, '0'), p.scheme_id, p.id, pl.id, p.grower_id, \
                   p.township_id, 'hail', {occurred}, {reported}, '报案农户', '13800000000', \
                   'phone', '冰雹', \
                   CASE WHEN {kind} = 0 THEN 'reported' WHEN {kind} = 1 THEN 'dispatched' \
                        WHEN {kind} < 4 THEN 'declined' ELSE 'paid' END, \
                   CASE WHEN {kind} IN (2, 3) THEN 'peril_not_covered' END, \
                   CASE WHEN {kind} IN (2, 3) THEN '非保险责任' END, \
                   {due}, CASE WHEN {kind} = 0 THEN NULL ELSE adj.id END, \
                   CASE WHEN {kind} = 0 THEN NULL ELSE {dispatched} END, \
                   CASE WHEN {kind} >= 2 THEN {surveyed} END, \
                   CASE WHEN {kind} >= 4 THEN p.premium_fen * 3 END, \
                   CASE WHEN {kind} >= 4 THEN {approved} END, \
                   CASE WHEN {kind} >= 4 THEN substr({approved}, 1, 10) END, \
                   CASE WHEN {kind} >= 4 THEN substr({approved}, 1, 10) END, \
                   CASE WHEN {kind} >= 4 THEN p.premium_fen * 3 ELSE 0 END, 1, '{now}', '{now}' \
                 FROM policies p \
                 JOIN plots pl ON pl.scheme_id = p.scheme_id AND pl.code = 'X' || p.grower_id || '-1' \
                 CROSS JOIN (SELECT id FROM users WHERE username = 'adjuster') adj \
                 WHERE p.status = 'issued' AND p.id % 50 = 0 AND p.policy_no LIKE '%X%'",
                occurred = at(&format!("({ago}) + 1")),
                reported = at(&ago),
                due = at(&format!("({ago}) - 24")),
                dispatched = at(&format!("({ago}) - 1")),
                surveyed = at(&format!("({ago}) - 6")),
                approved = at(&format!("({ago}) - 48")),
            ),
        )
    });
    step("claims", rows, d);
    let (_, d) = time(|| exec(&mut c, "ANALYZE"));
    step("ANALYZE", 0, d);
}

// ------------------------------------------------------------- one round

/// A township of the demo county with no growers yet, villages 村00…村10,
/// for the roster import of round `round`.
fn import_township(c: &mut guobao::db::DbConn, round: usize) -> String {
    let county: i64 = areas::table
        .filter(areas::code.eq("532999"))
        .select(areas::id)
        .first(c)
        .unwrap();
    let code = format!("532999{}", 900 + round);
    let town: i64 = diesel::insert_into(areas::table)
        .values(NewArea {
            code: &code,
            name: &format!("导入镇{round}"),
            level: AreaLevel::Township,
            parent_id: Some(county),
            target_mu_units: Some(0),
        })
        .returning(areas::id)
        .get_result(c)
        .unwrap();
    for v in 0..VILLAGES {
        diesel::insert_into(areas::table)
            .values(NewArea {
                code: &format!("{code}{:03}", 200 + v),
                name: &format!("村{v:02}"),
                level: AreaLevel::Village,
                parent_id: Some(town),
                target_mu_units: None,
            })
            .execute(c)
            .unwrap();
    }
    code
}

/// A valid ID number, unique for n < 120,000.
fn id_number(n: usize) -> String {
    let s = format!(
        "532901{:04}{:02}{:02}{:03}",
        1950 + (n / 1000) % 40,
        1 + (n / 28) % 12,
        1 + n % 28,
        n % 1000
    );
    let check = guobao::domain::id_number::check_char(&s).unwrap();
    format!("{s}{check}")
}

/// A roster of `ROSTER_ROWS` rows numbered from `first`; `edited`: the
/// same growers with a new phone, tree count and area on 4 rows in 5.
fn roster(first: usize, edited: bool) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("花名册").unwrap();
    for (col, h) in guobao::excel::write::ROSTER_HEADERS.iter().enumerate() {
        ws.write_string(0, col as u16, *h).unwrap();
    }
    for k in 0..ROSTER_ROWS {
        let i = first + k;
        let r = (k + 1) as u32;
        let edit = edited && !k.is_multiple_of(5);
        ws.write_string(r, 0, format!("农户{i}")).unwrap();
        ws.write_string(r, 1, id_number(i)).unwrap();
        ws.write_string(r, 2, format!("{}{i:08}", if edit { 139 } else { 138 }))
            .unwrap();
        ws.write_string(r, 3, "信用社").unwrap();
        ws.write_string(r, 4, format!("6228{i:015}")).unwrap();
        ws.write_string(r, 5, format!("村{:02}", k % VILLAGES as usize))
            .unwrap();
        ws.write_string(r, 6, format!("R{i:07}")).unwrap();
        ws.write_string(
            r,
            7,
            if i.is_multiple_of(2) {
                "早实"
            } else {
                "晚实"
            },
        )
        .unwrap();
        ws.write_number(r, 8, (3 + i % 20) as f64).unwrap();
        ws.write_number(r, 9, (20 + i % 40 + usize::from(edit)) as f64)
            .unwrap();
        ws.write_number(r, 10, (200 + i % 300) as f64).unwrap();
        let area = 0.5 + (i % 97) as f64 * 0.13 + if edit { 0.25 } else { 0.0 };
        ws.write_number(r, 11, area).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn import(label: &str, url: &str, round: usize) {
    let mut c = guobao::db::establish(url).unwrap();
    let township = import_township(&mut c, round);
    let scheme = serve::demo_scheme(&mut c).def.code;
    let first = round * 50_000;
    let (full, edited) = (roster(first, false), roster(first, true));
    for (what, bytes) in [("full", &full), ("unchanged", &full), ("edited", &edited)] {
        let req = app::import::ImportRequest {
            database_url: url,
            township_code: &township,
            scheme: &scheme,
            filename: "province.xlsx",
            bytes,
            options: Default::default(),
        };
        let (rep, d) = time(|| app::import::commit(&mut c, &Actor::system(), &req).unwrap());
        assert_eq!(
            rep.counts.rejected,
            0,
            "{:?}",
            rep.rows.iter().find(|r| !r.problems.is_empty())
        );
        println!(
            "{label}: township import, {what:<9} {ROSTER_ROWS} rows: {:>6.3} s  (new {}, unchanged {}, changed {})",
            d.as_secs_f64(),
            rep.counts.new,
            rep.counts.unchanged,
            rep.counts.changed
        );
    }
}

fn statements(label: &str, url: &str, province: bool) {
    let mut c = guobao::db::establish(url).unwrap();
    let finance_desk = actor(&mut c, "finance");
    let demo = serve::demo_scheme(&mut c).def.code;
    let q = |scheme: &str| StatementQuery {
        scheme: scheme.to_string(),
        level: String::new(),
        township: String::new(),
    };
    let (st, d, runs) = best(3, || {
        finance::statement(&mut c, &finance_desk, &q(&demo)).unwrap()
    });
    println!(
        "{label}: statement, demo scheme ({} township rows): best {:.3} s  [{runs}]",
        st.rows.len(),
        d.as_secs_f64()
    );
    let (bytes, d, runs) = best(3, || {
        let st = finance::statement(&mut c, &finance_desk, &q(&demo)).unwrap();
        finance::statement_xlsx(&st).unwrap()
    });
    println!(
        "{label}: statement download, demo scheme ({} bytes): best {:.3} s  [{runs}]",
        bytes.len(),
        d.as_secs_f64()
    );
    if province {
        let codes: Vec<String> = guobao::db::schema::schemes::table
            .order(guobao::db::schema::schemes::code)
            .select(guobao::db::schema::schemes::code)
            .load(&mut c)
            .unwrap();
        let (total, d, runs) = best(3, || {
            codes
                .iter()
                .map(|code| {
                    finance::statement(&mut c, &finance_desk, &q(code))
                        .unwrap()
                        .totals
                        .subsidy
                        .0
                })
                .sum::<i64>()
        });
        println!(
            "{label}: statements of all {} schemes in sequence (subsidy {} fen): best {:.3} s  [{runs}]",
            codes.len(),
            total,
            d.as_secs_f64()
        );
    }
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    v: String,
}

fn round(label: &str, url: &str, n: usize, dir: &std::path::Path) -> u64 {
    let clients = env_or("GUOBAO_LOAD_CLIENTS", 200) as usize;
    let secs = env_or("GUOBAO_LOAD_SECS", 30);
    let mut c = PgConnection::establish(url).unwrap();
    // Fresh statistics, as autovacuum would have them by now.
    exec(&mut c, "ANALYZE");
    println!(
        "{label}: {} counties, {} growers, {} plots, {} policies, {} claims ({} open), {} areas; load average {}",
        count(&mut c, "SELECT count(*) AS n FROM areas WHERE level = 'county'"),
        count(&mut c, "SELECT count(*) AS n FROM growers"),
        count(&mut c, "SELECT count(*) AS n FROM plots"),
        count(&mut c, "SELECT count(*) AS n FROM policies"),
        count(&mut c, "SELECT count(*) AS n FROM claims"),
        count(
            &mut c,
            "SELECT count(*) AS n FROM claims WHERE status IN ('reported', 'dispatched')"
        ),
        count(&mut c, "SELECT count(*) AS n FROM areas"),
        serve::loadavg(),
    );
    statements(label, url, n > 0);
    import(label, url, usize::from(n > 0));
    let accounts = readers(url);
    let station = accounts
        .iter()
        .position(|(u, _)| u.starts_with("station"))
        .expect("a township station among the demo accounts");
    println!(
        "{label}: policies readable: {} by a county-wide account, {} by {}",
        accounts.first().map_or(0, |a| a.1.len()),
        accounts[station].1.len(),
        accounts[station].0
    );
    let mut targets = serve::dispatched_claims(url, clients);
    let session = Session::start(
        env!("CARGO_BIN_EXE_guobao"),
        url,
        &dir.join(format!("{label}-server.log")),
        &accounts,
    );
    let desk = session.desk.clone();
    let station_token = session.tokens[station].clone();
    for (who, token) in [
        ("county-wide desk", &desk),
        ("township station", &station_token),
    ] {
        let body = reqwest::blocking::Client::new()
            .get(format!("http://{}/api/v1/claims/board", session.base))
            .bearer_auth(token)
            .send()
            .unwrap()
            .bytes()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        println!(
            "{label}: board of the {who}: {} open claims, {} bytes",
            v["open"].as_array().map_or(0, Vec::len),
            body.len()
        );
    }
    let mut bad = 0;
    for p in [
        Phase {
            name: "board, county-wide desk",
            writers: 0,
            boards: clients,
            board_token: &desk,
            policies: 0,
        },
        Phase {
            name: "board, township station",
            writers: 0,
            boards: clients,
            board_token: &station_token,
            policies: 0,
        },
        Phase {
            name: "policy reads",
            writers: 0,
            boards: 0,
            board_token: &desk,
            policies: clients,
        },
        Phase {
            name: "survey writes",
            writers: clients,
            boards: 0,
            board_token: &desk,
            policies: 0,
        },
    ] {
        bad += session.phase(label, secs, &mut targets, &p);
    }
    bad + session.kill_and_count_lost(label, url) as u64
}

/// Drops the benchmark's database when the run ends, even by a panic,
/// unless `GUOBAO_PROVINCE_KEEP` is set.
struct Dropper {
    admin: String,
    db: String,
}

impl Drop for Dropper {
    fn drop(&mut self) {
        if std::env::var("GUOBAO_PROVINCE_KEEP").is_ok() {
            println!("province: kept database {}", self.db);
            return;
        }
        if let Ok(mut c) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!("DROP DATABASE {} WITH (FORCE)", self.db))
                .execute(&mut c);
        }
    }
}

fn main() {
    let Ok(base) = std::env::var("GUOBAO_BENCH_PG_URL") else {
        println!("province: PostgreSQL only; set GUOBAO_BENCH_PG_URL (e.g. postgres://postgres@127.0.0.1:5432)");
        return;
    };
    let counties = env_or("GUOBAO_PROVINCE_COUNTIES", 128) as i64;
    let clients = env_or("GUOBAO_LOAD_CLIENTS", 200) as usize;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("guobao_province_{}", std::process::id());
    let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap();
    exec(&mut admin, &format!("CREATE DATABASE {db}"));
    let url = format!("{base}/{db}");
    let dropper = Dropper {
        admin: format!("{base}/postgres"),
        db: db.clone(),
    };
    let version = diesel::sql_query("SHOW server_version AS v")
        .get_result::<Version>(&mut admin)
        .map(|v| v.v)
        .or_else(|_| {
            diesel::sql_query("SELECT current_setting('server_version') AS v")
                .get_result::<Version>(&mut admin)
                .map(|v| v.v)
        })
        .unwrap_or_default();
    println!(
        "province: PostgreSQL {version}, {} cores; {clients} clients, {} s a phase",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env_or("GUOBAO_LOAD_SECS", 30)
    );
    let (_, d) = time(|| prepare(&url, 0));
    println!("county: demo county in {:.1} s", d.as_secs_f64());
    let mut bad = round("county", &url, 0, dir.path());
    let (_, d) = time(|| grow(&url, counties));
    println!(
        "province set-up: {counties} counties in {:.1} s",
        d.as_secs_f64()
    );
    bad += round("province", &url, 1, dir.path());
    let mut c = PgConnection::establish(&url).unwrap();
    sizes(&mut c, "province");
    drop(c);
    drop(dropper);
    if bad > 0 {
        println!("FAILED: {bad} server errors, transport errors or lost writes");
        std::process::exit(1);
    }
}
