//! Signing the statement off: the copy of its figures into the locked tables
//! (`statement_townships`, `statement_levels`), and reading them back.

use super::statement::live_raw;
use super::{can_manage, required_text, scheme_or_current, text_rule, Raw};
use crate::app::schemes::Scheme;
use crate::app::{audit, Actor};
pub use crate::db::finance::LockInfo;
use crate::db::finance::{LevelRow, NewLock, TownRow};
use crate::db::{self, DbConn};
use crate::domain::text::TextKind;
use crate::domain::time::Instant;
use crate::error::{AppError, AppResult, ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The figures as signed off.
pub(super) fn locked_raw(
    conn: &mut DbConn,
    statement_id: i64,
    township: Option<i64>,
) -> AppResult<Raw> {
    Ok(Raw::from_rows(db::finance::locked_figures(
        conn,
        statement_id,
        township,
    )?))
}

pub fn locked_statement(conn: &mut DbConn, scheme_id: i64) -> AppResult<Option<LockInfo>> {
    Ok(db::finance::locked_statement(conn, scheme_id)?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LockInput {
    pub scheme: String,
    pub signed_off_by: String,
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
        let mut towns: Vec<TownRow> = raw
            .towns
            .iter()
            .map(|(t, (n, mu, p, g, s))| (*t, *n, *mu, *p, *g, *s))
            .collect();
        towns.sort();
        let mut levels: Vec<LevelRow> = raw
            .levels
            .iter()
            .map(|((t, l), a)| (*t, l.clone(), *a))
            .collect();
        levels.sort();
        let new = NewLock {
            scheme_id: scheme.id,
            signed_off_by: &signer,
            note: &note,
            locked_by: (actor.user_id > 0).then_some(actor.user_id),
            locked_at: Instant::from_utc(chrono::Utc::now()),
        };
        let id = db::finance::insert_lock(conn, &new, &towns, &levels)?;
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
            scheme.def.name,
            l.locked_at.display(),
            l.signed_off_by
        ),
    )
}
