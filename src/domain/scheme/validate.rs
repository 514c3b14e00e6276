//! Checking a scheme definition before it is stored: every problem at once,
//! in Chinese, so an administrator can fix a definition in one go.

use super::*;

impl SchemeDef {
    /// Every problem at once, so an administrator can fix a definition in one go.
    pub fn validate(&self) -> Result<(), Vec<SchemeProblem>> {
        let mut p = Vec::new();
        let mut push = |code: ErrorCode, message: String| p.push(SchemeProblem { code, message });
        if self.code.trim().is_empty()
            || !self
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            push(
                ErrorCode::SchemeCodeInvalid,
                "方案代码只能由字母、数字、-和_组成".into(),
            );
        }
        if self.name.trim().is_empty() {
            push(ErrorCode::SchemeNameMissing, "方案名称不能为空".into());
        }
        if !(2000..=2100).contains(&self.year) {
            push(
                ErrorCode::SchemeYearInvalid,
                format!("方案年度无效：{}", self.year),
            );
        }
        if self.premium_per_mu <= Fen::ZERO || self.sum_insured_per_mu <= Fen::ZERO {
            push(
                ErrorCode::SchemeRatesInvalid,
                "每亩保险金额和保费必须大于0".into(),
            );
        }
        if self.sum_insured_per_mu > MAX_PER_MU {
            push(
                ErrorCode::SchemeRatesTooLarge,
                format!(
                    "每亩保险金额不能超过{}元，实际为{}元",
                    MAX_PER_MU, self.sum_insured_per_mu
                ),
            );
        }
        if self.premium_per_mu > self.sum_insured_per_mu {
            push(
                ErrorCode::SchemePremiumAboveSumInsured,
                format!(
                    "每亩保费{}元不能高于每亩保险金额{}元",
                    self.premium_per_mu, self.sum_insured_per_mu
                ),
            );
        }
        if self.grower_share_per_mu < Fen::ZERO || self.grower_share_per_mu > self.premium_per_mu {
            push(
                ErrorCode::SchemeGrowerShareInvalid,
                "农户自缴部分必须在0与每亩保费之间".into(),
            );
        }
        if self.term_end <= self.term_start {
            push(
                ErrorCode::SchemeTermInvalid,
                "保险期间的终止日期必须晚于起始日期".into(),
            );
        } else if (self.term_end - self.term_start).num_days() > MAX_TERM_DAYS {
            push(
                ErrorCode::SchemeTermTooLong,
                format!(
                    "保险期间最长{MAX_TERM_DAYS}天（3年），实际为{}天",
                    (self.term_end - self.term_start).num_days()
                ),
            );
        }
        if !(2000..=2100).contains(&self.term_start.year())
            || !(2000..=2100).contains(&self.term_end.year())
        {
            push(
                ErrorCode::SchemeTermInvalid,
                "保险期间的起止日期须在2000年至2100年之间".into(),
            );
        }
        for (label, value) in [
            ("方案名称", &self.name),
            ("作物代码", &self.crop),
            ("作物名称", &self.crop_name),
            ("保险公司", &self.insurer),
        ] {
            if let Err(t) = text::check(label, value, TextKind::Place) {
                push(ErrorCode::SchemeTextInvalid, t.message);
            }
        }
        if self.code.chars().count() > TextKind::Code.max_chars() {
            push(
                ErrorCode::SchemeCodeInvalid,
                format!("方案代码不能超过{}个字符", TextKind::Code.max_chars()),
            );
        }
        let mut seen = Vec::new();
        for l in &self.subsidy_levels {
            if l.funding_level().is_none() {
                push(
                    ErrorCode::SchemeLevelUnknown,
                    format!(
                        "未知的财政补贴层级：{}（可选 central/provincial/city/county）",
                        l.level
                    ),
                );
            }
            if seen.contains(&l.level) {
                push(
                    ErrorCode::SchemeLevelDuplicate,
                    format!("财政补贴层级重复：{}", l.level),
                );
            }
            seen.push(l.level.clone());
            // No limit on decimals: a share such as 2/3 of the premium is a
            // repeating decimal, and the levels must add up to it exactly.
            if l.percent <= Decimal::ZERO || l.percent > Decimal::ONE_HUNDRED {
                push(
                    ErrorCode::SchemeLevelPercentInvalid,
                    format!("{}的补贴比例须大于0且不超过100（%）", level_name(&l.level)),
                );
            }
        }
        // Every percentage is bounded above (or reported), so the sums and
        // products below cannot overflow; they are checked all the same.
        let levels_bounded = self
            .subsidy_levels
            .iter()
            .all(|l| l.percent.abs() <= Decimal::ONE_HUNDRED)
            && self.subsidy_levels.len() <= FUNDING_LEVELS.len();
        let level_sum = self
            .subsidy_levels
            .iter()
            .try_fold(Decimal::ZERO, |acc, l| acc.checked_add(l.percent));
        let subsidy_per_mu = self.premium_per_mu.checked_sub(self.grower_share_per_mu);
        if let (true, Some(level_sum), Some(subsidy_per_mu)) =
            (levels_bounded, level_sum, subsidy_per_mu)
        {
            if subsidy_per_mu > Fen::ZERO {
                let expected = subsidy_per_mu
                    .to_decimal()
                    .checked_mul(Decimal::ONE_HUNDRED)
                    .and_then(|v| v.checked_div(self.premium_per_mu.to_decimal().max(Decimal::ONE)))
                    .unwrap_or(Decimal::ZERO);
                if self.subsidy_levels.is_empty() || level_sum != expected {
                    push(
                        ErrorCode::SchemeLevelsMismatch,
                        format!(
                            "各级财政补贴比例之和应为保费的{}%，实际为{}%",
                            expected.normalize(),
                            level_sum.normalize()
                        ),
                    );
                }
            }
        }
        if self.perils.is_empty() {
            push(
                ErrorCode::SchemePerilsMissing,
                "至少列出一种保险责任（灾害）".into(),
            );
        }
        let n = &self.notices;
        if !(1..=MAX_NOTICE_DAYS).contains(&n.enrollment_days)
            || !(1..=MAX_NOTICE_DAYS).contains(&n.claim_days)
        {
            push(
                ErrorCode::SchemeNoticeDaysInvalid,
                format!("公示期天数须在1到{MAX_NOTICE_DAYS}天之间"),
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
                ErrorCode::SchemeClaimRulesInvalid,
                "理赔规则中的起赔损失率、免赔率和全损损失率须在0到1之间，且起赔损失率不高于全损损失率".into(),
            );
        }
        if [r.loss_threshold_rate, r.deductible_rate, r.total_loss_rate]
            .iter()
            .any(|v| v.normalize().scale() > MAX_RATE_DECIMALS)
        {
            push(
                ErrorCode::SchemeClaimRulesInvalid,
                format!("理赔规则中的比率最多{MAX_RATE_DECIMALS}位小数（如 0.1 表示10%）"),
            );
        }
        if r.survey_hours == 0 || r.payment_days == 0 {
            push(
                ErrorCode::SchemeClaimDeadlinesInvalid,
                "查勘时限（小时）和赔款支付时限（天）必须大于0".into(),
            );
        }
        if r.survey_hours > MAX_SURVEY_HOURS
            || r.payment_days > MAX_PAYMENT_DAYS
            || r.warn_hours > MAX_SURVEY_HOURS
            || r.max_distance_m > MAX_DISTANCE_M
        {
            push(
                ErrorCode::SchemeClaimDeadlinesInvalid,
                format!(
                    "查勘时限和预警时间最长{MAX_SURVEY_HOURS}小时，赔款支付时限最长{MAX_PAYMENT_DAYS}天，查勘位置允许偏差最大{MAX_DISTANCE_M}米"
                ),
            );
        }
        if self.area_tolerance_percent < Decimal::ZERO
            || self.area_tolerance_percent > Decimal::ONE_HUNDRED
            || self.area_tolerance_percent.normalize().scale() > MAX_RATE_DECIMALS
        {
            push(
                ErrorCode::SchemeAreaToleranceInvalid,
                format!("面积允许误差须在0到100（%）之间，最多{MAX_RATE_DECIMALS}位小数"),
            );
        }
        let ins = &self.inspection;
        if [ins.individual_percent, ins.village_percent]
            .iter()
            .any(|p| {
                *p <= Decimal::ZERO
                    || *p > Decimal::ONE_HUNDRED
                    || p.normalize().scale() > MAX_RATE_DECIMALS
            })
        {
            push(
                ErrorCode::SchemeInspectionInvalid,
                format!("验标抽样比例须大于0且不超过100（%），最多{MAX_RATE_DECIMALS}位小数"),
            );
        }
        let c = &self.checks;
        if c.max_mu_per_grower <= Decimal::ZERO
            || c.max_mu_per_grower > Decimal::from(crate::domain::measure::MAX_PLOT_MU)
            || c.max_mu_per_grower.normalize().scale() > crate::domain::measure::MU_SCALE
            || !(1..=MAX_LATE_REPORT_DAYS).contains(&c.late_report_days)
            || !(2..=MAX_SAME_POSITION_CLAIMS).contains(&c.same_position_claims)
        {
            push(
                ErrorCode::SchemeChecksInvalid,
                format!(
                    "风险核查设置：每户投保面积上限须大于0、不超过{}亩（最多{}位小数），迟报天数须在1到{MAX_LATE_REPORT_DAYS}之间，同一位置赔案数须在2到{MAX_SAME_POSITION_CLAIMS}之间",
                    crate::domain::measure::MAX_PLOT_MU,
                    crate::domain::measure::MU_SCALE
                ),
            );
        }
        if self.varieties.is_empty() {
            push(
                ErrorCode::SchemeVarietiesMissing,
                "至少定义一个品种及其投保条件".into(),
            );
        }
        if self.varieties.len() > MAX_LIST || self.perils.len() > MAX_LIST {
            push(
                ErrorCode::SchemeTooManyEntries,
                format!("品种和保险责任各最多{MAX_LIST}项"),
            );
        }
        for v in &self.varieties {
            if v.code.trim().is_empty() || v.name.trim().is_empty() {
                push(
                    ErrorCode::SchemeVarietyInvalid,
                    "品种必须有代码和名称".into(),
                );
            }
            for (label, value) in [("品种代码", &v.code), ("品种名称", &v.name)] {
                if let Err(t) = text::check(label, value, TextKind::Place) {
                    push(ErrorCode::SchemeTextInvalid, t.message);
                }
            }
            for rule in &v.rules {
                let out_of_range = [rule.min, rule.max]
                    .iter()
                    .flatten()
                    .any(|b| b.abs() > MAX_RULE_BOUND);
                if out_of_range {
                    push(
                        ErrorCode::SchemeVarietyInvalid,
                        format!(
                            "品种{}的投保条件“{}”的界限须在±{}以内",
                            v.name, rule.label, MAX_RULE_BOUND
                        ),
                    );
                }
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(p)
        }
    }
}
