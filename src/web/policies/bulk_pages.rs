//! The plumbing of the bulk pages (收费登记, 待签发, 保费交付, 补贴申请): the
//! filter of a pick list, the ticked boxes or "all matching" of a posted
//! form, the ids a confirmation carries, and one way to answer a preview or
//! a refusal (the page again, with the reason and the 4xx status).

use crate::app::policies::select::{self, Matching, Selection, Want};
use crate::app::{self, Actor};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::desk::{Desk, Page};
use crate::web::page::is_user_error_or_missing;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Rows of a pick list per page unless the address asks (1 to 200).
const PAGE_SIZE: i64 = 50;

fn bad_filter(what: &str) -> AppError {
    AppError::invalid(
        what,
        ErrorCode::SelectionInvalid,
        format!("筛选条件（{what}）无效"),
    )
}

fn opt_id(map: &HashMap<String, String>, key: &str) -> AppResult<Option<i64>> {
    match map.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| bad_filter(key)),
    }
}

/// The township / village filter of a query string or a posted form.
pub(crate) fn filter_of(map: &HashMap<String, String>) -> AppResult<Matching> {
    Ok(Matching {
        township_id: opt_id(map, "township")?,
        village_id: opt_id(map, "village")?,
    })
}

/// The page and its size from the query string.
pub(crate) fn page_of(map: &HashMap<String, String>) -> AppResult<(Option<i64>, i64)> {
    let page = opt_id(map, "page")?;
    let size = opt_id(map, "page_size")?.unwrap_or(PAGE_SIZE);
    if !(1..=200).contains(&size) {
        return Err(bad_filter("page_size"));
    }
    Ok((page, size))
}

/// What a posted pick form selects: "all matching" its filter (`all=1`),
/// else the ticked `p<id>` boxes. A box whose id is not a number is refused.
pub(crate) fn selection_of(form: &HashMap<String, String>) -> AppResult<Selection> {
    if form.get("all").map(String::as_str) == Some("1") {
        return Ok(Selection::Matching(filter_of(form)?));
    }
    let mut ids = Vec::new();
    for key in form.keys() {
        let Some(rest) = key.strip_prefix('p') else {
            continue;
        };
        if rest.is_empty() || !rest.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            continue; // another field (page, page_size ...)
        }
        ids.push(rest.parse::<i64>().map_err(|_| bad_id(rest))?);
    }
    ids.sort_unstable();
    Ok(Selection::Ids(ids))
}

fn bad_id(raw: &str) -> AppError {
    let shown: String = raw.chars().take(20).collect();
    AppError::invalid(
        "ids",
        ErrorCode::SelectionInvalid,
        format!("保单编号无效：{shown}"),
    )
}

/// The ids a confirmation carries (comma separated, as the preview wrote them).
pub(crate) fn ids_field(form: &HashMap<String, String>) -> AppResult<Vec<i64>> {
    form.get("ids")
        .map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|_| bad_id(s)))
        .collect()
}

/// Ids joined for the confirmation form.
pub(crate) fn joined(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// The pick list of a page with its filter choices: the policies `want`
/// names, within the actor's reach, one page of them and the totals of all.
pub(crate) fn pick_ctx(
    c: &mut DbConn,
    a: &Actor,
    filter: &Matching,
    want: Want,
    page: (Option<i64>, i64),
) -> AppResult<Value> {
    let pick = select::pick_list(c, a, filter, want, page.0, page.1)?;
    let towns = app::areas::townships(c, a)?;
    let villages = app::areas::villages(c, a, filter.township_id)?;
    Ok(json!({
        "pick": pick,
        "townships": towns,
        "villages": villages,
        "filter": {
            "township": filter.township_id,
            "village": filter.village_id,
            "page_size": page.1,
        },
    }))
}

/// Answer a bulk form: `work` gives the page's context (with its outcome);
/// a person's mistake or a refusal shows the page again (`load`) with the
/// reason and its 4xx status, and the form's values.
pub(crate) async fn answer<W, L>(
    desk: &Desk,
    name: &str,
    form: &HashMap<String, String>,
    work: W,
    load: L,
) -> Page
where
    W: FnOnce(&mut DbConn, &Actor) -> AppResult<Value> + Send + 'static,
    L: FnOnce(&mut DbConn, &Actor) -> AppResult<Value> + Send + 'static,
{
    match desk.run(work).await {
        Ok(ctx) => desk.form_page(name, Ok(ctx), None, json!(form)),
        Err(e) if is_user_error_or_missing(&e) || matches!(e, AppError::Forbidden(_)) => {
            let ctx = desk.run(load).await;
            desk.form_page(name, ctx, Some(e), json!(form))
        }
        Err(e) => desk.error(&e),
    }
}
