//! Page sessions, kept on the server. The browser's cookie carries only a
//! random key; the row (found by the key's SHA-256) says whose session it is
//! and since when. Logging out deletes the row, so a copy of the cookie taken
//! before is worth nothing afterwards; so do a password change or reset, a
//! role or township change and deactivation, for every session of that user.
//! A session also ends after `Security::session_idle` without a request and
//! `Security::session_lifetime` after login, whatever happens.

use super::auth::Actor;
use crate::app::clock;
use crate::config::Security;
use crate::db::models::User;
use crate::db::schema::{sessions, users};
use crate::db::DbConn;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// How stale `last_seen_at` may get before a request writes it again: the
/// idle timeout is kept to within this much, and a busy page session costs
/// one write a minute, not one per request.
const TOUCH_EVERY_SECS: i64 = 60;

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// A new random session key (64 hex characters).
pub fn new_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Start a session for `user_id`; the key goes into the cookie.
pub fn start(
    conn: &mut DbConn,
    user_id: i64,
    now: DateTime<Utc>,
    client: Option<&str>,
) -> AppResult<String> {
    let key = new_key();
    let at = clock::to_text(now);
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(key_hash(&key)),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(&at),
            sessions::last_seen_at.eq(&at),
            sessions::client_addr.eq(client),
        ))
        .execute(conn)?;
    Ok(key)
}

/// Who a live session belongs to, and whether they must change their
/// password before anything else.
pub struct SessionUser {
    pub actor: Actor,
    pub must_change_password: bool,
}

/// The active user of the live session `key`, or `None` (no such session,
/// idle too long, past its lifetime, or the user deactivated). An expired
/// session is deleted on the way.
pub fn user_of(
    conn: &mut DbConn,
    sec: &Security,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<SessionUser>> {
    let hash = key_hash(key);
    let row: Option<(i64, String, String, User)> = sessions::table
        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
        .filter(sessions::token_hash.eq(&hash))
        .select((
            sessions::id,
            sessions::created_at,
            sessions::last_seen_at,
            User::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((id, created_at, last_seen_at, user)) = row else {
        return Ok(None);
    };
    let (Ok(created), Ok(seen)) = (
        clock::from_text(&created_at),
        clock::from_text(&last_seen_at),
    ) else {
        return Ok(None);
    };
    let expired =
        created + duration(sec.session_lifetime) <= now || seen + duration(sec.session_idle) <= now;
    if expired || !user.active {
        diesel::delete(sessions::table.find(id)).execute(conn)?;
        return Ok(None);
    }
    if (now - seen).num_seconds() >= TOUCH_EVERY_SECS {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(clock::to_text(now)))
            .execute(conn)?;
    }
    Ok(Some(SessionUser {
        actor: Actor::from_user(&user)?,
        must_change_password: user.must_change_password,
    }))
}

/// Log out: the session is gone.
pub fn end(conn: &mut DbConn, key: &str) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(key_hash(key)))).execute(conn)?;
    Ok(())
}

/// End every session of a user (password, role or township changed,
/// deactivated). How many there were.
pub fn end_all(conn: &mut DbConn, user_id: i64) -> AppResult<usize> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
}

/// Forget sessions that can no longer be used (run at each login, so the
/// table holds about the live sessions only).
pub fn sweep(conn: &mut DbConn, sec: &Security, now: DateTime<Utc>) -> AppResult<usize> {
    let idle_cutoff = clock::to_text(now - duration(sec.session_idle));
    let life_cutoff = clock::to_text(now - duration(sec.session_lifetime));
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::last_seen_at
                .le(idle_cutoff)
                .or(sessions::created_at.le(life_cutoff)),
        ),
    )
    .execute(conn)?)
}

/// How many live sessions a user has (the account page shows it).
pub fn count_for(conn: &mut DbConn, user_id: i64) -> AppResult<i64> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .count()
        .get_result(conn)?)
}
