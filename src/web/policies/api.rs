//! `/api/v1/policies` (list, read, collect, issue, cancel) and `/api/v1/batches`.

use crate::app::{batches, policies};
use crate::error::ErrorCode;
use crate::web::api::{created, ok, one_of, Data, Reply};
use crate::web::session::ApiUser;
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies", web::get().to(list_policies))
        .route("/policies/{id}", web::get().to(get_policy))
        .route("/policies/{id}/collect", web::post().to(collect_policy))
        .route("/policies/{id}/issue", web::post().to(issue_policy))
        .route("/policies/{id}/cancel", web::post().to(cancel_policy))
        .route("/batches", web::get().to(list_batches))
        .route("/batches", web::post().to(create_batch));
}

async fn list_policies(state: Data, user: ApiUser, f: web::Query<policies::PolicyFilter>) -> Reply {
    let actor = user.0;
    let f = f.into_inner();
    one_of(
        "status",
        ErrorCode::StatusInvalid,
        f.status.as_deref(),
        &policies::STATUSES,
    )?;
    ok(state.run(move |c| policies::list(c, &actor, &f)).await?)
}

async fn get_policy(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state
        .run(move |c| policies::get_view(c, &actor, id))
        .await?)
}

#[derive(Deserialize)]
struct CollectBody {
    collected_on: String,
}

async fn collect_policy(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<CollectBody>,
) -> Reply {
    let actor = user.0;
    let (id, date) = (id.into_inner(), body.into_inner().collected_on);
    let today = state.clock.today();
    ok(state
        .run(move |c| policies::collect(c, &actor, id, &date, today))
        .await?)
}

async fn issue_policy(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| policies::issue(c, &actor, id)).await?)
}

async fn cancel_policy(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| policies::cancel(c, &actor, id)).await?)
}

async fn list_batches(state: Data, user: ApiUser) -> Reply {
    let actor = user.0;
    ok(state.run(move |c| batches::list(c, &actor)).await?)
}

/// The body of a new batch. `batches::BatchInput` has the same fields; this
/// struct stays because its name is part of the 422 message for a body of
/// the wrong shape ("expected struct BatchBody").
#[derive(Deserialize)]
struct BatchBody {
    #[serde(default)]
    township_code: String,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    receipt_no: String,
    #[serde(default)]
    handed_over_on: String,
}

async fn create_batch(state: Data, user: ApiUser, body: web::Json<BatchBody>) -> Reply {
    let actor = user.0;
    let b = body.into_inner();
    let input = batches::BatchInput {
        township_code: b.township_code,
        scheme: b.scheme,
        receipt_no: b.receipt_no,
        handed_over_on: b.handed_over_on,
    };
    let today = state.clock.today();
    created(
        state
            .run(move |c| batches::create(c, &actor, &input, today))
            .await?,
    )
}
