//! Growers (农户): validated on the way in, scoped by area on the way out.

use super::listing::{order_by, Sort, SortKey};
use super::{audit, Actor, Page, Paged};
use crate::db::enrollment as rows;
use crate::db::models::{Area, Grower, GrowerValues, Plot, Policy};
use crate::db::schema::{areas, growers, plots, policies};
use crate::db::{now_text, DbConn};
use crate::domain::id_number::{mask_id, mask_phone};
use crate::domain::measure::normalize_width;
use crate::domain::policy::PolicyStatus;
use crate::domain::text::{self, TextKind};
use crate::domain::time::Instant;
use crate::domain::IdNumber;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// What a person types into the grower form or sends to the API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct GrowerInput {
    pub year: Option<i32>,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub bank_name: String,
    pub bank_account: String,
    pub village_code: String,
    /// For updates: the version the editor saw (optimistic locking).
    pub version: Option<i32>,
}

/// A grower as shown to one actor: personal data masked unless the role needs it.
#[derive(Debug, Clone, Serialize)]
pub struct GrowerView {
    pub id: i64,
    pub year: i32,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub bank_name: String,
    pub bank_account: String,
    pub village_code: String,
    pub village_name: String,
    pub township_code: String,
    pub township_name: String,
    pub version: i32,
    pub updated_at: Instant,
}

pub fn view(g: &Grower, village: &Area, township: &Area, full: bool) -> GrowerView {
    GrowerView {
        id: g.id,
        year: g.year,
        name: g.name.clone(),
        id_number: if full {
            g.id_number.clone()
        } else {
            mask_id(&g.id_number)
        },
        phone: if full {
            g.phone.clone()
        } else {
            mask_phone(&g.phone)
        },
        bank_name: g.bank_name.clone(),
        bank_account: if full {
            g.bank_account.clone()
        } else {
            mask_id(&g.bank_account)
        },
        village_code: village.code.clone(),
        village_name: village.name.clone(),
        township_code: township.code.clone(),
        township_name: township.name.clone(),
        version: g.version,
        updated_at: g.updated_at,
    }
}

/// A phone or account number as stored: half-width, no spaces or dashes.
pub(crate) fn digits_only(s: &str) -> String {
    normalize_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// An 11-digit mobile number, or a landline with its area code (as stored,
/// after [`digits_only`]).
pub(crate) fn phone_ok(phone: &str) -> bool {
    phone.chars().all(|c| c.is_ascii_digit())
        && ((phone.len() == 11 && phone.starts_with('1'))
            || ((7..=12).contains(&phone.len()) && phone.starts_with('0')))
}

/// Resolve a village code, checking the actor may enrol growers there.
pub fn village_for(
    conn: &mut DbConn,
    actor: &Actor,
    code: &str,
) -> AppResult<Result<(Area, Area), FieldError>> {
    // Checked before it reaches a query: PostgreSQL refuses NUL in text.
    let code = match text::check("村代码", code, TextKind::Code) {
        Ok(c) => c,
        Err(p) => return Ok(Err(FieldError::new("village_code", p.code, p.message))),
    };
    let code = code.as_str();
    if code.is_empty() {
        return Ok(Err(FieldError::new(
            "village_code",
            ErrorCode::VillageRequired,
            "请选择所在村",
        )));
    }
    let village = areas::table
        .filter(areas::code.eq(code))
        .filter(areas::level.eq(crate::domain::area::AreaLevel::Village))
        .select(Area::as_select())
        .first(conn)
        .optional()?;
    let Some(village) = village else {
        return Ok(Err(FieldError::new(
            "village_code",
            ErrorCode::VillageUnknown,
            format!("未找到村代码：{code}"),
        )));
    };
    let township = super::areas::area_by_id(conn, village.parent_id.unwrap_or(-1))?;
    if !actor.sees_township(township.id) {
        return Ok(Err(FieldError::new(
            "village_code",
            ErrorCode::VillageNotInTownship,
            format!("{}不属于您所在的乡镇，不能在此登记", village.name),
        )));
    }
    Ok(Ok((village, township)))
}

/// Validate every field and report every problem at once.
fn validate(
    conn: &mut DbConn,
    actor: &Actor,
    input: &GrowerInput,
    default_year: i32,
) -> AppResult<(GrowerValues, Area, Area)> {
    let mut errors = Vec::new();
    // The shared text rules first (domain::text), then each field's format.
    let mut text_rule = |field: &str, label: &str, raw: &str, kind: TextKind| {
        text::check(label, &normalize_width(raw), kind)
            .map_err(|p| errors.push(FieldError::new(field, p.code, p.message)))
    };
    let name = text_rule("name", "姓名", &input.name, TextKind::Name);
    let phone_text = text_rule("phone", "联系电话", &input.phone, TextKind::Phone);
    let bank_name = text_rule("bank_name", "开户行", &input.bank_name, TextKind::Place);
    let account_text = text_rule(
        "bank_account",
        "银行账号",
        &input.bank_account,
        TextKind::BankAccount,
    );
    let name = name.unwrap_or_default();
    if name.is_empty() && !errors.iter().any(|e| e.field == "name") {
        errors.push(FieldError::new(
            "name",
            ErrorCode::NameRequired,
            "请填写农户姓名",
        ));
    }
    let id = match IdNumber::parse(&input.id_number) {
        Ok(id) => Some(id),
        Err(e) => {
            errors.push(FieldError::new("id_number", e.code(), e.to_string()));
            None
        }
    };
    let phone = phone_text.as_deref().map(digits_only).unwrap_or_default();
    if phone_text.is_ok() && !phone_ok(&phone) {
        errors.push(FieldError::new(
            "phone",
            ErrorCode::PhoneInvalid,
            "联系电话应为11位手机号或带区号的固定电话",
        ));
    }
    let account = account_text.as_deref().map(digits_only).unwrap_or_default();
    if account_text.is_ok()
        && (!account.chars().all(|c| c.is_ascii_digit()) || !(10..=30).contains(&account.len()))
    {
        errors.push(FieldError::new(
            "bank_account",
            ErrorCode::BankAccountInvalid,
            "银行账号应为10至30位数字（赔款将打入此账户）",
        ));
    }
    let year = input.year.unwrap_or(default_year);
    if !(2000..=2100).contains(&year) {
        errors.push(FieldError::new(
            "year",
            ErrorCode::YearInvalid,
            format!("年度无效：{year}"),
        ));
    }
    let place = match village_for(conn, actor, &input.village_code)? {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (id, place) {
        (Some(id), Some((village, township))) if errors.is_empty() => Ok((
            GrowerValues {
                year,
                id_number: id.as_str().to_string(),
                name,
                phone,
                bank_name: bank_name.unwrap_or_default(),
                bank_account: account,
                village_id: village.id,
                township_id: township.id,
            },
            village,
            township,
        )),
        _ => Err(AppError::Validation(errors)),
    }
}

fn refuse_duplicate(
    conn: &mut DbConn,
    actor: &Actor,
    values: &GrowerValues,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = growers::table
        .filter(growers::year.eq(values.year))
        .filter(growers::id_number.eq(&values.id_number))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(growers::id.ne(id));
    }
    if let Some(other) = q.select(Grower::as_select()).first(conn).optional()? {
        // A station is told the other township's name only if it is its own.
        let place = if actor.sees_township(other.township_id) || !actor.role.is_township_bound() {
            super::areas::area_by_id(conn, other.township_id)?.name
        } else {
            "其他乡镇".to_string()
        };
        return Err(AppError::conflict(
            ErrorCode::IdNumberDuplicate,
            format!(
                "身份证号{}在{}年度已登记（{}），同一年度不能重复登记",
                mask_id(&values.id_number),
                values.year,
                place
            ),
        ));
    }
    Ok(())
}

fn default_year(conn: &mut DbConn) -> AppResult<i32> {
    Ok(super::schemes::current(conn)?
        .map(|s| s.def.year)
        .unwrap_or_else(|| chrono::Datelike::year(&chrono::Utc::now())))
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &GrowerInput) -> AppResult<GrowerView> {
    actor.require(actor.can_edit_enrollment())?;
    let year = default_year(conn)?;
    super::tx(conn, |conn| {
        let (values, village, township) = validate(conn, actor, input, year)?;
        refuse_duplicate(conn, actor, &values, None)?;
        let id = rows::growers::insert(conn, &values, &now_text())?;
        super::fault::point("grower_insert", &input.name);
        let g = super::load::<Grower>(conn, id)?;
        audit::record(conn, actor, "create", "grower", id, None::<&()>, Some(&g))?;
        Ok(view(&g, &village, &township, actor.sees_personal_data()))
    })
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: &GrowerInput,
) -> AppResult<GrowerView> {
    actor.require(actor.can_edit_enrollment())?;
    super::tx(conn, |conn| {
        let before = super::scoped::<Grower>(conn, actor, id)?;
        super::check_version(
            input.version,
            before.version,
            "该农户信息已被他人修改，请刷新后重新编辑",
        )?;
        let (values, village, township) = validate(conn, actor, input, before.year)?;
        refuse_duplicate(conn, actor, &values, Some(id))?;
        rows::growers::update(conn, id, &values, before.version, &now_text())?;
        // Plots follow their grower when the grower moves village.
        diesel::update(plots::table.filter(plots::grower_id.eq(id)))
            .set(plots::township_id.eq(values.township_id))
            .execute(conn)?;
        diesel::update(policies::table.filter(policies::grower_id.eq(id)))
            .set(policies::township_id.eq(values.township_id))
            .execute(conn)?;
        let after = super::load::<Grower>(conn, id)?;
        audit::updated(conn, actor, "grower", id, &before, &after)?;
        Ok(view(
            &after,
            &village,
            &township,
            actor.sees_personal_data(),
        ))
    })
}

/// Delete a grower with their plots; refused once a policy went beyond draft.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    actor.require(actor.can_edit_enrollment())?;
    super::tx(conn, |conn| {
        let before = super::scoped::<Grower>(conn, actor, id)?;
        let live = policies::table
            .filter(policies::grower_id.eq(id))
            .filter(policies::status.ne(PolicyStatus::Draft))
            .count()
            .get_result::<i64>(conn)?;
        if live > 0 {
            return Err(AppError::conflict(
                ErrorCode::GrowerHasPolicy,
                "该农户已有已收费或已签发的保单，不能删除；如需退保请由承保人员注销保单",
            ));
        }
        // Every row that goes with the grower is audited as deleted, as it
        // would be when deleted on its own.
        let drafts: Vec<Policy> = policies::table
            .filter(policies::grower_id.eq(id))
            .order(policies::id)
            .select(Policy::as_select())
            .load(conn)?;
        let their_plots: Vec<Plot> = plots::table
            .filter(plots::grower_id.eq(id))
            .order(plots::id)
            .select(Plot::as_select())
            .load(conn)?;
        let plot_ids: Vec<i64> = their_plots.iter().map(|p| p.id).collect();
        super::inspection::refuse_delete_if_sampled(conn, &plot_ids)?;
        let ids: Vec<i64> = drafts.iter().map(|p| p.id).collect();
        crate::db::policies::delete(conn, &ids)?;
        diesel::delete(plots::table.filter(plots::grower_id.eq(id))).execute(conn)?;
        diesel::delete(growers::table.find(id)).execute(conn)?;
        for p in &drafts {
            audit::deleted(conn, actor, "policy", p.id, p)?;
        }
        for p in &their_plots {
            audit::deleted(conn, actor, "plot", p.id, p)?;
        }
        audit::deleted(conn, actor, "grower", id, &before)?;
        Ok(())
    })
}

/// The grower on their own page (or edit form): in full for a role that sees
/// personal data, and that read is audited.
pub fn get_view(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<GrowerView> {
    let full = actor.sees_personal_data();
    let v = grower_view(conn, actor, id, full)?;
    if full {
        audit::accessed(conn, actor, "grower", id, &PERSONAL_FIELDS)?;
    }
    Ok(v)
}

/// The fields of a grower that are personal data.
pub const PERSONAL_FIELDS: [&str; 3] = ["id_number", "phone", "bank_account"];

/// The grower as another record's page names them: masked for every role.
pub fn get_masked(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<GrowerView> {
    grower_view(conn, actor, id, false)
}

fn grower_view(conn: &mut DbConn, actor: &Actor, id: i64, full: bool) -> AppResult<GrowerView> {
    let g = super::scoped::<Grower>(conn, actor, id)?;
    let village = super::areas::area_by_id(conn, g.village_id)?;
    let township = super::areas::area_by_id(conn, g.township_id)?;
    Ok(view(&g, &village, &township, full))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GrowerFilter {
    pub township_id: Option<i64>,
    pub village_id: Option<i64>,
    pub q: Option<String>,
    pub year: Option<i32>,
    /// A [`GrowerSort`] code, and `asc` or `desc`.
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<i64>,
    #[serde(alias = "per_page")]
    pub page_size: Option<i64>,
}

/// What the grower list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrowerSort {
    Village,
    Name,
    Year,
    Updated,
    Id,
}

impl SortKey for GrowerSort {
    const KEYS: &'static [(&'static str, &'static str, GrowerSort)] = &[
        ("village", "乡镇和村", GrowerSort::Village),
        ("name", "姓名", GrowerSort::Name),
        ("year", "年度", GrowerSort::Year),
        ("updated", "最后修改时间", GrowerSort::Updated),
        ("id", "登记顺序", GrowerSort::Id),
    ];
    const DEFAULT: GrowerSort = GrowerSort::Village;
}

/// What a search box's text finds, and for whom. Every role finds a grower
/// by name, by policy number and by the last 4 characters of the ID number
/// or phone (what a masked list shows, `133****1313` too). Only a role that
/// sees personal data finds one by the full ID number or phone, and that
/// search is audited: for a role that sees masked data a full number finds
/// nothing, as any name that matches nobody, so it cannot be used to test
/// whether a number belongs to someone.
pub struct Search {
    typed: String,
    text: String,
    tail: Option<String>,
    full: Option<String>,
}

type Backend = <DbConn as diesel::Connection>::Backend;
/// A condition on growers, built from a search.
pub type GrowerCond =
    Box<dyn BoxableExpression<growers::table, Backend, SqlType = diesel::sql_types::Bool>>;

/// The condition on a grower's own columns (name, the ID number's and
/// phone's tail, the full numbers) for a query whose source `$qs` holds
/// `growers`: the grower list, and the plot and policy lists joined with
/// their grower.
macro_rules! person_cond {
    ($search:expr, $qs:ty) => {{
        use $crate::db::schema::growers as g;
        let s: &$crate::app::growers::Search = $search;
        let mut cond: Box<
            dyn diesel::BoxableExpression<
                $qs,
                <$crate::db::DbConn as diesel::Connection>::Backend,
                SqlType = diesel::sql_types::Bool,
            >,
        > = Box::new(g::name.like(s.like()));
        if let Some(t) = s.tail() {
            let ends = format!("%{t}");
            cond = Box::new(
                cond.or(g::id_number.like(ends.clone()))
                    .or(g::phone.like(ends)),
            );
        }
        if let Some(n) = s.full() {
            cond = Box::new(
                cond.or(g::id_number.eq(n.to_string()))
                    .or(g::phone.eq(n.to_string())),
            );
        }
        cond
    }};
}
pub(crate) use person_cond;

impl Search {
    /// `None` for an empty search.
    pub fn new(actor: &Actor, raw: &str) -> Option<Search> {
        let typed = normalize_width(raw).trim().to_string();
        let text = typed.to_uppercase();
        if text.is_empty() {
            return None;
        }
        let is_tail =
            |t: &str| t.chars().count() == 4 && t.chars().all(|c| c.is_ascii_digit() || c == 'X');
        // What follows the last `*` of a masked number, or the text itself.
        let tail = text
            .rsplit('*')
            .next()
            .filter(|t| is_tail(t))
            .map(str::to_string);
        let number = digits_only(&text);
        let full = (actor.sees_personal_data()
            && number.chars().count() >= 7
            && number.chars().all(|c| c.is_ascii_digit() || c == 'X'))
        .then_some(number);
        Some(Search {
            typed,
            text,
            tail,
            full,
        })
    }

    /// The text as typed, normalised (for the policy number).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The growers this search finds: by name, policy number, plot code,
    /// and the numbers described on [`Search`].
    pub fn cond(&self) -> GrowerCond {
        let by_policy = policies::table
            .filter(policies::policy_no.eq(self.text.clone()))
            .select(policies::grower_id);
        let by_plot = plots::table
            .filter(
                plots::code
                    .eq(self.typed.clone())
                    .or(plots::code.eq(self.text.clone())),
            )
            .select(plots::grower_id);
        let person: GrowerCond = person_cond!(self, growers::table);
        Box::new(
            person
                .or(growers::id.eq_any(by_policy))
                .or(growers::id.eq_any(by_plot)),
        )
    }

    /// The search's name pattern for LIKE.
    pub fn like(&self) -> String {
        super::listing::contains(&self.typed)
    }

    /// The last 4 characters of an ID number or phone, if that is what was typed.
    pub fn tail(&self) -> Option<&str> {
        self.tail.as_deref()
    }

    /// A full ID number or phone, if typed by a role that sees personal data.
    pub fn full(&self) -> Option<&str> {
        self.full.as_deref()
    }

    /// The fields of `g` this search matched in full: what it revealed.
    pub fn revealed(&self, g: &Grower) -> Vec<&'static str> {
        let Some(n) = &self.full else {
            return Vec::new();
        };
        let mut fields = Vec::new();
        if &g.id_number == n {
            fields.push("id_number");
        }
        if &g.phone == n {
            fields.push("phone");
        }
        fields
    }

    /// Record the growers a search by full value found (see `revealed`).
    pub fn audit<'a>(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        found: impl IntoIterator<Item = &'a Grower>,
    ) -> AppResult<()> {
        for g in found {
            let fields = self.revealed(g);
            if !fields.is_empty() {
                audit::accessed(conn, actor, "grower", g.id, &fields)?;
            }
        }
        Ok(())
    }
}

/// The names of growers a list already found (one query for a page).
pub fn names_of(
    conn: &mut DbConn,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, String>> {
    Ok(growers::table
        .filter(growers::id.eq_any(ids))
        .select((growers::id, growers::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// Lists always mask personal data, whatever the role.
pub fn list(conn: &mut DbConn, actor: &Actor, f: &GrowerFilter) -> AppResult<Paged<GrowerView>> {
    let page = Page::new(f.page, f.page_size)?;
    let sort = Sort::<GrowerSort>::parse(f.sort.as_deref(), f.dir.as_deref())?;
    let search =
        crate::app::listing::search_text(f.q.as_deref())?.and_then(|q| Search::new(actor, q));
    let build = || {
        let mut q = growers::table.into_boxed();
        if let Some(t) = actor.township_scope() {
            q = q.filter(growers::township_id.eq(t));
        }
        if let Some(t) = f.township_id {
            q = q.filter(growers::township_id.eq(t));
        }
        if let Some(v) = f.village_id {
            q = q.filter(growers::village_id.eq(v));
        }
        if let Some(y) = f.year {
            q = q.filter(growers::year.eq(y));
        }
        if let Some(s) = &search {
            q = q.filter(s.cond());
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let q = build();
    let id = growers::id;
    let q = match sort.key {
        GrowerSort::Village => {
            order_by!(q, sort.dir, id; growers::township_id, growers::village_id)
        }
        GrowerSort::Name => order_by!(q, sort.dir, id; growers::name),
        GrowerSort::Year => order_by!(q, sort.dir, id; growers::year),
        GrowerSort::Updated => order_by!(q, sort.dir, id; growers::updated_at),
        GrowerSort::Id => order_by!(q, sort.dir, id; growers::id),
    };
    let rows: Vec<Grower> = q
        .limit(page.size)
        .offset(page.offset())
        .select(Grower::as_select())
        .load(conn)?;
    if let Some(s) = &search {
        s.audit(conn, actor, &rows)?;
    }
    let names = super::areas::names(conn)?;
    let items = rows
        .iter()
        .filter_map(|g| {
            Some(view(
                g,
                names.get(&g.village_id)?,
                names.get(&g.township_id)?,
                false,
            ))
        })
        .collect();
    Ok(Paged::new(items, total, page))
}
