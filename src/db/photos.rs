//! Photo rows of the three photo tables as the move-out sees them: the rows
//! whose bytes are still in the database, and the update that lets go of
//! them once they are in the photo store.

use super::schema::{claim_photos, inspection_photos, notice_photos};
use super::DbConn;
use diesel::prelude::*;

/// (content type, SHA-256, bytes still in the row) of one photo.
pub type RowContent = (String, String, Option<Vec<u8>>);

/// The tables that hold photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoTable {
    Claim,
    Notice,
    Inspection,
}

impl PhotoTable {
    pub const ALL: [PhotoTable; 3] = [
        PhotoTable::Claim,
        PhotoTable::Notice,
        PhotoTable::Inspection,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PhotoTable::Claim => "claim_photos",
            PhotoTable::Notice => "notice_photos",
            PhotoTable::Inspection => "inspection_photos",
        }
    }
}

/// A photo whose bytes are still in its row.
#[derive(Debug, Clone)]
pub struct InlinePhoto {
    pub id: i64,
    pub sha256: String,
    pub content: Vec<u8>,
}

/// Up to `limit` photos still holding their bytes, with ids above `after`,
/// in id order.
pub fn inline_batch(
    conn: &mut DbConn,
    table: PhotoTable,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<InlinePhoto>> {
    macro_rules! batch {
        ($t:ident) => {
            $t::table
                .filter($t::content.is_not_null())
                .filter($t::id.gt(after))
                .order($t::id)
                .limit(limit)
                .select(($t::id, $t::sha256, $t::content))
                .load::<(i64, String, Option<Vec<u8>>)>(conn)?
        };
    }
    let rows = match table {
        PhotoTable::Claim => batch!(claim_photos),
        PhotoTable::Notice => batch!(notice_photos),
        PhotoTable::Inspection => batch!(inspection_photos),
    };
    Ok(rows
        .into_iter()
        .filter_map(|(id, sha256, content)| {
            content.map(|content| InlinePhoto {
                id,
                sha256,
                content,
            })
        })
        .collect())
}

/// How many photos of the table still hold their bytes.
pub fn inline_count(conn: &mut DbConn, table: PhotoTable) -> QueryResult<i64> {
    macro_rules! count {
        ($t:ident) => {
            $t::table
                .filter($t::content.is_not_null())
                .count()
                .get_result(conn)
        };
    }
    match table {
        PhotoTable::Claim => count!(claim_photos),
        PhotoTable::Notice => count!(notice_photos),
        PhotoTable::Inspection => count!(inspection_photos),
    }
}

/// The photo's bytes are in the store under `sha256`: drop them from the row
/// and keep its dimensions. Only a row that still holds bytes of that hash
/// changes, so a rerun (or a second mover) changes nothing twice.
pub fn mark_moved(
    conn: &mut DbConn,
    table: PhotoTable,
    id: i64,
    sha256: &str,
    size: Option<(i32, i32)>,
) -> QueryResult<usize> {
    let (w, h) = (size.map(|s| s.0), size.map(|s| s.1));
    macro_rules! moved {
        ($t:ident) => {
            diesel::update(
                $t::table
                    .filter($t::id.eq(id))
                    .filter($t::sha256.eq(sha256))
                    .filter($t::content.is_not_null()),
            )
            .set((
                $t::content.eq(None::<Vec<u8>>),
                $t::width.eq(w),
                $t::height.eq(h),
            ))
            .execute(conn)
        };
    }
    match table {
        PhotoTable::Claim => moved!(claim_photos),
        PhotoTable::Notice => moved!(notice_photos),
        PhotoTable::Inspection => moved!(inspection_photos),
    }
}
