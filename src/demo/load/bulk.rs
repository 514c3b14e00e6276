//! The demo county's growers, plots, policies and premium batches written in
//! bulk (binary COPY on PostgreSQL, multi-row INSERTs on SQLite), with the
//! values the use cases would have stored: the same checks and cleaning, the
//! same eligibility verdicts, policy numbers, premium split, statuses and
//! versions (`tests/it/demo.rs` compares the result with the county as loaded
//! grower by grower). One audit entry records the load and the ids it created.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use crate::app::schemes::Scheme;
use crate::app::{audit, Actor};
use crate::db::enrollment as rows;
use crate::db::models::{GrowerValues, PlotValues};
use crate::db::policies::NewPolicy;
use crate::db::schema::{areas, growers, plots, policies, premium_batches};
use crate::db::DbConn;
use crate::demo::DemoCounty;
use crate::domain::area::AreaLevel;
use crate::domain::measure::normalize_width;
use crate::domain::policy::PolicyStatus;
use crate::domain::premium::{quote, Quote};
use crate::domain::text::{self, TextKind};
use crate::domain::{Fen, IdNumber, Mu};
use crate::error::{AppError, AppResult};

/// The ids the demo load created, for its audit entry.
#[derive(Debug, Clone, Default)]
pub(super) struct Created {
    pub growers: Vec<i64>,
    pub plots: Vec<i64>,
    pub policies: Vec<i64>,
    pub batches: Vec<i64>,
    pub disbursements: Vec<i64>,
}

fn bad(what: &str, detail: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("演示数据{what}无效：{detail}"))
}

/// A text field as the forms clean it: half-width, then the shared rules.
fn cleaned(label: &str, raw: &str, kind: TextKind) -> AppResult<String> {
    text::check(label, &normalize_width(raw), kind).map_err(|p| bad(label, p.message))
}

/// Phone numbers and accounts keep their digits only (as `app::growers`).
fn digits(label: &str, raw: &str, kind: TextKind) -> AppResult<String> {
    Ok(cleaned(label, raw, kind)?
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect())
}

/// One policy as the season left it, before it is written.
struct PolicyPlan {
    no: String,
    grower_id: i64,
    township_id: i64,
    quote: Quote,
    status: PolicyStatus,
    collected_on: Option<String>,
    cover: Option<(String, String)>,
    batch_id: Option<i64>,
    version: i32,
}

/// Ids of rows of `table` written after `before`, in id order, keyed by `key`.
macro_rules! new_ids {
    ($conn:expr, $table:ident, $key:ident, $before:expr) => {
        $table::table
            .filter($table::id.gt($before.unwrap_or(0)))
            .order($table::id)
            .select(($table::$key, $table::id))
            .load::<(String, i64)>($conn)
    };
}

/// Growers, plots, policies (draft, collected or issued, as the demo's
/// season stands) and the premium batches of the first ten townships.
pub(super) fn enrol(
    conn: &mut DbConn,
    county: &DemoCounty,
    scheme: &Scheme,
    actor: &Actor,
    at: chrono::DateTime<chrono::Utc>,
    progress: &mut dyn FnMut(usize, usize),
) -> AppResult<Created> {
    let now = crate::app::clock::to_text(at);
    let def = &scheme.def;
    let villages: HashMap<String, (i64, i64)> = areas::table
        .filter(areas::level.eq(AreaLevel::Village))
        .select((areas::code, areas::id, areas::parent_id))
        .load::<(String, i64, Option<i64>)>(conn)?
        .into_iter()
        .filter_map(|(code, id, parent)| Some((code, (id, parent?))))
        .collect();
    let township_codes: HashMap<i64, String> = areas::table
        .filter(areas::level.eq(AreaLevel::Township))
        .select((areas::id, areas::code))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();

    // Growers, checked and cleaned as the grower form does.
    let mut grower_values = Vec::with_capacity(county.growers.len());
    for g in &county.growers {
        let &(village_id, township_id) = villages
            .get(&g.village_code)
            .ok_or_else(|| bad("村代码", &g.village_code))?;
        let id = IdNumber::parse(&g.id_number).map_err(|e| bad("身份证号", e))?;
        grower_values.push(GrowerValues {
            year: def.year,
            id_number: id.as_str().to_string(),
            name: cleaned("姓名", &g.name, TextKind::Name)?,
            phone: digits("联系电话", &g.phone, TextKind::Phone)?,
            bank_name: cleaned("开户行", "农村信用合作社", TextKind::Place)?,
            bank_account: digits("银行账号", &g.bank_account, TextKind::BankAccount)?,
            village_id,
            township_id,
        });
    }
    let before = rows::growers::max_id(conn)?;
    rows::insert_growers(conn, &grower_values, &now)?;
    let grower_ids: Vec<(String, i64)> = new_ids!(conn, growers, id_number, before)?;
    if grower_ids.len() != grower_values.len() {
        return Err(AppError::Internal("演示农户写入后数目不符".into()));
    }

    // Plots, judged by the scheme's rules as the plot form does. A policy
    // follows its grower's eligible area: created with the first eligible
    // plot of some area, its version raised by each later one.
    let no_attributes = BTreeMap::new();
    let attributes =
        serde_json::to_string(&no_attributes).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut plot_values = Vec::new();
    let mut eligible: Vec<(i64, i32)> = Vec::with_capacity(grower_values.len());
    let total = county.growers.len();
    for (i, ((g, values), (stored_no, grower_id))) in county
        .growers
        .iter()
        .zip(&grower_values)
        .zip(&grower_ids)
        .enumerate()
    {
        // COPY and multi-row INSERT keep the order: ids follow the county's.
        if *stored_no != values.id_number {
            return Err(AppError::Internal("演示农户写入顺序不符".into()));
        }
        let (mut units, mut changes) = (0i64, 0i32);
        for p in &g.plots {
            let variety = def
                .variety(&p.variety)
                .ok_or_else(|| bad("品种", &p.variety))?;
            let area = Mu::parse(&p.area_mu).map_err(|e| bad("面积", e))?;
            let count = |n: u32| i32::try_from(n).map_err(|e| bad("数量", e));
            let (tree_age, tree_count, fruit) = (
                count(p.tree_age)?,
                count(p.tree_count)?,
                count(p.fruit_per_tree)?,
            );
            let (boundary, boundary_area) = match p.boundary.as_deref() {
                Some(ring) => {
                    let poly = crate::geo::parse_polygon(&super::area_polygon(ring))
                        .map_err(|e| bad("地块边界", e))?;
                    (
                        Some(crate::geo::to_geojson(&poly)),
                        Some(crate::geo::area_mu(&poly)),
                    )
                }
                None => (None, None),
            };
            let verdict = def.evaluate(
                variety,
                &crate::app::plots::facts_of(tree_age, tree_count, fruit, area, &no_attributes),
            );
            if verdict.eligible && area != Mu::ZERO {
                units += area.units();
                changes += 1;
            }
            plot_values.push(PlotValues {
                code: cleaned("地块编号", &p.code, TextKind::Code)?,
                grower_id: *grower_id,
                scheme_id: scheme.id,
                village_id: values.village_id,
                township_id: values.township_id,
                variety: variety.code.clone(),
                tree_age,
                tree_count,
                fruit_per_tree: fruit,
                area_units: area,
                attributes: attributes.clone(),
                boundary,
                boundary_area_units: boundary_area,
                eligible: verdict.eligible,
                reasons: serde_json::to_string(&verdict.reasons)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            });
        }
        eligible.push((units, changes));
        progress(i + 1, total);
    }
    let before = rows::plots::max_id(conn)?;
    rows::insert_plots(conn, &plot_values, &now)?;
    let plot_ids: Vec<i64> = new_ids!(conn, plots, code, before)?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    if plot_ids.len() != plot_values.len() {
        return Err(AppError::Internal("演示地块写入后数目不符".into()));
    }
    drop(plot_values);

    // Policies in grower order, numbered per township, then the season: of
    // every ten, seven shares collected in March and five of those issued.
    let rates = def.rates();
    let mut numbers: HashMap<i64, i64> = HashMap::new();
    let mut plans: Vec<PolicyPlan> = Vec::new();
    for ((values, (_, grower_id)), (units, changes)) in
        grower_values.iter().zip(&grower_ids).zip(&eligible)
    {
        if *units == 0 {
            continue;
        }
        let code = township_codes
            .get(&values.township_id)
            .ok_or_else(|| bad("乡镇", values.township_id))?;
        let n = numbers.entry(values.township_id).or_insert(0);
        *n += 1;
        let k = plans.len();
        let mut plan = PolicyPlan {
            no: format!("{}{}{:05}", def.year, code, n),
            grower_id: *grower_id,
            township_id: values.township_id,
            quote: quote(&rates, Mu::from_units(*units)),
            status: PolicyStatus::Draft,
            collected_on: None,
            cover: None,
            batch_id: None,
            version: *changes,
        };
        if k % 10 < 7 {
            let day = u32::try_from(1 + k % 28).map_err(|e| bad("收费日期", e))?;
            // In the month before the term (March in the 2012 season).
            let on = def.term_start - chrono::Duration::days(32 - i64::from(day));
            plan.status = PolicyStatus::Collected;
            plan.collected_on = Some(on.format("%Y-%m-%d").to_string());
            plan.version += 1;
            if k % 10 < 5 {
                let start = on.max(def.term_start);
                if start > def.term_end {
                    return Err(bad("收费日期", on));
                }
                plan.status = PolicyStatus::Issued;
                plan.cover = Some((
                    start.format("%Y-%m-%d").to_string(),
                    def.term_end.format("%Y-%m-%d").to_string(),
                ));
                plan.version += 1;
            }
        }
        plans.push(plan);
    }

    // The collected shares of the first ten townships handed over, one
    // batch each, in policy-number order.
    let mut batches = Vec::new();
    // The day before the term starts (31 March in the 2012 season).
    let handed_over_on = (def.term_start - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    for (i, t) in county.townships.iter().enumerate().take(10) {
        let township_id = township_codes
            .iter()
            .find(|(_, code)| **code == t.code)
            .map(|(id, _)| *id)
            .ok_or_else(|| bad("乡镇", &t.code))?;
        let mut list: Vec<&mut PolicyPlan> = plans
            .iter_mut()
            .filter(|p| p.township_id == township_id && p.status != PolicyStatus::Draft)
            .collect();
        if list.is_empty() {
            return Err(bad("交付批次", &t.name));
        }
        list.sort_by(|a, b| a.no.cmp(&b.no));
        let amount: Fen = list.iter().map(|p| p.quote.grower_share).sum();
        let id: i64 = diesel::insert_into(premium_batches::table)
            .values((
                premium_batches::township_id.eq(township_id),
                premium_batches::scheme_id.eq(scheme.id),
                premium_batches::amount_fen.eq(amount.0),
                premium_batches::policy_count.eq(list.len() as i32),
                premium_batches::handed_over_on.eq(handed_over_on.as_str()),
                premium_batches::receipt_no.eq(format!("SJ{}-{:03}", def.year, i + 1)),
                premium_batches::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                premium_batches::created_at.eq(&now),
            ))
            .returning(premium_batches::id)
            .get_result(conn)?;
        for p in list {
            p.batch_id = Some(id);
        }
        batches.push(id);
    }

    let before: Option<i64> = policies::table
        .select(diesel::dsl::max(policies::id))
        .first(conn)?;
    let values: Vec<NewPolicy> = plans
        .iter()
        .map(|p| NewPolicy {
            status: p.status,
            share_collected_on: p.collected_on.as_deref(),
            cover_start: p.cover.as_ref().map(|c| c.0.as_str()),
            cover_end: p.cover.as_ref().map(|c| c.1.as_str()),
            batch_id: p.batch_id,
            version: p.version,
            ..NewPolicy::draft(
                p.no.clone(),
                scheme.id,
                p.grower_id,
                p.township_id,
                &p.quote,
                &now,
            )
        })
        .collect();
    crate::bulk_copy!(conn, policies::table, values, NewPolicy::COLUMNS)?;
    let policy_ids: Vec<i64> = new_ids!(conn, policies, policy_no, before)?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    if policy_ids.len() != plans.len() {
        return Err(AppError::Internal("演示保单写入后数目不符".into()));
    }
    Ok(Created {
        growers: grower_ids.into_iter().map(|(_, id)| id).collect(),
        plots: plot_ids,
        policies: policy_ids,
        batches,
        disbursements: Vec::new(),
    })
}

/// The one audit entry of the demo load: who, when, and the ids of every
/// grower, plot, policy, premium batch and disbursement it created. It is
/// filed like a roster import's entry, so a record's history shows it.
pub(super) fn record(
    conn: &mut DbConn,
    actor: &Actor,
    county: &str,
    created: Created,
) -> AppResult<()> {
    let entry = serde_json::json!({
        "source": "demo",
        "county": county,
        "created": {
            "grower": audit::id_runs(created.growers),
            "plot": audit::id_runs(created.plots),
            "policy": audit::id_runs(created.policies),
            "premium_batch": audit::id_runs(created.batches),
            "subsidy_disbursement": audit::id_runs(created.disbursements),
        },
    });
    audit::entry(
        conn,
        actor,
        "demo",
        audit::IMPORT_ENTITY,
        None,
        None,
        Some(&entry.to_string()),
    )
}
