//! Load the generated demo county into an empty database. Areas, accounts,
//! the scheme and the claims go through the use cases people use; the
//! growers, plots, policies, batches and payments are written in bulk with
//! the values those use cases would store (`bulk`), under one audit entry.

mod bulk;
mod inspection;

use crate::app::auth::{create_demo_user, NewAccount};
use crate::app::{Actor, Role};
use crate::db::models::NewArea;
use crate::db::schema::{areas, policies};
use crate::db::DbConn;
use crate::domain::claims::ClaimStatus;
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::{FundingLevel, SchemeDef, WALNUT_2012_JSON};
use crate::domain::Mu;
use crate::error::{AppError, AppResult, ErrorCode};
use diesel::prelude::*;

/// Demo accounts: (username, display name, role, township index or none).
pub const DEMO_PASSWORD: &str = "guobao-demo";

pub fn demo_accounts() -> Vec<(String, String, Role, Option<usize>)> {
    let mut v = vec![
        ("admin".into(), "系统管理员".into(), Role::Admin, None),
        (
            "forestry".into(),
            "县林业局 李科长".into(),
            Role::CountyForestry,
            None,
        ),
        (
            "underwriter".into(),
            "保险公司 王承保".into(),
            Role::Underwriter,
            None,
        ),
        (
            "adjuster".into(),
            "保险公司 赵查勘".into(),
            Role::Adjuster,
            None,
        ),
        (
            "finance".into(),
            "县财政局 张会计".into(),
            Role::Finance,
            None,
        ),
    ];
    for i in 0..15 {
        v.push((
            format!("station{:02}", i + 1),
            String::new(),
            Role::Township,
            Some(i),
        ));
    }
    v
}

pub struct DemoSummary {
    pub townships: usize,
    pub villages: usize,
    pub growers: usize,
    pub plots: usize,
    pub policies: i64,
}

fn area_polygon(ring: &[(f64, f64)]) -> String {
    let coords: Vec<[f64; 2]> = ring.iter().map(|(x, y)| [*x, *y]).collect();
    serde_json::json!({"type": "Polygon", "coordinates": [coords]}).to_string()
}

/// The day of the 2012 season the demo stands on: the hailstorm, some ten
/// weeks into the term. The demo's season is shifted so this day is today.
pub const DEMO_STORM_DAY: (i32, u32, u32) = (2012, 6, 12);

/// The walnut scheme as the demo's season: the same rules, every date moved
/// by the same number of days so that the 2012 season's storm day
/// ([`DEMO_STORM_DAY`]) falls on `today` — its policies are in force today
/// and its claims were reported in the last hours — and named for the
/// current year ("核桃树保险（2026年度）", code `walnut-2026`). The same
/// `today` gives the same scheme.
pub fn demo_scheme(today: chrono::NaiveDate) -> AppResult<SchemeDef> {
    use chrono::Datelike;
    let mut def: SchemeDef = serde_json::from_str(WALNUT_2012_JSON)
        .map_err(|e| AppError::Internal(format!("walnut fixture: {e}")))?;
    let (y, m, d) = DEMO_STORM_DAY;
    let storm = chrono::NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| AppError::Internal("demo storm day".into()))?;
    let shift = today - storm;
    def.term_start += shift;
    def.term_end += shift;
    def.year = today.year();
    def.code = format!("walnut-{}", def.year);
    def.name = format!("核桃树保险（{}年度）", def.year);
    Ok(def)
}

/// `progress` is called with (done, total) after each grower. The season is
/// the one of today on the system clock ([`load_at`]).
pub fn load(conn: &mut DbConn, progress: &mut dyn FnMut(usize, usize)) -> AppResult<DemoSummary> {
    load_at(conn, crate::app::clock::Clock::system().now(), progress)
}

/// The demo county as of `now`: its season ([`demo_scheme`]) and every
/// time it writes follow `now`, so one `now` always gives the same county.
pub fn load_at(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    progress: &mut dyn FnMut(usize, usize),
) -> AppResult<DemoSummary> {
    let existing: i64 = areas::table.count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::conflict(
            ErrorCode::DatabaseNotEmpty,
            "数据库中已有行政区划数据，演示数据只能载入空数据库",
        ));
    }
    let county = super::county::generate();
    let actor = Actor::system();
    let def = demo_scheme(crate::app::clock::china_date(now))?;
    crate::app::tx(conn, |conn| {
        let scheme = crate::app::schemes::create(conn, &actor, &def)?;
        let county_id: i64 = diesel::insert_into(areas::table)
            .values(NewArea {
                code: &county.code,
                name: &county.name,
                level: crate::domain::area::AreaLevel::County,
                parent_id: None,
                target_mu_units: Some(
                    Mu::from_units(
                        county
                            .townships
                            .iter()
                            .map(|t| t.target_mu as i64 * 10_000)
                            .sum(),
                    )
                    .units(),
                ),
            })
            .returning(areas::id)
            .get_result(conn)?;
        let mut village_count = 0;
        for t in &county.townships {
            let tid: i64 = diesel::insert_into(areas::table)
                .values(NewArea {
                    code: &t.code,
                    name: &t.name,
                    level: crate::domain::area::AreaLevel::Township,
                    parent_id: Some(county_id),
                    target_mu_units: Some(t.target_mu as i64 * 10_000),
                })
                .returning(areas::id)
                .get_result(conn)?;
            for v in &t.villages {
                diesel::insert_into(areas::table)
                    .values(NewArea {
                        code: &v.code,
                        name: &v.name,
                        level: crate::domain::area::AreaLevel::Village,
                        parent_id: Some(tid),
                        target_mu_units: None,
                    })
                    .execute(conn)?;
                village_count += 1;
            }
        }
        for (username, display, role, township) in demo_accounts() {
            let town = township
                .map(|i| {
                    county.townships.get(i).ok_or_else(|| {
                        AppError::Internal(format!(
                            "演示县只有{}个乡镇，账号{username}需要第{}个",
                            county.townships.len(),
                            i + 1
                        ))
                    })
                })
                .transpose()?;
            let township_code = town.map(|t| t.code.clone());
            let display = if display.is_empty() {
                format!("{}林业站", town.map(|t| t.name.as_str()).unwrap_or(""))
            } else {
                display
            };
            create_demo_user(
                conn,
                &NewAccount {
                    username: &username,
                    display_name: &display,
                    password: DEMO_PASSWORD,
                    role: role.code(),
                    township_code: township_code.as_deref(),
                    must_change_password: false,
                },
            )?;
        }
        let total = county.growers.len();
        let mut created = bulk::enrol(conn, &county, &scheme, &actor, now, progress)?;
        let summary = DemoSummary {
            townships: county.townships.len(),
            villages: village_count,
            growers: total,
            plots: created.plots.len(),
            policies: created.policies.len() as i64,
        };
        // Inspection first: its area correction reprices a draft, which the
        // village's notice then shows as it stands.
        inspection::demo_inspection(conn, now)?;
        let notice_ids = super::notices::enrollment(conn, &scheme, now)?;
        demo_claims(conn, &scheme, now)?;
        // One audit entry for the notices written with the county.
        let all: Vec<i64> = crate::db::schema::notices::table
            .select(crate::db::schema::notices::id)
            .order(crate::db::schema::notices::id)
            .load(conn)?;
        crate::app::audit::record(
            conn,
            &actor,
            "demo",
            "notice",
            notice_ids.first().copied().unwrap_or(0),
            None::<&()>,
            Some(&serde_json::json!({"created": {"notice": crate::app::audit::id_runs(all)}})),
        )?;
        created.disbursements = demo_disbursements(conn, &actor, &scheme, now)?;
        super::checks::plant(conn)?;
        bulk::record(conn, &actor, &county.code, created)?;
        Ok(summary)
    })
}

/// A hailstorm's claims in every state, reported in the hours before now, so
/// the claims board has something to count down.
fn demo_claims(
    conn: &mut DbConn,
    scheme: &crate::app::schemes::Scheme,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    use crate::app::claims;
    use crate::db::schema::{plots, users};
    let actor_named = |conn: &mut DbConn, name: &str| -> AppResult<Actor> {
        let id: i64 = users::table
            .filter(users::username.eq(name))
            .select(users::id)
            .first(conn)?;
        crate::app::auth::actor_by_id(conn, id)?
            .ok_or_else(|| AppError::Internal(format!("demo account {name}")))
    };
    let desk = actor_named(conn, "underwriter")?;
    let adjuster = actor_named(conn, "adjuster")?;
    // The storm struck four days ago, in the afternoon (China time), before
    // every report below (the oldest is 70 hours old).
    let storm = crate::app::clock::china_date(now) - chrono::Duration::days(4);
    let occurred_at = format!("{storm} 15:00");
    // Issued policies with an insured plot, first township first.
    let insured: Vec<(i64, i64, Option<String>)> = policies::table
        .inner_join(plots::table.on(plots::grower_id.eq(policies::grower_id)))
        .filter(policies::status.eq(PolicyStatus::Issued))
        .filter(plots::eligible.eq(true))
        .order((policies::township_id, policies::id, plots::id))
        .select((policies::id, plots::id, plots::boundary))
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    let picks: Vec<_> = insured
        .into_iter()
        .filter(|(p, _, _)| seen.insert(*p))
        .take(11)
        .collect();
    // (hours before now, peril, how far along)
    let plan: [(i64, &str, ClaimStatus); 11] = [
        (2, "hail", ClaimStatus::Reported),
        (19, "hail", ClaimStatus::Reported),
        (30, "hail", ClaimStatus::Reported),
        (5, "hail", ClaimStatus::Dispatched),
        (21, "hail", ClaimStatus::Dispatched),
        (27, "hail", ClaimStatus::Dispatched),
        (20, "hail", ClaimStatus::Surveyed),
        (40, "hail", ClaimStatus::Approved),
        (60, "hail", ClaimStatus::Agreed),
        (70, "hail", ClaimStatus::Paid),
        (3, "drought", ClaimStatus::Declined),
    ];
    for (i, ((policy, plot, boundary), (hours, peril, stage))) in
        picks.iter().zip(plan.iter()).enumerate()
    {
        let reported = now - chrono::Duration::hours(*hours);
        let c = claims::report(
            conn,
            &desk,
            reported,
            &claims::ReportInput {
                target: claims::PlotRef {
                    policy_id: Some(*policy),
                    plot_id: Some(*plot),
                    ..Default::default()
                },
                peril: peril.to_string(),
                occurred_at: occurred_at.clone(),
                reporter_name: "报案农户".into(),
                reporter_phone: "13800000000".into(),
                channel: Some("phone".into()),
                description: "冰雹打落青果、折断枝条".into(),
                confirm_exclusion: true,
                ..Default::default()
            },
        )?
        .claim;
        if *stage == ClaimStatus::Reported || *stage == ClaimStatus::Declined {
            continue;
        }
        let at = reported + chrono::Duration::minutes(30);
        claims::dispatch(
            conn,
            &desk,
            at,
            c.id,
            &claims::DispatchInput {
                adjuster: "adjuster".into(),
                co_surveyor: "forestry".into(),
                version: None,
            },
        )?;
        if *stage == ClaimStatus::Dispatched {
            continue;
        }
        // Stand in the middle of the plot's polygon when it has one.
        let (lat, lon) = boundary
            .as_deref()
            .and_then(|b| crate::geo::parse_polygon(b).ok())
            .and_then(|p| {
                use geo::Centroid;
                p.centroid()
            })
            .map(|c| (c.y(), c.x()))
            .unwrap_or((25.65, 99.95));
        let surveyed = reported + chrono::Duration::hours(6);
        claims::submit_survey(
            conn,
            &adjuster,
            surveyed,
            c.id,
            &claims::SurveyInput {
                client_id: format!("demo-survey-{i:04}"),
                latitude: Some(serde_json::json!(lat)),
                longitude: Some(serde_json::json!(lon)),
                accuracy_m: Some(6.0),
                damaged_trees: Some(serde_json::json!(10)),
                affected_mu: c.plot_mu.to_string(),
                loss_rate: DEMO_LOSS_RATES
                    .get(i % DEMO_LOSS_RATES.len())
                    .copied()
                    .unwrap_or("50")
                    .into(),
                adjuster_confirmed: true,
                co_surveyor_confirmed: true,
                grower_signed_name: c.grower_name.clone(),
                grower_signature: DEMO_SIGNATURE.into(),
                notes: "青果脱落，部分枝条折断".into(),
                ..Default::default()
            },
        )?;
        if *stage == ClaimStatus::Surveyed {
            continue;
        }
        let c = claims::approve(conn, &desk, now, c.id, &Default::default())?;
        if *stage == ClaimStatus::Approved || c.status != ClaimStatus::Approved {
            continue;
        }
        let day = crate::app::clock::china_date(now);
        let today = day.to_string();
        let c = claims::agree(
            conn,
            &desk,
            now,
            c.id,
            &claims::AgreeInput {
                agreed_on: today.clone(),
                version: None,
            },
        )?;
        let row = claims::load(conn, c.id)?;
        let days = i64::from(scheme.def.notices.claim_days);
        if *stage == ClaimStatus::Agreed {
            // Its results notice is up now: payment waits for its end.
            let end = day + chrono::Duration::days(days);
            super::notices::claim(conn, scheme, &row, day, end, now)?;
        }
        if *stage == ClaimStatus::Paid {
            // Posted and ended before the payment.
            let end = day - chrono::Duration::days(1);
            let start = end - chrono::Duration::days(days);
            super::notices::claim(conn, scheme, &row, start, end, now)?;
            claims::pay(
                conn,
                &desk,
                now,
                c.id,
                &claims::PaymentInput {
                    amount: c.payout.unwrap_or_default().to_string(),
                    paid_on: today,
                    bank_reference: format!("DEMO-PAY-{i:04}"),
                },
            )?;
        }
    }
    Ok(())
}

/// Loss rates (percent) the demo surveys take in turn.
const DEMO_LOSS_RATES: [&str; 4] = ["35", "50", "62.5", "85"];

/// A one-pixel PNG standing in for a grower's signature in the demo.
const DEMO_SIGNATURE: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// Subsidy paid so far: the provincial share in full for the first eight
/// townships, half the county share for the first four, so the finance
/// dashboard shows money due, paid and outstanding.
fn demo_disbursements(
    conn: &mut DbConn,
    actor: &Actor,
    scheme: &crate::app::schemes::Scheme,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<i64>> {
    let balances = crate::app::finance::balances(conn, actor, &scheme.def.code)?;
    let towns: std::collections::HashMap<String, i64> = areas::table
        .filter(areas::level.eq(crate::domain::area::AreaLevel::Township))
        .select((areas::code, areas::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let mut ids = Vec::new();
    // Seven weeks into the term (20 May in the 2012 season).
    let paid_on = crate::domain::time::Day::new(scheme.def.term_start + chrono::Duration::days(49));
    for (i, t) in balances.townships.iter().enumerate().take(8) {
        let township_id = *towns
            .get(&t.township_code)
            .ok_or_else(|| AppError::Internal(format!("演示乡镇{}", t.township_code)))?;
        for l in &t.levels {
            let (level, amount) = match l.level.as_str() {
                "provincial" => (FundingLevel::Provincial, l.figures.outstanding),
                "county" if i < 4 => (
                    FundingLevel::County,
                    crate::domain::Fen(l.figures.outstanding.0 / 2),
                ),
                _ => continue,
            };
            if amount <= crate::domain::Fen::ZERO {
                continue;
            }
            let voucher = format!("CZ{}-{:04}", scheme.def.year, ids.len() + 1);
            ids.push(crate::db::finance::insert_disbursement(
                conn,
                &crate::db::finance::NewDisbursement {
                    scheme_id: scheme.id,
                    township_id,
                    level,
                    amount_fen: amount,
                    paid_on,
                    voucher_no: &voucher,
                    note: "演示数据",
                    created_by: (actor.user_id > 0).then_some(actor.user_id),
                    created_at: crate::domain::time::Instant::from_utc(now),
                },
            )?);
        }
    }
    Ok(ids)
}
