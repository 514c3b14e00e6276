//! The web pages through HTTP: login, CSRF, forms with Chinese errors, scoping.

use crate::helpers::*;

#[test]
fn pages_need_login_and_login_needs_the_right_password() {
    let app = spawn_app();
    let b = app.browser();
    let p = b.get("/growers");
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/login")));
    let p = b.submit(
        "/login",
        "/login",
        &[("username", "station_a"), ("password", "wrong-password")],
    );
    assert_eq!(p.status, 401);
    assert!(p.body.contains("用户名或密码错误"));
    b.login("station_a");
    let p = b.get("/");
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("甲镇") && !p.body.contains("乙乡"),
        "a station's dashboard shows its own township only"
    );
    let p = b.get("/audit");
    assert_eq!(p.status, 403);
    assert!(p.body.contains("没有权限"));
}

#[test]
fn session_cookie_is_httponly_and_samesite() {
    let app = spawn_app();
    let r = reqwest::blocking::get(format!("{}/login", app.address)).unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

#[test]
fn forms_without_a_valid_csrf_token_change_nothing() {
    let app = spawn_app();
    let b = app.browser();
    // Even the login form is protected.
    let p = b.post(
        "/login",
        &[("username", "station_a"), ("password", PASSWORD)],
    );
    assert_eq!(p.status, 403);
    b.login("station_a");
    let form = [
        ("name", "伪造"),
        ("id_number", &*id_number("19700101", 9)),
        ("phone", "13800000000"),
        ("bank_account", "6228480000000000001"),
        ("village_code", "532999101201"),
    ];
    let p = b.post("/growers", &form);
    assert_eq!(p.status, 403);
    assert!(p.body.contains("请刷新页面"));
    let mut forged = form.to_vec();
    forged.push(("csrf_token", "00ff"));
    assert_eq!(b.post("/growers", &forged).status, 403);
    assert_eq!(count(&mut app.conn(), "growers"), 0);
    // With the token it works.
    let p = b.submit("/growers/new", "/growers", &form);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&mut app.conn(), "growers"), 1);
}

#[test]
fn grower_and_plot_forms_show_chinese_errors_and_verdicts() {
    let app = spawn_app();
    let b = app.browser();
    b.login("station_a");
    let p = b.submit(
        "/growers/new",
        "/growers",
        &[
            ("name", "表单户"),
            ("id_number", "123"),
            ("phone", "13800000000"),
            ("bank_account", "6228480000000000001"),
            ("village_code", "532999101201"),
        ],
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("身份证号应为18位，实际为3位"), "{}", p.body);
    // The form keeps what was typed.
    assert!(p.body.contains("value=\"表单户\""));
    assert_eq!(count(&mut app.conn(), "growers"), 0);

    let idn = id_number("19700101", 7);
    let p = b.submit(
        "/growers/new",
        "/growers",
        &[
            ("name", "表单户"),
            ("id_number", &idn),
            ("phone", "13800000000"),
            ("bank_account", "6228480000000000001"),
            ("village_code", "532999101201"),
        ],
    );
    assert_eq!(p.status, 303);
    let grower_url = p.location.unwrap();
    let gid = grower_url.rsplit('/').next().unwrap().to_string();
    let page = b.get(&grower_url);
    assert!(page.body.contains("已登记农户表单户"), "flash message");
    assert!(
        page.body.contains(&idn),
        "the station sees the full number on the detail page"
    );

    let new_plot = format!("/growers/{gid}/plots/new");
    let p = b.submit(
        &new_plot,
        "/plots",
        &[
            ("grower_id", &gid),
            ("scheme", "walnut-2012"),
            ("variety", "late"),
            ("tree_age", "9"),
            ("tree_count", "30"),
            ("fruit_per_tree", "300"),
            ("area_mu", "3.37"),
            ("village_code", "532999101201"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let plot = b.get(&p.location.unwrap());
    assert!(plot.body.contains("不符合投保条件") && plot.body.contains("树龄不足10年"));

    let p = b.submit(
        &new_plot,
        "/plots",
        &[
            ("grower_id", &gid),
            ("scheme", "walnut-2012"),
            ("variety", "early"),
            ("tree_age", "5"),
            ("tree_count", "30"),
            ("fruit_per_tree", "270"),
            ("area_mu", "-2"),
            ("village_code", "532999101201"),
        ],
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("面积必须大于0"));

    let p = b.submit(
        &new_plot,
        "/plots",
        &[
            ("grower_id", &gid),
            ("scheme", "walnut-2012"),
            ("variety", "early"),
            ("tree_age", "5"),
            ("tree_count", "30"),
            ("fruit_per_tree", "270"),
            ("area_mu", "3.37"),
            ("village_code", "532999101201"),
        ],
    );
    let plot = b.get(&p.location.unwrap());
    assert!(plot.body.contains("符合投保条件") && !plot.body.contains("不符合投保条件"));

    // The policy page shows the money breakdown.
    let grower = b.get(&grower_url).body;
    let re = regex::Regex::new(r#"href="/policies/(\d+)""#).unwrap();
    let pid = re.captures(&grower).expect("policy link")[1].to_string();
    let policy = b.get(&format!("/policies/{pid}")).body;
    for s in ["269.60", "53.92", "215.68", "3370.00", "省级财政", "134.80"] {
        assert!(policy.contains(s), "{s}");
    }
}

#[test]
fn another_townships_pages_are_not_found() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("甲户").create(&a);
    let plot = PlotBuilder::new(g).mu("2").create(&a).body["id"]
        .as_i64()
        .unwrap();
    let b = app.browser();
    b.login("station_b");
    for path in [
        format!("/growers/{g}"),
        format!("/growers/{g}/edit"),
        format!("/plots/{plot}"),
    ] {
        let p = b.get(&path);
        assert_eq!(p.status, 404, "{path}");
        assert!(!p.body.contains("甲户"));
    }
    let p = b.submit("/growers", &format!("/growers/{g}/delete"), &[]);
    assert_eq!(p.status, 404);
    assert_eq!(count(&mut app.conn(), "growers"), 1);
    // And the list doesn't leak them.
    assert!(!b.get("/growers").body.contains("甲户"));
}

#[test]
fn policy_collect_and_issue_through_pages() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("页面户").create(&a);
    PlotBuilder::new(g).create(&a);
    let pid = a.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    let station = app.browser();
    station.login("station_a");
    let page = format!("/policies/{pid}");
    let p = station.submit(
        &page,
        &format!("/policies/{pid}/collect"),
        &[("collected_on", "2012-03-02")],
    );
    assert_eq!(p.status, 303);
    assert!(station.get(&page).body.contains("已收自缴保费"));
    let uw = app.browser();
    uw.login("underwriter");
    notices::notice_for_policy(&app, pid);
    let p = uw.submit(&page, &format!("/policies/{pid}/issue"), &[]);
    assert_eq!(p.status, 303);
    let body = uw.get(&page).body;
    assert!(body.contains("已签发") && body.contains("2012-04-01 至 2012-10-31"));
    // The station's batch page shows and records the hand-over.
    let p = station.submit(
        "/batches",
        "/batches",
        &[("receipt_no", "SJ-9"), ("handed_over_on", "2012-03-31")],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("确认交付") && p.body.contains("16.00"));
    let p = station.submit(
        "/batches",
        "/batches",
        &[
            ("receipt_no", "SJ-9"),
            ("handed_over_on", "2012-03-31"),
            ("confirm", "1"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let body = station.get("/batches").body;
    assert!(body.contains("SJ-9") && body.contains("16.00"));
}

#[test]
fn plot_list_filters_by_verdict_within_the_township() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("清单户").create(&a);
    PlotBuilder::new(g).create(&a);
    PlotBuilder::new(g).tree_age(3).mu("2").create(&a);
    let gb = GrowerBuilder::new("乙乡户")
        .seq(2)
        .village(&app.seed.village_b1)
        .create(&app.api("station_b"));
    PlotBuilder::new(gb)
        .tree_age(3)
        .mu("2")
        .create(&app.api("station_b"));
    let b = app.browser();
    b.login("station_a");
    let all = b.get("/plots").body;
    assert!(
        all.contains("共 2 块") && all.contains("清单户") && !all.contains("乙乡户"),
        "{all}"
    );
    let bad = b.get("/plots?eligible=0").body;
    assert!(bad.contains("共 1 块") && bad.contains("树龄不足5年"));
}

#[test]
fn the_browsers_icon_request_gets_no_content_rather_than_a_404() {
    let app = spawn_app();
    let (status, _, body) = app.browser().get_bytes("/favicon.ico");
    assert_eq!(status, 204);
    assert!(body.is_empty());
}
