//! Orchard plots (地块): facts, boundary, and the eligibility verdict stored with them.

use super::listing::{order_by, Sort, SortKey};
use super::schemes::Scheme;
use super::{audit, Actor, Page, Paged};
use crate::db::enrollment as rows;
use crate::db::models::{Area, Grower, Plot, PlotValues};
use crate::db::schema::{growers, plots, policies};
use crate::db::{now_text, DbConn};
use crate::domain::eligibility::Facts;
use crate::domain::measure::normalize_width;
use crate::domain::number;
use crate::domain::text::{self, TextKind};
use crate::domain::{Mu, Reason, Verdict};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Accept `5`, `"5"` or `"５"`: forms send text, API clients numbers.
fn stringish<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PlotInput {
    #[serde(default)]
    pub grower_id: i64,
    /// Scheme code; the current scheme when empty.
    #[serde(default)]
    pub scheme: String,
    /// The plot's identity within the scheme; generated when empty.
    #[serde(default)]
    pub code: String,
    /// Defaults to the grower's village.
    #[serde(default)]
    pub village_code: String,
    #[serde(default)]
    pub variety: String,
    #[serde(default, deserialize_with = "stringish")]
    pub tree_age: String,
    #[serde(default, deserialize_with = "stringish")]
    pub tree_count: String,
    #[serde(default, deserialize_with = "stringish")]
    pub fruit_per_tree: String,
    #[serde(default, deserialize_with = "stringish")]
    pub area_mu: String,
    /// Further numeric attributes a scheme's rules may use (slope_degrees ...).
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// GeoJSON polygon text, optional.
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub version: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlotView {
    pub id: i64,
    pub code: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub grower_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub variety: String,
    pub variety_name: String,
    pub tree_age: i32,
    pub tree_count: i32,
    pub fruit_per_tree: i32,
    pub area_mu: Mu,
    pub attributes: BTreeMap<String, String>,
    pub boundary: Option<serde_json::Value>,
    pub boundary_area_mu: Option<Mu>,
    /// |polygon − declared| / declared, percent.
    pub area_difference_percent: Option<Decimal>,
    /// The difference is beyond the scheme's tolerance.
    pub area_mismatch: bool,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    pub version: i32,
}

pub fn view(p: &Plot, scheme: &Scheme, village: Option<&Area>) -> PlotView {
    let variety_name = scheme
        .def
        .variety(&p.variety)
        .map(|v| v.name.clone())
        .unwrap_or_else(|| p.variety.clone());
    let area = p.area_units;
    let measured = p.boundary_area_units;
    let diff = measured.map(|m| crate::geo::area_difference_percent(area, m));
    PlotView {
        id: p.id,
        code: p.code.clone(),
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        grower_id: p.grower_id,
        village_code: village.map(|v| v.code.clone()).unwrap_or_default(),
        village_name: village.map(|v| v.name.clone()).unwrap_or_default(),
        variety: p.variety.clone(),
        variety_name,
        tree_age: p.tree_age,
        tree_count: p.tree_count,
        fruit_per_tree: p.fruit_per_tree,
        area_mu: area,
        attributes: serde_json::from_str(&p.attributes).unwrap_or_default(),
        boundary: p
            .boundary
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok()),
        boundary_area_mu: measured,
        area_difference_percent: diff,
        area_mismatch: diff.is_some_and(|d| d > scheme.def.area_tolerance_percent),
        eligible: p.eligible,
        reasons: serde_json::from_str(&p.reasons).unwrap_or_default(),
        version: p.version,
    }
}

/// The codes a count field answers with when it is empty and when it is not
/// a count.
struct CountCodes {
    required: ErrorCode,
    invalid: ErrorCode,
}

fn parse_count(
    field: &str,
    label: &str,
    codes: CountCodes,
    raw: &str,
    errors: &mut Vec<FieldError>,
) -> i32 {
    let t = normalize_width(raw);
    if t.is_empty() {
        errors.push(FieldError::new(
            field,
            codes.required,
            format!("请填写{label}"),
        ));
        return 0;
    }
    match t.parse::<i32>() {
        Ok(n) if (0..=1_000_000).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(
                field,
                codes.invalid,
                format!("{label}应为非负整数：{t}"),
            ));
            0
        }
    }
}

/// The facts the eligibility rules may look at.
pub fn facts_of(
    tree_age: i32,
    tree_count: i32,
    fruit: i32,
    area: Mu,
    attributes: &BTreeMap<String, String>,
) -> Facts {
    let mut f = Facts::new();
    f.insert("tree_age".into(), Decimal::from(tree_age));
    f.insert("tree_count".into(), Decimal::from(tree_count));
    f.insert("fruit_per_tree".into(), Decimal::from(fruit));
    f.insert("area_mu".into(), area.to_decimal());
    for (k, v) in attributes {
        if let Ok(d) = number::parse_decimal(v, &number::FACT) {
            f.insert(k.clone(), d);
        }
    }
    f
}

/// More named attributes than any scheme's rules look at.
const MAX_ATTRIBUTES: usize = 50;

struct Validated {
    values: PlotValues,
    village: Area,
}

fn validate(
    conn: &mut DbConn,
    actor: &Actor,
    input: &PlotInput,
    scheme: &Scheme,
    grower: &crate::db::models::Grower,
    keep_code: Option<&str>,
) -> AppResult<Validated> {
    let mut errors = Vec::new();
    let variety = scheme.def.variety(&input.variety);
    if variety.is_none() {
        let names: Vec<String> = scheme
            .def
            .varieties
            .iter()
            .map(|v| format!("{}({})", v.name, v.code))
            .collect();
        errors.push(FieldError::new(
            "variety",
            ErrorCode::VarietyUnknown,
            format!(
                "未知品种：{}（可选：{}）",
                number::shown(&input.variety),
                names.join("、")
            ),
        ));
    }
    let tree_age = parse_count(
        "tree_age",
        "树龄",
        CountCodes {
            required: ErrorCode::TreeAgeRequired,
            invalid: ErrorCode::TreeAgeInvalid,
        },
        &input.tree_age,
        &mut errors,
    );
    let tree_count = parse_count(
        "tree_count",
        "株数",
        CountCodes {
            required: ErrorCode::TreeCountRequired,
            invalid: ErrorCode::TreeCountInvalid,
        },
        &input.tree_count,
        &mut errors,
    );
    let fruit = parse_count(
        "fruit_per_tree",
        "单株挂果数",
        CountCodes {
            required: ErrorCode::FruitPerTreeRequired,
            invalid: ErrorCode::FruitPerTreeInvalid,
        },
        &input.fruit_per_tree,
        &mut errors,
    );
    let area = match Mu::parse(&input.area_mu) {
        Ok(a) => a,
        Err(e) => {
            errors.push(FieldError::new("area_mu", e.code(), e.to_string()));
            Mu::ZERO
        }
    };
    let mut attributes = BTreeMap::new();
    if input.attributes.len() > MAX_ATTRIBUTES {
        errors.push(FieldError::new(
            "attributes",
            ErrorCode::AttributesTooMany,
            format!(
                "地块属性最多{MAX_ATTRIBUTES}项，实际为{}项",
                input.attributes.len()
            ),
        ));
    }
    for (k, v) in input.attributes.iter().take(MAX_ATTRIBUTES) {
        let key = match text::check("属性名", k, TextKind::Code) {
            Ok(key) if !key.is_empty() => key,
            Ok(_) => {
                errors.push(FieldError::new(
                    "attributes",
                    ErrorCode::AttributeNameMissing,
                    "属性名不能为空",
                ));
                continue;
            }
            Err(p) => {
                errors.push(FieldError::new("attributes", p.code, p.message));
                continue;
            }
        };
        let text = match v {
            serde_json::Value::String(s) => normalize_width(s),
            other => other.to_string(),
        };
        match number::parse(&text, &number::FACT) {
            Ok(n) => {
                attributes.insert(key, n.to_string());
            }
            Err(e) => errors.push(FieldError::new(
                "attributes",
                ErrorCode::AttributeNotNumeric,
                format!("属性{key}应为非负数字：{e}"),
            )),
        }
    }
    let (boundary, boundary_area) = match input.boundary.as_deref().map(str::trim) {
        Some(b) if !b.is_empty() => match crate::geo::parse_polygon(b) {
            Ok(poly) => (
                Some(crate::geo::to_geojson(&poly)),
                Some(crate::geo::area_mu(&poly)),
            ),
            Err(e) => {
                errors.push(FieldError::new("boundary", e.code(), e.to_string()));
                (None, None)
            }
        },
        _ => (None, None),
    };
    let village_code = if input.village_code.trim().is_empty() {
        super::areas::area_by_id(conn, grower.village_id)?.code
    } else {
        input.village_code.clone()
    };
    let village = match super::growers::village_for(conn, actor, &village_code)? {
        Ok((v, t)) if t.id == grower.township_id => Some(v),
        Ok((v, _)) => {
            errors.push(FieldError::new(
                "village_code",
                ErrorCode::VillageNotInGrowerTownship,
                format!("{}不在该农户所在乡镇", v.name),
            ));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let code = match keep_code {
        Some(c) if input.code.trim().is_empty() => c.to_string(),
        _ => text::check("地块编号", &normalize_width(&input.code), TextKind::Code)
            .map_err(|p| errors.push(FieldError::new("code", p.code, p.message)))
            .unwrap_or_default(),
    };
    let (Some(variety), Some(village)) = (variety, village) else {
        return Err(AppError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let verdict: Verdict = scheme.def.evaluate(
        variety,
        &facts_of(tree_age, tree_count, fruit, area, &attributes),
    );
    Ok(Validated {
        values: PlotValues {
            code,
            grower_id: grower.id,
            scheme_id: scheme.id,
            village_id: village.id,
            township_id: grower.township_id,
            variety: variety.code.clone(),
            tree_age,
            tree_count,
            fruit_per_tree: fruit,
            area_units: area,
            attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into()),
            boundary,
            boundary_area_units: boundary_area,
            eligible: verdict.eligible,
            reasons: serde_json::to_string(&verdict.reasons).unwrap_or_else(|_| "[]".into()),
        },
        village,
    })
}

fn scheme_for(conn: &mut DbConn, code: &str) -> AppResult<Scheme> {
    if code.trim().is_empty() {
        super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))
    } else {
        super::schemes::by_code(conn, code)
    }
}

fn next_code(conn: &mut DbConn, scheme_id: i64, village: &Area) -> AppResult<String> {
    let taken: Vec<String> = plots::table
        .filter(plots::scheme_id.eq(scheme_id))
        .filter(plots::code.like(format!("{}-%", village.code)))
        .select(plots::code)
        .load(conn)?;
    Ok(VillageCodes::new(&village.code, taken).next(|_| false))
}

/// A village's readable plot codes, `<village code>-<sequence>` (at least 4
/// digits, e.g. `532999101204-0017`), handed out in order. The count of codes
/// the village already has is where the sequence starts; a code already taken
/// is skipped. The plot page and the roster import (rows without a code)
/// both number plots with it.
pub(crate) struct VillageCodes {
    village: String,
    next: usize,
    taken: std::collections::HashSet<String>,
}

impl VillageCodes {
    /// `taken`: the scheme's codes that start with `<village code>-`.
    pub(crate) fn new(village: &str, taken: impl IntoIterator<Item = String>) -> VillageCodes {
        let taken: std::collections::HashSet<String> = taken.into_iter().collect();
        VillageCodes {
            village: village.to_string(),
            next: taken.len() + 1,
            taken,
        }
    }

    /// The next free code, skipping the stored ones and any `also_taken`
    /// says is in use (codes of rows not yet written).
    pub(crate) fn next(&mut self, also_taken: impl Fn(&str) -> bool) -> String {
        loop {
            let c = format!("{}-{:04}", self.village, self.next);
            self.next += 1;
            if !also_taken(&c) && self.taken.insert(c.clone()) {
                return c;
            }
        }
    }

    /// The sequence number of `code` if it is a readable code of `village`.
    pub(crate) fn sequence(village: &str, code: &str) -> Option<u64> {
        let digits = code.strip_prefix(village)?.strip_prefix('-')?;
        if digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    }
}

fn refuse_duplicate_code(
    conn: &mut DbConn,
    scheme: &Scheme,
    code: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = plots::table
        .filter(plots::scheme_id.eq(scheme.id))
        .filter(plots::code.eq(code))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(plots::id.ne(id));
    }
    if q.count().get_result::<i64>(conn)? > 0 {
        return Err(AppError::conflict(
            ErrorCode::PlotCodeDuplicate,
            format!("地块编号{code}在方案{}中已存在", scheme.def.code),
        ));
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &PlotInput) -> AppResult<PlotView> {
    actor.require(actor.can_edit_enrollment())?;
    super::tx(conn, |conn| {
        let grower = super::scoped::<Grower>(conn, actor, input.grower_id)?;
        let scheme = scheme_for(conn, &input.scheme)?;
        if scheme.def.year != grower.year {
            return Err(AppError::invalid(
                "scheme",
                ErrorCode::SchemeYearMismatch,
                format!(
                    "农户登记年度为{}，与方案年度{}不符",
                    grower.year, scheme.def.year
                ),
            ));
        }
        let mut v = validate(conn, actor, input, &scheme, &grower, None)?;
        if v.values.code.is_empty() {
            v.values.code = next_code(conn, scheme.id, &v.village)?;
        }
        refuse_duplicate_code(conn, &scheme, &v.values.code, None)?;
        let id = rows::plots::insert(conn, &v.values, &now_text())?;
        let p = super::load::<Plot>(conn, id)?;
        audit::record(conn, actor, "create", "plot", id, None::<&()>, Some(&p))?;
        super::policies::sync(conn, actor, grower.id, scheme.id)?;
        Ok(view(&p, &scheme, Some(&v.village)))
    })
}

pub fn update(conn: &mut DbConn, actor: &Actor, id: i64, input: &PlotInput) -> AppResult<PlotView> {
    actor.require(actor.can_edit_enrollment())?;
    super::tx(conn, |conn| {
        let before = super::scoped::<Plot>(conn, actor, id)?;
        super::check_version(
            input.version,
            before.version,
            "该地块已被他人修改，请刷新后重新编辑",
        )?;
        let grower = super::load::<Grower>(conn, before.grower_id)?;
        let scheme = super::schemes::by_id(conn, before.scheme_id)?;
        let mut v = validate(conn, actor, input, &scheme, &grower, Some(&before.code))?;
        super::inspection::keep_refusal(conn, id, &mut v.values)?;
        refuse_duplicate_code(conn, &scheme, &v.values.code, Some(id))?;
        rows::plots::update(conn, id, &v.values, before.version, &now_text())?;
        let after = super::load::<Plot>(conn, id)?;
        audit::updated(conn, actor, "plot", id, &before, &after)?;
        super::policies::sync(conn, actor, grower.id, scheme.id)?;
        Ok(view(&after, &scheme, Some(&v.village)))
    })
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    actor.require(actor.can_edit_enrollment())?;
    super::tx(conn, |conn| {
        let before = super::scoped::<Plot>(conn, actor, id)?;
        super::inspection::refuse_delete_if_sampled(conn, &[id])?;
        if super::policies::locked_for(conn, before.grower_id, before.scheme_id)? && before.eligible
        {
            return Err(AppError::conflict(
                ErrorCode::PlotInPolicy,
                "该地块已纳入已收费或已签发的保单，不能删除",
            ));
        }
        diesel::delete(plots::table.find(id)).execute(conn)?;
        audit::deleted(conn, actor, "plot", id, &before)?;
        super::policies::sync(conn, actor, before.grower_id, before.scheme_id)?;
        Ok(())
    })
}

pub fn get_view(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<PlotView> {
    let p = super::scoped::<Plot>(conn, actor, id)?;
    let scheme = super::schemes::by_id(conn, p.scheme_id)?;
    let village = super::areas::area_by_id(conn, p.village_id)?;
    Ok(view(&p, &scheme, Some(&village)))
}

pub fn of_grower(conn: &mut DbConn, actor: &Actor, grower_id: i64) -> AppResult<Vec<PlotView>> {
    let g = super::scoped::<Grower>(conn, actor, grower_id)?;
    let rows: Vec<Plot> = plots::table
        .filter(plots::grower_id.eq(g.id))
        .order(plots::id)
        .select(Plot::as_select())
        .load(conn)?;
    let names = super::areas::names(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for p in &rows {
        let scheme = super::schemes::by_id(conn, p.scheme_id)?;
        out.push(view(p, &scheme, names.get(&p.village_id)));
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlotFilter {
    pub scheme: Option<String>,
    pub township_id: Option<i64>,
    pub village_id: Option<i64>,
    pub eligible: Option<bool>,
    /// Plot code, or the grower as the grower list's search finds them.
    pub q: Option<String>,
    /// A [`PlotSort`] code, and `asc` or `desc`.
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<i64>,
    #[serde(alias = "per_page")]
    pub page_size: Option<i64>,
}

/// What the plot list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotSort {
    Id,
    Code,
    Village,
    Area,
    TreeAge,
    Fruit,
    Eligible,
}

impl SortKey for PlotSort {
    const KEYS: &'static [(&'static str, &'static str, PlotSort)] = &[
        ("id", "登记顺序", PlotSort::Id),
        ("code", "地块编号", PlotSort::Code),
        ("village", "村", PlotSort::Village),
        ("area", "面积", PlotSort::Area),
        ("tree_age", "树龄", PlotSort::TreeAge),
        ("fruit", "单株挂果", PlotSort::Fruit),
        ("eligible", "投保条件", PlotSort::Eligible),
    ];
    const DEFAULT: PlotSort = PlotSort::Id;
}

type PlotSource = diesel::dsl::InnerJoinQuerySource<plots::table, growers::table>;
type PlotCond = Box<
    dyn BoxableExpression<
        PlotSource,
        <DbConn as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

pub fn list(conn: &mut DbConn, actor: &Actor, f: &PlotFilter) -> AppResult<Paged<PlotView>> {
    let scheme = scheme_for(conn, f.scheme.as_deref().unwrap_or(""))?;
    let page = Page::new(f.page, f.page_size)?;
    let sort = Sort::<PlotSort>::parse(f.sort.as_deref(), f.dir.as_deref())?;
    let search = super::listing::search_text(f.q.as_deref())?
        .and_then(|q| super::growers::Search::new(actor, q));
    let build = || {
        let mut q = plots::table
            .inner_join(growers::table)
            .filter(plots::scheme_id.eq(scheme.id))
            .into_boxed();
        if let Some(s) = &search {
            let by_policy = policies::table
                .filter(policies::policy_no.eq(s.text().to_string()))
                .select(policies::grower_id);
            let person: PlotCond = super::growers::person_cond!(s, PlotSource);
            q = q.filter(
                person
                    .or(plots::code.like(super::listing::contains(s.text())))
                    .or(plots::grower_id.eq_any(by_policy)),
            );
        }
        if let Some(t) = actor.township_scope() {
            q = q.filter(plots::township_id.eq(t));
        }
        if let Some(t) = f.township_id {
            q = q.filter(plots::township_id.eq(t));
        }
        if let Some(v) = f.village_id {
            q = q.filter(plots::village_id.eq(v));
        }
        if let Some(e) = f.eligible {
            q = q.filter(plots::eligible.eq(e));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let q = build();
    let id = plots::id;
    let q = match sort.key {
        PlotSort::Id => order_by!(q, sort.dir, id; plots::id),
        PlotSort::Code => order_by!(q, sort.dir, id; plots::code),
        PlotSort::Village => order_by!(q, sort.dir, id; plots::township_id, plots::village_id),
        PlotSort::Area => order_by!(q, sort.dir, id; plots::area_units),
        PlotSort::TreeAge => order_by!(q, sort.dir, id; plots::tree_age),
        PlotSort::Fruit => order_by!(q, sort.dir, id; plots::fruit_per_tree),
        PlotSort::Eligible => order_by!(q, sort.dir, id; plots::eligible),
    };
    let rows: Vec<Plot> = q
        .limit(page.size)
        .offset(page.offset())
        .select(Plot::as_select())
        .load(conn)?;
    if let Some(s) = &search {
        let ids: Vec<i64> = rows.iter().map(|p| p.grower_id).collect();
        let found: Vec<Grower> = growers::table
            .filter(growers::id.eq_any(ids))
            .select(Grower::as_select())
            .load(conn)?;
        s.audit(conn, actor, &found)?;
    }
    let names = super::areas::names(conn)?;
    let items = rows
        .iter()
        .map(|p| view(p, &scheme, names.get(&p.village_id)))
        .collect();
    Ok(Paged::new(items, total, page))
}

#[cfg(test)]
mod tests {
    use super::VillageCodes;

    #[test]
    fn village_codes_continue_the_sequence_and_skip_taken_ones() {
        let v = "532999101204";
        let taken = [
            "532999101204-0001",
            "532999101204-0003",
            "532999101204-ab12cd-01",
        ];
        let mut codes = VillageCodes::new(v, taken.iter().map(|c| c.to_string()));
        // Three codes stored: the sequence starts at 4, skipping what the
        // caller says is in use too.
        assert_eq!(codes.next(|_| false), "532999101204-0004");
        assert_eq!(
            codes.next(|c| c == "532999101204-0005"),
            "532999101204-0006"
        );
        assert_eq!(VillageCodes::sequence(v, "532999101204-0017"), Some(17));
        assert_eq!(
            VillageCodes::sequence(v, "532999101204-12345"),
            Some(12_345)
        );
        assert_eq!(VillageCodes::sequence(v, "532999101204-017"), None);
        assert_eq!(VillageCodes::sequence(v, "532999101204-ab12cd-01"), None);
        assert_eq!(VillageCodes::sequence(v, "532999101205-0017"), None);
    }
}
