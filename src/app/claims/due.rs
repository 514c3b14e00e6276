//! The 24-hour survey rule as an adjuster sees it: how much time a claim
//! waiting for its survey has left, and which of their claims comes next.

use super::*;
use crate::app::Actor;
use crate::db::DbConn;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A claim's place against its survey deadline, for a flag on a page.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyClock {
    pub overdue: bool,
    /// Whole minutes to the deadline; negative once it has passed.
    pub minutes_left: i64,
    /// 剩余X小时 / 已超24小时（超时X小时）
    pub label: String,
}

/// The clock of a claim still waiting for its survey; `None` once surveyed
/// (or declined), when the rule no longer runs.
pub fn survey_clock(c: &ClaimView, now: DateTime<Utc>) -> Option<SurveyClock> {
    if !OPEN.contains(&c.status) {
        return None;
    }
    // The deadline was set from the scheme's hours when the report was taken.
    let hours = (c.survey_due_at.utc() - c.reported_at.utc()).num_hours();
    let minutes = (c.survey_due_at.utc() - now).num_minutes();
    let label = if minutes < 0 {
        let late = -minutes;
        format!("已超{hours}小时（超时{}小时{:02}分）", late / 60, late % 60)
    } else {
        format!("剩余{}小时{:02}分", minutes / 60, minutes % 60)
    };
    Some(SurveyClock {
        overdue: minutes < 0,
        minutes_left: minutes,
        label,
    })
}

/// The claim waiting for this surveyor's visit with the least time left,
/// other than `except`: where to go after a survey is sent.
pub fn next_for_surveyor(
    conn: &mut DbConn,
    actor: &Actor,
    except: i64,
) -> AppResult<Option<ClaimView>> {
    let waiting = super::views::all(
        conn,
        actor,
        &super::views::RowFilter {
            status: Some(ClaimStatus::Dispatched.as_str().to_string()),
            township_id: None,
            event_id: None,
        },
    )?;
    Ok(waiting
        .into_iter()
        .filter(|c| c.id != except && assigned_surveyor(actor, c.adjuster_id, c.co_surveyor_id))
        .min_by_key(|c| (c.survey_due_at.utc(), c.id)))
}
