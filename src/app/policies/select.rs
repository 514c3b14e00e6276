//! Which policies a bulk action works on: the ids a user ticked, or "all
//! matching" a filter (township, village) resolved here on the server, over
//! every page of the list, not just the one on screen.

use crate::app::{Actor, Page, Paged};
use crate::db::models::Policy;
use crate::db::schema::{areas, growers, policies};
use crate::db::DbConn;
use crate::domain::policy::PolicyStatus;
use crate::domain::time::Day;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};

/// Most policies one bulk action takes, ticked or matching (a township's
/// season is a few hundred).
pub const MAX_BULK: usize = 1_000;

/// "All matching": the policies of the current scheme in this township
/// and/or village that the action can take (its statuses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matching {
    pub township_id: Option<i64>,
    pub village_id: Option<i64>,
}

/// The policies a bulk action is asked to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Ids(Vec<i64>),
    Matching(Matching),
}

impl Selection {
    /// Exactly one of the two ways: ticked ids or a filter.
    pub fn of(ids: Option<Vec<i64>>, filter: Option<Matching>) -> AppResult<Selection> {
        match (ids, filter) {
            (Some(ids), None) => Ok(Selection::Ids(ids)),
            (None, Some(m)) => Ok(Selection::Matching(m)),
            _ => Err(AppError::invalid(
                "ids",
                ErrorCode::SelectionInvalid,
                "请勾选保单（ids），或选择全部符合条件的保单（filter），二者选一",
            )),
        }
    }
}

/// Which policies an action can take: its statuses, and whether they must
/// not be in a premium batch yet.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    pub statuses: &'static [PolicyStatus],
    pub unbatched: bool,
}

pub const DRAFTS: Want = Want {
    statuses: &[PolicyStatus::Draft],
    unbatched: false,
};
pub const COLLECTED: Want = Want {
    statuses: &[PolicyStatus::Collected],
    unbatched: false,
};
pub const TO_HAND_OVER: Want = Want {
    statuses: &[PolicyStatus::Collected, PolicyStatus::Issued],
    unbatched: true,
};
pub const ISSUED: Want = Want {
    statuses: &[PolicyStatus::Issued, PolicyStatus::Expired],
    unbatched: false,
};

/// Ticked ids: duplicates count once, at least one, at most [`MAX_BULK`].
pub fn checked_ids(ids: &[i64], verb: &str) -> AppResult<Vec<i64>> {
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
    if ids.is_empty() {
        return Err(AppError::invalid(
            "ids",
            ErrorCode::ValueRequired,
            "请至少选择一份保单",
        ));
    }
    if ids.len() > MAX_BULK {
        return Err(AppError::invalid(
            "ids",
            ErrorCode::TooManyPolicies,
            format!(
                "一次最多{verb}{MAX_BULK}份保单，本次选择了{}份，请分批{verb}",
                ids.len()
            ),
        ));
    }
    Ok(ids)
}

/// A township-bound actor (a station) names only its own township's
/// policies: one id of another township refuses the whole request, before
/// anything is written. Ids that exist nowhere are left to the action,
/// which lists them as not found.
pub fn within_reach(conn: &mut DbConn, actor: &Actor, ids: &[i64]) -> AppResult<()> {
    let Some(own) = actor.township_scope() else {
        return Ok(());
    };
    let mut foreign = 0i64;
    for chunk in ids.chunks(MAX_BULK) {
        foreign += policies::table
            .filter(policies::id.eq_any(chunk))
            .filter(policies::township_id.ne(own))
            .count()
            .get_result::<i64>(conn)?;
    }
    if foreign > 0 {
        return Err(AppError::Forbidden(format!(
            "所选保单中有{foreign}份不属于您所在的乡镇，未做任何处理"
        )));
    }
    Ok(())
}

/// The filter checked against the actor's reach: a station may not name
/// another township, nor a village outside its own.
fn check_filter(conn: &mut DbConn, actor: &Actor, m: &Matching) -> AppResult<()> {
    let Some(own) = actor.township_scope() else {
        return Ok(());
    };
    if m.township_id.is_some_and(|t| t != own) {
        return Err(AppError::Forbidden("只能选择本乡镇的保单".into()));
    }
    if let Some(v) = m.village_id {
        let parent: Option<Option<i64>> = areas::table
            .find(v)
            .select(areas::parent_id)
            .first(conn)
            .optional()?;
        if parent.flatten() != Some(own) {
            return Err(AppError::Forbidden("只能选择本乡镇的村".into()));
        }
    }
    Ok(())
}

type Boxed<'a> = policies::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

fn matching_query(actor: &Actor, scheme_id: i64, m: &Matching, want: Want) -> Boxed<'static> {
    let mut q = policies::table
        .filter(policies::scheme_id.eq(scheme_id))
        .filter(policies::status.eq_any(want.statuses.to_vec()))
        .into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(policies::township_id.eq(t));
    }
    if let Some(t) = m.township_id {
        q = q.filter(policies::township_id.eq(t));
    }
    if let Some(v) = m.village_id {
        q = q.filter(
            policies::grower_id.eq_any(
                growers::table
                    .filter(growers::village_id.eq(v))
                    .select(growers::id),
            ),
        );
    }
    if want.unbatched {
        q = q.filter(policies::batch_id.is_null());
    }
    q
}

fn current_scheme(conn: &mut DbConn) -> AppResult<i64> {
    Ok(crate::app::schemes::current(conn)?
        .ok_or_else(|| AppError::not_found("险种方案"))?
        .id)
}

/// The ids of every policy matching the filter, across all pages, in
/// policy-number order; more than [`MAX_BULK`] is refused.
pub fn matching_ids(
    conn: &mut DbConn,
    actor: &Actor,
    m: &Matching,
    want: Want,
    verb: &str,
) -> AppResult<Vec<i64>> {
    check_filter(conn, actor, m)?;
    let scheme = current_scheme(conn)?;
    let ids: Vec<i64> = matching_query(actor, scheme, m, want)
        .order(policies::policy_no)
        .limit(MAX_BULK as i64 + 1)
        .select(policies::id)
        .load(conn)?;
    if ids.len() > MAX_BULK {
        return Err(AppError::invalid(
            "filter",
            ErrorCode::TooManyPolicies,
            format!("符合条件的保单超过{MAX_BULK}份，请按村筛选后分批{verb}"),
        ));
    }
    if ids.is_empty() {
        return Err(AppError::invalid(
            "filter",
            ErrorCode::ValueRequired,
            "没有符合条件的保单",
        ));
    }
    Ok(ids)
}

/// The selection as ids: ticked ones checked, a filter resolved.
pub fn resolve(
    conn: &mut DbConn,
    actor: &Actor,
    sel: &Selection,
    want: Want,
    verb: &str,
) -> AppResult<Vec<i64>> {
    let ids = match sel {
        Selection::Ids(ids) => checked_ids(ids, verb)?,
        Selection::Matching(m) => matching_ids(conn, actor, m, want, verb)?,
    };
    within_reach(conn, actor, &ids)?;
    Ok(ids)
}

/// One row of a pick list.
#[derive(Debug, Clone, Serialize)]
pub struct PickRow {
    pub id: i64,
    pub policy_no: String,
    pub grower_name: String,
    pub village_name: String,
    pub township_name: String,
    pub status_name: String,
    pub insured_mu: Mu,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    pub share_collected_on: Option<Day>,
}

/// A page of the policies a bulk action can take, with the totals of all
/// of them (every page).
#[derive(Debug, Clone, Serialize)]
pub struct PickList {
    #[serde(flatten)]
    pub paged: Paged<PickRow>,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
}

pub fn pick_list(
    conn: &mut DbConn,
    actor: &Actor,
    m: &Matching,
    want: Want,
    page: Option<i64>,
    page_size: i64,
) -> AppResult<PickList> {
    check_filter(conn, actor, m)?;
    let page = Page::new(page, Some(page_size))?;
    let scheme = current_scheme(conn)?;
    let sums: (i64, i64, i64, i64) = matching_query(actor, scheme, m, want)
        .select((
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>("CAST(COALESCE(SUM(premium_fen), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(grower_share_fen), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(subsidy_fen), 0) AS BIGINT)"),
        ))
        .first(conn)?;
    let rows: Vec<Policy> = matching_query(actor, scheme, m, want)
        .order(policies::policy_no)
        .limit(page.size)
        .offset(page.offset())
        .select(Policy::as_select())
        .load(conn)?;
    let gids: Vec<i64> = rows.iter().map(|p| p.grower_id).collect();
    let growers: std::collections::HashMap<i64, (String, i64)> = growers::table
        .filter(growers::id.eq_any(&gids))
        .select((growers::id, growers::name, growers::village_id))
        .load::<(i64, String, i64)>(conn)?
        .into_iter()
        .map(|(id, n, v)| (id, (n, v)))
        .collect();
    let names = crate::app::areas::names(conn)?;
    let name = |id: i64| names.get(&id).map(|a| a.name.clone()).unwrap_or_default();
    let items = rows
        .iter()
        .map(|p| {
            let (grower_name, village) = growers.get(&p.grower_id).cloned().unwrap_or_default();
            PickRow {
                id: p.id,
                policy_no: p.policy_no.clone(),
                grower_name,
                village_name: name(village),
                township_name: name(p.township_id),
                status_name: p.status.name().to_string(),
                insured_mu: p.insured_area_units,
                premium: p.premium_fen,
                grower_share: p.grower_share_fen,
                subsidy: p.subsidy_fen,
                share_collected_on: p.share_collected_on,
            }
        })
        .collect();
    Ok(PickList {
        paged: Paged::new(items, sums.0, page),
        premium: Fen(sums.1),
        grower_share: Fen(sums.2),
        subsidy: Fen(sums.3),
    })
}
