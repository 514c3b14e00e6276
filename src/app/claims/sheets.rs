//! The two spreadsheets: the claims ledger (赔案台账) and the payout list
//! for the bank (赔款支付清单).

use super::settle::owed;
use super::views::{all, personal, scoped_rows, RowFilter};
use super::*;
use crate::app::clock::{self};
use crate::app::{Actor, Role};
use crate::db::models::Grower;
use crate::db::DbConn;
use crate::domain::id_number::mask_id;
use crate::domain::Fen;
use crate::error::AppResult;
use chrono::{DateTime, Utc};

// ---------------------------------------------------------------- outputs

use crate::excel::write::{Cell, Column, Table};

fn col(header: &str, width: f64) -> Column {
    Column {
        header: header.to_string(),
        width,
    }
}

/// 赔案台账: every claim the actor sees, with its dates and money.
pub fn ledger(conn: &mut DbConn, actor: &Actor, now: DateTime<Utc>) -> AppResult<Table> {
    let list = all(conn, actor, &RowFilter::default())?;
    let mut payout_total = Fen::ZERO;
    let mut paid_total = Fen::ZERO;
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|c| {
            let payout = c.payout.unwrap_or(Fen::ZERO);
            payout_total += payout;
            paid_total += c.paid;
            vec![
                Cell::Text(c.claim_no.clone()),
                Cell::Text(c.policy_no.clone()),
                Cell::Text(c.township_name.clone()),
                Cell::Text(c.village_name.clone()),
                Cell::Text(c.grower_name.clone()),
                Cell::Text(c.plot_code.clone()),
                Cell::Text(c.peril_name.clone()),
                Cell::Text(c.occurred_display.clone()),
                Cell::Text(c.reported_display.clone()),
                Cell::Text(c.survey_due_display.clone()),
                Cell::Text(c.surveyed_display.clone().unwrap_or_default()),
                Cell::Text(match c.surveyed_on_time {
                    Some(true) => "是".into(),
                    Some(false) => "否".into(),
                    None => String::new(),
                }),
                Cell::Text(c.status_name.clone()),
                Cell::Text(c.decline_reason.clone().unwrap_or_default()),
                Cell::Money(payout),
                Cell::Money(c.paid),
            ]
        })
        .collect();
    let count = rows.len();
    Ok(Table {
        sheet_name: "赔案台账".into(),
        title: Some("理赔案件台账".into()),
        subtitle: Some(format!(
            "制表时间 {} · 共{}件 · 金额单位：元",
            clock::display(now),
            count
        )),
        columns: vec![
            col("赔案号", 16.0),
            col("保单号", 20.0),
            col("乡镇", 10.0),
            col("村", 10.0),
            col("被保险人", 10.0),
            col("地块编号", 16.0),
            col("灾害原因", 10.0),
            col("出险时间", 17.0),
            col("报案时间", 17.0),
            col("查勘时限", 17.0),
            col("查勘时间", 17.0),
            col("24小时内查勘", 8.0),
            col("状态", 10.0),
            col("拒赔原因", 30.0),
            col("赔款", 12.0),
            col("已支付", 12.0),
        ],
        rows,
        totals: Some(
            std::iter::once(Cell::Text("合计".into()))
                .chain(std::iter::once(Cell::Text(format!("{count}件"))))
                .chain(std::iter::repeat_n(Cell::Empty, 12))
                .chain([Cell::Money(payout_total), Cell::Money(paid_total)])
                .collect(),
        ),
    })
}

/// 赔款支付清单 for the bank: agreed claims with money still owed.
pub fn payout_list(conn: &mut DbConn, actor: &Actor, now: DateTime<Utc>) -> AppResult<Table> {
    actor.require(may_handle(actor) || actor.role == Role::Finance)?;
    let rows = scoped_rows(
        conn,
        actor,
        &RowFilter {
            status: Some(ClaimStatus::Agreed.as_str().into()),
            ..RowFilter::default()
        },
    )?;
    let full = actor.sees_personal_data();
    let names = crate::app::areas::names(conn)?;
    let mut total = Fen::ZERO;
    let mut out = Vec::with_capacity(rows.len());
    for (i, c) in rows.iter().enumerate() {
        let g = crate::app::load::<Grower>(conn, c.grower_id)?;
        let owed = owed(c);
        total += owed;
        out.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::Text(c.claim_no.clone()),
            Cell::Text(
                names
                    .get(&g.village_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            ),
            Cell::Text(g.name.clone()),
            Cell::Text(personal(full, &g.id_number, mask_id)),
            Cell::Text(g.bank_name.clone()),
            Cell::Text(personal(full, &g.bank_account, mask_account)),
            Cell::Money(owed),
            Cell::Text(c.payment_due_on.map(|d| d.to_text()).unwrap_or_default()),
        ]);
    }
    crate::app::reports::exported(
        conn,
        actor,
        "payout_list",
        "claim",
        serde_json::json!({ "status": ClaimStatus::Agreed.as_str() }),
        rows.iter().map(|c| c.id).collect(),
        full,
    )?;
    let count = out.len();
    Ok(Table {
        sheet_name: "赔款支付清单".into(),
        title: Some("农户赔款支付清单".into()),
        subtitle: Some(format!(
            "制表时间 {} · 共{}户 · 金额单位：元 · 款项须直接支付到农户本人账户",
            clock::display(now),
            count
        )),
        columns: vec![
            col("序号", 6.0),
            col("赔案号", 16.0),
            col("村", 10.0),
            col("户主姓名", 10.0),
            col("身份证号", 21.0),
            col("开户银行", 14.0),
            col("银行账号", 24.0),
            col("应付金额", 12.0),
            col("支付期限", 12.0),
        ],
        rows: out,
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Text(format!("{count}户")),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Money(total),
            Cell::Empty,
        ]),
    })
}
