//! Claims: report (报案) → dispatch → survey on site (查勘定损) → approval →
//! the grower's agreement → payment. Every step is one transaction with an
//! audit entry; the time comes from the caller's clock so deadlines can be
//! tested without waiting.

pub(crate) mod access;
mod board;
mod detail;
mod dispatch;
mod due;
mod event;
mod list;
mod photos;
mod report;
mod settle;
mod sheets;
mod survey;
mod views;

pub use access::{assigned_surveyor, get_scoped, is_surveyor, load, may_handle};
pub use board::{board, overdue, Board, BoardItem, Count, MonthFigure, PaymentDue};
pub use detail::{detail, detail_masked, ClaimDetail, PaymentView, PhotoView, SurveyView};
pub use dispatch::{dispatch, surveyors, DispatchInput};
pub use due::{next_for_surveyor, survey_clock, SurveyClock};
pub use event::{report_event, EventInput, EventItem, EventResult};
pub use list::{list, ClaimFilter, ClaimList, ClaimSort, ClaimTotals};
pub use photos::{
    add_photo, claimed_format_of, decode, image_facts, image_type, may_upload_photos, photo,
    ImageFacts, PhotoOutcome,
};
pub use report::{
    lookup, report, EarlierClaim, LookupHit, LookupPlot, PlotRef, ReportInput, ReportOutcome,
};
pub use settle::{
    agree, approve, decline_grounds, pay, send_back, AgreeInput, PaymentInput, ReviewInput,
};
pub use sheets::{ledger, payout_list};
pub use survey::{submit_survey, SurveyInput, SurveyOutcome};
pub use views::{mask_account, view, ClaimView};

use crate::app::on_site::or_recorded;
use crate::db::models::{Claim, Policy};
use crate::db::DbConn;
pub use crate::domain::claims::{ClaimStatus, Urgency};
use crate::domain::text::{self, TextKind};
use crate::domain::Fen;
use crate::error::{AppResult, FieldError};

/// (code, label) of every status, in `ClaimStatus::ALL` order, for the
/// status filters of the list page and the API.
pub const STATUSES: [(&str, &str); 7] = {
    let all = ClaimStatus::ALL;
    let mut out = [("", ""); 7];
    let mut i = 0;
    while i < all.len() {
        // `i < 7` on both arrays: a const loop cannot use iterators.
        #[allow(clippy::indexing_slicing)]
        {
            out[i] = (all[i].as_str(), all[i].name());
        }
        i += 1;
    }
    out
};

pub const CHANNELS: [(&str, &str); 4] = [
    ("phone", "电话报案"),
    ("walk_in", "上门报案"),
    ("api", "系统接口"),
    ("batch", "批量登记"),
];

/// Claims still waiting for the survey, which the deadline is about.
pub const OPEN: [ClaimStatus; 2] = [ClaimStatus::Reported, ClaimStatus::Dispatched];
/// Claims whose payout counts against the policy's sum insured.
pub(super) const PAYOUT_HOLDING: [ClaimStatus; 4] = [
    ClaimStatus::Surveyed,
    ClaimStatus::Approved,
    ClaimStatus::Agreed,
    ClaimStatus::Paid,
];

/// The label of a status code; an unknown code is shown as it is.
pub fn status_name(s: &str) -> &str {
    ClaimStatus::parse(s).map(ClaimStatus::name).unwrap_or(s)
}

fn channel_name(s: &str) -> &str {
    CHANNELS
        .iter()
        .find(|(c, _)| *c == s)
        .map(|(_, n)| *n)
        .unwrap_or(s)
}

/// Who wrote a row: the user, or nobody for the system's own actor.
fn author(actor: &crate::app::Actor) -> Option<i64> {
    (actor.user_id > 0).then_some(actor.user_id)
}

/// The sum insured left on a policy for this claim: the policy's sum minus
/// the payouts every other live claim on it holds.
fn remaining_sum(conn: &mut DbConn, c: &Claim) -> AppResult<Fen> {
    let p = super::load::<Policy>(conn, c.policy_id)?;
    let held = crate::db::claims::payouts_held(conn, c.policy_id, c.id, &PAYOUT_HOLDING)?;
    Ok(p.sum_insured_fen - held)
}

/// The claim a resendable submission (a survey, a photo) is for, its
/// checked client id, and what was already recorded under that id.
fn resent<'a, T>(
    conn: &mut DbConn,
    actor: &crate::app::Actor,
    id: i64,
    client_id: &'a str,
    message: &str,
    recorded: impl FnOnce(&mut DbConn, &Claim, &str) -> AppResult<Option<T>>,
) -> AppResult<(Claim, &'a str, Option<T>)> {
    let c = get_scoped(conn, actor, id)?;
    let client_id = crate::app::on_site::client_id(client_id, message)?;
    let out = recorded(conn, &c, client_id)?;
    Ok((c, client_id, out))
}

/// What the caller typed, held to the shared text rules (domain::text); a
/// refusal is added to `errs`.
fn text_field(
    errs: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &str,
    kind: TextKind,
) -> Option<String> {
    text::check(label, raw, kind)
        .map_err(|p| errs.push(FieldError::new(field, p.code, p.message)))
        .ok()
}

/// A step of the insurer's desk on one claim: permission, one transaction,
/// the claim at the caller's version and in a status the step starts from.
fn desk_step<T>(
    conn: &mut DbConn,
    actor: &crate::app::Actor,
    id: i64,
    version: Option<i32>,
    step: &access::Step,
    run: impl FnOnce(&mut DbConn, Claim) -> AppResult<T>,
) -> AppResult<T> {
    actor.require(may_handle(actor))?;
    crate::app::tx(conn, |conn| {
        let c = access::start(conn, actor, id, version, step)?;
        run(conn, c)
    })
}

#[cfg(test)]
mod tests {
    use super::board::time_left;
    use super::*;

    #[test]
    fn accounts_and_time_left_read_well() {
        assert_eq!(mask_account("6228480000000000001"), "6228***********0001");
        assert_eq!(mask_account("1234"), "****");
        assert_eq!(time_left(125), "剩余2小时05分");
        assert_eq!(time_left(-61), "超时1小时01分");
    }
}
