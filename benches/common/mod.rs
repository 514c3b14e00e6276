//! Set-up shared by the finance benches (`reconcile`, `subsidy`): a county
//! of townships with one village each under the walnut scheme, and the
//! deterministic policy areas.

use diesel::prelude::*;
use guobao::app::schemes::Scheme;
use guobao::app::{self, Actor};
use guobao::db::models::NewArea;
use guobao::db::schema::areas;
use guobao::demo::synth::Place;
use guobao::domain::area::AreaLevel;
use guobao::domain::scheme::{SchemeDef, WALNUT_2012_JSON};

pub const TOWNSHIPS: usize = 15;

/// A migrated database at `url` with the walnut scheme, county 532999 and
/// `TOWNSHIPS` townships (each with `target_mu_units`, and one village).
pub fn county(url: &str, target_mu_units: Option<i64>) -> (guobao::db::Pool, Scheme, Vec<Place>) {
    let pool = guobao::startup::prepare_database(url).unwrap();
    let mut c = pool.get().unwrap();
    let def: SchemeDef = serde_json::from_str(WALNUT_2012_JSON).unwrap();
    let scheme = app::schemes::create(&mut c, &Actor::system(), &def).unwrap();
    let area = |c: &mut guobao::db::DbConn, code: &str, name: &str, level, parent, target| {
        diesel::insert_into(areas::table)
            .values(NewArea {
                code,
                name,
                level,
                parent_id: parent,
                target_mu_units: target,
            })
            .returning(areas::id)
            .get_result::<i64>(c)
            .unwrap()
    };
    let county = area(&mut c, "532999", "基准县", AreaLevel::County, None, None);
    let mut places = Vec::new();
    for t in 0..TOWNSHIPS {
        let code = format!("532999{:03}", 101 + t);
        let town = area(
            &mut c,
            &code,
            &format!("基准镇{t:02}"),
            AreaLevel::Township,
            Some(county),
            target_mu_units,
        );
        let village = area(
            &mut c,
            &format!("{code}201"),
            "一村",
            AreaLevel::Village,
            Some(town),
            None,
        );
        places.push(Place {
            township_id: town,
            village_id: village,
            township_code: code,
        });
    }
    drop(c);
    (pool, scheme, places)
}

/// `n` policy areas from 0.0001 to 20 mu with four decimals, deterministic.
pub fn areas(n: usize) -> Vec<i64> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + (x % 200_000) as i64
        })
        .collect()
}
