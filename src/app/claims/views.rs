//! The claim as shown (`ClaimView`) with its names resolved, and the
//! scoped list of claims behind the list page, the board and the sheets.

use super::access::within;
use super::*;
use crate::app::Actor;
use crate::db::claims::ListFilter;
use crate::db::models::{Claim, Grower, Plot, Policy};
use crate::db::schema::{claims, growers, plots, policies, users};
use crate::db::DbConn;
use crate::domain::id_number::{mask_id, mask_phone};
use crate::domain::scheme::SchemeDef;
use crate::domain::time::{Day, Instant};
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

// ---------------------------------------------------------------- views

#[derive(Debug, Clone, Serialize)]
pub struct ClaimView {
    pub id: i64,
    pub claim_no: String,
    pub status: ClaimStatus,
    pub status_name: String,
    pub scheme_code: String,
    pub policy_id: i64,
    pub policy_no: String,
    pub plot_id: i64,
    pub plot_code: String,
    pub plot_mu: Mu,
    pub grower_id: i64,
    pub grower_name: String,
    pub grower_id_number: String,
    pub grower_phone: String,
    pub township_id: i64,
    pub township_name: String,
    pub village_name: String,
    pub event_id: Option<i64>,
    pub peril: String,
    pub peril_name: String,
    pub occurred_at: Instant,
    pub reported_at: Instant,
    pub occurred_display: String,
    pub reported_display: String,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub report_channel: String,
    pub channel_name: String,
    pub description: String,
    pub decline_code: Option<String>,
    pub decline_reason: Option<String>,
    pub survey_due_at: Instant,
    pub survey_due_display: String,
    pub adjuster: Option<String>,
    pub adjuster_id: Option<i64>,
    pub co_surveyor: Option<String>,
    pub co_surveyor_id: Option<i64>,
    pub surveyed_at: Option<Instant>,
    pub surveyed_display: Option<String>,
    pub surveyed_on_time: Option<bool>,
    pub payout: Option<Fen>,
    pub paid: Fen,
    pub review_note: String,
    pub approved_at: Option<String>,
    pub agreed_on: Option<Day>,
    pub payment_due_on: Option<Day>,
    pub version: i32,
}

pub(super) struct Names {
    pub(super) areas: HashMap<i64, crate::db::models::Area>,
    pub(super) users: HashMap<i64, String>,
    pub(super) schemes: HashMap<i64, SchemeDef>,
}

/// Each claim's policy, grower and plot, by claim id: read in one statement
/// for a whole list (three per claim before, then three per list).
pub(super) struct Related(HashMap<i64, (Policy, Grower, Plot)>);

impl Related {
    pub(super) fn of(conn: &mut DbConn, list: &[Claim]) -> AppResult<Related> {
        let mut ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(900) {
            for (id, p, g, plot) in claims::table
                .inner_join(policies::table.on(policies::id.eq(claims::policy_id)))
                .inner_join(growers::table.on(growers::id.eq(claims::grower_id)))
                .inner_join(plots::table.on(plots::id.eq(claims::plot_id)))
                .filter(claims::id.eq_any(chunk))
                .select((
                    claims::id,
                    Policy::as_select(),
                    Grower::as_select(),
                    Plot::as_select(),
                ))
                .load::<(i64, Policy, Grower, Plot)>(conn)?
            {
                out.insert(id, (p, g, plot));
            }
        }
        Ok(Related(out))
    }

    /// The claim's policy, grower and plot.
    pub(super) fn get(&self, c: &Claim) -> AppResult<&(Policy, Grower, Plot)> {
        self.0
            .get(&c.id)
            .ok_or_else(|| AppError::Internal(format!("claim {} lost its policy", c.id)))
    }
}

impl Names {
    /// The names `list` shows, and those of `more_users`: its schemes, its
    /// townships and its growers' villages (from `related`), its adjusters
    /// and co-surveyors. Only those: a province's database has tens of
    /// thousands of areas and a scheme per county, and a board or a list
    /// shows a few of them.
    pub(super) fn for_claims(
        conn: &mut DbConn,
        list: &[Claim],
        related: &Related,
        more_users: &[i64],
    ) -> AppResult<Names> {
        fn unique(mut v: Vec<i64>) -> Vec<i64> {
            v.sort_unstable();
            v.dedup();
            v
        }
        let scheme_ids = unique(list.iter().map(|c| c.scheme_id).collect());
        let user_ids = unique(
            list.iter()
                .flat_map(|c| [c.adjuster_id, c.co_surveyor_id])
                .flatten()
                .chain(more_users.iter().copied())
                .collect(),
        );
        let mut area_ids: Vec<i64> = list.iter().map(|c| c.township_id).collect();
        for c in list {
            area_ids.push(related.get(c)?.1.village_id);
        }
        let mut users_by_id = HashMap::with_capacity(user_ids.len());
        for chunk in user_ids.chunks(900) {
            users_by_id.extend(
                users::table
                    .filter(users::id.eq_any(chunk))
                    .select((users::id, users::display_name))
                    .load::<(i64, String)>(conn)?,
            );
        }
        let schemes = crate::app::schemes::by_ids(conn, &scheme_ids)?
            .into_iter()
            .map(|s| (s.id, s.def))
            .collect();
        Ok(Names {
            areas: crate::db::areas::by_ids(conn, &unique(area_ids))?,
            users: users_by_id,
            schemes,
        })
    }

    pub(super) fn area(&self, id: i64) -> String {
        self.areas
            .get(&id)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }

    pub(super) fn user(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|i| self.users.get(&i).cloned())
    }

    pub(super) fn peril(&self, scheme_id: i64, code: &str) -> String {
        self.schemes
            .get(&scheme_id)
            .and_then(|d| {
                d.perils
                    .iter()
                    .chain(d.excluded_causes.iter())
                    .find(|p| p.code == code)
                    .map(|p| p.name.clone())
            })
            .unwrap_or_else(|| code.to_string())
    }
}

/// Surveyed by the deadline? `None` while not surveyed.
pub(super) fn on_time(surveyed_at: Option<Instant>, survey_due_at: Instant) -> Option<bool> {
    surveyed_at.map(|s| s <= survey_due_at)
}

fn view_with(
    names: &Names,
    _actor: &Actor,
    c: &Claim,
    p: &Policy,
    g: &Grower,
    plot: &Plot,
    full: bool,
) -> ClaimView {
    ClaimView {
        id: c.id,
        claim_no: c.claim_no.clone(),
        status: c.status,
        status_name: c.status.name().to_string(),
        scheme_code: names
            .schemes
            .get(&c.scheme_id)
            .map(|d| d.code.clone())
            .unwrap_or_default(),
        policy_id: p.id,
        policy_no: p.policy_no.clone(),
        plot_id: plot.id,
        plot_code: plot.code.clone(),
        plot_mu: plot.area_units,
        grower_id: g.id,
        grower_name: g.name.clone(),
        grower_id_number: personal(full, &g.id_number, mask_id),
        grower_phone: personal(full, &g.phone, mask_phone),
        township_id: c.township_id,
        township_name: names.area(c.township_id),
        village_name: names.area(g.village_id),
        event_id: c.event_id,
        peril: c.peril.clone(),
        peril_name: names.peril(c.scheme_id, &c.peril),
        occurred_at: c.occurred_at,
        reported_at: c.reported_at,
        occurred_display: c.occurred_at.display(),
        reported_display: c.reported_at.display(),
        reporter_name: c.reporter_name.clone(),
        reporter_phone: personal(full, &c.reporter_phone, mask_phone),
        report_channel: c.report_channel.clone(),
        channel_name: channel_name(&c.report_channel).to_string(),
        description: c.description.clone(),
        decline_code: c.decline_code.clone(),
        decline_reason: c.decline_reason.clone(),
        survey_due_at: c.survey_due_at,
        survey_due_display: c.survey_due_at.display(),
        adjuster: names.user(c.adjuster_id),
        adjuster_id: c.adjuster_id,
        co_surveyor: names.user(c.co_surveyor_id),
        co_surveyor_id: c.co_surveyor_id,
        surveyed_at: c.surveyed_at,
        surveyed_display: c.surveyed_at.map(Instant::display),
        surveyed_on_time: on_time(c.surveyed_at, c.survey_due_at),
        payout: c.payout_fen,
        paid: c.paid_fen,
        review_note: c.review_note.clone(),
        approved_at: c.approved_at.map(Instant::display),
        agreed_on: c.agreed_on,
        payment_due_on: c.payment_due_on,
        version: c.version,
    }
}

/// Views of many claims in four statements whatever their number (their
/// policies, growers and plots; users; schemes; areas); as every list, with
/// the ID numbers and phones masked whatever the role.
pub(super) fn views(conn: &mut DbConn, actor: &Actor, list: &[Claim]) -> AppResult<Vec<ClaimView>> {
    views_as(conn, actor, list, false)
}

/// The same, masked or in `full`.
fn views_as(
    conn: &mut DbConn,
    actor: &Actor,
    list: &[Claim],
    full: bool,
) -> AppResult<Vec<ClaimView>> {
    let related = Related::of(conn, list)?;
    let names = Names::for_claims(conn, list, &related, &[])?;
    views_full(&names, &related, actor, list, full)
}

/// The same from what was already read (the board reads it once for all
/// the claims it shows).
pub(super) fn views_with(
    names: &Names,
    related: &Related,
    actor: &Actor,
    list: &[Claim],
) -> AppResult<Vec<ClaimView>> {
    views_full(names, related, actor, list, false)
}

fn views_full(
    names: &Names,
    related: &Related,
    actor: &Actor,
    list: &[Claim],
    full: bool,
) -> AppResult<Vec<ClaimView>> {
    list.iter()
        .map(|c| view_from(names, related, actor, c, full))
        .collect()
}

/// One claim as an action's answer: masked, as in the lists.
pub fn view(conn: &mut DbConn, actor: &Actor, c: &Claim) -> AppResult<ClaimView> {
    Ok(views(conn, actor, std::slice::from_ref(c))?.remove(0))
}

/// One claim on its own page from what was read for it: in `full` for a
/// role that sees personal data (the caller audits that read).
pub(super) fn view_from(
    names: &Names,
    related: &Related,
    actor: &Actor,
    c: &Claim,
    full: bool,
) -> AppResult<ClaimView> {
    let (p, g, plot) = related.get(c)?;
    Ok(view_with(names, actor, c, p, g, plot, full))
}

/// Personal data in full for the roles that act on it, masked for the rest.
pub(super) fn personal(full: bool, value: &str, mask: fn(&str) -> String) -> String {
    if full {
        value.to_string()
    } else {
        mask(value)
    }
}

/// "6228********0001"
pub fn mask_account(s: &str) -> String {
    // The same rule as ID numbers: first and last 4 characters, by character.
    crate::domain::id_number::mask_id(s)
}

/// Which of the actor's claims the sheets and the next-claim lookup want
/// (all of them, unpaged; the list page pages through `list::list`).
#[derive(Debug, Clone, Default)]
pub(super) struct RowFilter {
    pub(super) status: Option<String>,
    pub(super) township_id: Option<i64>,
    pub(super) event_id: Option<i64>,
}

/// Every claim the actor sees, newest report first.
pub(super) fn all(conn: &mut DbConn, actor: &Actor, f: &RowFilter) -> AppResult<Vec<ClaimView>> {
    let rows = scoped_rows(conn, actor, f)?;
    views(conn, actor, &rows)
}

pub(super) fn scoped_rows(
    conn: &mut DbConn,
    actor: &Actor,
    f: &RowFilter,
) -> AppResult<Vec<Claim>> {
    let status = match f.status.as_deref().filter(|s| !s.is_empty()) {
        // No claim is in a status that does not exist.
        Some(s) => match ClaimStatus::parse(s) {
            Ok(status) => Some(status),
            Err(_) => return Ok(Vec::new()),
        },
        None => None,
    };
    let filter = ListFilter {
        status,
        township_id: f.township_id,
        event_id: f.event_id,
    };
    Ok(crate::db::claims::list(conn, within(actor), &filter)?)
}
