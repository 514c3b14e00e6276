//! A scheme (险种方案) as data: what a new crop needs is a new definition,
//! never new code.

mod validate;

use super::eligibility::{evaluate, Facts, Rule, Verdict};
use super::macros::text_enum;
use super::money::Fen;
use super::premium::Rates;
use super::text::{self, TextKind};
use crate::error::ErrorCode;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelShare {
    /// central | provincial | city | county
    pub level: String,
    /// Percentage of the premium this level funds.
    pub percent: Decimal,
}

impl LevelShare {
    /// The level named; `None` only in a definition `validate` refuses.
    pub fn funding_level(&self) -> Option<FundingLevel> {
        FundingLevel::parse(&self.level).ok()
    }
}

text_enum! {
    /// Who funds a part of the subsidy: a fixed set in China, so a policy
    /// stores one amount per level in its own column.
    #[derive(diesel::AsExpression, diesel::FromSqlRow)]
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub enum FundingLevel {
        Central = "central" / "中央财政",
        Provincial = "provincial" / "省级财政",
        City = "city" / "市级财政",
        County = "county" / "县级财政",
    }
    /// A text that is not a funding level code.
    unknown: UnknownFundingLevel("unknown funding level {0:?}");
}

const fn level_pair(l: FundingLevel) -> (&'static str, &'static str) {
    (l.as_str(), l.name())
}

pub const FUNDING_LEVELS: [(&str, &str); 4] = [
    level_pair(FundingLevel::Central),
    level_pair(FundingLevel::Provincial),
    level_pair(FundingLevel::City),
    level_pair(FundingLevel::County),
];

/// Bounds of a definition, so every later amount (rate × mu, payout) is far
/// inside i64 fen and `Decimal`: no crop is insured for 100,000 yuan a mu.
pub const MAX_PER_MU: Fen = Fen(10_000_000);
const MAX_TERM_DAYS: i64 = 1_096;
const MAX_RATE_DECIMALS: u32 = 4;
const MAX_SURVEY_HOURS: u32 = 720;
const MAX_PAYMENT_DAYS: u32 = 365;
const MAX_DISTANCE_M: u32 = 100_000;
const MAX_LIST: usize = 100;
const MAX_RULE_BOUND: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

pub fn level_name(level: &str) -> &str {
    FundingLevel::parse(level).map_or(level, |l| l.name())
}

/// Claim rules, kept here so claims can be configured per scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRules {
    /// Loss rate below which nothing is paid.
    #[serde(default)]
    pub loss_threshold_rate: Decimal,
    #[serde(default)]
    pub deductible_rate: Decimal,
    /// Loss rate at or above which the full sum insured is paid.
    #[serde(default = "one")]
    pub total_loss_rate: Decimal,
    #[serde(default = "default_survey_hours")]
    pub survey_hours: u32,
    #[serde(default = "default_payment_days")]
    pub payment_days: u32,
    /// An open claim this close to its survey deadline counts as nearly overdue.
    #[serde(default = "default_warn_hours")]
    pub warn_hours: u32,
    /// How far (metres) from the plot's polygon a survey position may be.
    #[serde(default = "default_max_distance_m")]
    pub max_distance_m: u32,
}

fn one() -> Decimal {
    Decimal::ONE
}
fn default_survey_hours() -> u32 {
    24
}
fn default_payment_days() -> u32 {
    10
}
fn default_warn_hours() -> u32 {
    6
}
fn default_max_distance_m() -> u32 {
    100
}
fn default_tolerance() -> Decimal {
    Decimal::from(5)
}

impl Default for ClaimRules {
    fn default() -> Self {
        ClaimRules {
            loss_threshold_rate: Decimal::ZERO,
            deductible_rate: Decimal::ZERO,
            total_loss_rate: Decimal::ONE,
            survey_hours: 24,
            payment_days: 10,
            warn_hours: 6,
            max_distance_m: 100,
        }
    }
}

/// Thresholds of the fraud and quality checks (风险核查, `app::checks`).
/// A definition without a `checks` section gets these defaults, and a
/// definition whose section is all defaults is stored without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRules {
    /// Most mu one grower may insure before the report lists them.
    #[serde(default = "default_max_mu_per_grower")]
    pub max_mu_per_grower: Decimal,
    /// A claim reported more than this many days (24 h each) after the
    /// occurrence is a late report.
    #[serde(default = "default_late_report_days")]
    pub late_report_days: u32,
    /// This many different claims surveyed from one adjuster's position
    /// (rounded to about 10 m) are listed.
    #[serde(default = "default_same_position_claims")]
    pub same_position_claims: u32,
}

fn default_max_mu_per_grower() -> Decimal {
    Decimal::from(50)
}
fn default_late_report_days() -> u32 {
    3
}
fn default_same_position_claims() -> u32 {
    3
}

impl Default for CheckRules {
    fn default() -> Self {
        CheckRules {
            max_mu_per_grower: default_max_mu_per_grower(),
            late_report_days: default_late_report_days(),
            same_position_claims: default_same_position_claims(),
        }
    }
}

impl CheckRules {
    pub fn is_default(&self) -> bool {
        *self == CheckRules::default()
    }
}

const MAX_LATE_REPORT_DAYS: u32 = 365;
const MAX_SAME_POSITION_CLAIMS: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variety {
    pub code: String,
    pub name: String,
    /// Other names accepted on input (早实, 早实核桃 ...).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemeDef {
    pub code: String,
    pub name: String,
    pub crop: String,
    pub crop_name: String,
    pub year: i32,
    #[serde(default)]
    pub insurer: String,
    pub sum_insured_per_mu: Fen,
    pub premium_per_mu: Fen,
    pub grower_share_per_mu: Fen,
    pub subsidy_levels: Vec<LevelShare>,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    pub perils: Vec<Named>,
    #[serde(default)]
    pub excluded_causes: Vec<Named>,
    #[serde(default)]
    pub claim_rules: ClaimRules,
    /// Allowed difference between declared and polygon area, in percent.
    #[serde(default = "default_tolerance")]
    pub area_tolerance_percent: Decimal,
    pub varieties: Vec<Variety>,
    /// Pre-cover inspection (验标); the national defaults when left out
    /// (and then left out when stored, so a definition written before this
    /// section existed is stored as it always was).
    #[serde(default, skip_serializing_if = "InspectionRules::is_default")]
    pub inspection: InspectionRules,
    /// How long the public notices stay posted. Left out of the stored JSON
    /// while it holds the defaults, so definitions stored before it existed
    /// read and write back the same.
    #[serde(default, skip_serializing_if = "NoticeRules::is_default")]
    pub notices: NoticeRules,
    /// Thresholds of the fraud and quality checks.
    #[serde(default, skip_serializing_if = "CheckRules::is_default")]
    pub checks: CheckRules,
}

/// Pre-cover inspection (验标): the share of a village's insured area to
/// inspect on site, by how its growers enrolled, and whether policies wait
/// for the village's sample to be complete before they are issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionRules {
    /// Percent of the insured area, growers enrolled one by one.
    #[serde(default = "default_individual_percent")]
    pub individual_percent: Decimal,
    /// Percent of the insured area, enrolment organised by the village.
    #[serde(default = "default_village_percent")]
    pub village_percent: Decimal,
    #[serde(default)]
    pub required_before_issue: bool,
}

fn default_individual_percent() -> Decimal {
    Decimal::from(50)
}
fn default_village_percent() -> Decimal {
    Decimal::from(5)
}

impl Default for InspectionRules {
    fn default() -> Self {
        InspectionRules {
            individual_percent: default_individual_percent(),
            village_percent: default_village_percent(),
            required_before_issue: false,
        }
    }
}

impl InspectionRules {
    pub fn is_default(&self) -> bool {
        *self == InspectionRules::default()
    }

    /// The share (percent) for an enrolment mode.
    pub fn percent(&self, mode: super::inspection::EnrolmentMode) -> Decimal {
        match mode {
            super::inspection::EnrolmentMode::Individual => self.individual_percent,
            super::inspection::EnrolmentMode::Village => self.village_percent,
        }
    }
}

/// The posting periods of the public notices (公示期), in days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRules {
    /// The enrollment notice (承保公示), before the village's policies are issued.
    #[serde(default = "default_enrollment_days")]
    pub enrollment_days: u32,
    /// The claim results notice (理赔公示), before the payouts are paid.
    #[serde(default = "default_claim_days")]
    pub claim_days: u32,
}

fn default_enrollment_days() -> u32 {
    5
}
fn default_claim_days() -> u32 {
    3
}

/// The longest posting period a scheme may ask for.
pub const MAX_NOTICE_DAYS: u32 = 60;

impl Default for NoticeRules {
    fn default() -> Self {
        NoticeRules {
            enrollment_days: default_enrollment_days(),
            claim_days: default_claim_days(),
        }
    }
}

impl NoticeRules {
    pub fn is_default(&self) -> bool {
        *self == NoticeRules::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeProblem {
    pub code: ErrorCode,
    pub message: String,
}

/// "2012年度政策性核桃树保险" for a title: the year put before the scheme's
/// name unless the name already carries it ("2012年度…", "…（2026年度）"), so
/// a title never reads "2012年度2012年度…".
pub fn season_title(year: i32, name: &str) -> String {
    if name.contains(&format!("{year}年")) {
        name.to_string()
    } else {
        format!("{year}年度{name}")
    }
}

impl SchemeDef {
    /// The days on which a grower's share may be collected: from 1 January
    /// of the season's year (or of the term start's year, if the term starts
    /// earlier — enrolment cannot open later than cover) to the term end.
    /// A payment after the term end buys no cover, one from another season
    /// belongs to another scheme. "Not after today" is the caller's, who
    /// knows the clock.
    pub fn collection_window(&self) -> (NaiveDate, NaiveDate) {
        let year = self.year.min(self.term_start.year());
        let opens = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(self.term_start);
        (opens.min(self.term_start), self.term_end)
    }

    pub fn rates(&self) -> Rates {
        Rates {
            sum_insured_per_mu: self.sum_insured_per_mu,
            premium_per_mu: self.premium_per_mu,
            grower_share_per_mu: self.grower_share_per_mu,
            levels: self
                .subsidy_levels
                .iter()
                .filter_map(|l| Some((l.funding_level()?, l.percent)))
                .collect(),
        }
    }

    /// Find a variety by code, name or alias ("early", "早实核桃", "早实").
    pub fn variety(&self, name: &str) -> Option<&Variety> {
        let n = name.trim();
        self.varieties.iter().find(|v| {
            v.code.eq_ignore_ascii_case(n) || v.name == n || v.aliases.iter().any(|a| a == n)
        })
    }

    pub fn evaluate(&self, variety: &Variety, facts: &Facts) -> Verdict {
        evaluate(&variety.rules, facts)
    }
}

/// The reference walnut scheme shipped in fixtures/.
pub const WALNUT_2012_JSON: &str = include_str!("../../../fixtures/schemes/walnut-2012.json");

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes of the problems `validate` finds (it must find some).
    fn problem_codes(s: &SchemeDef) -> Vec<&'static str> {
        s.validate()
            .unwrap_err()
            .iter()
            .map(|p| p.code.as_str())
            .collect()
    }

    fn walnut() -> SchemeDef {
        serde_json::from_str(WALNUT_2012_JSON).unwrap()
    }

    #[test]
    fn reference_scheme_is_valid() {
        let s = walnut();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.premium_per_mu, Fen::from_yuan(80));
        assert_eq!(s.variety("早实").unwrap().code, "early");
        assert_eq!(s.variety("晚实核桃").unwrap().code, "late");
        assert_eq!(s.variety("LATE").unwrap().code, "late");
        assert!(s.variety("apple").is_none());
    }

    #[test]
    fn finds_every_problem() {
        let mut s = walnut();
        s.grower_share_per_mu = Fen::from_yuan(90);
        s.subsidy_levels[0].percent = Decimal::from(51);
        s.term_end = s.term_start;
        let codes = problem_codes(&s);
        assert!(codes.contains(&"scheme_grower_share_invalid"));
        assert!(codes.contains(&"scheme_term_invalid"));
    }

    #[test]
    fn huge_numbers_are_refused_not_overflowed() {
        let mut v: serde_json::Value = serde_json::from_str(WALNUT_2012_JSON).unwrap();
        v["sum_insured_per_mu"] = "79228162514264337593543950335".into();
        let e = serde_json::from_value::<SchemeDef>(v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("最多12位"), "{e}");

        let mut s = walnut();
        s.subsidy_levels[0].percent = Decimal::MAX;
        s.subsidy_levels[1].percent = Decimal::MAX;
        s.claim_rules.deductible_rate = Decimal::MAX;
        s.claim_rules.survey_hours = u32::MAX;
        s.area_tolerance_percent = Decimal::MIN;
        s.sum_insured_per_mu = Fen(i64::MAX);
        s.premium_per_mu = Fen(i64::MAX);
        s.grower_share_per_mu = Fen(i64::MIN);
        s.term_end = NaiveDate::MAX;
        s.varieties[0].rules[0].min = Some(Decimal::MAX);
        s.name = "方案\u{202E}".into();
        let codes = problem_codes(&s);
        for c in [
            "scheme_level_percent_invalid",
            "scheme_claim_rules_invalid",
            "scheme_claim_deadlines_invalid",
            "scheme_area_tolerance_invalid",
            "scheme_rates_too_large",
            "scheme_grower_share_invalid",
            "scheme_term_too_long",
            "scheme_variety_invalid",
            "scheme_text_invalid",
        ] {
            assert!(codes.contains(&c), "{c}: {codes:?}");
        }
    }

    #[test]
    fn bounds_admit_the_reference_and_the_limits() {
        let mut s = walnut();
        s.sum_insured_per_mu = MAX_PER_MU;
        s.claim_rules.survey_hours = 720;
        s.term_end = s.term_start + chrono::Duration::days(1_096);
        assert_eq!(s.validate(), Ok(()));
        s.sum_insured_per_mu = Fen(MAX_PER_MU.0 + 1);
        s.claim_rules.survey_hours = 721;
        let codes = problem_codes(&s);
        assert_eq!(
            codes,
            ["scheme_rates_too_large", "scheme_claim_deadlines_invalid"]
        );
    }

    #[test]
    fn check_thresholds_default_and_are_bounded() {
        let s = walnut();
        assert_eq!(s.checks.max_mu_per_grower, Decimal::from(50));
        assert_eq!(s.checks.late_report_days, 3);
        assert_eq!(s.checks.same_position_claims, 3);
        // All defaults: not written back, so stored definitions don't change.
        assert!(!serde_json::to_string(&s).unwrap().contains("checks"));
        let mut v: serde_json::Value = serde_json::from_str(WALNUT_2012_JSON).unwrap();
        v["checks"] = serde_json::json!({"late_report_days": 5});
        let t: SchemeDef = serde_json::from_value(v).unwrap();
        assert_eq!(t.checks.late_report_days, 5);
        assert_eq!(t.checks.max_mu_per_grower, Decimal::from(50));
        assert!(serde_json::to_string(&t)
            .unwrap()
            .contains("late_report_days"));
        for bad in [
            CheckRules {
                max_mu_per_grower: Decimal::ZERO,
                ..CheckRules::default()
            },
            CheckRules {
                max_mu_per_grower: Decimal::new(1, 5),
                ..CheckRules::default()
            },
            CheckRules {
                late_report_days: 0,
                ..CheckRules::default()
            },
            CheckRules {
                same_position_claims: 1,
                ..CheckRules::default()
            },
        ] {
            let mut s = walnut();
            s.checks = bad;
            assert_eq!(problem_codes(&s), ["scheme_checks_invalid"]);
        }
    }

    #[test]
    fn levels_must_cover_the_subsidy() {
        let mut s = walnut();
        s.subsidy_levels[0].percent += Decimal::ONE;
        let problems = s.validate().unwrap_err();
        assert_eq!(problems[0].code, "scheme_levels_mismatch");
    }

    #[test]
    fn inspection_defaults_and_bounds() {
        let s = walnut();
        assert_eq!(s.inspection, InspectionRules::default());
        assert_eq!(s.inspection.individual_percent, Decimal::from(50));
        let mut v: serde_json::Value = serde_json::from_str(WALNUT_2012_JSON).unwrap();
        v["inspection"] =
            serde_json::json!({"village_percent": "0", "required_before_issue": true});
        let s: SchemeDef = serde_json::from_value(v).unwrap();
        assert!(s.inspection.required_before_issue);
        assert_eq!(problem_codes(&s), ["scheme_inspection_invalid"]);
    }

    #[test]
    fn collection_window_is_the_season_up_to_the_term_end() {
        let mut s: SchemeDef = serde_json::from_str(WALNUT_2012_JSON).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(s.collection_window(), (d(2012, 1, 1), d(2012, 10, 31)));
        // A term that starts in the previous year opens enrolment then.
        s.term_start = d(2011, 12, 1);
        assert_eq!(s.collection_window(), (d(2011, 1, 1), d(2012, 10, 31)));
    }

    #[test]
    fn season_titles_name_the_year_once() {
        assert_eq!(
            season_title(2012, "2012年度政策性核桃树保险"),
            "2012年度政策性核桃树保险"
        );
        assert_eq!(
            season_title(2026, "核桃树保险（2026年度）"),
            "核桃树保险（2026年度）"
        );
        assert_eq!(season_title(2013, "苹果树保险"), "2013年度苹果树保险");
    }
}
