//! Policy queries written more than once.

use super::schema::{policies, policy_subsidy_levels};
use super::DbConn;
use crate::domain::measure::Mu;
use crate::domain::money::Fen;
use crate::domain::premium::Quote;
use diesel::dsl::Eq;
use diesel::prelude::*;

/// A policy's insured area and money, as one set of column values.
pub type Priced = (
    Eq<policies::insured_area_units, Mu>,
    Eq<policies::sum_insured_fen, Fen>,
    Eq<policies::premium_fen, Fen>,
    Eq<policies::grower_share_fen, Fen>,
    Eq<policies::subsidy_fen, Fen>,
);

/// The columns a quote sets, for an insert or an update.
pub fn priced(q: &Quote) -> Priced {
    (
        policies::insured_area_units.eq(q.mu),
        policies::sum_insured_fen.eq(q.sum_insured),
        policies::premium_fen.eq(q.premium),
        policies::grower_share_fen.eq(q.grower_share),
        policies::subsidy_fen.eq(q.subsidy),
    )
}

/// Delete policies with their subsidy levels.
pub fn delete(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(
        policy_subsidy_levels::table.filter(policy_subsidy_levels::policy_id.eq_any(ids)),
    )
    .execute(conn)?;
    diesel::delete(policies::table.filter(policies::id.eq_any(ids))).execute(conn)
}
