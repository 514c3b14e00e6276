//! A policy's life: draft → collected (grower share paid) → issued →
//! expired | cancelled, and what each status means for cover and money.

use chrono::NaiveDate;

use super::macros::text_enum;

text_enum! {
    #[derive(diesel::AsExpression, diesel::FromSqlRow)]
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub enum PolicyStatus {
        /// Enrolled, grower share not yet paid.
        Draft = "draft" / "待收费",
        /// Grower share collected, waiting for the insurer.
        Collected = "collected" / "已收自缴保费",
        /// Issued by the insurer: cover runs from start to end.
        Issued = "issued" / "已签发",
        /// Cover ended on its end date.
        Expired = "expired" / "已到期",
        /// Cancelled; its money is reversed.
        Cancelled = "cancelled" / "已注销",
    }
    /// A text that is not a policy status code (stored in `policies.status`).
    unknown: UnknownStatus("unknown status {0:?}");
}

impl PolicyStatus {
    /// Statuses whose subsidy is due (the statement counts them).
    pub const SUBSIDISED: [PolicyStatus; 2] = [PolicyStatus::Issued, PolicyStatus::Expired];

    /// Statuses whose grower share has been collected and not refunded.
    pub const COLLECTED: [PolicyStatus; 3] = [
        PolicyStatus::Collected,
        PolicyStatus::Issued,
        PolicyStatus::Expired,
    ];

    /// The moves the use cases make. Anything else is refused.
    pub fn can_move_to(self, next: PolicyStatus) -> bool {
        use PolicyStatus::*;
        matches!(
            (self, next),
            (Draft, Collected)
                | (Collected, Issued)
                | (Issued, Expired)
                | (Draft | Collected | Issued, Cancelled)
        )
    }

    /// Its subsidy is owed (issued, or issued and since expired).
    pub fn is_subsidised(self) -> bool {
        PolicyStatus::SUBSIDISED.contains(&self)
    }

    /// The grower share is held (collected and not refunded).
    pub fn share_collected(self) -> bool {
        PolicyStatus::COLLECTED.contains(&self)
    }

    /// The policy's money and plots no longer follow roster edits.
    pub fn is_locked(self) -> bool {
        self != PolicyStatus::Draft
    }
}

/// "In force" on a China date: issued or since expired, and the day within
/// the cover period (both ends included). The one definition the claims
/// checks and the policy views use.
pub fn covers_day(
    status: PolicyStatus,
    cover_start: Option<NaiveDate>,
    cover_end: Option<NaiveDate>,
    day: NaiveDate,
) -> Cover {
    if !status.is_subsidised() {
        return Cover::NotInForce;
    }
    match (cover_start, cover_end) {
        (Some(s), Some(e)) if day >= s && day <= e => Cover::Covered,
        _ => Cover::OutsidePeriod,
    }
}

/// The answer of [`covers_day`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    Covered,
    /// Not issued (draft, collected) or cancelled.
    NotInForce,
    /// Issued, but the day is before the start or after the end.
    OutsidePeriod,
}

/// Policies whose cover ended before `today` (China date) are expired.
pub fn is_due_to_expire(
    status: PolicyStatus,
    cover_end: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    status == PolicyStatus::Issued && cover_end.is_some_and(|end| end < today)
}

#[cfg(test)]
mod tests {
    use super::PolicyStatus::*;
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn statuses_round_trip_through_text_and_json() {
        for s in PolicyStatus::ALL {
            assert_eq!(PolicyStatus::parse(s.as_str()), Ok(s));
            assert_eq!(s.as_str().parse::<PolicyStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("ISSUED".parse::<PolicyStatus>().is_err());
        assert!("".parse::<PolicyStatus>().is_err());
    }

    #[test]
    fn only_the_documented_moves_are_allowed() {
        // from → the statuses it may move to, written out by hand.
        let expected: [(PolicyStatus, &[PolicyStatus]); 5] = [
            (Draft, &[Collected, Cancelled]),
            (Collected, &[Issued, Cancelled]),
            (Issued, &[Expired, Cancelled]),
            (Expired, &[]),
            (Cancelled, &[]),
        ];
        for (from, tos) in expected {
            for to in PolicyStatus::ALL {
                assert_eq!(from.can_move_to(to), tos.contains(&to), "{from} → {to}");
            }
        }
    }

    #[test]
    fn cover_needs_an_issued_policy_and_a_day_inside_the_period() {
        let (s, e) = (Some(d("2026-04-01")), Some(d("2026-10-31")));
        assert_eq!(covers_day(Issued, s, e, d("2026-04-01")), Cover::Covered);
        assert_eq!(covers_day(Issued, s, e, d("2026-10-31")), Cover::Covered);
        assert_eq!(covers_day(Expired, s, e, d("2026-06-01")), Cover::Covered);
        assert_eq!(
            covers_day(Issued, s, e, d("2026-03-31")),
            Cover::OutsidePeriod
        );
        assert_eq!(
            covers_day(Issued, s, e, d("2026-11-01")),
            Cover::OutsidePeriod
        );
        assert_eq!(
            covers_day(Issued, None, e, d("2026-06-01")),
            Cover::OutsidePeriod
        );
        for status in [Draft, Collected, Cancelled] {
            assert_eq!(covers_day(status, s, e, d("2026-06-01")), Cover::NotInForce);
        }
    }

    #[test]
    fn an_issued_policy_expires_the_day_after_its_end() {
        let end = Some(d("2026-10-31"));
        assert!(!is_due_to_expire(Issued, end, d("2026-10-31")));
        assert!(is_due_to_expire(Issued, end, d("2026-11-01")));
        assert!(!is_due_to_expire(Collected, end, d("2027-01-01")));
        assert!(!is_due_to_expire(Issued, None, d("2027-01-01")));
    }

    #[test]
    fn money_follows_the_status() {
        let subsidised: Vec<_> = PolicyStatus::ALL
            .into_iter()
            .filter(|s| s.is_subsidised())
            .collect();
        assert_eq!(subsidised, [Issued, Expired]);
        let collected: Vec<_> = PolicyStatus::ALL
            .into_iter()
            .filter(|s| s.share_collected())
            .collect();
        assert_eq!(collected, [Collected, Issued, Expired]);
        assert!(!Draft.is_locked() && Collected.is_locked());
    }
}
