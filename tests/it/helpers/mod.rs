//! Test harness: each test gets its own database (a temp SQLite file, or a
//! fresh PostgreSQL database when GUOBAO_TEST_DATABASE=postgres) and its own
//! server on a free port.

#![allow(dead_code)]

pub mod claims;
pub mod notices;
pub mod report;

use diesel::prelude::*;
use guobao::app::auth::{create_user, NewAccount};
use guobao::app::clock::Clock;
use guobao::app::{self, Actor};
use guobao::db::models::NewArea;
use guobao::db::schema::areas;
use guobao::db::{self, DbConn};
use guobao::domain::scheme::{SchemeDef, WALNUT_2012_JSON};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};

pub const PASSWORD: &str = "Hetao-orchard-test-1942";

/// Which backend this run tests: `sqlite` (default) or `postgres`. Any other
/// value is a mistake in the command line, not a reason to test SQLite again.
pub fn backend() -> String {
    let b = std::env::var("GUOBAO_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
    assert!(
        b == "sqlite" || b == "postgres",
        "GUOBAO_TEST_DATABASE must be sqlite or postgres, not {b:?}"
    );
    b
}

pub fn pg_base() -> String {
    std::env::var("GUOBAO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that disappears with the test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
    /// The photo store's directory, the test's own on either backend.
    pub photos: tempfile::TempDir,
}

impl TestDb {
    pub fn new() -> TestDb {
        if backend() == "postgres" {
            TestDb::postgres().expect("PostgreSQL for tests (GUOBAO_TEST_PG_URL)")
        } else {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            TestDb {
                url,
                pg_name: None,
                _dir: Some(dir),
                photos: tempfile::tempdir().expect("tempdir"),
            }
        }
    }

    /// A fresh PostgreSQL database whatever the run's backend, or None when
    /// the server at GUOBAO_TEST_PG_URL cannot be reached.
    pub fn postgres() -> Option<TestDb> {
        let name = format!(
            "guobao_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand_suffix()
        );
        let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", pg_base())).ok()?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        Some(TestDb {
            url: format!("{}/{name}", pg_base()),
            pg_name: Some(name),
            _dir: None,
            photos: tempfile::tempdir().expect("tempdir"),
        })
    }

    pub fn conn(&self) -> DbConn {
        db::establish(&self.url).expect("connect test database")
    }

    /// The test's photo store (a directory of its own).
    pub fn photo_store(&self) -> guobao::photo_store::PhotoStore {
        guobao::photo_store::PhotoStore::local(self.photos.path()).expect("photo store")
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut admin) =
                diesel::PgConnection::establish(&format!("{}/postgres", pg_base()))
            {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// Small county used by most tests: two townships, three villages.
pub struct Seed {
    pub township_a: i64,
    pub township_b: i64,
    pub village_a1: String,
    pub village_a2: String,
    pub village_b1: String,
}

pub const TOWNSHIP_A: &str = "532999101";
pub const TOWNSHIP_B: &str = "532999102";
/// Village 一村 of 甲镇, where growers go unless a test says otherwise.
pub const VILLAGE_A1: &str = "532999101201";

pub fn seed(conn: &mut DbConn) -> Seed {
    let def: SchemeDef = serde_json::from_str(WALNUT_2012_JSON).unwrap();
    app::schemes::create(conn, &Actor::system(), &def).unwrap();
    let county: i64 = diesel::insert_into(areas::table)
        .values(NewArea {
            code: "532999",
            name: "测试县",
            level: guobao::domain::area::AreaLevel::County,
            parent_id: None,
            target_mu_units: None,
        })
        .returning(areas::id)
        .get_result(conn)
        .unwrap();
    let mut town = |code: &str, name: &str, target: i64| -> i64 {
        diesel::insert_into(areas::table)
            .values(NewArea {
                code,
                name,
                level: guobao::domain::area::AreaLevel::Township,
                parent_id: Some(county),
                target_mu_units: Some(target * 10_000),
            })
            .returning(areas::id)
            .get_result(conn)
            .unwrap()
    };
    let a = town(TOWNSHIP_A, "甲镇", 100);
    let b = town(TOWNSHIP_B, "乙乡", 50);
    for (code, name, parent) in [
        ("532999101201", "一村", a),
        ("532999101202", "二村", a),
        ("532999102201", "三村", b),
    ] {
        diesel::insert_into(areas::table)
            .values(NewArea {
                code,
                name,
                level: guobao::domain::area::AreaLevel::Village,
                parent_id: Some(parent),
                target_mu_units: None,
            })
            .execute(conn)
            .unwrap();
    }
    for (username, role, township) in [
        ("admin", "admin", None),
        ("forestry", "county_forestry", None),
        ("station_a", "township", Some(TOWNSHIP_A)),
        ("station_b", "township", Some(TOWNSHIP_B)),
        ("underwriter", "underwriter", None),
        ("adjuster", "adjuster", None),
        ("finance", "finance", None),
    ] {
        create_user(
            conn,
            &NewAccount {
                username,
                display_name: username,
                password: PASSWORD,
                role,
                township_code: township,
                must_change_password: false,
            },
        )
        .unwrap();
    }
    Seed {
        township_a: a,
        township_b: b,
        village_a1: VILLAGE_A1.into(),
        village_a2: "532999101202".into(),
        village_b1: "532999102201".into(),
    }
}

/// A running server over a seeded test database.
pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub seed: Seed,
    /// The server's clock: the system's, or one the test moves (`spawn_app_at`).
    pub clock: Clock,
}

pub fn spawn_app() -> TestApp {
    spawn_with_clock(Clock::system())
}

/// A server whose clock stands at `at` (China time, "2012-06-12 08:00") until moved.
pub fn spawn_app_at(at: &str) -> TestApp {
    spawn_with_clock(Clock::manual(china_time(at)))
}

/// "2012-06-12 08:00" China time as an instant.
pub fn china_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    guobao::app::clock::parse_input("t", "t", s).unwrap()
}

fn spawn_with_clock(clock: Clock) -> TestApp {
    let db = TestDb::new();
    let pool = guobao::startup::prepare_database(&db.url).expect("migrate");
    let seed = {
        let mut c = pool.get().unwrap();
        seed(&mut c)
    };
    let address = start_server_full(pool, clock.clone(), Some(db.photo_store()));
    TestApp {
        address,
        db,
        seed,
        clock,
    }
}

/// Start the server on a free port in a background thread.
pub fn start_server(pool: db::Pool) -> String {
    start_server_with(pool, Clock::system())
}

pub fn start_server_with(pool: db::Pool, clock: Clock) -> String {
    start_server_full(pool, clock, None)
}

/// The same with a photo store (`None`: in memory).
pub fn start_server_full(
    pool: db::Pool,
    clock: Clock,
    photos: Option<guobao::photo_store::PhotoStore>,
) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let settings = guobao::startup::Settings {
        limits: Default::default(),
        secret_key: None,
        secure_cookies: false,
        security: Default::default(),
        clock,
        tuning: Default::default(),
        photos,
        ops: Default::default(),
    };
    start_server_settings(pool, listener, settings)
}

/// Start the server on `listener` with these settings.
pub fn start_server_settings(
    pool: db::Pool,
    listener: std::net::TcpListener,
    settings: guobao::startup::Settings,
) -> String {
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            guobao::startup::run(pool, listener, settings)
                .unwrap()
                .await
                .unwrap();
        })
    });
    format!("http://127.0.0.1:{port}")
}

/// A valid ID number with the given first 17 digits' birth date and sequence.
pub fn id_number(birth: &str, seq: u32) -> String {
    let first17 = format!("532999{birth}{seq:03}");
    let check = guobao::domain::id_number::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

pub struct Api {
    pub base: String,
    pub token: String,
    client: Client,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub fn api(&self, username: &str) -> Api {
        let client = Client::new();
        let r = client
            .post(format!("{}/api/v1/session", self.address))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "login {username}");
        let v: Value = r.json().unwrap();
        Api {
            base: self.address.clone(),
            token: v["token"].as_str().unwrap().to_string(),
            client,
        }
    }

    pub fn browser(&self) -> Browser {
        browser_at(&self.address)
    }
}

/// A bearer-token client for a server started elsewhere (the demo county).
pub fn api_at(address: &str, username: &str, password: &str) -> Api {
    let client = Client::new();
    let r = client
        .post(format!("{address}/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "login {username}");
    let v: Value = r.json().unwrap();
    Api {
        base: address.to_string(),
        token: v["token"].as_str().unwrap().to_string(),
        client,
    }
}

/// A browser with no one logged in, for a server started elsewhere.
pub fn browser_at(address: &str) -> Browser {
    Browser {
        base: address.to_string(),
        client: Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl TestApp {
    pub fn conn(&self) -> DbConn {
        self.db.conn()
    }
}

/// A grower to create through the API: `GrowerBuilder::new("王芳").seq(2)
/// .village(&app.seed.village_b1).create(&api)`. Defaults: ID sequence 1,
/// village 一村 of 甲镇.
pub struct GrowerBuilder {
    name: String,
    seq: u32,
    village: String,
    phone: String,
}

impl GrowerBuilder {
    pub fn new(name: &str) -> GrowerBuilder {
        GrowerBuilder {
            name: name.to_string(),
            seq: 1,
            village: VILLAGE_A1.to_string(),
            phone: "13800000000".into(),
        }
    }

    /// The sequence digits of the ID number (born 1970-01-01).
    pub fn seq(mut self, seq: u32) -> GrowerBuilder {
        self.seq = seq;
        self
    }

    pub fn village(mut self, code: &str) -> GrowerBuilder {
        self.village = code.to_string();
        self
    }

    pub fn phone(mut self, phone: &str) -> GrowerBuilder {
        self.phone = phone.to_string();
        self
    }

    /// Create it as `api`'s user, insisting on 201; the grower's id.
    pub fn create(self, api: &Api) -> i64 {
        let r = api.post(
            "/api/v1/growers",
            json!({"name": self.name, "id_number": id_number("19700101", self.seq),
                   "phone": self.phone, "bank_name": "信用社",
                   "bank_account": "6228480000000000001", "village_code": self.village}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_i64().unwrap()
    }
}

/// A plot to create through the API: `PlotBuilder::new(grower).variety("late")
/// .tree_age(9).mu("2.5").create(&api)`. Defaults: early walnut, 8 years,
/// 30 trees with 300 fruit each, 1 mu (eligible).
pub struct PlotBuilder {
    grower: i64,
    variety: String,
    tree_age: i32,
    fruit_count: i32,
    mu: String,
}

impl PlotBuilder {
    pub fn new(grower: i64) -> PlotBuilder {
        PlotBuilder {
            grower,
            variety: "early".into(),
            tree_age: 8,
            fruit_count: 300,
            mu: "1".into(),
        }
    }

    pub fn variety(mut self, variety: &str) -> PlotBuilder {
        self.variety = variety.to_string();
        self
    }

    pub fn tree_age(mut self, years: i32) -> PlotBuilder {
        self.tree_age = years;
        self
    }

    /// Fruit per tree.
    pub fn fruit_count(mut self, per_tree: i32) -> PlotBuilder {
        self.fruit_count = per_tree;
        self
    }

    /// Declared area in mu, as the API takes it (a string).
    pub fn mu(mut self, mu: &str) -> PlotBuilder {
        self.mu = mu.to_string();
        self
    }

    /// Post it as `api`'s user; the response, whatever its status.
    pub fn create(self, api: &Api) -> Resp {
        api.post(
            "/api/v1/plots",
            json!({"grower_id": self.grower, "variety": self.variety, "tree_age": self.tree_age,
                   "tree_count": 30, "fruit_per_tree": self.fruit_count, "area_mu": self.mu}),
        )
    }
}

impl Api {
    fn send(&self, rb: reqwest::blocking::RequestBuilder) -> Resp {
        let r = rb.bearer_auth(&self.token).send().unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, body }
    }
    pub fn get(&self, path: &str) -> Resp {
        self.send(self.client.get(format!("{}{path}", self.base)))
    }
    pub fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.client.post(format!("{}{path}", self.base)).json(&body))
    }
    pub fn put(&self, path: &str, body: Value) -> Resp {
        self.send(self.client.put(format!("{}{path}", self.base)).json(&body))
    }
    pub fn delete(&self, path: &str) -> Resp {
        self.send(self.client.delete(format!("{}{path}", self.base)))
    }
}

/// A person in a browser: cookies kept, redirects not followed.
pub struct Browser {
    pub base: String,
    client: Client,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    /// The answer's Cache-Control header.
    pub cache: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn get(&self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap();
        page(r)
    }

    /// The CSRF token embedded in a page's forms.
    pub fn csrf(&self, path: &str) -> String {
        let body = self.get(path).body;
        let re = regex::Regex::new(r#"name="csrf_token" value="([0-9a-f]+)""#).unwrap();
        re.captures(&body).expect("csrf token in page")[1].to_string()
    }

    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .unwrap();
        page(r)
    }

    /// Post with the session's CSRF token, taken from `form_page`.
    pub fn submit(&self, form_page: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.csrf(form_page);
        let mut f: Vec<(&str, &str)> = form.to_vec();
        f.push(("csrf_token", &token));
        self.post(path, &f)
    }

    /// Upload a file through a multipart form, with or without the CSRF token.
    pub fn upload(
        &self,
        form_page: &str,
        path: &str,
        fields: &[(&str, &str)],
        filename: &str,
        bytes: Vec<u8>,
        with_csrf: bool,
    ) -> Page {
        // The token travels in the query string, as the page's form action
        // sends it, so the server checks it before reading the file.
        let mut form = reqwest::blocking::multipart::Form::new();
        let path = if with_csrf {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}csrf_token={}", self.csrf(form_page))
        } else {
            path.to_string()
        };
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(filename.to_string()),
        );
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .unwrap();
        page(r)
    }

    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, r.bytes().unwrap().to_vec())
    }

    /// POST a raw body with extra headers (the survey page's queued requests).
    pub fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Page {
        let mut rb = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .body(body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        page(rb.send().unwrap())
    }

    pub fn login(&self, username: &str) {
        self.login_with(username, PASSWORD);
    }

    pub fn login_with(&self, username: &str, password: &str) {
        let p = self.submit(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        );
        assert_eq!(p.status, 303, "login {username}: {}", p.body);
    }
}

fn page(r: reqwest::blocking::Response) -> Page {
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cache = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Page {
        status,
        location,
        cache,
        body: r.text().unwrap(),
    }
}

/// Count rows in a table, straight from the database.
pub fn count(conn: &mut DbConn, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // The audit trail also records who logged in and who read personal
    // data; "nothing was written" means no change was recorded.
    let filter = if table == "audit_log" {
        " WHERE action NOT IN ('login', 'login_failed', 'lockout', 'logout', 'read', 'export', 'search', 'self_lookup')"
    } else {
        ""
    };
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}{filter}"))
        .get_result::<N>(conn)
        .unwrap()
        .n
}

/// The real `guobao serve` in its own process (port 0), for what only a
/// process can show: a restart, `kill -9`, settings from the environment.
pub struct ServerProcess {
    child: std::process::Child,
    pub address: String,
    /// What the server printed before it said where it listens.
    pub startup_output: String,
    _photos: tempfile::TempDir,
}

impl ServerProcess {
    /// `guobao --database-url URL serve --bind 127.0.0.1:0 [extra...]` with `env`.
    pub fn start(url: &str, extra: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::start_with_stderr(url, extra, env, std::process::Stdio::null())
    }

    /// The same, with the server's log (stderr) going to `stderr`.
    pub fn start_with_stderr(
        url: &str,
        extra: &[&str],
        env: &[(&str, &str)],
        stderr: std::process::Stdio,
    ) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        // Photos in a directory of the test's own unless the test names one
        // (PostgreSQL's default, data/photos, would be the source tree's).
        let photos = tempfile::tempdir().expect("tempdir");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
            .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .env("GUOBAO_PHOTO_STORE", photos.path())
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut startup_output = String::new();
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
            startup_output.push_str(&line);
            startup_output.push('\n');
        };
        ServerProcess {
            child,
            address,
            startup_output,
            _photos: photos,
        }
    }

    /// A bearer token for `username`.
    pub fn token(&self, username: &str, password: &str) -> String {
        let v: Value = Client::new()
            .post(format!("{}/api/v1/session", self.address))
            .json(&json!({"username": username, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login {username}: {v}"))
            .to_string()
    }

    /// SIGKILL: nothing gets the chance to flush or commit on the way out.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One roster row: 姓名, 身份证号, 电话, 村, 地块编号, 面积 (亩); every row is 早实,
/// tree age 8, 300 fruit per tree, 40 trees (eligible).
pub type RosterRow<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, f64);

/// A roster workbook with `rows`, saved as `dir/name`; returns its path.
pub fn roster_file(dir: &std::path::Path, name: &str, rows: &[RosterRow]) -> String {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let headers = [
        "姓名",
        "身份证号",
        "联系电话",
        "村",
        "地块编号",
        "品种",
        "树龄",
        "单株挂果数",
        "株数",
        "面积(亩)",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (n, id, phone, village, code, mu)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, t) in [n, id, phone, village, code, &"早实"].iter().enumerate() {
            ws.write_string(r, c as u16, **t).unwrap();
        }
        for (c, v) in [8.0, 300.0, 40.0, *mu].iter().enumerate() {
            ws.write_number(r, c as u16 + 6, *v).unwrap();
        }
    }
    let path = dir.join(name);
    wb.save(&path).unwrap();
    path.display().to_string()
}
