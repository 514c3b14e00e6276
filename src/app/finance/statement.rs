//! The subsidy statement of a scheme: the live figures summed by the
//! database, and the statement per township and funding level built from them
//! (or from the signed-off copy).

use super::adjustments::adjustment_sums;
use super::lock::{locked_raw, locked_statement};
use super::{
    can_view_statement, check_level, level_figures, scheme_levels, scheme_or_current, LevelFigure,
    LevelInfo, LockInfo, Raw,
};
use crate::app::Actor;
use crate::db::models::Area;
use crate::db::{self, DbConn};
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The live figures: SUM over integer fen, grouped by township (and level).
pub(super) fn live_raw(conn: &mut DbConn, scheme_id: i64, township: Option<i64>) -> AppResult<Raw> {
    Ok(Raw::from_rows(db::finance::live_figures(
        conn, scheme_id, township,
    )?))
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Figures {
    pub policies: i64,
    pub insured_mu: Mu,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    /// One entry per funding level shown (all, or the one asked for).
    pub levels: Vec<LevelFigure>,
    /// The sum of the levels shown: the subsidy when all are shown.
    pub subsidy_due: Fen,
}

impl Figures {
    fn empty(levels: &[LevelInfo]) -> Figures {
        Figures {
            policies: 0,
            insured_mu: Mu::from_units(0),
            premium: Fen::ZERO,
            grower_share: Fen::ZERO,
            subsidy: Fen::ZERO,
            levels: level_figures(levels, &HashMap::new(), 0),
            subsidy_due: Fen::ZERO,
        }
    }

    fn add(&mut self, o: &Figures) {
        self.policies += o.policies;
        self.insured_mu = self.insured_mu + o.insured_mu;
        self.premium += o.premium;
        self.grower_share += o.grower_share;
        self.subsidy += o.subsidy;
        for (a, b) in self.levels.iter_mut().zip(&o.levels) {
            a.amount += b.amount;
        }
        self.subsidy_due += o.subsidy_due;
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementRow {
    pub township_code: String,
    pub township_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentRow {
    pub township_code: String,
    pub township_name: String,
    pub levels: Vec<LevelFigure>,
    pub total: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub scheme: String,
    pub scheme_name: String,
    pub year: i32,
    /// The one funding level asked for, if any.
    pub level: Option<String>,
    pub levels: Vec<LevelInfo>,
    /// `open` (live figures) or `locked` (the figures as signed off).
    pub status: String,
    pub lock: Option<LockInfo>,
    pub rows: Vec<StatementRow>,
    pub totals: Figures,
    /// After sign-off: the adjustments per township and level, and the net due.
    pub adjustments: Vec<AdjustmentRow>,
    pub adjustment_totals: Vec<LevelFigure>,
    pub net_due: Vec<LevelFigure>,
}

/// Townships in the actor's scope (or the one asked for), by code.
fn towns_in_scope(conn: &mut DbConn, actor: &Actor, township_code: &str) -> AppResult<Vec<Area>> {
    if township_code.trim().is_empty() {
        crate::app::areas::townships(conn, actor)
    } else {
        Ok(vec![crate::app::areas::township_by_code(
            conn,
            actor,
            township_code,
        )?])
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatementQuery {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub township: String,
}

/// The subsidy statement of a scheme: one row per township (every township in
/// scope, in code order), each the sum of its policies' rounded figures; the
/// totals are the sums of the rows.
pub fn statement(conn: &mut DbConn, actor: &Actor, q: &StatementQuery) -> AppResult<Statement> {
    actor.require(can_view_statement(actor))?;
    let scheme = scheme_or_current(conn, &q.scheme)?;
    let only = Some(q.level.trim()).filter(|l| !l.is_empty());
    if let Some(l) = only {
        check_level(&scheme, l).map_err(|e| AppError::Validation(vec![e]))?;
    }
    let levels = scheme_levels(&scheme, only);
    let towns = towns_in_scope(conn, actor, &q.township)?;
    let single = match towns.as_slice() {
        [only] if actor.township_scope().is_some() || !q.township.is_empty() => Some(only.id),
        _ => None,
    };
    let lock = locked_statement(conn, scheme.id)?;
    let raw = match &lock {
        Some(l) => locked_raw(conn, l.id, single)?,
        None => live_raw(conn, scheme.id, single)?,
    };
    let adjust = match &lock {
        Some(l) => adjustment_sums(conn, l.id, single)?,
        None => HashMap::new(),
    };
    let mut totals = Figures::empty(&levels);
    let mut rows = Vec::new();
    let mut adjustments = Vec::new();
    let mut adjustment_totals: Vec<LevelFigure> = Figures::empty(&levels).levels;
    for t in &towns {
        let (n, mu, p, g, s) = raw.towns.get(&t.id).copied().unwrap_or_default();
        let lv = level_figures(&levels, &raw.levels, t.id);
        let f = Figures {
            policies: n,
            insured_mu: Mu::from_units(mu),
            premium: Fen(p),
            grower_share: Fen(g),
            subsidy: Fen(s),
            subsidy_due: lv.iter().map(|l| l.amount).sum(),
            levels: lv,
        };
        totals.add(&f);
        rows.push(StatementRow {
            township_code: t.code.clone(),
            township_name: t.name.clone(),
            figures: f,
        });
        if lock.is_some() {
            let al = level_figures(&levels, &adjust, t.id);
            if al.iter().any(|l| l.amount != Fen::ZERO) {
                for (a, b) in adjustment_totals.iter_mut().zip(&al) {
                    a.amount += b.amount;
                }
                adjustments.push(AdjustmentRow {
                    township_code: t.code.clone(),
                    township_name: t.name.clone(),
                    total: al.iter().map(|l| l.amount).sum(),
                    levels: al,
                });
            }
        }
    }
    let net_due = totals
        .levels
        .iter()
        .zip(&adjustment_totals)
        .map(|(a, b)| LevelFigure {
            level: a.level.clone(),
            name: a.name.clone(),
            amount: a.amount + b.amount,
        })
        .collect();
    Ok(Statement {
        scheme: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        year: scheme.def.year,
        level: only.map(str::to_string),
        levels,
        status: if lock.is_some() { "locked" } else { "open" }.to_string(),
        lock,
        rows,
        totals,
        adjustments,
        adjustment_totals,
        net_due,
    })
}
