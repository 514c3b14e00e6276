//! Writes of growers and plots: both carry a version (optimistic locking)
//! and their creation and change instants, stamped the same way.

use super::models::{GrowerValues, PlotValues};
use super::DbConn;
use diesel::prelude::*;

/// `insert`, `update` and `max_id` for a versioned table whose values
/// struct is `Insertable` and `AsChangeset`.
macro_rules! versioned_writes {
    ($module:ident, $table:ident, $values:ty) => {
        pub mod $module {
            use super::*;
            use crate::db::schema::$table;

            /// A new row at version 1; its id.
            pub fn insert(conn: &mut DbConn, values: &$values, now: &str) -> QueryResult<i64> {
                diesel::insert_into($table::table)
                    .values((
                        values,
                        $table::version.eq(1),
                        $table::created_at.eq(now),
                        $table::updated_at.eq(now),
                    ))
                    .returning($table::id)
                    .get_result(conn)
            }

            /// New values over row `id`, whose version was `version`.
            pub fn update(
                conn: &mut DbConn,
                id: i64,
                values: &$values,
                version: i32,
                now: &str,
            ) -> QueryResult<usize> {
                diesel::update($table::table.find(id))
                    .set((
                        values,
                        $table::version.eq(version + 1),
                        $table::updated_at.eq(now),
                    ))
                    .execute(conn)
            }

            /// The highest id so far: rows written in bulk after it are new.
            pub fn max_id(conn: &mut DbConn) -> QueryResult<Option<i64>> {
                $table::table
                    .select(diesel::dsl::max($table::id))
                    .first(conn)
            }
        }
    };
}

versioned_writes!(growers, growers, GrowerValues);
versioned_writes!(plots, plots, PlotValues);
