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

/// A grower's values as the columns of table `$t` (`growers`, or the
/// temporary table its changes go through), then `$extra` columns: the one
/// place the grower's columns are listed for bulk writes.
macro_rules! grower_columns {
    ($t:ident, $g:expr; $($extra:expr),*) => {{
        let g: &GrowerValues = $g;
        (
            $t::year.eq(g.year),
            $t::id_number.eq(&g.id_number),
            $t::name.eq(&g.name),
            $t::phone.eq(&g.phone),
            $t::bank_name.eq(&g.bank_name),
            $t::bank_account.eq(&g.bank_account),
            $t::village_id.eq(g.village_id),
            $t::township_id.eq(g.township_id),
            $($extra),*
        )
    }};
}

/// A plot's values as the columns of table `$t`, then `$extra` columns.
macro_rules! plot_columns {
    ($t:ident, $p:expr; $($extra:expr),*) => {{
        let p: &PlotValues = $p;
        (
            $t::code.eq(&p.code),
            $t::grower_id.eq(p.grower_id),
            $t::scheme_id.eq(p.scheme_id),
            $t::village_id.eq(p.village_id),
            $t::township_id.eq(p.township_id),
            $t::variety.eq(&p.variety),
            $t::tree_age.eq(p.tree_age),
            $t::tree_count.eq(p.tree_count),
            $t::fruit_per_tree.eq(p.fruit_per_tree),
            $t::area_units.eq(p.area_units),
            $t::attributes.eq(&p.attributes),
            $t::boundary.eq(p.boundary.as_deref()),
            $t::boundary_area_units.eq(p.boundary_area_units),
            $t::eligible.eq(p.eligible),
            $t::reasons.eq(&p.reasons),
            $($extra),*
        )
    }};
}

/// New growers at version 1, in bulk (binary COPY on PostgreSQL, multi-row
/// INSERTs on SQLite) and in the order given, so their ids follow it; the
/// rows written.
pub fn insert_growers<'a>(
    conn: &mut DbConn,
    values: impl IntoIterator<Item = &'a GrowerValues>,
    now: &str,
) -> QueryResult<usize> {
    use super::schema::growers;
    let rows: Vec<_> = values
        .into_iter()
        .map(|g| {
            grower_columns!(growers, g;
                growers::version.eq(1),
                growers::created_at.eq(now),
                growers::updated_at.eq(now))
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    crate::bulk_copy!(conn, growers::table, rows, 11)
}

/// New plots at version 1, in bulk and in the order given; the rows written.
pub fn insert_plots<'a>(
    conn: &mut DbConn,
    values: impl IntoIterator<Item = &'a PlotValues>,
    now: &str,
) -> QueryResult<usize> {
    use super::schema::plots;
    let rows: Vec<_> = values
        .into_iter()
        .map(|p| {
            plot_columns!(plots, p;
                plots::version.eq(1),
                plots::created_at.eq(now),
                plots::updated_at.eq(now))
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    crate::bulk_copy!(conn, plots::table, rows, 18)
}

/// The temporary tables `update_many` fills (see `db::update_from`).
mod changes {
    diesel::table! {
        grower_changes (id) {
            id -> BigInt,
            year -> Integer,
            id_number -> Text,
            name -> Text,
            phone -> Text,
            bank_name -> Text,
            bank_account -> Text,
            village_id -> BigInt,
            township_id -> BigInt,
            version -> Integer,
            updated_at -> Text,
        }
    }

    diesel::table! {
        plot_changes (id) {
            id -> BigInt,
            code -> Text,
            grower_id -> BigInt,
            scheme_id -> BigInt,
            village_id -> BigInt,
            township_id -> BigInt,
            variety -> Text,
            tree_age -> Integer,
            tree_count -> Integer,
            fruit_per_tree -> Integer,
            area_units -> BigInt,
            attributes -> Text,
            boundary -> Nullable<Text>,
            boundary_area_units -> Nullable<BigInt>,
            eligible -> Bool,
            reasons -> Text,
            version -> Integer,
            updated_at -> Text,
        }
    }
}

/// `growers::update` for many rows in one statement: (id, new values, the
/// version they were read at).
pub fn update_growers(
    conn: &mut DbConn,
    rows: &[(i64, &GrowerValues, i32)],
    now: &str,
) -> QueryResult<usize> {
    use changes::grower_changes as t;
    if rows.is_empty() {
        return Ok(0);
    }
    let columns = [
        ("id", "BIGINT"),
        ("year", "INTEGER"),
        ("id_number", "TEXT"),
        ("name", "TEXT"),
        ("phone", "TEXT"),
        ("bank_name", "TEXT"),
        ("bank_account", "TEXT"),
        ("village_id", "BIGINT"),
        ("township_id", "BIGINT"),
        ("version", "INTEGER"),
        ("updated_at", "TEXT"),
    ];
    super::update_from(conn, "growers", "grower_changes", &columns, |conn| {
        let values: Vec<_> = rows
            .iter()
            .map(|(id, g, version)| {
                grower_columns!(t, g;
                    t::id.eq(*id),
                    t::version.eq(version + 1),
                    t::updated_at.eq(now))
            })
            .collect();
        crate::bulk_copy!(conn, t::table, values, 11)
    })
}

/// `plots::update` for many rows in one statement: (id, new values, the
/// version they were read at).
pub fn update_plots(
    conn: &mut DbConn,
    rows: &[(i64, &PlotValues, i32)],
    now: &str,
) -> QueryResult<usize> {
    use changes::plot_changes as t;
    if rows.is_empty() {
        return Ok(0);
    }
    let columns = [
        ("id", "BIGINT"),
        ("code", "TEXT"),
        ("grower_id", "BIGINT"),
        ("scheme_id", "BIGINT"),
        ("village_id", "BIGINT"),
        ("township_id", "BIGINT"),
        ("variety", "TEXT"),
        ("tree_age", "INTEGER"),
        ("tree_count", "INTEGER"),
        ("fruit_per_tree", "INTEGER"),
        ("area_units", "BIGINT"),
        ("attributes", "TEXT"),
        ("boundary", "TEXT"),
        ("boundary_area_units", "BIGINT"),
        ("eligible", "BOOLEAN"),
        ("reasons", "TEXT"),
        ("version", "INTEGER"),
        ("updated_at", "TEXT"),
    ];
    super::update_from(conn, "plots", "plot_changes", &columns, |conn| {
        let values: Vec<_> = rows
            .iter()
            .map(|(id, p, version)| {
                plot_columns!(t, p;
                    t::id.eq(*id),
                    t::version.eq(version + 1),
                    t::updated_at.eq(now))
            })
            .collect();
        crate::bulk_copy!(conn, t::table, values, 18)
    })
}

/// What a roster import looks up of the rows stored outside its township,
/// by the keys its file names (a province holds a million growers a year;
/// an import reads only those it needs).
pub mod lookups {
    use crate::db::models::{Grower, Plot};
    use crate::db::schema::{growers, plots};
    use crate::db::DbConn;
    use diesel::prelude::*;

    /// The growers of `year` stored in `township`.
    pub fn growers_in(conn: &mut DbConn, year: i32, township: i64) -> QueryResult<Vec<Grower>> {
        growers::table
            .filter(growers::township_id.eq(township))
            .filter(growers::year.eq(year))
            .select(Grower::as_select())
            .load(conn)
    }

    /// The plots of `scheme` stored in `township`.
    pub fn plots_in(conn: &mut DbConn, scheme: i64, township: i64) -> QueryResult<Vec<Plot>> {
        plots::table
            .filter(plots::township_id.eq(township))
            .filter(plots::scheme_id.eq(scheme))
            .select(Plot::as_select())
            .load(conn)
    }

    /// Whether any grower of `year` is enrolled outside `township`, and any
    /// plot of `scheme` stored outside it: when not (the season's first
    /// roster of a county), there is nothing to look up.
    pub fn anything_elsewhere(
        conn: &mut DbConn,
        (year, scheme): (i32, i64),
        township: i64,
    ) -> QueryResult<(bool, bool)> {
        let growers = diesel::select(diesel::dsl::exists(
            growers::table
                .filter(growers::year.eq(year))
                .filter(growers::township_id.ne(township)),
        ))
        .get_result(conn)?;
        let plots = diesel::select(diesel::dsl::exists(
            plots::table
                .filter(plots::scheme_id.eq(scheme))
                .filter(plots::township_id.ne(township)),
        ))
        .get_result(conn)?;
        Ok((growers, plots))
    }

    /// `column IN` the keys, as one JSON array parameter (SQLite): with a
    /// `?` per key SQLite parses and binds a statement of a thousand
    /// parameters per batch, which cost more than the lookups themselves.
    macro_rules! in_json_array {
        ($column:literal, $keys:expr) => {{
            let json = serde_json::to_string($keys)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            diesel::dsl::sql::<diesel::sql_types::Bool>(concat!(
                $column,
                " IN (SELECT value FROM json_each("
            ))
            .bind::<diesel::sql_types::Text, _>(json)
            .sql("))")
        }};
    }

    /// The growers of `year` outside `township` with these ID numbers.
    pub fn growers_elsewhere(
        conn: &mut DbConn,
        year: i32,
        township: i64,
        id_numbers: &[&str],
    ) -> QueryResult<Vec<Grower>> {
        macro_rules! outside {
            () => {
                growers::table
                    .filter(growers::year.eq(year))
                    .filter(growers::township_id.ne(township))
                    .select(Grower::as_select())
            };
        }
        match conn {
            DbConn::Sqlite(c) => outside!()
                .filter(in_json_array!("growers.id_number", id_numbers))
                .load(c),
            // One array parameter (`= ANY($1)`).
            DbConn::Postgresql(c) => outside!()
                .filter(growers::id_number.eq_any(id_numbers))
                .load(c),
        }
    }

    /// The plots of `scheme` outside `township` with these codes.
    pub fn plots_elsewhere(
        conn: &mut DbConn,
        scheme: i64,
        township: i64,
        codes: &[&str],
    ) -> QueryResult<Vec<Plot>> {
        macro_rules! outside {
            () => {
                plots::table
                    .filter(plots::scheme_id.eq(scheme))
                    .filter(plots::township_id.ne(township))
                    .select(Plot::as_select())
            };
        }
        match conn {
            DbConn::Sqlite(c) => outside!()
                .filter(in_json_array!("plots.code", codes))
                .load(c),
            DbConn::Postgresql(c) => outside!().filter(plots::code.eq_any(codes)).load(c),
        }
    }

    /// Codes of the plots of `scheme` outside `township` that begin with
    /// `prefix` (a village's code and `-`: a readable code someone typed
    /// into another township's roster), so a new code skips them.
    pub fn codes_elsewhere_with_prefix(
        conn: &mut DbConn,
        scheme: i64,
        township: i64,
        prefix: &str,
    ) -> QueryResult<Vec<String>> {
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        plots::table
            .filter(plots::scheme_id.eq(scheme))
            .filter(plots::township_id.ne(township))
            .filter(plots::code.like(pattern).escape('\\'))
            .select(plots::code)
            .load(conn)
    }
}
