//! Login throttling: per user name and per client address, a count of login
//! attempts in a window; too many failures lock the key for a while.
//!
//! An attempt is counted *before* the password is checked and forgiven when
//! it succeeds, so a burst of concurrent guesses cannot slip past the limit
//! while the (deliberately slow) password hashes run. User names that do not
//! exist are throttled exactly like real ones: locking must not tell an
//! attacker which accounts exist.

use crate::app::clock;
use crate::config::Security;
use crate::db::schema::login_throttle;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// The throttle key of a user name (trimmed, case as typed: user names are
/// case-sensitive).
pub fn user_key(username: &str) -> String {
    format!("user:{}", username.trim())
}

/// The throttle key of a client address.
pub fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_throttle)]
struct Row {
    key: String,
    failures: i32,
    window_start: String,
    locked_until: Option<String>,
}

/// A key and the failures that lock it.
pub struct Limit<'a> {
    pub key: &'a str,
    pub max: u32,
}

fn seconds_until(until: &str, now: DateTime<Utc>) -> Option<i64> {
    let t = clock::from_text(until).ok()?;
    let secs = (t - now).num_seconds();
    (secs > 0).then_some(secs)
}

fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The lockout answer: wait `secs` (rounded up to whole minutes in the text).
pub fn locked(secs: i64) -> AppError {
    AppError::Locked {
        retry_after_secs: secs.max(1) as u64,
    }
}

/// Count one attempt against every key, in one transaction. A key that is
/// locked, or whose attempts in flight already reach its limit, refuses the
/// attempt with the time to wait, and nothing is counted.
pub fn reserve(
    conn: &mut DbConn,
    sec: &Security,
    now: DateTime<Utc>,
    limits: &[Limit],
) -> AppResult<()> {
    let now_text = clock::to_text(now);
    let window = duration(sec.lockout_window);
    crate::app::tx(conn, |c| {
        let mut rows = Vec::new();
        for limit in limits {
            lock_row(c, limit.key, &now_text)?;
            let row = login_throttle::table
                .find(limit.key)
                .select(Row::as_select())
                .first(c)
                .optional()?;
            let fresh = Row {
                key: limit.key.to_string(),
                failures: 0,
                window_start: now_text.clone(),
                locked_until: None,
            };
            let row = match row {
                None => fresh,
                Some(r) => {
                    if let Some(wait) = r
                        .locked_until
                        .as_deref()
                        .and_then(|u| seconds_until(u, now))
                    {
                        return Err(locked(wait));
                    }
                    let window_over = clock::from_text(&r.window_start)
                        .map(|start| start + window <= now)
                        .unwrap_or(true);
                    if window_over || r.locked_until.is_some() {
                        fresh
                    } else {
                        r
                    }
                }
            };
            if row.failures >= i32::try_from(limit.max).unwrap_or(i32::MAX) {
                // Attempts in flight fill the allowance: wait for the window.
                let wait = clock::from_text(&row.window_start)
                    .map(|start| (start + window - now).num_seconds())
                    .unwrap_or(1);
                return Err(locked(wait));
            }
            rows.push(row);
        }
        for row in rows {
            save(c, &row.key, row.failures + 1, &row.window_start, None)?;
        }
        Ok(())
    })
}

/// Make sure the key's row exists and hold its lock until the transaction
/// ends, so concurrent attempts count one after the other (PostgreSQL locks
/// the row on UPDATE; SQLite's writer lock is held from BEGIN IMMEDIATE).
fn lock_row(conn: &mut DbConn, key: &str, now: &str) -> AppResult<()> {
    let touch = |c: &mut DbConn| {
        diesel::update(login_throttle::table.find(key))
            .set(login_throttle::failures.eq(login_throttle::failures))
            .execute(c)
    };
    if touch(conn)? > 0 {
        return Ok(());
    }
    let inserted = crate::app::tx(conn, |c| {
        Ok(diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::key.eq(key),
                login_throttle::failures.eq(0),
                login_throttle::window_start.eq(now),
                login_throttle::locked_until.eq(None::<String>),
            ))
            .execute(c)?)
    });
    match inserted {
        Ok(_) => Ok(()),
        // Inserted by a concurrent attempt a moment ago: wait for its lock.
        Err(AppError::Conflict { .. }) => touch(conn).map(|_| ()).map_err(Into::into),
        Err(e) => Err(e),
    }
}

fn save(
    conn: &mut DbConn,
    key: &str,
    failures: i32,
    window_start: &str,
    locked_until: Option<&str>,
) -> AppResult<()> {
    diesel::update(login_throttle::table.find(key))
        .set((
            login_throttle::failures.eq(failures),
            login_throttle::window_start.eq(window_start),
            login_throttle::locked_until.eq(locked_until),
        ))
        .execute(conn)?;
    Ok(())
}

/// The attempt succeeded: the user name starts afresh; the address's count
/// gives back the attempt it reserved (its earlier failures still count).
pub fn succeeded(conn: &mut DbConn, user: &str, addr: Option<&str>) -> AppResult<()> {
    crate::app::tx(conn, |c| {
        diesel::delete(login_throttle::table.find(user)).execute(c)?;
        if let Some(addr) = addr {
            diesel::update(login_throttle::table.find(addr))
                .filter(login_throttle::failures.gt(0))
                .set(login_throttle::failures.eq(login_throttle::failures - 1))
                .execute(c)?;
        }
        Ok(())
    })
}

/// The attempt failed (its count stays). Every key whose count has reached
/// its limit is locked from now; returns the keys locked by this failure.
pub fn failed(
    conn: &mut DbConn,
    sec: &Security,
    now: DateTime<Utc>,
    limits: &[Limit],
) -> AppResult<Vec<String>> {
    let until = clock::to_text(now + duration(sec.lockout_duration));
    crate::app::tx(conn, |c| {
        let mut locked_now = Vec::new();
        for limit in limits {
            let n = diesel::update(login_throttle::table.find(limit.key))
                .filter(login_throttle::failures.ge(i32::try_from(limit.max).unwrap_or(i32::MAX)))
                .filter(login_throttle::locked_until.is_null())
                .set(login_throttle::locked_until.eq(&until))
                .execute(c)?;
            if n > 0 {
                locked_now.push(limit.key.to_string());
            }
        }
        Ok(locked_now)
    })
}

/// An admin lifts a user name's lock (and forgets its failures). Whether
/// there was a lock to lift.
pub fn unlock(conn: &mut DbConn, key: &str) -> AppResult<bool> {
    Ok(diesel::delete(login_throttle::table.find(key)).execute(conn)? > 0)
}

/// Until when a key is locked, if it is.
pub fn locked_until(conn: &mut DbConn, key: &str, now: DateTime<Utc>) -> AppResult<Option<String>> {
    let until: Option<Option<String>> = login_throttle::table
        .find(key)
        .select(login_throttle::locked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().filter(|u| seconds_until(u, now).is_some()))
}
