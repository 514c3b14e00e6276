//! The one scoped loader: "this row, within these townships, else none".
//! A row of another township comes back as `None`, exactly like a missing
//! one, so a township station cannot learn that the record exists.

use super::models::{Claim, Grower, Plot, Policy};
use super::DbConn;
use diesel::QueryResult;

/// The townships a reader may see: `None` is the whole county, `Some(t)`
/// one township (`app::Actor::township_scope` gives it).
pub type Within = Option<i64>;

/// A row that belongs to a township and can be found by its id.
pub trait TownshipRow: Sized {
    fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Self>>;
    fn township_id(&self) -> i64;
}

/// The row `id` if it exists and lies within `within`.
pub fn find_within<T: TownshipRow>(
    conn: &mut DbConn,
    id: i64,
    within: Within,
) -> QueryResult<Option<T>> {
    Ok(T::find(conn, id)?.filter(|row| within.is_none_or(|t| row.township_id() == t)))
}

/// Implement [`TownshipRow`] for a `Selectable` row type with `id` and
/// `township_id` columns: `township_row!(Grower, growers);`.
macro_rules! township_row {
    ($row:ty, $table:ident) => {
        impl $crate::db::scope::TownshipRow for $row {
            fn find(conn: &mut $crate::db::DbConn, id: i64) -> diesel::QueryResult<Option<Self>> {
                use diesel::prelude::*;
                $crate::db::schema::$table::table
                    .find(id)
                    .select(<$row>::as_select())
                    .first(conn)
                    .optional()
            }
            fn township_id(&self) -> i64 {
                self.township_id
            }
        }
    };
}
pub(crate) use township_row;

township_row!(Grower, growers);
township_row!(Plot, plots);
township_row!(Policy, policies);
township_row!(Claim, claims);
