//! A notice as a spreadsheet (.xlsx): the households as posted, ID numbers
//! and phones masked, and a totals row that is the sum of the rows.

use super::{NoticeView, CLAIM};
use crate::excel::write::{Cell, Column, Table};

fn col(header: &str, width: f64) -> Column {
    Column {
        header: header.to_string(),
        width,
    }
}

/// The notice's table: one sheet, the title above, the posting below it.
pub fn table(n: &NoticeView) -> Table {
    let claim = n.kind == CLAIM;
    let mut columns = vec![
        col("序号", 6.0),
        col("村", 10.0),
        col("农户姓名", 10.0),
        col("身份证号", 21.0),
        col("联系电话", 13.0),
    ];
    if claim {
        columns.extend([
            col("受灾面积（亩）", 14.0),
            col("损失率（%）", 12.0),
            col("赔款（元）", 14.0),
        ]);
    } else {
        columns.extend([
            col("品种", 12.0),
            col("投保面积（亩）", 14.0),
            col("保险金额（元）", 14.0),
            col("保费（元）", 12.0),
            col("农户自缴（元）", 14.0),
        ]);
    }
    let rows = n
        .items
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let mut row = vec![
                Cell::Int(k as i64 + 1),
                Cell::Text(i.village_name.clone()),
                Cell::Text(i.grower_name.clone()),
                Cell::Text(i.id_number.clone()),
                Cell::Text(i.phone.clone()),
            ];
            if claim {
                row.extend([
                    Cell::Mu(i.affected_mu),
                    Cell::Text(i.loss_rate.clone()),
                    Cell::Money(i.payout),
                ]);
            } else {
                row.extend([
                    Cell::Text(i.variety.clone()),
                    Cell::Mu(i.insured_mu),
                    Cell::Money(i.sum_insured),
                    Cell::Money(i.premium),
                    Cell::Money(i.grower_share),
                ]);
            }
            row
        })
        .collect();
    let t = &n.totals;
    let mut totals = vec![
        Cell::Text("合计".into()),
        Cell::Empty,
        Cell::Text(format!("{}户", t.households)),
        Cell::Empty,
        Cell::Empty,
    ];
    if claim {
        totals.extend([Cell::Mu(t.affected_mu), Cell::Empty, Cell::Money(t.payout)]);
    } else {
        totals.extend([
            Cell::Empty,
            Cell::Mu(t.insured_mu),
            Cell::Money(t.sum_insured),
            Cell::Money(t.premium),
            Cell::Money(t.grower_share),
        ]);
    }
    Table {
        sheet_name: n.kind_name.clone(),
        title: Some(n.title.clone()),
        subtitle: Some(format!(
            "{} · 公示期 {} 至 {} · 张贴地点：{} · 联系电话：{} · 金额单位：元",
            n.scheme_name, n.starts_on, n.ends_on, n.place, n.contact_phone
        )),
        columns,
        rows,
        totals: Some(totals),
    }
}

/// The workbook's file name and bytes.
pub fn xlsx(n: &NoticeView) -> Result<(String, Vec<u8>), crate::excel::write::WriteError> {
    let bytes = crate::excel::write::tables_to_xlsx(&[table(n)])?;
    Ok((format!("{}.xlsx", n.title), bytes))
}
