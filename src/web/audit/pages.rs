//! The audit page (操作日志): filtered by person, record, action and China
//! dates, newest first, 50 rows a page with page numbers and the total.

use super::labels;
use crate::app::audit::FilterInput;
use crate::app::{self, Page as Paging, Paged};
use crate::db::audit_chain::china_time;
use crate::db::models::AuditEntry;
use crate::web::desk::{Desk, Page};
use crate::web::page::{parse_id, Query};
use actix_web::web;
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_list));
}

const PAGE_SIZE: i64 = 50;

async fn audit_list(desk: Desk, q: Query) -> Page {
    let q = q.into_inner();
    let get = |k: &str| q.get(k).cloned();
    let input = FilterInput {
        username: get("username"),
        entity: get("entity"),
        entity_id: get("entity_id"),
        action: get("action"),
        from: get("from"),
        to: get("to"),
    };
    let page = parse_id(q.get("page")).unwrap_or(1).max(1);
    // The filters as given (blank ones left out), for the form and the page links.
    let query: serde_json::Map<String, Value> = [
        ("username", &input.username),
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
            let ctx = context(Paged::new(Vec::new(), 0, first_page()), &query);
            return desk.form_page("audit.html", Ok(ctx), Some(e), Value::Null);
        }
    };
    desk.show_with("audit.html", move |c, a| {
        let paging = Paging::new(Some(page), Some(PAGE_SIZE))?;
        let found = app::audit::search(c, a, &filter, paging)?;
        Ok(context(found, &query))
    })
    .await
}

fn first_page() -> Paging {
    Paging {
        number: 1,
        size: PAGE_SIZE,
    }
}

fn context(found: Paged<AuditEntry>, query: &serde_json::Map<String, Value>) -> Value {
    let rows: Vec<Value> = found.items.iter().map(row).collect();
    let option = |(v, l): &(&str, &str)| json!({"value": v, "label": l});
    json!({
        "rows": rows,
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "page_links": page_links(found.page, found.pages),
        "query": query,
        "actions": labels::ACTIONS.iter().map(option).collect::<Vec<_>>(),
        "entities": labels::ENTITIES.iter().map(option).collect::<Vec<_>>(),
    })
}

/// Page numbers to offer: the first, the last, and two either side of the
/// current one; `null` where numbers are left out.
fn page_links(page: i64, pages: i64) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for n in 1..=pages {
        if n == 1 || n == pages || (n - page).abs() <= 2 {
            out.push(Some(n));
        } else if out.last().is_some_and(Option::is_some) {
            out.push(None);
        }
    }
    out
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

fn row(e: &AuditEntry) -> Value {
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
    json!({
        "id": e.id,
        "at": china_time(e.at.as_str()),
        "username": e.username,
        "action": e.action,
        "action_label": labels::action(&e.action),
        "entity": e.entity,
        "entity_label": labels::entity(&e.entity),
        "entity_id": e.entity_id,
        "client": e.client_addr,
        "fields": fields.join("、"),
        "summary": summary,
        "before": pretty(e.before_json.as_deref()),
        "after": pretty(e.after_json.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::page_links;

    #[test]
    fn page_links_keep_the_ends_and_the_neighbourhood() {
        assert_eq!(page_links(1, 1), [Some(1)]);
        assert_eq!(
            page_links(6, 12),
            [
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(12)
            ]
        );
        assert_eq!(page_links(2, 4), [Some(1), Some(2), Some(3), Some(4)]);
    }
}
