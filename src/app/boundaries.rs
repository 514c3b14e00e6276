//! Plot boundaries from GeoJSON: each feature names its plot by code. Each
//! plot gets its polygon and geodesic area; the report flags areas that differ
//! from the declared one beyond the scheme's tolerance, invalid polygons, and
//! polygons overlapping another insured plot (possible double insurance).

use super::{audit, Actor};
use crate::db::models::Plot;
use crate::db::schema::plots;
use crate::db::{now_text, DbConn};
use crate::domain::Mu;
use crate::error::{AppError, AppResult};
use diesel::prelude::*;
use geo::Polygon;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct FeatureResult {
    /// 1-based position of the feature in the file.
    pub feature: usize,
    pub code: String,
    /// updated | unchanged | not_found | invalid
    pub outcome: String,
    pub message: Option<String>,
    pub declared_mu: Option<Mu>,
    pub polygon_mu: Option<Mu>,
    pub difference_percent: Option<Decimal>,
    pub area_mismatch: bool,
    /// Codes of insured plots this polygon overlaps.
    pub overlaps: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BoundaryCounts {
    pub features: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub not_found: usize,
    pub invalid: usize,
    pub area_mismatch: usize,
    pub overlapping: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoundaryReport {
    pub committed: bool,
    pub township: String,
    pub counts: BoundaryCounts,
    pub features: Vec<FeatureResult>,
}

const CODE_KEYS: [&str; 5] = ["code", "plot_code", "地块编号", "地块号", "id"];

fn feature_code(f: &geojson::Feature) -> Option<String> {
    let props = f.properties.as_ref();
    for k in CODE_KEYS {
        if let Some(v) = props.and_then(|p| p.get(k)) {
            let s = match v {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if !s.is_empty() {
                return Some(s);
            }
        }
    }
    match &f.id {
        Some(geojson::feature::Id::String(s)) => Some(s.clone()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

pub fn import(
    conn: &mut DbConn,
    actor: &Actor,
    township_code: &str,
    text: &str,
    dry_run: bool,
) -> AppResult<BoundaryReport> {
    actor.require(actor.can_edit_enrollment())?;
    let fc: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| {
            AppError::invalid("file", "geojson_invalid", format!("不是有效的GeoJSON：{e}"))
        })
        .and_then(|g| match g {
            geojson::GeoJson::FeatureCollection(fc) => Ok(fc),
            _ => Err(AppError::invalid(
                "file",
                "geojson_not_collection",
                "应为要素集合（FeatureCollection），每个要素的属性中写明地块编号（code）",
            )),
        })?;
    super::tx(conn, |conn| {
        let township = super::areas::township_by_code(conn, actor, township_code)?;
        let scheme =
            super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?;
        let tolerance = scheme.def.area_tolerance_percent;
        let all: Vec<Plot> = plots::table
            .filter(plots::scheme_id.eq(scheme.id))
            .select(Plot::as_select())
            .load(conn)?;
        let by_code: HashMap<&str, &Plot> = all.iter().map(|p| (p.code.as_str(), p)).collect();
        // Insured plots already holding a polygon, to check new polygons against.
        let mut insured: Vec<(String, Polygon<f64>)> = all
            .iter()
            .filter(|p| p.eligible)
            .filter_map(|p| {
                Some((
                    p.code.clone(),
                    crate::geo::parse_polygon(p.boundary.as_deref()?).ok()?,
                ))
            })
            .collect();
        let mut counts = BoundaryCounts {
            features: fc.features.len(),
            ..Default::default()
        };
        let mut results = Vec::new();
        let mut updates: Vec<(&Plot, String, i64)> = Vec::new();
        for (i, f) in fc.features.iter().enumerate() {
            let code = feature_code(f).unwrap_or_default();
            let mut r = FeatureResult {
                feature: i + 1,
                code: code.clone(),
                outcome: "invalid".into(),
                message: None,
                declared_mu: None,
                polygon_mu: None,
                difference_percent: None,
                area_mismatch: false,
                overlaps: vec![],
            };
            let plot = by_code
                .get(code.as_str())
                .filter(|p| p.township_id == township.id);
            let Some(plot) = plot else {
                counts.not_found += 1;
                r.outcome = "not_found".into();
                r.message = Some(if code.is_empty() {
                    "要素没有地块编号（属性 code）".into()
                } else {
                    format!("{}没有编号为{code}的地块", township.name)
                });
                results.push(r);
                continue;
            };
            let geometry = f
                .geometry
                .as_ref()
                .map(|g| g.to_string())
                .unwrap_or_default();
            let poly = match crate::geo::parse_polygon(&geometry) {
                Ok(p) => p,
                Err(e) => {
                    counts.invalid += 1;
                    r.message = Some(e.to_string());
                    results.push(r);
                    continue;
                }
            };
            let measured = crate::geo::area_mu(&poly);
            let declared = Mu::from_units(plot.area_units);
            let diff = crate::geo::area_difference_percent(declared, measured);
            r.declared_mu = Some(declared);
            r.polygon_mu = Some(measured);
            r.difference_percent = Some(diff);
            r.area_mismatch = diff > tolerance;
            if r.area_mismatch {
                counts.area_mismatch += 1;
            }
            r.overlaps = insured
                .iter()
                .filter(|(c, other)| *c != code && crate::geo::interiors_overlap(&poly, other))
                .map(|(c, _)| c.clone())
                .collect();
            if !r.overlaps.is_empty() {
                counts.overlapping += 1;
            }
            let stored = crate::geo::to_geojson(&poly);
            if plot.boundary.as_deref() == Some(stored.as_str()) {
                counts.unchanged += 1;
                r.outcome = "unchanged".into();
            } else {
                counts.updated += 1;
                r.outcome = "updated".into();
                updates.push((plot, stored, measured.units()));
            }
            if plot.eligible {
                insured.retain(|(c, _)| *c != code);
                insured.push((code.clone(), poly));
            }
            results.push(r);
        }
        if !dry_run {
            let now = now_text();
            for (plot, boundary, units) in &updates {
                diesel::update(plots::table.find(plot.id))
                    .set((
                        plots::boundary.eq(Some(boundary)),
                        plots::boundary_area_units.eq(Some(*units)),
                        plots::version.eq(plot.version + 1),
                        plots::updated_at.eq(&now),
                    ))
                    .execute(conn)?;
                let after = super::plots::load(conn, plot.id)?;
                audit::record(
                    conn,
                    actor,
                    "boundary",
                    "plot",
                    plot.id,
                    Some(*plot),
                    Some(&after),
                )?;
            }
        }
        Ok(BoundaryReport {
            committed: !dry_run,
            township: township.name,
            counts,
            features: results,
        })
    })
}

/// Every plot with a boundary in a township (or one village) as a FeatureCollection.
pub fn export(
    conn: &mut DbConn,
    actor: &Actor,
    township_code: &str,
    village_code: Option<&str>,
) -> AppResult<String> {
    let township = super::areas::township_by_code(conn, actor, township_code)?;
    let scheme = super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?;
    let mut q = plots::table
        .filter(plots::scheme_id.eq(scheme.id))
        .filter(plots::township_id.eq(township.id))
        .filter(plots::boundary.is_not_null())
        .into_boxed();
    if let Some(v) = village_code.filter(|v| !v.is_empty()) {
        let village = super::areas::villages(conn, actor, Some(township.id))?
            .into_iter()
            .find(|a| a.code == v)
            .ok_or_else(|| AppError::NotFound(format!("{}没有村代码{v}", township.name)))?;
        q = q.filter(plots::village_id.eq(village.id));
    }
    let rows: Vec<Plot> = q.order(plots::code).select(Plot::as_select()).load(conn)?;
    let names = super::areas::names(conn)?;
    let features: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|p| {
            let geometry: serde_json::Value = serde_json::from_str(p.boundary.as_deref()?).ok()?;
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": p.code,
                    "village": names.get(&p.village_id).map(|a| a.name.clone()),
                    "variety": p.variety,
                    "declared_mu": Mu::from_units(p.area_units),
                    "polygon_mu": p.boundary_area_units.map(Mu::from_units),
                    "eligible": p.eligible,
                },
                "geometry": geometry,
            }))
        })
        .collect();
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}).to_string())
}
