//! Every Excel download of the demo county, as the roles that use it: no
//! time written as "2026-11-29T17:35:21Z" (China time as "2026-11-30 01:35",
//! as on the pages), whatever the sheet.

use crate::helpers::*;
use calamine::{Data, Reader, Xlsx};
use serde_json::json;

/// Text cells holding an ISO/RFC 3339 timestamp, as "sheet!row,col: text".
fn iso_cells(bytes: &[u8]) -> Vec<String> {
    let iso = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an .xlsx");
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("a sheet");
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Data::String(s) = cell {
                    if iso.is_match(s) {
                        out.push(format!("{name}!{r},{c}: {s}"));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_excel_download_shows_a_utc_timestamp() {
    let db = TestDb::new();
    let pool = guobao::startup::prepare_database(&db.url).expect("database");
    {
        let mut conn = pool.get().expect("connection");
        guobao::demo::load::load(&mut conn, &mut |_, _| {}).expect("demo county");
    }
    let address = start_server(pool);
    let password = guobao::demo::load::DEMO_PASSWORD;
    // A signed-off statement writes its lock time into the workbook.
    let fin = api_at(&address, "finance", password);
    let r = fin.post(
        "/api/v1/finance/statement/lock",
        json!({"signed_off_by": "县财政局 张三"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    let mut checked = 0;
    for (user, paths) in [
        (
            "underwriter",
            vec![
                "/claims/ledger.xlsx",
                "/claims/payout-list.xlsx",
                "/reports/household-list.xlsx",
                "/reports/eligibility.xlsx",
                "/reports/policies.xlsx",
            ],
        ),
        ("finance", vec!["/finance/statement.xlsx"]),
        ("forestry", vec!["/checks.xlsx"]),
        (
            "station01",
            vec!["/reports/household-list.xlsx", "/roster-template.xlsx"],
        ),
    ] {
        let desk = browser_at(&address);
        desk.login_with(user, password);
        for path in paths {
            let (status, _, bytes) = desk.get_bytes(path);
            assert_eq!(status, 200, "{user} {path}");
            let found = iso_cells(&bytes);
            assert!(found.is_empty(), "{user} {path}: {found:?}");
            checked += 1;
        }
    }
    // The statement's lock line is in China time, as on the page.
    let desk = browser_at(&address);
    desk.login_with("finance", password);
    let (_, _, bytes) = desk.get_bytes("/finance/statement.xlsx");
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let first = wb.sheet_names()[0].clone();
    let text: Vec<String> = wb
        .worksheet_range(&first)
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .collect();
    let lock = text
        .iter()
        .find(|t| t.contains("已锁定"))
        .unwrap_or_else(|| panic!("a lock line: {text:?}"));
    let shown = regex::Regex::new(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").unwrap();
    assert!(shown.is_match(lock), "{lock}");
    assert_eq!(checked, 9);
}
