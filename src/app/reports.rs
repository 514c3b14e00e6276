//! Reports as tables: the household list (分户清单), the policy list and the
//! eligibility report. Every totals row is the sum of the rows above it.

use super::Actor;
use crate::db::models::{Area, Grower, Plot, Policy};
use crate::db::schema::{growers, plots, policies};
use crate::db::DbConn;
use crate::domain::id_number::mask_id;
use crate::domain::policy::PolicyStatus;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult};
use crate::excel::write::{Cell, Column, Table};
use diesel::prelude::*;
use std::collections::HashMap;

pub struct Scope {
    pub township_code: Option<String>,
    pub village_code: Option<String>,
    pub scheme: Option<String>,
    /// The China date printed as 制表日期 (from the app's clock).
    pub today: chrono::NaiveDate,
}

struct Resolved {
    scheme: super::schemes::Scheme,
    township_id: Option<i64>,
    village_id: Option<i64>,
    place: String,
}

fn resolve(conn: &mut DbConn, actor: &Actor, scope: &Scope) -> AppResult<Resolved> {
    let scheme = match scope.scheme.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => super::schemes::by_code(conn, code)?,
        None => super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?,
    };
    let mut township_id = actor.township_scope();
    let mut place = String::from("全县");
    if let Some(code) = scope.township_code.as_deref().filter(|s| !s.is_empty()) {
        let t = super::areas::township_by_code(conn, actor, code)?;
        township_id = Some(t.id);
        place = t.name;
    } else if let Some(t) = township_id {
        place = super::areas::area_by_id(conn, t)?.name;
    }
    let mut village_id = None;
    if let Some(code) = scope.village_code.as_deref().filter(|s| !s.is_empty()) {
        let (v, t) = match super::growers::village_for(conn, actor, code)? {
            Ok(vt) => vt,
            Err(e) => return Err(AppError::NotFound(e.message)),
        };
        if township_id.is_some_and(|id| id != t.id) {
            return Err(AppError::NotFound(format!("{}不属于所选乡镇", v.name)));
        }
        township_id = Some(t.id);
        village_id = Some(v.id);
        place = format!("{}{}", t.name, v.name);
    }
    Ok(Resolved {
        scheme,
        township_id,
        village_id,
        place,
    })
}

/// Insured policies (not cancelled) in scope with their growers, by policy number.
fn live_policies(conn: &mut DbConn, r: &Resolved) -> AppResult<Vec<(Policy, Grower)>> {
    let mut q = policies::table
        .inner_join(growers::table)
        .filter(policies::scheme_id.eq(r.scheme.id))
        .filter(policies::status.ne(PolicyStatus::Cancelled))
        .into_boxed();
    if let Some(t) = r.township_id {
        q = q.filter(policies::township_id.eq(t));
    }
    if let Some(v) = r.village_id {
        q = q.filter(growers::village_id.eq(v));
    }
    Ok(q.order(policies::policy_no)
        .select((Policy::as_select(), Grower::as_select()))
        .load(conn)?)
}

/// Running totals of the five money columns; the totals row is the sum of the rows.
#[derive(Default)]
struct MoneyTotals {
    mu: Mu,
    sum_insured: Fen,
    premium: Fen,
    grower_share: Fen,
    subsidy: Fen,
}

impl MoneyTotals {
    /// Add one policy and return its five cells.
    fn add(&mut self, p: &Policy) -> [Cell; 5] {
        let row = MoneyTotals {
            mu: p.insured_area_units,
            sum_insured: p.sum_insured_fen,
            premium: p.premium_fen,
            grower_share: p.grower_share_fen,
            subsidy: p.subsidy_fen,
        };
        self.mu = self.mu + row.mu;
        self.sum_insured += row.sum_insured;
        self.premium += row.premium;
        self.grower_share += row.grower_share;
        self.subsidy += row.subsidy;
        row.cells()
    }

    fn cells(&self) -> [Cell; 5] {
        [
            Cell::Mu(self.mu),
            Cell::Money(self.sum_insured),
            Cell::Money(self.premium),
            Cell::Money(self.grower_share),
            Cell::Money(self.subsidy),
        ]
    }
}

fn money_columns() -> Vec<Column> {
    [
        "投保面积(亩)",
        "保险金额(元)",
        "保费(元)",
        "农户自缴(元)",
        "财政补贴(元)",
    ]
    .iter()
    .map(|h| Column {
        header: h.to_string(),
        width: 14.0,
    })
    .collect()
}

/// An area's name from the areas by id (empty if unknown).
fn name_cell(names: &HashMap<i64, Area>, id: i64) -> Cell {
    Cell::Text(names.get(&id).map(|a| a.name.clone()).unwrap_or_default())
}

/// One audit row per export of personal data: which sheet, with which
/// filter, how many records and their ids (as runs), and whether the ID
/// numbers, phones or bank accounts in it were in full.
pub(crate) fn exported(
    conn: &mut DbConn,
    actor: &Actor,
    kind: &str,
    entity: &str,
    filter: serde_json::Value,
    ids: Vec<i64>,
    full: bool,
) -> AppResult<()> {
    let count = ids.len();
    super::audit::record(
        conn,
        actor,
        "export",
        entity,
        0,
        None::<&()>,
        Some(&serde_json::json!({
            "kind": kind,
            "filter": filter,
            "count": count,
            "ids": super::audit::id_runs(ids),
            "full": full,
        })),
    )
}

fn scope_filter(scope: &Scope) -> serde_json::Value {
    serde_json::json!({
        "township": scope.township_code,
        "village": scope.village_code,
        "scheme": scope.scheme,
    })
}

fn col(header: &str, width: f64) -> Column {
    Column {
        header: header.to_string(),
        width,
    }
}

/// 分户清单: one row per insured household (policies not cancelled).
pub fn household_list(conn: &mut DbConn, actor: &Actor, scope: &Scope) -> AppResult<Table> {
    let r = resolve(conn, actor, scope)?;
    let mut rows = live_policies(conn, &r)?;
    // Stable: policy-number order within each village.
    rows.sort_by_key(|(_, g)| g.village_id);
    let names = super::areas::names(conn)?;
    let full = actor.sees_personal_data();
    let mut totals = MoneyTotals::default();
    let mut out = Vec::with_capacity(rows.len());
    for (i, (p, g)) in rows.iter().enumerate() {
        let money = totals.add(p);
        let mut row = vec![
            Cell::Int(i as i64 + 1),
            name_cell(&names, g.township_id),
            name_cell(&names, g.village_id),
            Cell::Text(g.name.clone()),
            Cell::Text(if full {
                g.id_number.clone()
            } else {
                mask_id(&g.id_number)
            }),
            Cell::Text(p.policy_no.clone()),
            Cell::Text(p.status.name().to_string()),
        ];
        row.extend(money);
        out.push(row);
    }
    let mut columns = vec![
        col("序号", 7.0),
        col("乡镇", 12.0),
        col("村", 12.0),
        col("户主姓名", 12.0),
        col("身份证号", 21.0),
        col("保单号", 20.0),
        col("状态", 12.0),
    ];
    columns.extend(money_columns());
    let count = out.len();
    let ids = rows.iter().map(|(p, _)| p.id).collect();
    exported(
        conn,
        actor,
        "household_list",
        "policy",
        scope_filter(scope),
        ids,
        full,
    )?;
    Ok(Table {
        sheet_name: "分户清单".into(),
        title: Some(format!(
            "{}{}分户清单（{}）",
            r.scheme.def.year,
            r.scheme
                .def
                .name
                .trim_start_matches(&r.scheme.def.year.to_string()),
            r.place
        )),
        subtitle: Some(format!(
            "制表日期 {} · 共{}户 · 金额单位：元 · 面积单位：亩",
            scope.today, count
        )),
        columns,
        rows: out,
        totals: Some(
            vec![
                Cell::Text("合计".into()),
                Cell::Empty,
                Cell::Empty,
                Cell::Text(format!("{count}户")),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ]
            .into_iter()
            .chain(totals.cells())
            .collect(),
        ),
    })
}

/// 地块投保条件清单: every plot with its verdict and reasons.
pub fn eligibility_report(conn: &mut DbConn, actor: &Actor, scope: &Scope) -> AppResult<Table> {
    let r = resolve(conn, actor, scope)?;
    let mut q = plots::table
        .inner_join(growers::table)
        .filter(plots::scheme_id.eq(r.scheme.id))
        .into_boxed();
    if let Some(t) = r.township_id {
        q = q.filter(plots::township_id.eq(t));
    }
    if let Some(v) = r.village_id {
        q = q.filter(plots::village_id.eq(v));
    }
    let rows: Vec<(Plot, Grower)> = q
        .order((plots::village_id, plots::code))
        .select((Plot::as_select(), Grower::as_select()))
        .load(conn)?;
    let names = super::areas::names(conn)?;
    let mut eligible_mu = Mu::ZERO;
    let mut all_mu = Mu::ZERO;
    let mut eligible_n = 0;
    let out: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(p, g)| {
            let mu = p.area_units;
            all_mu = all_mu + mu;
            if p.eligible {
                eligible_mu = eligible_mu + mu;
                eligible_n += 1;
            }
            let reasons: Vec<crate::domain::Reason> =
                serde_json::from_str(&p.reasons).unwrap_or_default();
            vec![
                Cell::Text(p.code.clone()),
                name_cell(&names, p.village_id),
                Cell::Text(g.name.clone()),
                Cell::Text(
                    r.scheme
                        .def
                        .variety(&p.variety)
                        .map(|v| v.name.clone())
                        .unwrap_or_else(|| p.variety.clone()),
                ),
                Cell::Int(p.tree_age as i64),
                Cell::Int(p.tree_count as i64),
                Cell::Int(p.fruit_per_tree as i64),
                Cell::Mu(mu),
                Cell::Text(if p.eligible { "符合" } else { "不符合" }.into()),
                Cell::Text(
                    reasons
                        .iter()
                        .map(|x| x.message.as_str())
                        .collect::<Vec<_>>()
                        .join("；"),
                ),
            ]
        })
        .collect();
    let n = out.len();
    Ok(Table {
        sheet_name: "投保条件".into(),
        title: Some(format!(
            "{} 地块投保条件清单（{}）",
            r.scheme.def.name, r.place
        )),
        subtitle: Some(format!(
            "制表日期 {} · 共{}块，符合{}块",
            scope.today, n, eligible_n
        )),
        columns: vec![
            col("地块编号", 22.0),
            col("村", 12.0),
            col("户主姓名", 12.0),
            col("品种", 12.0),
            col("树龄", 8.0),
            col("株数", 8.0),
            col("单株挂果数", 10.0),
            col("面积(亩)", 12.0),
            col("投保条件", 10.0),
            col("不符合原因", 30.0),
        ],
        rows: out,
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Empty,
            Cell::Text(format!("{n}块")),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Mu(all_mu),
            Cell::Text(format!("符合{eligible_n}块")),
            Cell::Text(format!("符合面积{eligible_mu}亩")),
        ]),
    })
}

/// The roster template for one township: its villages and the scheme's
/// varieties as drop-downs, the scheme's rules in the instructions.
pub fn roster_template(
    conn: &mut DbConn,
    actor: &Actor,
    township_code: &str,
    scheme: Option<&str>,
) -> AppResult<Vec<u8>> {
    let r = resolve(
        conn,
        actor,
        &Scope {
            township_code: Some(township_code.to_string()),
            village_code: None,
            scheme: scheme.map(str::to_string),
            // The template prints no date.
            today: chrono::NaiveDate::MIN,
        },
    )?;
    let villages = super::areas::villages(conn, actor, r.township_id)?;
    let rules = r
        .scheme
        .def
        .varieties
        .iter()
        .map(|v| {
            let parts: Vec<String> = v
                .rules
                .iter()
                .map(|rule| {
                    let mut s = rule.label.clone();
                    if let Some(min) = rule.min {
                        s.push_str(&format!("≥{}{}", min.normalize(), rule.unit));
                    }
                    if let Some(max) = rule.max {
                        s.push_str(&format!("≤{}{}", max.normalize(), rule.unit));
                    }
                    s
                })
                .collect();
            format!("{}：{}（含本数）", v.name, parts.join("，且"))
        })
        .collect();
    let spec = crate::excel::write::TemplateSpec {
        township_name: r.place.clone(),
        scheme_name: r.scheme.def.name.clone(),
        villages: villages.into_iter().map(|v| v.name).collect(),
        varieties: r
            .scheme
            .def
            .varieties
            .iter()
            .map(|v| v.name.clone())
            .collect(),
        year: r.scheme.def.year,
        rules,
    };
    crate::excel::write::roster_template(&spec).map_err(|e| AppError::Internal(e.to_string()))
}

/// 保单清单: every policy not cancelled, with its dates and hand-over receipt.
pub fn policy_list(conn: &mut DbConn, actor: &Actor, scope: &Scope) -> AppResult<Table> {
    use crate::db::schema::premium_batches;
    let r = resolve(conn, actor, scope)?;
    let rows = live_policies(conn, &r)?;
    let receipts: HashMap<i64, String> = premium_batches::table
        .select((premium_batches::id, premium_batches::receipt_no))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let names = super::areas::names(conn)?;
    let full = actor.sees_personal_data();
    let text = |d: &Option<crate::domain::time::Day>| {
        Cell::Text(d.map(|d| d.to_text()).unwrap_or_default())
    };
    let mut totals = MoneyTotals::default();
    let out: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(p, g)| {
            let money = totals.add(p);
            let mut row = vec![
                Cell::Text(p.policy_no.clone()),
                Cell::Text(g.name.clone()),
                Cell::Text(if full {
                    g.id_number.clone()
                } else {
                    mask_id(&g.id_number)
                }),
                name_cell(&names, g.township_id),
                name_cell(&names, g.village_id),
                Cell::Text(p.status.name().to_string()),
                text(&p.share_collected_on),
                text(&p.cover_start),
                text(&p.cover_end),
                Cell::Text(
                    p.batch_id
                        .and_then(|b| receipts.get(&b).cloned())
                        .unwrap_or_default(),
                ),
            ];
            row.extend(money);
            row
        })
        .collect();
    let n = out.len();
    let ids = rows.iter().map(|(p, _)| p.id).collect();
    exported(
        conn,
        actor,
        "policy_list",
        "policy",
        scope_filter(scope),
        ids,
        full,
    )?;
    let mut columns = vec![
        col("保单号", 20.0),
        col("被保险人", 12.0),
        col("身份证号", 21.0),
        col("乡镇", 12.0),
        col("村", 12.0),
        col("状态", 12.0),
        col("自缴收费日期", 13.0),
        col("保险起期", 12.0),
        col("保险止期", 12.0),
        col("交付收据号", 14.0),
    ];
    columns.extend(money_columns());
    let mut total_row = vec![Cell::Text("合计".into()), Cell::Text(format!("{n}份"))];
    total_row.extend(std::iter::repeat_n(Cell::Empty, 8));
    total_row.extend(totals.cells());
    Ok(Table {
        sheet_name: "保单清单".into(),
        title: Some(format!("{} 保单清单（{}）", r.scheme.def.name, r.place)),
        subtitle: Some(format!(
            "制表日期 {} · 共{}份 · 金额单位：元 · 面积单位：亩",
            scope.today, n
        )),
        columns,
        rows: out,
        totals: Some(total_row),
    })
}
