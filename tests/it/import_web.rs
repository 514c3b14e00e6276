//! Roster import and Excel downloads through the web pages (multipart upload).

use crate::helpers::*;
use calamine::{Data, Reader};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/rosters/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range(name).unwrap()
}

fn num(c: &Data) -> f64 {
    match c {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn upload_preview_commit_and_error_report() {
    let app = spawn_app();
    let b = app.browser();
    b.login("station_a");
    // Without the CSRF token nothing is staged.
    let p = b.upload(
        "/import",
        "/import",
        &[],
        "standard.xlsx",
        fixture("standard.xlsx"),
        false,
    );
    assert_eq!(p.status, 403);
    assert_eq!(count(&mut app.conn(), "roster_uploads"), 0);

    let p = b.upload(
        "/import",
        "/import",
        &[],
        "standard.xlsx",
        fixture("standard.xlsx"),
        true,
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let preview_url = p.location.unwrap();
    let page = b.get(&preview_url).body;
    assert!(page.contains("花名册预览（尚未写入）"));
    assert!(page.contains(r#"id="count-new">10<"#), "{page}");
    assert!(page.contains(r#"id="count-ineligible">2<"#));
    assert!(page.contains("树龄不足5年"));
    assert_eq!(
        count(&mut app.conn(), "plots"),
        0,
        "the preview writes nothing"
    );

    let id = preview_url.rsplit('/').next().unwrap();
    let p = b.submit(&preview_url, &format!("/import/{id}/commit"), &[]);
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&preview_url).body;
    assert!(page.contains("已导入：新增10行"), "{page}");
    // The counters say what the import did, as the banner does (not a fresh
    // comparison, which would now find the ten rows unchanged).
    assert!(page.contains(r#"id="count-new">10<"#), "{page}");
    assert!(page.contains("已新增"), "{page}");
    assert_eq!(count(&mut app.conn(), "plots"), 10);
    // Committing twice is refused.
    let p = b.submit(&preview_url, &format!("/import/{id}/commit"), &[]);
    assert_eq!(p.status, 409);
    assert_eq!(count(&mut app.conn(), "plots"), 10);

    // A messy roster: the rejected row comes back in the error report.
    let p = b.upload(
        "/import",
        "/import",
        &[],
        "messy.xlsx",
        fixture("messy.xlsx"),
        true,
    );
    let url = p.location.unwrap();
    let page = b.get(&url).body;
    assert!(page.contains("身份证号被存成了数字"), "{page}");
    let id = url.rsplit('/').next().unwrap();
    let (status, ct, bytes) = b.get_bytes(&format!("/import/{id}/errors.xlsx"));
    assert_eq!(status, 200);
    assert!(ct.contains("spreadsheetml"));
    let r = sheet(&bytes, "错误报告");
    assert_eq!(r.height(), 2, "header + the one rejected row");
    assert_eq!(r.get((1, 0)).map(num), Some(9.0), "original row number");

    // Another township's station can't see the upload.
    let other = app.browser();
    other.login("station_b");
    assert_eq!(other.get(&url).status, 404);
    assert_eq!(other.get_bytes(&format!("/import/{id}/errors.xlsx")).0, 404);
}

#[test]
fn not_a_spreadsheet_is_refused_on_the_upload_page() {
    let app = spawn_app();
    let b = app.browser();
    b.login("station_a");
    let p = b.upload(
        "/import",
        "/import",
        &[],
        "roster.xlsx",
        b"just text".to_vec(),
        true,
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("不是Excel"), "{}", p.body);
    assert_eq!(count(&mut app.conn(), "roster_uploads"), 0);
}

#[test]
fn template_and_household_list_downloads() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g1 = GrowerBuilder::new("甲一").create(&a);
    let g2 = GrowerBuilder::new("甲二")
        .seq(2)
        .village(&app.seed.village_a2)
        .create(&a);
    let plots = [
        PlotBuilder::new(g1).mu("3.37").create(&a),
        PlotBuilder::new(g2).mu("0.333").create(&a),
        PlotBuilder::new(g2)
            .variety("late")
            .tree_age(12)
            .mu("1.25")
            .create(&a),
        PlotBuilder::new(g2).tree_age(3).mu("2").create(&a),
    ];
    let b = app.browser();
    b.login("station_a");

    let (status, _, bytes) = b.get_bytes("/roster-template.xlsx");
    assert_eq!(status, 200);
    let r = sheet(&bytes, "花名册");
    assert_eq!(r.get((0, 0)), Some(&Data::String("姓名".into())));
    let options = sheet(&bytes, "选项");
    let texts: Vec<String> = options
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(texts.contains(&"一村".to_string()) && texts.contains(&"早实核桃".to_string()));
    // The template can be uploaded as it is: its example row is skipped.
    let p = b.upload("/import", "/import", &[], "template.xlsx", bytes, true);
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&p.location.unwrap()).body;
    assert!(page.contains(r#"id="count-rows">0<"#), "{page}");

    let (status, _, bytes) = b.get_bytes(&format!(
        "/reports/household-list.xlsx?township={TOWNSHIP_A}"
    ));
    assert_eq!(status, 200);
    let r = sheet(&bytes, "分户清单");
    let rows: Vec<&[Data]> = r.rows().collect();
    let header = rows
        .iter()
        .position(|r| r.first() == Some(&Data::String("序号".into())))
        .unwrap();
    let premium_col = rows[header]
        .iter()
        .position(|c| c == &Data::String("保费(元)".into()))
        .unwrap();
    let data = &rows[header + 1..rows.len() - 1];
    assert_eq!(data.len(), 2);
    let total = rows.last().unwrap();
    assert_eq!(total[0], Data::String("合计".into()));
    let sum: i64 = data
        .iter()
        .map(|r| (num(&r[premium_col]) * 100.0).round() as i64)
        .sum();
    assert_eq!((num(&total[premium_col]) * 100.0).round() as i64, sum);
    // 269.60 + (26.64 + 100.00)
    assert_eq!(sum, 39624);

    let (status, _, bytes) = b.get_bytes("/reports/policies.xlsx");
    assert_eq!(status, 200);
    let r = sheet(&bytes, "保单清单");
    let last = r.rows().next_back().unwrap().to_vec();
    assert_eq!(last[0], Data::String("合计".into()));
    assert_eq!(last[1], Data::String("2份".into()));
    assert_eq!(
        (num(&last[12]) * 100.0).round() as i64,
        39624,
        "premium total"
    );

    let (status, _, bytes) = b.get_bytes("/reports/eligibility.xlsx");
    assert_eq!(status, 200);
    let t = crate::helpers::report::Table::read(&bytes, "投保条件", "地块编号");
    let mut codes = t.texts("地块编号");
    codes.sort();
    let mut made: Vec<String> = plots
        .iter()
        .map(|p| p.body["code"].as_str().unwrap().to_string())
        .collect();
    made.sort();
    assert_eq!(codes, made, "one row per plot");
    let eligible: Vec<bool> = plots
        .iter()
        .map(|p| p.body["eligible"].as_bool().unwrap())
        .collect();
    assert_eq!(
        eligible,
        [true, true, true, false],
        "the 3-year-old plot is not eligible"
    );
    let yes = t.texts("投保条件").iter().filter(|c| *c == "符合").count();
    assert_eq!(yes, 3);
    assert_eq!(t.total[t.col("投保条件")].to_string(), "符合3块");
    let (mu, mu_total) = t.sum_and_total("面积(亩)", crate::helpers::report::MU_UNITS);
    assert_eq!(
        (mu, mu_total),
        (69_530, 69_530),
        "3.37 + 0.333 + 1.25 + 2 mu"
    );
    // Another township's template or list is not found.
    assert_eq!(
        b.get_bytes(&format!("/roster-template.xlsx?township={TOWNSHIP_B}"))
            .0,
        404
    );
    assert_eq!(
        b.get_bytes(&format!(
            "/reports/household-list.xlsx?township={TOWNSHIP_B}"
        ))
        .0,
        404
    );
}

#[test]
fn boundaries_upload_page_previews_then_imports() {
    let app = spawn_app();
    let a = app.api("station_a");
    let g = GrowerBuilder::new("边界").create(&a);
    let code = PlotBuilder::new(g).mu("15").create(&a).body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let (x, y, dx, dy) = (99.95, 25.65, 100.0 / 100_380.0, 100.0 / 110_800.0);
    let fc = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": code},
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + dx, y], [x + dx, y + dy], [x, y + dy], [x, y]]]}}]});
    let b = app.browser();
    b.login("station_a");
    let p = b.upload(
        "/import",
        "/import/boundaries",
        &[("mode", "preview")],
        "b.geojson",
        fc.to_string().into_bytes(),
        true,
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("地块边界预览（尚未写入）") && p.body.contains(r#"id="b-updated">1<"#),
        "{}",
        p.body
    );
    assert!(a.get("/api/v1/plots").body["items"][0]["boundary"].is_null());
    let p = b.upload(
        "/import",
        "/import/boundaries",
        &[("mode", "commit")],
        "b.geojson",
        fc.to_string().into_bytes(),
        true,
    );
    assert!(p.body.contains("地块边界已导入"));
    assert!(!a.get("/api/v1/plots").body["items"][0]["boundary"].is_null());
    let p = b.upload(
        "/import",
        "/import/boundaries",
        &[("mode", "commit")],
        "b.geojson",
        b"{}".to_vec(),
        true,
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("FeatureCollection"));
}
