//! The audit page (操作日志): filtered by person, record, action and China
//! dates, newest first, 50 rows a page with page numbers and the total.

use super::labels;
use crate::app::audit::FilterInput;
use crate::app::{self, Page as Paging, Paged};
use crate::db::models::AuditEntry;
use crate::web::desk::{Desk, Page};
use crate::web::listing;
use crate::web::page::{set_key, Query};
use actix_web::web;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_list))
        .route("/audit/{id}", web::get().to(audit_entry));
}

const PAGE_SIZE: i64 = 50;

async fn audit_list(desk: Desk, q: Query) -> Page {
    let q = q.into_inner();
    let get = |k: &str| q.get(k).cloned();
    let input = FilterInput {
        username: get("username"),
        person: get("person"),
        entity: get("entity"),
        entity_id: get("entity_id"),
        action: get("action"),
        from: get("from"),
        to: get("to"),
    };
    let page = listing::page_number(&q).unwrap_or(1);
    // The filters as given (blank ones left out), for the form and the page links.
    let query: serde_json::Map<String, Value> = [
        ("username", &input.username),
        ("person", &input.person),
        ("entity", &input.entity),
        ("entity_id", &input.entity_id),
        ("action", &input.action),
        ("from", &input.from),
        ("to", &input.to),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (k.to_string(), json!(s)))
    })
    .collect();
    let filter = match input.parse() {
        Ok(f) => f,
        Err(e) => {
            let ctx = context(
                Paged::new(Vec::new(), 0, first_page()),
                &HashMap::new(),
                &query,
            );
            return desk.form_page("audit.html", Ok(ctx), Some(e), Value::Null);
        }
    };
    desk.show_with("audit.html", move |c, a| {
        let paging = Paging::new(Some(page), Some(PAGE_SIZE))?;
        let found = app::audit::search(c, a, &filter, paging)?;
        let people = app::audit::people(c, found.items.iter().filter_map(|e| e.user_id))?;
        Ok(context(found, &people, &query))
    })
    .await
}

fn first_page() -> Paging {
    Paging {
        number: 1,
        size: PAGE_SIZE,
    }
}

type People = HashMap<i64, (String, String)>;

fn context(
    found: Paged<AuditEntry>,
    people: &People,
    query: &serde_json::Map<String, Value>,
) -> Value {
    let rows: Vec<Value> = found.items.iter().map(|e| row(e, people)).collect();
    let option = |(v, l): &(&str, &str)| json!({"value": v, "label": l});
    let params: HashMap<String, String> = query
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    json!({
        "rows": rows,
        "pager": listing::pager("/audit", &params, "条", found.total, found.page, found.pages),
        "query": query,
        "actions": labels::ACTIONS.iter().map(option).collect::<Vec<_>>(),
        "entities": labels::ENTITIES.iter().map(option).collect::<Vec<_>>(),
    })
}

/// A stored JSON text laid out for reading (as stored if it is not JSON).
fn pretty(s: Option<&str>) -> Option<String> {
    s.map(|s| {
        serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| s.to_string())
    })
}

/// Who did it: the account's name and role, or 系统 for the system's own
/// changes, or the name as typed (a failed login of an unknown name).
fn person(e: &AuditEntry, people: &People) -> (String, String) {
    match e.user_id.and_then(|id| people.get(&id)) {
        Some((name, role)) => (name.clone(), role.clone()),
        None if e.username == app::audit::SYSTEM_USERNAME => {
            (app::audit::SYSTEM_LABEL.to_string(), String::new())
        }
        None => (e.username.clone(), String::new()),
    }
}

/// One row of the list, short: the content before and after is on the
/// row's own page (inline, fifty rows of it made the page 320 KB).
fn row(e: &AuditEntry, people: &People) -> Value {
    // A read names the fields shown in full.
    let fields: Vec<String> = if e.action == "read" {
        e.after_json
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .and_then(|v| v.get("fields").cloned())
            .and_then(|f| serde_json::from_value::<Vec<String>>(f).ok())
            .map(|fs| fs.iter().map(|f| labels::field(f).to_string()).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let summary = match (&e.before_json, &e.after_json) {
        (Some(_), Some(_)) => "修改前后",
        (Some(_), None) => "删除前的内容",
        (None, Some(_)) => "内容",
        (None, None) => "",
    };
    let (name, role) = person(e, people);
    json!({
        "id": e.id,
        "at": e.at.display(),
        "username": e.username,
        "person": name,
        "role": role,
        "action": e.action,
        "action_label": labels::action(&e.action),
        "entity": e.entity,
        "entity_label": labels::entity(&e.entity),
        "entity_id": e.entity_id,
        "client": e.client_addr,
        "fields": fields.join("、"),
        "summary": summary,
    })
}

/// One audit row with its content before and after.
async fn audit_entry(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "日志记录")?;
    desk.show_with("audit_entry.html", move |c, a| {
        let e = app::audit::get(c, a, id)?;
        let people = app::audit::people(c, e.user_id)?;
        let mut r = row(&e, &people);
        set_key(&mut r, "before", json!(pretty(e.before_json.as_deref())));
        set_key(&mut r, "after", json!(pretty(e.after_json.as_deref())));
        set_key(&mut r, "hash", json!(e.hash));
        Ok(json!({"entry": r}))
    })
    .await
}
