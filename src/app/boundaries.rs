//! Plot boundaries from GeoJSON: each feature names its plot by code. Each
//! plot gets its polygon and geodesic area; the report flags areas that differ
//! from the declared one beyond the scheme's tolerance, invalid polygons, and
//! polygons overlapping another insured plot (possible double insurance).
//!
//! An upload runs in four steps so that the CPU work holds no database
//! connection: `prepare` (parse and check every polygon, no connection),
//! `load_context` (township and plots, a short use of a connection), `plan`
//! (compare, no connection) and `apply` (write, one transaction, each plot
//! only if unchanged since `load_context`). The limits in `crate::geo` bound
//! the work; a deadline stops what slips past them.

use super::{audit, Actor};
use crate::db::models::Plot;
use crate::db::schema::plots;
use crate::db::{now_text, DbConn};
use crate::domain::Mu;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::geo::{self, Deadline, GeometryError};
use ::geo::{BoundingRect, Polygon, Rect};
use diesel::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
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
    /// Codes of insured plots this polygon overlaps (for a township station
    /// only those of its own township).
    pub overlaps: Vec<String>,
    /// How many insured plots of other townships it overlaps, not named to a
    /// township station (they are not its to see): "请联系县林业局".
    pub other_overlaps: usize,
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

/// One feature of an upload after parsing and checking, before it is
/// compared with the plots.
#[derive(Debug)]
struct CheckedFeature {
    code: String,
    polygon: Result<Measured, GeometryError>,
}

#[derive(Debug)]
struct Measured {
    polygon: Polygon<f64>,
    rect: Option<Rect<f64>>,
    area: Mu,
    stored: String,
}

/// An upload parsed and every polygon checked and measured: the CPU work,
/// done without a database connection.
#[derive(Debug)]
pub struct Prepared {
    features: Vec<CheckedFeature>,
}

/// What an upload is compared with, loaded in one short use of a connection.
#[derive(Debug)]
pub struct Context {
    township_id: i64,
    /// The actor sees only their own township (a station): other townships'
    /// plots are counted, not named.
    township_bound: bool,
    township: String,
    tolerance: Decimal,
    plots: Vec<Plot>,
}

/// The report, and the writes a commit would make.
#[derive(Debug)]
pub struct Plan {
    pub report: BoundaryReport,
    updates: Vec<Update>,
}

#[derive(Debug)]
struct Update {
    before: Plot,
    boundary: String,
    units: i64,
}

/// A geometry error that stops the whole upload rather than one feature:
/// the check ran past its deadline.
fn whole_upload(e: GeometryError) -> AppError {
    AppError::invalid("file", e.code(), e.to_string())
}

/// Step 1, no connection: parse the file, refuse it whole if it is over the
/// limits, and check and measure every polygon.
pub fn prepare(actor: &Actor, text: &str, deadline: Deadline) -> AppResult<Prepared> {
    actor.require(actor.can_edit_enrollment())?;
    let fc: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| {
            AppError::invalid(
                "file",
                ErrorCode::GeojsonInvalid,
                format!("不是有效的GeoJSON：{e}"),
            )
        })
        .and_then(|g| match g {
            geojson::GeoJson::FeatureCollection(fc) => Ok(fc),
            _ => Err(AppError::invalid(
                "file",
                ErrorCode::GeojsonNotCollection,
                "应为要素集合（FeatureCollection），每个要素的属性中写明地块编号（code）",
            )),
        })?;
    if fc.features.len() > geo::MAX_FEATURES_PER_UPLOAD {
        return Err(AppError::invalid(
            "file",
            ErrorCode::GeojsonTooManyFeatures,
            format!(
                "文件有{}个要素，超过每次上传{}个的上限：请按村拆分后分批上传",
                fc.features.len(),
                geo::MAX_FEATURES_PER_UPLOAD
            ),
        ));
    }
    let vertices = fc
        .features
        .iter()
        .filter_map(|f| f.geometry.as_ref())
        .fold(0usize, |n, g| n.saturating_add(geo::vertex_count(g)));
    if vertices > geo::MAX_VERTICES_PER_UPLOAD {
        return Err(AppError::invalid(
            "file",
            ErrorCode::GeojsonTooManyVertices,
            format!(
                "文件共有{vertices}个顶点，超过每次上传{}个的上限：请按村拆分后分批上传，或先抽稀（简化）边界",
                geo::MAX_VERTICES_PER_UPLOAD
            ),
        ));
    }
    let mut features = Vec::with_capacity(fc.features.len());
    for f in &fc.features {
        deadline.check().map_err(whole_upload)?;
        let code = feature_code(f).unwrap_or_default();
        let polygon = match &f.geometry {
            None => Err(GeometryError::NotPolygon),
            Some(g) => geo::polygon_from_geometry(g, deadline).map(|polygon| Measured {
                rect: polygon.bounding_rect(),
                area: geo::area_mu(&polygon),
                stored: geo::to_geojson(&polygon),
                polygon,
            }),
        };
        if let Err(e @ GeometryError::TimedOut { .. }) = polygon {
            return Err(whole_upload(e));
        }
        features.push(CheckedFeature { code, polygon });
    }
    Ok(Prepared { features })
}

/// Step 2, connection held briefly: the township (within the actor's areas),
/// the scheme's tolerance and the scheme's plots.
pub fn load_context(conn: &mut DbConn, actor: &Actor, township_code: &str) -> AppResult<Context> {
    actor.require(actor.can_edit_enrollment())?;
    let township = super::areas::township_by_code(conn, actor, township_code)?;
    let scheme = super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?;
    let plots: Vec<Plot> = plots::table
        .filter(plots::scheme_id.eq(scheme.id))
        .select(Plot::as_select())
        .load(conn)?;
    Ok(Context {
        township_id: township.id,
        township_bound: actor.role.is_township_bound(),
        township: township.name,
        tolerance: scheme.def.area_tolerance_percent,
        plots,
    })
}

/// Insured plots' polygons, indexed by extent, for the overlap check. A plot
/// given a new polygon by the upload replaces its old one.
struct Insured {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    polygons: Vec<Option<(String, i64, Polygon<f64>)>>,
    by_code: HashMap<String, usize>,
}

impl Insured {
    fn new() -> Insured {
        Insured {
            tree: RTree::new(),
            polygons: Vec::new(),
            by_code: HashMap::new(),
        }
    }

    fn put(
        &mut self,
        code: &str,
        township_id: i64,
        polygon: Polygon<f64>,
        rect: Option<Rect<f64>>,
    ) {
        if let Some(old) = self.by_code.get(code).copied() {
            if let Some(slot) = self.polygons.get_mut(old) {
                *slot = None;
            }
        }
        let index = self.polygons.len();
        if let Some(r) = rect {
            let corners = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            self.tree.insert(GeomWithData::new(corners, index));
        }
        self.polygons
            .push(Some((code.to_string(), township_id, polygon)));
        self.by_code.insert(code.to_string(), index);
    }

    fn overlapping(
        &self,
        code: &str,
        polygon: &Polygon<f64>,
        rect: Option<Rect<f64>>,
        deadline: Deadline,
    ) -> AppResult<Vec<(String, i64)>> {
        let Some(r) = rect else {
            return Ok(vec![]);
        };
        let envelope = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut found = Vec::new();
        for hit in self.tree.locate_in_envelope_intersecting(&envelope) {
            deadline.check().map_err(whole_upload)?;
            let Some(Some((other, township, other_polygon))) = self.polygons.get(hit.data) else {
                continue;
            };
            if other != code && geo::interiors_overlap(polygon, other_polygon) {
                found.push((other.clone(), *township));
            }
        }
        found.sort();
        Ok(found)
    }
}

/// Step 3, no connection: compare each feature with the plots and build the
/// report and the writes.
pub fn plan(ctx: &Context, prepared: Prepared, deadline: Deadline) -> AppResult<Plan> {
    let by_code: HashMap<&str, &Plot> = ctx.plots.iter().map(|p| (p.code.as_str(), p)).collect();
    // Insured plots already holding a polygon, to check new polygons against.
    let mut insured = Insured::new();
    for p in ctx.plots.iter().filter(|p| p.eligible) {
        deadline.check().map_err(whole_upload)?;
        let Some(polygon) = p
            .boundary
            .as_deref()
            .and_then(|b| geo::parse_polygon(b).ok())
        else {
            continue;
        };
        let rect = polygon.bounding_rect();
        insured.put(&p.code, p.township_id, polygon, rect);
    }
    let mut counts = BoundaryCounts {
        features: prepared.features.len(),
        ..Default::default()
    };
    let mut results = Vec::new();
    // One write per plot: a plot named twice in the file takes its last polygon.
    let mut updates: Vec<Update> = Vec::new();
    let mut update_of: HashMap<i64, usize> = HashMap::new();
    for (i, f) in prepared.features.into_iter().enumerate() {
        deadline.check().map_err(whole_upload)?;
        let code = f.code;
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
            other_overlaps: 0,
        };
        let plot = by_code
            .get(code.as_str())
            .filter(|p| p.township_id == ctx.township_id);
        let Some(plot) = plot else {
            counts.not_found += 1;
            r.outcome = "not_found".into();
            r.message = Some(if code.is_empty() {
                "要素没有地块编号（属性 code）".into()
            } else {
                format!("{}没有编号为{code}的地块", ctx.township)
            });
            results.push(r);
            continue;
        };
        let m = match f.polygon {
            Ok(m) => m,
            Err(e) => {
                counts.invalid += 1;
                r.message = Some(e.to_string());
                results.push(r);
                continue;
            }
        };
        let declared = plot.area_units;
        let diff = geo::area_difference_percent(declared, m.area);
        r.declared_mu = Some(declared);
        r.polygon_mu = Some(m.area);
        r.difference_percent = Some(diff);
        r.area_mismatch = diff > ctx.tolerance;
        if r.area_mismatch {
            counts.area_mismatch += 1;
        }
        for (other, township) in insured.overlapping(&code, &m.polygon, m.rect, deadline)? {
            if ctx.township_bound && township != ctx.township_id {
                r.other_overlaps += 1;
            } else {
                r.overlaps.push(other);
            }
        }
        if r.other_overlaps > 0 {
            r.message = Some(format!(
                "与其他乡镇{}个投保地块重叠，请联系县林业局",
                r.other_overlaps
            ));
        }
        if !r.overlaps.is_empty() || r.other_overlaps > 0 {
            counts.overlapping += 1;
        }
        if plot.boundary.as_deref() == Some(m.stored.as_str()) {
            counts.unchanged += 1;
            r.outcome = "unchanged".into();
        } else {
            counts.updated += 1;
            r.outcome = "updated".into();
        }
        let update = Update {
            before: (*plot).clone(),
            boundary: m.stored,
            units: m.area.units(),
        };
        match update_of.get(&plot.id).and_then(|k| updates.get_mut(*k)) {
            Some(u) => *u = update,
            None => {
                update_of.insert(plot.id, updates.len());
                updates.push(update);
            }
        }
        if plot.eligible {
            insured.put(&code, plot.township_id, m.polygon, m.rect);
        }
        results.push(r);
    }
    // Only plots whose last polygon in the file differs from the stored one are written.
    updates.retain(|u| u.before.boundary.as_deref() != Some(u.boundary.as_str()));
    Ok(Plan {
        report: BoundaryReport {
            committed: false,
            township: ctx.township.clone(),
            counts,
            features: results,
        },
        updates,
    })
}

/// Step 4: write the plan in one transaction. A plot changed by someone else
/// since step 2 refuses the whole upload (409) rather than overwrite them.
pub fn apply(conn: &mut DbConn, actor: &Actor, plan: Plan) -> AppResult<BoundaryReport> {
    actor.require(actor.can_edit_enrollment())?;
    let Plan {
        mut report,
        updates,
    } = plan;
    super::tx(conn, |conn| {
        let now = now_text();
        for u in &updates {
            let changed = diesel::update(
                plots::table
                    .filter(plots::id.eq(u.before.id))
                    .filter(plots::version.eq(u.before.version)),
            )
            .set((
                plots::boundary.eq(Some(&u.boundary)),
                plots::boundary_area_units.eq(Some(u.units)),
                plots::version.eq(u.before.version + 1),
                plots::updated_at.eq(&now),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(AppError::conflict(
                    ErrorCode::PlotChanged,
                    format!(
                        "检查期间地块{}已被他人修改，本次上传未写入任何边界：请重新上传",
                        u.before.code
                    ),
                ));
            }
            let after = super::load::<Plot>(conn, u.before.id)?;
            audit::record(
                conn,
                actor,
                "boundary",
                "plot",
                u.before.id,
                Some(&u.before),
                Some(&after),
            )?;
        }
        Ok(())
    })?;
    report.committed = true;
    Ok(report)
}

/// The whole upload on one connection, for the command line. The web
/// handlers run the same steps but hold a pooled connection only for
/// `load_context` and `apply`.
pub fn import(
    conn: &mut DbConn,
    actor: &Actor,
    township_code: &str,
    text: &str,
    dry_run: bool,
) -> AppResult<BoundaryReport> {
    let deadline = Deadline::after(geo::CHECK_TIME_LIMIT);
    let prepared = prepare(actor, text, deadline)?;
    let ctx = load_context(conn, actor, township_code)?;
    let plan = plan(&ctx, prepared, deadline)?;
    if dry_run {
        return Ok(plan.report);
    }
    apply(conn, actor, plan)
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
                    "declared_mu": p.area_units,
                    "polygon_mu": p.boundary_area_units,
                    "eligible": p.eligible,
                },
                "geometry": geometry,
            }))
        })
        .collect();
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}).to_string())
}
