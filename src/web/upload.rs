//! Request bodies read with limits, refused while streaming: a multipart form
//! (text fields and one file) and a raw body (a photo, a GeoJSON file, a
//! reconciliation workbook).
//!
//! Handlers check who is asking, their role and the CSRF token (from the
//! query string or a header, never from the body) *before* calling these, so
//! a stranger's large body is never read.

use crate::error::{AppError, ErrorCode};
use actix_multipart::Multipart;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use std::collections::HashMap;

pub struct Upload {
    pub fields: HashMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
}

/// What one form may hold. The total counts every byte of every part, so many
/// small parts cannot add up to more than one file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All parts together (part headers not counted; actix bounds those).
    pub total: usize,
    /// The one file part.
    pub file: usize,
    /// Each text field.
    pub field: usize,
    /// How many parts a form may have.
    pub parts: usize,
}

/// Room for the text fields of our forms beside the file.
const FORM_FIELDS_BYTES: usize = 16 * 1024;
const FIELD_BYTES: usize = 4 * 1024;
const MAX_PARTS: usize = 16;

impl Limits {
    /// A form with one file of at most `file` bytes and a few short fields.
    pub fn for_file(file: usize) -> Limits {
        Limits {
            total: file.saturating_add(FORM_FIELDS_BYTES),
            file,
            field: FIELD_BYTES,
            parts: MAX_PARTS,
        }
    }
}

/// "20 MB", "20.02 MB", "64 KB", "900 字节": a limit as people read it.
pub fn size_text(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.2} MB", bytes as f64 / MB as f64)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} 字节")
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::invalid(
        "file",
        ErrorCode::UploadTooLarge,
        format!(
            "上传内容过大：整个表单（文件和所有字段合计）不能超过{}",
            size_text(limit)
        ),
    )
}

/// The body length the client declared, if it did.
fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// A declared `Content-Length` above `max` is refused before a byte is read.
pub fn check_length(
    req: &HttpRequest,
    max: usize,
    err: impl FnOnce() -> AppError,
) -> Result<(), AppError> {
    match declared_length(req) {
        Some(n) if n > max as u64 => Err(err()),
        _ => Ok(()),
    }
}

/// How long a refused upload's remaining bytes are read and thrown away.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// After a refusal, read and discard what the client is still sending (at
/// most `budget` bytes, for at most [`DRAIN_TIME`]): a client still writing
/// its body would otherwise meet a reset connection instead of our answer.
async fn drain(stream: impl futures_util::Stream<Item = Result<usize, ()>>, budget: usize) {
    let work = async {
        futures_util::pin_mut!(stream);
        let mut left = budget;
        while let Some(Ok(n)) = stream.next().await {
            left = left.saturating_sub(n);
            if left == 0 {
                break;
            }
        }
    };
    // Out of time: the connection closes as before.
    let _ = actix_web::rt::time::timeout(DRAIN_TIME, work).await;
}

/// The sizes of what is left of a multipart body, part by part.
fn multipart_rest(payload: Multipart) -> impl futures_util::Stream<Item = Result<usize, ()>> {
    futures_util::stream::unfold(payload, |mut p| async move {
        let mut field = match p.next().await {
            Some(Ok(f)) => f,
            _ => return None,
        };
        let mut n = 0usize;
        while let Some(Ok(chunk)) = field.next().await {
            n = n.saturating_add(chunk.len());
        }
        drop(field);
        Some((Ok(n), p))
    })
}

/// Read the whole form within `limits`; the first byte over any limit stops
/// the reading with a Chinese message naming that limit (the rest of the body
/// is then read and thrown away, within the same limits, so the client sees
/// the message).
pub async fn read(
    req: &HttpRequest,
    mut payload: Multipart,
    limits: Limits,
) -> Result<Upload, AppError> {
    // Multipart framing adds a little to the parts; allow for it.
    let framing = limits.parts.saturating_mul(512);
    let allowed = limits.total.saturating_add(framing);
    if let Err(e) = check_length(req, allowed, || too_large(limits.total)) {
        // A body a little over the limit is read and thrown away so the
        // client sees the message; a far larger one is not read at all.
        if declared_length(req).is_some_and(|n| n <= 2 * allowed as u64) {
            drain(multipart_rest(payload), 2 * allowed).await;
        }
        return Err(e);
    }
    match read_parts(&mut payload, limits).await {
        Ok(upload) => Ok(upload),
        Err(e) => {
            drain(
                multipart_rest(payload),
                limits.total.saturating_add(framing),
            )
            .await;
            Err(e)
        }
    }
}

async fn read_parts(payload: &mut Multipart, limits: Limits) -> Result<Upload, AppError> {
    let mut fields = HashMap::new();
    let mut file = None;
    let mut total: usize = 0;
    let mut parts: usize = 0;
    while let Some(item) = payload.next().await {
        let mut field = item.map_err(|e| {
            AppError::invalid(
                "file",
                ErrorCode::UploadInvalid,
                format!("上传内容无法读取：{e}"),
            )
        })?;
        parts = parts.saturating_add(1);
        if parts > limits.parts {
            return Err(AppError::invalid(
                "file",
                ErrorCode::UploadTooManyParts,
                format!("上传的表单项过多：最多{}项", limits.parts),
            ));
        }
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let is_file = filename.is_some() && name == "file";
        if is_file && file.is_some() {
            return Err(AppError::invalid(
                "file",
                ErrorCode::UploadInvalid,
                "一次只能上传一个文件",
            ));
        }
        let part_limit = if is_file { limits.file } else { limits.field };
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::invalid("file", ErrorCode::UploadInvalid, format!("上传中断：{e}"))
            })?;
            total = total.saturating_add(chunk.len());
            if total > limits.total {
                return Err(too_large(limits.total));
            }
            if buf.len().saturating_add(chunk.len()) > part_limit {
                return Err(if is_file {
                    AppError::invalid(
                        "file",
                        ErrorCode::FileTooLarge,
                        format!("文件超过{}上限", size_text(limits.file)),
                    )
                } else {
                    AppError::invalid(
                        &name,
                        ErrorCode::FieldTooLong,
                        format!(
                            "表单项“{}”过长：最多{}",
                            name.chars().take(40).collect::<String>(),
                            size_text(limits.field)
                        ),
                    )
                });
            }
            buf.extend_from_slice(&chunk);
        }
        match filename {
            Some(f) if is_file => file = Some((f, buf)),
            _ => {
                fields.insert(name, String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
    Ok(Upload { fields, file })
}

/// `read_body`, refusing a larger body as a mistake in `field` (`code`),
/// with the message `says` gives for the limit as text.
pub async fn read_body_within(
    req: &HttpRequest,
    payload: web::Payload,
    max: usize,
    field: &str,
    code: ErrorCode,
    says: fn(&str) -> String,
) -> Result<Vec<u8>, AppError> {
    read_body(req, payload, max, || {
        AppError::invalid(field, code, says(&size_text(max)))
    })
    .await
}

/// A raw body of at most `max` bytes; `err` says what is too large. The
/// declared length is checked first, then every chunk as it arrives.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
    err: impl Fn() -> AppError,
) -> Result<Vec<u8>, AppError> {
    if let Err(e) = check_length(req, max, &err) {
        if declared_length(req).is_some_and(|n| n <= 2 * max as u64) {
            let rest = payload.map(|c| c.map(|b| b.len()).map_err(drop));
            drain(rest, 2 * max).await;
        }
        return Err(e);
    }
    let mut buf = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::invalid("body", ErrorCode::UploadInvalid, format!("上传中断：{e}"))
        })?;
        if buf.len().saturating_add(chunk.len()) > max {
            let rest = payload.map(|c| c.map(|b| b.len()).map_err(drop));
            drain(rest, max).await;
            return Err(err());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// The CSRF token a page sent ahead of its body: the `X-CSRF-Token` header
/// (the survey page's scripts) or `?csrf_token=` in the form's action.
pub fn csrf_ahead(req: &HttpRequest) -> Option<String> {
    if let Some(h) = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|h| h.to_str().ok())
    {
        return Some(h.to_string());
    }
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().remove("csrf_token"))
}

/// Before a page's form body is read: the role allows this upload and the
/// CSRF token sent ahead of the body matches the session's.
pub fn page_gate(
    session: &actix_session::Session,
    req: &HttpRequest,
    role_allows: bool,
) -> Result<(), AppError> {
    super::session::check_csrf(session, csrf_ahead(req).as_ref())?;
    if !role_allows {
        return Err(AppError::forbidden());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(20 * 1024 * 1024), "20 MB");
        assert_eq!(size_text(1024 * 1024 + 512 * 1024), "1.50 MB");
        assert_eq!(size_text(64 * 1024), "64 KB");
        assert_eq!(size_text(900), "900 字节");
    }

    #[test]
    fn a_form_allows_its_file_and_a_little_more() {
        let l = Limits::for_file(10);
        assert_eq!(l.file, 10);
        assert!(l.total > l.file);
        assert_eq!(Limits::for_file(usize::MAX).total, usize::MAX);
    }
}
