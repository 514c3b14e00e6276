//! The report as a workbook: a summary sheet (one row per check, with its
//! count) and one findings sheet with a row per finding, grouped by check —
//! the same findings, masked the same way, as the page and the API.

use super::Report;
use crate::error::{AppError, AppResult};
use crate::excel::write::{tables_to_xlsx, Cell, Column, Table};

fn col(header: &str, width: f64) -> Column {
    Column {
        header: header.to_string(),
        width,
    }
}

/// The workbook's file name and bytes.
pub fn report_xlsx(report: &Report, today: chrono::NaiveDate) -> AppResult<(String, Vec<u8>)> {
    let subtitle = format!(
        "制表日期 {today} · 共{}条 · 身份证号、手机号、银行账号已脱敏",
        report.total
    );
    let summary = Table {
        sheet_name: "核查汇总".into(),
        title: Some(format!("风险核查汇总（{}）", report.place)),
        subtitle: Some(subtitle.clone()),
        columns: vec![col("核查项", 34.0), col("条数", 8.0), col("说明", 80.0)],
        rows: report
            .groups
            .iter()
            .map(|g| {
                vec![
                    Cell::Text(g.title.into()),
                    Cell::Int(g.count as i64),
                    Cell::Text(g.explain.into()),
                ]
            })
            .collect(),
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Int(report.total as i64),
            Cell::Empty,
        ]),
    };
    let mut rows = Vec::with_capacity(report.total);
    for g in &report.groups {
        for f in &g.findings {
            let records: Vec<String> = f
                .items
                .iter()
                .map(|i| format!("{} {}（{}）", i.kind_name, i.label, i.township))
                .collect();
            rows.push(vec![
                Cell::Int(rows.len() as i64 + 1),
                Cell::Text(g.title.into()),
                Cell::Text(f.subject.clone()),
                Cell::Text(f.detail.clone()),
                Cell::Text(records.join("；")),
                Cell::Int(f.other_townships as i64),
            ]);
        }
    }
    let findings = Table {
        sheet_name: "核查明细".into(),
        title: Some(format!("风险核查明细（{}）", report.place)),
        subtitle: Some(subtitle),
        columns: vec![
            col("序号", 7.0),
            col("核查项", 30.0),
            col("对象", 26.0),
            col("说明", 60.0),
            col("涉及记录", 60.0),
            col("其他乡镇记录数", 10.0),
        ],
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Text(format!("{}条", rows.len())),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Int(
                report
                    .groups
                    .iter()
                    .flat_map(|g| &g.findings)
                    .map(|f| f.other_townships as i64)
                    .sum(),
            ),
        ]),
        rows,
    };
    let bytes =
        tables_to_xlsx(&[summary, findings]).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((format!("风险核查-{}.xlsx", report.place), bytes))
}
