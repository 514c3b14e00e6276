//! Signing the statement off: the copy of its figures into the locked tables
//! (`statement_townships`, `statement_levels`), and reading them back.

use super::statement::live_raw;
use super::{can_manage, required_text, scheme_or_current, text_rule, Raw};
use crate::app::schemes::Scheme;
use crate::app::{audit, Actor};
use crate::db::schema::{statement_levels, statement_townships, subsidy_statements};
use crate::db::{now_text, DbConn};
use crate::domain::text::TextKind;
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The figures as signed off.
pub(super) fn locked_raw(
    conn: &mut DbConn,
    statement_id: i64,
    township: Option<i64>,
) -> AppResult<Raw> {
    let mut q = statement_townships::table
        .filter(statement_townships::statement_id.eq(statement_id))
        .into_boxed();
    if let Some(t) = township {
        q = q.filter(statement_townships::township_id.eq(t));
    }
    let towns: Vec<(i64, i64, i64, i64, i64, i64)> = q
        .select((
            statement_townships::township_id,
            statement_townships::policies,
            statement_townships::mu_units,
            statement_townships::premium_fen,
            statement_townships::grower_share_fen,
            statement_townships::subsidy_fen,
        ))
        .load(conn)?;
    let mut lq = statement_levels::table
        .filter(statement_levels::statement_id.eq(statement_id))
        .into_boxed();
    if let Some(t) = township {
        lq = lq.filter(statement_levels::township_id.eq(t));
    }
    let levels: Vec<(i64, String, i64)> = lq
        .select((
            statement_levels::township_id,
            statement_levels::level,
            statement_levels::amount_fen,
        ))
        .load(conn)?;
    Ok(Raw::from_rows(towns, levels))
}

#[derive(Debug, Clone, Serialize)]
pub struct LockInfo {
    pub id: i64,
    pub signed_off_by: String,
    pub note: String,
    pub locked_at: String,
    pub policy_count: i64,
    pub subsidy: Fen,
}

pub fn locked_statement(conn: &mut DbConn, scheme_id: i64) -> AppResult<Option<LockInfo>> {
    let row: Option<(i64, String, String, String, i64, i64)> = subsidy_statements::table
        .filter(subsidy_statements::scheme_id.eq(scheme_id))
        .select((
            subsidy_statements::id,
            subsidy_statements::signed_off_by,
            subsidy_statements::note,
            subsidy_statements::locked_at,
            subsidy_statements::policy_count,
            subsidy_statements::subsidy_fen,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, by, note, at, n, s)| LockInfo {
        id,
        signed_off_by: by,
        note,
        locked_at: at,
        policy_count: n,
        subsidy: Fen(s),
    }))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LockInput {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub signed_off_by: String,
    #[serde(default)]
    pub note: String,
}

/// Sign off the statement: its figures are copied and can no longer change.
pub fn lock(conn: &mut DbConn, actor: &Actor, input: &LockInput) -> AppResult<LockInfo> {
    actor.require(can_manage(actor))?;
    let mut errors = Vec::new();
    let signer = required_text(
        &mut errors,
        ("signed_off_by", "签字确认人"),
        &input.signed_off_by,
        TextKind::Code,
        ErrorCode::SignedOffByRequired,
        "请填写签字确认人（不超过40个字符）",
    );
    let note = text_rule(&mut errors, "note", "备注", &input.note, TextKind::Notes);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    crate::app::tx(conn, |conn| {
        let scheme = scheme_or_current(conn, &input.scheme)?;
        if let Some(l) = locked_statement(conn, scheme.id)? {
            return Err(already_locked(&scheme, &l));
        }
        let raw = live_raw(conn, scheme.id, None)?;
        let count: i64 = raw.towns.values().map(|t| t.0).sum();
        let subsidy: i64 = raw.towns.values().map(|t| t.4).sum();
        let now = now_text();
        let id: i64 = diesel::insert_into(subsidy_statements::table)
            .values((
                subsidy_statements::scheme_id.eq(scheme.id),
                subsidy_statements::policy_count.eq(count),
                subsidy_statements::subsidy_fen.eq(subsidy),
                subsidy_statements::signed_off_by.eq(&signer),
                subsidy_statements::note.eq(&note),
                subsidy_statements::locked_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                subsidy_statements::locked_at.eq(&now),
            ))
            .returning(subsidy_statements::id)
            .get_result(conn)?;
        let mut towns: Vec<_> = raw.towns.iter().collect();
        towns.sort_by_key(|(t, _)| **t);
        for (t, (n, mu, p, g, s)) in towns {
            diesel::insert_into(statement_townships::table)
                .values((
                    statement_townships::statement_id.eq(id),
                    statement_townships::township_id.eq(*t),
                    statement_townships::policies.eq(*n),
                    statement_townships::mu_units.eq(*mu),
                    statement_townships::premium_fen.eq(*p),
                    statement_townships::grower_share_fen.eq(*g),
                    statement_townships::subsidy_fen.eq(*s),
                ))
                .execute(conn)?;
        }
        let mut levels: Vec<_> = raw.levels.iter().collect();
        levels.sort();
        for ((t, l), a) in levels {
            diesel::insert_into(statement_levels::table)
                .values((
                    statement_levels::statement_id.eq(id),
                    statement_levels::township_id.eq(*t),
                    statement_levels::level.eq(l),
                    statement_levels::amount_fen.eq(*a),
                ))
                .execute(conn)?;
        }
        let info = locked_statement(conn, scheme.id)?
            .ok_or_else(|| AppError::Internal("statement vanished".into()))?;
        audit::record(
            conn,
            actor,
            "lock",
            "subsidy_statement",
            id,
            None::<&()>,
            Some(&serde_json::json!({
                "scheme": scheme.def.code,
                "statement": &info,
                "levels": raw.levels.iter().map(|((t, l), a)| (format!("{t}/{l}"), a)).collect::<BTreeMap<_, _>>(),
            })),
        )?;
        Ok(info)
    })
}

fn already_locked(scheme: &Scheme, l: &LockInfo) -> AppError {
    AppError::conflict(
        ErrorCode::StatementLocked,
        format!(
            "{}的补贴结算表已于{}签字锁定（{}），不能修改；如需更正，请录入调整分录",
            scheme.def.name, l.locked_at, l.signed_off_by
        ),
    )
}
