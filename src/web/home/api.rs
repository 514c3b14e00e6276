//! `/api/v1/session` (a bearer token for a user name and password) and `/api/v1/me`.

use crate::app::auth;
use crate::web::api::{ok, Data, Reply};
use crate::web::session::ApiUser;
use actix_web::web;
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/session", web::post().to(login))
        .route("/me", web::get().to(me));
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(state: Data, body: web::Json<LoginBody>) -> Reply {
    let body = body.into_inner();
    let (token, actor) = state
        .run(move |c| {
            let actor = auth::authenticate(c, &body.username, &body.password)?;
            Ok((auth::issue_token(c, &actor)?, actor))
        })
        .await?;
    ok(json!({ "token": token, "user": actor }))
}

async fn me(user: ApiUser) -> Reply {
    ok(user.0)
}
