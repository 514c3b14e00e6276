//! The eligibility engine: a variety's rules (data from the scheme) applied to
//! a plot's facts. Bounds are inclusive: "以上" includes the number itself.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One rule on one numeric attribute of a plot (tree_age, fruit_per_tree, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub attribute: String,
    /// What users call the attribute: 树龄, 单株挂果数.
    pub label: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub eligible: bool,
    pub reasons: Vec<Reason>,
}

impl Verdict {
    pub fn eligible() -> Verdict {
        Verdict {
            eligible: true,
            reasons: vec![],
        }
    }

    pub fn from_reasons(reasons: Vec<Reason>) -> Verdict {
        Verdict {
            eligible: reasons.is_empty(),
            reasons,
        }
    }
}

/// A plot's numeric attributes by name.
pub type Facts = BTreeMap<String, Decimal>;

/// Apply every rule and report every failure, not just the first.
pub fn evaluate(rules: &[Rule], facts: &Facts) -> Verdict {
    let mut reasons = Vec::new();
    for rule in rules {
        match facts.get(&rule.attribute) {
            None => reasons.push(Reason {
                code: format!("{}_missing", rule.attribute),
                message: format!("缺少{}", rule.label),
            }),
            Some(value) => {
                if let Some(min) = rule.min {
                    if *value < min {
                        reasons.push(Reason {
                            code: format!("{}_below_min", rule.attribute),
                            message: format!("{}不足{}{}", rule.label, min.normalize(), rule.unit),
                        });
                    }
                }
                if let Some(max) = rule.max {
                    if *value > max {
                        reasons.push(Reason {
                            code: format!("{}_above_max", rule.attribute),
                            message: format!("{}超过{}{}", rule.label, max.normalize(), rule.unit),
                        });
                    }
                }
            }
        }
    }
    Verdict::from_reasons(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn early_rules() -> Vec<Rule> {
        vec![
            Rule {
                attribute: "tree_age".into(),
                label: "树龄".into(),
                unit: "年".into(),
                min: Some(dec!(5)),
                max: None,
            },
            Rule {
                attribute: "fruit_per_tree".into(),
                label: "单株挂果数".into(),
                unit: "个".into(),
                min: Some(dec!(270)),
                max: None,
            },
        ]
    }

    fn facts(age: i64, fruit: i64) -> Facts {
        let mut f = Facts::new();
        f.insert("tree_age".into(), Decimal::from(age));
        f.insert("fruit_per_tree".into(), Decimal::from(fruit));
        f
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(evaluate(&early_rules(), &facts(5, 270)).eligible);
        assert!(evaluate(&early_rules(), &facts(6, 271)).eligible);
        let v = evaluate(&early_rules(), &facts(4, 270));
        assert!(!v.eligible);
        assert_eq!(v.reasons[0].code, "tree_age_below_min");
        assert_eq!(v.reasons[0].message, "树龄不足5年");
        let v = evaluate(&early_rules(), &facts(5, 269));
        assert_eq!(v.reasons.len(), 1);
        assert_eq!(v.reasons[0].code, "fruit_per_tree_below_min");
        assert_eq!(v.reasons[0].message, "单株挂果数不足270个");
    }

    #[test]
    fn reports_every_failure_and_missing_facts() {
        let v = evaluate(&early_rules(), &facts(4, 269));
        let codes: Vec<_> = v.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["tree_age_below_min", "fruit_per_tree_below_min"]);
        let v = evaluate(&early_rules(), &Facts::new());
        assert_eq!(v.reasons[0].code, "tree_age_missing");
        assert_eq!(v.reasons[0].message, "缺少树龄");
    }

    #[test]
    fn upper_bounds() {
        let rules = vec![Rule {
            attribute: "slope_degrees".into(),
            label: "坡度".into(),
            unit: "度".into(),
            min: None,
            max: Some(dec!(25)),
        }];
        let mut f = Facts::new();
        f.insert("slope_degrees".into(), dec!(25));
        assert!(evaluate(&rules, &f).eligible);
        f.insert("slope_degrees".into(), dec!(25.5));
        let v = evaluate(&rules, &f);
        assert_eq!(v.reasons[0].code, "slope_degrees_above_max");
        assert_eq!(v.reasons[0].message, "坡度超过25度");
    }
}
