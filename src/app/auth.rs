//! Accounts, roles and what each role may see and do.

use crate::db::models::{NewUser, User};
use crate::db::schema::{api_tokens, areas, users};
use crate::db::{now_text, DbConn};
use crate::domain::time::Instant;
use crate::error::{AppError, AppResult, ErrorCode};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::domain::access::{Action, Role, Target};

/// Who is acting: every use case takes one, and scopes by it.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub township_id: Option<i64>,
    /// Where the request came from (the peer address), for the audit trail;
    /// `None` for the CLI and the system.
    pub client: Option<String>,
}

impl Actor {
    /// The CLI and the demo loader act as the system itself.
    pub fn system() -> Actor {
        Actor {
            user_id: 0,
            username: "system".into(),
            display_name: "系统".into(),
            role: Role::Admin,
            township_id: None,
            client: None,
        }
    }

    pub fn from_user(u: &User) -> AppResult<Actor> {
        let role = Role::parse(&u.role)
            .ok_or_else(|| AppError::Internal(format!("unknown role {}", u.role)))?;
        Ok(Actor {
            user_id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role,
            township_id: u.township_id,
            client: None,
        })
    }

    /// A township station sees only its own township; everyone else the county.
    pub fn sees_township(&self, township_id: i64) -> bool {
        !self.role.is_township_bound() || self.township_id == Some(township_id)
    }

    /// Which township a list is restricted to, if any.
    pub fn township_scope(&self) -> Option<i64> {
        if self.role.is_township_bound() {
            Some(self.township_id.unwrap_or(-1))
        } else {
            None
        }
    }

    /// May this actor do `action` at all (on some row)?
    pub fn may(&self, action: Action) -> bool {
        crate::domain::access::grant(self.role, action).is_some()
    }

    /// May this actor do `action` on a row of `township_id`?
    pub fn may_in(&self, action: Action, township_id: i64) -> bool {
        let target = if self.sees_township(township_id) {
            Target::Own
        } else {
            Target::OtherTownship
        };
        crate::domain::access::allows(self.role, action, target)
    }

    pub fn can_edit_enrollment(&self) -> bool {
        self.may(Action::EditEnrollment)
    }

    pub fn can_collect_premium(&self) -> bool {
        self.may(Action::CollectPremium)
    }

    pub fn can_underwrite(&self) -> bool {
        self.may(Action::Underwrite)
    }

    pub fn can_manage_schemes(&self) -> bool {
        self.may(Action::ManageSchemes)
    }

    pub fn can_read_audit(&self) -> bool {
        self.may(Action::ReadAudit)
    }

    /// Full ID numbers and bank accounts: only for the roles that act on them.
    pub fn sees_personal_data(&self) -> bool {
        self.may(Action::SeePersonalData)
    }

    /// The same actor, seen as coming from `client`.
    pub fn from_client(mut self, client: Option<String>) -> Actor {
        self.client = client;
        self
    }

    pub fn require(&self, allowed: bool) -> AppResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password nobody knows: an unknown user name is checked
/// against it, so "no such user" costs as long as "wrong password" and the
/// time of an answer does not tell which accounts exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret = crate::app::sessions::new_key();
        hash_password(&secret).unwrap_or_default()
    })
}

/// Most characters a password may have (a long one only costs hashing time).
pub const PASSWORD_MAX_CHARS: usize = 128;
/// Fewest characters a password may have.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// The password rules, as field errors under `field` (empty when the
/// password is acceptable): at least 10 characters, at most 128, no control
/// characters, not containing the user name, and not weak by the zxcvbn
/// estimate (score 3 of 4 at least: about 10^10 guesses).
pub fn password_problems(
    field: &str,
    password: &str,
    username: &str,
    display_name: &str,
) -> Vec<crate::error::FieldError> {
    use crate::error::FieldError;
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return vec![FieldError::new(
            field,
            ErrorCode::PasswordTooShort,
            format!("密码至少{PASSWORD_MIN_CHARS}位（现为{chars}位）"),
        )];
    }
    if chars > PASSWORD_MAX_CHARS {
        return vec![FieldError::new(
            field,
            ErrorCode::PasswordTooLong,
            format!("密码最多{PASSWORD_MAX_CHARS}位"),
        )];
    }
    if password.chars().any(char::is_control) {
        return vec![FieldError::new(
            field,
            ErrorCode::TextControlChar,
            "密码不能含有换行、制表符等控制字符",
        )];
    }
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return vec![FieldError::new(
            field,
            ErrorCode::PasswordContainsUsername,
            "密码不能包含用户名",
        )];
    }
    let inputs = [username.trim(), display_name.trim(), "guobao", "walnut"];
    if zxcvbn::zxcvbn(password, &inputs).score() < zxcvbn::Score::Three {
        return vec![FieldError::new(
            field,
            ErrorCode::PasswordWeak,
            "密码太容易被猜到（常见词、姓名、日期、连续或重复的字符、键盘顺序都容易被猜中），请换一个更长、更不规律的密码，例如几个不相关的词加数字",
        )];
    }
    Vec::new()
}

#[derive(Clone, Copy)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: &'a str,
    pub township_code: Option<&'a str>,
    /// The person must choose their own password at first login (accounts
    /// an admin creates for someone else).
    pub must_change_password: bool,
}

/// Create an account; the password must pass [`password_problems`].
pub fn create_user(conn: &mut DbConn, a: &NewAccount) -> AppResult<User> {
    insert_user(conn, a, true)
}

/// The demo county's accounts, whose shared password is printed in the
/// README: created without the strength estimate (never for real accounts).
pub fn create_demo_user(conn: &mut DbConn, a: &NewAccount) -> AppResult<User> {
    insert_user(conn, a, false)
}

fn insert_user(conn: &mut DbConn, a: &NewAccount, check_strength: bool) -> AppResult<User> {
    let mut errors = Vec::new();
    let username = a.username.trim();
    if username.is_empty()
        || username.chars().count() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        errors.push(crate::error::FieldError::new(
            "username",
            ErrorCode::UsernameInvalid,
            "用户名只能由字母、数字、_、-、.组成，最多64位",
        ));
    }
    let display_name = match crate::domain::text::check(
        "姓名",
        a.display_name,
        crate::domain::text::TextKind::Name,
    ) {
        Ok(n) if n.is_empty() => username.to_string(),
        Ok(n) => n,
        Err(p) => {
            errors.push(crate::error::FieldError::new(
                "display_name",
                p.code,
                p.message,
            ));
            String::new()
        }
    };
    if check_strength {
        errors.extend(password_problems(
            "password",
            a.password,
            username,
            &display_name,
        ));
    } else if a.password.chars().count() < 8 {
        errors.push(crate::error::FieldError::new(
            "password",
            ErrorCode::PasswordTooShort,
            "密码至少8位",
        ));
    }
    let role = Role::parse(a.role);
    if role.is_none() {
        errors.push(crate::error::FieldError::new(
            "role",
            ErrorCode::RoleUnknown,
            format!(
                "未知角色：{}（可选：{}）",
                a.role,
                Role::ALL
                    .iter()
                    .map(|r| r.code())
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        ));
    }
    let township_id = match a.township_code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => {
            let id = township_by_code(conn, code)?;
            if id.is_none() {
                errors.push(crate::error::FieldError::new(
                    "township",
                    ErrorCode::TownshipUnknown,
                    format!("未找到乡镇代码：{code}"),
                ));
            }
            id
        }
        None => None,
    };
    let township_given = a
        .township_code
        .map(str::trim)
        .is_some_and(|c| !c.is_empty());
    if role == Some(Role::Township) && township_id.is_none() && !township_given {
        errors.push(crate::error::FieldError::new(
            "township",
            ErrorCode::TownshipRequired,
            "乡镇林业站账号必须指定所属乡镇",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let exists = users::table
        .filter(users::username.eq(username))
        .count()
        .get_result::<i64>(conn)?;
    if exists > 0 {
        return Err(AppError::conflict(
            ErrorCode::UsernameTaken,
            format!("用户名{username}已存在"),
        ));
    }
    let hash = hash_password(a.password)?;
    let now = Instant::from_utc(chrono::Utc::now());
    // Only a station's account belongs to a township.
    let township_id = township_id.filter(|_| role == Some(Role::Township));
    diesel::insert_into(users::table)
        .values(NewUser {
            username,
            display_name: &display_name,
            password_hash: &hash,
            role: role.map(|r| r.code()).unwrap_or(Role::Admin.code()),
            township_id,
            active: true,
            created_at: now,
            must_change_password: a.must_change_password,
        })
        .execute(conn)?;
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)?)
}

/// The township with this code, if there is one.
pub fn township_by_code(conn: &mut DbConn, code: &str) -> AppResult<Option<i64>> {
    Ok(areas::table
        .filter(areas::code.eq(code))
        .filter(areas::level.eq(crate::domain::area::AreaLevel::Township))
        .select(areas::id)
        .first::<i64>(conn)
        .optional()?)
}

/// A login attempt: who says they are whom, from where, when.
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub client: Option<&'a str>,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A successful login.
pub struct LoggedIn {
    pub actor: Actor,
    pub must_change_password: bool,
}

/// Check a user name and password under the login throttle.
///
/// - The same answer (and about the same time) for "no such user",
///   "deactivated" and "wrong password": an unknown name is checked against
///   a dummy hash, so accounts can't be probed by timing either.
/// - After `lockout_failures` failures for a name (or `address_failures`
///   from one client address) within the window, further attempts are
///   refused with [`AppError::Locked`] until the lock ends or an admin
///   unlocks; each lock is audited, as is every login and failed login.
pub fn log_in(
    conn: &mut DbConn,
    sec: &crate::config::Security,
    a: &Attempt,
) -> AppResult<LoggedIn> {
    use crate::app::throttle::{self, Limit};
    // A name longer than any account's is throttled under its first 64
    // characters: the key stays small and still can't be varied freely.
    let name: String = a.username.trim().chars().take(64).collect();
    let user_key = throttle::user_key(&name);
    let addr_key = a.client.map(throttle::addr_key);
    let mut limits = vec![Limit {
        key: &user_key,
        max: sec.lockout_failures,
    }];
    if let Some(k) = &addr_key {
        limits.push(Limit {
            key: k,
            max: sec.address_failures,
        });
    }
    throttle::reserve(conn, sec, a.now, &limits)?;
    let user = users::table
        .filter(users::username.eq(&name))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let password: String = a.password.chars().take(PASSWORD_MAX_CHARS + 1).collect();
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let matches = verify_password(&password, &hash);
    let system = Actor::system().from_client(a.client.map(str::to_string));
    match user {
        Some(u) if matches && u.active => {
            throttle::succeeded(conn, &user_key, addr_key.as_deref())?;
            let actor = Actor::from_user(&u)?.from_client(a.client.map(str::to_string));
            crate::app::audit::record(
                conn,
                &actor,
                "login",
                "user",
                u.id,
                None::<&()>,
                Some(&serde_json::json!({ "username": u.username })),
            )?;
            Ok(LoggedIn {
                actor,
                must_change_password: u.must_change_password,
            })
        }
        user => {
            let user_id = user.as_ref().map_or(0, |u| u.id);
            // The lock and its audit row commit together: every lock the
            // monthly inspection counts is one that happened, and none is
            // left without its row.
            crate::app::tx(conn, |conn| {
                let locked = throttle::failed(conn, sec, a.now, &limits)?;
                crate::app::audit::record(
                    conn,
                    &system,
                    "login_failed",
                    "user",
                    user_id,
                    None::<&()>,
                    Some(&serde_json::json!({ "username": name })),
                )?;
                for key in locked {
                    crate::app::audit::record(
                        conn,
                        &system,
                        "lockout",
                        "user",
                        user_id,
                        None::<&()>,
                        Some(&serde_json::json!({
                            "key": key,
                            "minutes": sec.lockout_duration.as_secs() / 60,
                        })),
                    )?;
                }
                Ok(())
            })?;
            Err(AppError::LoginFailed)
        }
    }
}

/// Check a user name and password without the throttle (the CLI's own
/// checks and tests). Pages and the API go through [`log_in`].
pub fn authenticate(conn: &mut DbConn, username: &str, password: &str) -> AppResult<Actor> {
    let user = users::table
        .filter(users::username.eq(username.trim()))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let matches = verify_password(password, &hash);
    match user {
        Some(u) if u.active && matches => Actor::from_user(&u),
        _ => Err(AppError::LoginFailed),
    }
}

pub fn actor_by_id(conn: &mut DbConn, id: i64) -> AppResult<Option<Actor>> {
    let user = users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?;
    match user {
        Some(u) if u.active => Ok(Some(Actor::from_user(&u)?)),
        _ => Ok(None),
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issue an API bearer token living `lifetime`; only its hash is stored.
pub fn issue_token(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    lifetime: chrono::Duration,
) -> AppResult<IssuedToken> {
    let token = crate::app::sessions::new_key();
    let expires_at = crate::app::clock::to_text(now + lifetime);
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(actor.user_id),
            api_tokens::token_hash.eq(token_hash(&token)),
            api_tokens::created_at.eq(crate::app::clock::to_text(now)),
            api_tokens::expires_at.eq(&expires_at),
        ))
        .execute(conn)?;
    Ok(IssuedToken { token, expires_at })
}

/// A new token and when it expires (stored UTC text).
pub struct IssuedToken {
    pub token: String,
    pub expires_at: String,
}

/// The active user a live API token belongs to: one indexed query (the
/// token's hash is unique) joining the token to its user, run on every API
/// request. Nothing is cached, so an expired or revoked token, or one whose
/// user was deactivated, is refused on the very next request.
pub fn actor_by_token(
    conn: &mut DbConn,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<Actor>> {
    let row = api_tokens::table
        .inner_join(users::table.on(users::id.eq(api_tokens::user_id)))
        .filter(api_tokens::token_hash.eq(token_hash(token)))
        .filter(api_tokens::expires_at.gt(crate::app::clock::to_text(now)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(users::active.eq(true))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::role,
            users::township_id,
        ))
        .first::<(i64, String, String, String, Option<i64>)>(conn)
        .optional()?;
    row.map(|(user_id, username, display_name, role, township_id)| {
        let role =
            Role::parse(&role).ok_or_else(|| AppError::Internal(format!("unknown role {role}")))?;
        Ok(Actor {
            user_id,
            username,
            display_name,
            role,
            township_id,
            client: None,
        })
    })
    .transpose()
}

/// Revoke the token itself (`DELETE /api/v1/session`): whether it was live.
pub fn revoke_token(conn: &mut DbConn, actor: &Actor, token: &str) -> AppResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::token_hash.eq(token_hash(token)))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now_text()))
    .execute(conn)?;
    if n > 0 {
        crate::app::audit::record(
            conn,
            actor,
            "token_revoke",
            "user",
            actor.user_id,
            None::<&()>,
            Some(&serde_json::json!({ "tokens": n, "by": "self" })),
        )?;
    }
    Ok(n > 0)
}

/// Revoke every live token of a user (or only `token_id`); how many.
pub fn revoke_tokens_of(
    conn: &mut DbConn,
    user_id: i64,
    token_id: Option<i64>,
) -> AppResult<usize> {
    let mut q = diesel::update(api_tokens::table)
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .into_boxed();
    if let Some(id) = token_id {
        q = q.filter(api_tokens::id.eq(id));
    }
    Ok(q.set(api_tokens::revoked_at.eq(now_text())).execute(conn)?)
}

/// A user's API token as an admin sees it (never the token itself).
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct TokenInfo {
    pub id: i64,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// A user's tokens, newest first.
pub fn tokens_of(conn: &mut DbConn, user_id: i64) -> AppResult<Vec<TokenInfo>> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .select((
            api_tokens::id,
            api_tokens::created_at,
            api_tokens::expires_at,
            api_tokens::revoked_at,
        ))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let real = hash_password("Some-real-password-42").unwrap();
        let (real, dummy) = (
            PasswordHash::new(&real).unwrap(),
            PasswordHash::new(dummy_hash()).unwrap(),
        );
        assert_eq!(real.algorithm, dummy.algorithm);
        assert_eq!(real.version, dummy.version);
        assert_eq!(real.params, dummy.params, "same memory, time and lanes");
        assert!(!verify_password("", dummy_hash()));
    }

    #[test]
    fn passwords_follow_the_rules() {
        let codes = |pw: &str, user: &str| -> Vec<&'static str> {
            password_problems("p", pw, user, "王芳")
                .iter()
                .map(|e| e.code.as_str())
                .collect()
        };
        assert_eq!(codes("12345678", "clerk"), ["password_too_short"]);
        assert_eq!(codes("          ", "clerk"), ["password_weak"]);
        assert_eq!(codes("password1234", "clerk"), ["password_weak"]);
        assert_eq!(
            codes("Clerk-walnut-2012", "clerk"),
            ["password_contains_username"]
        );
        assert_eq!(codes(&"x".repeat(129), "clerk"), ["password_too_long"]);
        assert_eq!(
            codes("walnut\u{0}orchard-river-9", "clerk"),
            ["text_control_char"]
        );
        assert!(codes("Qingshan-walnut-river-77", "clerk").is_empty());
        assert!(codes("核桃园在青山脚下第七排", "clerk").is_empty());
    }
}
