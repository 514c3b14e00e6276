//! Who is asking: a session cookie for pages (with a CSRF token per session),
//! a bearer token for the API.
//!
//! The page cookie (signed and encrypted by actix-session) holds the CSRF
//! token, a flash message and, once logged in, the key of a server-side
//! session (`app::sessions`): the server decides on every request whether
//! that session still lives, so logging out, expiry, a password or role
//! change and deactivation all end it, whatever copy of the cookie exists.

use super::AppState;
use crate::app::Actor;
use crate::error::AppError;
use actix_session::Session;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use rand::RngCore;
use std::future::Future;
use std::pin::Pin;

const SESSION_KEY: &str = "sid";
const CSRF_KEY: &str = "csrf";

/// The CSRF token of this session, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(CSRF_KEY) {
        return t;
    }
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let t = hex::encode(bytes);
    // A failed insert only means a fresh token next time; forms then fail
    // closed, which is the safe direction.
    let _ = session.insert(CSRF_KEY, &t);
    t
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Every form carries `csrf_token`; it must match the session's.
pub fn check_csrf(session: &Session, submitted: Option<&String>) -> Result<(), AppError> {
    match (session.get::<String>(CSRF_KEY).ok().flatten(), submitted) {
        (Some(expected), Some(got)) if constant_time_eq(expected.as_bytes(), got.as_bytes()) => {
            Ok(())
        }
        _ => Err(AppError::Csrf),
    }
}

/// Put the key of a server-side session (`app::sessions::start`) into the
/// cookie. The cookie is renewed and the CSRF token replaced, which prevents
/// session fixation.
pub fn log_in(session: &Session, key: &str) -> Result<(), AppError> {
    session.renew();
    session.remove(CSRF_KEY);
    session
        .insert(SESSION_KEY, key)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(())
}

/// End the server-side session and empty the cookie.
pub async fn log_out(state: &AppState, session: &Session) {
    if let Some(key) = session.get::<String>(SESSION_KEY).ok().flatten() {
        if let Err(e) = state.run(move |c| crate::app::sessions::end(c, &key)).await {
            log::warn!("退出登录时删除会话失败：{e}");
        }
    }
    session.purge();
}

/// The peer address of a request, kept on the actor for the audit trail.
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// A logged-in person on a page, and whether they must change their password
/// before anything else. No person: the page handler redirects to /login.
pub struct PageUser(pub Option<Actor>, pub bool);

impl FromRequest for PageUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<PageUser, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = Session::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let client = client_addr(req);
        Box::pin(async move {
            let (Ok(session), Some(state)) = (session, state) else {
                return Ok(PageUser(None, false));
            };
            let Some(key) = session.get::<String>(SESSION_KEY).ok().flatten() else {
                return Ok(PageUser(None, false));
            };
            let (security, now) = (state.security, state.clock.now());
            let user = state
                .run(move |c| crate::app::sessions::user_of(c, &security, &key, now))
                .await?;
            if let Some(u) = &user {
                crate::web::observe::set_user(u.actor.user_id);
            }
            match user {
                Some(u) => Ok(PageUser(
                    Some(u.actor.from_client(client)),
                    u.must_change_password,
                )),
                None => {
                    session.purge();
                    Ok(PageUser(None, false))
                }
            }
        })
    }
}

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("Authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// An API caller authenticated by `Authorization: Bearer <token>`.
pub struct ApiUser(pub Actor);

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiUser, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let client = client_addr(req);
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(AppError::Unauthenticated);
            };
            let now = state.clock.now();
            let actor = state
                .run(move |c| crate::app::auth::actor_by_token(c, &token, now))
                .await?;
            if let Some(a) = &actor {
                crate::web::observe::set_user(a.user_id);
            }
            actor
                .map(|a| ApiUser(a.from_client(client)))
                .ok_or(AppError::Unauthenticated)
        })
    }
}

/// An API request with a bearer token, whose caller is looked up in the same
/// blocking call, on the same pooled connection, as the use case it runs:
/// one trip to the blocking pool and one connection checkout per request
/// instead of two. The token is checked against the database on every
/// request (nothing is cached, so a revoked token stops working at once).
/// No token at all is refused before anything else; an unknown or expired
/// one when the use case would run. Handlers that must know the caller
/// before they read a body (uploads) take [`Caller`] instead.
pub struct Bearer {
    pub state: web::Data<AppState>,
    token: String,
    client: Option<String>,
}

impl FromRequest for Bearer {
    type Error = AppError;
    type Future = std::future::Ready<Result<Bearer, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        std::future::ready(match (bearer_token(req), state) {
            (Some(token), Some(state)) => Ok(Bearer {
                state,
                token,
                client: client_addr(req),
            }),
            _ => Err(AppError::Unauthenticated),
        })
    }
}

impl Bearer {
    /// Run a use case as the token's user (401 when the token is not valid).
    pub async fn run<T, F>(&self, f: F) -> crate::error::AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::db::DbConn, &Actor) -> crate::error::AppResult<T> + Send + 'static,
    {
        let token = self.token.clone();
        let client = self.client.clone();
        let now = self.state.clock.now();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        let user = seen.clone();
        let out = self
            .state
            .run(move |c| {
                let actor = crate::app::auth::actor_by_token(c, &token, now)?
                    .ok_or(AppError::Unauthenticated)?
                    .from_client(client);
                user.store(actor.user_id, std::sync::atomic::Ordering::Relaxed);
                f(c, &actor)
            })
            .await;
        match seen.load(std::sync::atomic::Ordering::Relaxed) {
            0 => {}
            id => crate::web::observe::set_user(id),
        }
        out
    }
}

/// An API request from an authenticated caller: the state and the actor,
/// looked up before the handler runs.
pub struct Caller {
    pub state: web::Data<AppState>,
    pub actor: Actor,
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = ApiUser::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let actor = user.await?.0;
            let state = state.ok_or(AppError::Unauthenticated)?;
            Ok(Caller { state, actor })
        })
    }
}

impl Caller {
    /// Run a use case as the caller.
    pub async fn run<T, F>(&self, f: F) -> crate::error::AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::db::DbConn, &Actor) -> crate::error::AppResult<T> + Send + 'static,
    {
        self.state.run_as(&self.actor, f).await
    }
}
