//! Bulk issuance (待签发) and bulk collection of the growers' shares: many
//! policies at once, previewed first (the real run, rolled back).

use super::select::{self, Selection};
use super::{collect, issue, view_of, PolicyView};
use crate::app::clock::past_day;
use crate::app::Actor;
use crate::db::models::Policy;
use crate::db::DbConn;
use crate::domain::Fen;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use serde::Serialize;

/// Most policies one bulk issuance takes (a township's season is a few
/// hundred; the page offers one screen of the queue at a time).
pub const MAX_BULK_ISSUE: usize = select::MAX_BULK;

/// What bulk issuance did, or would do, to one policy.
#[derive(Debug, Clone, Serialize)]
pub struct BulkLine {
    pub id: i64,
    /// Empty when the policy is not found within the actor's reach.
    pub policy_no: String,
    pub grower_name: String,
    pub premium: Fen,
    pub subsidy: Fen,
    /// Issued (or, in a preview, would be).
    pub issued: bool,
    /// Why not: the stable code and the Chinese reason the single issuance gives.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// The preview or the result of issuing many policies at once.
#[derive(Debug, Clone, Serialize)]
pub struct BulkIssue {
    /// False for a preview: nothing was written.
    pub committed: bool,
    pub issued: usize,
    pub refused: usize,
    /// Premium and subsidy of the policies issued (or to be issued).
    pub premium: Fen,
    pub subsidy: Fen,
    pub lines: Vec<BulkLine>,
}

/// What a bulk action did, or would do, to one policy.
#[derive(Debug, Clone, Serialize)]
pub struct BulkItem {
    pub id: i64,
    /// Empty when the policy is not found within the actor's reach.
    pub policy_no: String,
    pub grower_name: String,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    /// Done (or, in a preview, would be).
    pub ok: bool,
    /// Why not: the stable code and the Chinese reason the single action gives.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// The preview or the result of a bulk action on policies.
#[derive(Debug, Clone, Serialize)]
pub struct BulkRun {
    /// False for a preview: nothing was written.
    pub committed: bool,
    pub done: usize,
    pub refused: usize,
    /// Money of the policies done (or to be done).
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    pub lines: Vec<BulkItem>,
}

/// Run `op` on each id inside the caller's transaction: a refusal (a
/// conflict, not found, or a rule on the input such as the collection date)
/// is listed with its code and message, anything else ends the whole run.
fn each(
    conn: &mut DbConn,
    actor: &Actor,
    ids: &[i64],
    commit: bool,
    op: impl Fn(&mut DbConn, i64) -> AppResult<PolicyView>,
) -> AppResult<BulkRun> {
    let mut out = BulkRun {
        committed: commit,
        done: 0,
        refused: 0,
        premium: Fen::ZERO,
        grower_share: Fen::ZERO,
        subsidy: Fen::ZERO,
        lines: Vec::with_capacity(ids.len()),
    };
    for &id in ids {
        let line = match op(conn, id) {
            Ok(v) => {
                out.done += 1;
                out.premium += v.premium;
                out.grower_share += v.grower_share;
                out.subsidy += v.subsidy;
                BulkItem {
                    id,
                    policy_no: v.policy_no,
                    grower_name: v.grower_name,
                    premium: v.premium,
                    grower_share: v.grower_share,
                    subsidy: v.subsidy,
                    ok: true,
                    code: None,
                    message: None,
                }
            }
            Err(
                e @ (AppError::Conflict { .. } | AppError::NotFound(_) | AppError::Validation(_)),
            ) => {
                out.refused += 1;
                let code = match &e {
                    AppError::NotFound(_) => "not_found".to_string(),
                    AppError::Validation(fields) => fields.first().map_or_else(
                        || e.code().as_str().to_string(),
                        |f| f.code.as_str().to_string(),
                    ),
                    _ => e.code().as_str().to_string(),
                };
                let found = crate::app::scoped::<Policy>(conn, actor, id).ok();
                let view = match &found {
                    Some(p) => Some(view_of(conn, actor, p)?),
                    None => None,
                };
                let message = match (&found, &e) {
                    (None, _) => format!("未找到保单（编号{id}）"),
                    (Some(_), AppError::Validation(_)) => e.messages().join("；"),
                    (Some(_), _) => e.to_string(),
                };
                BulkItem {
                    id,
                    policy_no: view
                        .as_ref()
                        .map(|v| v.policy_no.clone())
                        .unwrap_or_default(),
                    grower_name: view
                        .as_ref()
                        .map(|v| v.grower_name.clone())
                        .unwrap_or_default(),
                    premium: view.as_ref().map_or(Fen::ZERO, |v| v.premium),
                    grower_share: view.as_ref().map_or(Fen::ZERO, |v| v.grower_share),
                    subsidy: view.as_ref().map_or(Fen::ZERO, |v| v.subsidy),
                    ok: false,
                    code: Some(code),
                    message: Some(message),
                }
            }
            Err(e) => return Err(e),
        };
        out.lines.push(line);
    }
    Ok(out)
}

/// The real run in one transaction, or the same run rolled back (a preview).
fn run<T>(
    conn: &mut DbConn,
    commit: bool,
    f: impl FnOnce(&mut DbConn) -> AppResult<T>,
) -> AppResult<T> {
    if commit {
        crate::app::tx(conn, f)
    } else {
        crate::app::dry_run(conn, f)
    }
}

/// Issue many collected policies in one transaction, each through the same
/// checks and audit row as a single issuance ([`issue`]): the ones that may
/// be issued are, the others are listed with the reason. With `commit`
/// false the same run is rolled back: a preview of exactly what would happen.
pub fn issue_many(
    conn: &mut DbConn,
    actor: &Actor,
    ids: &[i64],
    today: NaiveDate,
    commit: bool,
) -> AppResult<BulkIssue> {
    issue_selected(conn, actor, &Selection::Ids(ids.to_vec()), today, commit)
}

/// [`issue_many`] over ticked ids or every collected policy matching a filter.
pub fn issue_selected(
    conn: &mut DbConn,
    actor: &Actor,
    sel: &Selection,
    today: NaiveDate,
    commit: bool,
) -> AppResult<BulkIssue> {
    actor.require(actor.can_underwrite())?;
    if let Selection::Ids(ids) = sel {
        select::checked_ids(ids, "签发")?;
    }
    let r = run(conn, commit, |conn| {
        let ids = select::resolve(conn, actor, sel, select::COLLECTED, "签发")?;
        each(conn, actor, &ids, commit, |c, id| {
            issue(c, actor, id, today)
        })
    })?;
    Ok(BulkIssue {
        committed: r.committed,
        issued: r.done,
        refused: r.refused,
        premium: r.premium,
        subsidy: r.subsidy,
        lines: r
            .lines
            .into_iter()
            .map(|l| BulkLine {
                id: l.id,
                policy_no: l.policy_no,
                grower_name: l.grower_name,
                premium: l.premium,
                subsidy: l.subsidy,
                issued: l.ok,
                code: l.code,
                message: l.message,
            })
            .collect(),
    })
}

/// The station records one collection date for many draft policies of its
/// township, each through [`collect`] (its checks, its date rules, its
/// audit row), in one transaction; refusals are listed with the reason
/// `collect` gives. With `commit` false the same run is rolled back.
pub fn collect_many(
    conn: &mut DbConn,
    actor: &Actor,
    sel: &Selection,
    date: &str,
    today: NaiveDate,
    commit: bool,
) -> AppResult<BulkRun> {
    actor.require(actor.can_collect_premium())?;
    if let Selection::Ids(ids) = sel {
        select::checked_ids(ids, "登记收费")?;
    }
    // A date no policy could take is the request's fault, not a refusal per policy.
    past_day("collected_on", "收费日期", date, today).map_err(AppError::from)?;
    run(conn, commit, |conn| {
        let ids = select::resolve(conn, actor, sel, select::DRAFTS, "登记收费")?;
        each(conn, actor, &ids, commit, |c, id| {
            collect(c, actor, id, date, today)
        })
    })
}
