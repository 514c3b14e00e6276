//! The claims list: one search box (claim number, policy number, plot code,
//! the insured's name or the last 4 of an ID number), status and village
//! filters, sortable columns, page numbers and totals over every match;
//! the API and the page, within each reader's reach.

use crate::helpers::claims::{insured, report};
use crate::helpers::*;
use serde_json::Value;

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn claim_nos(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|i| i["claim_no"].as_str().unwrap().to_string())
        .collect()
}

struct Reported {
    claim_no: String,
    policy_no: String,
    plot_code: String,
    id_tail: String,
}

/// Three insured growers of township A, one claim each, a day apart.
fn three_claims(app: &TestApp) -> Vec<Reported> {
    let uw = app.api("underwriter");
    let mut out = Vec::new();
    for (i, (name, seq)) in [("赔甲", 61u32), ("赔乙", 62), ("赔丙", 63)]
        .into_iter()
        .enumerate()
    {
        let ins = insured(app, name, seq, true);
        let r = report(&uw, &ins, "hail", &format!("2012-06-1{i}T08:00:00+08:00"));
        assert_eq!(r.status, 201, "{}", r.body);
        let id = id_number("19700101", seq);
        out.push(Reported {
            claim_no: r.body["claim_no"].as_str().unwrap().to_string(),
            policy_no: ins.policy_no,
            plot_code: ins.plot_code,
            id_tail: id[id.len() - 4..].to_string(),
        });
    }
    out
}

#[test]
fn the_claims_list_searches_sorts_pages_and_totals_within_reach() {
    let app = spawn_app();
    let c = three_claims(&app);
    let uw = app.api("underwriter");

    // Search: a claim number, a policy number, a plot code, a name, an ID tail.
    for (q, want) in [
        (c[0].claim_no.clone(), &c[0]),
        (c[1].policy_no.clone(), &c[1]),
        (c[2].plot_code.clone(), &c[2]),
        ("赔乙".to_string(), &c[1]),
        (c[2].id_tail.clone(), &c[2]),
    ] {
        let r = uw.get(&format!("/api/v1/claims?q={}", enc(&q)));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(
            claim_nos(&r.body),
            std::slice::from_ref(&want.claim_no),
            "claims?q={q}"
        );
        assert_eq!(r.body["total"], 1);
        assert_eq!(r.body["totals"]["claims"], 1);
    }
    // Nothing found is an empty page, not an error.
    let r = uw.get(&format!("/api/v1/claims?q={}", enc("无此人")));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 0);

    // Sorted both ways by claim number; the default is the newest report first.
    let mut asc: Vec<String> = c.iter().map(|r| r.claim_no.clone()).collect();
    asc.sort();
    let r = uw.get("/api/v1/claims?sort=claim_no&dir=asc");
    assert_eq!(claim_nos(&r.body), asc);
    let r = uw.get("/api/v1/claims?sort=claim_no&dir=desc");
    let mut desc = asc.clone();
    desc.reverse();
    assert_eq!(claim_nos(&r.body), desc);
    let newest_first: Vec<String> = c.iter().rev().map(|r| r.claim_no.clone()).collect();
    assert_eq!(claim_nos(&uw.get("/api/v1/claims").body), newest_first);

    // Pages of 2: every claim once, totals over all three.
    let p1 = uw
        .get("/api/v1/claims?sort=claim_no&per_page=2&page=1")
        .body;
    let p2 = uw
        .get("/api/v1/claims?sort=claim_no&per_page=2&page=2")
        .body;
    assert_eq!(
        (p1["total"].as_i64(), p1["pages"].as_i64()),
        (Some(3), Some(2))
    );
    let mut both = claim_nos(&p1);
    both.extend(claim_nos(&p2));
    assert_eq!(both, asc);
    assert_eq!(p2["totals"]["claims"], 3);

    // A bad sort key or page size is a 422 naming what is accepted.
    let r = uw.get("/api/v1/claims?sort=reporter");
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("claim_no"), "{}", r.body);
    assert_eq!(uw.get("/api/v1/claims?per_page=0").status, 422);
    assert_eq!(
        uw.get(&format!("/api/v1/claims?q={}", "x".repeat(101)))
            .status,
        422
    );

    // Township B's station finds none of them, by any search.
    let b = app.api("station_b");
    for q in [
        c[0].claim_no.clone(),
        "赔".to_string(),
        c[2].id_tail.clone(),
    ] {
        let r = b.get(&format!("/api/v1/claims?q={}", enc(&q)));
        assert_eq!(r.status, 200);
        assert_eq!(r.body["total"], 0, "station_b ?q={q}: {}", r.body);
    }
    // Township A's station sees its own.
    let a = app.api("station_a");
    assert_eq!(a.get("/api/v1/claims").body["total"], 3);
}

#[test]
fn the_claims_page_keeps_the_search_across_pages_and_sorts_by_header() {
    let app = spawn_app();
    let c = three_claims(&app);
    let desk = app.browser();
    desk.login("underwriter");

    let page = desk.get(&format!("/claims/list?q={}", enc("赔乙")));
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&c[1].claim_no), "{}", page.body);
    assert!(!page.body.contains(&c[0].claim_no));
    assert!(page.body.contains("共 1 件"), "pager total");
    assert!(
        page.body.contains(r#"value="赔乙""#),
        "the search stays in its box"
    );

    // Header links sort and keep the search; an unknown sort shows the default order.
    let page = desk.get("/claims/list?sort=claim_no&dir=desc").body;
    let at = |no: &str| page.find(no).unwrap_or_else(|| panic!("{no} on the page"));
    assert!(
        at(&c[2].claim_no) < at(&c[0].claim_no),
        "descending by number"
    );
    assert!(page.contains("aria-sort=\"descending\""));
    assert_eq!(desk.get("/claims/list?sort=bogus").status, 200);
    let page = desk.get(&format!("/claims/list?q={}", enc("赔"))).body;
    let sort_link = page.replace("&#x2f;", "/").replace("&amp;", "&");
    assert!(
        sort_link.contains("/claims/list?q=%E8%B5%94&sort=claim_no&dir=asc"),
        "a header link keeps the search"
    );
    // No match on the page says so in Chinese.
    let page = desk.get(&format!("/claims/list?q={}", enc("无此人"))).body;
    assert!(page.contains("没有符合条件的赔案"));
}
