//! Migrations that move data: run the app's migrations one by one on an empty
//! database, write rows in the old shape, then run the migration and check them.

use crate::helpers::*;
use diesel::backend::Backend;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use guobao::db::schema::policies;
use guobao::db::{DbConn, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use guobao::domain::scheme::WALNUT_2012_JSON;

/// The migration that turned `policy_subsidy_levels` rows into columns.
const LEVEL_COLUMNS: &str = "2026-11-30-000005_policy_levels";

#[derive(Clone, Copy)]
enum Step {
    /// Every migration before LEVEL_COLUMNS.
    Before,
    /// LEVEL_COLUMNS itself.
    Next,
    /// Undo LEVEL_COLUMNS.
    Revert,
}

fn step(conn: &mut DbConn, s: Step) {
    match conn {
        DbConn::Sqlite(c) => step_on(c, || SQLITE_MIGRATIONS, s),
        DbConn::Postgresql(c) => step_on(c, || POSTGRES_MIGRATIONS, s),
    }
}

/// `m` gives the backend's migrations (a const, so one value per call).
fn step_on<DB: Backend>(c: &mut impl MigrationHarness<DB>, m: fn() -> EmbeddedMigrations, s: Step)
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    match s {
        Step::Before => {
            let before = MigrationSource::<DB>::migrations(&m())
                .unwrap()
                .iter()
                .filter(|m| m.name().to_string().as_str() < LEVEL_COLUMNS)
                .count();
            for _ in 0..before {
                c.run_next_migration(m()).unwrap();
            }
        }
        Step::Next => {
            let v = c.run_next_migration(m()).unwrap();
            assert_eq!(v.to_string(), "20261130000005", "{LEVEL_COLUMNS} runs next");
        }
        Step::Revert => {
            c.revert_last_migration(m()).unwrap();
        }
    }
}

#[derive(Debug, PartialEq, QueryableByName)]
struct LevelRow {
    #[diesel(sql_type = Text)]
    policy_no: String,
    #[diesel(sql_type = Text)]
    level: String,
    #[diesel(sql_type = BigInt)]
    amount_fen: i64,
}

fn level_rows(conn: &mut DbConn) -> Vec<LevelRow> {
    diesel::sql_query(
        "SELECT p.policy_no, l.level, l.amount_fen FROM policy_subsidy_levels l \
         JOIN policies p ON p.id = l.policy_id ORDER BY l.id",
    )
    .load(conn)
    .unwrap()
}

fn row(no: &str, level: &str, amount_fen: i64) -> LevelRow {
    LevelRow {
        policy_no: no.into(),
        level: level.into(),
        amount_fen,
    }
}

#[derive(Debug, PartialEq, QueryableByName)]
struct Columns {
    #[diesel(sql_type = Text)]
    policy_no: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    subsidy_central_fen: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    subsidy_provincial_fen: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    subsidy_city_fen: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    subsidy_county_fen: Option<i64>,
}

#[test]
fn subsidy_level_rows_become_policy_columns_and_back() {
    let db = TestDb::new();
    let mut c = db.conn();
    step(&mut c, Step::Before);
    // The rows this migration reads, in the schema as it was then (the
    // app's own seed writes today's schema).
    for s in [
        "INSERT INTO areas (code, name, level) VALUES ('532999', '测试县', 'county')",
        "INSERT INTO areas (code, name, level, parent_id) \
         SELECT '532999101', '甲镇', 'township', id FROM areas WHERE code = '532999'",
        "INSERT INTO areas (code, name, level, parent_id) \
         SELECT '532999101201', '一村', 'village', id FROM areas WHERE code = '532999101'",
    ] {
        diesel::sql_query(s).execute(&mut c).unwrap();
    }
    diesel::sql_query(
        "INSERT INTO schemes (code, name, crop, year, definition, created_at) \
         VALUES ('walnut-2012', '核桃', 'walnut', 2012, $1, '2026-11-30T00:00:00Z')"
            .replace("$1", &format!("'{}'", WALNUT_2012_JSON.replace('\'', "''"))),
    )
    .execute(&mut c)
    .unwrap();
    for s in [
        "INSERT INTO growers (year, id_number, name, phone, bank_name, bank_account, \
         village_id, township_id, created_at, updated_at) \
         SELECT 2012, n, n, '', '', '', v.id, v.parent_id, '2026-11-30T00:00:00Z', '2026-11-30T00:00:00Z' \
         FROM areas v, (SELECT 'G1' AS n UNION ALL SELECT 'G2' UNION ALL SELECT 'G3') AS g \
         WHERE v.code = '532999101201'",
        // P1 has the walnut scheme's three levels, P2 one, P3 none (a
        // scheme with no subsidy).
        "INSERT INTO policies (policy_no, scheme_id, grower_id, township_id, status, \
         insured_area_units, sum_insured_fen, premium_fen, grower_share_fen, subsidy_fen, \
         created_at, updated_at) \
         SELECT 'P' || SUBSTR(g.id_number, 2), s.id, g.id, g.township_id, 'issued', \
         10000, 100000, 8000, 1600, 6400, '2026-11-30T00:00:00Z', '2026-11-30T00:00:00Z' FROM schemes s, growers g",
        "INSERT INTO policy_subsidy_levels (policy_id, level, amount_fen) \
         SELECT p.id, l.level, l.amount FROM policies p, \
         (SELECT 'P1' AS no, 1 AS k, 'provincial' AS level, 4000 AS amount \
          UNION ALL SELECT 'P1', 2, 'city', 801 \
          UNION ALL SELECT 'P1', 3, 'county', 1599 \
          UNION ALL SELECT 'P2', 4, 'central', 6400) AS l \
         WHERE p.policy_no = l.no ORDER BY l.k",
    ] {
        diesel::sql_query(s).execute(&mut c).unwrap();
    }
    let before = level_rows(&mut c);
    assert_eq!(
        before,
        vec![
            row("P1", "provincial", 4000),
            row("P1", "city", 801),
            row("P1", "county", 1599),
            row("P2", "central", 6400),
        ]
    );

    step(&mut c, Step::Next);
    let columns: Vec<Columns> = diesel::sql_query(
        "SELECT policy_no, subsidy_central_fen, subsidy_provincial_fen, subsidy_city_fen, \
         subsidy_county_fen FROM policies ORDER BY policy_no",
    )
    .load(&mut c)
    .unwrap();
    let col = |no: &str, a, b, c, d| Columns {
        policy_no: no.into(),
        subsidy_central_fen: a,
        subsidy_provincial_fen: b,
        subsidy_city_fen: c,
        subsidy_county_fen: d,
    };
    assert_eq!(
        columns,
        vec![
            col("P1", None, Some(4000), Some(801), Some(1599)),
            col("P2", Some(6400), None, None, None),
            col("P3", None, None, None, None),
        ]
    );
    // The app's own model reads them.
    let p1: guobao::db::models::Policy = policies::table
        .filter(policies::policy_no.eq("P1"))
        .select(guobao::db::models::Policy::as_select())
        .first(&mut c)
        .unwrap();
    let levels: Vec<(&str, i64)> = p1
        .levels()
        .into_iter()
        .map(|(l, a)| (l.as_str(), a.0))
        .collect();
    assert_eq!(
        levels,
        vec![("provincial", 4000), ("city", 801), ("county", 1599)]
    );

    step(&mut c, Step::Revert);
    assert_eq!(level_rows(&mut c), before);
}
