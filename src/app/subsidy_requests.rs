//! The insurer's subsidy request (保费补贴申请): the underwriter lists issued
//! policies; finance sees what the request covers and, per policy, whether its
//! subsidy may be paid (issued, grower share collected, not cancelled, not
//! already requested). A policy's subsidy is requested once: the database
//! holds a unique index over the eligible items.

use super::finance::{scheme_or_current, LevelFigure};
use super::{audit, Action, Actor};
use crate::db::finance::SubsidyRequest;
use crate::db::models::Policy;
use crate::db::schema::{policies, subsidy_request_items, subsidy_requests};
use crate::db::{self, now_text, DbConn};
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::level_name;
use crate::domain::time::Instant;
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

const MAX_POLICIES: usize = 200_000;

pub fn can_submit(a: &Actor) -> bool {
    a.may(Action::SubmitSubsidyRequest)
}

pub fn can_view(a: &Actor) -> bool {
    a.may(Action::ViewSubsidyRequests)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestInput {
    pub scheme: String,
    pub request_no: String,
    pub note: String,
    pub policy_nos: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestItem {
    pub policy_id: i64,
    pub policy_no: String,
    pub township_name: String,
    pub status: PolicyStatus,
    pub status_name: String,
    pub subsidy: Fen,
    pub eligible: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestSummary {
    pub id: i64,
    pub request_no: String,
    pub scheme: String,
    pub note: String,
    pub policy_count: i64,
    pub eligible_count: i64,
    pub ineligible_count: i64,
    /// Subsidy of the eligible policies only.
    pub eligible_subsidy: Fen,
    pub created_at: Instant,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub summary: RequestSummary,
    /// The eligible subsidy per funding level; sums to `eligible_subsidy`.
    pub levels: Vec<LevelFigure>,
    /// Ineligible items first, then by policy number.
    pub items: Vec<RequestItem>,
}

/// Split pasted text into policy numbers: any whitespace, comma or 、.
pub fn parse_policy_list(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
        .map(|s| {
            crate::domain::measure::normalize_width(s)
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Why a policy's subsidy can't be requested, if it can't.
fn ineligible_reason(p: &Policy, requested_in: Option<&String>) -> Option<String> {
    match p.status {
        PolicyStatus::Cancelled => return Some("保单已注销".into()),
        PolicyStatus::Draft => return Some("尚未收取农户自缴保费".into()),
        PolicyStatus::Collected => return Some("保单尚未签发".into()),
        PolicyStatus::Issued | PolicyStatus::Expired => {}
    }
    if p.share_collected_on.is_none() {
        return Some("未登记农户自缴保费收取".into());
    }
    requested_in.map(|no| format!("已在补贴申请{no}中申请过"))
}

pub fn submit(conn: &mut DbConn, actor: &Actor, input: &RequestInput) -> AppResult<RequestView> {
    actor.require(can_submit(actor))?;
    let mut errors = Vec::new();
    let request_no = input.request_no.trim().to_string();
    if request_no.is_empty() || request_no.chars().count() > 40 {
        errors.push(FieldError::new(
            "request_no",
            ErrorCode::RequestNoRequired,
            "请填写申请编号（不超过40个字符）",
        ));
    }
    let mut seen = HashSet::new();
    let nos: Vec<String> = input
        .policy_nos
        .iter()
        .map(|s| {
            crate::domain::measure::normalize_width(s)
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty() && seen.insert(s.clone()))
        .collect();
    if nos.is_empty() {
        errors.push(FieldError::new(
            "policy_nos",
            ErrorCode::PolicyNosRequired,
            "请列出申请补贴的保单号",
        ));
    } else if nos.len() > MAX_POLICIES {
        errors.push(FieldError::new(
            "policy_nos",
            ErrorCode::TooManyPolicies,
            format!("一次申请最多{MAX_POLICIES}份保单，请分批申请"),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    super::tx(conn, |conn| {
        let scheme = scheme_or_current(conn, &input.scheme)?;
        if db::finance::request_no_taken(conn, &request_no)? {
            return Err(AppError::conflict(
                ErrorCode::RequestNoDuplicate,
                format!("申请编号{request_no}已使用"),
            ));
        }
        let mut found: Vec<Policy> = Vec::with_capacity(nos.len());
        for chunk in nos.chunks(1_000) {
            found.extend(
                policies::table
                    .filter(policies::scheme_id.eq(scheme.id))
                    .filter(policies::policy_no.eq_any(chunk))
                    .select(Policy::as_select())
                    .load(conn)?,
            );
        }
        let known: HashSet<&str> = found.iter().map(|p| p.policy_no.as_str()).collect();
        let unknown: Vec<&String> = nos.iter().filter(|n| !known.contains(n.as_str())).collect();
        if !unknown.is_empty() {
            let shown: Vec<&str> = unknown.iter().take(10).map(|s| s.as_str()).collect();
            return Err(AppError::invalid(
                "policy_nos",
                ErrorCode::PolicyUnknown,
                format!(
                    "{}中没有以下保单号（共{}个）：{}{}",
                    scheme.def.name,
                    unknown.len(),
                    shown.join("、"),
                    if unknown.len() > 10 { "……" } else { "" }
                ),
            ));
        }
        let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
        let requested = db::finance::requested_in(conn, &ids)?;
        let judged: Vec<(&Policy, Option<String>)> = found
            .iter()
            .map(|p| (p, ineligible_reason(p, requested.get(&p.id))))
            .collect();
        let eligible_count = judged.iter().filter(|(_, r)| r.is_none()).count() as i64;
        let eligible_subsidy: i64 = judged
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(p, _)| p.subsidy_fen.0)
            .sum();
        let id: i64 = diesel::insert_into(subsidy_requests::table)
            .values((
                subsidy_requests::scheme_id.eq(scheme.id),
                subsidy_requests::request_no.eq(&request_no),
                subsidy_requests::note.eq(input.note.trim()),
                subsidy_requests::policy_count.eq(judged.len() as i64),
                subsidy_requests::eligible_count.eq(eligible_count),
                subsidy_requests::eligible_subsidy_fen.eq(eligible_subsidy),
                subsidy_requests::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                subsidy_requests::created_at.eq(now_text()),
            ))
            .returning(subsidy_requests::id)
            .get_result(conn)?;
        let values: Vec<_> = judged
            .iter()
            .map(|(p, r)| {
                (
                    subsidy_request_items::request_id.eq(id),
                    subsidy_request_items::policy_id.eq(p.id),
                    subsidy_request_items::eligible.eq(r.is_none()),
                    subsidy_request_items::reason.eq(r.clone().unwrap_or_default()),
                    subsidy_request_items::subsidy_fen.eq(p.subsidy_fen),
                )
            })
            .collect();
        for part in values.chunks(2_000) {
            crate::bulk_insert!(conn, subsidy_request_items::table, part.to_vec())?;
        }
        let view = load(conn, id)?;
        audit::record(
            conn,
            actor,
            "create",
            "subsidy_request",
            id,
            None::<&()>,
            Some(&serde_json::json!({
                "request": &view.summary,
                "levels": &view.levels,
                "ineligible": view.items.iter().filter(|i| !i.eligible)
                    .map(|i| (&i.policy_no, &i.reason)).collect::<Vec<_>>(),
            })),
        )?;
        Ok(view)
    })
}

/// The preview or the result of a request from a selection.
#[derive(Debug, Clone, Serialize)]
pub struct SelectedRequest {
    /// False for a preview: nothing was written.
    pub committed: bool,
    pub request: RequestView,
}

/// A request over selected policies (ticked, or every issued policy
/// matching a filter whose subsidy was not requested yet), submitted
/// through [`submit`] with their policy numbers; with `commit` false the
/// same run is rolled back: a preview of the counts and the subsidy.
pub fn submit_selected(
    conn: &mut DbConn,
    actor: &Actor,
    input: &RequestInput,
    sel: &crate::app::policies::select::Selection,
    commit: bool,
) -> AppResult<SelectedRequest> {
    use crate::app::policies::select::{self, Selection};
    actor.require(can_submit(actor))?;
    if let Selection::Ids(ids) = sel {
        select::checked_ids(ids, "申请")?;
    }
    let work = |conn: &mut DbConn| -> AppResult<SelectedRequest> {
        let ids = match sel {
            Selection::Ids(_) => select::resolve(conn, actor, sel, select::ISSUED, "申请")?,
            Selection::Matching(m) => {
                // Only those not requested yet: "all matching" means the ones to request.
                let all = select::matching_ids(conn, actor, m, select::ISSUED, "申请")?;
                let requested = db::finance::requested_in(conn, &all)?;
                let left: Vec<i64> = all
                    .into_iter()
                    .filter(|id| !requested.contains_key(id))
                    .collect();
                if left.is_empty() {
                    return Err(AppError::invalid(
                        "filter",
                        ErrorCode::PolicyNosRequired,
                        "符合条件的保单都已申请过补贴",
                    ));
                }
                left
            }
        };
        let nos: Vec<(i64, String)> = policies::table
            .filter(policies::id.eq_any(&ids))
            .select((policies::id, policies::policy_no))
            .load(conn)?;
        if nos.len() < ids.len() {
            let known: HashSet<i64> = nos.iter().map(|(id, _)| *id).collect();
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| !known.contains(id))
                .take(10)
                .map(i64::to_string)
                .collect();
            return Err(AppError::invalid(
                "ids",
                ErrorCode::PolicyUnknown,
                format!("未找到保单（编号{}）", missing.join("、")),
            ));
        }
        let input = RequestInput {
            policy_nos: nos.into_iter().map(|(_, no)| no).collect(),
            ..input.clone()
        };
        Ok(SelectedRequest {
            committed: commit,
            request: submit(conn, actor, &input)?,
        })
    };
    if commit {
        super::tx(conn, work)
    } else {
        super::dry_run(conn, work)
    }
}

fn summary_of(conn: &mut DbConn, r: SubsidyRequest) -> AppResult<RequestSummary> {
    let scheme = super::schemes::by_id(conn, r.scheme_id)?;
    Ok(RequestSummary {
        id: r.id,
        request_no: r.request_no,
        scheme: scheme.def.code,
        note: r.note,
        policy_count: r.policy_count,
        eligible_count: r.eligible_count,
        ineligible_count: r.policy_count - r.eligible_count,
        eligible_subsidy: r.eligible_subsidy_fen,
        created_at: r.created_at,
    })
}

fn load(conn: &mut DbConn, id: i64) -> AppResult<RequestView> {
    let row = db::finance::requests(conn, Some(id))?
        .pop()
        .ok_or_else(|| AppError::not_found("补贴申请"))?;
    let summary = summary_of(conn, row)?;
    let scheme = super::schemes::by_code(conn, &summary.scheme)?;
    let sums = db::finance::request_level_sums(conn, id)?;
    let levels = scheme
        .def
        .subsidy_levels
        .iter()
        .map(|l| LevelFigure {
            level: l.level.clone(),
            name: level_name(&l.level).to_string(),
            amount: Fen(l
                .funding_level()
                .and_then(|f| sums.get(&f).copied())
                .unwrap_or(0)),
        })
        .collect();
    let rows = db::finance::request_items(conn, id)?;
    let names = super::areas::names(conn)?;
    let items = rows
        .into_iter()
        .map(|i| RequestItem {
            township_name: names
                .get(&i.township_id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            policy_id: i.policy_id,
            policy_no: i.policy_no,
            status_name: i.status.name().to_string(),
            status: i.status,
            subsidy: i.subsidy,
            eligible: i.eligible,
            reason: i.reason,
        })
        .collect();
    Ok(RequestView {
        summary,
        levels,
        items,
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<RequestView> {
    actor.require(can_view(actor))?;
    load(conn, id)
}

pub fn list(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<RequestSummary>> {
    actor.require(can_view(actor))?;
    db::finance::requests(conn, None)?
        .into_iter()
        .map(|r| summary_of(conn, r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_lists_split_on_any_separator() {
        assert_eq!(
            parse_policy_list("2012A00001, 2012A00002\n２０１２A00003、 2012A00004；"),
            vec!["2012A00001", "2012A00002", "2012A00003", "2012A00004"]
        );
        assert!(parse_policy_list(" \n ").is_empty());
    }
}
