//! One binary, two databases: the URL scheme picks SQLite or PostgreSQL.

pub mod areas;
pub mod audit_chain;
pub mod checks;
pub mod claims;
pub mod enrollment;
pub mod finance;
pub mod inspection;
pub mod models;
pub mod notices;
pub mod photos;
pub mod policies;
pub mod provision;
pub mod schema;
pub mod scope;
pub mod stored;
pub mod types;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The connection pool and what it has seen of the database: whether the
/// last attempt to reach it failed, and how long requests waited for a
/// connection (for `/metrics`). Derefs to the r2d2 pool, so `pool.get()`
/// works as before; request handlers take [`Pool::checkout`].
#[derive(Clone, Debug)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    watch: Arc<Watch>,
    url: Arc<str>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

/// How long a request waits for a connection while the database is known
/// to be unreachable: long enough to notice it has come back, short enough
/// that a page answers "数据库暂时无法连接" at once instead of after 30 s.
pub const DOWN_WAIT: Duration = Duration::from_secs(1);

impl Pool {
    /// The database URL the pool connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the pool has seen (database reachable, waits, time-outs).
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// A connection for a request. While the last attempt to reach the
    /// database failed, wait at most [`DOWN_WAIT`] and answer
    /// `database_unavailable`; otherwise wait up to [`POOL_WAIT`] and answer
    /// `busy` when every connection stayed taken.
    pub fn checkout(&self) -> Result<PooledConn, crate::error::AppError> {
        // In slices of DOWN_WAIT, so that a request already waiting when the
        // database goes away is answered as soon as the pool finds out.
        let started = std::time::Instant::now();
        loop {
            let waited = started.elapsed();
            let slice = DOWN_WAIT.min(POOL_WAIT.saturating_sub(waited));
            match self.inner.get_timeout(slice) {
                Ok(conn) => return Ok(conn),
                Err(e) if self.watch.is_down() => {
                    return Err(crate::error::AppError::Unavailable(e.to_string()))
                }
                Err(e) if waited + slice >= POOL_WAIT => {
                    self.watch.timeouts.fetch_add(1, Ordering::Relaxed);
                    return Err(crate::error::AppError::Pool(e.to_string()));
                }
                Err(_) => {}
            }
        }
    }
}

/// Shared by the pool's connection manager and event handler.
#[derive(Debug, Default)]
pub struct Watch {
    down: AtomicBool,
    /// Times the database became unreachable since start.
    outages: AtomicU64,
    checkouts: AtomicU64,
    /// Checkouts that had to wait for a connection (longer than 1 ms).
    waits: AtomicU64,
    wait_micros: AtomicU64,
    timeouts: AtomicU64,
}

impl Watch {
    /// The last attempt to reach the database failed.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    fn mark(&self, down: bool) {
        let was = self.down.swap(down, Ordering::Relaxed);
        if down && !was {
            self.outages.fetch_add(1, Ordering::Relaxed);
            log::error!("数据库无法连接，新的请求将立即得到503，恢复后自动重连");
        } else if was && !down {
            log::warn!("数据库已恢复连接");
        }
    }

    /// Counters for `/metrics`: (outages, checkouts, waits, seconds waited, time-outs).
    pub fn counters(&self) -> WatchCounters {
        WatchCounters {
            outages: self.outages.load(Ordering::Relaxed),
            checkouts: self.checkouts.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
            wait_seconds: self.wait_micros.load(Ordering::Relaxed) as f64 / 1e6,
            timeouts: self.timeouts.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WatchCounters {
    pub outages: u64,
    pub checkouts: u64,
    pub waits: u64,
    pub wait_seconds: f64,
    pub timeouts: u64,
}

#[derive(Debug)]
struct Events(Arc<Watch>);

impl r2d2::HandleEvent for Events {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        let w = &self.0;
        w.checkouts.fetch_add(1, Ordering::Relaxed);
        let waited = event.duration();
        if waited > Duration::from_millis(1) {
            w.waits.fetch_add(1, Ordering::Relaxed);
            w.wait_micros.fetch_add(
                u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Decide the backend from the URL ourselves: diesel's derived `establish`
/// tries each backend in turn, and a mistyped PostgreSQL URL would quietly
/// open a new SQLite file.
pub fn backend_of(url: &str) -> Backend {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// The file a SQLite URL names (`sqlite://path`, `sqlite:path` or a plain path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    lock_wait: Duration,
    watch: Arc<Watch>,
}

impl Manager {
    pub fn new(url: &str, lock_wait: Duration) -> Manager {
        Manager {
            url: url.to_string(),
            lock_wait,
            watch: Arc::default(),
        }
    }
}

/// Open a connection with the default lock wait ([`LOCK_WAIT`]).
pub fn establish(url: &str) -> Result<DbConn, diesel::r2d2::Error> {
    establish_with(url, LOCK_WAIT)
}

/// Open a connection whose writers wait at most `lock_wait` for a lock held
/// by someone else, then fail with an error that becomes a 503 (SQLite's
/// busy timeout; PostgreSQL's `lock_timeout`). Without a bound a PostgreSQL
/// writer stuck behind a forgotten lock would hold its pooled connection forever.
pub fn establish_with(url: &str, lock_wait: Duration) -> Result<DbConn, diesel::r2d2::Error> {
    let ms = lock_wait.as_millis().max(1);
    match backend_of(url) {
        Backend::Postgres => {
            let mut c = PgConnection::establish(&with_connect_timeout(url))
                .map_err(diesel::r2d2::Error::ConnectionError)?;
            c.batch_execute(&format!("SET lock_timeout = {ms}"))
                .map_err(diesel::r2d2::Error::QueryError)?;
            Ok(DbConn::Postgresql(c))
        }
        Backend::Sqlite => {
            let mut c = SqliteConnection::establish(sqlite_path(url))
                .map_err(diesel::r2d2::Error::ConnectionError)?;
            // diesel sets no pragmas; without foreign_keys SQLite ignores REFERENCES.
            // synchronous=FULL: in WAL mode NORMAL may lose the last commits on a
            // power cut, and a write answered 2xx must survive one.
            // Readers: a 16 MiB page cache per connection (the default is 2 MiB)
            // and the file memory-mapped up to 256 MiB, so a read of a page the
            // connection has not cached is a memory access, not a `pread` call.
            c.batch_execute(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {ms}; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA cache_size = -{SQLITE_CACHE_KIB}; PRAGMA mmap_size = 268435456;"
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
            Ok(DbConn::Sqlite(c))
        }
    }
}

/// The page cache of every SQLite connection, in KiB (SQLite's own default
/// is 2 MiB); a use case that sets another (the roster import) puts this back.
pub const SQLITE_CACHE_KIB: u32 = 16_384;

/// libpq waits for a TCP connection as long as the operating system lets
/// it (minutes, when a switch-over or a cable leaves packets unanswered).
/// A URL that does not say `connect_timeout` gets 5 s.
pub fn with_connect_timeout(url: &str) -> std::borrow::Cow<'_, str> {
    if url.contains("connect_timeout=") {
        return url.into();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_SECS}").into()
}

/// The URL as it may be printed or logged: a password in it replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// See [`with_connect_timeout`].
pub const PG_CONNECT_TIMEOUT_SECS: u32 = 5;

/// A pooled connection, and when it was last given back in good order.
pub struct Pooled {
    conn: DbConn,
    returned: Option<std::time::Instant>,
    lost: bool,
}

impl Pooled {
    fn new(conn: DbConn) -> Pooled {
        Pooled {
            conn,
            returned: None,
            lost: false,
        }
    }

    /// A statement on this connection was refused as `database_unavailable`:
    /// it is closed when given back, not handed to the next request
    /// unchecked. A connection the server dropped is closed anyway (libpq
    /// reports its transaction state unknown, so it is dirty); this also
    /// closes one that still answers but cannot serve, such as a connection
    /// to a server demoted to a read-only standby by a failover, so that the
    /// next connection is opened to wherever the URL now leads.
    pub fn mark_lost(&mut self) {
        self.lost = true;
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// A PostgreSQL connection given back in good order this recently is handed
/// out again without a `SELECT 1` first (HikariCP's "alive bypass window"
/// has the same 500 ms): under load that check was one of a policy read's
/// three round trips to the server. A connection whose statement found the
/// server gone is closed instead of given back ([`Pooled::mark_lost`],
/// [`is_dirty`]), and one idle for longer is checked as before.
pub const ALIVE_BYPASS: Duration = Duration::from_millis(500);

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let conn = establish_with(&self.url, self.lock_wait);
        self.watch.mark(conn.is_err());
        conn.map(Pooled::new)
    }

    /// On checkout: the connection holds no transaction that a previous user
    /// left open (its writes would never be committed) and, on PostgreSQL,
    /// still answers (the server may have restarted or dropped it) unless it
    /// was given back in good order within [`ALIVE_BYPASS`]. A SQLite
    /// connection is a file handle in this process: it cannot go away, and a
    /// `SELECT 1` per checkout would only cost time.
    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Self::Error> {
        if is_dirty(conn) {
            return Err(diesel::r2d2::Error::QueryError(
                diesel::result::Error::AlreadyInTransaction,
            ));
        }
        let recent = conn.returned.is_some_and(|at| at.elapsed() < ALIVE_BYPASS);
        match &mut conn.conn {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Postgresql(_) if recent => Ok(()),
            DbConn::Postgresql(c) => {
                let answered = c.batch_execute("SELECT 1");
                self.watch.mark(answered.is_err());
                answered.map_err(diesel::r2d2::Error::QueryError)
            }
        }
    }

    /// On return: a connection given back while its thread panics, with a
    /// transaction still open or in error, or after it found the server gone,
    /// is closed rather than pooled. Closing it rolls the open transaction
    /// back on both databases and, on SQLite, releases the write lock it may
    /// hold.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        let broken = std::thread::panicking() || conn.lost || is_dirty(conn);
        if !broken {
            conn.returned = Some(std::time::Instant::now());
        }
        broken
    }
}

/// True when diesel's transaction manager says a transaction is open or
/// broken on this connection.
pub fn is_dirty(conn: &mut DbConn) -> bool {
    use diesel::r2d2::R2D2Connection;
    conn.is_broken()
}

/// How long a request waits for a pooled connection before it is told the
/// server is busy (503 with Retry-After), rather than queueing forever.
pub const POOL_WAIT: Duration = Duration::from_secs(30);

/// How long a writer waits for a lock by default (`GUOBAO_LOCK_WAIT_MS`
/// changes it). On SQLite writers begin `IMMEDIATE`, so the wait happens at
/// `BEGIN`, where the busy handler can always help; a deferred reader
/// turning writer could not be saved by it.
pub const LOCK_WAIT: Duration = Duration::from_secs(20);

pub fn pool(url: &str, size: u32, lock_wait: Duration) -> Result<Pool, r2d2::Error> {
    let manager = Manager::new(url, lock_wait);
    let watch = manager.watch.clone();
    // `build` opens the connections before it returns: a command that
    // exits while the pool's threads are still connecting to PostgreSQL
    // can die by a signal in libpq's teardown. A database that is not
    // there at all was already reported by `provision::ensure_database`.
    let inner = r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(POOL_WAIT)
        .test_on_check_out(true)
        .event_handler(Box::new(Events(watch.clone())))
        .build(manager)?;
    Ok(Pool {
        inner,
        watch,
        url: url.into(),
    })
}

pub fn backend(conn: &DbConn) -> Backend {
    match conn {
        DbConn::Postgresql(_) => Backend::Postgres,
        DbConn::Sqlite(_) => Backend::Sqlite,
    }
}

/// Run pending migrations; returns how many ran.
pub fn migrate(conn: &mut DbConn) -> Result<usize, String> {
    let ran = match conn {
        DbConn::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    let ran = ran.map_err(|e| format!("数据库迁移失败：{e}"))?;
    // Rows written before the audit chain existed are chained once.
    audit_chain::chain_existing(conn).map_err(|e| format!("审计日志建链失败：{e}"))?;
    Ok(ran)
}

/// Migrations this binary has that the database has not run (`/readyz`).
pub fn pending_migrations(conn: &mut DbConn) -> Result<usize, String> {
    let pending = match conn {
        DbConn::Postgresql(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    pending.map_err(|e| e.to_string())
}

/// UTC timestamp as stored: ISO 8601 text sorts in time order on both backends.
pub fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Multi-row INSERT. diesel's MultiConnection can't express batch inserts,
/// so the statement is built for the concrete connection underneath.
#[macro_export]
macro_rules! bulk_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConn::Postgresql(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    };
}

/// Bind parameters one SQLite statement may carry (SQLITE_MAX_VARIABLE_NUMBER
/// of the bundled SQLite, 3.32 and later).
pub const SQLITE_MAX_VARIABLES: usize = 32_766;

/// Write many rows of one table as fast as each backend allows: PostgreSQL
/// gets them in one binary `COPY ... FROM STDIN`; SQLite in multi-row INSERTs
/// as large as its bind-parameter limit allows. `$rows` is a `Vec` of flat
/// tuples of `column.eq(value)` naming every column but the id, `$columns`
/// their number. Evaluates to `QueryResult<usize>` (rows written).
#[macro_export]
macro_rules! bulk_copy {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::DbConn::Postgresql(c) => {
                diesel::copy_from($table).from_insertable(rows).execute(c)
            }
            $crate::db::DbConn::Sqlite(c) => {
                let per = ($crate::db::SQLITE_MAX_VARIABLES / $columns).max(1);
                let mut rows = rows.into_iter();
                let mut written = 0;
                loop {
                    let chunk: Vec<_> = rows.by_ref().take(per).collect();
                    if chunk.is_empty() {
                        break Ok(written);
                    }
                    match diesel::insert_into($table).values(chunk).execute(c) {
                        Ok(n) => written += n,
                        Err(e) => break Err(e),
                    }
                }
            }
        }
    }};
}

/// Update many rows of `target` with one statement: `fill` writes the new
/// values into the temporary table `temp` (created here with `columns`, its
/// first column `id`) with `bulk_copy!`, then one `UPDATE ... FROM` joins it
/// on id — one statement for any number of rows, on both databases (SQLite
/// has `UPDATE ... FROM` since 3.33). Every column but `id` is set from the
/// temporary table. Returns the rows updated.
pub fn update_from(
    conn: &mut DbConn,
    target: &str,
    temp: &str,
    columns: &[(&str, &str)],
    fill: impl FnOnce(&mut DbConn) -> QueryResult<usize>,
) -> QueryResult<usize> {
    let ddl: Vec<String> = columns.iter().map(|(c, t)| format!("{c} {t}")).collect();
    // Qualified, so a stored table of the same name is never dropped.
    let qualified = match backend(conn) {
        Backend::Sqlite => format!("temp.{temp}"),
        Backend::Postgres => format!("pg_temp.{temp}"),
    };
    conn.batch_execute(&format!(
        "DROP TABLE IF EXISTS {qualified}; CREATE TEMPORARY TABLE {temp} ({})",
        ddl.join(", ")
    ))?;
    fill(conn)?;
    let set: Vec<String> = columns
        .iter()
        .filter(|(c, _)| *c != "id")
        .map(|(c, _)| format!("{c} = t.{c}"))
        .collect();
    let n = diesel::sql_query(format!(
        "UPDATE {target} SET {} FROM {temp} AS t WHERE {target}.id = t.id",
        set.join(", ")
    ))
    .execute(conn)?;
    conn.batch_execute(&format!("DROP TABLE {qualified}"))?;
    Ok(n)
}

/// The ids of the `n` rows `bulk_copy!` has just written to `table`, in the
/// order written, when SQLite can tell without reading the rows back: inside
/// a write transaction nobody else inserts, and each new row gets the next
/// rowid, so the rows are the last `n` ids — checked by counting them.
/// `None` on PostgreSQL (other sessions draw from the same sequence) or when
/// the check fails; the caller then reads the rows back.
pub fn sqlite_written_ids(
    conn: &mut DbConn,
    table: &str,
    n: usize,
) -> QueryResult<Option<std::ops::RangeInclusive<i64>>> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        last: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let (DbConn::Sqlite(c), Ok(count)) = (conn, i64::try_from(n)) else {
        return Ok(None);
    };
    if count == 0 {
        return Ok(None);
    }
    let last: Option<i64> =
        diesel::sql_query(format!("SELECT MAX(id) AS last, 0 AS n FROM {table}"))
            .get_result::<Last>(c)?
            .last;
    let Some(last) = last else {
        return Ok(None);
    };
    let first = last - count + 1;
    let found = diesel::sql_query(format!(
        "SELECT NULL AS last, COUNT(*) AS n FROM {table} WHERE id >= {first}"
    ))
    .get_result::<Last>(c)?
    .n;
    Ok((found == count).then_some(first..=last))
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn a_password_never_reaches_the_log() {
        assert_eq!(
            super::redacted("postgres://guobao:s3cr:et@db:5432/g?sslmode=require"),
            "postgres://guobao:***@db:5432/g?sslmode=require"
        );
        assert_eq!(
            super::redacted("postgres://guobao@db/g"),
            "postgres://guobao@db/g"
        );
        assert_eq!(super::redacted("sqlite://data/g.db"), "sqlite://data/g.db");
        assert_eq!(super::redacted("g.db"), "g.db");
    }
}
