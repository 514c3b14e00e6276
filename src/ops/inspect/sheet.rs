//! The report as a workbook: a summary sheet (one row per section with its
//! status and finding), every figure on a second sheet, and the overdue
//! payments and the errors by code on their own sheets. Times are China time,
//! as on the page.

use super::{lines, Figure, Inspection};
use crate::error::{AppError, AppResult};
use crate::excel::write::{tables_to_xlsx, Cell, Column, Table};

fn col(header: &str, width: f64) -> Column {
    Column {
        header: header.to_string(),
        width,
    }
}

fn cell(f: &Figure) -> Cell {
    match f {
        Figure::Int(n) => Cell::Int(*n),
        Figure::Money(m) => Cell::Money(*m),
        Figure::Text(t) => Cell::Text(t.clone()),
    }
}

/// The file name and bytes of the month's workbook.
pub fn to_xlsx(r: &Inspection) -> AppResult<(String, Vec<u8>)> {
    let subtitle = format!(
        "统计区间 {} 至 {}（北京时间）· 巡检时间 {} · 总体状态 {}",
        r.from, r.to, r.computed_at, r.status_name
    );
    let summary = Table {
        sheet_name: "巡检汇总".into(),
        title: Some(format!("果保 {} 月度巡检", r.month)),
        subtitle: Some(subtitle.clone()),
        columns: vec![col("巡检项", 22.0), col("状态", 8.0), col("结果", 90.0)],
        rows: r
            .sections
            .iter()
            .map(|s| {
                vec![
                    Cell::Text(s.title.into()),
                    Cell::Text(s.status_name.into()),
                    Cell::Text(s.note.clone()),
                ]
            })
            .collect(),
        totals: Some(vec![
            Cell::Text("总体".into()),
            Cell::Text(r.status_name.into()),
            Cell::Empty,
        ]),
    };
    let figures = Table {
        sheet_name: "巡检明细".into(),
        title: Some(format!("果保 {} 月度巡检明细", r.month)),
        subtitle: Some(subtitle.clone()),
        columns: vec![col("巡检项", 22.0), col("指标", 30.0), col("数值", 80.0)],
        rows: lines(r)
            .iter()
            .map(|l| {
                vec![
                    Cell::Text(l.section.into()),
                    Cell::Text(l.item.clone()),
                    cell(&l.value),
                ]
            })
            .collect(),
        totals: None,
    };
    let payments = Table {
        sheet_name: "逾期未付赔款".into(),
        title: Some(format!(
            "截至{}超过支付期限未付清的赔案（共{}件，列出前{}件）",
            r.payments.as_of,
            r.payments.overdue,
            r.payments.claims.len()
        )),
        subtitle: Some(subtitle.clone()),
        columns: vec![
            col("赔案号", 24.0),
            col("农户确认日期", 14.0),
            col("应付日期", 14.0),
            col("逾期天数", 10.0),
            col("欠付金额(元)", 14.0),
        ],
        rows: r
            .payments
            .claims
            .iter()
            .map(|p| {
                vec![
                    Cell::Text(p.claim_no.clone()),
                    Cell::Text(p.agreed_on.clone()),
                    Cell::Text(p.due_on.clone()),
                    Cell::Int(p.days_overdue),
                    Cell::Money(p.owed),
                ]
            })
            .collect(),
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Text(format!("{}件", r.payments.overdue)),
            Cell::Empty,
            Cell::Empty,
            Cell::Money(r.payments.owed),
        ]),
    };
    let errors = Table {
        sheet_name: "系统错误".into(),
        title: Some(format!("{} 系统错误（按错误代码）", r.month)),
        subtitle: Some(subtitle),
        columns: vec![col("错误代码", 30.0), col("次数", 10.0)],
        rows: r
            .errors
            .by_code
            .iter()
            .map(|c| vec![Cell::Text(c.name.clone()), Cell::Int(c.count)])
            .collect(),
        totals: Some(vec![Cell::Text("合计".into()), Cell::Int(r.errors.total)]),
    };
    let bytes = tables_to_xlsx(&[summary, figures, payments, errors])
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((format!("果保月度巡检-{}.xlsx", r.month), bytes))
}
