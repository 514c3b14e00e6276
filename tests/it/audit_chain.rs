//! README, "审计日志": every audit row is chained to the one before by
//! SHA-256; `guobao audit verify` walks the chain, exits 0 when it is intact
//! and 3 naming the first broken link when a row was changed, deleted or
//! slipped in by SQL; rows from before the chain are chained on upgrade; the
//! audit page filters by person, record, action and China dates, a page at a time.

use crate::helpers::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use guobao::app::{self, Actor};
use guobao::db::audit_chain::{self, Content};
use guobao::db::{self, DbConn};
use serde_json::{json, Value};
use std::process::{Command, Output};

fn guobao(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(args)
        .env("GUOBAO_DATABASE_URL", url)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap()
}

/// `guobao audit verify --json`: the exit code and the report.
fn verify(url: &str) -> (i32, Value) {
    let o = guobao(url, &["audit", "verify", "--json"]);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap(), v)
}

fn actor(name: &str, client: Option<&str>) -> Actor {
    Actor {
        username: name.into(),
        client: client.map(str::to_string),
        ..Actor::system()
    }
}

/// A migrated database with `n` audit rows written by the program.
fn chained_db(n: i64) -> TestDb {
    let db = TestDb::new();
    let pool = guobao::startup::prepare_database(&db.url).unwrap();
    let mut c = pool.get().unwrap();
    let who = actor("审计员", Some("10.0.0.7"));
    for i in 1..=n {
        app::audit::record(
            &mut c,
            &who,
            "update",
            "plot",
            i,
            Some(&json!({"tree_age": i})),
            Some(&json!({"tree_age": i + 1, "note": "一｜二;3:4"})),
        )
        .unwrap();
    }
    db
}

/// The append-only triggers out of the way, as someone with SQL access would.
fn drop_triggers(c: &mut DbConn) {
    match c {
        DbConn::Sqlite(_) => c
            .batch_execute("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap(),
        DbConn::Postgresql(_) => c
            .batch_execute("ALTER TABLE audit_log DISABLE TRIGGER ALL")
            .unwrap(),
    }
}

#[derive(QueryableByName, Debug)]
struct Stored {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    at: String,
    #[diesel(sql_type = Nullable<Text>)]
    client_addr: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    prev_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    hash: Option<String>,
}

fn stored(c: &mut DbConn) -> Vec<Stored> {
    diesel::sql_query("SELECT id, at, client_addr, prev_hash, hash FROM audit_log ORDER BY id")
        .load(c)
        .unwrap()
}

fn broken(v: &Value) -> (&str, i64) {
    (
        v["broken"]["kind"].as_str().unwrap(),
        v["id"].as_i64().unwrap(),
    )
}

#[test]
fn an_intact_chain_verifies_with_its_count_and_head_hash() {
    let db = chained_db(5);
    let rows = stored(&mut db.conn());
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0].prev_hash.as_deref(),
        Some(audit_chain::GENESIS),
        "the first row chains onto the genesis value"
    );
    for pair in rows.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert!(rows
        .iter()
        .all(|r| r.client_addr.as_deref() == Some("10.0.0.7")));
    let (code, v) = verify(&db.url);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["rows"], 5);
    assert_eq!(v["last_id"], rows[4].id);
    assert_eq!(v["head_hash"].as_str(), rows[4].hash.as_deref());

    // The text report says the same in Chinese.
    let o = guobao(&db.url, &["audit", "verify"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("审计日志完整：共 5 行"), "{text}");
    assert!(text.contains(rows[4].hash.as_deref().unwrap()), "{text}");
}

#[test]
fn a_changed_row_is_found_at_its_id() {
    let db = chained_db(6);
    let mut c = db.conn();
    let third = stored(&mut c)[2].id;
    drop_triggers(&mut c);
    let n = diesel::sql_query(format!(
        "UPDATE audit_log SET after_json = '{{\"tree_age\":99}}' WHERE id = {third}"
    ))
    .execute(&mut c)
    .unwrap();
    assert_eq!(n, 1);
    let (code, v) = verify(&db.url);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["ok"], false);
    assert_eq!(broken(&v), ("altered", third));
    assert_eq!(v["rows_checked"], 2);
    assert!(v["message"].as_str().unwrap().contains("被修改过"));

    // Changing only the address (or the time) is caught the same way.
    let db = chained_db(3);
    let mut c = db.conn();
    let last = stored(&mut c)[2].id;
    drop_triggers(&mut c);
    diesel::sql_query(format!(
        "UPDATE audit_log SET client_addr = '10.9.9.9' WHERE id = {last}"
    ))
    .execute(&mut c)
    .unwrap();
    let (code, v) = verify(&db.url);
    assert_eq!((code, broken(&v)), (3, ("altered", last)), "{v}");
}

#[test]
fn a_deleted_row_is_found_between_its_neighbours_and_at_the_end() {
    let db = chained_db(6);
    let mut c = db.conn();
    let ids: Vec<i64> = stored(&mut c).iter().map(|r| r.id).collect();
    drop_triggers(&mut c);
    diesel::sql_query(format!("DELETE FROM audit_log WHERE id = {}", ids[3]))
        .execute(&mut c)
        .unwrap();
    let (code, v) = verify(&db.url);
    assert_eq!(code, 3, "{v}");
    assert_eq!(broken(&v), ("missing", ids[4]));
    assert_eq!(v["broken"]["after"], ids[2]);
    assert!(v["message"].as_str().unwrap().contains("缺少记录"));

    // The last row: the head still names it.
    let db = chained_db(4);
    let mut c = db.conn();
    let ids: Vec<i64> = stored(&mut c).iter().map(|r| r.id).collect();
    drop_triggers(&mut c);
    diesel::sql_query(format!("DELETE FROM audit_log WHERE id = {}", ids[3]))
        .execute(&mut c)
        .unwrap();
    let (code, v) = verify(&db.url);
    assert_eq!(code, 3, "{v}");
    assert_eq!(broken(&v), ("missing_at_end", ids[3]));
    assert_eq!(v["broken"]["after"], ids[2]);
}

#[test]
fn a_back_dated_row_inserted_by_sql_is_found() {
    // Plain SQL, no hash: the triggers allow INSERT.
    let db = chained_db(3);
    let mut c = db.conn();
    diesel::sql_query(
        "INSERT INTO audit_log (at, user_id, username, action, entity, entity_id, before_json, after_json) \
         VALUES ('2020-01-01T00:00:00Z', NULL, 'admin', 'delete', 'grower', 5, '{}', NULL)",
    )
    .execute(&mut c)
    .unwrap();
    let inserted = stored(&mut c).last().unwrap().id;
    let (code, v) = verify(&db.url);
    assert_eq!(code, 3, "{v}");
    assert_eq!(broken(&v), ("no_hash", inserted));
    assert_eq!(v["rows_checked"], 3);

    // The program carries on appending after it; the break stays reported.
    app::audit::record(
        &mut c,
        &actor("admin", None),
        "create",
        "area",
        1,
        None::<&()>,
        Some(&json!({})),
    )
    .unwrap();
    let (code, v) = verify(&db.url);
    assert_eq!((code, broken(&v)), (3, ("no_hash", inserted)), "{v}");

    // Someone who computes a hash onto the last row still is not on the head.
    let db = chained_db(3);
    let mut c = db.conn();
    let last = stored(&mut c).pop().unwrap();
    let forged = forge(&mut c, last.id + 1, "2020-01-01T00:00:00Z", &last);
    let (code, v) = verify(&db.url);
    assert_eq!((code, broken(&v)), (3, ("inserted", forged)), "{v}");

    // ...and moving the head too leaves the time running backwards.
    let db = chained_db(3);
    let mut c = db.conn();
    let last = stored(&mut c).pop().unwrap();
    let forged = forge(&mut c, last.id + 1, "2020-01-01T00:00:00Z", &last);
    let hash = stored(&mut c).pop().unwrap().hash.unwrap();
    diesel::sql_query(format!(
        "UPDATE audit_chain SET last_id = {forged}, last_hash = '{hash}'"
    ))
    .execute(&mut c)
    .unwrap();
    let (code, v) = verify(&db.url);
    assert_eq!((code, broken(&v)), (3, ("back_dated", forged)), "{v}");
}

/// Insert a row with a correct hash chained onto `after`; its id.
fn forge(c: &mut DbConn, id: i64, at: &str, after: &Stored) -> i64 {
    let prev = after.hash.clone().unwrap();
    let content = Content {
        id,
        at,
        user_id: None,
        username: "admin",
        action: "delete",
        entity: "grower",
        entity_id: Some(5),
        before_json: Some("{}"),
        after_json: None,
        client_addr: None,
    };
    let hash = audit_chain::hash(&prev, &content);
    diesel::sql_query(format!(
        "INSERT INTO audit_log (id, at, user_id, username, action, entity, entity_id, before_json, after_json, client_addr, prev_hash, hash) \
         VALUES ({id}, '{at}', NULL, 'admin', 'delete', 'grower', 5, '{{}}', NULL, NULL, '{prev}', '{hash}')"
    ))
    .execute(c)
    .unwrap();
    id
}

#[test]
fn a_deleted_head_is_reported_not_rebuilt() {
    let db = chained_db(2);
    let mut c = db.conn();
    diesel::sql_query("DELETE FROM audit_chain")
        .execute(&mut c)
        .unwrap();
    // Opening the database again (the CLI migrates first) must not re-chain
    // the rows and so bless whatever was done to them.
    let (code, v) = verify(&db.url);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["broken"]["kind"], "no_head");
    assert!(v["message"].as_str().unwrap().contains("链头"));
}

#[test]
fn writers_in_parallel_build_one_chain() {
    let db = chained_db(1);
    let threads = 6;
    let each = 15;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut c = db::establish(&url).unwrap();
                let who = actor(&format!("writer{t}"), Some("10.0.0.8"));
                for i in 0..each {
                    // Each in its own transaction, with a read first as use cases do.
                    app::tx(&mut c, |c| {
                        let _: i64 = guobao::db::schema::audit_log::table.count().get_result(c)?;
                        app::audit::record(c, &who, "update", "plot", i, None::<&()>, Some(&i))?;
                        if i % 5 == 0 {
                            app::audit::record_many(
                                c,
                                &who,
                                (0..4)
                                    .map(|k| app::audit::Pending {
                                        action: "import",
                                        entity: "grower",
                                        entity_id: k,
                                        before: None,
                                        after: Some(format!("{{\"k\":{k}}}")),
                                    })
                                    .collect(),
                            )?;
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let expected = 1 + threads * (each + 3 * 4);
    let rows = stored(&mut db.conn());
    assert_eq!(rows.len() as i64, expected);
    let (code, v) = verify(&db.url);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["rows"], expected);
    // Times never run backwards along the chain.
    assert!(rows.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn rows_from_before_the_chain_are_chained_once_on_upgrade() {
    let db = TestDb::new();
    let mut c = db.conn();
    migrate_before_chain(&mut c);
    for (at, action) in [
        ("2026-06-01T01:00:00Z", "create"),
        ("2026-06-02T01:00:00Z", "update"),
        ("2026-06-03T01:00:00Z", "delete"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO audit_log (at, user_id, username, action, entity, entity_id, before_json, after_json) \
             VALUES ('{at}', NULL, 'station_a', '{action}', 'plot', 7, NULL, '{{\"a\":1}}')"
        ))
        .execute(&mut c)
        .unwrap();
    }
    drop(c);
    // The program's own migrate: the pending migration, then the chaining.
    let o = guobao(&db.url, &["migrate"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = stored(&mut db.conn());
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.hash.is_some()));
    let (code, v) = verify(&db.url);
    assert_eq!((code, v["rows"].as_i64()), (0, Some(3)), "{v}");
    let head = v["head_hash"].clone();

    // Again: nothing changes.
    assert!(guobao(&db.url, &["migrate"]).status.success());
    let (code, v) = verify(&db.url);
    assert_eq!((code, &v["head_hash"]), (0, &head), "{v}");

    // New rows chain on; one slipped in by SQL afterwards is caught.
    let mut c = db.conn();
    app::audit::record(
        &mut c,
        &actor("admin", Some("10.0.0.1")),
        "create",
        "area",
        1,
        None::<&()>,
        Some(&json!({})),
    )
    .unwrap();
    assert_eq!(verify(&db.url).0, 0);
    diesel::sql_query(
        "INSERT INTO audit_log (at, username, action, entity) \
         VALUES ('2026-06-01T00:00:00Z', 'x', 'delete', 'plot')",
    )
    .execute(&mut c)
    .unwrap();
    let id = stored(&mut c).last().unwrap().id;
    let (code, v) = verify(&db.url);
    assert_eq!((code, broken(&v)), (3, ("no_hash", id)), "{v}");
}

/// Every migration before the one that made the chain.
fn migrate_before_chain(c: &mut DbConn) {
    use diesel::migration::MigrationSource;
    use diesel_migrations::MigrationHarness;
    const CHAIN: &str = "2026-12-01-000007_audit_chain";
    fn run<DB: diesel::backend::Backend>(
        c: &mut impl MigrationHarness<DB>,
        m: fn() -> diesel_migrations::EmbeddedMigrations,
    ) where
        diesel_migrations::EmbeddedMigrations: MigrationSource<DB>,
    {
        let before = MigrationSource::<DB>::migrations(&m())
            .unwrap()
            .iter()
            .filter(|m| m.name().to_string().as_str() < CHAIN)
            .count();
        for _ in 0..before {
            c.run_next_migration(m()).unwrap();
        }
    }
    match c {
        DbConn::Sqlite(c) => run(c, || db::SQLITE_MIGRATIONS),
        DbConn::Postgresql(c) => run(c, || db::POSTGRES_MIGRATIONS),
    }
}

/// The rows of the audit page's table: (id, the cells' text).
fn page_rows(body: &str) -> Vec<String> {
    body.split("<tr data-id=\"")
        .skip(1)
        .map(|s| s.split("</tr>").next().unwrap().to_string())
        .collect()
}

#[test]
fn the_audit_page_filters_pages_and_speaks_chinese() {
    let app = spawn_app();
    let station = app.api("station_a");
    let g = GrowerBuilder::new("审计页户").seq(91).create(&station);
    let r = PlotBuilder::new(g).create(&station);
    assert_eq!(r.status, 201, "{}", r.body);
    let plot = r.body["id"].as_i64().unwrap();
    let r = station.put(
        &format!("/api/v1/plots/{plot}"),
        json!({"grower_id": g, "variety": "early", "tree_age": 9, "tree_count": 30,
               "fruit_per_tree": 300, "area_mu": "2"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // 60 more rows by someone else, so there is a second page.
    {
        let mut c = app.conn();
        let who = actor("forestry", Some("10.1.2.3"));
        for i in 0..60 {
            app::audit::record(
                &mut c,
                &who,
                "read",
                "grower",
                g,
                None::<&()>,
                Some(&json!({"fields": ["id_number", "phone"]})),
            )
            .unwrap();
            let _ = i;
        }
    }

    let b = app.browser();
    b.login("admin");
    let p = b.get("/audit");
    assert_eq!(p.status, 200);
    let total_rows = page_rows(&p.body).len();
    assert_eq!(total_rows, 50, "50 rows a page");
    assert!(p.body.contains("第 1/2 页"), "{}", p.body);
    assert!(p.body.contains("查看个人信息"));
    assert!(p.body.contains("身份证号、电话"));
    assert!(p.body.contains("10.1.2.3"));
    assert!(p.body.contains("page=2"));
    assert!(!p.body.contains("style="), "no inline styles");
    assert!(
        p.body.matches("<script").count() == p.body.matches("<script src=").count(),
        "no inline scripts"
    );
    let p2 = b.get("/audit?page=2");
    let second = page_rows(&p2.body);
    assert!(p2.body.contains("第 2/2 页"));
    assert!(!second.is_empty());

    // By person and record: the station's three rows on its plot, in Chinese, China time.
    let p = b.get(&format!(
        "/audit?username=station_a&entity=plot&entity_id={plot}"
    ));
    assert_eq!(p.status, 200, "{}", p.body);
    let rows = page_rows(&p.body);
    assert_eq!(rows.len(), 2, "create and update of the plot: {}", p.body);
    assert!(
        rows[0].contains("修改") && rows[0].contains("地块"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains("新增"), "{}", rows[1]);
    // The content before and after is on the row's own page, not in the list.
    assert!(rows[0].contains("修改前后") && !rows[0].contains("<pre"));
    let id = rows[0].split('"').next().unwrap();
    assert!(
        rows[0].contains(&format!("href=\"/audit/{id}\"")),
        "{}",
        rows[0]
    );
    let detail = b.get(&format!("/audit/{id}"));
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("修改前") && detail.body.contains("修改后"));
    assert!(detail.body.contains("area_units"), "{}", detail.body);
    assert!(
        rows[0].contains("127.0.0.1"),
        "the client address: {}",
        rows[0]
    );
    assert!(p.body.contains("共 2 条"));
    // The shown time is the stored UTC time plus eight hours.
    let stored_at: String = {
        #[derive(QueryableByName)]
        struct At {
            #[diesel(sql_type = Text)]
            at: String,
        }
        diesel::sql_query(format!(
            "SELECT at FROM audit_log WHERE entity = 'plot' AND entity_id = {plot} AND action = 'update'"
        ))
        .get_result::<At>(&mut app.conn())
        .unwrap()
        .at
    };
    let shown = chrono::DateTime::parse_from_rfc3339(&stored_at)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(
        rows[0].contains(&format!("<td>{shown}</td>")),
        "{shown} in {}",
        rows[0]
    );

    // By action; by China dates: today has them all, yesterday nothing.
    let p = b.get("/audit?action=update&username=station_a");
    let updates = page_rows(&p.body);
    assert!(!updates.is_empty());
    assert!(updates
        .iter()
        .all(|r| r.contains("修改") && !r.contains("新增")));
    let p = b.get("/audit?action=update&username=station_a&entity=plot");
    assert_eq!(page_rows(&p.body).len(), 1);
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let yesterday = today.pred_opt().unwrap();
    let p = b.get(&format!(
        "/audit?from={today}&to={today}&username=station_a"
    ));
    assert!(p.body.contains("共 "), "{}", p.body);
    assert!(page_rows(&p.body).len() >= 2, "{}", p.body);
    let p = b.get(&format!("/audit?to={yesterday}"));
    assert_eq!(page_rows(&p.body).len(), 0);
    assert!(p.body.contains("没有符合条件的记录"));

    // Bad filters: a 422 page saying why, in Chinese.
    let p = b.get("/audit?from=2026-13-45");
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("开始日期"), "{}", p.body);
    let p = b.get(&format!("/audit?from={today}&to={yesterday}"));
    assert_eq!(p.status, 422);
    assert!(p.body.contains("不能早于开始日期"));
    let p = b.get("/audit?entity_id=abc%3Cscript%3E");
    assert_eq!(p.status, 422);
    assert!(!p.body.contains("<script>"));

    // Only who may read the audit log sees the page.
    let s = app.browser();
    s.login("station_a");
    assert_eq!(s.get("/audit").status, 403);
}

#[test]
fn the_audit_api_filters_and_shows_the_chain_fields() {
    let app = spawn_app();
    let station = app.api("station_a");
    let g = GrowerBuilder::new("审计接口户").seq(92).create(&station);
    let admin = app.api("admin");
    let r = admin.get("/api/v1/audit?username=station_a&action=create&entity=grower");
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.body.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", r.body);
    assert_eq!(rows[0]["entity_id"], g);
    assert_eq!(rows[0]["client_addr"], "127.0.0.1");
    assert_eq!(rows[0]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(rows[0]["prev_hash"].as_str().unwrap().len(), 64);
    let r = admin.get("/api/v1/audit?username=nobody");
    assert_eq!(r.body, json!([]));
    let r = admin.get("/api/v1/audit?from=2026-02-30");
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["field"], "from");
    assert_eq!(station.get("/api/v1/audit").status, 403);
    // limit and page walk the rows newest first.
    let all = admin.get("/api/v1/audit?limit=1000").body;
    let n = all.as_array().unwrap().len();
    assert!(n >= 2);
    let second = admin.get("/api/v1/audit?limit=1&page=2").body;
    assert_eq!(second[0]["id"], all[1]["id"]);
}
