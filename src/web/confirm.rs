//! The confirmation step of a page action that moves money or ends a record
//! (sign-off, premium handover, a payment, a policy cancel): the form posts
//! once without `confirm=1` and gets a page saying what will happen; only the
//! second post, carrying `confirm=1` and the same fields, writes. A post
//! without the field writes nothing whatever the browser did, so the step
//! cannot be skipped by a script or a stale page.

use super::desk::{Desk, Page};
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// True when the form carries the confirmation.
pub(crate) fn confirmed(form: &HashMap<String, String>) -> bool {
    form.get("confirm").map(|v| v.trim()) == Some("1")
}

/// What the confirmation page shows and posts again.
#[derive(Debug, Serialize)]
pub(crate) struct Confirm {
    pub title: String,
    /// One sentence: what will happen.
    pub lead: String,
    /// Label and value pairs: amount, count, who, when.
    pub facts: Vec<(String, String)>,
    /// Where the confirmed form goes (the same action).
    pub action: String,
    /// The fields posted again, as typed (the CSRF token is added by the page).
    pub fields: Vec<(String, String)>,
    pub button: String,
    /// Where "返回修改" goes.
    pub back: String,
    pub danger: bool,
}

impl Confirm {
    /// The posted fields minus the token and the confirmation itself, in a
    /// stable order.
    pub(crate) fn fields_of(form: &HashMap<String, String>) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = form
            .iter()
            .filter(|(k, _)| k.as_str() != "csrf_token" && k.as_str() != "confirm")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort();
        v
    }
}

impl Desk {
    /// The confirmation page (200: nothing went wrong, nothing was written).
    pub(crate) fn confirm_page(&self, c: Confirm) -> Page {
        self.render("confirm.html", StatusCode::OK, json!({ "confirm": c }))
    }
}
