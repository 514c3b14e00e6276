//! Survey photos: recognised by their bytes, decoded whole, stored once
//! per client id, with photos reused from another claim flagged.

use super::access::wrong_status;
use super::*;
use crate::app::{audit, Actor};
use crate::db::claims::{self as rows, NewPhoto as PhotoRow};
use crate::db::models::Claim;
use crate::db::DbConn;
use crate::domain::time::Instant;
use crate::error::{AppError, AppResult, ErrorCode};
use chrono::{DateTime, Utc};
use serde::Serialize;

// ---------------------------------------------------------------- photos

#[derive(Debug, Clone, Serialize)]
pub struct PhotoOutcome {
    pub created: bool,
    pub id: i64,
    pub sha256: String,
    pub size_bytes: i64,
    /// Another claim already holds this exact photo: its number, only for
    /// a role that may see that claim.
    pub reused_claim_no: Option<String>,
    /// What to tell the person when the photo is reused (names the other
    /// claim only to a role that may see it).
    pub reused_note: Option<String>,
}

/// JPEG, PNG or WebP, by their first bytes, never by the name or the header sent.
/// What a photo's bytes proved to be: its type and its size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Larger than any phone camera takes: a bigger header is a decompression
/// bomb, not a photo.
const MAX_PHOTO_SIDE: u32 = 20_000;
const MAX_PHOTO_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Who may send survey photos at all (adjusters and the forestry bureau's
/// co-surveyors) — asked before a photo's bytes are read; `add_photo` then
/// checks the claim's own assignment.
pub fn may_upload_photos(actor: &Actor) -> bool {
    actor.may(crate::app::Action::SurveyClaims)
}

/// The type its first bytes claim (JPEG, PNG, WebP), or none.
pub fn claimed_format_of(bytes: &[u8]) -> Option<(image::ImageFormat, &'static str)> {
    use image::ImageFormat;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some((ImageFormat::Jpeg, "image/jpeg"))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some((ImageFormat::Png, "image/png"))
    } else if bytes.get(0..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some((ImageFormat::WebP, "image/webp"))
    } else {
        None
    }
}

/// A photo is what its decoder can read whole: the first bytes choose the
/// decoder, and the image is decoded to the last pixel, so a JPEG header in
/// front of a web page, a truncated file or a bomb of a header is refused.
/// (A 4 MB camera JPEG decodes in well under a second: `cargo bench --bench photos`.)
pub fn image_facts(bytes: &[u8]) -> Option<ImageFacts> {
    decode(bytes).map(|(facts, _)| facts)
}

/// The decoded image with its facts (the thumbnail is made from it).
pub fn decode(bytes: &[u8]) -> Option<(ImageFacts, image::DynamicImage)> {
    let (format, content_type) = claimed_format_of(bytes)?;
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_PHOTO_SIDE);
    limits.max_image_height = Some(MAX_PHOTO_SIDE);
    limits.max_alloc = Some(MAX_PHOTO_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let (width, height) = (img.width(), img.height());
    (width > 0 && height > 0).then_some((
        ImageFacts {
            content_type,
            width,
            height,
        },
        img,
    ))
}

/// The photo's type when its bytes decode as a JPEG, PNG or WebP image.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    image_facts(bytes).map(|f| f.content_type)
}

/// Record a photo already checked and written to the photo store
/// (`app::photos::prepare` and `keep`, in the web handler): the row keeps
/// its hash, type, size and dimensions, never its bytes.
pub fn add_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    client_id: &str,
    stored: &crate::app::photos::Stored,
) -> AppResult<PhotoOutcome> {
    let photo = NewPhoto { client_id, stored };
    let first = record_photo(conn, actor, now, id, &photo);
    or_recorded(conn, first, |conn| Ok(earlier(conn, actor, id, &photo)?.2))
}

/// The claim, the photo's checked client id, and the photo already
/// recorded under it.
fn earlier<'a>(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    photo: &NewPhoto<'a>,
) -> AppResult<(Claim, &'a str, Option<PhotoOutcome>)> {
    resent(
        conn,
        actor,
        id,
        photo.client_id,
        crate::app::on_site::PHOTO_CLIENT_ID_MESSAGE,
        |conn, c, client_id| recorded_photo(conn, actor, c, client_id, &photo.stored.sha256),
    )
}

/// The photo already recorded under this client id, if any.
fn recorded_photo(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Claim,
    client_id: &str,
    sha: &str,
) -> AppResult<Option<PhotoOutcome>> {
    let Some(p) = rows::photo_by_client_id(conn, client_id)? else {
        return Ok(None);
    };
    if p.claim_id != c.id || p.sha256 != sha {
        return Err(AppError::conflict(
            ErrorCode::ClientIdReused,
            "该照片编号已用于其他照片",
        ));
    }
    let (reused_claim_no, reused_note) = reused_no(conn, actor, p.reused_claim_id)?;
    Ok(Some(PhotoOutcome {
        created: false,
        id: p.id,
        sha256: p.sha256,
        size_bytes: p.size_bytes,
        reused_claim_no,
        reused_note,
    }))
}

/// A photo that has passed its checks and is in the store, ready to be recorded.
struct NewPhoto<'a> {
    client_id: &'a str,
    stored: &'a crate::app::photos::Stored,
}

fn record_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    photo: &NewPhoto,
) -> AppResult<PhotoOutcome> {
    let p = photo.stored;
    let sha = p.sha256.as_str();
    crate::app::tx(conn, |conn| {
        let (c, client_id, recorded) = earlier(conn, actor, id, photo)?;
        if let Some(out) = recorded {
            return Ok(out);
        }
        if !is_surveyor(actor, &c) {
            return Err(AppError::Forbidden(
                "只有派工指定的查勘人员可以上传查勘照片".into(),
            ));
        }
        if !matches!(c.status, ClaimStatus::Dispatched | ClaimStatus::Surveyed) {
            return Err(wrong_status(&c, "上传照片"));
        }
        let reused = rows::claim_with_photo(conn, &[sha, p.original_sha256.as_str()], c.id)?;
        let pid = rows::insert_photo(
            conn,
            &PhotoRow {
                claim_id: c.id,
                client_id,
                sha256: sha,
                content_type: p.content_type,
                size_bytes: p.size_bytes,
                width: p.width,
                height: p.height,
                original_sha256: p.shrunk_from(),
                reused_claim_id: reused,
                uploaded_by: author(actor),
                created_at: Instant::from_utc(now),
            },
        )?;
        audit::record(
            conn,
            actor,
            "photo",
            "claim",
            c.id,
            None::<&()>,
            Some(&serde_json::json!({"photo_id": pid, "sha256": sha, "reused_claim_id": reused})),
        )?;
        let (reused_claim_no, reused_note) = reused_no(conn, actor, reused)?;
        Ok(PhotoOutcome {
            created: true,
            id: pid,
            sha256: sha.to_string(),
            size_bytes: p.size_bytes,
            reused_claim_no,
            reused_note,
        })
    })
}

/// The other claim holding the same photo, as `actor` may be told of it:
/// its number and a note naming it when the actor may see that claim, else
/// no number and a note that does not name it.
pub(super) fn reused_no(
    conn: &mut DbConn,
    actor: &Actor,
    id: Option<i64>,
) -> AppResult<(Option<String>, Option<String>)> {
    let Some(i) = id else {
        return Ok((None, None));
    };
    Ok(match super::access::get_scoped(conn, actor, i) {
        Ok(other) => {
            let note = format!("与赔案{}的照片相同", other.claim_no);
            (Some(other.claim_no), Some(note))
        }
        Err(AppError::NotFound(_)) => (None, Some(REUSED_ELSEWHERE.to_string())),
        Err(e) => return Err(e),
    })
}

/// A reused photo, told to someone who may not see the other claim.
pub const REUSED_ELSEWHERE: &str = "该照片已在其他赔案中使用";

/// Where the bytes of a photo the actor may see are (the store, or its row
/// until moved out); the web handler fetches them.
pub fn photo(
    conn: &mut DbConn,
    actor: &Actor,
    claim_id: i64,
    photo_id: i64,
) -> AppResult<crate::app::photos::Content> {
    get_scoped(conn, actor, claim_id)?;
    rows::photo_content(conn, claim_id, photo_id)?
        .map(crate::app::photos::Content::from_row)
        .ok_or_else(|| AppError::not_found("照片"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_recognised_by_their_bytes() {
        assert_eq!(
            claimed_format_of(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|f| f.1),
            Some("image/jpeg")
        );
        assert_eq!(
            claimed_format_of(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").map(|f| f.1),
            Some("image/png")
        );
        assert_eq!(
            claimed_format_of(b"RIFF\0\0\0\0WEBPVP8 ").map(|f| f.1),
            Some("image/webp")
        );
        assert_eq!(claimed_format_of(b"%PDF-1.7"), None);
        assert_eq!(claimed_format_of(b"RIFF"), None);
        assert_eq!(claimed_format_of(b""), None);
    }

    fn encoded(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 3) as u8, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_photo_must_decode_whole() {
        let jpeg = encoded(image::ImageFormat::Jpeg, 64, 48);
        assert_eq!(
            image_facts(&jpeg),
            Some(ImageFacts {
                content_type: "image/jpeg",
                width: 64,
                height: 48
            })
        );
        let png = encoded(image::ImageFormat::Png, 5, 7);
        assert_eq!(image_type(&png), Some("image/png"));
        // The JPEG signature in front of a web page is not a photo.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(image_type(&fake), None);
        // Nor is a real photo cut off half way.
        assert_eq!(image_type(jpeg.get(..jpeg.len() / 2).unwrap()), None);
        assert_eq!(image_type(png.get(..png.len() - 20).unwrap()), None);
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), None);
    }
}
