//! The claims board: open claims against their survey deadline, counts by
//! adjuster and township, monthly on-time figures, payments due; and `overdue`.

use super::settle::owed;
use super::views::{views_with, Names, Related};
use super::*;
use crate::app::clock;
use crate::app::Actor;
use crate::db::models::Claim;
use crate::db::DbConn;
use crate::domain::time::Instant;
use crate::domain::Fen;
use crate::error::AppResult;
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

// ---------------------------------------------------------------- the board

#[derive(Debug, Clone, Serialize)]
pub struct BoardItem {
    #[serde(flatten)]
    pub claim: ClaimView,
    /// Minutes until the survey deadline; negative when overdue.
    pub minutes_left: i64,
    pub time_left: String,
    pub urgency: Urgency,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Count {
    pub name: String,
    pub open: usize,
    pub overdue: usize,
    pub due_soon: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthFigure {
    pub month: String,
    /// Claims whose survey is done or whose deadline has passed.
    pub due: usize,
    pub on_time: usize,
    /// Share surveyed within the deadline, in percent with one decimal.
    pub share: Option<rust_decimal::Decimal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentDue {
    #[serde(flatten)]
    pub claim: ClaimView,
    pub days_overdue: i64,
    pub owed: Fen,
}

/// An approved claim whose payout may not be paid yet: its results notice
/// is missing, still up, shows another payout or has an objection open.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeWait {
    #[serde(flatten)]
    pub claim: ClaimView,
    pub reason_code: crate::error::ErrorCode,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub now: String,
    pub warn_hours: u32,
    pub open: Vec<BoardItem>,
    pub overdue: usize,
    pub due_soon: usize,
    pub by_adjuster: Vec<Count>,
    pub by_township: Vec<Count>,
    pub monthly: Vec<MonthFigure>,
    pub payments_due: Vec<PaymentDue>,
    pub payments_overdue: usize,
    /// Approved claims waiting on their claim results notice (理赔公示).
    pub waiting_notice: Vec<NoticeWait>,
}

pub(super) fn time_left(minutes: i64) -> String {
    let (sign, m) = if minutes < 0 {
        ("超时", -minutes)
    } else {
        ("剩余", minutes)
    };
    format!("{sign}{}小时{:02}分", m / 60, m % 60)
}

/// How close each open claim is to its deadline, `warn_hours` from the
/// scheme unless given.
pub fn board(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    warn_hours: Option<u32>,
) -> AppResult<Board> {
    let at = Instant::from_utc(now);
    let scope = super::access::within(actor);
    // Two lean queries instead of every claim in full: the claims shown
    // (open, agreed and waiting for payment, approved and perhaps waiting
    // for their notice) by their status index, and the monthly figures
    // counted by the database per day of report.
    let shown = crate::db::claims::in_statuses(
        conn,
        scope,
        &[
            ClaimStatus::Reported,
            ClaimStatus::Dispatched,
            ClaimStatus::Approved,
            ClaimStatus::Agreed,
        ],
    )?;
    let by_day = crate::db::claims::due_by_day(conn, scope, at)?;
    // Their policies, growers and plots in one statement, and only the
    // names these claims show.
    let related = Related::of(conn, &shown)?;
    let names = Names::for_claims(conn, &shown, &related, &[])?;
    let scheme_warn = |scheme_id: i64| {
        names
            .schemes
            .get(&scheme_id)
            .map(|d| d.claim_rules.warn_hours)
            .unwrap_or(6)
    };
    // The claims shown in full: the open ones and those agreed but not yet
    // paid, their views built from what was read above.
    let (open_rows, rest): (Vec<Claim>, Vec<Claim>) =
        shown.into_iter().partition(|c| OPEN.contains(&c.status));
    let (approved, agreed): (Vec<Claim>, Vec<Claim>) = rest
        .into_iter()
        .partition(|c| c.status == ClaimStatus::Approved);
    let n_open = open_rows.len();
    let mut shown_views = views_with(
        &names,
        &related,
        actor,
        &open_rows.iter().chain(&agreed).cloned().collect::<Vec<_>>(),
    )?;
    let agreed_views = shown_views.split_off(n_open.min(shown_views.len()));
    let open_views = shown_views;
    let mut open = Vec::with_capacity(open_rows.len());
    let mut by_adjuster: BTreeMap<String, Count> = BTreeMap::new();
    let mut by_township: BTreeMap<String, Count> = BTreeMap::new();
    let mut shown_warn = warn_hours;
    for (c, v) in open_rows.iter().zip(open_views) {
        let due = c.survey_due_at.utc();
        let minutes = (due - now).num_minutes();
        let warn = warn_hours.unwrap_or_else(|| scheme_warn(c.scheme_id));
        shown_warn.get_or_insert(warn);
        let urgency = Urgency::at(due, now, warn);
        for (map, key) in [
            (
                &mut by_adjuster,
                v.adjuster.clone().unwrap_or_else(|| "（未派工）".into()),
            ),
            (&mut by_township, v.township_name.clone()),
        ] {
            let e = map.entry(key.clone()).or_insert_with(|| Count {
                name: key,
                ..Count::default()
            });
            e.open += 1;
            match urgency {
                Urgency::Overdue => e.overdue += 1,
                Urgency::DueSoon => e.due_soon += 1,
                Urgency::Ok => {}
            }
        }
        open.push(BoardItem {
            claim: v,
            minutes_left: minutes,
            time_left: time_left(minutes),
            urgency,
        });
    }
    open.sort_by_key(|i| (i.minutes_left, i.claim.id));
    let monthly = monthly_figures(&by_day);
    let today = at.china_day();
    let mut payments_due: Vec<PaymentDue> = agreed
        .iter()
        .zip(agreed_views)
        .map(|(c, v)| {
            let due = c.payment_due_on.unwrap_or(today);
            PaymentDue {
                owed: owed(c),
                days_overdue: (today.date() - due.date()).num_days(),
                claim: v,
            }
        })
        .collect();
    payments_due.sort_by_key(|p| (-p.days_overdue, p.claim.id));
    let waiting_notice = waiting_notice(
        conn,
        (&names, &related),
        actor,
        &approved,
        &agreed,
        today.date(),
    )?;
    Ok(Board {
        now: clock::display(now),
        warn_hours: shown_warn.unwrap_or(6),
        overdue: open
            .iter()
            .filter(|i| i.urgency == Urgency::Overdue)
            .count(),
        due_soon: open
            .iter()
            .filter(|i| i.urgency == Urgency::DueSoon)
            .count(),
        open,
        by_adjuster: by_adjuster.into_values().collect(),
        by_township: by_township.into_values().collect(),
        monthly,
        payments_overdue: payments_due.iter().filter(|p| p.days_overdue > 0).count(),
        payments_due,
        waiting_notice,
    })
}

/// The approved and agreed claims still owed money whose notice does not
/// yet allow payment, with the reason `notices::payable` gives.
fn waiting_notice(
    conn: &mut DbConn,
    (names, related): (&Names, &Related),
    actor: &Actor,
    approved: &[Claim],
    agreed: &[Claim],
    today: chrono::NaiveDate,
) -> AppResult<Vec<NoticeWait>> {
    let owing: Vec<&Claim> = approved
        .iter()
        .chain(agreed)
        .filter(|c| owed(c) > Fen::ZERO)
        .collect();
    let mut rows = Vec::new();
    let mut reasons = Vec::new();
    for (c, refusal) in owing
        .iter()
        .zip(crate::app::notices::waiting(conn, &owing, today)?)
    {
        if let Some(e) = refusal {
            rows.push((*c).clone());
            reasons.push((e.code(), e.to_string()));
        }
    }
    let views = views_with(names, related, actor, &rows)?;
    Ok(views
        .into_iter()
        .zip(reasons)
        .map(|(claim, (reason_code, reason))| NoticeWait {
            claim,
            reason_code,
            reason,
        })
        .collect())
}

/// Month of the report, China time: surveyed in time / surveyed or past
/// due, newest month first. The database counted per UTC day and half; a
/// report from 16:00 UTC on is the next day in China (UTC+8, no summer time).
fn monthly_figures(by_day: &[crate::db::claims::DayCount]) -> Vec<MonthFigure> {
    let mut months: BTreeMap<(i32, u32), (usize, usize)> = BTreeMap::new();
    for (day, late, due, on_time) in by_day {
        let Ok(day) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            continue;
        };
        let day = if *late {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        let e = months.entry((day.year(), day.month())).or_default();
        e.0 += usize::try_from(*due).unwrap_or(0);
        e.1 += usize::try_from(*on_time).unwrap_or(0);
    }
    months
        .into_iter()
        .rev()
        .map(|((year, month), (due, on_time))| MonthFigure {
            month: format!("{year:04}-{month:02}"),
            due,
            on_time,
            share: (due > 0).then(|| {
                let mut pct = (rust_decimal::Decimal::from(on_time * 100)
                    / rust_decimal::Decimal::from(due))
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                // Always one decimal: "50.0", not "50".
                pct.rescale(1);
                pct
            }),
        })
        .collect()
}

/// Open claims past or near their survey deadline (the CLI's `claims overdue`).
pub fn overdue(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    warn_hours: Option<u32>,
) -> AppResult<Vec<BoardItem>> {
    Ok(board(conn, actor, now, warn_hours)?
        .open
        .into_iter()
        .filter(|i| i.urgency != Urgency::Ok)
        .collect())
}
