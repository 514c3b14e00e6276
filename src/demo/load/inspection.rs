//! Pre-cover inspection in the demo county, so its pages show every state:
//! in the first township, one village's sample complete with an area
//! corrected, one with a plot refused, one under way (some plots verified,
//! the rest waiting) and one drawn again by the county forestry bureau (the
//! earlier draw kept, superseded). Every step goes through the use cases.

use crate::app::inspection::{self, DrawInput, ResultInput, VillageStatus};
use crate::app::Actor;
use crate::db::models::{Plot, Policy};
use crate::db::schema::{areas, plots, policies, users};
use crate::db::DbConn;
use crate::domain::area::AreaLevel;
use crate::domain::inspection::{draw as draw_sample, required_units, Candidate, EnrolmentMode};
use crate::domain::policy::PolicyStatus;
use crate::domain::Mu;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

fn actor_named(conn: &mut DbConn, name: &str) -> AppResult<Actor> {
    let id: i64 = users::table
        .filter(users::username.eq(name))
        .select(users::id)
        .first(conn)?;
    crate::app::auth::actor_by_id(conn, id)?
        .ok_or_else(|| AppError::Internal(format!("demo account {name}")))
}

/// Where the inspector stands: the middle of the plot's polygon, else the
/// county's centre (a plot without boundary is not checked).
fn position(p: &Plot) -> (f64, f64) {
    p.boundary
        .as_deref()
        .and_then(|b| crate::geo::parse_polygon(b).ok())
        .and_then(|poly| {
            use geo::Centroid;
            poly.centroid()
        })
        .map(|c| (c.y(), c.x()))
        .unwrap_or((25.65, 99.95))
}

fn result(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    sample: i64,
    outcome: &str,
    area_mu: Option<Mu>,
    reason: &str,
) -> AppResult<()> {
    let p = {
        use crate::db::schema::inspection_samples;
        let plot: i64 = inspection_samples::table
            .find(sample)
            .select(inspection_samples::plot_id)
            .first(conn)?;
        crate::app::load::<Plot>(conn, plot)?
    };
    let (lat, lon) = position(&p);
    inspection::record(
        conn,
        actor,
        now,
        sample,
        &ResultInput {
            client_id: format!("demo-inspection-{sample:06}"),
            outcome: outcome.into(),
            area_mu: area_mu.map(|m| serde_json::json!(m.to_string())),
            reason: reason.into(),
            notes: "演示数据".into(),
            latitude: Some(serde_json::json!(lat)),
            longitude: Some(serde_json::json!(lon)),
            accuracy_m: Some(5.0),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// The sampled plots of a status whose grower's policy is still a draft
/// (a correction or a refusal then shows in the premium).
fn on_drafts(conn: &mut DbConn, s: &VillageStatus) -> AppResult<Vec<(i64, Plot)>> {
    let mut out = Vec::new();
    for x in &s.samples {
        let p = crate::app::load::<Plot>(conn, x.plot_id)?;
        let draft = policies::table
            .filter(policies::grower_id.eq(p.grower_id))
            .filter(policies::scheme_id.eq(p.scheme_id))
            .select(Policy::as_select())
            .first(conn)
            .optional()?
            .is_some_and(|x| x.status == PolicyStatus::Draft);
        if draft {
            out.push((x.id, p));
        }
    }
    Ok(out)
}

/// The draft plots of a village (on a draft policy), with whether their
/// grower has other eligible plots.
fn draft_plots(conn: &mut DbConn, village: i64) -> AppResult<Vec<(i64, bool)>> {
    let rows: Vec<(i64, i64)> = plots::table
        .inner_join(
            policies::table.on(policies::grower_id
                .eq(plots::grower_id)
                .and(policies::scheme_id.eq(plots::scheme_id))),
        )
        .filter(plots::village_id.eq(village))
        .filter(plots::eligible.eq(true))
        .filter(policies::status.eq(PolicyStatus::Draft))
        .select((plots::id, plots::grower_id))
        .load(conn)?;
    let mut out = Vec::new();
    for (plot, grower) in rows {
        let n: i64 = plots::table
            .filter(plots::grower_id.eq(grower))
            .filter(plots::eligible.eq(true))
            .count()
            .get_result(conn)?;
        out.push((plot, n > 1));
    }
    Ok(out)
}

/// The first seed from `base` whose sample (the rule applied beforehand,
/// as the draw will) holds a plot `wanted` accepts, so the demo's
/// correction and refusal fall on draft policies whose figures follow.
fn seed_for(
    conn: &mut DbConn,
    village: i64,
    mode: EnrolmentMode,
    base: i64,
    wanted: &[i64],
) -> AppResult<i64> {
    let scheme = crate::app::schemes::current(conn)?
        .ok_or_else(|| AppError::Internal("demo scheme".into()))?;
    let population = crate::db::inspection::population(conn, scheme.id, village)?;
    let total: Mu = population.iter().map(|p| p.2).sum();
    let required = required_units(total, scheme.def.inspection.percent(mode)).unwrap_or(0);
    let candidates: Vec<Candidate> = population
        .into_iter()
        .map(|(id, key, area)| Candidate { key, id, area })
        .collect();
    for seed in base..base + 1_000 {
        let sample = draw_sample(candidates.clone(), seed as u64, required);
        if sample.iter().any(|c| wanted.contains(&c.id)) {
            return Ok(seed);
        }
    }
    Ok(base)
}

pub(super) fn demo_inspection(conn: &mut DbConn, now: DateTime<Utc>) -> AppResult<()> {
    let station = actor_named(conn, "station01")?;
    let forestry = actor_named(conn, "forestry")?;
    let adjuster = actor_named(conn, "adjuster")?;
    let township = station
        .township_id
        .ok_or_else(|| AppError::Internal("demo station without township".into()))?;
    // The first township's villages with at least three plots to inspect.
    let villages: Vec<i64> = areas::table
        .filter(areas::level.eq(AreaLevel::Village))
        .filter(areas::parent_id.eq(township))
        .order(areas::code)
        .select(areas::id)
        .load(conn)?;
    let mut chosen = Vec::new();
    for v in villages {
        let n: i64 = plots::table
            .inner_join(
                policies::table.on(policies::grower_id
                    .eq(plots::grower_id)
                    .and(policies::scheme_id.eq(plots::scheme_id))),
            )
            .filter(plots::village_id.eq(v))
            .filter(plots::eligible.eq(true))
            .filter(policies::status.eq(PolicyStatus::Draft))
            .count()
            .get_result(conn)?;
        if n >= 3 {
            chosen.push(v);
        }
        if chosen.len() == 4 {
            break;
        }
    }
    let draw = |conn: &mut DbConn, who: &Actor, v: i64, mode: &str, seed: i64, reason: &str| {
        inspection::draw(
            conn,
            who,
            now,
            v,
            &DrawInput {
                mode: mode.into(),
                seed: Some(serde_json::json!(seed)),
                reason: reason.into(),
                ..Default::default()
            },
        )
    };
    let [a, b, c, d] = chosen[..] else {
        return Err(AppError::Internal("演示县第一个乡镇的村不够4个".into()));
    };
    // A: organised by the village (5%); every sampled plot verified, the
    // first on a draft policy measured smaller on site.
    let drafts: Vec<i64> = draft_plots(conn, a)?.into_iter().map(|x| x.0).collect();
    let seed = seed_for(conn, a, EnrolmentMode::Village, 2012031501, &drafts)?;
    let s = draw(conn, &station, a, "village", seed, "")?;
    let drafts = on_drafts(conn, &s)?;
    let corrected = drafts.first().map(|(id, _)| *id);
    for x in &s.samples {
        if Some(x.id) == corrected {
            let p = crate::app::load::<Plot>(conn, x.plot_id)?;
            // Nine tenths of the declared area, to the hundredth of a mu.
            let units = (p.area_units.units() * 9 / 10) / 100 * 100;
            let area = Mu::from_units(units.max(100));
            result(conn, &adjuster, now, x.id, "corrected", Some(area), "")?;
        } else {
            result(conn, &adjuster, now, x.id, "verified", None, "")?;
        }
    }
    // B: one plot refused (of a grower with other plots, so the draft
    // stays with less insured area), the others verified.
    let mut wanted: Vec<i64> = draft_plots(conn, b)?
        .into_iter()
        .filter(|x| x.1)
        .map(|x| x.0)
        .collect();
    if wanted.is_empty() {
        wanted = draft_plots(conn, b)?.into_iter().map(|x| x.0).collect();
    }
    let seed = seed_for(conn, b, EnrolmentMode::Village, 2012031502, &wanted)?;
    let s = draw(conn, &station, b, "village", seed, "")?;
    let drafts = on_drafts(conn, &s)?;
    let mut refused = drafts.first().map(|(id, _)| *id);
    for (id, p) in &drafts {
        let plots_of_grower: i64 = plots::table
            .filter(plots::grower_id.eq(p.grower_id))
            .filter(plots::eligible.eq(true))
            .count()
            .get_result(conn)?;
        if plots_of_grower > 1 {
            refused = Some(*id);
            break;
        }
    }
    for x in &s.samples {
        if Some(x.id) == refused {
            result(
                conn,
                &adjuster,
                now,
                x.id,
                "refused",
                None,
                "树体衰弱、管理粗放，不符合“生长正常、管理规范”",
            )?;
        } else {
            result(conn, &adjuster, now, x.id, "verified", None, "")?;
        }
    }
    // C: individual enrolment (50%), under way: the first two verified.
    let s = draw(conn, &station, c, "individual", 2012031503, "")?;
    for x in s.samples.iter().take(2) {
        result(conn, &adjuster, now, x.id, "verified", None, "")?;
    }
    // D: drawn, then drawn again by the county forestry bureau.
    draw(conn, &station, d, "village", 2012031504, "")?;
    draw(
        conn,
        &forestry,
        d,
        "village",
        2012031505,
        "抽样时有农户地块尚未登记，补登后重新抽取",
    )?;
    Ok(())
}
