//! Policies (保单): one per grower per scheme, covering the grower's eligible
//! plots. draft → collected (grower share paid) → issued → expired | cancelled.

use super::schemes::Scheme;
use super::{audit, Actor};
use crate::app::clock::past_day;
use crate::db::models::{Grower, Policy};
use crate::db::policies::NewPolicy;
use crate::db::schema::{areas, growers, plots, policies};
use crate::db::{self, now_text, DbConn};
use crate::domain::id_number::mask_id;
use crate::domain::policy::PolicyStatus;
use crate::domain::premium::{quote, Quote};
use crate::domain::scheme::FundingLevel;
use crate::domain::time::Day;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

mod bulk;
mod list;
pub use list::{list, PolicyFilter, PolicyList, PolicySort, PolicyTotals};
pub mod select;
pub use bulk::{
    collect_many, issue_many, issue_selected, BulkIssue, BulkItem, BulkLine, BulkRun,
    MAX_BULK_ISSUE,
};

/// Codes and names of the statuses, for filters and drop-downs.
pub const STATUSES: [(&str, &str); 5] = [
    status_pair(PolicyStatus::Draft),
    status_pair(PolicyStatus::Collected),
    status_pair(PolicyStatus::Issued),
    status_pair(PolicyStatus::Expired),
    status_pair(PolicyStatus::Cancelled),
];

const fn status_pair(s: PolicyStatus) -> (&'static str, &'static str) {
    (s.as_str(), s.name())
}

/// True once the premium was collected: the policy's money no longer follows plot edits.
pub fn locked_for(conn: &mut DbConn, grower_id: i64, scheme_id: i64) -> AppResult<bool> {
    Ok(policies::table
        .filter(policies::grower_id.eq(grower_id))
        .filter(policies::scheme_id.eq(scheme_id))
        .filter(policies::status.ne(PolicyStatus::Draft))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

fn next_policy_no(conn: &mut DbConn, scheme: &Scheme, township_code: &str) -> AppResult<String> {
    let prefix = format!("{}{}", scheme.def.year, township_code);
    let count: i64 = policies::table
        .filter(policies::policy_no.like(format!("{prefix}%")))
        .count()
        .get_result(conn)?;
    let mut n = count + 1;
    loop {
        let no = format!("{prefix}{n:05}");
        let taken: i64 = policies::table
            .filter(policies::policy_no.eq(&no))
            .count()
            .get_result(conn)?;
        if taken == 0 {
            return Ok(no);
        }
        n += 1;
    }
}

/// Bring a grower's draft policy in line with their eligible plots: create it
/// when the first eligible plot appears, recompute while it is a draft, and
/// remove an empty draft. Policies past draft keep the money that was collected.
pub fn sync(conn: &mut DbConn, actor: &Actor, grower_id: i64, scheme_id: i64) -> AppResult<()> {
    let scheme = super::schemes::by_id(conn, scheme_id)?;
    let units: Mu = plots::table
        .filter(plots::grower_id.eq(grower_id))
        .filter(plots::scheme_id.eq(scheme_id))
        .filter(plots::eligible.eq(true))
        .select(sql::<BigInt>(
            "CAST(COALESCE(SUM(area_units), 0) AS BIGINT)",
        ))
        .first(conn)?;
    let existing = policies::table
        .filter(policies::grower_id.eq(grower_id))
        .filter(policies::scheme_id.eq(scheme_id))
        .select(Policy::as_select())
        .first(conn)
        .optional()?;
    if let Some(p) = &existing {
        if p.status != PolicyStatus::Draft {
            return Ok(());
        }
    }
    if units == Mu::ZERO {
        if let Some(p) = existing {
            db::policies::delete(conn, &[p.id])?;
            audit::deleted(conn, actor, "policy", p.id, &p)?;
        }
        return Ok(());
    }
    let q = quote(&scheme.def.rates(), units);
    let now = now_text();
    match existing {
        Some(p) => {
            if p.insured_area_units == units {
                return Ok(());
            }
            diesel::update(policies::table.find(p.id))
                .set((
                    db::policies::priced(&q),
                    policies::version.eq(p.version + 1),
                    policies::updated_at.eq(&now),
                ))
                .execute(conn)?;
            let after = super::load::<Policy>(conn, p.id)?;
            audit::updated(conn, actor, "policy", p.id, &p, &after)?;
        }
        None => {
            let grower = super::load::<Grower>(conn, grower_id)?;
            let township_code: String = areas::table
                .find(grower.township_id)
                .select(areas::code)
                .first(conn)?;
            let no = next_policy_no(conn, &scheme, &township_code)?;
            let id: i64 = diesel::insert_into(policies::table)
                .values(NewPolicy::draft(
                    no,
                    scheme_id,
                    grower_id,
                    grower.township_id,
                    &q,
                    &now,
                ))
                .returning(policies::id)
                .get_result(conn)?;
            let after = super::load::<Policy>(conn, id)?;
            audit::record(
                conn,
                actor,
                "create",
                "policy",
                id,
                None::<&()>,
                Some(&after),
            )?;
        }
    }
    Ok(())
}

fn transition(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    action: &str,
    change: impl FnOnce(&mut DbConn, &Policy) -> AppResult<()>,
) -> AppResult<PolicyView> {
    super::tx(conn, |conn| {
        let before = super::scoped::<Policy>(conn, actor, id)?;
        change(conn, &before)?;
        let after = super::load::<Policy>(conn, id)?;
        audit::record(
            conn,
            actor,
            action,
            "policy",
            id,
            Some(&before),
            Some(&after),
        )?;
        view_of(conn, actor, &after)
    })
}

/// The one rule for a grower-share collection date, on every path (single
/// collection, its correction, bulk collection through [`collect`]): a
/// readable date, not after `today`, inside the scheme's collection window
/// ([`SchemeDef::collection_window`](crate::domain::scheme::SchemeDef::collection_window)).
/// Refused with a message naming the allowed range.
pub fn collection_day(
    def: &crate::domain::scheme::SchemeDef,
    text: &str,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    const FIELD: &str = "collected_on";
    const LABEL: &str = "收费日期";
    let date = past_day(FIELD, LABEL, text, today)?;
    let (opens, closes) = def.collection_window();
    let last = closes.min(today);
    if date < opens || date > last {
        let message = if last < opens {
            format!(
                "{}的收费期自{opens}开始，今天（{today}）还不能登记收费",
                def.name
            )
        } else {
            format!("{LABEL}须在{opens}至{last}之间（{}的收费期）", def.name)
        };
        return Err(FieldError::new(
            FIELD,
            ErrorCode::CollectionOutOfSeason,
            message,
        ));
    }
    Ok(date)
}

/// The collection window of a policy's scheme as the page shows it: the
/// first and last day a date may be recorded today.
pub fn collection_window(
    conn: &mut DbConn,
    p: &PolicyView,
    today: NaiveDate,
) -> AppResult<serde_json::Value> {
    let scheme = super::schemes::by_code(conn, &p.scheme_code)?;
    let (opens, closes) = scheme.def.collection_window();
    Ok(serde_json::json!({
        "opens": opens.to_string(),
        "closes": closes.min(today).to_string(),
    }))
}

/// The township station records that the grower paid their share on `date`.
pub fn collect(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    date: &str,
    today: NaiveDate,
) -> AppResult<PolicyView> {
    actor.require(actor.can_collect_premium())?;
    // A date that cannot be read is refused before the policy is looked at.
    past_day("collected_on", "收费日期", date, today).map_err(AppError::from)?;
    transition(conn, actor, id, "collect", |conn, p| {
        if p.status != PolicyStatus::Draft {
            return Err(AppError::conflict(
                ErrorCode::PolicyNotDraft,
                format!(
                    "保单{}状态为{}，不能再登记收费",
                    p.policy_no,
                    p.status.name()
                ),
            ));
        }
        let scheme = super::schemes::by_id(conn, p.scheme_id)?;
        let date = collection_day(&scheme.def, date, today)?;
        diesel::update(policies::table.find(p.id))
            .set((
                policies::status.eq(PolicyStatus::Collected),
                policies::share_collected_on.eq(date.format("%Y-%m-%d").to_string()),
                policies::version.eq(p.version + 1),
                policies::updated_at.eq(now_text()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Correct a wrongly recorded collection date while the policy is collected
/// but not yet issued; the same rule as [`collect`], audited as its own action.
pub fn correct_collection(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    date: &str,
    today: NaiveDate,
) -> AppResult<PolicyView> {
    actor.require(actor.can_collect_premium())?;
    past_day("collected_on", "收费日期", date, today).map_err(AppError::from)?;
    transition(conn, actor, id, "correct_collection", |conn, p| {
        if p.status != PolicyStatus::Collected {
            return Err(AppError::conflict(
                ErrorCode::PolicyNotCollected,
                format!(
                    "保单{}状态为{}，只有已收费、未签发的保单可以更正收费日期",
                    p.policy_no,
                    p.status.name()
                ),
            ));
        }
        let scheme = super::schemes::by_id(conn, p.scheme_id)?;
        let date = collection_day(&scheme.def, date, today)?;
        diesel::update(policies::table.find(p.id))
            .set((
                policies::share_collected_on.eq(date.format("%Y-%m-%d").to_string()),
                policies::version.eq(p.version + 1),
                policies::updated_at.eq(now_text()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The underwriter issues: cover runs from the later of the term start and
/// the day the grower's share was collected, to the term end. Only after the
/// village's enrollment notice showed the policy as it stands and its period
/// ended with every objection resolved (`notices::issuable`, as of `today`).
pub fn issue(conn: &mut DbConn, actor: &Actor, id: i64, today: NaiveDate) -> AppResult<PolicyView> {
    actor.require(actor.can_underwrite())?;
    transition(conn, actor, id, "issue", |conn, p| {
        if p.status != PolicyStatus::Collected {
            return Err(AppError::conflict(
                ErrorCode::PolicyNotCollected,
                format!(
                    "保单{}尚未收取农户自缴保费（当前：{}），不能签发",
                    p.policy_no,
                    p.status.name()
                ),
            ));
        }
        super::notices::issuable(conn, p, today)?;
        let scheme = super::schemes::by_id(conn, p.scheme_id)?;
        super::inspection::issuable(conn, p, &scheme)?;
        let collected = p
            .share_collected_on
            .map(Day::date)
            .ok_or_else(|| AppError::Internal("collected policy without date".into()))?;
        let start = collected.max(scheme.def.term_start);
        if start > scheme.def.term_end {
            return Err(AppError::conflict(
                ErrorCode::PolicyAfterTerm,
                format!(
                    "保单{}的收费日期{collected}晚于保险期间终止日{}，不能签发；请乡镇站先在保单页更正收费日期",
                    p.policy_no, scheme.def.term_end
                ),
            ));
        }
        diesel::update(policies::table.find(p.id))
            .set((
                policies::status.eq(PolicyStatus::Issued),
                policies::cover_start.eq(start.format("%Y-%m-%d").to_string()),
                policies::cover_end.eq(scheme.def.term_end.format("%Y-%m-%d").to_string()),
                policies::version.eq(p.version + 1),
                policies::updated_at.eq(now_text()),
            ))
            .execute(conn)?;
        super::finance::after_policy_transition(conn, actor, p, PolicyStatus::Issued)
    })
}

pub fn cancel(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<PolicyView> {
    actor.require(actor.can_underwrite())?;
    transition(conn, actor, id, "cancel", |conn, p| {
        if !p.status.can_move_to(PolicyStatus::Cancelled) {
            return Err(AppError::conflict(
                ErrorCode::PolicyClosed,
                format!("保单{}{}，不能注销", p.policy_no, p.status.name()),
            ));
        }
        diesel::update(policies::table.find(p.id))
            .set((
                policies::status.eq(PolicyStatus::Cancelled),
                policies::version.eq(p.version + 1),
                policies::updated_at.eq(now_text()),
            ))
            .execute(conn)?;
        super::finance::after_policy_transition(conn, actor, p, PolicyStatus::Cancelled)
    })
}

/// Mark issued policies whose cover ended before `today` as expired.
pub fn expire_due(conn: &mut DbConn, today: NaiveDate) -> AppResult<usize> {
    let due: Vec<Policy> = policies::table
        .filter(policies::status.eq(PolicyStatus::Issued))
        .filter(policies::cover_end.lt(today.format("%Y-%m-%d").to_string()))
        .select(Policy::as_select())
        .load::<Policy>(conn)?
        .into_iter()
        .filter(|p| {
            let end = p.cover_end.map(Day::date);
            crate::domain::policy::is_due_to_expire(p.status, end, today)
        })
        .collect();
    let actor = Actor::system();
    for p in &due {
        super::tx(conn, |conn| {
            diesel::update(policies::table.find(p.id))
                .set((
                    policies::status.eq(PolicyStatus::Expired),
                    policies::updated_at.eq(now_text()),
                ))
                .execute(conn)?;
            let after = super::load::<Policy>(conn, p.id)?;
            audit::record(
                conn,
                &actor,
                "expire",
                "policy",
                p.id,
                Some(p),
                Some(&after),
            )
        })?;
    }
    Ok(due.len())
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelView {
    pub level: FundingLevel,
    pub name: String,
    pub amount: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub id: i64,
    pub policy_no: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub grower_id: i64,
    pub grower_name: String,
    pub grower_id_number: String,
    pub township_id: i64,
    pub township_name: String,
    pub status: PolicyStatus,
    pub status_name: String,
    pub insured_mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    pub subsidy_levels: Vec<LevelView>,
    pub share_collected_on: Option<Day>,
    pub cover_start: Option<Day>,
    pub cover_end: Option<Day>,
    pub batch_receipt_no: Option<String>,
    pub version: i32,
}

/// A policy as an action's answer or a list names it: the ID number masked.
pub fn view_of(conn: &mut DbConn, _actor: &Actor, p: &Policy) -> AppResult<PolicyView> {
    view_full(conn, p, false)
}

fn view_full(conn: &mut DbConn, p: &Policy, full: bool) -> AppResult<PolicyView> {
    let (_, shown) =
        crate::db::policies::shown(conn, p.id, None)?.ok_or_else(|| AppError::not_found("保单"))?;
    shown_view(p, shown, full)
}

/// The view of `p` from what [`crate::db::policies::shown`] read with it.
fn shown_view(p: &Policy, shown: crate::db::policies::Shown, full: bool) -> AppResult<PolicyView> {
    let (scheme, grower_name, id_number, township_name, receipt) = shown;
    let scheme = super::schemes::from_row(scheme)?;
    Ok(build_view(
        p,
        &scheme,
        &grower_name,
        &id_number,
        &township_name,
        receipt,
        full,
    ))
}

#[allow(clippy::too_many_arguments)]
fn build_view(
    p: &Policy,
    scheme: &Scheme,
    grower_name: &str,
    id_number: &str,
    township_name: &str,
    receipt: Option<String>,
    full: bool,
) -> PolicyView {
    PolicyView {
        id: p.id,
        policy_no: p.policy_no.clone(),
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        grower_id: p.grower_id,
        grower_name: grower_name.to_string(),
        grower_id_number: if full {
            id_number.to_string()
        } else {
            mask_id(id_number)
        },
        township_id: p.township_id,
        township_name: township_name.to_string(),
        status: p.status,
        status_name: p.status.name().to_string(),
        insured_mu: p.insured_area_units,
        sum_insured: p.sum_insured_fen,
        premium: p.premium_fen,
        grower_share: p.grower_share_fen,
        subsidy: p.subsidy_fen,
        // In the scheme's order, as the quote split them.
        subsidy_levels: scheme
            .def
            .rates()
            .levels
            .into_iter()
            .filter_map(|(level, _)| {
                Some(LevelView {
                    level,
                    name: level.name().to_string(),
                    amount: p.level(level)?,
                })
            })
            .collect(),
        share_collected_on: p.share_collected_on,
        cover_start: p.cover_start,
        cover_end: p.cover_end,
        batch_receipt_no: receipt,
        version: p.version,
    }
}

/// The policy on its own page, with the insured's ID number masked for
/// every role: a policy is read far more often than its insured's identity
/// is needed, and the full number is one click away on the grower's page,
/// where that read is audited. (Auditing every policy read made each one a
/// write: on SQLite the policy reads fell from 5,700/s to 2,200/s.)
pub fn get_view(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<PolicyView> {
    let (p, shown) = crate::db::policies::shown(conn, id, actor.township_scope())?
        .ok_or_else(|| AppError::not_found("保单"))?;
    shown_view(&p, shown, false)
}

pub fn of_grower(conn: &mut DbConn, actor: &Actor, grower_id: i64) -> AppResult<Vec<PolicyView>> {
    let g = super::scoped::<Grower>(conn, actor, grower_id)?;
    let rows: Vec<Policy> = policies::table
        .filter(policies::grower_id.eq(g.id))
        .select(Policy::as_select())
        .load(conn)?;
    rows.iter().map(|p| view_of(conn, actor, p)).collect()
}

/// Drafts repriced to new quotes in one statement, each with the audit row
/// `sync` writes for it (before and after, as stored).
fn reprice_many(
    conn: &mut DbConn,
    actor: &Actor,
    rows: &[(&Policy, Quote)],
    now: &str,
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let updates: Vec<(i64, &Quote, i32)> = rows.iter().map(|(p, q)| (p.id, q, p.version)).collect();
    db::policies::reprice_many(conn, &updates, now)?;
    let at = crate::domain::time::Instant::parse_stored(now)
        .map_err(|e| AppError::Internal(format!("保单更新时间：{e}")))?;
    let pending = rows
        .iter()
        .map(|(p, q)| {
            let after = Policy {
                insured_area_units: q.mu,
                sum_insured_fen: q.sum_insured,
                premium_fen: q.premium,
                grower_share_fen: q.grower_share,
                subsidy_fen: q.subsidy,
                subsidy_central_fen: q.level(FundingLevel::Central),
                subsidy_provincial_fen: q.level(FundingLevel::Provincial),
                subsidy_city_fen: q.level(FundingLevel::City),
                subsidy_county_fen: q.level(FundingLevel::County),
                version: p.version + 1,
                updated_at: at,
                ..(*p).clone()
            };
            audit::Pending {
                action: "update",
                entity: "policy",
                entity_id: p.id,
                before: audit::json(p),
                after: audit::json(&after),
            }
        })
        .collect();
    audit::record_many(conn, actor, pending)
}

/// What a bulk caller already knows of a grower after its writes: the
/// grower's eligible area in the scheme (the policy's insured area), its
/// township, and whether it was just created (then it has no policy yet).
#[derive(Debug, Clone, Copy)]
pub struct KnownGrower {
    pub units: i64,
    pub township_id: i64,
    pub created: bool,
}

/// `sync` for many growers at once (roster import): new draft policies are
/// written in bulk, and drafts whose insured area changed are repriced in one
/// update with an audit row each (a draft left without eligible area goes
/// through `sync`, which deletes it). `known` holds what the caller knows
/// after its writes (see `KnownGrower`); only the other growers are looked up.
/// Returns the ids of the policies created, for the import's audit entry.
pub fn sync_many(
    conn: &mut DbConn,
    actor: &Actor,
    grower_ids: &[i64],
    known: &std::collections::HashMap<i64, KnownGrower>,
    scheme_id: i64,
    phases: &mut super::Phases,
) -> AppResult<Vec<i64>> {
    use std::collections::{HashMap, HashSet};
    const CHUNK: usize = 1_000;
    let others: Vec<i64> = grower_ids
        .iter()
        .copied()
        .filter(|g| !known.contains_key(g))
        .collect();
    if crate::db::backend(conn) == crate::db::Backend::Postgres && others.len() > CHUNK {
        // A bulk import has just filled these tables inside this transaction;
        // without fresh statistics PostgreSQL plans the lookups below as scans.
        diesel::sql_query("ANALYZE growers, plots, policies").execute(conn)?;
    }
    let scheme = super::schemes::by_id(conn, scheme_id)?;
    let rates = scheme.def.rates();
    let now = now_text();
    let township_codes: HashMap<i64, String> = super::areas::names(conn)?
        .into_values()
        .filter(|a| a.level == crate::domain::area::AreaLevel::Township)
        .map(|a| (a.id, a.code))
        .collect();
    // Every policy of the scheme, read once: per-chunk lookups by grower list
    // turn into scans while this transaction is filling the table. A grower
    // created by this import has none.
    let all_created = grower_ids
        .iter()
        .all(|g| known.get(g).is_some_and(|k| k.created));
    let existing: HashMap<i64, Policy> = if all_created {
        HashMap::new()
    } else {
        policies::table
            .filter(policies::scheme_id.eq(scheme_id))
            .select(Policy::as_select())
            .load(conn)?
            .into_iter()
            .map(|p| (p.grower_id, p))
            .collect()
    };
    // Townships and eligible areas: from the caller where it knows them,
    // from the database for the others.
    let mut units: HashMap<i64, i64> = known.iter().map(|(g, k)| (*g, k.units)).collect();
    let mut townships: HashMap<i64, i64> = known.iter().map(|(g, k)| (*g, k.township_id)).collect();
    for chunk in others.chunks(CHUNK) {
        units.extend(
            plots::table
                .filter(plots::scheme_id.eq(scheme_id))
                .filter(plots::eligible.eq(true))
                .filter(plots::grower_id.eq_any(chunk))
                .group_by(plots::grower_id)
                .select((
                    plots::grower_id,
                    sql::<BigInt>("CAST(COALESCE(SUM(area_units), 0) AS BIGINT)"),
                ))
                .load::<(i64, i64)>(conn)?,
        );
        townships.extend(
            growers::table
                .filter(growers::id.eq_any(chunk))
                .select((growers::id, growers::township_id))
                .load::<(i64, i64)>(conn)?,
        );
    }
    phases.lap("policies: lookups");

    let mut taken_numbers: HashMap<i64, (HashSet<String>, i64)> = HashMap::new();
    let mut new_rows = Vec::new();
    // Drafts whose insured area changed: repriced in one update.
    let mut repriced: Vec<(&Policy, Quote)> = Vec::new();
    for g in grower_ids {
        let u = units.get(g).copied().unwrap_or(0);
        match existing.get(g) {
            Some(p)
                if p.status == PolicyStatus::Draft && p.insured_area_units != Mu::from_units(u) =>
            {
                if u > 0 {
                    repriced.push((p, quote(&rates, Mu::from_units(u))));
                } else {
                    // No eligible area left: `sync` deletes the draft.
                    sync(conn, actor, *g, scheme_id)?
                }
            }
            Some(_) => {}
            None if u > 0 => {
                let township = townships.get(g).copied().ok_or_else(|| {
                    AppError::Internal(format!("生成保单：找不到农户{g}所在的乡镇"))
                })?;
                let code = township_codes.get(&township).cloned().unwrap_or_default();
                let prefix = format!("{}{}", scheme.def.year, code);
                use std::collections::hash_map::Entry;
                let (taken, n) = match taken_numbers.entry(township) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let taken: HashSet<String> = policies::table
                            .filter(policies::policy_no.like(format!("{prefix}%")))
                            .select(policies::policy_no)
                            .load(conn)?
                            .into_iter()
                            .collect();
                        e.insert((taken, 0))
                    }
                };
                let no = loop {
                    *n += 1;
                    let no = format!("{prefix}{n:05}");
                    if !taken.contains(&no) {
                        break no;
                    }
                };
                taken.insert(no.clone());
                let q = quote(&rates, Mu::from_units(u));
                new_rows.push((no, *g, township, q));
            }
            None => {}
        }
    }
    reprice_many(conn, actor, &repriced, &now)?;
    if !repriced.is_empty() {
        phases.lap("policies: reprice drafts (with audit rows)");
    }
    drop(repriced);
    drop(existing);
    drop(taken_numbers);
    if new_rows.is_empty() {
        return Ok(Vec::new());
    }
    // New ids by primary-key range (see import::write for why).
    let before: Option<i64> = policies::table
        .select(diesel::dsl::max(policies::id))
        .first(conn)?;
    let values: Vec<_> = new_rows
        .iter()
        .map(|(no, g, t, q)| NewPolicy::draft(no.clone(), scheme_id, *g, *t, q, &now))
        .collect();
    let n = values.len();
    crate::bulk_copy!(conn, policies::table, values, NewPolicy::COLUMNS)?;
    if let Some(ids) = crate::db::sqlite_written_ids(conn, "policies", n)? {
        phases.lap("policies: insert");
        return Ok(ids.collect());
    }
    let ids: HashMap<String, i64> = policies::table
        .filter(policies::id.gt(before.unwrap_or(0)))
        .filter(policies::scheme_id.eq(scheme_id))
        .select((policies::policy_no, policies::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    phases.lap("policies: insert");
    let id_of = |no: &str| {
        ids.get(no)
            .copied()
            .ok_or_else(|| AppError::Internal(format!("生成保单：写入后找不到保单{no}")))
    };
    // The import records what it created in its own audit entry.
    new_rows.iter().map(|(no, ..)| id_of(no)).collect()
}
