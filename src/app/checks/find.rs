//! The checks themselves, county-wide: each reads narrow rows once and
//! groups them in memory (hash maps, an R-tree for the polygons), so the
//! whole report is a few linear passes over the county.

use super::{item, Check, Item, Kind, Raw};
use crate::db::checks::{self as rows, ClaimRow, GrowerRow, PlotRow};
use crate::db::DbConn;
use crate::domain::id_number::{mask_id, mask_phone};
use crate::domain::scheme::SchemeDef;
use crate::domain::Mu;
use crate::error::AppResult;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What every check looks records up in.
struct Ctx {
    names: HashMap<i64, String>,
    schemes: HashMap<i64, SchemeDef>,
    growers: HashMap<i64, GrowerRow>,
    plots: HashMap<i64, PlotRow>,
}

impl Ctx {
    fn grower(&self, id: i64) -> Option<Item> {
        let g = self.growers.get(&id)?;
        Some(item(
            Kind::Grower,
            g.id,
            g.name.clone(),
            g.township_id,
            &self.names,
        ))
    }

    fn plot(&self, p: &PlotRow) -> Item {
        item(Kind::Plot, p.id, p.code.clone(), p.township_id, &self.names)
    }

    fn claim(&self, c: &ClaimRow) -> Item {
        item(
            Kind::Claim,
            c.id,
            c.claim_no.clone(),
            c.township_id,
            &self.names,
        )
    }

    fn town(&self, id: i64) -> &str {
        self.names.get(&id).map(String::as_str).unwrap_or("")
    }
}

/// Every finding of every check, county-wide, in report order.
pub(super) fn all(conn: &mut DbConn) -> AppResult<Vec<Raw>> {
    let names = crate::app::areas::names(conn)?
        .into_iter()
        .map(|(id, a)| (id, a.name))
        .collect();
    let schemes = crate::app::schemes::list(conn)?
        .into_iter()
        .map(|s| (s.id, s.def))
        .collect();
    let growers = rows::growers(conn)?;
    let plots = rows::plots(conn)?;
    let policies = rows::live_policies(conn)?;
    let claims = rows::claims(conn)?;
    let surveys = rows::surveys(conn)?;
    let photos = rows::photos(conn)?;
    let users: HashMap<i64, String> = rows::user_names(conn)?.into_iter().collect();
    let ctx = Ctx {
        names,
        schemes,
        growers: growers.iter().map(|g| (g.id, g.clone())).collect(),
        plots: plots.iter().map(|p| (p.id, p.clone())).collect(),
    };
    let claims_by_id: HashMap<i64, &ClaimRow> = claims.iter().map(|c| (c.id, c)).collect();
    let mut out = Vec::new();
    duplicate_ids(&ctx, &growers, &mut out);
    shared(&ctx, &growers, Check::SharedPhone, &mut out);
    shared(&ctx, &growers, Check::SharedBankAccount, &mut out);
    overlaps(&ctx, &plots, &mut out);
    inflated(&ctx, &plots, &mut out);
    over_cap(&ctx, &policies, &mut out);
    reused_photos(&ctx, &photos, &claims_by_id, &mut out);
    late_reports(&ctx, &claims, &mut out);
    off_plot(&ctx, &surveys, &claims_by_id, &mut out);
    same_position(&ctx, &surveys, &claims_by_id, &users, &mut out);
    Ok(out)
}

fn raw(check: Check, subject: String, detail: String, items: Vec<Item>) -> Raw {
    Raw {
        check,
        subject,
        detail,
        own_subject: None,
        own_detail: None,
        items,
    }
}

/// The form an ID number is compared in (a lower-case x is the same X).
fn id_key(s: &str) -> String {
    s.trim().to_uppercase()
}

/// The same ID number on more than one grower record: the table allows one
/// per year, so these are other townships or other scheme years.
fn duplicate_ids(ctx: &Ctx, growers: &[GrowerRow], out: &mut Vec<Raw>) {
    let mut by_id: BTreeMap<String, Vec<&GrowerRow>> = BTreeMap::new();
    for g in growers {
        let key = id_key(&g.id_number);
        if !key.is_empty() {
            by_id.entry(key).or_default().push(g);
        }
    }
    for (id_number, rows) in by_id {
        if rows.len() < 2 {
            continue;
        }
        let towns: BTreeSet<i64> = rows.iter().map(|g| g.township_id).collect();
        let years: BTreeSet<i32> = rows.iter().map(|g| g.year).collect();
        let places: Vec<String> = rows
            .iter()
            .map(|g| format!("{}（{}年度）", ctx.town(g.township_id), g.year))
            .collect();
        let what = match (towns.len() > 1, years.len() > 1) {
            (true, true) => "多个乡镇、多个年度",
            (true, false) => "多个乡镇",
            _ => "多个年度",
        };
        let mut r = raw(
            Check::DuplicateId,
            mask_id(&id_number),
            format!(
                "同一身份证号在{what}登记了{}次：{}",
                rows.len(),
                places.join("、")
            ),
            rows.iter().filter_map(|g| ctx.grower(g.id)).collect(),
        );
        r.own_detail = Some("同一身份证号已登记（其他乡镇）".into());
        out.push(r);
    }
}

/// The same phone (or bank account) on growers with different ID numbers.
fn shared(ctx: &Ctx, growers: &[GrowerRow], check: Check, out: &mut Vec<Raw>) {
    let value = |g: &GrowerRow| -> String {
        let v = if check == Check::SharedPhone {
            &g.phone
        } else {
            &g.bank_account
        };
        v.chars().filter(|c| !c.is_whitespace()).collect()
    };
    let mut by_value: BTreeMap<String, Vec<&GrowerRow>> = BTreeMap::new();
    for g in growers {
        let v = value(g);
        if !v.is_empty() {
            by_value.entry(v).or_default().push(g);
        }
    }
    for (v, rows) in by_value {
        let people: BTreeSet<String> = rows.iter().map(|g| id_key(&g.id_number)).collect();
        if people.len() < 2 {
            continue;
        }
        let (subject, what) = if check == Check::SharedPhone {
            (mask_phone(&v), "手机号")
        } else {
            (mask_id(&v), "银行账号")
        };
        out.push(raw(
            check,
            subject,
            format!("{}位身份证号不同的农户登记了同一{what}", people.len()),
            rows.iter().filter_map(|g| ctx.grower(g.id)).collect(),
        ));
    }
}

/// Plots of one scheme whose polygons share ground.
fn overlaps(ctx: &Ctx, plots: &[PlotRow], out: &mut Vec<Raw>) {
    let mut shapes = Vec::new();
    let mut owners = Vec::new();
    for p in plots {
        let Some(b) = p.boundary.as_deref() else {
            continue;
        };
        // Stored polygons were checked on the way in; one that no longer
        // reads is not this report's to judge.
        if let Ok(poly) = crate::geo::read_stored(b) {
            shapes.push((p.scheme_id, poly));
            owners.push(p);
        }
    }
    for o in crate::geo::overlapping_pairs(&shapes) {
        let (Some(a), Some(b)) = (owners.get(o.first), owners.get(o.second)) else {
            continue;
        };
        let shared = match o.area {
            Some(m) => format!("约{m}亩"),
            None => "（面积无法计算）".to_string(),
        };
        let share = |p: &PlotRow| match (o.area, p.boundary_area_units) {
            (Some(m), Some(whole)) if whole.units() > 0 => format!(
                "，占{}实测面积的{}%",
                p.code,
                (Decimal::from(m.units()) * Decimal::ONE_HUNDRED / Decimal::from(whole.units()))
                    .round_dp(1)
            ),
            _ => String::new(),
        };
        let mut items = vec![ctx.plot(a), ctx.plot(b)];
        items.extend(ctx.grower(a.grower_id));
        if b.grower_id != a.grower_id {
            items.extend(ctx.grower(b.grower_id));
        }
        let mut r = raw(
            Check::PlotOverlap,
            format!("{} × {}", a.code, b.code),
            format!("地块{}与地块{}边界重叠{shared}{}", a.code, b.code, share(a)),
            items,
        );
        // Seen from one side only, the other plot stays unnamed.
        r.own_subject = Some(format!("{} × {}", a.code, b.code));
        r.own_detail = Some(format!("地块边界与其他乡镇的已投保地块重叠{shared}"));
        if a.township_id != b.township_id {
            // Either township may be the reader's: name neither plot in
            // the subject, the reader's own plot is among the items.
            r.own_subject = Some("与其他乡镇地块重叠".into());
        }
        out.push(r);
    }
}

/// Declared area above the polygon's by more than the scheme's tolerance.
fn inflated(ctx: &Ctx, plots: &[PlotRow], out: &mut Vec<Raw>) {
    for p in plots {
        let (Some(measured), Some(def)) = (p.boundary_area_units, ctx.schemes.get(&p.scheme_id))
        else {
            continue;
        };
        if p.area_units <= measured {
            continue;
        }
        let diff = crate::geo::area_difference_percent(p.area_units, measured);
        if diff <= def.area_tolerance_percent {
            continue;
        }
        let mut items = vec![ctx.plot(p)];
        items.extend(ctx.grower(p.grower_id));
        out.push(raw(
            Check::AreaInflated,
            p.code.clone(),
            format!(
                "申报{}亩，边界实测{}亩，多报{}%（方案允许误差{}%）",
                p.area_units,
                measured,
                diff.normalize(),
                def.area_tolerance_percent.normalize()
            ),
            items,
        ));
    }
}

/// A grower insured for more mu in one scheme than the scheme's cap.
fn over_cap(ctx: &Ctx, policies: &[rows::PolicyRow], out: &mut Vec<Raw>) {
    let mut by_grower: BTreeMap<(i64, i64), Vec<&rows::PolicyRow>> = BTreeMap::new();
    for p in policies {
        by_grower
            .entry((p.grower_id, p.scheme_id))
            .or_default()
            .push(p);
    }
    for ((grower_id, scheme_id), ps) in by_grower {
        let Some(def) = ctx.schemes.get(&scheme_id) else {
            continue;
        };
        let total = ps
            .iter()
            .map(|p| p.insured_area_units)
            .fold(Mu::ZERO, |a, b| a + b);
        if total.to_decimal() <= def.checks.max_mu_per_grower {
            continue;
        }
        let mut items: Vec<Item> = ctx.grower(grower_id).into_iter().collect();
        items.extend(ps.iter().map(|p| {
            item(
                Kind::Policy,
                p.id,
                p.policy_no.clone(),
                p.township_id,
                &ctx.names,
            )
        }));
        let name = ctx
            .growers
            .get(&grower_id)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        out.push(raw(
            Check::OverCap,
            name,
            format!(
                "{}投保{total}亩，超过每户上限{}亩",
                def.name,
                def.checks.max_mu_per_grower.normalize()
            ),
            items,
        ));
    }
}

/// The same photo (by content hash) on more than one claim.
fn reused_photos(
    ctx: &Ctx,
    photos: &[rows::PhotoRow],
    claims: &HashMap<i64, &ClaimRow>,
    out: &mut Vec<Raw>,
) {
    let mut by_hash: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for p in photos {
        let set = by_hash.entry(p.sha256.as_str()).or_default();
        set.insert(p.claim_id);
        set.extend(p.reused_claim_id);
    }
    for (sha, ids) in by_hash {
        if ids.len() < 2 {
            continue;
        }
        let items: Vec<Item> = ids
            .iter()
            .filter_map(|id| claims.get(id))
            .map(|c| ctx.claim(c))
            .collect();
        let prefix: String = sha.chars().take(12).collect();
        out.push(raw(
            Check::PhotoReused,
            format!("照片 {prefix}…"),
            format!("同一张照片（SHA-256 {prefix}…）出现在{}个赔案中", ids.len()),
            items,
        ));
    }
}

/// Reported more than the scheme's days after the occurrence.
fn late_reports(ctx: &Ctx, claims: &[ClaimRow], out: &mut Vec<Raw>) {
    for c in claims {
        let Some(def) = ctx.schemes.get(&c.scheme_id) else {
            continue;
        };
        let gap = c.reported_at.utc() - c.occurred_at.utc();
        let limit = chrono::Duration::hours(i64::from(def.checks.late_report_days) * 24);
        if gap <= limit {
            continue;
        }
        let mut items = vec![ctx.claim(c)];
        items.extend(ctx.grower(c.grower_id));
        items.extend(ctx.plots.get(&c.plot_id).map(|p| ctx.plot(p)));
        out.push(raw(
            Check::LateReport,
            c.claim_no.clone(),
            format!(
                "出险{}，报案{}，相隔{}天{}小时，超过方案规定的{}天",
                c.occurred_at.display(),
                c.reported_at.display(),
                gap.num_days(),
                gap.num_hours() % 24,
                def.checks.late_report_days
            ),
            items,
        ));
    }
}

/// Surveys whose GPS position was outside the plot's polygon.
fn off_plot(
    ctx: &Ctx,
    surveys: &[rows::SurveyRow],
    claims: &HashMap<i64, &ClaimRow>,
    out: &mut Vec<Raw>,
) {
    for s in surveys {
        if s.location_check == "inside" || s.location_check == "no_boundary" {
            continue;
        }
        let Some(c) = claims.get(&s.claim_id) else {
            continue;
        };
        let mut items = vec![ctx.claim(c)];
        items.extend(ctx.plots.get(&c.plot_id).map(|p| ctx.plot(p)));
        out.push(raw(
            Check::SurveyOffPlot,
            c.claim_no.clone(),
            format!(
                "查勘定位（纬度{}，经度{}）在地块边界以外，距边界约{}米",
                s.latitude, s.longitude, s.distance_m
            ),
            items,
        ));
    }
}

/// About 10 m: positions are compared on a grid of 0.0001°.
fn cell(text: &str) -> Option<i64> {
    let v: f64 = text.trim().parse().ok()?;
    let c = (v * 10_000.0).round();
    (c.is_finite() && c.abs() < 1e12).then_some(c as i64)
}

/// One adjuster's position, rounded, given for many claims on different plots.
fn same_position(
    ctx: &Ctx,
    surveys: &[rows::SurveyRow],
    claims: &HashMap<i64, &ClaimRow>,
    users: &HashMap<i64, String>,
    out: &mut Vec<Raw>,
) {
    type Key = (i64, i64, i64, i64);
    let mut by_place: BTreeMap<Key, BTreeMap<i64, &ClaimRow>> = BTreeMap::new();
    for s in surveys {
        let (Some(lat), Some(lon), Some(c)) = (
            cell(&s.latitude),
            cell(&s.longitude),
            claims.get(&s.claim_id),
        ) else {
            continue;
        };
        by_place
            .entry((c.scheme_id, s.adjuster_id, lat, lon))
            .or_default()
            .insert(c.id, c);
    }
    for ((scheme_id, adjuster, lat, lon), found) in by_place {
        let Some(def) = ctx.schemes.get(&scheme_id) else {
            continue;
        };
        let plots: BTreeSet<i64> = found.values().map(|c| c.plot_id).collect();
        if plots.len() < def.checks.same_position_claims as usize {
            continue;
        }
        let who = users.get(&adjuster).cloned().unwrap_or_default();
        let at = format!("纬度{}，经度{}", Decimal::new(lat, 4), Decimal::new(lon, 4));
        out.push(raw(
            Check::SamePosition,
            format!("{who}：{at}"),
            format!(
                "查勘员{who}在同一位置（{at}，约10米内）为{}个地块的{}个赔案定位（方案规定{}个即列出）",
                plots.len(),
                found.len(),
                def.checks.same_position_claims
            ),
            found.values().map(|c| ctx.claim(c)).collect(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_to_a_ten_metre_grid() {
        assert_eq!(cell("25.6500049"), Some(256_500));
        assert_eq!(cell("25.65005"), Some(256_501));
        assert_eq!(cell("-99.95"), Some(-999_500));
        assert_eq!(cell("x"), None);
        assert_eq!(cell("NaN"), None);
        assert_eq!(cell("1e300"), None);
    }
}
