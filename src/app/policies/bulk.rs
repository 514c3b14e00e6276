//! Bulk issuance (待签发): many collected policies at once, previewed first.

use super::{issue, view_of};
use crate::app::Actor;
use crate::db::models::Policy;
use crate::db::DbConn;
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode};
use chrono::NaiveDate;
use serde::Serialize;

/// Most policies one bulk issuance takes (a township's season is a few
/// hundred; the page offers one screen of the queue at a time).
pub const MAX_BULK_ISSUE: usize = 1_000;

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
    actor.require(actor.can_underwrite())?;
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
    if ids.is_empty() {
        return Err(AppError::invalid(
            "ids",
            ErrorCode::ValueRequired,
            "请至少选择一份保单",
        ));
    }
    if ids.len() > MAX_BULK_ISSUE {
        return Err(AppError::invalid(
            "ids",
            ErrorCode::TooManyPolicies,
            format!(
                "一次最多签发{MAX_BULK_ISSUE}份保单，本次选择了{}份，请分批签发",
                ids.len()
            ),
        ));
    }
    let run = |conn: &mut DbConn| -> AppResult<BulkIssue> {
        let mut out = BulkIssue {
            committed: commit,
            issued: 0,
            refused: 0,
            premium: Fen::ZERO,
            subsidy: Fen::ZERO,
            lines: Vec::with_capacity(ids.len()),
        };
        for &id in &ids {
            let line = match issue(conn, actor, id, today) {
                Ok(v) => {
                    out.issued += 1;
                    out.premium += v.premium;
                    out.subsidy += v.subsidy;
                    BulkLine {
                        id,
                        policy_no: v.policy_no,
                        grower_name: v.grower_name,
                        premium: v.premium,
                        subsidy: v.subsidy,
                        issued: true,
                        code: None,
                        message: None,
                    }
                }
                Err(e @ (AppError::Conflict { .. } | AppError::NotFound(_))) => {
                    out.refused += 1;
                    let code = match &e {
                        AppError::Conflict { code, .. } => code.as_str().to_string(),
                        _ => "not_found".to_string(),
                    };
                    let found = super::super::scoped::<Policy>(conn, actor, id).ok();
                    let view = match &found {
                        Some(p) => Some(view_of(conn, actor, p)?),
                        None => None,
                    };
                    BulkLine {
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
                        subsidy: view.as_ref().map_or(Fen::ZERO, |v| v.subsidy),
                        issued: false,
                        code: Some(code),
                        message: Some(match found {
                            Some(_) => e.to_string(),
                            None => format!("未找到保单（编号{id}）"),
                        }),
                    }
                }
                Err(e) => return Err(e),
            };
            out.lines.push(line);
        }
        Ok(out)
    };
    if commit {
        super::super::tx(conn, run)
    } else {
        super::super::dry_run(conn, run)
    }
}
