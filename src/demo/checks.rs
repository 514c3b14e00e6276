//! A few findings for the fraud and quality checks (风险核查) to show in the
//! demo county, planted in the sixth and seventh townships (the hailstorm's
//! claims are in the first): two plots whose boundaries overlap, a plot
//! declared far larger than its polygon, and a phone number shared by two
//! growers of different townships. The late reports need no planting: the
//! demo's hailstorm struck four days before the load and its claims were
//! reported over the following days, the latest more than three days on.

use crate::db::schema::{growers, plots};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use diesel::prelude::*;
use geo::{BoundingRect, Centroid, Scale, Translate};

/// Plant the findings; part of the demo load (its one audit entry covers them).
pub(super) fn plant(conn: &mut DbConn) -> AppResult<()> {
    let missing =
        |what: &str| AppError::Internal(format!("演示县缺少{what}，无法放置风险核查样例"));
    let mut towns: Vec<i64> = growers::table
        .select(growers::township_id)
        .distinct()
        .load(conn)?;
    towns.sort_unstable();
    let (Some(&sixth), Some(&seventh)) = (towns.get(5), towns.get(6)) else {
        return Err(missing("乡镇"));
    };
    let shaped: Vec<(i64, i64, i64, String)> = plots::table
        .filter(plots::township_id.eq(sixth))
        .filter(plots::boundary.is_not_null())
        .order(plots::id)
        .select((
            plots::id,
            plots::grower_id,
            plots::village_id,
            plots::boundary.assume_not_null(),
        ))
        .load(conn)?;
    // Two plots of one village, of different growers.
    let pair = shaped.iter().enumerate().find_map(|(k, a)| {
        shaped
            .iter()
            .skip(k + 1)
            .find(|b| b.2 == a.2 && b.1 != a.1)
            .map(|b| (a, b))
    });
    let Some((a, b)) = pair else {
        return Err(missing("同村的两个有边界地块"));
    };
    let poly = |text: &str| {
        crate::geo::read_stored(text).map_err(|e| AppError::Internal(format!("演示地块边界：{e}")))
    };
    let (pa, pb) = (poly(&a.3)?, poly(&b.3)?);
    let (Some(east), Some(cb)) = (pa.bounding_rect(), pb.centroid()) else {
        return Err(missing("地块边界范围"));
    };
    // Move B so that its centre sits on A's east edge: about half of B on A.
    let moved = pb.translate(
        east.max().x - cb.x(),
        (east.min().y + east.max().y) / 2.0 - cb.y(),
    );
    set_boundary(conn, b.0, &moved)?;
    // A third plot of the township, drawn at 80% of its size: the declared
    // area is then about 1.5 times what the polygon measures.
    let Some(c) = shaped.iter().find(|p| p.0 != a.0 && p.0 != b.0) else {
        return Err(missing("第三个有边界地块"));
    };
    set_boundary(conn, c.0, &poly(&c.3)?.scale(0.8))?;
    // The grower of A's phone, given also to the first grower of the next township.
    let phone: String = growers::table
        .find(a.1)
        .select(growers::phone)
        .first(conn)?;
    let other: i64 = growers::table
        .filter(growers::township_id.eq(seventh))
        .order(growers::id)
        .select(growers::id)
        .first(conn)?;
    diesel::update(growers::table.find(other))
        .set(growers::phone.eq(phone))
        .execute(conn)?;
    Ok(())
}

fn set_boundary(conn: &mut DbConn, plot: i64, poly: &geo::Polygon<f64>) -> AppResult<()> {
    diesel::update(plots::table.find(plot))
        .set((
            plots::boundary.eq(Some(crate::geo::to_geojson(poly))),
            plots::boundary_area_units.eq(Some(crate::geo::area_mu(poly))),
        ))
        .execute(conn)?;
    Ok(())
}
