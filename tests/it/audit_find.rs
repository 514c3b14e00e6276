//! Finding things in the audit log: by person (user name or name), kind of
//! record and China dates, paged without a cap, in Chinese, small.

use crate::helpers::*;

fn page_rows(body: &str) -> Vec<String> {
    body.split("<tr data-id=\"")
        .skip(1)
        .map(|s| s.split("</tr>").next().unwrap().to_string())
        .collect()
}

#[test]
fn the_audit_log_finds_by_person_record_and_day_in_chinese_without_a_row_cap() {
    let app = spawn_app();
    let a = app.api("station_a");
    let b_station = app.api("station_b");
    // A name people know the station by.
    {
        use diesel::prelude::*;
        use guobao::db::schema::users;
        diesel::update(users::table.filter(users::username.eq("station_a")))
            .set(users::display_name.eq("甲镇林业站老周"))
            .execute(&mut app.conn())
            .unwrap();
    }
    let g = GrowerBuilder::new("日志户").seq(21).create(&a);
    let r = PlotBuilder::new(g).create(&a);
    assert_eq!(r.status, 201, "{}", r.body);
    GrowerBuilder::new("乙乡户")
        .seq(22)
        .village(&app.seed.village_b1)
        .create(&b_station);
    // 60 more growers: more than a page of 50 and more than the old cap.
    for i in 0..60 {
        GrowerBuilder::new(&format!("日志户{i:02}"))
            .seq(100 + i)
            .create(&a);
    }

    let b = app.browser();
    b.login("admin");
    let p = b.get("/audit");
    assert_eq!(p.status, 200);
    assert_eq!(page_rows(&p.body).len(), 50);
    // Small: tens of KB for fifty rows, the content on each row's own page.
    assert!(p.body.len() < 60_000, "{} bytes", p.body.len());
    assert!(!p.body.contains("<pre"));
    assert!(p.body.contains("跳转到第"));
    // Chinese labels: the action, the record, the person and their role; 系统 for the system.
    assert!(p.body.contains("<td>新增</td><td>农户</td>"), "{}", p.body);
    assert!(p
        .body
        .contains("甲镇林业站老周 <span class=\"muted\">乡镇林业站</span>"));
    // Times in China time to the minute.
    let re = regex::Regex::new(r"<td>\d{4}-\d{2}-\d{2} \d{2}:\d{2}</td>").unwrap();
    assert_eq!(re.find_iter(&p.body).count(), 50);
    // Page 2 and on: the rows go back to the start (the seed's scheme, by the system).
    let total = total_of(&p.body);
    assert!(total > 60, "{total}");
    let last = total.div_ceil(50);
    let p = b.get(&format!("/audit?page={last}"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains(&format!("第 {last}/{last} 页")));
    assert!(p.body.contains("<td>系统</td>"), "{}", p.body);
    assert!(p.body.contains("险种方案"));

    // By person: user name, part of the name, 系统.
    let p = b.get("/audit?person=station_b");
    let rows = page_rows(&p.body);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.contains("station_b")), "{}", p.body);
    let p = b.get("/audit?person=%E8%80%81%E5%91%A8&entity=plot"); // 老周
    let rows = page_rows(&p.body);
    assert_eq!(rows.len(), 1, "{}", p.body);
    assert!(rows[0].contains("地块") && rows[0].contains("甲镇林业站老周"));
    let p = b.get("/audit?person=%E7%B3%BB%E7%BB%9F"); // 系统
    assert!(page_rows(&p.body)
        .iter()
        .all(|r| r.contains("<td>系统</td>")));
    assert!(!page_rows(&p.body).is_empty());
    let p = b.get("/audit?person=nobody");
    assert!(p.body.contains("没有符合条件的记录"));
    // By record type: policies only (the plot's draft policy).
    let p = b.get("/audit?entity=policy");
    let rows = page_rows(&p.body);
    assert_eq!(rows.len(), 1, "{}", p.body);
    assert!(rows[0].contains("保单"));
    // By China day: today has them, tomorrow nothing.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let p = b.get(&format!(
        "/audit?from={today}&to={today}&person=station_a&entity=grower"
    ));
    assert_eq!(total_of(&p.body), 61);
    let p = b.get(&format!("/audit?from={tomorrow}"));
    assert_eq!(total_of(&p.body), 0);
    // Filters stay on the page links.
    let p = b.get("/audit?person=station_a");
    assert!(p.body.contains("person=station_a&amp;page=2"), "{}", p.body);

    // The API filters by person too, without the page's cap of 50.
    let r = app
        .api("admin")
        .get("/api/v1/audit?person=%E8%80%81%E5%91%A8&entity=grower&limit=500");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().unwrap().len(), 61);
    let r = app.api("admin").get("/api/v1/audit?person=%00");
    assert_eq!(r.status, 422);
    // A station reads no audit log, nor a row of it.
    let s = app.browser();
    s.login("station_a");
    assert_eq!(s.get("/audit").status, 403);
    assert_eq!(s.get("/audit/1").status, 403);
    assert_eq!(b.get("/audit/999999").status, 404);
}

/// "共 N 条" on the page.
fn total_of(body: &str) -> usize {
    let re = regex::Regex::new(r"共 (\d+) 条").unwrap();
    re.captures(body).expect("a total")[1].parse().unwrap()
}
