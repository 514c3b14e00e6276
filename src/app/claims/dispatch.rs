//! Dispatch: assigning the insurer's adjuster and the forestry bureau's
//! co-surveyor to a claim.

use super::access::{check_version, save, wrong_status};
use super::*;
use crate::app::clock::to_text;
use crate::app::{Actor, Role};
use crate::db::models::User;
use crate::db::schema::{claims, users};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

// ---------------------------------------------------------------- dispatch

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchInput {
    #[serde(default)]
    pub adjuster: String,
    #[serde(default)]
    pub co_surveyor: String,
    #[serde(default)]
    pub version: Option<i32>,
}

fn user_with_role(conn: &mut DbConn, username: &str, role: Role) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username.trim()))
        .filter(users::role.eq(role.code()))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Assign the insurer's adjuster and the forestry bureau's co-surveyor; both are required.
pub fn dispatch(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &DispatchInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    crate::app::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        check_version(&c, input.version)?;
        if !matches!(c.status, ClaimStatus::Reported | ClaimStatus::Dispatched) {
            return Err(wrong_status(&c, "派工"));
        }
        let mut errs = Vec::new();
        let adjuster = user_with_role(conn, &input.adjuster, Role::Adjuster)?;
        if adjuster.is_none() {
            errs.push(FieldError::new(
                "adjuster",
                ErrorCode::AdjusterInvalid,
                if input.adjuster.trim().is_empty() {
                    "请指定保险公司查勘员".to_string()
                } else {
                    format!("“{}”不是有效的查勘员账号", input.adjuster.trim())
                },
            ));
        }
        let co = user_with_role(conn, &input.co_surveyor, Role::CountyForestry)?;
        if co.is_none() {
            errs.push(FieldError::new(
                "co_surveyor",
                ErrorCode::CoSurveyorInvalid,
                if input.co_surveyor.trim().is_empty() {
                    "请指定县林业局共同查勘人员".to_string()
                } else {
                    format!("“{}”不是县林业局的账号", input.co_surveyor.trim())
                },
            ));
        }
        // A missing account pushed its error above.
        let (true, Some(a), Some(co)) = (errs.is_empty(), adjuster, co) else {
            return Err(AppError::Validation(errs));
        };
        let after = save(conn, actor, "dispatch", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq(ClaimStatus::Dispatched),
                    claims::adjuster_id.eq(a.id),
                    claims::co_surveyor_id.eq(co.id),
                    claims::dispatched_at.eq(to_text(now)),
                ))
                .execute(conn)
        })?;
        view(conn, actor, &after)
    })
}

/// Accounts a claim can be dispatched to: (adjusters, forestry co-surveyors).
pub fn surveyors(conn: &mut DbConn) -> AppResult<(Vec<serde_json::Value>, Vec<serde_json::Value>)> {
    let mut pick = |role: Role| -> AppResult<Vec<serde_json::Value>> {
        Ok(users::table
            .filter(users::role.eq(role.code()))
            .filter(users::active.eq(true))
            .order(users::username)
            .select((users::username, users::display_name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(u, n)| serde_json::json!({"username": u, "name": n}))
            .collect())
    };
    Ok((pick(Role::Adjuster)?, pick(Role::CountyForestry)?))
}
