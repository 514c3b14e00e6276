//! `/api/v1/users`: the admin lists, creates, unlocks, resets, deactivates
//! accounts and lists and revokes their API tokens.

use super::create_with_temp;
use crate::app::accounts;
use crate::error::AppError;
use crate::web::api::{created, ok, Reply};
use crate::web::session::Bearer;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(api_list))
        .route("/users", web::post().to(api_create))
        .route("/users/{id}", web::get().to(api_show))
        .route("/users/{id}/tokens", web::get().to(api_tokens))
        .route("/users/{id}/tokens", web::delete().to(api_revoke_all))
        .route(
            "/users/{id}/tokens/{token_id}",
            web::delete().to(api_revoke_one),
        )
        .route("/users/{id}/unlock", web::post().to(api_unlock))
        .route("/users/{id}/reset-password", web::post().to(api_reset))
        .route("/users/{id}/active", web::post().to(api_active));
}

async fn api_list(api: Bearer) -> Reply {
    let now = api.state.clock.now();
    ok(api.run(move |c, a| accounts::list(c, a, now)).await?)
}

async fn api_show(api: Bearer, id: web::Path<i64>) -> Reply {
    let (id, now) = (id.into_inner(), api.state.clock.now());
    ok(api.run(move |c, a| accounts::show(c, a, id, now)).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    display_name: Option<String>,
    role: String,
    township: Option<String>,
}

async fn api_create(api: Bearer, body: web::Json<NewUserBody>) -> Reply {
    let b = body.into_inner();
    let now = api.state.clock.now();
    let (account, temp) = api
        .run(move |c, a| {
            let (u, temp) = create_with_temp(
                c,
                a,
                &b.username,
                b.display_name.as_deref().unwrap_or(""),
                &b.role,
                b.township.as_deref().unwrap_or(""),
            )?;
            Ok((accounts::show(c, a, u.id, now)?, temp))
        })
        .await?;
    created(json!({"user": account, "temporary_password": temp}))
}

async fn api_tokens(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    ok(api.run(move |c, a| accounts::tokens(c, a, id)).await?)
}

async fn api_revoke_all(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let n = api
        .run(move |c, a| accounts::revoke_tokens(c, a, id, None))
        .await?;
    ok(json!({"revoked": n}))
}

async fn api_revoke_one(api: Bearer, path: web::Path<(i64, i64)>) -> Reply {
    let (id, token_id) = path.into_inner();
    let n = api
        .run(move |c, a| accounts::revoke_tokens(c, a, id, Some(token_id)))
        .await?;
    if n == 0 {
        return Err(AppError::not_found("有效的API令牌"));
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn api_unlock(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let lifted = api.run(move |c, a| accounts::unlock(c, a, id)).await?;
    ok(json!({"unlocked": lifted}))
}

async fn api_reset(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let temp = api
        .run(move |c, a| accounts::reset_password(c, a, id))
        .await?;
    ok(json!({"temporary_password": temp, "must_change_password": true}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActiveBody {
    active: bool,
}

async fn api_active(api: Bearer, id: web::Path<i64>, body: web::Json<ActiveBody>) -> Reply {
    let (id, active) = (id.into_inner(), body.active);
    let now = api.state.clock.now();
    ok(api
        .run(move |c, a| {
            accounts::set_active(c, a, id, active)?;
            accounts::show(c, a, id, now)
        })
        .await?)
}
