//! Finance bureau pages and API handlers: thin wrappers over `app::finance`
//! and its neighbours. The API routes are registered in `api::configure`
//! (so the OpenAPI test sees them); the pages here. `pages` holds the finance
//! page with its forms and the dashboard, `intake_pages` subsidy requests,
//! reconciliation and premium batches, `api` the JSON handlers.

mod api;
mod intake_pages;
mod pages;

pub use api::*;

use super::desk::{Answered, Desk};
use super::session::check_csrf;
use super::AppState;
use crate::app::finance;
use crate::app::schemes::Scheme;
use crate::error::AppResult;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

type Query = web::Query<HashMap<String, String>>;
type Reply = AppResult<HttpResponse>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/finance", web::get().to(pages::finance_page))
        .route(
            "/finance/statement.xlsx",
            web::get().to(pages::statement_download),
        )
        .route(
            "/finance/lock",
            web::post().to(pages::finance_form(
                |c, a, i, _| finance::lock(c, a, i),
                pages::locked,
                pages::LOCK_FORM,
            )),
        )
        .route(
            "/finance/adjustments",
            web::post().to(pages::finance_form(
                |c, a, i, _| finance::add_adjustment(c, a, i),
                pages::adjusted,
                pages::ADJUSTMENT_FORM,
            )),
        )
        .route(
            "/finance/disbursements",
            web::post().to(pages::finance_form(
                finance::disburse,
                pages::disbursed,
                pages::DISBURSEMENT_FORM,
            )),
        )
        .route(
            "/finance/requests",
            web::get().to(intake_pages::requests_page),
        )
        .route(
            "/finance/requests",
            web::post().to(intake_pages::request_post),
        )
        .route(
            "/finance/requests/preview",
            web::post().to(intake_pages::request_preview),
        )
        .route(
            "/finance/requests/confirm",
            web::post().to(intake_pages::request_confirm),
        )
        .route(
            "/finance/requests/{id}",
            web::get().to(intake_pages::request_page),
        )
        .route(
            "/finance/reconcile",
            web::get().to(intake_pages::reconcile_page),
        )
        .route(
            "/finance/reconcile",
            web::post().to(intake_pages::reconcile_upload),
        )
        // The download first: "{id}" alone would also match "7.xlsx".
        .route(
            "/finance/reconcile/{id}.xlsx",
            web::get().to(intake_pages::reconciliation_download),
        )
        .route(
            "/finance/reconcile/{id}",
            web::get().to(intake_pages::reconciliation_page),
        )
        .route("/finance/dashboard", web::get().to(pages::dashboard_page))
        .route("/finance/batches", web::get().to(intake_pages::flow_page))
        .route(
            "/finance/batches/{id}/confirm",
            web::get().to(intake_pages::confirm_page),
        )
        .route(
            "/finance/batches/{id}/confirm",
            web::post().to(intake_pages::confirm_post),
        );
}

fn q(query: &HashMap<String, String>, k: &str) -> String {
    query.get(k).cloned().unwrap_or_default()
}

fn statement_query(query: &HashMap<String, String>) -> finance::StatementQuery {
    finance::StatementQuery {
        scheme: q(query, "scheme"),
        level: q(query, "level"),
        township: q(query, "township"),
    }
}

fn xlsx_name(st: &finance::Statement) -> String {
    match &st.level {
        Some(l) => format!(
            "补贴结算表-{}-{}.xlsx",
            st.scheme,
            crate::domain::scheme::level_name(l)
        ),
        None => format!("补贴结算表-{}.xlsx", st.scheme),
    }
}

/// A scheme's funding levels, as the options of a select.
fn level_options(scheme: &Scheme) -> Vec<Value> {
    scheme
        .def
        .subsidy_levels
        .iter()
        .map(|l| json!({"level": l.level, "name": crate::domain::scheme::level_name(&l.level)}))
        .collect()
}

/// "Today" as the pages prefill date fields with: the China date on the app's clock.
fn today(state: &AppState) -> String {
    state.clock.today().to_string()
}

/// A page form as posted: the CSRF token beside the fields of the use case's
/// input, the same struct the API takes as JSON.
#[derive(Deserialize)]
struct Posted<I> {
    #[serde(default)]
    csrf_token: Option<String>,
    /// "1" on the second post of a form that asks for confirmation.
    #[serde(default)]
    confirm: Option<String>,
    #[serde(flatten)]
    input: I,
}

impl<I> Posted<I> {
    /// The input, once the form's CSRF token checks out; else the refusal page.
    fn checked(self, desk: &Desk) -> Result<I, Answered> {
        desk.or_fail(check_csrf(&desk.session, self.csrf_token.as_ref()))?;
        Ok(self.input)
    }
}
