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

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: &'a str,
    pub township_code: Option<&'a str>,
}

pub fn create_user(conn: &mut DbConn, a: &NewAccount) -> AppResult<User> {
    let mut errors = Vec::new();
    let username = a.username.trim();
    if username.is_empty()
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        errors.push(crate::error::FieldError::new(
            "username",
            ErrorCode::UsernameInvalid,
            "用户名只能由字母、数字、_、-、.组成",
        ));
    }
    if a.password.chars().count() < 8 {
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
    let township_id = match a.township_code {
        Some(code) => {
            let id = areas::table
                .filter(areas::code.eq(code))
                .filter(areas::level.eq(crate::domain::area::AreaLevel::Township))
                .select(areas::id)
                .first::<i64>(conn)
                .optional()?;
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
    if role == Some(Role::Township) && township_id.is_none() && a.township_code.is_none() {
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
    diesel::insert_into(users::table)
        .values(NewUser {
            username,
            display_name: a.display_name,
            password_hash: &hash,
            role: role.map(|r| r.code()).unwrap_or(Role::Admin.code()),
            township_id,
            active: true,
            created_at: now,
        })
        .execute(conn)?;
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)?)
}

/// Check a username and password; the same answer for "no such user" and
/// "wrong password" so accounts can't be probed.
pub fn authenticate(conn: &mut DbConn, username: &str, password: &str) -> AppResult<Actor> {
    let user = users::table
        .filter(users::username.eq(username.trim()))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    match user {
        Some(u) if u.active && verify_password(password, &u.password_hash) => Actor::from_user(&u),
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

/// Issue an API bearer token (valid 30 days); only its hash is stored.
pub fn issue_token(conn: &mut DbConn, actor: &Actor) -> AppResult<String> {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let now = chrono::Utc::now();
    let expires = (now + chrono::Duration::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(actor.user_id),
            api_tokens::token_hash.eq(token_hash(&token)),
            api_tokens::created_at.eq(now_text()),
            api_tokens::expires_at.eq(expires),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The active user a live API token belongs to: one indexed query (the
/// token's hash is unique) joining the token to its user, run on every API
/// request. Nothing is cached, so an expired token, or one whose user was
/// deactivated, is refused on the very next request.
pub fn actor_by_token(conn: &mut DbConn, token: &str) -> AppResult<Option<Actor>> {
    let row = api_tokens::table
        .inner_join(users::table.on(users::id.eq(api_tokens::user_id)))
        .filter(api_tokens::token_hash.eq(token_hash(token)))
        .filter(api_tokens::expires_at.gt(now_text()))
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
