//! Who may do what: the roles, the actions, and one table joining them with
//! how far each grant reaches (the whole county, the actor's own township, or
//! only the claims assigned to the actor). Every `can_*`/`may_*` question in
//! the application is answered from [`grant`].

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    CountyForestry,
    Township,
    Underwriter,
    Adjuster,
    Finance,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::CountyForestry,
        Role::Township,
        Role::Underwriter,
        Role::Adjuster,
        Role::Finance,
    ];

    /// The stored and typed form (`users.role`, `guobao user add --role`).
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CountyForestry => "county_forestry",
            Role::Township => "township",
            Role::Underwriter => "underwriter",
            Role::Adjuster => "adjuster",
            Role::Finance => "finance",
        }
    }

    /// What people read.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::CountyForestry => "县林业局",
            Role::Township => "乡镇林业站",
            Role::Underwriter => "保险公司承保",
            Role::Adjuster => "查勘员",
            Role::Finance => "县财政局",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.code() == s)
    }

    /// Only a township station's grants stop at a township line.
    pub fn is_township_bound(self) -> bool {
        self == Role::Township
    }
}

/// Everything the access table answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Growers, plots and draft policies (the roster).
    EditEnrollment,
    /// Record the grower's share of premium, hand it over.
    CollectPremium,
    /// Issue and cancel policies.
    Underwrite,
    /// Create insurance schemes.
    ManageSchemes,
    /// Read the audit log.
    ReadAudit,
    /// Full ID numbers, phones and bank accounts instead of masked ones.
    SeePersonalData,
    /// Sign off the subsidy statement, adjust it, pay, reconcile.
    ManageSubsidy,
    /// The subsidy statement and the finance dashboard.
    ViewStatement,
    /// Disbursements and balances.
    ViewPayments,
    /// Send the insurer's subsidy requests.
    SubmitSubsidyRequest,
    /// Read subsidy requests.
    ViewSubsidyRequests,
    /// The premium flow (collected, handed over, confirmed).
    ViewPremiumFlow,
    /// The insurer confirms the premium it received.
    ConfirmPremium,
    /// Report, dispatch, approve, decline and pay claims.
    HandleClaims,
    /// See claims.
    ViewClaims,
    /// Survey a claim and send its photos.
    SurveyClaims,
    /// Create accounts, change roles, reset passwords, unlock, revoke tokens.
    ManageAccounts,
    /// Prepare and record the public notices (公示), their photos and objections.
    PostNotices,
    /// Draw a village's pre-cover inspection sample (验标抽样) and see it.
    DrawInspection,
    /// Draw a village's sample again, superseding the earlier draw.
    RedrawInspection,
    /// Record a sampled plot's inspection result on site.
    RecordInspection,
    /// The fraud and quality checks report (风险核查). Not the adjuster's:
    /// it judges the adjusters' own surveys and reaches past their claims.
    ViewChecks,
    /// The monthly operations inspection (按月巡检): backups, the audit
    /// chain, logins, deadlines, errors, disk — the system's own health.
    ViewOperations,
}

impl Action {
    pub const ALL: [Action; 23] = [
        Action::EditEnrollment,
        Action::CollectPremium,
        Action::Underwrite,
        Action::ManageSchemes,
        Action::ReadAudit,
        Action::SeePersonalData,
        Action::ManageSubsidy,
        Action::ViewStatement,
        Action::ViewPayments,
        Action::SubmitSubsidyRequest,
        Action::ViewSubsidyRequests,
        Action::ViewPremiumFlow,
        Action::ConfirmPremium,
        Action::HandleClaims,
        Action::ViewClaims,
        Action::SurveyClaims,
        Action::ManageAccounts,
        Action::PostNotices,
        Action::DrawInspection,
        Action::RedrawInspection,
        Action::RecordInspection,
        Action::ViewChecks,
        Action::ViewOperations,
    ];
}

/// How far a grant reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every township of the county.
    County,
    /// The actor's own township only.
    OwnTownship,
    /// Only claims the actor is assigned to (as adjuster or co-surveyor).
    Assigned,
}

use Action as A;
use Reach::{Assigned, County, OwnTownship};
use Role as R;

/// Who reads the money's course: the subsidy statement and the premium flow.
const MONEY_READERS: &[(Role, Reach)] = &[
    (R::Admin, County),
    (R::CountyForestry, County),
    (R::Township, OwnTownship),
    (R::Underwriter, County),
    (R::Finance, County),
];

/// The access table. A role missing from an action's row may not do it.
const TABLE: &[(Action, &[(Role, Reach)])] = &[
    (
        A::EditEnrollment,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Township, OwnTownship),
        ],
    ),
    (
        A::CollectPremium,
        &[(R::Admin, County), (R::Township, OwnTownship)],
    ),
    (
        A::Underwrite,
        &[(R::Admin, County), (R::Underwriter, County)],
    ),
    (A::ManageSchemes, &[(R::Admin, County)]),
    (
        A::ReadAudit,
        &[(R::Admin, County), (R::CountyForestry, County)],
    ),
    (
        A::SeePersonalData,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Township, OwnTownship),
            (R::Underwriter, County),
        ],
    ),
    (
        A::ManageSubsidy,
        &[(R::Admin, County), (R::Finance, County)],
    ),
    (A::ViewStatement, MONEY_READERS),
    (
        A::ViewPayments,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Underwriter, County),
            (R::Finance, County),
        ],
    ),
    (
        A::SubmitSubsidyRequest,
        &[(R::Admin, County), (R::Underwriter, County)],
    ),
    (
        A::ViewSubsidyRequests,
        &[
            (R::Admin, County),
            (R::Underwriter, County),
            (R::Finance, County),
        ],
    ),
    (A::ViewPremiumFlow, MONEY_READERS),
    (
        A::ConfirmPremium,
        &[(R::Admin, County), (R::Underwriter, County)],
    ),
    (
        A::HandleClaims,
        &[(R::Admin, County), (R::Underwriter, County)],
    ),
    (
        A::ViewClaims,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Township, OwnTownship),
            (R::Underwriter, County),
            (R::Adjuster, Assigned),
            (R::Finance, County),
        ],
    ),
    (
        A::SurveyClaims,
        &[(R::CountyForestry, Assigned), (R::Adjuster, Assigned)],
    ),
    (A::ManageAccounts, &[(R::Admin, County)]),
    (
        A::PostNotices,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Township, OwnTownship),
            (R::Underwriter, County),
        ],
    ),
    (
        A::DrawInspection,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Township, OwnTownship),
            (R::Underwriter, County),
        ],
    ),
    (
        A::RedrawInspection,
        &[(R::Admin, County), (R::CountyForestry, County)],
    ),
    (
        A::RecordInspection,
        &[
            (R::CountyForestry, County),
            (R::Underwriter, County),
            (R::Adjuster, County),
        ],
    ),
    (
        A::ViewChecks,
        &[
            (R::Admin, County),
            (R::CountyForestry, County),
            (R::Township, OwnTownship),
            (R::Underwriter, County),
            (R::Finance, County),
        ],
    ),
    (A::ViewOperations, &[(R::Admin, County)]),
];

/// How far `role` may do `action`, or `None` when it may not at all.
pub fn grant(role: Role, action: Action) -> Option<Reach> {
    TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .and_then(|(_, grants)| grants.iter().find(|(r, _)| *r == role))
        .map(|(_, reach)| *reach)
}

/// Whose row an action touches, seen from the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A row of the actor's own township (or no township at all: a county
    /// list, a scheme).
    Own,
    /// A row of another township.
    OtherTownship,
    /// A claim assigned to the actor.
    AssignedClaim,
    /// A claim of the county not assigned to the actor.
    UnassignedClaim,
}

/// Role × action × target: may it be done?
pub fn allows(role: Role, action: Action, target: Target) -> bool {
    match (grant(role, action), target) {
        (None, _) => false,
        (Some(County), _) => true,
        (Some(OwnTownship), t) => t == Target::Own,
        (Some(Assigned), t) => t == Target::AssignedClaim,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix written out a second time, by hand, as the README and
    /// DOMAIN.md describe it: C county, T own township, S assigned claims,
    /// "-" not at all. Columns: admin, county forestry, township,
    /// underwriter, adjuster, finance.
    const EXPECTED: &[(Action, &str)] = &[
        (A::EditEnrollment, "CCT---"),
        (A::CollectPremium, "C-T---"),
        (A::Underwrite, "C--C--"),
        (A::ManageSchemes, "C-----"),
        (A::ReadAudit, "CC----"),
        (A::SeePersonalData, "CCTC--"),
        (A::ManageSubsidy, "C----C"),
        (A::ViewStatement, "CCTC-C"),
        (A::ViewPayments, "CC-C-C"),
        (A::SubmitSubsidyRequest, "C--C--"),
        (A::ViewSubsidyRequests, "C--C-C"),
        (A::ViewPremiumFlow, "CCTC-C"),
        (A::ConfirmPremium, "C--C--"),
        (A::HandleClaims, "C--C--"),
        (A::ViewClaims, "CCTCSC"),
        (A::SurveyClaims, "-S--S-"),
        (A::ManageAccounts, "C-----"),
        (A::PostNotices, "CCTC--"),
        (A::DrawInspection, "CCTC--"),
        (A::RedrawInspection, "CC----"),
        (A::RecordInspection, "-C-CC-"),
        (A::ViewChecks, "CCTC-C"),
        (A::ViewOperations, "C-----"),
    ];

    #[test]
    fn the_table_matches_the_matrix_cell_by_cell() {
        assert_eq!(EXPECTED.len(), Action::ALL.len());
        for action in Action::ALL {
            let row = EXPECTED
                .iter()
                .find(|(a, _)| *a == action)
                .map(|(_, r)| *r)
                .unwrap_or_else(|| panic!("{action:?} missing from the expected matrix"));
            for (role, cell) in Role::ALL.iter().zip(row.chars()) {
                let expected = match cell {
                    'C' => Some(County),
                    'T' => Some(OwnTownship),
                    'S' => Some(Assigned),
                    _ => None,
                };
                assert_eq!(grant(*role, action), expected, "{role:?} × {action:?}");
            }
        }
    }

    #[test]
    fn a_township_grant_stops_at_the_township_line() {
        use Target::*;
        for action in Action::ALL {
            for role in Role::ALL {
                let g = grant(role, action);
                let cases = [
                    (Own, g.is_some_and(|r| r != Assigned)),
                    (OtherTownship, g == Some(County)),
                    (AssignedClaim, g.is_some_and(|r| r != OwnTownship)),
                    (UnassignedClaim, g == Some(County)),
                ];
                for (target, expected) in cases {
                    assert_eq!(
                        allows(role, action, target),
                        expected,
                        "{role:?} × {action:?} × {target:?}"
                    );
                }
            }
        }
        // Spelled out for the case that matters most.
        assert!(allows(R::Township, A::EditEnrollment, Own));
        assert!(!allows(R::Township, A::EditEnrollment, OtherTownship));
        assert!(allows(R::CountyForestry, A::EditEnrollment, OtherTownship));
        assert!(!allows(R::Adjuster, A::ViewClaims, UnassignedClaim));
        assert!(allows(R::Adjuster, A::ViewClaims, AssignedClaim));
    }

    #[test]
    fn only_the_township_role_is_township_bound() {
        for role in Role::ALL {
            let bound = Action::ALL
                .iter()
                .any(|a| grant(role, *a) == Some(OwnTownship));
            assert_eq!(bound, role.is_township_bound(), "{role:?}");
        }
    }

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
            assert_eq!(
                serde_json::to_value(role).ok(),
                Some(serde_json::Value::String(role.code().into()))
            );
        }
        assert_eq!(Role::parse("root"), None);
    }
}
