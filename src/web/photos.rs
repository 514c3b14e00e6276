//! Photos over HTTP, for every area: a received body checked, thumbnailed
//! and written to the photo store before its use case records the row; a
//! recorded photo's original or thumbnail answered from the store.

use super::AppState;
use crate::app::photos::{self, Content, Stored};
use crate::error::AppError;
use actix_web::{web, HttpResponse};

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
