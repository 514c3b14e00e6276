//! What an import is checked against: the township, its villages (and the
//! villages of other townships, to say why a row was refused), the scheme,
//! and the growers and plots already stored in the township. What is stored
//! elsewhere is looked up by the file's own keys (`elsewhere`).

use std::collections::HashMap;

use crate::app::schemes::Scheme;
use crate::app::Actor;
use crate::db::models::{Area, Grower, Plot};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};

pub(super) struct Context {
    pub(super) township: Area,
    pub(super) villages_by_name: HashMap<String, Area>,
    pub(super) villages_by_code: HashMap<String, Area>,
    /// Village names in other townships, to say why a row was refused.
    pub(super) foreign_villages: HashMap<String, String>,
    pub(super) scheme: Scheme,
    /// Growers of the scheme's year enrolled in this township, by ID number.
    pub(super) growers: HashMap<String, Grower>,
    /// The scheme's plots in this township, by code.
    pub(super) plots: HashMap<String, Plot>,
    pub(super) township_names: HashMap<i64, String>,
}

pub(super) fn load_context(
    conn: &mut DbConn,
    actor: &Actor,
    township_code: &str,
    scheme: &str,
) -> AppResult<Context> {
    let township = crate::app::areas::township_by_code(conn, actor, township_code)?;
    let scheme = if scheme.trim().is_empty() {
        crate::app::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?
    } else {
        crate::app::schemes::by_code(conn, scheme)?
    };
    // The township's county only: a village of another county is not one
    // a clerk of this township could mean.
    let names = match township.parent_id {
        Some(county) => crate::db::areas::of_county(conn, county)?,
        None => crate::app::areas::names(conn)?,
    };
    let mut villages_by_name = HashMap::new();
    let mut villages_by_code = HashMap::new();
    let mut foreign_villages = HashMap::new();
    for a in names
        .values()
        .filter(|a| a.level == crate::domain::area::AreaLevel::Village)
    {
        if a.parent_id == Some(township.id) {
            villages_by_name.insert(a.name.clone(), a.clone());
            villages_by_code.insert(a.code.clone(), a.clone());
        } else {
            let t = a
                .parent_id
                .and_then(|p| names.get(&p))
                .map(|t| t.name.clone())
                .unwrap_or_default();
            foreign_villages.insert(a.name.clone(), t.clone());
            foreign_villages.insert(a.code.clone(), t);
        }
    }
    use crate::db::enrollment::lookups;
    let growers: HashMap<String, Grower> = lookups::growers_in(conn, scheme.def.year, township.id)?
        .into_iter()
        .map(|g| (g.id_number.clone(), g))
        .collect();
    let plots: HashMap<String, Plot> = lookups::plots_in(conn, scheme.id, township.id)?
        .into_iter()
        .map(|p| (p.code.clone(), p))
        .collect();
    // A township station is not told in which township another grower is
    // enrolled (issue 12): the refusal then says "其他乡镇".
    let bound = actor.role.is_township_bound();
    let township_names = names
        .values()
        .filter(|a| a.level == crate::domain::area::AreaLevel::Township && !bound)
        .map(|a| (a.id, a.name.clone()))
        .collect();
    Ok(Context {
        township,
        villages_by_name,
        villages_by_code,
        foreign_villages,
        scheme,
        growers,
        plots,
        township_names,
    })
}
