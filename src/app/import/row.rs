//! One roster row validated into the grower and plot it would write, or the
//! problems that reject it.

use crate::error::ErrorCode;
use std::collections::{BTreeMap, HashMap};

use super::codes::CodeLess;
use super::context::Context;
use super::elsewhere::Elsewhere;
use super::RowProblem;
use crate::db::models::{GrowerValues, PlotValues};
use crate::domain::{IdNumber, Mu, Reason};
use crate::excel::read::{CellProblem, Field, RawRow};

pub(super) fn problem(
    field: Field,
    columns: &HashMap<Field, String>,
    code: crate::error::ErrorCode,
    message: String,
) -> RowProblem {
    RowProblem {
        column: columns.get(&field).cloned().unwrap_or_default(),
        field: field.label().to_string(),
        code: code.as_str().to_string(),
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
            ErrorCode::ValueRequired,
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
                ErrorCode::NotAWholeNumber,
                format!("{label}应为非负整数：{}", crate::domain::number::shown(t)),
            ));
            0
        }
    }
}

/// Validate one row into what it would write, or the reasons it can't be.
pub(super) fn plan_row(
    (ctx, elsewhere): (&Context, &Elsewhere),
    raw: &RawRow,
    columns: &HashMap<Field, String>,
    plot_no: usize,
    code_less: (&mut CodeLess, &HashMap<String, usize>),
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
            ErrorCode::NameRequired,
            "姓名不能为空".into(),
        ));
    }
    let id = if flagged(Field::IdNumber) {
        None
    } else {
        match IdNumber::parse(get(Field::IdNumber)) {
            Ok(id) => Some(id),
            Err(e) => {
                problems.push(problem(Field::IdNumber, columns, e.code(), e.to_string()));
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
            ErrorCode::PhoneInvalid,
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
            ErrorCode::BankAccountInvalid,
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
                ErrorCode::VillageNotInTownship,
                format!("{village_text}属于{t}，不在{}", ctx.township.name),
            ),
            None if village_text.is_empty() => {
                (ErrorCode::VillageRequired, "村不能为空".to_string())
            }
            None => (
                ErrorCode::VillageUnknown,
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
            ErrorCode::VarietyUnknown,
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
            problems.push(problem(Field::AreaMu, columns, e.code(), e.to_string()));
            None
        }
    };
    if let Some(id) = &id {
        if let Some(existing) = elsewhere.grower(ctx, id.as_str()) {
            if existing.township_id != ctx.township.id {
                let t = ctx
                    .township_names
                    .get(&existing.township_id)
                    .cloned()
                    .unwrap_or_else(|| "其他乡镇".into());
                problems.push(problem(
                    Field::IdNumber,
                    columns,
                    ErrorCode::IdInOtherTownship,
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
        "" => {
            let (codes, in_file) = code_less;
            codes.code((ctx, elsewhere), village, id.as_str(), plot_no, |c| {
                in_file.contains_key(c)
            })
        }
        c => c.to_string(),
    };
    if let Some(existing) = elsewhere.plot(ctx, &code) {
        if elsewhere.grower(ctx, id.as_str()).map(|g| g.id) != Some(existing.grower_id) {
            return Err(vec![problem(
                Field::PlotCode,
                columns,
                ErrorCode::PlotCodeTaken,
                format!("地块编号{code}已属于其他农户"),
            )]);
        }
    }
    let verdict = ctx.scheme.def.evaluate(
        variety,
        &crate::app::plots::facts_of(tree_age, tree_count, fruit, area, &BTreeMap::new()),
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
    let existing_plot = elsewhere.plot(ctx, &code);
    let mut plot = PlotValues {
        code,
        grower_id: 0,
        scheme_id: ctx.scheme.id,
        village_id: village.id,
        township_id: ctx.township.id,
        variety: variety.code.clone(),
        tree_age,
        tree_count,
        fruit_per_tree: fruit,
        area_units: area,
        attributes: existing_plot
            .map(|p| p.attributes.clone())
            .unwrap_or_else(|| "{}".into()),
        boundary: existing_plot.and_then(|p| p.boundary.clone()),
        boundary_area_units: existing_plot.and_then(|p| p.boundary_area_units),
        eligible: verdict.eligible,
        reasons: serde_json::to_string(&verdict.reasons).unwrap_or_else(|_| "[]".into()),
    };
    let mut reasons = verdict.reasons;
    if let Some(refused) = existing_plot.and_then(crate::app::inspection::refusal_on) {
        crate::app::inspection::carry_refusal(&refused, &mut plot);
        reasons.push(refused);
    }
    Ok((grower, plot, reasons))
}
