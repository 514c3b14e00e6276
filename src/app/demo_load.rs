//! Load the generated demo county into an empty database, through the same
//! use cases people use, so the demo data obeys every rule.

use super::auth::{create_user, NewAccount};
use super::growers::GrowerInput;
use super::plots::PlotInput;
use super::{Actor, Role};
use crate::db::models::NewArea;
use crate::db::schema::{areas, policies};
use crate::db::DbConn;
use crate::domain::scheme::{SchemeDef, WALNUT_2012_JSON};
use crate::domain::Mu;
use crate::error::{AppError, AppResult};
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

/// `progress` is called with (done, total) after each grower.
pub fn load(conn: &mut DbConn, progress: &mut dyn FnMut(usize, usize)) -> AppResult<DemoSummary> {
    let existing: i64 = areas::table.count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::conflict(
            "database_not_empty",
            "数据库中已有行政区划数据，演示数据只能载入空数据库",
        ));
    }
    let county = crate::demo::generate();
    let actor = Actor::system();
    let def: SchemeDef = serde_json::from_str(WALNUT_2012_JSON)
        .map_err(|e| AppError::Internal(format!("walnut fixture: {e}")))?;
    super::tx(conn, |conn| {
        super::schemes::create(conn, &actor, &def)?;
        let county_id: i64 = diesel::insert_into(areas::table)
            .values(NewArea {
                code: &county.code,
                name: &county.name,
                level: "county",
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
                    level: "township",
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
                        level: "village",
                        parent_id: Some(tid),
                        target_mu_units: None,
                    })
                    .execute(conn)?;
                village_count += 1;
            }
        }
        for (username, display, role, township) in demo_accounts() {
            let township_code = township.map(|i| county.townships[i].code.clone());
            let display = if display.is_empty() {
                format!(
                    "{}林业站",
                    township
                        .map(|i| county.townships[i].name.as_str())
                        .unwrap_or("")
                )
            } else {
                display
            };
            create_user(
                conn,
                &NewAccount {
                    username: &username,
                    display_name: &display,
                    password: DEMO_PASSWORD,
                    role: role.code(),
                    township_code: township_code.as_deref(),
                },
            )?;
        }
        let total = county.growers.len();
        let mut plot_count = 0;
        for (i, g) in county.growers.iter().enumerate() {
            let grower = super::growers::create(
                conn,
                &actor,
                &GrowerInput {
                    year: Some(def.year),
                    name: g.name.clone(),
                    id_number: g.id_number.clone(),
                    phone: g.phone.clone(),
                    bank_name: "农村信用合作社".into(),
                    bank_account: g.bank_account.clone(),
                    village_code: g.village_code.clone(),
                    version: None,
                },
            )?;
            for p in &g.plots {
                super::plots::create(
                    conn,
                    &actor,
                    &PlotInput {
                        grower_id: grower.id,
                        scheme: def.code.clone(),
                        code: p.code.clone(),
                        village_code: g.village_code.clone(),
                        variety: p.variety.clone(),
                        tree_age: p.tree_age.to_string(),
                        tree_count: p.tree_count.to_string(),
                        fruit_per_tree: p.fruit_per_tree.to_string(),
                        area_mu: p.area_mu.clone(),
                        attributes: Default::default(),
                        boundary: p.boundary.as_deref().map(area_polygon),
                        version: None,
                    },
                )?;
                plot_count += 1;
            }
            progress(i + 1, total);
        }
        // A season in progress: most shares collected in March, most of those
        // issued, and the collected shares of the first ten townships handed over.
        let ids: Vec<i64> = policies::table
            .order(policies::id)
            .select(policies::id)
            .load(conn)?;
        for (n, id) in ids.iter().enumerate() {
            if n % 10 < 7 {
                let day = 1 + (n % 28);
                super::policies::collect(conn, &actor, *id, &format!("2012-03-{day:02}"))?;
                if n % 10 < 5 {
                    super::policies::issue(conn, &actor, *id)?;
                }
            }
        }
        for (i, t) in county.townships.iter().enumerate().take(10) {
            super::batches::create(
                conn,
                &actor,
                &super::batches::BatchInput {
                    township_code: t.code.clone(),
                    scheme: def.code.clone(),
                    receipt_no: format!("SJ2012-{:03}", i + 1),
                    handed_over_on: "2012-03-31".into(),
                },
            )?;
        }
        Ok(DemoSummary {
            townships: county.townships.len(),
            villages: village_count,
            growers: total,
            plots: plot_count,
            policies: ids.len() as i64,
        })
    })
}
