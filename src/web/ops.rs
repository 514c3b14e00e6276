//! `/healthz`, `/readyz` and `/metrics`: what a load balancer, a monitoring
//! server and the person on call ask the server.

use crate::domain::access::Role;
use crate::web::session::{bearer_token, PageUser};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// The process is alive and answering; nothing else is looked at (a load
/// balancer restarts on this, and a database outage is no reason to).
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": state.started.elapsed().as_secs(),
        }))
}

/// Ready to serve: every check in `ops::ready::standard`; 503 when one fails.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let r = crate::ops::ready::standard(&state).await;
    let mut reply = if r.ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    reply.insert_header(("Cache-Control", "no-store")).json(r)
}

/// Equal tokens, compared through their digests (no early exit on the
/// first differing byte of the secret).
fn same_token(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

/// Who may read the metrics: the scrape token, an administrator's session
/// or an administrator's API token.
async fn allowed(req: &HttpRequest, state: &web::Data<AppState>, user: &PageUser) -> bool {
    if user.0.as_ref().is_some_and(|a| a.role == Role::Admin) {
        return true;
    }
    let Some(token) = bearer_token(req) else {
        return false;
    };
    if let Some(expected) = &state.ops.metrics_token {
        if same_token(&token, expected) {
            return true;
        }
    }
    let now = state.clock.now();
    let actor = state
        .run(move |c| crate::app::auth::actor_by_token(c, &token, now))
        .await;
    matches!(actor, Ok(Some(a)) if a.role == Role::Admin)
}

async fn metrics(req: HttpRequest, state: web::Data<AppState>, user: PageUser) -> HttpResponse {
    if !allowed(&req, &state, &user).await {
        let status = if user.0.is_some() || bearer_token(&req).is_some() {
            actix_web::http::StatusCode::FORBIDDEN
        } else {
            actix_web::http::StatusCode::UNAUTHORIZED
        };
        return HttpResponse::build(status).json(serde_json::json!({
            "error": if status.as_u16() == 401 { "unauthenticated" } else { "forbidden" },
            "message": "只有系统管理员或配置的监控令牌（GUOBAO_METRICS_TOKEN）可以读取运行指标",
            "request_id": crate::web::observe::request_id(),
        }));
    }
    let (now, today) = (state.clock.now(), state.clock.today());
    // The claim figures need the database; without it the rest still answers.
    let claims = if state.pool.watch().is_down() {
        None
    } else {
        state
            .run(move |c| Ok(crate::ops::metrics::ClaimFigures::read(c, now, today)?))
            .await
            .ok()
    };
    let root = state.ops.backup_dir.clone();
    let last_backup = web::block(move || crate::ops::metrics::last_backup_time(&root))
        .await
        .ok()
        .flatten();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(state.metrics.render(&state.pool, claims, last_backup))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_by_value() {
        assert!(super::same_token("abcdefghijklmnop", "abcdefghijklmnop"));
        assert!(!super::same_token("abcdefghijklmnoq", "abcdefghijklmnop"));
        assert!(!super::same_token("", "abcdefghijklmnop"));
    }
}
