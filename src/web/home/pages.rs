//! The login form, logging in and out, and the dashboard (enrollment
//! progress per township for a scheme).

use crate::app::{self, auth, schemes, sessions};
use crate::error::AppError;
use crate::web::desk::{Desk, Page};
use crate::web::page::{error_page, field, page, redirect, Data, Form, Query};
use crate::web::session::{check_csrf, client_addr, log_in, log_out, PageUser};
use actix_session::Session;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(dashboard))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

async fn login_form(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    if user.0.is_some() {
        return redirect("/");
    }
    page(
        &state,
        &session,
        None,
        "login.html",
        StatusCode::OK,
        json!({"signed_out": q.contains_key("signed_out")}),
    )
}

/// Refuse a form without this session's CSRF token (no one is logged in yet,
/// or is logging out); nothing is changed.
fn refused(state: &Data, session: &Session, form: &Form) -> Option<HttpResponse> {
    let checked = check_csrf(session, form.get("csrf_token"));
    checked.err().map(|e| error_page(state, session, None, &e))
}

async fn login(state: Data, session: Session, req: HttpRequest, form: Form) -> HttpResponse {
    if let Some(refusal) = refused(&state, &session, &form) {
        return refusal;
    }
    let username = field(&form, "username");
    let password = field(&form, "password");
    let client = client_addr(&req);
    let u = username.clone();
    let (security, now) = (state.security, state.clock.now());
    let res = state
        .run(move |c| {
            let attempt = auth::Attempt {
                username: &u,
                password: &password,
                client: client.as_deref(),
                now,
            };
            let done = auth::log_in(c, &security, &attempt)?;
            sessions::sweep(c, &security, now)?;
            let key = sessions::start(c, done.actor.user_id, now, client.as_deref())?;
            Ok((key, done.must_change_password))
        })
        .await;
    match res {
        Ok((key, must_change)) => match log_in(&session, &key) {
            Ok(()) if must_change => redirect(crate::web::accounts::PASSWORD_PATH),
            Ok(()) => redirect("/"),
            Err(e) => error_page(&state, &session, None, &e),
        },
        Err(AppError::LoginFailed) => page(
            &state,
            &session,
            None,
            "login.html",
            StatusCode::UNAUTHORIZED,
            json!({"error": "用户名或密码错误", "username": username}),
        ),
        Err(e @ AppError::Locked { retry_after_secs }) => {
            let mut reply = page(
                &state,
                &session,
                None,
                "login.html",
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": e.to_string(), "username": username}),
            );
            if let Ok(v) = retry_after_secs.to_string().parse() {
                reply.headers_mut().insert(header::RETRY_AFTER, v);
            }
            reply
        }
        Err(e) => error_page(&state, &session, None, &e),
    }
}

async fn logout(state: Data, session: Session, form: Form) -> HttpResponse {
    if let Some(refusal) = refused(&state, &session, &form) {
        return refusal;
    }
    log_out(&state, &session).await;
    // The login page then asks the tablet pages' workers to forget the pages
    // they kept for use without a signal (offline.js).
    redirect("/login?signed_out=1")
}

async fn dashboard(state: Data, desk: Desk, q: Query) -> Page {
    let scheme_code = q.get("scheme").cloned();
    let now = state.clock.now();
    desk.show_with("dashboard.html", move |c, a| {
        let all = schemes::list(c)?;
        let scheme = match scheme_code {
            Some(code) => schemes::by_code(c, &code)?,
            None => match all.first() {
                Some(s) => s.clone(),
                None => return Ok(json!({"schemes": [], "rows": []})),
            },
        };
        let home = app::home::home(c, a, Some(scheme.id), now)?;
        let balances = if a.role == crate::domain::access::Role::Finance
            && app::finance::can_view_payments(a)
        {
            Some(app::finance::balances(c, a, &scheme.def.code)?)
        } else {
            None
        };
        let rows = if home.shows_progress {
            app::areas::progress(c, a, scheme.id)?
        } else {
            Vec::new()
        };
        let target: i64 = rows.iter().map(|r| r.target_mu.units()).sum();
        let insured: i64 = rows.iter().map(|r| r.insured_mu.units()).sum();
        let eligible: i64 = rows.iter().map(|r| r.eligible_mu.units()).sum();
        let totals = json!({
            "target_mu": crate::domain::Mu::from_units(target),
            "insured_mu": crate::domain::Mu::from_units(insured),
            "eligible_mu": crate::domain::Mu::from_units(eligible),
            "growers": rows.iter().map(|r| r.growers).sum::<i64>(),
            "plots": rows.iter().map(|r| r.plots).sum::<i64>(),
            "policies": rows.iter().map(|r| r.policies).sum::<i64>(),
            "progress_percent": if target > 0 {
                (rust_decimal::Decimal::from(insured) * rust_decimal::Decimal::ONE_HUNDRED
                    / rust_decimal::Decimal::from(target)).round_dp(1)
            } else { rust_decimal::Decimal::ZERO },
        });
        let county = app::areas::county(c)?;
        Ok(json!({
            "scheme": {"code": scheme.def.code, "name": scheme.def.name},
            "schemes": all.iter().map(|s| json!({"code": s.def.code, "name": s.def.name})).collect::<Vec<_>>(),
            "rows": rows, "totals": totals, "county": county,
            "single_township": a.township_scope().is_some(),
            "home": home, "balances": balances,
        }))
    })
    .await
}
