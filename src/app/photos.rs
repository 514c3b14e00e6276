//! A photo on its way in (claims, notices, inspections alike): checked and
//! decoded whole off the async workers, its thumbnail made from the same
//! decode, then written to the photo store *before* the use case records
//! its row (see ARCHITECTURE.md, "Photos").

use crate::error::{AppError, AppResult, ErrorCode};
use crate::photo_store::{checked_hash, hash_of, PhotoStore};

/// The longest side of a server-made thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;

/// A photo that passed every check, with its thumbnail, ready to be stored.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub sha256: String,
    /// The SHA-256 of the photo as taken, when the tablet sent a shrunk copy
    /// (else the same as `sha256`): what the reuse check compares.
    pub original_sha256: String,
    pub content_type: &'static str,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub bytes: Vec<u8>,
    pub thumb: Vec<u8>,
}

/// What a use case records of a stored photo: everything but the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub original_sha256: String,
    pub content_type: &'static str,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
}

impl Stored {
    /// The hash of the photo as taken, kept beside a smaller copy the
    /// tablet sent; none when the photo itself was sent.
    pub fn shrunk_from(&self) -> Option<&str> {
        (self.original_sha256 != self.sha256).then_some(self.original_sha256.as_str())
    }
}

impl Prepared {
    pub fn stored(&self) -> Stored {
        Stored {
            sha256: self.sha256.clone(),
            original_sha256: self.original_sha256.clone(),
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            width: self.width,
            height: self.height,
        }
    }
}

fn too_large(len: usize, max: usize) -> AppError {
    AppError::invalid(
        "photo",
        ErrorCode::PhotoTooLarge,
        format!(
            "照片过大（{:.1} MB），单张不能超过{} MB",
            len as f64 / 1_048_576.0,
            max / 1_048_576
        ),
    )
}

fn not_image() -> AppError {
    AppError::invalid(
        "photo",
        ErrorCode::PhotoNotImage,
        "上传的文件不是照片（只接受JPEG、PNG或WebP图片）",
    )
}

/// Check, decode and thumbnail a photo's bytes: too large, not an image
/// (by its first bytes and a whole decode under the image limits, so a
/// decompression bomb is refused before its pixels are allocated), or a
/// malformed declared original hash is a 4xx and nothing is stored.
/// CPU-bound: call it off the async workers (`web::block`).
pub fn prepare(bytes: Vec<u8>, max_bytes: usize, original: Option<&str>) -> AppResult<Prepared> {
    if bytes.len() > max_bytes {
        return Err(too_large(bytes.len(), max_bytes));
    }
    let original = match original.map(str::trim).filter(|o| !o.is_empty()) {
        None => None,
        Some(o) => Some(
            checked_hash(&o.to_ascii_lowercase())
                .map(str::to_string)
                .ok_or_else(|| {
                    AppError::invalid(
                        "original_sha256",
                        ErrorCode::PhotoHashInvalid,
                        "原图摘要（original_sha256）应为64位十六进制SHA-256",
                    )
                })?,
        ),
    };
    let (facts, img) = crate::app::claims::decode(&bytes).ok_or_else(not_image)?;
    let thumb = thumbnail(&img).ok_or_else(not_image)?;
    let sha256 = hash_of(&bytes);
    Ok(Prepared {
        original_sha256: original.unwrap_or_else(|| sha256.clone()),
        sha256,
        content_type: facts.content_type,
        size_bytes: bytes.len() as i64,
        width: i32::try_from(facts.width).unwrap_or(i32::MAX),
        height: i32::try_from(facts.height).unwrap_or(i32::MAX),
        bytes,
        thumb,
    })
}

/// A JPEG no larger than [`THUMB_SIDE`] on its longest side.
pub fn thumbnail(img: &image::DynamicImage) -> Option<Vec<u8>> {
    let small = if img.width().max(img.height()) > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img.clone()
    };
    let rgb = small.to_rgb8();
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    rgb.write_with_encoder(enc).ok()?;
    Some(out)
}

/// Write the photo and its thumbnail to the store (the photo first: a
/// thumbnail can always be made again from it).
pub async fn keep(store: &PhotoStore, p: &Prepared) -> AppResult<()> {
    store.put(&p.bytes).await?;
    store.put_thumb(&p.sha256, p.thumb.clone()).await?;
    Ok(())
}

/// Where a recorded photo's bytes are: in the store, or (not yet moved out)
/// still in its row.
#[derive(Debug, Clone)]
pub enum Content {
    Stored {
        content_type: String,
        sha256: String,
    },
    Inline {
        content_type: String,
        sha256: String,
        bytes: Vec<u8>,
    },
}

impl Content {
    /// From a row's (content type, SHA-256, bytes still in the row).
    pub fn from_row((content_type, sha256, bytes): crate::db::photos::RowContent) -> Content {
        match bytes {
            Some(bytes) => Content::Inline {
                content_type,
                sha256,
                bytes,
            },
            None => Content::Stored {
                content_type,
                sha256,
            },
        }
    }
}

/// The original bytes of a recorded photo.
pub async fn original(store: &PhotoStore, c: Content) -> AppResult<(String, Vec<u8>)> {
    match c {
        Content::Inline {
            content_type,
            bytes,
            ..
        } => Ok((content_type, bytes)),
        Content::Stored {
            content_type,
            sha256,
        } => match store.get(&sha256).await? {
            Some(b) => Ok((content_type, b)),
            None => Err(missing(&sha256)),
        },
    }
}

fn missing(sha256: &str) -> AppError {
    AppError::Internal(format!("照片存储中缺少照片 {sha256}"))
}

/// The thumbnail of a recorded photo (always a JPEG): the stored one, else
/// made now from the original and kept for the next time.
pub async fn thumb(store: &PhotoStore, c: Content) -> AppResult<Vec<u8>> {
    let sha256 = match &c {
        Content::Stored { sha256, .. } | Content::Inline { sha256, .. } => sha256.clone(),
    };
    if let Some(t) = store.get_thumb(&sha256).await? {
        return Ok(t);
    }
    let (_, bytes) = original(store, c).await?;
    let made = tokio::task::spawn_blocking(move || {
        crate::app::claims::decode(&bytes).and_then(|(_, img)| thumbnail(&img))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .ok_or_else(|| AppError::Internal(format!("照片 {sha256} 无法生成缩略图")))?;
    store.put_thumb(&sha256, made.clone()).await?;
    Ok(made)
}

// ---------------------------------------------------------------- move-out

/// Where a move-out stands after a batch (or at its end).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MoveProgress {
    pub table: &'static str,
    /// Rows whose bytes went to the store and left the row, this run.
    pub moved: u64,
    /// Rows of this table still holding their bytes.
    pub left: i64,
}

/// A row left in place because its bytes do not hash to its recorded SHA-256
/// (the store is addressed by content: such a row needs a person's look).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    pub table: &'static str,
    pub id: i64,
    pub recorded: String,
    pub actual: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MoveReport {
    pub moved: u64,
    pub batches: u64,
    /// Rows still holding bytes, over all tables, when the run ended.
    pub left: i64,
    pub mismatches: Vec<Mismatch>,
}

/// The width and height its header states (the bytes were decoded whole when
/// they were received; this only reads the header).
fn dimensions(bytes: &[u8]) -> Option<(i32, i32)> {
    let (format, _) = crate::app::claims::claimed_format_of(bytes)?;
    let reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let (w, h) = reader.into_dimensions().ok()?;
    Some((i32::try_from(w).ok()?, i32::try_from(h).ok()?))
}

/// Move photo bytes still held in the database out into the store, `batch`
/// rows at a time, each batch committed on its own: every object is written
/// (and, in a directory, fsynced) before the transaction that empties its
/// row, so a run killed anywhere leaves at worst an object whose row still
/// holds the bytes too, and the next run carries on where this one stopped.
/// `max_batches` ends the run early (the rest is left for the next run).
/// Thumbnails are not made here: the first request for one makes and keeps it.
pub fn move_out(
    conn: &mut crate::db::DbConn,
    store: &crate::photo_store::Blocking,
    batch: i64,
    max_batches: Option<u64>,
    mut progress: impl FnMut(&MoveProgress),
) -> AppResult<MoveReport> {
    use crate::db::photos::{self as rows, PhotoTable};
    let batch = batch.clamp(1, 10_000);
    let mut report = MoveReport::default();
    'tables: for table in PhotoTable::ALL {
        let mut after = 0;
        let mut moved = 0;
        loop {
            if max_batches.is_some_and(|m| report.batches >= m) {
                break 'tables;
            }
            let rows = rows::inline_batch(conn, table, after, batch)?;
            let Some(last) = rows.last().map(|r| r.id) else {
                break;
            };
            after = last;
            let mut done = Vec::with_capacity(rows.len());
            for r in rows {
                let actual = hash_of(&r.content);
                if actual != r.sha256 {
                    report.mismatches.push(Mismatch {
                        table: table.name(),
                        id: r.id,
                        recorded: r.sha256,
                        actual,
                    });
                    continue;
                }
                store.put(&r.content)?;
                done.push((r.id, r.sha256, dimensions(&r.content)));
            }
            let n = crate::app::tx(conn, |conn| {
                let mut n = 0;
                for (id, sha, size) in &done {
                    n += rows::mark_moved(conn, table, *id, sha, *size)?;
                }
                Ok(n as u64)
            })?;
            moved += n;
            report.moved += n;
            report.batches += 1;
            progress(&MoveProgress {
                table: table.name(),
                moved,
                left: rows::inline_count(conn, table)?,
            });
        }
    }
    for table in PhotoTable::ALL {
        report.left += rows::inline_count(conn, table)?;
    }
    Ok(report)
}
