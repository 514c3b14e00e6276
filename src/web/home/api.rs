//! `/api/v1/session` (a bearer token for a user name and password; DELETE
//! revokes the token used), `/api/v1/password` (change a password, also the
//! way in for an account that must change its password first) and
//! `/api/v1/me`.

use crate::app::{accounts, auth};
use crate::error::{AppError, ErrorCode};
use crate::web::api::{ok, Data, Reply};
use crate::web::session::{bearer_token, client_addr, ApiUser};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/session", web::post().to(login))
        .route("/session", web::delete().to(logout))
        .route("/password", web::post().to(change_password))
        .route("/me", web::get().to(me));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
    /// A shorter life than the server's token lifetime, in minutes.
    expires_in_minutes: Option<i64>,
}

async fn login(state: Data, req: HttpRequest, body: web::Json<LoginBody>) -> Reply {
    let body = body.into_inner();
    let max = chrono::Duration::from_std(state.security.token_lifetime)
        .unwrap_or(chrono::Duration::days(30));
    let lifetime = match body.expires_in_minutes {
        None => max,
        Some(m) if m >= 1 && chrono::Duration::minutes(m) <= max => chrono::Duration::minutes(m),
        Some(_) => {
            return Err(AppError::invalid(
                "expires_in_minutes",
                ErrorCode::QueryInvalid,
                format!("令牌有效期应在1到{}分钟之间", max.num_minutes()),
            ))
        }
    };
    let client = client_addr(&req);
    let (security, now) = (state.security, state.clock.now());
    let (issued, actor) = state
        .run(move |c| {
            let attempt = auth::Attempt {
                username: &body.username,
                password: &body.password,
                client: client.as_deref(),
                now,
            };
            let done = auth::log_in(c, &security, &attempt)?;
            if done.must_change_password {
                return Err(AppError::conflict(
                    ErrorCode::PasswordChangeRequired,
                    "首次登录或密码被重置后须先修改密码：请在网页上修改，或调用 POST /api/v1/password",
                ));
            }
            Ok((auth::issue_token(c, &done.actor, now, lifetime)?, done.actor))
        })
        .await?;
    ok(json!({ "token": issued.token, "expires_at": issued.expires_at, "user": actor }))
}

/// Revoke the token this request carries: 204, and the token is dead.
async fn logout(state: Data, req: HttpRequest, user: ApiUser) -> Reply {
    let token = bearer_token(&req).unwrap_or_default();
    let actor = user.0;
    state
        .run(move |c| auth::revoke_token(c, &actor, &token))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    username: String,
    password: String,
    new_password: String,
}

/// Change a password with the current one (under the login throttle). Every
/// session and token of the account ends; log in again with the new one.
async fn change_password(state: Data, req: HttpRequest, body: web::Json<PasswordBody>) -> Reply {
    let body = body.into_inner();
    let client = client_addr(&req);
    let (security, now) = (state.security, state.clock.now());
    state
        .run(move |c| {
            let attempt = auth::Attempt {
                username: &body.username,
                password: &body.password,
                client: client.as_deref(),
                now,
            };
            let done = auth::log_in(c, &security, &attempt)?;
            accounts::change_own_password(c, &done.actor, &body.password, &body.new_password)
        })
        .await?;
    ok(json!({ "changed": true, "message": "密码已修改，请用新密码重新登录" }))
}

async fn me(user: ApiUser) -> Reply {
    ok(user.0)
}
