//! Township roster import: preview (dry run) first, then commit all accepted
//! rows in one transaction. Re-uploading the same file changes nothing:
//! growers are keyed on ID number (per scheme year), plots on plot code.

use super::schemes::Scheme;
use super::{audit, Actor, Phases};
use crate::db::models::{Area, Grower, GrowerValues, Plot, PlotValues};
use crate::db::schema::{growers, plots, roster_uploads};
use crate::db::{now_text, DbConn};
use crate::domain::id_number::mask_id;
use crate::domain::{IdNumber, Mu, Reason};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::excel::read::{read_roster, CellProblem, Field, RawRow, ReadOptions, Roster};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    New,
    Changed,
    Unchanged,
    Rejected,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::New => "新增",
            Outcome::Changed => "变更",
            Outcome::Unchanged => "无变化",
            Outcome::Rejected => "拒收",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RowProblem {
    /// Excel column letter, empty when the problem is about the whole row.
    pub column: String,
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub row: usize,
    pub outcome: Outcome,
    pub grower_name: String,
    pub id_number: String,
    pub plot_code: String,
    /// Accepted rows only: the plot's eligibility verdict.
    pub eligible: Option<bool>,
    pub reasons: Vec<Reason>,
    pub problems: Vec<RowProblem>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub rows: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub ineligible: usize,
    pub rejected: usize,
    pub new_growers: usize,
    pub changed_growers: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub upload_id: Option<i64>,
    pub committed: bool,
    pub township: String,
    pub scheme: String,
    pub sheet: String,
    pub sheets: Vec<String>,
    pub header_row: usize,
    pub counts: Counts,
    pub skipped_rows: Vec<(usize, String)>,
    pub rows: Vec<RowResult>,
    #[serde(skip)]
    pub headers: Vec<String>,
    #[serde(skip)]
    pub originals: HashMap<usize, Vec<String>>,
    #[serde(skip)]
    pub columns: Vec<(Field, String)>,
    /// Time per phase (commit only; empty for a preview).
    #[serde(skip)]
    pub phases: Vec<(&'static str, std::time::Duration)>,
}

/// What one accepted row will write.
#[derive(Debug, Clone)]
struct Planned {
    grower: GrowerValues,
    plot: PlotValues,
    grower_outcome: Outcome,
    plot_outcome: Outcome,
}

fn problem(
    field: Field,
    columns: &HashMap<Field, String>,
    code: &str,
    message: String,
) -> RowProblem {
    RowProblem {
        column: columns.get(&field).cloned().unwrap_or_default(),
        field: field.label().to_string(),
        code: code.to_string(),
        message,
    }
}

fn from_cell(p: &CellProblem) -> RowProblem {
    RowProblem {
        column: p.column.clone(),
        field: p.field.label().to_string(),
        code: p.code.to_string(),
        message: p.message.clone(),
    }
}

fn digits(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// A plot without a code in the roster gets one derived from its village, its
/// grower and its position among that grower's rows, so a re-upload finds it.
fn derived_plot_code(village: &str, id: &str, n: usize) -> String {
    let h = hex::encode(Sha256::digest(id.as_bytes()));
    let short: String = h.chars().take(6).collect();
    format!("{village}-{short}-{n:02}")
}

struct Context {
    township: Area,
    villages_by_name: HashMap<String, Area>,
    villages_by_code: HashMap<String, Area>,
    /// Village names in other townships, to say why a row was refused.
    foreign_villages: HashMap<String, String>,
    scheme: Scheme,
    growers: HashMap<String, Grower>,
    plots: HashMap<String, Plot>,
    township_names: HashMap<i64, String>,
}

fn load_context(
    conn: &mut DbConn,
    actor: &Actor,
    township_code: &str,
    scheme: &str,
) -> AppResult<Context> {
    let township = super::areas::township_by_code(conn, actor, township_code)?;
    let scheme = if scheme.trim().is_empty() {
        super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?
    } else {
        super::schemes::by_code(conn, scheme)?
    };
    let names = super::areas::names(conn)?;
    let mut villages_by_name = HashMap::new();
    let mut villages_by_code = HashMap::new();
    let mut foreign_villages = HashMap::new();
    for a in names.values().filter(|a| a.level == "village") {
        if a.parent_id == Some(township.id) {
            villages_by_name.insert(a.name.clone(), a.clone());
            villages_by_code.insert(a.code.clone(), a.clone());
        } else {
            let t = a
                .parent_id
                .and_then(|p| names.get(&p))
                .map(|t| t.name.clone())
                .unwrap_or_default();
            foreign_villages.insert(a.name.clone(), t.clone());
            foreign_villages.insert(a.code.clone(), t);
        }
    }
    let growers: HashMap<String, Grower> = growers::table
        .filter(growers::year.eq(scheme.def.year))
        .select(Grower::as_select())
        .load(conn)?
        .into_iter()
        .map(|g| (g.id_number.clone(), g))
        .collect();
    let plots: HashMap<String, Plot> = plots::table
        .filter(plots::scheme_id.eq(scheme.id))
        .select(Plot::as_select())
        .load(conn)?
        .into_iter()
        .map(|p| (p.code.clone(), p))
        .collect();
    let township_names = names
        .values()
        .filter(|a| a.level == "township")
        .map(|a| (a.id, a.name.clone()))
        .collect();
    Ok(Context {
        township,
        villages_by_name,
        villages_by_code,
        foreign_villages,
        scheme,
        growers,
        plots,
        township_names,
    })
}

fn count_field(
    raw: &BTreeMap<Field, String>,
    field: Field,
    label: &str,
    columns: &HashMap<Field, String>,
    problems: &mut Vec<RowProblem>,
) -> i32 {
    let t = raw.get(&field).map(String::as_str).unwrap_or("").trim();
    if t.is_empty() {
        problems.push(problem(
            field,
            columns,
            "value_required",
            format!("{label}不能为空"),
        ));
        return 0;
    }
    match t.parse::<i32>() {
        Ok(n) if n >= 0 => n,
        _ => {
            problems.push(problem(
                field,
                columns,
                "not_a_whole_number",
                format!("{label}应为非负整数：{}", crate::domain::number::shown(t)),
            ));
            0
        }
    }
}

/// Validate one row into what it would write, or the reasons it can't be.
fn plan_row(
    ctx: &Context,
    raw: &RawRow,
    columns: &HashMap<Field, String>,
    plot_no: usize,
) -> Result<(GrowerValues, PlotValues, Vec<Reason>), Vec<RowProblem>> {
    let mut problems: Vec<RowProblem> = raw.problems.iter().map(from_cell).collect();
    let cells = &raw.cells;
    let get = |f: Field| cells.get(&f).map_or("", |s| s.trim());
    // A cell the reader already refused (text rules, damaged by Excel) is
    // reported once, with its own message, not again as "empty".
    let flagged = |f: Field| raw.problems.iter().any(|p| p.field == f);
    let name = get(Field::GrowerName);
    if name.is_empty() && !flagged(Field::GrowerName) {
        problems.push(problem(
            Field::GrowerName,
            columns,
            "name_required",
            "姓名不能为空".into(),
        ));
    }
    let id = if flagged(Field::IdNumber) {
        None
    } else {
        match IdNumber::parse(get(Field::IdNumber)) {
            Ok(id) => Some(id),
            Err(e) => {
                problems.push(problem(
                    Field::IdNumber,
                    columns,
                    e.code().as_str(),
                    e.to_string(),
                ));
                None
            }
        }
    };
    let phone = digits(get(Field::Phone));
    let phone_ok = phone.chars().all(|c| c.is_ascii_digit()) && (7..=12).contains(&phone.len());
    if !phone.is_empty() && !phone_ok {
        problems.push(problem(
            Field::Phone,
            columns,
            "phone_invalid",
            format!("联系电话格式不正确：{phone}"),
        ));
    }
    let account = digits(get(Field::BankAccount));
    let account_ok =
        account.chars().all(|c| c.is_ascii_digit()) && (10..=30).contains(&account.len());
    if !flagged(Field::BankAccount) && !account.is_empty() && !account_ok {
        problems.push(problem(
            Field::BankAccount,
            columns,
            "bank_account_invalid",
            "银行账号应为10至30位数字".into(),
        ));
    }
    let village_text = get(Field::Village);
    let village = ctx
        .villages_by_name
        .get(village_text)
        .or_else(|| ctx.villages_by_code.get(village_text));
    if village.is_none() && !flagged(Field::Village) {
        let (code, message) = match ctx.foreign_villages.get(village_text) {
            Some(t) => (
                "village_not_in_township",
                format!("{village_text}属于{t}，不在{}", ctx.township.name),
            ),
            None if village_text.is_empty() => ("village_required", "村不能为空".to_string()),
            None => (
                "village_unknown",
                format!("{}没有名为“{village_text}”的村", ctx.township.name),
            ),
        };
        problems.push(problem(Field::Village, columns, code, message));
    }
    let variety_text = get(Field::Variety);
    let variety = ctx.scheme.def.variety(variety_text);
    if variety.is_none() && !flagged(Field::Variety) {
        let names: Vec<&str> = ctx
            .scheme
            .def
            .varieties
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        problems.push(problem(
            Field::Variety,
            columns,
            "variety_unknown",
            format!("未知品种“{variety_text}”（可选：{}）", names.join("、")),
        ));
    }
    let tree_age = count_field(cells, Field::TreeAge, "树龄", columns, &mut problems);
    let tree_count = count_field(cells, Field::TreeCount, "株数", columns, &mut problems);
    let fruit = count_field(
        cells,
        Field::FruitPerTree,
        "单株挂果数",
        columns,
        &mut problems,
    );
    let area = match Mu::parse(get(Field::AreaMu)) {
        Ok(a) => Some(a),
        Err(_) if flagged(Field::AreaMu) => None,
        Err(e) => {
            problems.push(problem(
                Field::AreaMu,
                columns,
                e.code().as_str(),
                e.to_string(),
            ));
            None
        }
    };
    if let Some(id) = &id {
        if let Some(existing) = ctx.growers.get(id.as_str()) {
            if existing.township_id != ctx.township.id {
                let t = ctx
                    .township_names
                    .get(&existing.township_id)
                    .cloned()
                    .unwrap_or_default();
                problems.push(problem(
                    Field::IdNumber,
                    columns,
                    "id_in_other_township",
                    format!("身份证号{}本年度已在{t}登记，不能重复投保", id.masked()),
                ));
            }
        }
    }
    let (Some(id), Some(village), Some(variety), Some(area)) = (id, village, variety, area) else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let code = match get(Field::PlotCode) {
        "" => derived_plot_code(&village.code, id.as_str(), plot_no),
        c => c.to_string(),
    };
    if let Some(existing) = ctx.plots.get(&code) {
        if ctx.growers.get(id.as_str()).map(|g| g.id) != Some(existing.grower_id) {
            return Err(vec![problem(
                Field::PlotCode,
                columns,
                "plot_code_taken",
                format!("地块编号{code}已属于其他农户"),
            )]);
        }
    }
    let verdict = ctx.scheme.def.evaluate(
        variety,
        &super::plots::facts_of(tree_age, tree_count, fruit, area, &BTreeMap::new()),
    );
    let grower = GrowerValues {
        year: ctx.scheme.def.year,
        id_number: id.as_str().to_string(),
        name: name.to_string(),
        phone,
        bank_name: get(Field::BankName).to_string(),
        bank_account: account,
        village_id: village.id,
        township_id: ctx.township.id,
    };
    let existing_plot = ctx.plots.get(&code);
    let plot = PlotValues {
        code,
        grower_id: 0,
        scheme_id: ctx.scheme.id,
        village_id: village.id,
        township_id: ctx.township.id,
        variety: variety.code.clone(),
        tree_age,
        tree_count,
        fruit_per_tree: fruit,
        area_units: area.units(),
        attributes: existing_plot
            .map(|p| p.attributes.clone())
            .unwrap_or_else(|| "{}".into()),
        boundary: existing_plot.and_then(|p| p.boundary.clone()),
        boundary_area_units: existing_plot.and_then(|p| p.boundary_area_units),
        eligible: verdict.eligible,
        reasons: serde_json::to_string(&verdict.reasons).unwrap_or_else(|_| "[]".into()),
    };
    Ok((grower, plot, verdict.reasons))
}

fn grower_changed(old: &Grower, new: &GrowerValues) -> bool {
    old.name != new.name
        || old.phone != new.phone
        || old.bank_name != new.bank_name
        || old.bank_account != new.bank_account
        || old.village_id != new.village_id
}

fn plot_changed(old: &Plot, new: &PlotValues) -> bool {
    old.variety != new.variety
        || old.tree_age != new.tree_age
        || old.tree_count != new.tree_count
        || old.fruit_per_tree != new.fruit_per_tree
        || old.area_units != new.area_units
        || old.village_id != new.village_id
        || old.eligible != new.eligible
}

fn analyse(ctx: &Context, roster: &Roster) -> (Vec<RowResult>, Vec<Planned>, Counts) {
    let columns: HashMap<Field, String> = roster.columns.iter().cloned().collect();
    let mut results = Vec::with_capacity(roster.rows.len());
    let mut planned: Vec<Planned> = Vec::with_capacity(roster.rows.len());
    let mut counts = Counts {
        rows: roster.rows.len(),
        ..Counts::default()
    };
    // Per ID: its first accepted row (and where that row is in `planned`),
    // and how many plots seen.
    let mut first_grower: HashMap<String, (usize, usize)> = HashMap::new();
    let mut plots_per_id: HashMap<std::borrow::Cow<str>, usize> = HashMap::new();
    let mut codes_seen: HashMap<String, usize> = HashMap::new();
    for raw in &roster.rows {
        let id_key: std::borrow::Cow<str> = match raw.cells.get(&Field::IdNumber) {
            // Already upper case (an ASCII ID without a small x): borrow it.
            Some(s) if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) => {
                s.as_str().into()
            }
            Some(s) => s.to_uppercase().into(),
            None => "".into(),
        };
        let n = {
            let e = plots_per_id.entry(id_key).or_insert(0);
            *e += 1;
            *e
        };
        let mut outcome = plan_row(ctx, raw, &columns, n);
        if let Ok((g, p, _)) = &outcome {
            if let Some(first_row) = codes_seen.get(&p.code) {
                outcome = Err(vec![problem(
                    Field::PlotCode,
                    &columns,
                    "duplicate_in_file",
                    format!("与第{first_row}行的地块编号{}重复", p.code),
                )]);
            } else if let Some((first_row, fg)) = first_grower
                .get(&g.id_number)
                .and_then(|(row, i)| planned.get(*i).map(|f| (row, &f.grower)))
            {
                if fg.name != g.name {
                    outcome = Err(vec![problem(
                        Field::GrowerName,
                        &columns,
                        "id_name_conflict",
                        format!(
                            "同一身份证号在第{first_row}行的姓名为“{}”，与本行“{}”不一致",
                            fg.name, g.name
                        ),
                    )]);
                }
            }
        }
        match outcome {
            Err(problems) => {
                counts.rejected += 1;
                results.push(RowResult {
                    row: raw.row,
                    outcome: Outcome::Rejected,
                    grower_name: raw
                        .cells
                        .get(&Field::GrowerName)
                        .cloned()
                        .unwrap_or_default(),
                    id_number: raw
                        .cells
                        .get(&Field::IdNumber)
                        .map(|s| mask_id(s))
                        .unwrap_or_default(),
                    plot_code: raw.cells.get(&Field::PlotCode).cloned().unwrap_or_default(),
                    eligible: None,
                    reasons: vec![],
                    problems,
                });
            }
            Ok((mut g, p, reasons)) => {
                codes_seen.insert(p.code.clone(), raw.row);
                // Later rows of the same grower use the first row's grower fields.
                let first = match first_grower
                    .get(&g.id_number)
                    .and_then(|(_, i)| planned.get(*i))
                {
                    Some(f) => {
                        g = f.grower.clone();
                        false
                    }
                    None => {
                        first_grower.insert(g.id_number.clone(), (raw.row, planned.len()));
                        true
                    }
                };
                let grower_outcome = match ctx.growers.get(&g.id_number) {
                    None => Outcome::New,
                    Some(old) if grower_changed(old, &g) => Outcome::Changed,
                    Some(_) => Outcome::Unchanged,
                };
                if first {
                    match grower_outcome {
                        Outcome::New => counts.new_growers += 1,
                        Outcome::Changed => counts.changed_growers += 1,
                        _ => {}
                    }
                }
                let plot_outcome = match ctx.plots.get(&p.code) {
                    None => Outcome::New,
                    Some(old) if plot_changed(old, &p) => Outcome::Changed,
                    Some(_) => Outcome::Unchanged,
                };
                let outcome = match (plot_outcome, grower_outcome) {
                    (Outcome::New, _) => Outcome::New,
                    (Outcome::Changed, _) | (_, Outcome::Changed) | (_, Outcome::New) => {
                        Outcome::Changed
                    }
                    _ => Outcome::Unchanged,
                };
                match outcome {
                    Outcome::New => counts.new += 1,
                    Outcome::Changed => counts.changed += 1,
                    _ => counts.unchanged += 1,
                }
                if !p.eligible {
                    counts.ineligible += 1;
                }
                results.push(RowResult {
                    row: raw.row,
                    outcome,
                    grower_name: g.name.clone(),
                    id_number: mask_id(&g.id_number),
                    plot_code: p.code.clone(),
                    eligible: Some(p.eligible),
                    reasons,
                    problems: vec![],
                });
                planned.push(Planned {
                    grower: g,
                    plot: p,
                    grower_outcome,
                    plot_outcome,
                });
            }
        }
    }
    (results, planned, counts)
}

/// What the plan found (or wrote) under `key`. A miss means the plan and the
/// database disagree — a bug, not bad input — so it rolls the import back.
fn planned_entry<'a, V>(map: &'a HashMap<String, V>, key: &str, what: &str) -> AppResult<&'a V> {
    map.get(key)
        .ok_or_else(|| AppError::Internal(format!("导入计划与数据库不一致：找不到{what}")))
}

/// Write the accepted rows. Changed growers and plots get an audit row each
/// with before and after; everything created is recorded in one audit entry
/// for the import (who, when, which file, the ids created).
fn write(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &Context,
    mut planned: Vec<Planned>,
    source: (&ImportRequest, &Counts),
    phases: &mut Phases,
) -> AppResult<()> {
    let now = now_text();
    let mut touched: HashSet<i64> = HashSet::new();

    // Growers: new ones in bulk, changed ones one by one (rare on re-upload).
    let mut pending_audit: Vec<audit::Pending> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut new_growers: Vec<&GrowerValues> = Vec::new();
    for p in &planned {
        if !seen.insert(p.grower.id_number.as_str()) {
            continue;
        }
        match p.grower_outcome {
            Outcome::New => new_growers.push(&p.grower),
            Outcome::Changed => {
                let old = planned_entry(&ctx.growers, &p.grower.id_number, "农户")?;
                diesel::update(growers::table.find(old.id))
                    .set((
                        &p.grower,
                        growers::version.eq(old.version + 1),
                        growers::updated_at.eq(&now),
                    ))
                    .execute(conn)?;
                pending_audit.push(audit::Pending {
                    action: "import",
                    entity: "grower",
                    entity_id: old.id,
                    before: audit::json(old),
                    after: audit::json(&p.grower),
                });
                touched.insert(old.id);
            }
            _ => {}
        }
    }
    drop(seen);
    // New ids by primary-key range: a lookup by value list makes PostgreSQL
    // scan a table whose statistics predate this import.
    let mut new_grower_ids: HashMap<String, i64> = HashMap::new();
    let mut created_growers: Vec<i64> = Vec::new();
    if !new_growers.is_empty() {
        let before: Option<i64> = growers::table
            .select(diesel::dsl::max(growers::id))
            .first(conn)?;
        let rows: Vec<_> = new_growers
            .iter()
            .map(|g| {
                (
                    growers::year.eq(g.year),
                    growers::id_number.eq(&g.id_number),
                    growers::name.eq(&g.name),
                    growers::phone.eq(&g.phone),
                    growers::bank_name.eq(&g.bank_name),
                    growers::bank_account.eq(&g.bank_account),
                    growers::village_id.eq(g.village_id),
                    growers::township_id.eq(g.township_id),
                    growers::version.eq(1),
                    growers::created_at.eq(&now),
                    growers::updated_at.eq(&now),
                )
            })
            .collect();
        crate::bulk_copy!(conn, growers::table, rows, 11)?;
        new_grower_ids = growers::table
            .filter(growers::id.gt(before.unwrap_or(0)))
            .filter(growers::year.eq(ctx.scheme.def.year))
            .select((growers::id_number, growers::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for g in &new_growers {
            let id = *planned_entry(&new_grower_ids, &g.id_number, "新农户")?;
            touched.insert(id);
            created_growers.push(id);
        }
    }
    drop(new_growers);
    phases.lap("growers");
    audit::record_many(conn, actor, std::mem::take(&mut pending_audit))?;
    phases.lap("audit (changed rows)");

    // Plots: the same pattern. A new grower's plots are all in this file, so
    // their eligible area (the policy's insured area) is known here.
    let mut new_units: HashMap<i64, i64> = HashMap::new();
    for p in planned.iter_mut() {
        let grower_id = match new_grower_ids.get(&p.grower.id_number) {
            Some(id) => {
                let units = new_units.entry(*id).or_insert(0);
                if p.plot.eligible {
                    *units += p.plot.area_units;
                }
                *id
            }
            None => planned_entry(&ctx.growers, &p.grower.id_number, "农户")?.id,
        };
        p.plot.grower_id = grower_id;
        if p.plot_outcome == Outcome::Changed {
            let plot = &p.plot;
            let old = planned_entry(&ctx.plots, &plot.code, "地块")?;
            diesel::update(plots::table.find(old.id))
                .set((
                    plot,
                    plots::version.eq(old.version + 1),
                    plots::updated_at.eq(&now),
                ))
                .execute(conn)?;
            pending_audit.push(audit::Pending {
                action: "import",
                entity: "plot",
                entity_id: old.id,
                before: audit::json(old),
                after: audit::json(plot),
            });
            touched.insert(grower_id);
        }
    }
    drop(new_grower_ids);
    let new_plots: Vec<&PlotValues> = planned
        .iter()
        .filter(|p| p.plot_outcome == Outcome::New)
        .map(|p| &p.plot)
        .collect();
    let mut created_plots: Vec<i64> = Vec::new();
    if !new_plots.is_empty() {
        let before: Option<i64> = plots::table
            .select(diesel::dsl::max(plots::id))
            .first(conn)?;
        let rows: Vec<_> = new_plots
            .iter()
            .map(|p| {
                (
                    plots::code.eq(&p.code),
                    plots::grower_id.eq(p.grower_id),
                    plots::scheme_id.eq(p.scheme_id),
                    plots::village_id.eq(p.village_id),
                    plots::township_id.eq(p.township_id),
                    plots::variety.eq(&p.variety),
                    plots::tree_age.eq(p.tree_age),
                    plots::tree_count.eq(p.tree_count),
                    plots::fruit_per_tree.eq(p.fruit_per_tree),
                    plots::area_units.eq(p.area_units),
                    plots::attributes.eq(&p.attributes),
                    plots::boundary.eq(p.boundary.as_deref()),
                    plots::boundary_area_units.eq(p.boundary_area_units),
                    plots::eligible.eq(p.eligible),
                    plots::reasons.eq(&p.reasons),
                    plots::version.eq(1),
                    plots::created_at.eq(&now),
                    plots::updated_at.eq(&now),
                )
            })
            .collect();
        crate::bulk_copy!(conn, plots::table, rows, 18)?;
        let ids: HashMap<String, i64> = plots::table
            .filter(plots::id.gt(before.unwrap_or(0)))
            .filter(plots::scheme_id.eq(ctx.scheme.id))
            .select((plots::code, plots::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for p in &new_plots {
            touched.insert(p.grower_id);
            created_plots.push(*planned_entry(&ids, &p.code, "新地块")?);
        }
    }
    drop(new_plots);
    drop(planned);
    phases.lap("plots");
    audit::record_many(conn, actor, pending_audit)?;
    phases.lap("audit (changed rows)");
    let mut touched: Vec<i64> = touched.into_iter().collect();
    touched.sort_unstable();
    let created_policies =
        super::policies::sync_many(conn, actor, &touched, &new_units, ctx.scheme.id, phases)?;
    if created_growers.is_empty() && created_plots.is_empty() && created_policies.is_empty() {
        return Ok(());
    }
    let (req, counts) = source;
    let entry = serde_json::json!({
        "file": req.filename,
        "sha256": hex::encode(Sha256::digest(req.bytes)),
        "township": ctx.township.code,
        "scheme": ctx.scheme.def.code,
        "counts": counts,
        "created": {
            "grower": audit::id_runs(created_growers),
            "plot": audit::id_runs(created_plots),
            "policy": audit::id_runs(created_policies),
        },
    });
    audit::record_import(conn, actor, &entry)?;
    phases.lap("audit (import entry)");
    Ok(())
}

pub struct ImportRequest<'a> {
    pub township_code: &'a str,
    pub scheme: &'a str,
    pub filename: &'a str,
    pub bytes: &'a [u8],
    pub options: ReadOptions,
}

fn read(bytes: &[u8], options: &ReadOptions) -> AppResult<Roster> {
    let mut roster = read_roster(bytes, options)
        .map_err(|e| AppError::invalid("file", e.code(), e.to_string()))?;
    // The template's example row (张三) is not a grower.
    let example = crate::excel::write::EXAMPLE_ID_NUMBER;
    let (examples, rows): (Vec<RawRow>, Vec<RawRow>) = roster
        .rows
        .into_iter()
        .partition(|r| r.cells.get(&Field::IdNumber).map(String::as_str) == Some(example));
    roster.rows = rows;
    roster
        .skipped_rows
        .extend(examples.iter().map(|r| (r.row, "example")));
    roster.skipped_rows.sort_unstable();
    Ok(roster)
}

fn report(
    ctx: &Context,
    roster: &Roster,
    results: Vec<RowResult>,
    counts: Counts,
    upload_id: Option<i64>,
    committed: bool,
) -> ImportReport {
    // The error report shows rejected rows only: keep just their cells.
    let rejected: HashSet<usize> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Rejected)
        .map(|r| r.row)
        .collect();
    ImportReport {
        upload_id,
        committed,
        township: ctx.township.name.clone(),
        scheme: ctx.scheme.def.code.clone(),
        sheet: roster.sheet.clone(),
        sheets: roster.sheets.clone(),
        header_row: roster.header_row,
        counts,
        skipped_rows: roster
            .skipped_rows
            .iter()
            .map(|(r, w)| (*r, w.to_string()))
            .collect(),
        rows: results,
        headers: roster.headers.clone(),
        originals: roster
            .rows
            .iter()
            .filter(|r| rejected.contains(&r.row))
            .map(|r| (r.row, r.original.clone()))
            .collect(),
        columns: roster.columns.clone(),
        phases: Vec::new(),
    }
}

/// Read and check a roster without writing anything (the preview / dry run).
pub fn preview(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    checked(conn, actor, req).map(|(rep, _)| rep)
}

/// The preview, and the township and scheme ids it was checked against.
fn checked(
    conn: &mut DbConn,
    actor: &Actor,
    req: &ImportRequest,
) -> AppResult<(ImportReport, (i64, i64))> {
    actor.require(actor.can_edit_enrollment())?;
    let roster = read(req.bytes, &req.options)?;
    let ctx = load_context(conn, actor, req.township_code, req.scheme)?;
    let (results, _, counts) = analyse(&ctx, &roster);
    let rep = report(&ctx, &roster, results, counts, None, false);
    Ok((rep, (ctx.township.id, ctx.scheme.id)))
}

/// Keep an uploaded file for a later commit; returns the preview with its id.
pub fn stage(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    let (mut rep, (township_id, scheme_id)) = checked(conn, actor, req)?;
    let id: i64 = diesel::insert_into(roster_uploads::table)
        .values((
            roster_uploads::township_id.eq(township_id),
            roster_uploads::scheme_id.eq(scheme_id),
            roster_uploads::user_id.eq((actor.user_id > 0).then_some(actor.user_id)),
            roster_uploads::filename.eq(req.filename),
            roster_uploads::sha256.eq(hex::encode(Sha256::digest(req.bytes))),
            roster_uploads::content.eq(req.bytes),
            roster_uploads::status.eq("previewed"),
            roster_uploads::summary.eq(serde_json::to_string(&rep.counts).unwrap_or_default()),
            roster_uploads::created_at.eq(now_text()),
        ))
        .returning(roster_uploads::id)
        .get_result(conn)?;
    rep.upload_id = Some(id);
    Ok(rep)
}

/// Write every accepted row in one transaction; rejected rows are not written.
pub fn commit(conn: &mut DbConn, actor: &Actor, req: &ImportRequest) -> AppResult<ImportReport> {
    actor.require(actor.can_edit_enrollment())?;
    let mut phases = Phases::default();
    let mut roster = Some(read(req.bytes, &req.options)?);
    phases.lap("read");
    let sqlite = crate::db::backend(conn) == crate::db::Backend::Sqlite;
    if sqlite {
        // A large import touches far more pages than SQLite's default 2 MB
        // page cache holds; it would spill them to the WAL mid-transaction.
        conn.batch_execute(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
    }
    let result = super::tx(conn, |conn| {
        let ctx = load_context(conn, actor, req.township_code, req.scheme)?;
        phases.lap("load existing");
        let roster = roster
            .take()
            .ok_or_else(|| AppError::Internal("花名册已被读取过一次".into()))?;
        let (results, planned, counts) = analyse(&ctx, &roster);
        phases.lap("validate + eligibility");
        // The report is complete before anything is written; the roster's
        // rows are not needed any more.
        let rep = report(&ctx, &roster, results, counts, None, true);
        drop(roster);
        phases.lap("report");
        write(conn, actor, &ctx, planned, (req, &rep.counts), &mut phases)?;
        Ok(rep)
    });
    phases.lap("commit");
    if sqlite {
        conn.batch_execute(&format!("PRAGMA cache_size = -{DEFAULT_CACHE_KIB}"))?;
    }
    let mut rep = result?;
    rep.phases = phases.laps;
    Ok(rep)
}

/// SQLite page cache while importing, and SQLite's default, in KiB.
const IMPORT_CACHE_KIB: u32 = 64 * 1024;
const DEFAULT_CACHE_KIB: u32 = 2_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roster_uploads)]
pub struct Upload {
    pub id: i64,
    pub township_id: i64,
    pub scheme_id: i64,
    pub user_id: Option<i64>,
    pub filename: String,
    pub sha256: String,
    pub content: Vec<u8>,
    pub status: String,
    pub summary: String,
    pub created_at: String,
    pub committed_at: Option<String>,
}

pub fn upload(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Upload> {
    let u: Upload = roster_uploads::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("上传的花名册"))?;
    if !actor.sees_township(u.township_id) {
        return Err(AppError::not_found("上传的花名册"));
    }
    Ok(u)
}

/// Commit a staged upload (the file the clerk previewed).
/// Commit a staged upload, reading it again within the county's `options`
/// (the limits it was staged under).
pub fn commit_upload(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    options: ReadOptions,
) -> AppResult<ImportReport> {
    let u = upload(conn, actor, id)?;
    if u.status == "committed" {
        return Err(AppError::conflict(
            ErrorCode::UploadAlreadyCommitted,
            "该花名册已经导入，无需重复导入",
        ));
    }
    let township = super::areas::area_by_id(conn, u.township_id)?;
    let scheme = super::schemes::by_id(conn, u.scheme_id)?;
    let req = ImportRequest {
        township_code: &township.code,
        scheme: &scheme.def.code,
        filename: &u.filename,
        bytes: &u.content,
        options,
    };
    super::tx(conn, |conn| {
        let mut rep = commit(conn, actor, &req)?;
        diesel::update(roster_uploads::table.find(id))
            .set((
                roster_uploads::status.eq("committed"),
                roster_uploads::committed_at.eq(Some(now_text())),
                roster_uploads::summary.eq(serde_json::to_string(&rep.counts).unwrap_or_default()),
            ))
            .execute(conn)?;
        rep.upload_id = Some(id);
        Ok(rep)
    })
}

/// The rejected rows of a report, for the error report workbook.
pub fn error_rows(rep: &ImportReport) -> Vec<crate::excel::write::ErrorRow> {
    let letters: Vec<String> = (0..rep.headers.len())
        .map(crate::excel::read::column_letter)
        .collect();
    rep.rows
        .iter()
        .filter(|r| r.outcome == Outcome::Rejected)
        .map(|r| crate::excel::write::ErrorRow {
            row: r.row,
            cells: rep.originals.get(&r.row).cloned().unwrap_or_default(),
            bad_columns: r
                .problems
                .iter()
                .filter_map(|p| letters.iter().position(|l| *l == p.column))
                .collect(),
            reasons: r
                .problems
                .iter()
                .map(|p| {
                    if p.column.is_empty() {
                        p.message.clone()
                    } else {
                        format!("{}列（{}）：{}", p.column, p.field, p.message)
                    }
                })
                .collect(),
        })
        .collect()
}
