//! The claims list behind `/claims/list` and `GET /api/v1/claims`: searched
//! (claim number, policy number, plot code, the insured by name, phone, ID
//! number or its last 4), filtered, sorted and paged in SQL within the
//! reader's reach, with totals over every matching claim.

use super::access::within;
use super::views::views;
use super::{ClaimStatus, ClaimView};
use crate::app::growers::Search;
use crate::app::listing::{contains, order_by, Sort, SortKey};
use crate::app::{Actor, Page, Paged};
use crate::db::claims::Within;
use crate::db::models::Claim;
use crate::db::schema::{claims, growers, plots, policies};
use crate::db::DbConn;
use crate::domain::Fen;
use crate::error::AppResult;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClaimFilter {
    /// A status code; the API refuses an unknown one before it gets here,
    /// a page shows no claims for it.
    pub status: Option<String>,
    pub township_id: Option<i64>,
    /// The insured's village.
    pub village_id: Option<i64>,
    pub event_id: Option<i64>,
    /// Claim number, policy number, plot code, or the insured.
    pub q: Option<String>,
    /// A [`ClaimSort`] code, and `asc` or `desc`.
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<i64>,
    #[serde(alias = "per_page")]
    pub page_size: Option<i64>,
}

/// What the claims list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimSort {
    Reported,
    ClaimNo,
    Occurred,
    Township,
    Status,
    Due,
    Payout,
}

impl SortKey for ClaimSort {
    const KEYS: &'static [(&'static str, &'static str, ClaimSort)] = &[
        ("reported", "报案时间", ClaimSort::Reported),
        ("claim_no", "赔案号", ClaimSort::ClaimNo),
        ("occurred", "出险时间", ClaimSort::Occurred),
        ("township", "乡镇", ClaimSort::Township),
        ("status", "状态", ClaimSort::Status),
        ("due", "查勘时限", ClaimSort::Due),
        ("payout", "赔款", ClaimSort::Payout),
    ];
    const DEFAULT: ClaimSort = ClaimSort::Reported;
    const DEFAULT_DIR: crate::app::listing::Dir = crate::app::listing::Dir::Desc;
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimList {
    #[serde(flatten)]
    pub paged: Paged<ClaimView>,
    /// Over every matching claim, not just this page.
    pub totals: ClaimTotals,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClaimTotals {
    pub claims: i64,
    pub payout: Fen,
    pub paid: Fen,
}

type ClaimSource = diesel::dsl::InnerJoinQuerySource<claims::table, growers::table>;
type ClaimCond = Box<
    dyn BoxableExpression<
        ClaimSource,
        <DbConn as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

/// One page of the claims the actor sees that match `f`.
pub fn list(conn: &mut DbConn, actor: &Actor, f: &ClaimFilter) -> AppResult<ClaimList> {
    let page = Page::new(f.page, f.page_size)?;
    let sort = Sort::<ClaimSort>::parse(f.sort.as_deref(), f.dir.as_deref())?;
    let status = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match ClaimStatus::parse(s) {
            Ok(st) => Some(st),
            // No claim is in a status that does not exist.
            Err(_) => {
                return Ok(ClaimList {
                    paged: Paged::new(Vec::new(), 0, page),
                    totals: ClaimTotals::default(),
                })
            }
        },
        None => None,
    };
    let search =
        crate::app::listing::search_text(f.q.as_deref())?.and_then(|q| Search::new(actor, q));
    let scope = within(actor);
    // Joined with the insured: their name, numbers and village filter.
    let build = || {
        let mut q = claims::table.inner_join(growers::table).into_boxed();
        match scope {
            Within::County => {}
            Within::Township(t) => q = q.filter(claims::township_id.eq(t)),
            Within::AssignedTo(user) => q = q.filter(claims::adjuster_id.eq(user)),
        }
        if let Some(s) = status {
            q = q.filter(claims::status.eq(s));
        }
        if let Some(t) = f.township_id {
            q = q.filter(claims::township_id.eq(t));
        }
        if let Some(e) = f.event_id {
            q = q.filter(claims::event_id.eq(e));
        }
        if let Some(v) = f.village_id {
            q = q.filter(growers::village_id.eq(v));
        }
        if let Some(s) = &search {
            let like = contains(s.text());
            let person: ClaimCond = crate::app::growers::person_cond!(s, ClaimSource);
            let by_policy = policies::table
                .filter(policies::policy_no.like(like.clone()))
                .select(policies::id);
            let by_plot = plots::table
                .filter(plots::code.like(like.clone()))
                .select(plots::id);
            q = q.filter(
                person
                    .or(claims::claim_no.like(like))
                    .or(claims::policy_id.eq_any(by_policy))
                    .or(claims::plot_id.eq_any(by_plot)),
            );
        }
        q
    };
    let sums: (i64, i64, i64) = build()
        .select((
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>("CAST(COALESCE(SUM(claims.payout_fen), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(claims.paid_fen), 0) AS BIGINT)"),
        ))
        .first(conn)?;
    let q = build();
    let id = claims::id;
    let q = match sort.key {
        ClaimSort::Reported => order_by!(q, sort.dir, id; claims::reported_at),
        ClaimSort::ClaimNo => order_by!(q, sort.dir, id; claims::claim_no),
        ClaimSort::Occurred => order_by!(q, sort.dir, id; claims::occurred_at),
        ClaimSort::Township => order_by!(q, sort.dir, id; claims::township_id),
        ClaimSort::Status => order_by!(q, sort.dir, id; claims::status),
        ClaimSort::Due => order_by!(q, sort.dir, id; claims::survey_due_at),
        // Claims without a figure yet count as 0, on both databases alike.
        ClaimSort::Payout => {
            order_by!(q, sort.dir, id; sql::<BigInt>("COALESCE(claims.payout_fen, 0)"))
        }
    };
    let rows: Vec<Claim> = q
        .limit(page.size)
        .offset(page.offset())
        .select(Claim::as_select())
        .load(conn)?;
    if let Some(s) = search.as_ref().filter(|s| s.full().is_some()) {
        let ids: Vec<i64> = rows.iter().map(|c| c.grower_id).collect();
        let found: Vec<crate::db::models::Grower> = growers::table
            .filter(growers::id.eq_any(&ids))
            .select(crate::db::models::Grower::as_select())
            .load(conn)?;
        s.audit(conn, actor, found.iter())?;
    }
    Ok(ClaimList {
        paged: Paged::new(views(conn, actor, &rows)?, sums.0, page),
        totals: ClaimTotals {
            claims: sums.0,
            payout: Fen(sums.1),
            paid: Fen(sums.2),
        },
    })
}
