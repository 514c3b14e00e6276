//! Printable A4 pages: a policy's certificate (保险凭证) for the grower, the
//! household list (分户清单) and the subsidy statement (补贴结算表) with their
//! signature blocks. Each is the same figures as its page or workbook, laid
//! out for paper (templates policy_print.html and table_print.html; the print
//! rules are in app.css under `@media print`).

use crate::app::{self, finance, plots, policies, reports};
use crate::error::AppError;
use crate::excel::write::{Cell, Table};
use crate::web::desk::{Desk, Page};
use crate::web::page::Query;
use actix_web::web;
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies/{id}/print", web::get().to(policy_certificate))
        .route("/reports/{kind}/print", web::get().to(report_print))
        .route("/finance/statement/print", web::get().to(statement_print));
}

/// One cell as printed text, and whether it is a figure (right-aligned).
fn cell(c: &Cell) -> Value {
    let (text, num) = match c {
        Cell::Text(s) => (s.clone(), false),
        Cell::Int(n) => (n.to_string(), true),
        Cell::Money(f) => (f.to_string(), true),
        Cell::Mu(m) => (m.to_string(), true),
        Cell::Empty => (String::new(), false),
    };
    json!({"text": text, "num": num})
}

/// A workbook table as the print template reads it.
pub(crate) fn table_view(t: &Table) -> Value {
    json!({
        "title": t.title.clone().unwrap_or_else(|| t.sheet_name.clone()),
        "subtitle": t.subtitle,
        "columns": t.columns.iter().map(|c| c.header.clone()).collect::<Vec<_>>(),
        "rows": t.rows.iter().map(|r| r.iter().map(cell).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "totals": t.totals.as_ref().map(|r| r.iter().map(cell).collect::<Vec<_>>()),
    })
}

async fn policy_certificate(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "保单")?;
    let today = desk.state.clock.today();
    desk.show_with("policy_print.html", move |c, a| {
        let p = policies::get_view(c, a, id)?;
        let scheme = app::schemes::by_code(c, &p.scheme_code)?;
        let pl: Vec<_> = plots::of_grower(c, a, p.grower_id)?
            .into_iter()
            .filter(|x| x.scheme_code == p.scheme_code && x.eligible)
            .collect();
        let in_force = matches!(
            p.status,
            crate::domain::policy::PolicyStatus::Issued
                | crate::domain::policy::PolicyStatus::Expired
        );
        Ok(json!({
            "policy": p, "plots": pl, "in_force": in_force,
            "scheme": {
                "name": scheme.def.name, "insurer": scheme.def.insurer,
                "perils": scheme.def.perils.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
                "excluded": scheme.def.excluded_causes.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
                "survey_hours": scheme.def.claim_rules.survey_hours,
            },
            "printed_on": today.to_string(),
        }))
    })
    .await
}

async fn report_print(desk: Desk, kind: web::Path<String>, q: Query) -> Page {
    let kind = kind.into_inner();
    let today = desk.state.clock.today();
    let scope = crate::web::reports::pages::scope_of(&q, today);
    desk.show_with("table_print.html", move |c, a| {
        let (table, signers) = match kind.as_str() {
            "household-list" => (
                reports::household_list(c, a, &scope)?,
                vec!["乡镇林业站（盖章）", "村委会（盖章）", "保险公司（盖章）"],
            ),
            _ => return Err(AppError::not_found("报表")),
        };
        Ok(json!({
            "tables": [table_view(&table)],
            "signers": signers,
            "printed_on": today.to_string(),
            "back": "/reports",
        }))
    })
    .await
}

async fn statement_print(desk: Desk, q: Query) -> Page {
    let sq = finance::StatementQuery {
        scheme: q.get("scheme").cloned().unwrap_or_default(),
        level: q.get("level").cloned().unwrap_or_default(),
        township: q.get("township").cloned().unwrap_or_default(),
    };
    let today = desk.state.clock.today();
    desk.show_with("table_print.html", move |c, a| {
        let st = finance::statement(c, a, &sq)?;
        let tables: Vec<Value> = finance::statement_tables(&st)
            .iter()
            .map(table_view)
            .collect();
        Ok(json!({
            "tables": tables,
            "status": st.status,
            "signers": ["县财政局（盖章）", "县林业局（盖章）", "承保保险公司（盖章）"],
            "printed_on": today.to_string(),
            "back": "/finance",
        }))
    })
    .await
}
