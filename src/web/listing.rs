//! What every list page shares: the page numbers with "跳转到第 N 页" and the
//! total (`templates/_pager.html`), and column headers that sort. Links keep
//! the list's other query parameters.

use crate::app::listing::{Dir, Sort, SortKey};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A query value as percent-encoded text (UTF-8 bytes; unreserved ones kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page's query, blank values left out, in a stable order.
fn kept(query: &HashMap<String, String>, without: &[&str]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, v)| !v.trim().is_empty() && !without.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.sort();
    pairs
}

/// `path?k=v&...` of `pairs` then `extra`.
fn href(path: &str, pairs: &[(String, String)], extra: &[(&str, String)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

/// The page number a page asked for; anything unreadable is the first page
/// (a page, unlike the API, shows something rather than an error).
pub(crate) fn page_number(query: &HashMap<String, String>) -> Option<i64> {
    query
        .get("page")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n >= 1)
}

/// The order a page asked for; an unknown key or direction is ignored.
pub(crate) fn sort_of<K: SortKey>(query: &HashMap<String, String>) -> Sort<K> {
    let get = |k: &str| query.get(k).map(String::as_str);
    Sort::parse(get("sort"), get("dir")).unwrap_or_else(|_| Sort::default_order())
}

/// The query for the list use case: `sort` and `dir` as the page will use
/// them (unknown ones dropped), so the use case never refuses a page.
pub(crate) fn sort_params<K: SortKey>(query: &HashMap<String, String>) -> (String, String) {
    let s = sort_of::<K>(query);
    (s.code().to_string(), s.dir.as_str().to_string())
}

/// Page numbers to offer: the first, the last, and two either side of the
/// current one; `None` where numbers are left out.
pub(crate) fn page_links(page: i64, pages: i64) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    let near = (page.saturating_sub(2)).max(1)..=page.saturating_add(2).min(pages);
    for n in [1].into_iter().chain(near).chain([pages]) {
        if n < 1 || n > pages || out.last().is_some_and(|l: &Option<i64>| *l >= Some(n)) {
            continue;
        }
        if out.last().is_some_and(|l| *l != Some(n - 1)) {
            out.push(None);
        }
        out.push(Some(n));
    }
    out
}

/// What `_pager.html` shows: the total in `unit`s, page links, and the
/// "跳转到第 N 页" form carrying the other parameters.
pub(crate) fn pager(
    path: &str,
    query: &HashMap<String, String>,
    unit: &str,
    total: i64,
    page: i64,
    pages: i64,
) -> Value {
    let pairs = kept(query, &["page"]);
    let at = |n: i64| href(path, &pairs, &[("page", n.to_string())]);
    let links: Vec<Value> = page_links(page, pages)
        .into_iter()
        .map(|l| match l {
            Some(n) => json!({"n": n, "href": at(n), "current": n == page}),
            None => json!({"gap": true}),
        })
        .collect();
    let hidden: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    json!({
        "path": path,
        "unit": unit,
        "total": total,
        "page": page,
        "pages": pages,
        "prev": (page > 1).then(|| at(page.saturating_sub(1).min(pages))),
        "next": (page < pages).then(|| at(page + 1)),
        "links": links,
        "hidden": hidden,
    })
}

/// For each sort key of the list: the header link (this key, ascending, or
/// the other way round when it is already the order), its arrow, and the
/// `aria-sort` value. Paging starts again at page 1.
pub(crate) fn sorter<K: SortKey>(path: &str, query: &HashMap<String, String>) -> Value {
    let current = sort_of::<K>(query);
    let pairs = kept(query, &["page", "sort", "dir"]);
    let mut out = serde_json::Map::new();
    for (code, name, key) in K::KEYS {
        let on = *key == current.key;
        let dir = match (on, current.dir) {
            (true, Dir::Asc) => Dir::Desc,
            _ => Dir::Asc,
        };
        let link = href(
            path,
            &pairs,
            &[
                ("sort", code.to_string()),
                ("dir", dir.as_str().to_string()),
            ],
        );
        let (mark, aria) = match (on, current.dir) {
            (true, Dir::Asc) => ("▲", "ascending"),
            (true, Dir::Desc) => ("▼", "descending"),
            _ => ("", "none"),
        };
        out.insert(
            code.to_string(),
            json!({"href": link, "mark": mark, "aria": aria,
                   "title": format!("按{name}排序")}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Far beyond the end: the first and last only.
        assert_eq!(page_links(99, 3), [Some(1), None, Some(3)]);
        assert_eq!(page_links(i64::MAX, 2), [Some(1), Some(2)]);
    }

    #[test]
    fn links_keep_the_other_parameters_encoded() {
        let q: HashMap<String, String> = [
            ("q", "张 三&"),
            ("village", "7"),
            ("page", "3"),
            ("township", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = pager("/growers", &q, "户", 120, 3, 3);
        assert_eq!(
            p["prev"],
            "/growers?q=%E5%BC%A0%20%E4%B8%89%26&village=7&page=2"
        );
        assert_eq!(p["next"], Value::Null);
        assert_eq!(p["hidden"].as_array().unwrap().len(), 2);
    }
}
