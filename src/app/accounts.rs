//! Managing accounts: an admin creates, changes, deactivates, resets,
//! unlocks and revokes; everyone changes their own password. Every change is
//! audited, and every change that alters what a person may do ends their
//! page sessions (and, for passwords and deactivation, their API tokens).

use super::auth::{self, hash_password, password_problems, Actor, NewAccount, Role};
use super::{audit, sessions, throttle, tx};
use crate::db::models::User;
use crate::db::schema::{areas, users};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

/// An account as the admin's list shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_name: String,
    pub township_code: Option<String>,
    pub township_name: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    /// Until when the user name is locked (stored UTC), if it is.
    pub locked_until: Option<String>,
    pub sessions: i64,
    pub live_tokens: usize,
    pub created_at: String,
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    actor.require(actor.may(super::Action::ManageAccounts))
}

fn user(conn: &mut DbConn, id: i64) -> AppResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("账号"))
}

/// The user with this name.
pub fn by_username(conn: &mut DbConn, username: &str) -> AppResult<User> {
    users::table
        .filter(users::username.eq(username.trim()))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(&format!("账号{}", username.trim())))
}

fn account(conn: &mut DbConn, u: &User, now: DateTime<Utc>) -> AppResult<Account> {
    let (code, name) = match u.township_id {
        Some(id) => areas::table
            .find(id)
            .select((areas::code, areas::name))
            .first::<(String, String)>(conn)
            .optional()?
            .map_or((None, None), |(c, n)| (Some(c), Some(n))),
        None => (None, None),
    };
    let live_tokens = auth::tokens_of(conn, u.id)?
        .into_iter()
        .filter(|t| t.revoked_at.is_none() && t.expires_at > super::clock::to_text(now))
        .count();
    Ok(Account {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.clone(),
        role_name: Role::parse(&u.role).map_or_else(|| u.role.clone(), |r| r.name().to_string()),
        township_code: code,
        township_name: name,
        active: u.active,
        must_change_password: u.must_change_password,
        locked_until: throttle::locked_until(conn, &throttle::user_key(&u.username), now)?,
        sessions: sessions::count_for(conn, u.id)?,
        live_tokens,
        created_at: u.created_at.to_text(),
    })
}

/// Every account, by user name.
pub fn list(conn: &mut DbConn, actor: &Actor, now: DateTime<Utc>) -> AppResult<Vec<Account>> {
    require_admin(actor)?;
    let all: Vec<User> = users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(conn)?;
    all.iter().map(|u| account(conn, u, now)).collect()
}

/// One account.
pub fn show(conn: &mut DbConn, actor: &Actor, id: i64, now: DateTime<Utc>) -> AppResult<Account> {
    require_admin(actor)?;
    let u = user(conn, id)?;
    account(conn, &u, now)
}

/// What an account looks like in the audit trail.
#[derive(Serialize)]
struct Audited<'a> {
    username: &'a str,
    display_name: &'a str,
    role: &'a str,
    township_id: Option<i64>,
    active: bool,
    must_change_password: bool,
}

fn audited(u: &User) -> Audited<'_> {
    Audited {
        username: &u.username,
        display_name: &u.display_name,
        role: &u.role,
        township_id: u.township_id,
        active: u.active,
        must_change_password: u.must_change_password,
    }
}

/// An admin creates an account for someone; they choose their own password
/// at first login.
pub fn create(conn: &mut DbConn, actor: &Actor, a: &NewAccount) -> AppResult<User> {
    require_admin(actor)?;
    tx(conn, |c| {
        let u = auth::create_user(
            c,
            &NewAccount {
                must_change_password: true,
                ..*a
            },
        )?;
        audit::record(
            c,
            actor,
            "account_create",
            "user",
            u.id,
            None::<&()>,
            Some(&audited(&u)),
        )?;
        Ok(u)
    })
}

/// What an admin may change on an account.
pub struct Change<'a> {
    pub display_name: &'a str,
    pub role: &'a str,
    pub township_code: Option<&'a str>,
}

/// Change name, role or township. A changed role or township ends the
/// person's page sessions: what they may do changed under them.
pub fn update(conn: &mut DbConn, actor: &Actor, id: i64, ch: &Change) -> AppResult<User> {
    require_admin(actor)?;
    tx(conn, |c| {
        let before = user(c, id)?;
        let role = Role::parse(ch.role).ok_or_else(|| {
            AppError::invalid(
                "role",
                ErrorCode::RoleUnknown,
                format!("未知角色：{}", ch.role),
            )
        })?;
        if id == actor.user_id && role.code() != before.role {
            return Err(AppError::invalid(
                "role",
                ErrorCode::UserSelf,
                "不能改变自己的角色（请另一位管理员操作）",
            ));
        }
        let name = crate::domain::text::check(
            "姓名",
            ch.display_name,
            crate::domain::text::TextKind::Name,
        )
        .map_err(|p| AppError::invalid("display_name", p.code, p.message))?;
        let name = if name.is_empty() {
            before.display_name.clone()
        } else {
            name
        };
        let township_id = match ch.township_code.map(str::trim).filter(|s| !s.is_empty()) {
            Some(code) if role == Role::Township => {
                Some(auth::township_by_code(c, code)?.ok_or_else(|| {
                    AppError::invalid(
                        "township",
                        ErrorCode::TownshipUnknown,
                        format!("未找到乡镇代码：{code}"),
                    )
                })?)
            }
            _ if role == Role::Township => {
                return Err(AppError::invalid(
                    "township",
                    ErrorCode::TownshipRequired,
                    "乡镇林业站账号必须指定所属乡镇",
                ))
            }
            _ => None,
        };
        diesel::update(users::table.find(id))
            .set((
                users::display_name.eq(&name),
                users::role.eq(role.code()),
                users::township_id.eq(township_id),
            ))
            .execute(c)?;
        let after = user(c, id)?;
        if before.role != after.role || before.township_id != after.township_id {
            sessions::end_all(c, id)?;
        }
        audit::record(
            c,
            actor,
            "account_update",
            "user",
            id,
            Some(&audited(&before)),
            Some(&audited(&after)),
        )?;
        Ok(after)
    })
}

/// Deactivate (or reactivate) an account. Deactivating ends every session
/// and revokes every token at once.
pub fn set_active(conn: &mut DbConn, actor: &Actor, id: i64, active: bool) -> AppResult<User> {
    require_admin(actor)?;
    if id == actor.user_id && !active {
        return Err(AppError::invalid(
            "active",
            ErrorCode::UserSelf,
            "不能停用自己的账号（请另一位管理员操作）",
        ));
    }
    tx(conn, |c| {
        let before = user(c, id)?;
        diesel::update(users::table.find(id))
            .set(users::active.eq(active))
            .execute(c)?;
        if !active {
            sessions::end_all(c, id)?;
            auth::revoke_tokens_of(c, id, None)?;
        }
        let after = user(c, id)?;
        audit::record(
            c,
            actor,
            if active { "activate" } else { "deactivate" },
            "user",
            id,
            Some(&audited(&before)),
            Some(&audited(&after)),
        )?;
        Ok(after)
    })
}

/// A temporary password: 4 groups of 4 from letters and digits that can't
/// be confused when read aloud or copied by hand (no 0/O, 1/l/I).
pub fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| {
            (0..4)
                .filter_map(|_| {
                    ALPHABET
                        .get(rng.gen_range(0..ALPHABET.len()))
                        .copied()
                        .map(char::from)
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// An admin resets a password: a temporary one, shown once, which the person
/// must change at their next login. Sessions end and tokens are revoked.
pub fn reset_password(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<String> {
    require_admin(actor)?;
    let temp = temporary_password();
    let hash = hash_password(&temp)?;
    tx(conn, |c| {
        let before = user(c, id)?;
        set_password(c, id, &hash, true)?;
        sessions::end_all(c, id)?;
        auth::revoke_tokens_of(c, id, None)?;
        audit::record(
            c,
            actor,
            "password_reset",
            "user",
            id,
            None::<&()>,
            Some(&serde_json::json!({ "username": before.username })),
        )?;
        Ok(())
    })?;
    Ok(temp)
}

fn set_password(conn: &mut DbConn, id: i64, hash: &str, must_change: bool) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::must_change_password.eq(must_change),
            users::password_changed_at.eq(Some(crate::db::now_text())),
        ))
        .execute(conn)?;
    Ok(())
}

/// An admin lifts a lock on a user name: whether there was one.
pub fn unlock(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<bool> {
    require_admin(actor)?;
    tx(conn, |c| {
        let u = user(c, id)?;
        let lifted = throttle::unlock(c, &throttle::user_key(&u.username))?;
        audit::record(
            c,
            actor,
            "unlock",
            "user",
            id,
            None::<&()>,
            Some(&serde_json::json!({ "username": u.username, "was_locked": lifted })),
        )?;
        Ok(lifted)
    })
}

/// A user's tokens (admin).
pub fn tokens(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Vec<auth::TokenInfo>> {
    require_admin(actor)?;
    user(conn, id)?;
    auth::tokens_of(conn, id)
}

/// An admin revokes one token of a user, or all of them: how many.
pub fn revoke_tokens(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    token_id: Option<i64>,
) -> AppResult<usize> {
    require_admin(actor)?;
    tx(conn, |c| {
        let u = user(c, id)?;
        let n = auth::revoke_tokens_of(c, id, token_id)?;
        audit::record(
            c,
            actor,
            "token_revoke",
            "user",
            id,
            None::<&()>,
            Some(&serde_json::json!({ "username": u.username, "token_id": token_id, "tokens": n })),
        )?;
        Ok(n)
    })
}

/// The CLI revokes every token of a user name: how many.
pub fn revoke_all_by_name(conn: &mut DbConn, username: &str) -> AppResult<usize> {
    let u = by_username(conn, username)?;
    revoke_tokens(conn, &Actor::system(), u.id, None)
}

/// The CLI lifts a user name's lock.
pub fn unlock_by_name(conn: &mut DbConn, username: &str) -> AppResult<bool> {
    let u = by_username(conn, username)?;
    unlock(conn, &Actor::system(), u.id)
}

/// Change one's own password: the current one is required and the new one
/// must follow the rules and differ. Every session and token of the person
/// ends (the caller starts a fresh session for the browser in use).
pub fn change_own_password(
    conn: &mut DbConn,
    actor: &Actor,
    current: &str,
    new: &str,
) -> AppResult<()> {
    let u = user(conn, actor.user_id)?;
    if auth::authenticate(conn, &u.username, current).is_err() {
        return Err(AppError::invalid(
            "current_password",
            ErrorCode::PasswordWrong,
            "当前密码不正确",
        ));
    }
    let mut problems: Vec<FieldError> =
        password_problems("new_password", new, &u.username, &u.display_name);
    if problems.is_empty() && new == current {
        problems.push(FieldError::new(
            "new_password",
            ErrorCode::PasswordUnchanged,
            "新密码不能与当前密码相同",
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let hash = hash_password(new)?;
    tx(conn, |c| {
        set_password(c, u.id, &hash, false)?;
        sessions::end_all(c, u.id)?;
        auth::revoke_tokens_of(c, u.id, None)?;
        audit::record(
            c,
            actor,
            "password_change",
            "user",
            u.id,
            None::<&()>,
            Some(&serde_json::json!({ "username": u.username })),
        )?;
        Ok(())
    })
}

/// The CLI sets a password it read from a prompt or stdin (the operator at
/// the server); the person must change it at next login when `must_change`.
pub fn set_password_by_name(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    must_change: bool,
) -> AppResult<()> {
    let u = by_username(conn, username)?;
    let problems = password_problems("password", password, &u.username, &u.display_name);
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let hash = hash_password(password)?;
    tx(conn, |c| {
        set_password(c, u.id, &hash, must_change)?;
        sessions::end_all(c, u.id)?;
        auth::revoke_tokens_of(c, u.id, None)?;
        audit::record(
            c,
            &Actor::system(),
            "password_reset",
            "user",
            u.id,
            None::<&()>,
            Some(&serde_json::json!({ "username": u.username, "by": "cli" })),
        )?;
        Ok(())
    })
}
