//! `/api/v1/policies` (list, read, collect, issue, cancel) and `/api/v1/batches`.

use crate::app::policies::select::{Matching, Selection};
use crate::app::{batches, policies};
use crate::web::api::{by_id, created, listed, ok, queried, Reply};
use crate::web::session::Bearer;
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies", web::get().to(queried(policies::list)))
        .route("/policies/issue-batch", web::post().to(issue_batch))
        .route("/policies/collect-batch", web::post().to(collect_batch))
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
        .route("/batches", web::post().to(create_batch))
        .route(
            "/batches/from-selection",
            web::post().to(batch_from_selection),
        );
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
#[serde(deny_unknown_fields)]
struct IssueBatchBody {
    #[serde(default)]
    ids: Option<Vec<i64>>,
    /// "All matching": every collected policy of this township / village.
    #[serde(default)]
    filter: Option<Matching>,
    /// False (the default): a preview, nothing written.
    #[serde(default)]
    confirm: bool,
}

async fn issue_batch(api: Bearer, body: web::Json<IssueBatchBody>) -> Reply {
    let b = body.into_inner();
    let sel = Selection::of(b.ids, b.filter)?;
    let today = api.state.clock.today();
    ok(api
        .run(move |c, a| policies::issue_selected(c, a, &sel, today, b.confirm))
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectBatchBody {
    #[serde(default)]
    ids: Option<Vec<i64>>,
    /// "All matching": every draft policy of this township / village.
    #[serde(default)]
    filter: Option<Matching>,
    /// The one collection date for all of them.
    #[serde(default, alias = "collected_on")]
    date: String,
    #[serde(default)]
    confirm: bool,
}

async fn collect_batch(api: Bearer, body: web::Json<CollectBatchBody>) -> Reply {
    let b = body.into_inner();
    let sel = Selection::of(b.ids, b.filter)?;
    let today = api.state.clock.today();
    ok(api
        .run(move |c, a| policies::collect_many(c, a, &sel, &b.date, today, b.confirm))
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchSelectionBody {
    #[serde(default)]
    ids: Option<Vec<i64>>,
    #[serde(default)]
    filter: Option<Matching>,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    receipt_no: String,
    #[serde(default)]
    handed_over_on: String,
    #[serde(default)]
    confirm: bool,
}

async fn batch_from_selection(api: Bearer, body: web::Json<BatchSelectionBody>) -> Reply {
    let b = body.into_inner();
    let sel = Selection::of(b.ids, b.filter)?;
    let input = batches::BatchInput {
        township_code: String::new(),
        scheme: b.scheme,
        receipt_no: b.receipt_no,
        handed_over_on: b.handed_over_on,
    };
    let today = api.state.clock.today();
    let confirm = b.confirm;
    let r = api
        .run(move |c, a| batches::create_selected(c, a, &input, &sel, today, confirm))
        .await?;
    if r.committed {
        created(r)
    } else {
        ok(r)
    }
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
