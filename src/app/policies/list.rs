//! The policy list: searched, filtered, sorted and paged in SQL, with totals
//! over every matching policy.

use super::{build_view, PolicyView, STATUSES};
use crate::app::growers::Search;
use crate::app::listing::{contains, order_by, Sort, SortKey};
use crate::app::{Actor, Page, Paged};
use crate::db::models::{Grower, Policy};
use crate::db::schema::{growers, plots, policies};
use crate::db::DbConn;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyFilter {
    pub scheme: Option<String>,
    pub township_id: Option<i64>,
    /// The insured's village.
    pub village_id: Option<i64>,
    /// A status code (`issued`) or its Chinese name (`已签发`).
    pub status: Option<String>,
    /// Policy number, the insured (name, ID number, its last 4, phone) or a plot code.
    pub q: Option<String>,
    /// A [`PolicySort`] code, and `asc` or `desc`.
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<i64>,
    #[serde(alias = "per_page")]
    pub page_size: Option<i64>,
}

/// What the policy list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySort {
    PolicyNo,
    Grower,
    Township,
    Status,
    Area,
    Premium,
    Updated,
}

impl SortKey for PolicySort {
    const KEYS: &'static [(&'static str, &'static str, PolicySort)] = &[
        ("policy_no", "保单号", PolicySort::PolicyNo),
        ("grower", "被保险人", PolicySort::Grower),
        ("township", "乡镇", PolicySort::Township),
        ("status", "状态", PolicySort::Status),
        ("area", "面积", PolicySort::Area),
        ("premium", "保费", PolicySort::Premium),
        ("updated", "最后修改时间", PolicySort::Updated),
    ];
    const DEFAULT: PolicySort = PolicySort::PolicyNo;
}

/// A status as given (code or Chinese name) as its code; unknown ones refused.
pub fn status_code(given: Option<&str>) -> AppResult<Option<&'static str>> {
    let Some(s) = given.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match STATUSES.iter().find(|(c, n)| *c == s || *n == s) {
        Some((c, _)) => Ok(Some(c)),
        None => {
            let choices: Vec<String> = STATUSES
                .iter()
                .map(|(c, n)| format!("{c}（{n}）"))
                .collect();
            Err(AppError::invalid(
                "status",
                ErrorCode::StatusInvalid,
                format!(
                    "参数status的取值“{}”无效，可选：{}",
                    crate::domain::number::shown(s),
                    choices.join("、")
                ),
            ))
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyList {
    #[serde(flatten)]
    pub paged: Paged<PolicyView>,
    /// Totals over every matching policy (not just this page), sums of the rows.
    pub totals: PolicyTotals,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyTotals {
    pub policies: i64,
    pub insured_mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
}

type PolicySource = diesel::dsl::InnerJoinQuerySource<policies::table, growers::table>;
type PolicyCond = Box<
    dyn BoxableExpression<
        PolicySource,
        <DbConn as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

pub fn list(conn: &mut DbConn, actor: &Actor, f: &PolicyFilter) -> AppResult<PolicyList> {
    let scheme = match f.scheme.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => crate::app::schemes::by_code(conn, code)?,
        None => {
            crate::app::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?
        }
    };
    let page = Page::new(f.page, f.page_size)?;
    let sort = Sort::<PolicySort>::parse(f.sort.as_deref(), f.dir.as_deref())?;
    let status = status_code(f.status.as_deref())?;
    let search =
        crate::app::listing::search_text(f.q.as_deref())?.and_then(|q| Search::new(actor, q));
    // Joined with the insured: their village filters, their name sorts.
    let build = || {
        let mut q = policies::table
            .inner_join(growers::table)
            .filter(policies::scheme_id.eq(scheme.id))
            .into_boxed();
        if let Some(t) = actor.township_scope() {
            q = q.filter(policies::township_id.eq(t));
        }
        if let Some(t) = f.township_id {
            q = q.filter(policies::township_id.eq(t));
        }
        if let Some(v) = f.village_id {
            q = q.filter(growers::village_id.eq(v));
        }
        if let Some(s) = status {
            q = q.filter(policies::status.eq(s.to_string()));
        }
        if let Some(s) = &search {
            let by_plot = plots::table
                .filter(plots::scheme_id.eq(scheme.id))
                .filter(plots::code.like(contains(s.text())))
                .select(plots::grower_id);
            let person: PolicyCond = crate::app::growers::person_cond!(s, PolicySource);
            q = q.filter(
                person
                    .or(policies::policy_no.like(contains(s.text())))
                    .or(policies::grower_id.eq_any(by_plot)),
            );
        }
        q
    };
    let sums: (i64, i64, i64, i64, i64, i64) = build()
        .select((
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>("CAST(COALESCE(SUM(policies.insured_area_units), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(policies.sum_insured_fen), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(policies.premium_fen), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(policies.grower_share_fen), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(policies.subsidy_fen), 0) AS BIGINT)"),
        ))
        .first(conn)?;
    let q = build();
    let id = policies::id;
    let q = match sort.key {
        PolicySort::PolicyNo => order_by!(q, sort.dir, id; policies::policy_no),
        PolicySort::Grower => order_by!(q, sort.dir, id; growers::name),
        PolicySort::Township => order_by!(q, sort.dir, id; policies::township_id),
        PolicySort::Status => order_by!(q, sort.dir, id; policies::status),
        PolicySort::Area => order_by!(q, sort.dir, id; policies::insured_area_units),
        PolicySort::Premium => order_by!(q, sort.dir, id; policies::premium_fen),
        PolicySort::Updated => order_by!(q, sort.dir, id; policies::updated_at),
    };
    let rows: Vec<(Policy, Grower)> = q
        .limit(page.size)
        .offset(page.offset())
        .select((Policy::as_select(), Grower::as_select()))
        .load(conn)?;
    if let Some(s) = &search {
        s.audit(conn, actor, rows.iter().map(|(_, g)| g))?;
    }
    let names = crate::app::areas::names(conn)?;
    let items = rows
        .iter()
        .map(|(p, g)| {
            let tname = names
                .get(&p.township_id)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            build_view(p, &scheme, &g.name, &g.id_number, &tname, None, false)
        })
        .collect();
    Ok(PolicyList {
        paged: Paged::new(items, sums.0, page),
        totals: PolicyTotals {
            policies: sums.0,
            insured_mu: Mu::from_units(sums.1),
            sum_insured: Fen(sums.2),
            premium: Fen(sums.3),
            grower_share: Fen(sums.4),
            subsidy: Fen(sums.5),
        },
    })
}
