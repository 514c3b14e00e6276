//! Dispatch: assigning the insurer's adjuster and the forestry bureau's
//! co-surveyor to a claim.

use super::access::{save, Step};
use super::*;
use crate::app::{Actor, Role};
use crate::db::claims::ClaimChange;
use crate::db::models::User;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::time::Instant;
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

/// One of the two people a claim is dispatched to, and how a wrong name is told.
struct Seat {
    field: &'static str,
    code: ErrorCode,
    role: Role,
    missing: &'static str,
    not_valid: &'static str,
}

const ADJUSTER: Seat = Seat {
    field: "adjuster",
    code: ErrorCode::AdjusterInvalid,
    role: Role::Adjuster,
    missing: "请指定保险公司查勘员",
    not_valid: "不是有效的查勘员账号",
};

const CO_SURVEYOR: Seat = Seat {
    field: "co_surveyor",
    code: ErrorCode::CoSurveyorInvalid,
    role: Role::CountyForestry,
    missing: "请指定县林业局共同查勘人员",
    not_valid: "不是县林业局的账号",
};

/// The active account named for `seat`, or the error saying why not.
fn assignee(
    conn: &mut DbConn,
    errs: &mut Vec<FieldError>,
    seat: &Seat,
    username: &str,
) -> AppResult<Option<User>> {
    let found = user_with_role(conn, username, seat.role)?;
    if found.is_none() {
        let name = username.trim();
        errs.push(FieldError::new(
            seat.field,
            seat.code,
            if name.is_empty() {
                seat.missing.to_string()
            } else {
                format!("“{name}”{}", seat.not_valid)
            },
        ));
    }
    Ok(found)
}

const DISPATCH: Step = Step {
    from: &OPEN,
    doing: "派工",
};

/// Assign the insurer's adjuster and the forestry bureau's co-surveyor; both are required.
pub fn dispatch(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &DispatchInput,
) -> AppResult<ClaimView> {
    desk_step(conn, actor, id, input.version, &DISPATCH, |conn, c| {
        let mut errs = Vec::new();
        let adjuster = assignee(conn, &mut errs, &ADJUSTER, &input.adjuster)?;
        let co = assignee(conn, &mut errs, &CO_SURVEYOR, &input.co_surveyor)?;
        // A missing account pushed its error above.
        let (true, Some(a), Some(co)) = (errs.is_empty(), adjuster, co) else {
            return Err(AppError::Validation(errs));
        };
        let at = Instant::from_utc(now);
        let change = ClaimChange {
            adjuster_id: Some(a.id),
            co_surveyor_id: Some(co.id),
            dispatched_at: Some(at),
            ..ClaimChange::to(ClaimStatus::Dispatched)
        };
        let after = save(conn, actor, "dispatch", &c, at, &change)?;
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
