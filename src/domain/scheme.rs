//! A scheme (险种方案) as data: what a new crop needs is a new definition,
//! never new code.

use super::eligibility::{evaluate, Facts, Rule, Verdict};
use super::money::Fen;
use super::premium::Rates;
use chrono::NaiveDate;
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

pub const FUNDING_LEVELS: [(&str, &str); 4] = [
    ("central", "中央财政"),
    ("provincial", "省级财政"),
    ("city", "市级财政"),
    ("county", "县级财政"),
];

pub fn level_name(level: &str) -> &str {
    FUNDING_LEVELS
        .iter()
        .find(|(c, _)| *c == level)
        .map(|(_, n)| *n)
        .unwrap_or(level)
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeProblem {
    pub code: &'static str,
    pub message: String,
}

impl SchemeDef {
    pub fn rates(&self) -> Rates {
        Rates {
            sum_insured_per_mu: self.sum_insured_per_mu,
            premium_per_mu: self.premium_per_mu,
            grower_share_per_mu: self.grower_share_per_mu,
            levels: self
                .subsidy_levels
                .iter()
                .map(|l| (l.level.clone(), l.percent))
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

    /// Every problem at once, so an administrator can fix a definition in one go.
    pub fn validate(&self) -> Result<(), Vec<SchemeProblem>> {
        let mut p = Vec::new();
        let mut push =
            |code: &'static str, message: String| p.push(SchemeProblem { code, message });
        if self.code.trim().is_empty()
            || !self
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            push(
                "scheme_code_invalid",
                "方案代码只能由字母、数字、-和_组成".into(),
            );
        }
        if self.name.trim().is_empty() {
            push("scheme_name_missing", "方案名称不能为空".into());
        }
        if !(2000..=2100).contains(&self.year) {
            push(
                "scheme_year_invalid",
                format!("方案年度无效：{}", self.year),
            );
        }
        if self.premium_per_mu <= Fen::ZERO || self.sum_insured_per_mu <= Fen::ZERO {
            push("scheme_rates_invalid", "每亩保险金额和保费必须大于0".into());
        }
        if self.grower_share_per_mu < Fen::ZERO || self.grower_share_per_mu > self.premium_per_mu {
            push(
                "scheme_grower_share_invalid",
                "农户自缴部分必须在0与每亩保费之间".into(),
            );
        }
        if self.term_end <= self.term_start {
            push(
                "scheme_term_invalid",
                "保险期间的终止日期必须晚于起始日期".into(),
            );
        }
        let mut seen = Vec::new();
        for l in &self.subsidy_levels {
            if !FUNDING_LEVELS.iter().any(|(c, _)| *c == l.level) {
                push(
                    "scheme_level_unknown",
                    format!(
                        "未知的财政补贴层级：{}（可选 central/provincial/city/county）",
                        l.level
                    ),
                );
            }
            if seen.contains(&l.level) {
                push(
                    "scheme_level_duplicate",
                    format!("财政补贴层级重复：{}", l.level),
                );
            }
            seen.push(l.level.clone());
            if l.percent <= Decimal::ZERO {
                push(
                    "scheme_level_percent_invalid",
                    format!("{}的补贴比例必须大于0", level_name(&l.level)),
                );
            }
        }
        let subsidy_per_mu = self.premium_per_mu - self.grower_share_per_mu;
        let level_sum: Decimal = self.subsidy_levels.iter().map(|l| l.percent).sum();
        if subsidy_per_mu > Fen::ZERO {
            let expected = subsidy_per_mu.to_decimal() * Decimal::ONE_HUNDRED
                / self.premium_per_mu.to_decimal().max(Decimal::ONE);
            if self.subsidy_levels.is_empty() || level_sum != expected {
                push(
                    "scheme_levels_mismatch",
                    format!(
                        "各级财政补贴比例之和应为保费的{}%，实际为{}%",
                        expected.normalize(),
                        level_sum.normalize()
                    ),
                );
            }
        }
        if self.perils.is_empty() {
            push(
                "scheme_perils_missing",
                "至少列出一种保险责任（灾害）".into(),
            );
        }
        let r = &self.claim_rules;
        let unit = Decimal::ZERO..=Decimal::ONE;
        if !unit.contains(&r.loss_threshold_rate)
            || !unit.contains(&r.deductible_rate)
            || !unit.contains(&r.total_loss_rate)
            || r.total_loss_rate.is_zero()
            || r.loss_threshold_rate > r.total_loss_rate
        {
            push(
                "scheme_claim_rules_invalid",
                "理赔规则中的起赔损失率、免赔率和全损损失率须在0到1之间，且起赔损失率不高于全损损失率".into(),
            );
        }
        if r.survey_hours == 0 || r.payment_days == 0 {
            push(
                "scheme_claim_deadlines_invalid",
                "查勘时限（小时）和赔款支付时限（天）必须大于0".into(),
            );
        }
        if self.varieties.is_empty() {
            push(
                "scheme_varieties_missing",
                "至少定义一个品种及其投保条件".into(),
            );
        }
        for v in &self.varieties {
            if v.code.trim().is_empty() || v.name.trim().is_empty() {
                push("scheme_variety_invalid", "品种必须有代码和名称".into());
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(p)
        }
    }
}

/// The reference walnut scheme shipped in fixtures/.
pub const WALNUT_2012_JSON: &str = include_str!("../../fixtures/schemes/walnut-2012.json");

#[cfg(test)]
mod tests {
    use super::*;

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
        let codes: Vec<_> = s.validate().unwrap_err().iter().map(|p| p.code).collect();
        assert!(codes.contains(&"scheme_grower_share_invalid"));
        assert!(codes.contains(&"scheme_term_invalid"));
    }

    #[test]
    fn levels_must_cover_the_subsidy() {
        let mut s = walnut();
        s.subsidy_levels[0].percent += Decimal::ONE;
        let problems = s.validate().unwrap_err();
        assert_eq!(problems[0].code, "scheme_levels_mismatch");
    }
}
