//! Photos over HTTP, for every area: a received body checked, thumbnailed
//! and written to the photo store before its use case records the row; a
//! recorded photo's original or thumbnail answered from the store.

use super::desk::{Desk, Page};
use super::session::{Bearer, Caller};
use super::AppState;
use crate::app::on_site;
use crate::app::photos::{self, Content, Stored};
use crate::app::Actor;
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

/// A photo written to the store, for its record to take in.
pub struct Arrived<'a> {
    /// The record's id.
    pub id: i64,
    /// The tablet's id for the photo (empty when none was sent).
    pub client_id: &'a str,
    pub stored: &'a Stored,
    pub now: DateTime<Utc>,
}

/// A record photos are attached to (a claim, a 验标 sample, a posted
/// notice), with its area's rules: one set of handlers below serves all.
pub trait Home: 'static {
    /// What recording a photo answers.
    type Added: serde::Serialize + Send + 'static;
    /// Whether the tablet's hash of the photo as taken is kept with a shrunk
    /// copy (the areas that check reuse compare originals).
    const KEEPS_ORIGINAL: bool = true;
    /// Whether each photo carries the tablet's id for it (a retry with the
    /// same id is the same photo): then an unusable id is refused before
    /// the body is read, so it leaves nothing in the photo store.
    const CLIENT_IDS: bool = true;
    /// Whether this person may send photos here at all: asked before the
    /// body is read.
    fn may_upload(actor: &Actor) -> bool;
    /// The record exists and is the person's to see: settled before the
    /// body is read too.
    fn in_scope(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()>;
    /// Record a photo already in the store.
    fn add(conn: &mut DbConn, actor: &Actor, photo: Arrived) -> AppResult<Self::Added>;
    /// False when the same client id had already brought this photo (a
    /// retry): answered 200 instead of 201.
    fn is_new(_added: &Self::Added) -> bool {
        true
    }
    /// A recorded photo of a record the person may see.
    fn photo(conn: &mut DbConn, actor: &Actor, id: i64, photo_id: i64) -> AppResult<Content>;
}

/// A photo upload (the API's, or a tablet page's once its CSRF token is
/// checked): who may send, whether the record is theirs to see and the
/// photo's client id are settled before the bytes are read; then
/// [`receive`].
pub(crate) async fn upload<H: Home>(
    state: &AppState,
    actor: Actor,
    id: i64,
    q: PhotoQuery,
    (req, payload): (&HttpRequest, web::Payload),
) -> AppResult<HttpResponse> {
    actor.require(H::may_upload(&actor))?;
    state
        .run_as(&actor, move |c, a| H::in_scope(c, a, id))
        .await?;
    let client_id = q.client_id.unwrap_or_default();
    if H::CLIENT_IDS {
        on_site::client_id(&client_id, on_site::PHOTO_CLIENT_ID_MESSAGE)?;
    }
    let original = q.original_sha256.filter(|_| H::KEEPS_ORIGINAL);
    let added = receive(state, (req, payload), original, move |c, now, stored| {
        let photo = Arrived {
            id,
            client_id: &client_id,
            stored: &stored,
            now,
        };
        H::add(c, &actor, photo)
    })
    .await?;
    Ok(if H::is_new(&added) {
        HttpResponse::Created().json(added)
    } else {
        HttpResponse::Ok().json(added)
    })
}

/// `POST /api/v1/<record>/{id}/photos`: the photo's bytes are the body.
pub async fn api_upload<H: Home>(
    api: Caller,
    id: web::Path<i64>,
    q: web::Query<PhotoQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (state, actor) = (api.state, api.actor);
    upload::<H>(
        &state,
        actor,
        id.into_inner(),
        q.into_inner(),
        (&req, payload),
    )
    .await
}

/// `GET /api/v1/<record>/{id}/photos/{photo_id}`: the photo as received.
pub async fn api_original<H: Home>(
    api: Bearer,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, pid) = path.into_inner();
    let content = api.run(move |c, a| H::photo(c, a, id, pid)).await?;
    original(&api.state, content).await
}

/// `GET /api/v1/<record>/{id}/photos/{photo_id}/thumb`: its thumbnail.
pub async fn api_thumb<H: Home>(
    api: Bearer,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, pid) = path.into_inner();
    let content = api.run(move |c, a| H::photo(c, a, id, pid)).await?;
    thumb(&api.state, content).await
}

/// A page's link to a recorded photo: the original.
pub(crate) async fn page_original<H: Home>(desk: Desk, path: web::Path<(String, String)>) -> Page {
    page_answer(desk, path.into_inner(), false, H::photo).await
}

/// A page's thumbnail of a recorded photo.
pub(crate) async fn page_thumb<H: Home>(desk: Desk, path: web::Path<(String, String)>) -> Page {
    page_answer(desk, path.into_inner(), true, H::photo).await
}

/// What a photo upload names besides its bytes (query parameters).
#[derive(Debug, serde::Deserialize)]
pub struct PhotoQuery {
    /// The device's id for the photo: a retry with the same id is the same
    /// photo, recorded once.
    pub client_id: Option<String>,
    /// The SHA-256 of the photo as taken, when the body is a shrunk copy.
    pub original_sha256: Option<String>,
}

/// A photo upload after its area has settled who may send it and that the
/// record is theirs to see: the body read no further than the photo limit,
/// checked, thumbnailed and written to the store (`store`), and only then
/// recorded by `record`, so a row never names a missing object.
pub async fn receive<T: Send + 'static>(
    state: &AppState,
    (req, payload): (&HttpRequest, web::Payload),
    original: Option<String>,
    record: impl FnOnce(&mut DbConn, DateTime<Utc>, Stored) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let max = state.limits.max_photo_bytes;
    let says = |limit: &str| format!("照片过大，单张不能超过{limit}");
    let code = ErrorCode::PhotoTooLarge;
    let body = super::upload::read_body_within(req, payload, max, "photo", code, says).await?;
    let stored = store(state, body, max, original).await?;
    let now = state.clock.now();
    state.run(move |c| record(c, now, stored)).await
}

/// A page's answer for a recorded photo the person may see (`fetch` finds
/// it by record id and photo id within their scope): its thumbnail or the
/// original; ids that are not numbers are a photo not found.
async fn page_answer(
    desk: Desk,
    (id, pid): (String, String),
    small: bool,
    fetch: impl FnOnce(&mut DbConn, &Actor, i64, i64) -> AppResult<Content> + Send + 'static,
) -> Page {
    let (Ok(id), Ok(pid)) = (id.parse::<i64>(), pid.parse::<i64>()) else {
        return desk.error(&AppError::not_found("照片"));
    };
    let answer = match desk.run(move |c, a| fetch(c, a, id, pid)).await {
        Ok(content) if small => thumb(&desk.state, content).await,
        Ok(content) => original(&desk.state, content).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(r) => Ok(r),
        Err(e) => desk.error(&e),
    }
}

/// Check the body (size, a whole decode under the image limits, the
/// declared original hash), make its thumbnail off the async workers, and
/// write both to the store. A refused photo writes nothing.
pub async fn store(
    state: &AppState,
    body: Vec<u8>,
    max: usize,
    original: Option<String>,
) -> Result<Stored, AppError> {
    let prepared = web::block(move || photos::prepare(body, max, original.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    photos::keep(&state.photos, &prepared).await?;
    Ok(prepared.stored())
}

/// The photo as it was received. Its bytes never change (content-addressed),
/// so the browser may keep it.
pub async fn original(state: &AppState, content: Content) -> Result<HttpResponse, AppError> {
    let (ct, bytes) = photos::original(&state.photos, content).await?;
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("Cache-Control", "private, max-age=86400"))
        .body(bytes))
}

/// The photo's thumbnail (a JPEG of at most 320 px on its longest side).
pub async fn thumb(state: &AppState, content: Content) -> Result<HttpResponse, AppError> {
    let bytes = photos::thumb(&state.photos, content).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, max-age=86400"))
        .body(bytes))
}
