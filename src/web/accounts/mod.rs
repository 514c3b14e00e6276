//! Accounts: everyone's own password page, the admin's account pages, and
//! the admin's account API (`/api/v1/users`, in `api`).

pub(crate) mod api;
pub(crate) mod inspect;

use crate::app::auth::NewAccount;
use crate::app::{accounts, areas, sessions, Actor, Role};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::desk::{Desk, Page};
use crate::web::page::{field, flash, is_user_error, redirect, Form};
use crate::web::session::log_in;
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Value};

/// Where a person changes their own password (and the only page open to
/// someone who must change it first).
pub const PASSWORD_PATH: &str = "/account/password";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PASSWORD_PATH, web::get().to(password_form))
        .route(PASSWORD_PATH, web::post().to(password_change))
        .route("/accounts", web::get().to(account_list))
        .route("/accounts", web::post().to(account_create))
        .route("/accounts/{id}", web::get().to(account_show))
        .route("/accounts/{id}", web::post().to(account_update))
        .route("/accounts/{id}/active", web::post().to(account_active))
        .route("/accounts/{id}/reset", web::post().to(account_reset))
        .route("/accounts/{id}/unlock", web::post().to(account_unlock))
        .route(
            "/accounts/{id}/tokens/revoke",
            web::post().to(account_revoke),
        );
    inspect::configure(cfg);
}

/// The admin's routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}

// ---- one's own password ----

async fn password_form(desk: Desk) -> Page {
    let forced = desk
        .run(|c, a| Ok(accounts_must_change(c, a)))
        .await
        .unwrap_or(false);
    desk.render("password.html", StatusCode::OK, json!({"forced": forced}))
}

fn accounts_must_change(conn: &mut crate::db::DbConn, actor: &Actor) -> bool {
    use crate::db::schema::users;
    use diesel::prelude::*;
    users::table
        .find(actor.user_id)
        .select(users::must_change_password)
        .first::<bool>(conn)
        .unwrap_or(false)
}

async fn password_change(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let current = field(&form, "current_password");
    let new = field(&form, "new_password");
    let confirm = field(&form, "confirm_password");
    let res = if new != confirm {
        Err(AppError::invalid(
            "confirm_password",
            ErrorCode::PasswordUnchanged,
            "两次输入的新密码不一致",
        ))
    } else {
        let client = desk.actor.client.clone();
        let now = desk.state.clock.now();
        desk.run(move |c, a| {
            accounts::change_own_password(c, a, &current, &new)?;
            // Every session ended with the change; this browser gets a new one.
            sessions::start(c, a.user_id, now, client.as_deref())
        })
        .await
    };
    match res {
        Ok(key) => {
            if let Err(e) = log_in(&desk.session, &key) {
                return desk.error(&e);
            }
            flash(
                &desk.session,
                "密码已修改。其他设备上的登录和API令牌已全部失效。",
            );
            Ok(redirect("/"))
        }
        Err(e) if is_user_error(&e) => {
            let forced = desk
                .run(|c, a| Ok(accounts_must_change(c, a)))
                .await
                .unwrap_or(false);
            desk.form_page(
                "password.html",
                Ok(json!({"forced": forced})),
                Some(e),
                Value::Null,
            )
        }
        Err(e) => desk.error(&e),
    }
}

// ---- the admin's pages ----

/// The roles and townships the account forms offer.
fn choices(conn: &mut crate::db::DbConn, actor: &Actor) -> AppResult<Value> {
    let towns = areas::townships(conn, actor)?;
    Ok(json!({
        "roles": Role::ALL.iter().map(|r| json!({"code": r.code(), "name": r.name()})).collect::<Vec<_>>(),
        "townships": towns.iter().map(|t| json!({"code": t.code, "name": t.name})).collect::<Vec<_>>(),
    }))
}

fn shown(a: &accounts::Account) -> Value {
    let mut v = json!(a);
    let locked = a
        .locked_until
        .as_deref()
        .and_then(|t| crate::app::clock::from_text(t).ok())
        .map(crate::app::clock::display);
    crate::web::page::set_key(&mut v, "locked_until_shown", json!(locked));
    v
}

async fn account_list(desk: Desk) -> Page {
    let now = desk.state.clock.now();
    desk.show_with("accounts.html", move |c, a| {
        let list = accounts::list(c, a, now)?;
        let mut ctx = choices(c, a)?;
        crate::web::page::set_key(
            &mut ctx,
            "accounts",
            json!(list.iter().map(shown).collect::<Vec<_>>()),
        );
        crate::web::page::set_key(&mut ctx, "values", json!({}));
        Ok(ctx)
    })
    .await
}

fn new_account_from(
    form: &std::collections::HashMap<String, String>,
) -> (String, String, String, String) {
    (
        field(form, "username"),
        field(form, "display_name"),
        field(form, "role"),
        field(form, "township"),
    )
}

/// Create an account with a temporary password, shown once.
pub(crate) fn create_with_temp(
    conn: &mut crate::db::DbConn,
    actor: &Actor,
    username: &str,
    display_name: &str,
    role: &str,
    township: &str,
) -> AppResult<(crate::db::models::User, String)> {
    let temp = accounts::temporary_password();
    let u = accounts::create(
        conn,
        actor,
        &NewAccount {
            username,
            display_name,
            password: &temp,
            role,
            township_code: Some(township).filter(|t| !t.trim().is_empty()),
            must_change_password: true,
        },
    )?;
    Ok((u, temp))
}

async fn account_create(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let (username, display_name, role, township) = new_account_from(&form);
    let values = json!({"username": username, "display_name": display_name, "role": role, "township": township});
    let res = desk
        .run(move |c, a| create_with_temp(c, a, &username, &display_name, &role, &township))
        .await;
    match res {
        Ok((u, temp)) => {
            flash(
                &desk.session,
                &format!(
                    "已创建账号 {}。临时密码：{temp}（只显示这一次，请当面或电话告知本人；首次登录须修改密码）",
                    u.username
                ),
            );
            Ok(redirect(&format!("/accounts/{}", u.id)))
        }
        Err(e) if is_user_error(&e) => {
            let now = desk.state.clock.now();
            let ctx = desk
                .run(move |c, a| {
                    let list = accounts::list(c, a, now)?;
                    let mut ctx = choices(c, a)?;
                    crate::web::page::set_key(
                        &mut ctx,
                        "accounts",
                        json!(list.iter().map(shown).collect::<Vec<_>>()),
                    );
                    Ok(ctx)
                })
                .await;
            desk.form_page("accounts.html", ctx, Some(e), values)
        }
        Err(e) => desk.error(&e),
    }
}

async fn account_context(desk: &Desk, id: i64) -> AppResult<Value> {
    let now = desk.state.clock.now();
    desk.run(move |c, a| {
        let account = accounts::show(c, a, id, now)?;
        let tokens = accounts::tokens(c, a, id)?;
        let now_text = crate::app::clock::to_text(now);
        let mut ctx = choices(c, a)?;
        crate::web::page::set_key(&mut ctx, "account", shown(&account));
        crate::web::page::set_key(
            &mut ctx,
            "tokens",
            json!(tokens
                .iter()
                .map(|t| json!({
                    "id": t.id,
                    "created": stored_display(&t.created_at),
                    "expires": stored_display(&t.expires_at),
                    "revoked": t.revoked_at.as_deref().map(stored_display),
                    "live": t.revoked_at.is_none() && t.expires_at > now_text,
                }))
                .collect::<Vec<_>>()),
        );
        crate::web::page::set_key(&mut ctx, "is_self", json!(id == a.user_id));
        Ok(ctx)
    })
    .await
}

fn stored_display(t: &str) -> String {
    crate::app::clock::from_text(t)
        .map(crate::app::clock::display)
        .unwrap_or_else(|_| t.to_string())
}

async fn account_show(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "账号")?;
    let ctx = account_context(&desk, id).await;
    desk.show("account.html", ctx)
}

async fn account_update(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    let id = desk.id(&id, "账号")?;
    desk.csrf(&form)?;
    let (name, role, township) = (
        field(&form, "display_name"),
        field(&form, "role"),
        field(&form, "township"),
    );
    let values = json!({"display_name": name, "role": role, "township": township});
    let res = desk
        .run(move |c, a| {
            accounts::update(
                c,
                a,
                id,
                &accounts::Change {
                    display_name: &name,
                    role: &role,
                    township_code: Some(township.as_str()),
                },
            )
        })
        .await;
    match res {
        Err(e) if is_user_error(&e) => {
            let ctx = account_context(&desk, id).await;
            desk.form_page("account.html", ctx, Some(e), values)
        }
        res => desk.done(res, |u| {
            (
                format!(
                    "已保存账号 {}（角色或乡镇变化时，其登录已全部失效）",
                    u.username
                ),
                format!("/accounts/{}", u.id),
            )
        }),
    }
}

/// A form that does something irreversible carries a ticked "我确认".
fn confirmed(desk: &Desk, form: &Form) -> Result<(), crate::web::desk::Answered> {
    if form.get("confirm").is_some_and(|v| !v.is_empty()) {
        Ok(())
    } else {
        Err(desk.fail(&AppError::invalid(
            "confirm",
            ErrorCode::ConfirmRequired,
            "请勾选“我确认”后再提交",
        )))
    }
}

async fn account_active(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    let id = desk.id(&id, "账号")?;
    desk.csrf(&form)?;
    let active = field(&form, "active") == "1";
    if !active {
        confirmed(&desk, &form)?;
    }
    let res = desk
        .run(move |c, a| accounts::set_active(c, a, id, active))
        .await;
    desk.done(res, |u| {
        (
            if u.active {
                format!("已启用账号 {}", u.username)
            } else {
                format!("已停用账号 {}：其登录和API令牌已全部失效", u.username)
            },
            format!("/accounts/{}", u.id),
        )
    })
}

async fn account_reset(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    let id = desk.id(&id, "账号")?;
    desk.csrf(&form)?;
    confirmed(&desk, &form)?;
    let res = desk
        .run(move |c, a| accounts::reset_password(c, a, id))
        .await;
    desk.done(res, |temp| {
        (
            format!("已重置密码。临时密码：{temp}（只显示这一次，请当面或电话告知本人；登录后须修改密码）。其登录和API令牌已全部失效。"),
            format!("/accounts/{id}"),
        )
    })
}

async fn account_unlock(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    let id = desk.id(&id, "账号")?;
    desk.csrf(&form)?;
    let res = desk.run(move |c, a| accounts::unlock(c, a, id)).await;
    desk.done(res, |lifted| {
        (
            if lifted {
                "已解除锁定".to_string()
            } else {
                "该账号没有被锁定".to_string()
            },
            format!("/accounts/{id}"),
        )
    })
}

async fn account_revoke(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    let id = desk.id(&id, "账号")?;
    desk.csrf(&form)?;
    let token_id = form
        .get("token_id")
        .and_then(|t| t.trim().parse::<i64>().ok());
    let res = desk
        .run(move |c, a| accounts::revoke_tokens(c, a, id, token_id))
        .await;
    desk.done(res, |n| {
        (format!("已吊销{n}个API令牌"), format!("/accounts/{id}"))
    })
}
