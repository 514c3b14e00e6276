//! Fraud and quality checks (风险核查): invented growers, inflated areas,
//! double-insured ground, reused photos, late reports and suspicious survey
//! positions, each finding linked to the records involved.
//!
//! The checks compare records across the whole county (a duplicate is
//! often in another township), so they always run county-wide
//! ([`find::all`]); what a reader is shown is then cut to their reach: a
//! township station sees the findings that touch its township, with the
//! other townships' records counted but neither named nor linked. ID numbers,
//! phones and bank accounts are masked for every role. Every view, API
//! answer, CLI run and download is an `export` row in the audit trail.

mod find;
mod sheet;

use super::Actor;
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use serde::Serialize;
use std::collections::HashMap;

pub use sheet::report_xlsx;

/// The checks, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    DuplicateId,
    SharedPhone,
    SharedBankAccount,
    PlotOverlap,
    AreaInflated,
    OverCap,
    PhotoReused,
    LateReport,
    SurveyOffPlot,
    SamePosition,
}

impl Check {
    pub const ALL: [Check; 10] = [
        Check::DuplicateId,
        Check::SharedPhone,
        Check::SharedBankAccount,
        Check::PlotOverlap,
        Check::AreaInflated,
        Check::OverCap,
        Check::PhotoReused,
        Check::LateReport,
        Check::SurveyOffPlot,
        Check::SamePosition,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Check::DuplicateId => "同一身份证号在多个乡镇或年度登记",
            Check::SharedPhone => "不同农户使用同一手机号",
            Check::SharedBankAccount => "不同农户使用同一银行账号",
            Check::PlotOverlap => "地块边界与其他已投保地块重叠",
            Check::AreaInflated => "申报面积超过边界实测面积",
            Check::OverCap => "单户投保面积超过上限",
            Check::PhotoReused => "查勘照片在其他赔案中重复使用",
            Check::LateReport => "出险后迟报",
            Check::SurveyOffPlot => "查勘定位不在地块范围内",
            Check::SamePosition => "同一查勘位置对应多个赔案",
        }
    }

    /// What the check looks for and which threshold it uses.
    pub fn explain(self) -> &'static str {
        match self {
            Check::DuplicateId => "身份证号相同的农户记录出现在不止一个乡镇或险种年度：可能是重复投保或虚构农户。",
            Check::SharedPhone => "身份证号不同的农户登记了同一个手机号：可能是代填或虚构农户。",
            Check::SharedBankAccount => "身份证号不同的农户登记了同一个银行账号：赔款和补贴可能流向同一人。",
            Check::PlotOverlap => "同一方案的两个地块边界内部相交（只共用一条边不算），面积为重叠部分的实测面积：可能是同一片果园重复投保。",
            Check::AreaInflated => "申报面积大于边界实测面积，且差额超过方案规定的面积允许误差。",
            Check::OverCap => "一户在一个方案中的投保面积（未注销保单）超过方案规定的每户上限（checks.max_mu_per_grower）。",
            Check::PhotoReused => "内容完全相同（SHA-256相同）的查勘照片出现在不止一个赔案中。",
            Check::LateReport => "报案时间晚于出险时间超过方案规定的天数（checks.late_report_days，每天按24小时计）。",
            Check::SurveyOffPlot => "查勘提交的GPS位置在地块边界以外（在允许距离内被接受，但不在地块上）。",
            Check::SamePosition => "同一查勘员在同一位置（经纬度取到0.0001°，约10米）为不同地块的多个赔案定位，达到方案规定的件数（checks.same_position_claims）。",
        }
    }
}

/// The kind of record an item links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Grower,
    Plot,
    Policy,
    Claim,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Grower => "农户",
            Kind::Plot => "地块",
            Kind::Policy => "保单",
            Kind::Claim => "赔案",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::Grower => "growers",
            Kind::Plot => "plots",
            Kind::Policy => "policies",
            Kind::Claim => "claims",
        }
    }
}

/// One record a finding involves, with the page that shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub kind: Kind,
    pub kind_name: &'static str,
    pub id: i64,
    /// Grower's name, plot code, policy number or claim number.
    pub label: String,
    pub township: String,
    pub href: String,
    #[serde(skip)]
    pub township_id: i64,
}

/// One finding as shown: the records of the reader's reach, and how many
/// more records (of other townships) it involves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What the finding is about: a masked number, plot codes, a claim...
    pub subject: String,
    pub detail: String,
    pub items: Vec<Item>,
    /// Records in townships the reader may not see: counted, not shown.
    pub other_townships: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub check: Check,
    pub title: &'static str,
    pub explain: &'static str,
    pub count: usize,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// 全县, or the township the report is cut to.
    pub place: String,
    /// The township code asked for (`?township=`), if any.
    pub township: Option<String>,
    /// Findings in all groups.
    pub total: usize,
    pub groups: Vec<Group>,
}

/// A finding as the checks make it, county-wide, before it is cut to a
/// reader. `own_*` replace the texts when records of other townships are
/// hidden: they must not name those records or their townships.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub check: Check,
    pub subject: String,
    pub detail: String,
    pub own_subject: Option<String>,
    pub own_detail: Option<String>,
    pub items: Vec<Item>,
}

/// Where a report may be asked for: by whom, for which township.
pub struct Query {
    /// A township code; a township station may give only its own.
    pub township: Option<String>,
}

/// May the actor read the checks report at all?
pub fn may_view(actor: &Actor) -> bool {
    actor.may(super::Action::ViewChecks)
}

/// The report for `actor`, audited as an export of kind `kind` ("checks",
/// "checks_xlsx"). The county-wide work runs before the one short write.
pub fn report(conn: &mut DbConn, actor: &Actor, q: &Query, kind: &str) -> AppResult<Report> {
    actor.require(may_view(actor))?;
    let (township_id, place, code) = resolve(conn, actor, q)?;
    let raw = find::all(conn)?;
    let hide = actor.township_scope();
    let report = cut(raw, hide.or(township_id), hide.is_some(), place, code);
    let growers: Vec<i64> = report
        .groups
        .iter()
        .flat_map(|g| &g.findings)
        .flat_map(|f| &f.items)
        .filter(|i| i.kind == Kind::Grower)
        .map(|i| i.id)
        .collect();
    super::tx(conn, |conn| {
        super::reports::exported(
            conn,
            actor,
            kind,
            "grower",
            serde_json::json!({ "township": report.township }),
            growers,
            false,
        )
    })?;
    Ok(report)
}

/// The township asked for: its id, its name and its code. A code that
/// cannot be one is a 422, an unknown one (or another township's, for a
/// station) a 404.
fn resolve(
    conn: &mut DbConn,
    actor: &Actor,
    q: &Query,
) -> AppResult<(Option<i64>, String, Option<String>)> {
    let code = q
        .township
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match code {
        None => {
            let place = match actor.township_scope() {
                Some(t) => super::areas::area_by_id(conn, t)?.name,
                None => "全县".to_string(),
            };
            Ok((None, place, None))
        }
        Some(c) if c.len() > 20 || !c.chars().all(|ch| ch.is_ascii_digit()) => {
            Err(AppError::invalid(
                "township",
                ErrorCode::AreaCodeInvalid,
                "乡镇代码应为不超过20位的数字",
            ))
        }
        Some(c) => {
            let t = super::areas::township_by_code(conn, actor, c)?;
            Ok((Some(t.id), t.name, Some(t.code)))
        }
    }
}

/// The findings that touch `township` (all of them for `None`); with
/// `hide_others` (a township-bound reader) the records of other townships
/// are counted, not shown.
fn cut(
    raw: Vec<Raw>,
    township: Option<i64>,
    hide_others: bool,
    place: String,
    code: Option<String>,
) -> Report {
    let mut by_check: HashMap<Check, Vec<Finding>> = HashMap::new();
    for r in raw {
        let touches = match township {
            None => true,
            Some(t) => r.items.iter().any(|i| i.township_id == t),
        };
        if !touches {
            continue;
        }
        let (items, others): (Vec<Item>, Vec<Item>) = r
            .items
            .into_iter()
            .partition(|i| !hide_others || township == Some(i.township_id));
        let finding = if hide_others && !others.is_empty() {
            Finding {
                subject: r.own_subject.unwrap_or(r.subject),
                detail: format!(
                    "{}；另有{}条记录在其他乡镇（不显示，请联系县林业局核实）",
                    r.own_detail.unwrap_or(r.detail),
                    others.len()
                ),
                items,
                other_townships: others.len(),
            }
        } else {
            Finding {
                subject: r.subject,
                detail: r.detail,
                items,
                other_townships: 0,
            }
        };
        by_check.entry(r.check).or_default().push(finding);
    }
    let groups: Vec<Group> = Check::ALL
        .iter()
        .map(|&check| {
            let findings = by_check.remove(&check).unwrap_or_default();
            Group {
                check,
                title: check.title(),
                explain: check.explain(),
                count: findings.len(),
                findings,
            }
        })
        .collect();
    Report {
        place,
        township: code,
        total: groups.iter().map(|g| g.count).sum(),
        groups,
    }
}

/// An item for a record of `township_id`, its township named from `names`.
pub(crate) fn item(
    kind: Kind,
    id: i64,
    label: String,
    township_id: i64,
    names: &HashMap<i64, String>,
) -> Item {
    Item {
        kind,
        kind_name: kind.name(),
        id,
        label,
        township: names.get(&township_id).cloned().unwrap_or_default(),
        href: format!("/{}/{id}", kind.path()),
        township_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(townships: &[i64]) -> Raw {
        let names = HashMap::from([(1, "甲镇".to_string()), (2, "乙乡".to_string())]);
        Raw {
            check: Check::SharedPhone,
            subject: "138****0000".into(),
            detail: "2位不同农户".into(),
            own_subject: None,
            own_detail: Some("本乡镇".into()),
            items: townships
                .iter()
                .enumerate()
                .map(|(k, &t)| item(Kind::Grower, k as i64 + 1, format!("户{k}"), t, &names))
                .collect(),
        }
    }

    #[test]
    fn a_township_sees_its_own_records_and_a_count_of_the_rest() {
        let r = cut(
            vec![raw(&[1, 2]), raw(&[2, 2])],
            Some(1),
            true,
            "甲镇".into(),
            None,
        );
        assert_eq!(r.total, 1);
        let f = &r.groups[1].findings[0];
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.items[0].township, "甲镇");
        assert_eq!(f.other_townships, 1);
        assert!(f.detail.starts_with("本乡镇；另有1条记录在其他乡镇"));
        assert!(!serde_json::to_string(&r).unwrap().contains("乙乡"));
        let county = cut(
            vec![raw(&[1, 2]), raw(&[2, 2])],
            None,
            false,
            "全县".into(),
            None,
        );
        assert_eq!(county.total, 2);
        assert_eq!(county.groups[1].findings[0].items.len(), 2);
        assert_eq!(county.groups[1].findings[0].detail, "2位不同农户");
        assert_eq!(county.groups.len(), Check::ALL.len());
        // The county, cut to one township: its findings, every record shown.
        let one = cut(
            vec![raw(&[1, 2]), raw(&[2, 2])],
            Some(1),
            false,
            "甲镇".into(),
            None,
        );
        assert_eq!(one.total, 1);
        assert_eq!(one.groups[1].findings[0].items.len(), 2);
        assert_eq!(one.groups[1].findings[0].other_townships, 0);
    }
}
