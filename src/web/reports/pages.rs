//! The reports page and its Excel downloads (household list, eligibility,
//! policies), for a township, a village or a scheme.

use crate::app::{self, reports};
use crate::error::AppError;
use crate::web::desk::{Desk, Page};
use crate::web::page::Query;
use actix_web::web;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports", web::get().to(reports_page))
        .route("/reports/{kind}.xlsx", web::get().to(report_download));
}

async fn reports_page(desk: Desk) -> Page {
    desk.show_with("reports.html", |c, a| {
        let towns = app::areas::townships(c, a)?;
        let villages = app::areas::villages(c, a, None)?;
        Ok(json!({"townships": towns, "villages": villages}))
    })
    .await
}

/// The township, village and scheme a report covers, from its query string
/// (the download and its printable page read the same fields).
pub(crate) fn scope_of(
    q: &std::collections::HashMap<String, String>,
    today: chrono::NaiveDate,
) -> reports::Scope {
    let given = |k: &str| q.get(k).cloned().filter(|s| !s.is_empty());
    reports::Scope {
        township_code: given("township"),
        village_code: given("village"),
        scheme: given("scheme"),
        today,
    }
}

async fn report_download(desk: Desk, kind: web::Path<String>, q: Query) -> Page {
    let kind = kind.into_inner();
    let scope = scope_of(&q, desk.state.clock.today());
    desk.download(move |c, a| {
        let table = match kind.as_str() {
            "household-list" => reports::household_list(c, a, &scope)?,
            "eligibility" => reports::eligibility_report(c, a, &scope)?,
            "policies" => reports::policy_list(c, a, &scope)?,
            _ => return Err(AppError::not_found("报表")),
        };
        let name = format!(
            "{}.xlsx",
            table
                .title
                .clone()
                .unwrap_or_else(|| table.sheet_name.clone())
        );
        let bytes = crate::excel::write::tables_to_xlsx(&[table])
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((name, bytes))
    })
    .await
}
