//! The finance page: the statement with its download, and the forms that sign
//! it off, enter adjustments and record payments; and the dashboard's charts.

use super::{level_options, q, render, statement_query, today, xlsx_name, Data, Posted, Query};
use crate::app::{self, finance, Actor};
use crate::error::{AppError, AppResult};
use crate::web::import_pages::xlsx;
use crate::web::pages::{error_page, flash, is_user_error, redirect};
use crate::web::session::PageUser;
use crate::web::AppState;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

async fn finance_render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    query: finance::StatementQuery,
    errors: Option<&AppError>,
    values: Value,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let today = today(state);
    let res = state
        .run(move |c| {
            let st = finance::statement(c, &a, &query)?;
            let scheme = app::schemes::by_code(c, &st.scheme)?;
            let all_levels = level_options(&scheme);
            let schemes: Vec<Value> = app::schemes::list(c)?
                .iter()
                .map(|s| json!({"code": s.def.code, "name": s.def.name}))
                .collect();
            let adjustments = finance::adjustments(c, &a, &st.scheme)?;
            let (balances, disbursements) = if finance::can_view_payments(&a) {
                (
                    Some(finance::balances(c, &a, &st.scheme)?),
                    finance::disbursements(c, &a, &st.scheme)?,
                )
            } else {
                (None, Vec::new())
            };
            let townships = app::areas::townships(c, &a)?;
            Ok(json!({
                "st": st, "schemes": schemes, "all_levels": all_levels,
                "adjustments": adjustments, "balances": balances,
                "disbursements": disbursements, "townships": townships,
                "can_manage": finance::can_manage(&a),
                "today": today,
                "values": values,
            }))
        })
        .await;
    render(state, session, actor, "finance.html", res, errors, status)
}

pub(super) async fn finance_page(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    finance_render(
        &state,
        &session,
        &actor,
        statement_query(&query),
        None,
        json!({}),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn statement_download(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let sq = statement_query(&query);
    let res = state
        .run(move |c| {
            let st = finance::statement(c, &a, &sq)?;
            Ok((xlsx_name(&st), finance::statement_xlsx(&st)?))
        })
        .await;
    match res {
        Ok((name, bytes)) => xlsx(&name, bytes),
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

/// A finance form: CSRF, the use case, then back to the finance page of
/// `scheme` with a message, or the page again with the errors and the values
/// typed.
async fn finance_action<I, T>(
    state: Data,
    session: Session,
    actor: Actor,
    form: Posted<I>,
    scheme: impl FnOnce(&I) -> String,
    run: impl FnOnce(&mut crate::db::DbConn, &Actor, &I) -> AppResult<T> + Send + 'static,
    message: impl FnOnce(&T) -> String,
) -> HttpResponse
where
    I: serde::Serialize + Send + 'static,
    T: Send + 'static,
{
    let input = match form.checked(&session) {
        Ok(input) => input,
        Err(e) => return error_page(&state, &session, Some(&actor), &e),
    };
    let scheme = scheme(&input);
    let values = json!(input);
    let a = actor.clone();
    match state.run(move |c| run(c, &a, &input)).await {
        Ok(v) => {
            flash(&session, &message(&v));
            redirect(&format!("/finance?scheme={scheme}"))
        }
        Err(e) if is_user_error(&e) || matches!(e, AppError::NotFound(_)) => {
            let query = finance::StatementQuery {
                scheme,
                ..Default::default()
            };
            finance_render(
                &state,
                &session,
                &actor,
                query,
                Some(&e),
                values,
                e.status(),
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

pub(super) async fn lock_post(
    state: Data,
    session: Session,
    user: PageUser,
    form: web::Form<Posted<finance::LockInput>>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    finance_action(
        state,
        session,
        actor,
        form.into_inner(),
        |i| i.scheme.clone(),
        finance::lock,
        |l| {
            format!(
                "补贴结算表已签字锁定：{}份保单，财政补贴{}元",
                l.policy_count, l.subsidy
            )
        },
    )
    .await
}

pub(super) async fn adjustment_post(
    state: Data,
    session: Session,
    user: PageUser,
    form: web::Form<Posted<finance::AdjustmentInput>>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    finance_action(
        state,
        session,
        actor,
        form.into_inner(),
        |i| i.scheme.clone(),
        finance::add_adjustment,
        |v| {
            format!(
                "已录入调整分录：{}{} {}元",
                v.township_name, v.level_name, v.amount
            )
        },
    )
    .await
}

pub(super) async fn disbursement_post(
    state: Data,
    session: Session,
    user: PageUser,
    form: web::Form<Posted<finance::DisbursementInput>>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let today = state.clock.today();
    finance_action(
        state,
        session,
        actor,
        form.into_inner(),
        |i| i.scheme.clone(),
        move |c, a, i| finance::disburse(c, a, i, today),
        |d| {
            format!(
                "已登记拨付：凭证号{}，{}{} {}元",
                d.voucher_no, d.township_name, d.level_name, d.amount
            )
        },
    )
    .await
}

pub(super) async fn dashboard_page(
    state: Data,
    session: Session,
    user: PageUser,
    query: Query,
) -> HttpResponse {
    use crate::web::charts::{bars, Group, Series};
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let scheme = q(&query, "scheme");
    let res = state
        .run(move |c| {
            a.require(finance::can_view_statement(&a))?;
            let sch = finance::scheme_or_current(c, &scheme)?;
            let money_series = [
                Series {
                    name: "应拨",
                    color: "#2f6b2f",
                },
                Series {
                    name: "已拨",
                    color: "#0b57d0",
                },
            ];
            let pair = |due: crate::domain::Fen, paid: crate::domain::Fen| {
                vec![(due.0, format!("{due}元")), (paid.0, format!("{paid}元"))]
            };
            let (balances, chart_levels, chart_townships) = if finance::can_view_payments(&a) {
                let b = finance::balances(c, &a, &sch.def.code)?;
                let levels: Vec<Group> = b
                    .levels
                    .iter()
                    .map(|l| Group {
                        label: l.name.clone(),
                        values: pair(l.figures.due, l.figures.paid),
                    })
                    .collect();
                let towns: Vec<Group> = b
                    .townships
                    .iter()
                    .map(|t| Group {
                        label: t.township_name.clone(),
                        values: pair(t.total.due, t.total.paid),
                    })
                    .collect();
                (
                    Some(b),
                    bars("按补贴层级的应拨与已拨", &money_series, &levels),
                    bars("按乡镇的应拨与已拨", &money_series, &towns),
                )
            } else {
                (None, String::new(), String::new())
            };
            let progress = app::areas::progress(c, &a, sch.id)?;
            let enrollment: Vec<Group> = progress
                .iter()
                .map(|p| Group {
                    label: p.name.clone(),
                    values: vec![
                        (p.target_mu.units(), format!("{}亩", p.target_mu)),
                        (
                            p.insured_mu.units(),
                            format!("{}亩（{}%）", p.insured_mu, p.progress_percent),
                        ),
                    ],
                })
                .collect();
            let chart_enrollment = bars(
                "投保面积与目标",
                &[
                    Series {
                        name: "目标",
                        color: "#b0b8c1",
                    },
                    Series {
                        name: "已投保",
                        color: "#2f6b2f",
                    },
                ],
                &enrollment,
            );
            Ok(json!({
                "scheme_name": sch.def.name, "balances": balances,
                "chart_levels": chart_levels, "chart_townships": chart_townships,
                "chart_enrollment": chart_enrollment,
            }))
        })
        .await;
    crate::web::pages::show(&state, &session, &actor, "finance_dashboard.html", res)
}
