//! Who may handle or see a claim, loading a claim within the actor's scope,
//! and the guarded save every step ends with (version check, status error, audit).

use crate::app::{audit, Action, Actor, Role};
use crate::db::claims::{self as rows, ClaimChange, Within};
use crate::db::models::Claim;
use crate::db::DbConn;
use crate::domain::access::{allows, grant, Reach, Target};
use crate::domain::claims::ClaimStatus;
use crate::domain::time::Instant;
use crate::error::{AppError, AppResult, ErrorCode};

// ---------------------------------------------------------------- who may

pub fn may_handle(actor: &Actor) -> bool {
    actor.may(Action::HandleClaims)
}

/// Who sees a claim: the insurer's desk, the county forestry bureau and
/// finance see the county; an adjuster only the claims assigned to them; a
/// township station the claims of its township.
fn sees(actor: &Actor, c: &Claim) -> bool {
    let target = match grant(actor.role, Action::ViewClaims) {
        Some(Reach::Assigned) if c.adjuster_id == Some(actor.user_id) => Target::AssignedClaim,
        Some(Reach::Assigned) => Target::UnassignedClaim,
        _ if actor.sees_township(c.township_id) => Target::Own,
        _ => Target::OtherTownship,
    };
    allows(actor.role, Action::ViewClaims, target)
}

/// The two people assigned to survey it.
pub fn is_surveyor(actor: &Actor, c: &Claim) -> bool {
    assigned_surveyor(actor, c.adjuster_id, c.co_surveyor_id)
}

/// The same rule on a claim's view (the pages hold views, not rows).
pub fn assigned_surveyor(actor: &Actor, adjuster: Option<i64>, co_surveyor: Option<i64>) -> bool {
    (actor.role == Role::Adjuster && adjuster == Some(actor.user_id))
        || (actor.role == Role::CountyForestry && co_surveyor == Some(actor.user_id))
}

/// Which claims the actor's lists hold: by the same grant as [`sees`].
pub(crate) fn within(actor: &Actor) -> Within {
    match (
        grant(actor.role, Action::ViewClaims),
        actor.township_scope(),
    ) {
        (Some(Reach::Assigned), _) => Within::AssignedTo(actor.user_id),
        (_, Some(township)) => Within::Township(township),
        (_, None) => Within::County,
    }
}

pub fn load(conn: &mut DbConn, id: i64) -> AppResult<Claim> {
    rows::by_id(conn, id)?.ok_or_else(|| AppError::not_found("赔案"))
}

/// A claim the actor may see; any other is "not found", as with policies.
pub fn get_scoped(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Claim> {
    let c = load(conn, id)?;
    if !sees(actor, &c) {
        return Err(AppError::not_found("赔案"));
    }
    Ok(c)
}

/// A step on a claim: the statuses it starts from, and what it is called
/// when a claim is in any other ("不能{doing}").
pub(super) struct Step {
    pub(super) from: &'static [ClaimStatus],
    pub(super) doing: &'static str,
}

/// The claim a step starts from: one the actor sees, at the version the
/// caller saw, in a status the step starts from.
pub(super) fn start(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    version: Option<i32>,
    step: &Step,
) -> AppResult<Claim> {
    let c = get_scoped(conn, actor, id)?;
    ready(&c, version, step)?;
    Ok(c)
}

/// The claim is at the version the caller saw and in a status the step starts from.
pub(super) fn ready(c: &Claim, version: Option<i32>, step: &Step) -> AppResult<()> {
    check_version(c, version)?;
    if !step.from.contains(&c.status) {
        return Err(wrong_status(c, step.doing));
    }
    Ok(())
}

pub(super) fn check_version(c: &Claim, version: Option<i32>) -> AppResult<()> {
    match version {
        Some(v) if v != c.version => Err(AppError::conflict(
            ErrorCode::VersionConflict,
            format!(
                "赔案{}已被他人修改（您看到的是第{}版，现在是第{}版），请刷新后重试",
                c.claim_no, v, c.version
            ),
        )),
        _ => Ok(()),
    }
}

pub(super) fn wrong_status(c: &Claim, doing: &str) -> AppError {
    AppError::conflict(
        ErrorCode::ClaimStatusInvalid,
        format!(
            "赔案{}当前状态为“{}”，不能{}",
            c.claim_no,
            c.status.name(),
            doing
        ),
    )
}

/// Save the changed claim with its version bumped, and audit it.
pub(super) fn save(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    before: &Claim,
    now: Instant,
    change: &ClaimChange,
) -> AppResult<Claim> {
    let n = rows::update(conn, before.id, change)?;
    if n != 1 {
        return Err(AppError::Internal(format!(
            "claim {} not updated",
            before.id
        )));
    }
    // The version moves only if nobody else moved it since we read it.
    if rows::bump_version(conn, before.id, before.version, now)? != 1 {
        return Err(AppError::conflict(
            ErrorCode::VersionConflict,
            format!("赔案{}已被他人修改，请刷新后重试", before.claim_no),
        ));
    }
    let after = load(conn, before.id)?;
    // Every step checks its starting status first; this is the one table
    // of moves (`ClaimStatus::can_move_to`) holding them all to it.
    if !before.status.can_move_to(after.status) {
        return Err(AppError::Internal(format!(
            "claim {}: {} -> {} is not a claim status move",
            before.id, before.status, after.status
        )));
    }
    audit::record(
        conn,
        actor,
        action,
        "claim",
        before.id,
        Some(before),
        Some(&after),
    )?;
    Ok(after)
}
