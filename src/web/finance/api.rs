//! The finance JSON API (`/api/v1/finance/…`, routed in `web::api`): each
//! handler extracts, calls the use case and answers with its result.

use super::{xlsx_name, Reply};
use crate::app::{finance, premium_flow, reconciliation, Actor};
use crate::db::DbConn;
use crate::error::{AppResult, ErrorCode};
use crate::web::api::{created, ok};
use crate::web::import_pages::xlsx;
use crate::web::session::Caller;
use crate::web::upload;
use actix_web::{web, Handler, HttpRequest};

/// GET for a scheme (`?scheme=`): the use case's result as JSON.
pub fn by_scheme<T: serde::Serialize + Send + 'static>(
    f: fn(&mut DbConn, &Actor, &str) -> AppResult<T>,
) -> impl Handler<(Caller, web::Query<SchemeParam>), Output = Reply> {
    move |api: Caller, q: web::Query<SchemeParam>| async move {
        let scheme = q.into_inner().scheme;
        ok(api.run(move |c, a| f(c, a, &scheme)).await?)
    }
}

#[derive(serde::Deserialize)]
pub struct SchemeParam {
    #[serde(default)]
    scheme: String,
}

pub async fn api_statement(api: Caller, query: web::Query<finance::StatementQuery>) -> Reply {
    let q = query.into_inner();
    ok(api.run(move |c, a| finance::statement(c, a, &q)).await?)
}

pub async fn api_statement_xlsx(api: Caller, query: web::Query<finance::StatementQuery>) -> Reply {
    let q = query.into_inner();
    let (name, bytes) = api
        .run(move |c, a| {
            let st = finance::statement(c, a, &q)?;
            Ok((xlsx_name(&st), finance::statement_xlsx(&st)?))
        })
        .await?;
    Ok(xlsx(&name, bytes))
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
    api: Caller,
    q: web::Query<ReconcileParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    // The role before the body: a stranger's upload is never read.
    api.actor.require(finance::can_manage(&api.actor))?;
    let options = api.state.limits.read_options();
    let max = options.max_bytes;
    let says = |limit: &str| format!("对账文件超过{limit}上限");
    let code = ErrorCode::FileTooLarge;
    let body = upload::read_body_within(&req, payload, max, "file", code, says).await?;
    let p = q.into_inner();
    let v = api
        .run(move |c, a| {
            let filename = if p.filename.is_empty() {
                "upload.xlsx"
            } else {
                &p.filename
            };
            let mut text: &[u8] = &body;
            reconciliation::reconcile(
                c,
                a,
                reconciliation::ReconcileRequest {
                    scheme: &p.scheme,
                    source: &p.source,
                    level: &p.level,
                    filename,
                    file: reconciliation::StatementFile::of(filename, &body, &mut text),
                    options,
                },
            )
        })
        .await?;
    created(v)
}

pub async fn api_confirm_batch(
    api: Caller,
    id: web::Path<i64>,
    body: web::Json<premium_flow::ConfirmInput>,
) -> Reply {
    let id = id.into_inner();
    let input = body.into_inner();
    let today = api.state.clock.today();
    created(
        api.run(move |c, a| premium_flow::confirm(c, a, id, &input, today))
            .await?,
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSelectionBody {
    #[serde(default)]
    ids: Option<Vec<i64>>,
    #[serde(default)]
    filter: Option<crate::app::policies::select::Matching>,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    request_no: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirm: bool,
}

/// A subsidy request over ticked or matching policies: a preview, or with
/// `confirm` the request itself.
pub async fn api_request_from_selection(
    api: Caller,
    body: web::Json<RequestSelectionBody>,
) -> Reply {
    use crate::app::policies::select::Selection;
    use crate::app::subsidy_requests;
    let b = body.into_inner();
    let sel = Selection::of(b.ids, b.filter)?;
    let input = subsidy_requests::RequestInput {
        scheme: b.scheme,
        request_no: b.request_no,
        note: b.note,
        policy_nos: Vec::new(),
    };
    let confirm = b.confirm;
    let r = api
        .run(move |c, a| subsidy_requests::submit_selected(c, a, &input, &sel, confirm))
        .await?;
    if r.committed {
        created(r)
    } else {
        ok(r)
    }
}
