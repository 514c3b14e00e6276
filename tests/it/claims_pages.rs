//! Claims through the pages: the board, a report taken from a phone call,
//! dispatch, the survey page's queued requests (CSRF in a header), review,
//! agreement, payment, and the two spreadsheets.

use crate::helpers::claims::*;
use crate::helpers::*;
use calamine::{Data, Reader};
use serde_json::Value;

fn sheet(bytes: &[u8]) -> calamine::Range<Data> {
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = wb.sheet_names()[0].clone();
    wb.worksheet_range(&name).unwrap()
}

fn text(c: &Data) -> String {
    match c {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

/// Money cells to fen, exactly (the writer stores 2-decimal numbers).
fn fen(c: &Data) -> i64 {
    match c {
        Data::Float(f) => (f * 100.0).round() as i64,
        Data::Int(i) => i * 100,
        other => panic!("not money: {other:?}"),
    }
}

fn column(range: &calamine::Range<Data>, header: &str) -> (usize, usize) {
    for (r, row) in range.rows().enumerate() {
        if let Some(c) = row.iter().position(|d| text(d) == header) {
            return (r, c);
        }
    }
    panic!("no column {header}");
}

#[test]
fn a_claim_through_the_pages() {
    let app = spawn_app_at("2012-06-12 16:00");
    let ins = insured(&app, "页面户", 21, true);
    let desk = app.browser();
    desk.login("underwriter");

    // The clerk finds the policy by the grower's name.
    let found = desk.get("/claims/new?q=页面户");
    assert_eq!(found.status, 200);
    assert!(found.body.contains(&ins.policy_no), "{}", found.body);
    let plot = ins.plot_id.to_string();
    let policy = ins.policy_id.to_string();
    // A report without the caller's name is refused, nothing written.
    let p = desk.submit(
        "/claims/new?q=页面户",
        "/claims",
        &[
            ("q", "页面户"),
            ("policy_id", &policy),
            ("plot_id", &plot),
            ("peril", "hail"),
            ("occurred_at", "2012-06-12T14:30"),
            ("reporter_name", ""),
            ("channel", "phone"),
        ],
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("请填写报案人姓名"));
    assert_eq!(count(&mut app.conn(), "claims"), 0);
    // Without the CSRF token: refused.
    let p = desk.post(
        "/claims",
        &[
            ("policy_id", &policy),
            ("plot_id", &plot),
            ("peril", "hail"),
        ],
    );
    assert_eq!(p.status, 403);

    let p = desk.submit(
        "/claims/new?q=页面户",
        "/claims",
        &[
            ("policy_id", &policy),
            ("plot_id", &plot),
            ("peril", "hail"),
            ("occurred_at", "2012-06-12T14:30"),
            ("reported_at", "2012-06-12T15:10"),
            ("reporter_name", "页面户"),
            ("reporter_phone", "13900000001"),
            ("channel", "phone"),
            ("description", "冰雹"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let claim_url = p.location.unwrap();
    let id: i64 = claim_url.rsplit('/').next().unwrap().parse().unwrap();
    let page = desk.get(&claim_url);
    assert!(page.body.contains("须在2012-06-13 15:10前完成现场查勘"));
    assert!(page.body.contains("id=\"dispatch-form\""));

    // The board lists it with its time left.
    let board = desk.get("/claims");
    assert_eq!(board.status, 200);
    assert!(board.body.contains("剩余23小时10分"), "{}", board.body);

    let p = desk.submit(
        &claim_url,
        &format!("/claims/{id}/dispatch"),
        &[
            ("adjuster", "adjuster"),
            ("co_surveyor", "forestry"),
            ("version", "1"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(desk.get(&claim_url).body.contains("待查勘"));

    // The survey page is for the assigned surveyors only.
    assert_eq!(desk.get(&format!("/claims/{id}/survey")).status, 403);
    let field = app.browser();
    field.login("adjuster");
    let survey = field.get(&format!("/claims/{id}/survey"));
    assert_eq!(survey.status, 200);
    assert!(survey.body.contains("survey-config"));
    assert!(survey.body.contains("/claims/survey.js"));
    let token = field.csrf(&format!("/claims/{id}/survey"));
    let csrf = [("X-CSRF-Token", token.as_str())];

    let photo = field.post_raw(
        &format!("/claims/{id}/photos?client_id=page-photo-01"),
        &csrf,
        "image/jpeg",
        jpeg(3),
    );
    assert_eq!(photo.status, 201, "{}", photo.body);
    let (lat, lon) = point_east(30.0);
    let body = serde_json::to_vec(&survey_body("page-survey-01", lat, lon, "4", "25")).unwrap();
    // The queued request without its CSRF header is refused.
    let p = field.post_raw(
        &format!("/claims/{id}/survey.json"),
        &[],
        "application/json",
        body.clone(),
    );
    assert_eq!(p.status, 403);
    let p = field.post_raw(
        &format!("/claims/{id}/survey.json"),
        &csrf,
        "application/json",
        body.clone(),
    );
    assert_eq!(p.status, 201, "{}", p.body);
    let v: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(v["payout"]["amount"], "1000.00");
    let again = field.post_raw(
        &format!("/claims/{id}/survey.json"),
        &csrf,
        "application/json",
        body,
    );
    assert_eq!(again.status, 200);
    assert_eq!(count(&mut app.conn(), "claim_surveys"), 1);

    // The desk reviews on the claim page, with the photo and the survey shown.
    let page = desk.get(&claim_url);
    assert!(page.body.contains("在地块范围内"));
    assert!(page.body.contains("审核通过（赔款 1000.00 元）"));
    let (status, ct, bytes) = desk.get_bytes(&format!("/claims/{id}/photos/1"));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(bytes, jpeg(3));
    let p = desk.submit(
        &claim_url,
        &format!("/claims/{id}/approve"),
        &[("version", "3"), ("note", "")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let p = desk.submit(
        &claim_url,
        &format!("/claims/{id}/agree"),
        &[("agreed_on", "2012-06-12")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    notices::notice_for_claim(&app, id);
    // A bad payment shows the reason on the claim page; nothing is recorded.
    let p = desk.submit(
        &claim_url,
        &format!("/claims/{id}/pay"),
        &[
            ("amount", "1000.01"),
            ("paid_on", "2012-06-12"),
            ("bank_reference", "P-1"),
        ],
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("超过尚未支付的赔款1000.00元"));
    assert_eq!(count(&mut app.conn(), "claim_payments"), 0);

    // The bank list: owed money with totals; finance sees masked IDs and accounts.
    let (status, _, bytes) = desk.get_bytes("/claims/payout-list.xlsx");
    assert_eq!(status, 200);
    let r = sheet(&bytes);
    let (h, amount) = column(&r, "应付金额");
    let (_, account) = column(&r, "银行账号");
    let rows: Vec<_> = r.rows().skip(h + 1).collect();
    assert_eq!(text(&rows[0][3]), "页面户");
    assert_eq!(text(&rows[0][account]), "6228480000000000001");
    assert_eq!(fen(&rows[0][amount]), 100_000);
    assert_eq!(text(&rows[1][0]), "合计");
    assert_eq!(fen(&rows[1][amount]), 100_000);
    let money = app.browser();
    money.login("finance");
    let (_, _, bytes) = money.get_bytes("/claims/payout-list.xlsx");
    let r = sheet(&bytes);
    let row = r.rows().nth(h + 1).unwrap();
    assert!(text(&row[4]).contains("****"));
    assert!(text(&row[account]).contains("****"));
    // A township station may not download the bank list.
    let station = app.browser();
    station.login("station_a");
    assert_eq!(station.get_bytes("/claims/payout-list.xlsx").0, 403);

    let p = desk.submit(
        &claim_url,
        &format!("/claims/{id}/pay"),
        &[
            ("amount", "1000.00"),
            ("paid_on", "2012-06-12"),
            ("bank_reference", "P-1"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(desk.get(&claim_url).body.contains("已支付"));

    // A second report, declined at once, and the ledger whose totals add up.
    let p = desk.submit(
        "/claims/new?q=页面户",
        "/claims",
        &[
            ("policy_id", &policy),
            ("plot_id", &plot),
            ("peril", "drought"),
            ("occurred_at", "2012-06-10T10:00"),
            ("reporter_name", "页面户"),
            ("channel", "phone"),
            // The excluded cause confirmed (the confirmation step's button).
            ("confirm_exclusion", "1"),
        ],
    );
    assert_eq!(p.status, 303);
    let declined = desk.get(&p.location.unwrap());
    assert!(declined.body.contains("拒赔通知"));
    assert!(declined.body.contains("干旱属于责任免除"));
    let (status, _, bytes) = desk.get_bytes("/claims/ledger.xlsx");
    assert_eq!(status, 200);
    let r = sheet(&bytes);
    let (h, payout) = column(&r, "赔款");
    let (_, paid) = column(&r, "已支付");
    let rows: Vec<_> = r.rows().skip(h + 1).collect();
    assert_eq!(rows.len(), 3, "two claims and the totals row");
    let sum: i64 = rows[..2].iter().map(|row| fen(&row[payout])).sum();
    assert_eq!(sum, 100_000);
    assert_eq!(text(&rows[2][0]), "合计");
    assert_eq!(fen(&rows[2][payout]), sum);
    assert_eq!(fen(&rows[2][paid]), 100_000);

    // The service worker and the page script are served for the tablet.
    let (status, ct, sw) = field.get_bytes("/claims/sw.js");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/javascript"));
    assert!(String::from_utf8(sw).unwrap().contains("guobao-survey"));
    // The station reads its township's claims and has no action forms.
    let read = station.get(&claim_url);
    assert_eq!(read.status, 200);
    assert!(!read.body.contains("dispatch-form"));
    let other = app.browser();
    other.login("station_b");
    assert_eq!(other.get(&claim_url).status, 404);
}

/// A grower's name is text a station typed: on the survey page it travels in
/// the page's settings (the next claim's insured) inside a
/// `<script type="application/json">`, where `<!--<script>` would make the
/// browser read the rest of the page into that element.
#[test]
fn a_name_in_the_survey_settings_cannot_break_the_page() {
    let app = spawn_app_at("2012-06-12 16:00");
    let uw = app.api("underwriter");
    let mut ids = Vec::new();
    for (seq, name) in [(61, "<!--<script>甲"), (62, "</script>&乙")] {
        let ins = insured(&app, name, seq, true);
        let r = report(&uw, &ins, "hail", "2012-06-12 14:30");
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_i64().unwrap();
        assert_eq!(dispatch(&uw, id).status, 200);
        ids.push(id);
    }
    let field = app.browser();
    field.login("adjuster");
    for id in ids {
        let page = field.get(&format!("/claims/{id}/survey"));
        assert_eq!(page.status, 200, "{}", page.body);
        let marker = r#"id="survey-config">"#;
        let start = page.body.find(marker).unwrap() + marker.len();
        let end = start + page.body[start..].find("</script>").unwrap();
        let settings = &page.body[start..end];
        assert!(!settings.contains(['<', '>', '&']), "{settings}");
        let cfg: Value = serde_json::from_str(settings).unwrap();
        let next = cfg["next"]["grower_name"].as_str().unwrap();
        assert!(["<!--<script>甲", "</script>&乙"].contains(&next), "{next}");
        // The page's own script still follows its settings.
        assert!(page.body[end..].contains(r#"<script src="/claims/survey.js">"#));
    }
}
