//! The finance JSON API (`/api/v1/finance/…`, routed in `web::api`): each
//! handler extracts, calls the use case and answers with its result.

use super::{xlsx_name, Data, Reply};
use crate::app::{finance, premium_flow, reconciliation, subsidy_requests, Actor};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::import_pages::xlsx;
use crate::web::session::ApiUser;
use crate::web::upload;
use actix_web::{web, HttpRequest, HttpResponse};

/// GET for a scheme (`?scheme=`): the use case's result as JSON.
async fn by_scheme<T: serde::Serialize + Send + 'static>(
    state: Data,
    user: ApiUser,
    q: web::Query<SchemeParam>,
    f: fn(&mut crate::db::DbConn, &Actor, &str) -> AppResult<T>,
) -> Reply {
    let actor = user.0;
    let scheme = q.into_inner().scheme;
    let v = state.run(move |c| f(c, &actor, &scheme)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// GET one record by id.
async fn by_id<T: serde::Serialize + Send + 'static>(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    f: fn(&mut crate::db::DbConn, &Actor, i64) -> AppResult<T>,
) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    let v = state.run(move |c| f(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// POST a JSON body that records something: 201 with what was recorded.
async fn create<I: Send + 'static, T: serde::Serialize + Send + 'static>(
    state: Data,
    user: ApiUser,
    body: web::Json<I>,
    f: impl FnOnce(&mut crate::db::DbConn, &Actor, &I) -> AppResult<T> + Send + 'static,
) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    let v = state.run(move |c| f(c, &actor, &input)).await?;
    Ok(HttpResponse::Created().json(v))
}

#[derive(serde::Deserialize)]
pub struct SchemeParam {
    #[serde(default)]
    scheme: String,
}

pub async fn api_statement(
    state: Data,
    user: ApiUser,
    query: web::Query<finance::StatementQuery>,
) -> Reply {
    let actor = user.0;
    let q = query.into_inner();
    let st = state
        .run(move |c| finance::statement(c, &actor, &q))
        .await?;
    Ok(HttpResponse::Ok().json(st))
}

pub async fn api_statement_xlsx(
    state: Data,
    user: ApiUser,
    query: web::Query<finance::StatementQuery>,
) -> Reply {
    let actor = user.0;
    let q = query.into_inner();
    let (name, bytes) = state
        .run(move |c| {
            let st = finance::statement(c, &actor, &q)?;
            Ok((xlsx_name(&st), finance::statement_xlsx(&st)?))
        })
        .await?;
    Ok(xlsx(&name, bytes))
}

pub async fn api_lock(state: Data, user: ApiUser, body: web::Json<finance::LockInput>) -> Reply {
    create(state, user, body, finance::lock).await
}

pub async fn api_adjustments(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, finance::adjustments).await
}

pub async fn api_add_adjustment(
    state: Data,
    user: ApiUser,
    body: web::Json<finance::AdjustmentInput>,
) -> Reply {
    create(state, user, body, finance::add_adjustment).await
}

pub async fn api_balances(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, finance::balances).await
}

pub async fn api_disbursements(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, finance::disbursements).await
}

pub async fn api_disburse(
    state: Data,
    user: ApiUser,
    body: web::Json<finance::DisbursementInput>,
) -> Reply {
    let today = state.clock.today();
    create(state, user, body, move |c, a, i| {
        finance::disburse(c, a, i, today)
    })
    .await
}

pub async fn api_requests(state: Data, user: ApiUser) -> Reply {
    let actor = user.0;
    let v = state
        .run(move |c| subsidy_requests::list(c, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn api_submit_request(
    state: Data,
    user: ApiUser,
    body: web::Json<subsidy_requests::RequestInput>,
) -> Reply {
    create(state, user, body, subsidy_requests::submit).await
}

pub async fn api_request(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    by_id(state, user, id, subsidy_requests::get).await
}

#[derive(serde::Deserialize)]
pub struct ReconcileParams {
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    filename: String,
}

pub async fn api_reconcile(
    state: Data,
    user: ApiUser,
    q: web::Query<ReconcileParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let actor = user.0;
    // The role before the body: a stranger's upload is never read.
    actor.require(finance::can_manage(&actor))?;
    let options = state.limits.read_options();
    let max = options.max_bytes;
    let body = upload::read_body(&req, payload, max, || {
        AppError::invalid(
            "file",
            ErrorCode::FileTooLarge,
            format!("对账文件超过{}上限", upload::size_text(max)),
        )
    })
    .await?;
    let p = q.into_inner();
    let v = state
        .run(move |c| {
            reconciliation::reconcile(
                c,
                &actor,
                &reconciliation::ReconcileRequest {
                    scheme: &p.scheme,
                    source: &p.source,
                    level: &p.level,
                    filename: if p.filename.is_empty() {
                        "upload.xlsx"
                    } else {
                        &p.filename
                    },
                    bytes: &body,
                    options,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

pub async fn api_reconciliations(state: Data, user: ApiUser) -> Reply {
    let actor = user.0;
    let v = state.run(move |c| reconciliation::list(c, &actor)).await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn api_reconciliation(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    by_id(state, user, id, reconciliation::get).await
}

pub async fn api_premium_flow(state: Data, user: ApiUser, q: web::Query<SchemeParam>) -> Reply {
    by_scheme(state, user, q, premium_flow::overview).await
}

pub async fn api_confirm_batch(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<premium_flow::ConfirmInput>,
) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    let input = body.into_inner();
    let today = state.clock.today();
    let v = state
        .run(move |c| premium_flow::confirm(c, &actor, id, &input, today))
        .await?;
    Ok(HttpResponse::Created().json(v))
}
