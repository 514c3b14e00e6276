//! The subsidy statement as workbook tables: the statement itself, then the
//! adjustments entered after sign-off.

use super::{Figures, LevelInfo, Statement};
use crate::domain::scheme::level_name;
use crate::error::{AppError, AppResult};
use crate::excel::write::{Cell, Column, Table};

fn money_col(h: &str) -> Column {
    Column {
        header: h.to_string(),
        width: 14.0,
    }
}

/// The township columns, the `fixed` ones, one per funding level shown, then
/// `last`.
fn table_columns(fixed: &[&str], levels: &[LevelInfo], last: &str) -> Vec<Column> {
    let mut columns = vec![money_col("乡镇代码"), money_col("乡镇")];
    columns.extend(fixed.iter().map(|h| money_col(h)));
    columns.extend(levels.iter().map(|l| money_col(&format!("{}(元)", l.name))));
    columns.push(money_col(last));
    columns
}

/// A row's township cells, then `figures`.
fn town_row(code: &str, name: &str, figures: impl IntoIterator<Item = Cell>) -> Vec<Cell> {
    let mut c = vec![Cell::Text(code.to_string()), Cell::Text(name.to_string())];
    c.extend(figures);
    c
}

fn figure_cells(f: &Figures) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Int(f.policies),
        Cell::Mu(f.insured_mu),
        Cell::Money(f.premium),
        Cell::Money(f.grower_share),
        Cell::Money(f.subsidy),
    ];
    cells.extend(f.levels.iter().map(|l| Cell::Money(l.amount)));
    cells.push(Cell::Money(f.subsidy_due));
    cells
}

/// The statement as tables for the workbook: the statement itself, then the
/// adjustments after sign-off.
pub fn statement_tables(st: &Statement) -> Vec<Table> {
    let columns = table_columns(
        &[
            "保单数",
            "投保面积(亩)",
            "保费(元)",
            "农户自缴(元)",
            "财政补贴(元)",
        ],
        &st.levels,
        "应拨补贴(元)",
    );
    let rows = st
        .rows
        .iter()
        .map(|r| town_row(&r.township_code, &r.township_name, figure_cells(&r.figures)))
        .collect();
    let mut totals = vec![Cell::Text("合计".into()), Cell::Empty];
    totals.extend(figure_cells(&st.totals));
    let status = match &st.lock {
        Some(l) => format!(
            "已锁定（签字：{}，{}）",
            l.signed_off_by,
            l.locked_at.display()
        ),
        None => "未锁定（实时数据）".to_string(),
    };
    let level_note = st
        .level
        .as_deref()
        .map(|l| format!("，仅{}", level_name(l)))
        .unwrap_or_default();
    let mut tables = vec![Table {
        sheet_name: "补贴结算表".into(),
        title: Some(format!("{} 保费补贴结算表", st.scheme_name)),
        subtitle: Some(format!("{status}{level_note}；金额单位：元")),
        columns,
        rows,
        totals: Some(totals),
    }];
    if !st.adjustments.is_empty() {
        let columns = table_columns(&[], &st.levels, "调整合计(元)");
        let rows = st
            .adjustments
            .iter()
            .map(|a| {
                let amounts = a.levels.iter().map(|l| l.amount).chain([a.total]);
                town_row(&a.township_code, &a.township_name, amounts.map(Cell::Money))
            })
            .collect();
        let mut totals = vec![Cell::Text("合计".into()), Cell::Empty];
        totals.extend(st.adjustment_totals.iter().map(|l| Cell::Money(l.amount)));
        totals.push(Cell::Money(
            st.adjustment_totals.iter().map(|l| l.amount).sum(),
        ));
        tables.push(Table {
            sheet_name: "锁定后调整".into(),
            title: Some(format!("{} 结算表锁定后的调整分录", st.scheme_name)),
            subtitle: Some("负数为冲回（注销保单），正数为补记；金额单位：元".into()),
            columns,
            rows,
            totals: Some(totals),
        });
    }
    tables
}

pub fn statement_xlsx(st: &Statement) -> AppResult<Vec<u8>> {
    crate::excel::write::tables_to_xlsx(&statement_tables(st))
        .map_err(|e| AppError::Internal(e.to_string()))
}
