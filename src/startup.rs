//! Builds the HTTP server. Tests bind port 0 and read back the port.

use crate::db::{self, Pool};
use crate::web::{self, AppState};
use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::body::BoxBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web as aweb, App, HttpServer};
use futures_util::FutureExt;
use std::net::TcpListener;

#[derive(Clone)]
pub struct Settings {
    /// Signs and encrypts the session cookie; random per start when not set
    /// (everyone must log in again after a restart).
    pub secret_key: Option<Vec<u8>>,
    /// Send cookies only over HTTPS, and say `Strict-Transport-Security`
    /// (see [`Settings::for_listener`]).
    pub secure_cookies: bool,
    /// Session and token lifetimes, login throttling.
    pub security: crate::config::Security,
    /// What "now" is for claim deadlines; tests set it by hand.
    pub clock: crate::app::clock::Clock,
    /// Upload sizes.
    pub limits: crate::config::Limits,
    /// Worker and blocking thread counts (`None`: the defaults below).
    pub tuning: crate::config::ServerTuning,
    /// Where photo bytes go (`PhotoStore::open`); `None` keeps them in
    /// memory only, for tests that send no photos.
    pub photos: Option<crate::photo_store::PhotoStore>,
    /// `/metrics` token, disk threshold for `/readyz`, backup root.
    pub ops: crate::config::Ops,
}

impl Settings {
    /// Secure cookies unless configured otherwise or, when not configured,
    /// the server listens on a loopback address only (a desk machine or a
    /// test, reached over plain `http://localhost`). Any other address is
    /// reached over the network, where the cookie must not travel in clear.
    pub fn for_listener(
        mut self,
        config: &crate::config::Config,
        addr: std::net::SocketAddr,
    ) -> Settings {
        self.secure_cookies = config.secure_cookies.unwrap_or(!addr.ip().is_loopback());
        self
    }

    /// The server's settings from the start-up configuration, on the real clock.
    pub fn from_config(config: &crate::config::Config) -> Settings {
        Settings {
            secret_key: config.secret_key.clone(),
            secure_cookies: config.secure_cookies.unwrap_or(true),
            security: config.security,
            clock: crate::app::clock::Clock::system(),
            limits: config.limits,
            tuning: config.server,
            photos: None,
            ops: config.ops.clone(),
        }
    }
}

/// Threads per HTTP worker that run use cases (`web::block`). actix's own
/// default is 512 divided among the workers: under 200 concurrent requests
/// that is about 200 threads, nearly all of them parked on the connection
/// pool, each wake-up a context switch and each thread its own malloc
/// arena. A few more threads than connections keep every connection busy;
/// more only add switching. Non-database work (photo decoding, geometry,
/// reading a roster) runs on these threads too, hence the margin.
pub const BLOCKING_THREADS: usize = 8;

/// Pooled connections per backend when `GUOBAO_POOL_SIZE` is not set.
pub fn default_pool_size(backend: db::Backend) -> u32 {
    match backend {
        db::Backend::Sqlite => 4,
        db::Backend::Postgres => 10,
    }
}

/// Open a pool and bring the schema up to date; writers wait the default
/// time for a lock ([`db::LOCK_WAIT`]).
pub fn prepare_database(url: &str) -> Result<Pool, String> {
    prepare_database_with(url, db::LOCK_WAIT)
}

/// The same, with writers waiting at most `lock_wait` for a lock.
pub fn prepare_database_with(url: &str, lock_wait: std::time::Duration) -> Result<Pool, String> {
    prepare_database_sized(url, lock_wait, None)
}

/// The same, with `size` pooled connections (else [`default_pool_size`]).
pub fn prepare_database_sized(
    url: &str,
    lock_wait: std::time::Duration,
    size: Option<u32>,
) -> Result<Pool, String> {
    let size = size.unwrap_or_else(|| default_pool_size(db::backend_of(url)));
    if let db::provision::Provisioned::Created(name) = db::provision::ensure_database(url)? {
        log::info!("已创建PostgreSQL数据库“{name}”");
    }
    let pool = db::pool(url, size, lock_wait)
        .map_err(|e| format!("无法连接数据库 {}：{e}", db::redacted(url)))?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("无法连接数据库 {}：{e}", db::redacted(url)))?;
    db::migrate(&mut conn)?;
    Ok(pool)
}

/// A panic in a handler (outside `AppState::run`, which has its own guard)
/// would kill the worker and reset the connection: answer a 500 with the
/// project's JSON error instead. It is returned as an error, not a response,
/// because the request itself went into the handler that panicked; actix
/// renders it through `AppError::error_response`.
fn catch_panic<S>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
{
    let call = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| srv.call(req)));
    async move {
        let panic = match call {
            Ok(fut) => match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
                Ok(res) => return res,
                Err(p) => p,
            },
            Err(p) => p,
        };
        Err(crate::error::AppError::Panicked(web::panic_message(&panic)).into())
    }
}

pub fn run(pool: Pool, listener: TcpListener, settings: Settings) -> std::io::Result<Server> {
    let key = match &settings.secret_key {
        Some(k) => Key::derive_from(k),
        None => Key::generate(),
    };
    let mut state = AppState::with_clock(pool, settings.clock.clone());
    state.limits = settings.limits;
    state.security = settings.security;
    if let Some(photos) = settings.photos.clone() {
        state.photos = photos;
    }
    state.ops = settings.ops.clone();
    let hsts = settings.secure_cookies;
    let state = aweb::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap_fn(catch_panic)
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_name("guobao_session".into())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_secure(settings.secure_cookies)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
            )
            .wrap(actix_web::middleware::Condition::new(
                hsts,
                DefaultHeaders::new().add((
                    "Strict-Transport-Security",
                    "max-age=31536000; includeSubDomains",
                )),
            ))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin"))
                    // Pages and answers hold personal data (ID numbers, bank
                    // accounts): the browser keeps no copy to show after
                    // logout or to the next person at a shared desk. What
                    // may be kept says so itself (static files, photos, the
                    // tablet scripts); DefaultHeaders leaves those alone.
                    .add(("Cache-Control", "no-store"))
                    .add((
                        "Content-Security-Policy",
                        "default-src 'self'; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data: blob:",
                    )),
            )
            // Outermost: the request id, the log line and the metrics see
            // every answer, the guards' errors included.
            .wrap_fn(web::observe::call)
            .app_data(state.clone())
            // Any JSON body outside the API's own settings: refused in the
            // project's error shape, never an empty 400/413.
            .app_data(web::json_config(2 * 1024 * 1024))
            .configure(web::configure)
    });
    let server = match settings.tuning.workers {
        Some(n) => server.workers(n),
        None => server,
    };
    let server = server
        .worker_max_blocking_threads(settings.tuning.blocking_threads.unwrap_or(BLOCKING_THREADS))
        .listen(listener)?
        .run();
    Ok(server)
}
