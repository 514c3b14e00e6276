//! One disaster event (a hail strip) reported for many policies at once:
//! all lines registered or none.

use super::report::{check_duplicate, check_report, insert_claim};
use super::views::views;
use super::*;
use crate::app::{audit, Actor};
use crate::db::claims::{insert_event, NewEvent};
use crate::db::DbConn;
use crate::domain::time::Instant;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventItem {
    #[serde(flatten)]
    pub target: PlotRef,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_phone: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventInput {
    pub name: String,
    pub peril: String,
    pub occurred_at: String,
    pub reported_at: Option<String>,
    pub description: String,
    pub items: Vec<EventItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventResult {
    pub event_id: i64,
    pub reported: usize,
    pub declined: usize,
    pub claims: Vec<ClaimView>,
}

/// One event (a hail strip), many reports: all are registered or, if any
/// line is wrong, none, with every wrong line named.
pub fn report_event(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    input: &EventInput,
) -> AppResult<EventResult> {
    actor.require(may_handle(actor))?;
    if input.items.is_empty() {
        return Err(AppError::invalid(
            "items",
            ErrorCode::EventEmpty,
            "请至少列出一个受灾保单",
        ));
    }
    if input.name.trim().is_empty() {
        return Err(AppError::invalid(
            "name",
            ErrorCode::EventNameMissing,
            "请填写灾害事件名称，如“6月12日冰雹”",
        ));
    }
    crate::app::tx(conn, |conn| {
        let mut checked = Vec::with_capacity(input.items.len());
        let mut errs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, item) in input.items.iter().enumerate() {
            let one = ReportInput {
                target: item.target.clone(),
                peril: input.peril.clone(),
                occurred_at: input.occurred_at.clone(),
                reported_at: input.reported_at.clone(),
                reporter_name: item.reporter_name.clone(),
                reporter_phone: item.reporter_phone.clone(),
                channel: Some("batch".into()),
                description: if item.description.trim().is_empty() {
                    input.description.clone()
                } else {
                    item.description.clone()
                },
                ..Default::default()
            };
            match check_report(conn, now, &one) {
                Ok(k) => {
                    if let Err(e) = check_duplicate(conn, &k) {
                        errs.push(FieldError::new(
                            &format!("items[{i}]"),
                            e.code(),
                            format!("第{}行：{}", i + 1, e.messages().join("；")),
                        ));
                    }
                    if !seen.insert(k.plot.id) {
                        errs.push(FieldError::new(
                            &format!("items[{i}]"),
                            ErrorCode::EventPlotDuplicate,
                            format!("第{}行：地块{}重复", i + 1, k.plot.code),
                        ));
                    }
                    checked.push(k)
                }
                Err(AppError::Validation(v)) => {
                    errs.extend(v.into_iter().map(|e| {
                        FieldError::new(
                            &format!("items[{i}].{}", e.field),
                            e.code,
                            format!("第{}行：{}", i + 1, e.message),
                        )
                    }));
                }
                Err(e) => return Err(e),
            }
        }
        // `input.items` is not empty (checked above), so neither is `checked`.
        let (true, Some(first)) = (errs.is_empty(), checked.first()) else {
            return Err(AppError::Validation(errs));
        };
        let event_id = insert_event(
            conn,
            &NewEvent {
                scheme_id: first.scheme_id,
                name: input.name.trim(),
                peril: &first.peril,
                occurred_at: Instant::from_utc(first.occurred),
                description: input.description.trim(),
                created_by: author(actor),
                created_at: Instant::from_utc(now),
            },
        )?;
        audit::record(
            conn,
            actor,
            "report_event",
            "claim_event",
            event_id,
            None::<&()>,
            Some(&serde_json::json!({"name": input.name.trim(), "items": checked.len()})),
        )?;
        let mut list = Vec::with_capacity(checked.len());
        for k in &checked {
            list.push(insert_claim(conn, actor, now, k, Some(event_id), None)?);
        }
        let claims = views(conn, actor, &list)?;
        Ok(EventResult {
            event_id,
            reported: claims
                .iter()
                .filter(|c| c.status != ClaimStatus::Declined)
                .count(),
            declined: claims
                .iter()
                .filter(|c| c.status == ClaimStatus::Declined)
                .count(),
            claims,
        })
    })
}
