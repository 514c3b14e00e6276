//! Finding things in the lists: one search box per list (growers, plots,
//! policies), village and status filters, sortable columns, page numbers,
//! and the township scoping under all of it; the API and the pages.

use crate::helpers::*;
use serde_json::{json, Value};

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Percent-encoding for a query value.
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

struct Found {
    /// (grower id, ID number, policy number, plot code) by name.
    growers: Vec<(String, i64, String, String, String)>,
}

impl Found {
    fn get(&self, name: &str) -> &(String, i64, String, String, String) {
        self.growers.iter().find(|g| g.0 == name).unwrap()
    }
}

/// 甲镇: 张三 (一村, 2 mu), 李四 (二村, 5 mu), 王五 (一村, 1 mu);
/// 乙乡: 赵六 (三村, 3 mu).
fn county(app: &TestApp) -> Found {
    let a = app.api("station_a");
    let b = app.api("station_b");
    let mut growers = Vec::new();
    for (name, seq, phone, village, mu, api) in [
        ("张三", 11, "13811112222", VILLAGE_A1.to_string(), "2", &a),
        (
            "李四",
            12,
            "13833334444",
            app.seed.village_a2.clone(),
            "5",
            &a,
        ),
        ("王五", 13, "13800000013", VILLAGE_A1.to_string(), "1", &a),
        (
            "赵六",
            14,
            "13855556666",
            app.seed.village_b1.clone(),
            "3",
            &b,
        ),
    ] {
        let g = GrowerBuilder::new(name)
            .seq(seq)
            .phone(phone)
            .village(&village)
            .create(api);
        let r = PlotBuilder::new(g).mu(mu).create(api);
        assert_eq!(r.status, 201, "{}", r.body);
        let code = r.body["code"].as_str().unwrap().to_string();
        let detail = api.get(&format!("/api/v1/growers/{g}")).body;
        let policy_no = detail["policies"][0]["policy_no"]
            .as_str()
            .unwrap()
            .to_string();
        growers.push((
            name.to_string(),
            g,
            id_number("19700101", seq),
            policy_no,
            code,
        ));
    }
    Found { growers }
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

fn last4(id: &str) -> &str {
    &id[id.len() - 4..]
}

#[test]
fn search_finds_growers_plots_and_policies_by_id_tail_policy_no_plot_code_and_phone() {
    let app = spawn_app();
    let f = county(&app);
    let a = app.api("station_a");
    let (_, zhang, zhang_id, zhang_policy, _) = f.get("张三").clone();
    let (_, _, _, li_policy, _) = f.get("李四").clone();
    let (_, wang, _, _, wang_code) = f.get("王五").clone();

    // Growers: the last 4 of the ID number, a policy number, a plot code, a phone, a name.
    for (q, who) in [
        (last4(&zhang_id).to_string(), "张三"),
        (li_policy.clone(), "李四"),
        (wang_code.clone(), "王五"),
        ("13811112222".to_string(), "张三"),
        (zhang_id.clone(), "张三"),
        ("李".to_string(), "李四"),
    ] {
        let r = a.get(&format!("/api/v1/growers?q={}", enc(&q)));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(names(&r.body, "name"), [who], "growers?q={q}");
        assert_eq!(r.body["total"], 1);
    }
    // Policies: by policy number (part of it too), the insured's ID tail, name, phone, plot code.
    for (q, who) in [
        (zhang_policy.clone(), "张三"),
        (last4(&zhang_id).to_string(), "张三"),
        ("王五".to_string(), "王五"),
        ("13833334444".to_string(), "李四"),
        (wang_code.clone(), "王五"),
    ] {
        let r = a.get(&format!("/api/v1/policies?q={}", enc(&q)));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(names(&r.body, "grower_name"), [who], "policies?q={q}");
        assert_eq!(r.body["totals"]["policies"], 1);
    }
    let part = &zhang_policy[..zhang_policy.len() - 1];
    let r = a.get(&format!("/api/v1/policies?q={}", enc(part)));
    assert!(
        names(&r.body, "policy_no").contains(&zhang_policy),
        "{}",
        r.body
    );
    // Plots: by code and by grower.
    let r = a.get(&format!("/api/v1/plots?q={}", enc(&wang_code)));
    assert_eq!(names(&r.body, "code"), [wang_code.as_str()]);
    let r = a.get(&format!("/api/v1/plots?q={}", enc("张三")));
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["items"][0]["grower_id"], zhang);
    // Nothing matches: an empty list, not an error.
    let r = a.get("/api/v1/growers?q=%E6%97%A0%E6%AD%A4%E4%BA%BA");
    assert_eq!(r.body["total"], 0);
    // The pages search the same way.
    let b = app.browser();
    b.login("station_a");
    let p = b.get(&format!("/growers?q={}", last4(&zhang_id)));
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains(&format!("/growers/{zhang}\"")),
        "{}",
        p.body
    );
    assert!(!p.body.contains(&format!("/growers/{wang}\"")));
    let p = b.get(&format!("/policies?q={}", enc(&wang_code)));
    assert!(
        p.body.contains("王五") && !p.body.contains("张三"),
        "{}",
        p.body
    );
    let p = b.get(&format!("/plots?q={}", enc("李四")));
    assert!(p.body.contains("李四") && !p.body.contains(&wang_code));
}

#[test]
fn a_station_search_never_finds_another_townships_rows() {
    let app = spawn_app();
    let f = county(&app);
    let (_, zhao, zhao_id, zhao_policy, zhao_code) = f.get("赵六").clone();
    let a = app.api("station_a");
    let queries = [
        "赵六".to_string(),
        last4(&zhao_id).to_string(),
        zhao_id.clone(),
        zhao_policy.clone(),
        zhao_code.clone(),
        "13855556666".to_string(),
    ];
    for q in &queries {
        for list in ["growers", "plots", "policies"] {
            let r = a.get(&format!("/api/v1/{list}?q={}", enc(q)));
            assert_eq!(r.status, 200, "{list}?q={q}: {}", r.body);
            assert_eq!(
                r.body["total"], 0,
                "station_a finds {q} in {list}: {}",
                r.body
            );
        }
        // Even naming 乙乡's village or township.
        let v = app.seed.township_b;
        let r = a.get(&format!("/api/v1/growers?q={}&township_id={v}", enc(q)));
        assert_eq!(r.body["total"], 0);
    }
    // Its own station and the county find 赵六.
    for user in ["station_b", "forestry"] {
        let r = app
            .api(user)
            .get(&format!("/api/v1/growers?q={}", last4(&zhao_id)));
        assert_eq!(names(&r.body, "name"), ["赵六"], "{user}");
    }
    let b = app.browser();
    b.login("station_a");
    for q in &queries {
        for page in ["/growers", "/plots", "/policies"] {
            let p = b.get(&format!("{page}?q={}", enc(q)));
            assert_eq!(p.status, 200);
            assert!(!p.body.contains(">赵六</a>"), "{page}?q={q}");
            assert!(p.body.contains("没有"), "{page}?q={q}: an empty list");
            assert!(!p.body.contains(&format!("/growers/{zhao}\"")));
        }
    }
    // The village select offers only the station's own villages.
    let p = b.get("/growers");
    assert!(p.body.contains("一村") && p.body.contains("二村"));
    assert!(!p.body.contains("三村"), "{}", p.body);
}

#[test]
fn village_and_status_filters() {
    let app = spawn_app();
    let f = county(&app);
    let a = app.api("station_a");
    let a2 = village_id(&app, &app.seed.village_a2);
    let r = a.get(&format!("/api/v1/growers?village_id={a2}"));
    assert_eq!(names(&r.body, "name"), ["李四"]);
    let r = a.get(&format!("/api/v1/policies?village_id={a2}"));
    assert_eq!(names(&r.body, "grower_name"), ["李四"]);
    let r = a.get(&format!("/api/v1/plots?village_id={a2}"));
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["items"][0]["grower_id"], f.get("李四").1);
    // Another township's village: nothing (not its rows).
    let b1 = village_id(&app, &app.seed.village_b1);
    let r = a.get(&format!("/api/v1/growers?village_id={b1}"));
    assert_eq!(r.body["total"], 0);

    // Status: 张三's share collected; by code or by the Chinese name.
    let zhang_policy = a.get(&format!("/api/v1/growers/{}", f.get("张三").1)).body["policies"][0]
        ["id"]
        .as_i64()
        .unwrap();
    let r = a.post(
        &format!("/api/v1/policies/{zhang_policy}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = a.get("/api/v1/policies?status=collected");
    assert_eq!(names(&r.body, "grower_name"), ["张三"]);
    let collected_name = r.body["items"][0]["status_name"]
        .as_str()
        .unwrap()
        .to_string();
    let r = a.get(&format!("/api/v1/policies?status={}", enc(&collected_name)));
    assert_eq!(names(&r.body, "grower_name"), ["张三"]);
    let r = a.get("/api/v1/policies?status=draft&sort=grower");
    assert_eq!(r.body["total"], 2);
    let r = a.get(&format!("/api/v1/policies?status=draft&village_id={a2}"));
    assert_eq!(names(&r.body, "grower_name"), ["李四"]);
    let r = a.get("/api/v1/policies?status=lost");
    assert_eq!(r.status, 422);
    assert_eq!(r.body["fields"][0]["code"], "status_invalid");
    // The page: the select in Chinese, the filter applied.
    let b = app.browser();
    b.login("station_a");
    let p = b.get("/policies?status=collected");
    assert!(p.body.contains(&format!(">{collected_name}</option>")));
    assert!(
        p.body.contains("张三") && !p.body.contains("李四"),
        "{}",
        p.body
    );
    let p = b.get(&format!("/growers?village={a2}"));
    assert!(p.body.contains("李四") && !p.body.contains("张三"));
}

fn village_id(app: &TestApp, code: &str) -> i64 {
    use diesel::prelude::*;
    use guobao::db::schema::areas;
    areas::table
        .filter(areas::code.eq(code))
        .select(areas::id)
        .first(&mut app.conn())
        .unwrap()
}

#[test]
fn columns_sort_both_ways_and_pages_count() {
    let app = spawn_app();
    county(&app);
    let a = app.api("station_a");
    // Policies by area: 王五 1, 张三 2, 李四 5 mu.
    let r = a.get("/api/v1/policies?sort=area&dir=asc");
    assert_eq!(names(&r.body, "grower_name"), ["王五", "张三", "李四"]);
    let r = a.get("/api/v1/policies?sort=area&dir=desc");
    assert_eq!(names(&r.body, "grower_name"), ["李四", "张三", "王五"]);
    let r = a.get("/api/v1/policies?sort=premium&dir=desc");
    assert_eq!(names(&r.body, "grower_name"), ["李四", "张三", "王五"]);
    let asc = names(&a.get("/api/v1/policies?sort=grower").body, "grower_name");
    let mut desc = names(
        &a.get("/api/v1/policies?sort=grower&dir=desc").body,
        "grower_name",
    );
    desc.reverse();
    assert_eq!(asc, desc);
    // Growers by name and by registration, both ways.
    let asc = names(&a.get("/api/v1/growers?sort=name&dir=asc").body, "name");
    let mut desc = names(&a.get("/api/v1/growers?sort=name&dir=desc").body, "name");
    assert_eq!(asc.len(), 3);
    desc.reverse();
    assert_eq!(asc, desc);
    let r = a.get("/api/v1/growers?sort=id&dir=desc");
    assert_eq!(names(&r.body, "name"), ["王五", "李四", "张三"]);
    // Plots by area.
    let r = a.get("/api/v1/plots?sort=area&dir=desc");
    let areas: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["area_mu"].as_str().unwrap())
        .collect();
    assert_eq!(areas.len(), 3);
    assert!(
        areas[0].starts_with('5') && areas[2].starts_with('1'),
        "{areas:?}"
    );

    // Paging: 2 a page, 3 in all; page 2 holds the third (per_page or page_size).
    let r = a.get("/api/v1/policies?sort=area&per_page=2&page=2");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total"], 3);
    assert_eq!(r.body["pages"], 2);
    assert_eq!(r.body["page"], 2);
    assert_eq!(names(&r.body, "grower_name"), ["李四"]);
    let r = a.get("/api/v1/growers?sort=id&page_size=2&page=2");
    assert_eq!(names(&r.body, "name"), ["王五"]);
    assert_eq!(r.body["pages"], 2);
    let r = a.get("/api/v1/plots?per_page=1&page=3");
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["pages"], 3);

    // Unknown sort keys and directions: refused in Chinese, naming the keys.
    for list in ["growers", "plots", "policies"] {
        for q in [
            "sort=password_hash",
            "sort=name%3BDROP",
            "dir=up",
            "per_page=0",
        ] {
            let r = a.get(&format!("/api/v1/{list}?{q}"));
            assert_eq!(r.status, 422, "{list}?{q}: {}", r.body);
            assert!(
                has_chinese(r.body["message"].as_str().unwrap()),
                "{}",
                r.body
            );
        }
    }
    let r = a.get("/api/v1/policies?sort=secret");
    assert_eq!(r.body["fields"][0]["field"], "sort");
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("policy_no（保单号）"));

    // The pages: sort links that flip, page numbers, "跳转到第 N 页", the total.
    let b = app.browser();
    b.login("station_a");
    let p = b.get("/policies?sort=area&dir=asc");
    assert_eq!(p.status, 200);
    let order = |body: &str| {
        ["王五", "张三", "李四"].map(|n| body.find(&format!(">{n}</a>")).unwrap_or(usize::MAX))
    };
    let o = order(&p.body);
    assert!(o[0] < o[1] && o[1] < o[2], "{o:?}");
    assert!(
        p.body.contains("sort=area&amp;dir=desc"),
        "the header flips"
    );
    assert!(p.body.contains("aria-sort=\"ascending\""));
    let p = b.get("/policies?sort=area&dir=desc");
    let o = order(&p.body);
    assert!(o[0] > o[1] && o[1] > o[2], "{o:?}");
    // An unknown key on a page is ignored, not an error.
    let p = b.get("/growers?sort=password_hash&dir=sideways&page=abc");
    assert_eq!(p.status, 200);
    assert!(p.body.contains("共 3 户"), "{}", p.body);
    // Fifty a page: more growers make a second page with its number and the jump form.
    for i in 0..48 {
        GrowerBuilder::new(&format!("翻页户{i:02}"))
            .seq(100 + i)
            .create(&a);
    }
    let p = b.get("/growers?sort=name&dir=asc");
    assert!(p.body.contains("共 51 户 · 第 1/2 页"), "{}", p.body);
    assert!(p.body.contains("跳转到第"));
    assert!(p.body.contains("name=\"page\""));
    assert!(
        p.body
            .contains("growers?dir=asc&amp;sort=name&amp;page=2\""),
        "{}",
        p.body
    );
    let p2 = b.get("/growers?sort=name&dir=asc&page=2");
    assert!(p2.body.contains("第 2/2 页"));
    assert_eq!(p2.body.matches("<tr><td><a href=\"/growers/").count(), 1);
}
