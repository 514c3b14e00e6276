//! `/api/v1/policies` (list, read, collect, issue, cancel) and `/api/v1/batches`.

use crate::app::{batches, policies};
use crate::error::ErrorCode;
use crate::web::api::{by_id, created, listed, ok, one_of, Reply};
use crate::web::session::Bearer;
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies", web::get().to(list_policies))
        .route("/policies/issue-batch", web::post().to(issue_batch))
        .route("/policies/{id}", web::get().to(by_id(policies::get_view)))
        .route("/policies/{id}/collect", web::post().to(collect_policy))
        .route(
            "/policies/{id}/collection-date",
            web::post().to(correct_collection),
        )
        .route("/policies/{id}/issue", web::post().to(issue_policy))
        .route(
            "/policies/{id}/cancel",
            web::post().to(by_id(policies::cancel)),
        )
        .route("/batches", web::get().to(listed(batches::list)))
        .route("/batches", web::post().to(create_batch));
}

async fn list_policies(api: Bearer, f: web::Query<policies::PolicyFilter>) -> Reply {
    let f = f.into_inner();
    one_of(
        "status",
        ErrorCode::StatusInvalid,
        f.status.as_deref(),
        &policies::STATUSES,
    )?;
    ok(api.run(move |c, a| policies::list(c, a, &f)).await?)
}

#[derive(Deserialize)]
struct CollectBody {
    collected_on: String,
}

async fn collect_policy(api: Bearer, id: web::Path<i64>, body: web::Json<CollectBody>) -> Reply {
    let (id, date) = (id.into_inner(), body.into_inner().collected_on);
    let today = api.state.clock.today();
    ok(api
        .run(move |c, a| policies::collect(c, a, id, &date, today))
        .await?)
}

/// A wrong collection date corrected before the policy is issued.
async fn correct_collection(
    api: Bearer,
    id: web::Path<i64>,
    body: web::Json<CollectBody>,
) -> Reply {
    let (id, date) = (id.into_inner(), body.into_inner().collected_on);
    let today = api.state.clock.today();
    ok(api
        .run(move |c, a| policies::correct_collection(c, a, id, &date, today))
        .await?)
}

async fn issue_policy(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let today = api.state.clock.today();
    ok(api
        .run(move |c, a| policies::issue(c, a, id, today))
        .await?)
}

#[derive(Deserialize)]
struct IssueBatchBody {
    ids: Vec<i64>,
    /// False (the default): a preview, nothing written.
    #[serde(default)]
    confirm: bool,
}

async fn issue_batch(api: Bearer, body: web::Json<IssueBatchBody>) -> Reply {
    let b = body.into_inner();
    let today = api.state.clock.today();
    ok(api
        .run(move |c, a| policies::issue_many(c, a, &b.ids, today, b.confirm))
        .await?)
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

async fn create_batch(api: Bearer, body: web::Json<BatchBody>) -> Reply {
    let b = body.into_inner();
    let input = batches::BatchInput {
        township_code: b.township_code,
        scheme: b.scheme,
        receipt_no: b.receipt_no,
        handed_over_on: b.handed_over_on,
    };
    let today = api.state.clock.today();
    created(
        api.run(move |c, a| batches::create(c, a, &input, today))
            .await?,
    )
}
