//! What the inspection pages and the API show: draws, results, samples,
//! and where each village stands.

use super::*;

#[derive(Debug, Clone, Serialize)]
pub struct DrawView {
    pub id: i64,
    pub mode: String,
    pub mode_name: String,
    /// The share of the insured area the sample had to reach, percent.
    pub percent: String,
    pub seed: i64,
    pub population_plots: i32,
    pub population_mu: Mu,
    pub required_mu: Mu,
    pub sample_plots: i32,
    pub sample_mu: Mu,
    /// sample area ≥ percent × insured area, exactly.
    pub share_reached: bool,
    pub status: String,
    pub status_name: String,
    pub reason: String,
    pub superseded_by: Option<i64>,
    pub drawn_at: String,
}

pub(super) fn draw_view(d: &Draw) -> DrawView {
    let reached = Decimal::from(d.sample_area_units.units()) * Decimal::ONE_HUNDRED
        >= Decimal::from(d.population_area_units.units())
            * d.percent.parse::<Decimal>().unwrap_or(Decimal::ONE_HUNDRED);
    DrawView {
        id: d.id,
        mode: d.mode.clone(),
        mode_name: EnrolmentMode::parse(&d.mode)
            .map(|m| m.name().to_string())
            .unwrap_or_else(|_| d.mode.clone()),
        percent: d.percent.clone(),
        seed: d.seed,
        population_plots: d.population_plots,
        population_mu: d.population_area_units,
        required_mu: d.required_area_units,
        sample_plots: d.sample_plots,
        sample_mu: d.sample_area_units,
        share_reached: reached,
        status: d.status.clone(),
        status_name: DrawStatus::parse(&d.status)
            .map(|s| s.name().to_string())
            .unwrap_or_else(|_| d.status.clone()),
        reason: d.reason.clone(),
        superseded_by: d.superseded_by,
        drawn_at: d.drawn_at.display(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultView {
    pub id: i64,
    pub outcome: String,
    pub outcome_name: String,
    pub area_before_mu: Mu,
    pub area_after_mu: Option<Mu>,
    pub reason: String,
    pub notes: String,
    pub inspected_at: String,
    pub location_check: String,
    pub distance_m: i32,
}

pub(super) fn result_view(r: &ResultRow) -> ResultView {
    ResultView {
        id: r.id,
        outcome: r.outcome.clone(),
        outcome_name: Outcome::parse(&r.outcome)
            .map(|o| o.name().to_string())
            .unwrap_or_else(|_| r.outcome.clone()),
        area_before_mu: r.area_before_units,
        area_after_mu: r.area_after_units,
        reason: r.reason.clone(),
        notes: r.notes.clone(),
        inspected_at: r.inspected_at.display(),
        location_check: r.location_check.clone(),
        distance_m: r.distance_m,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SampleView {
    pub id: i64,
    pub position: i32,
    pub plot_id: i64,
    pub plot_code: String,
    pub grower_id: i64,
    pub grower_name: String,
    /// The plot's area when it was drawn.
    pub area_mu: Mu,
    /// Its area now (after a correction, the corrected one).
    pub current_mu: Mu,
    pub has_boundary: bool,
    pub photos: usize,
    pub result: Option<ResultView>,
}

/// Done, verified, corrected and refused among a sample's plots.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Tally {
    pub done: i64,
    pub verified: i64,
    pub corrected: i64,
    pub refused: i64,
}

impl Tally {
    pub(super) fn add(&mut self, outcome: &str, n: i64) {
        self.done += n;
        match Outcome::parse(outcome) {
            Ok(Outcome::Verified) => self.verified += n,
            Ok(Outcome::Corrected) => self.corrected += n,
            Ok(Outcome::Refused) => self.refused += n,
            Err(_) => {}
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageStatus {
    pub village_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub township_id: i64,
    pub township_name: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub rules: InspectionRules,
    /// Insured plots now (eligible, on a draft or collected policy).
    pub population_plots: i64,
    pub population_mu: Mu,
    /// The current draw, if any.
    pub draw: Option<DrawView>,
    pub samples: Vec<SampleView>,
    #[serde(flatten)]
    pub tally: Tally,
    /// Every sampled plot has its result.
    pub complete: bool,
    /// Earlier draws, superseded, the latest first.
    pub earlier: Vec<DrawView>,
    pub may_draw: bool,
    pub may_redraw: bool,
    pub may_record: bool,
}

/// A village's inspection: its insured plots now, the current draw with
/// every sampled plot and its result, and the earlier draws.
pub fn village_status(
    conn: &mut DbConn,
    actor: &Actor,
    village_id: i64,
    scheme: Option<&str>,
) -> AppResult<VillageStatus> {
    actor.require(may_see(actor))?;
    let v = village(conn, actor, village_id)?;
    let scheme = scheme_for(conn, scheme)?;
    status_of(conn, actor, &v, &scheme)
}

pub(super) fn status_of(
    conn: &mut DbConn,
    actor: &Actor,
    v: &Area,
    scheme: &Scheme,
) -> AppResult<VillageStatus> {
    let township_id = v.parent_id.unwrap_or_default();
    let township = crate::app::areas::area_by_id(conn, township_id)?;
    let population = rows::population(conn, scheme.id, v.id)?;
    let draws = rows::draws_of(conn, scheme.id, v.id)?;
    let current = draws
        .iter()
        .find(|d| d.status == DrawStatus::Current.as_str());
    let mut samples = Vec::new();
    let mut tally = Tally::default();
    if let Some(d) = current {
        let lines = rows::samples_of(conn, d.id)?;
        let results: HashMap<i64, ResultRow> = rows::results_of(conn, d.id)?
            .into_iter()
            .map(|r| (r.sample_id, r))
            .collect();
        let ids: Vec<i64> = lines.iter().map(|l| l.0.id).collect();
        let mut photos: HashMap<i64, usize> = HashMap::new();
        for p in rows::photos_of(conn, &ids)? {
            *photos.entry(p.sample_id).or_default() += 1;
        }
        for (s, code, grower_id, grower_name, current_mu, boundary) in lines {
            let result = results.get(&s.id);
            if let Some(r) = result {
                tally.add(&r.outcome, 1);
            }
            samples.push(SampleView {
                id: s.id,
                position: s.position,
                plot_id: s.plot_id,
                plot_code: code,
                grower_id,
                grower_name,
                area_mu: s.area_units,
                current_mu,
                has_boundary: boundary.is_some(),
                photos: photos.get(&s.id).copied().unwrap_or(0),
                result: result.map(result_view),
            });
        }
    }
    let complete = current.is_some() && tally.done >= samples.len() as i64;
    Ok(VillageStatus {
        village_id: v.id,
        village_code: v.code.clone(),
        village_name: v.name.clone(),
        township_id,
        township_name: township.name,
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        rules: scheme.def.inspection.clone(),
        population_plots: population.len() as i64,
        population_mu: population.iter().map(|p| p.2).sum(),
        draw: current.map(draw_view),
        samples,
        tally,
        complete,
        earlier: draws
            .iter()
            .filter(|d| d.status != DrawStatus::Current.as_str())
            .map(draw_view)
            .collect(),
        may_draw: actor.may(Action::DrawInspection),
        may_redraw: actor.may(Action::RedrawInspection),
        may_record: actor.may(Action::RecordInspection),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageSummary {
    pub village_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub township_name: String,
    pub population_plots: i64,
    pub population_mu: Mu,
    pub drawn: bool,
    pub mode_name: String,
    pub seed: Option<i64>,
    pub sample_plots: i64,
    pub sample_mu: Mu,
    pub share_reached: bool,
    #[serde(flatten)]
    pub tally: Tally,
    pub complete: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VillageFilter {
    pub scheme: Option<String>,
    pub township: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageList {
    pub scheme_code: String,
    pub scheme_name: String,
    pub rules: InspectionRules,
    pub items: Vec<VillageSummary>,
}

/// Every village the actor sees that has insured plots or a draw, with its
/// sample's progress.
pub fn villages(conn: &mut DbConn, actor: &Actor, f: &VillageFilter) -> AppResult<VillageList> {
    actor.require(may_see(actor))?;
    let scheme = scheme_for(conn, f.scheme.as_deref())?;
    let township = match f
        .township
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(code) => Some(crate::app::areas::township_by_code(conn, actor, code)?.id),
        None => actor.township_scope(),
    };
    let population: HashMap<i64, (i64, i64)> =
        rows::population_by_village(conn, scheme.id, township)?
            .into_iter()
            .map(|(v, n, u)| (v, (n, u)))
            .collect();
    let draws: HashMap<i64, Draw> = rows::current_draws(conn, scheme.id, township)?
        .into_iter()
        .map(|d| (d.village_id, d))
        .collect();
    let ids: Vec<i64> = draws.values().map(|d| d.id).collect();
    let mut tallies: HashMap<i64, Tally> = HashMap::new();
    for (draw, outcome, n) in rows::outcome_counts(conn, &ids)? {
        tallies.entry(draw).or_default().add(&outcome, n);
    }
    let names = crate::app::areas::names(conn)?;
    let mut villages: Vec<i64> = population.keys().chain(draws.keys()).copied().collect();
    villages.sort_unstable();
    villages.dedup();
    let mut items: Vec<VillageSummary> = villages
        .into_iter()
        .filter_map(|id| {
            let v = names.get(&id)?;
            let (plots, units) = population.get(&id).copied().unwrap_or((0, 0));
            let d = draws.get(&id);
            let tally = d
                .and_then(|d| tallies.get(&d.id))
                .copied()
                .unwrap_or_default();
            let view = d.map(draw_view);
            Some(VillageSummary {
                village_id: id,
                village_code: v.code.clone(),
                village_name: v.name.clone(),
                township_name: v
                    .parent_id
                    .and_then(|t| names.get(&t))
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                population_plots: plots,
                population_mu: Mu::from_units(units),
                drawn: d.is_some(),
                mode_name: view
                    .as_ref()
                    .map(|v| v.mode_name.clone())
                    .unwrap_or_default(),
                seed: d.map(|d| d.seed),
                sample_plots: d.map_or(0, |d| i64::from(d.sample_plots)),
                sample_mu: d.map_or(Mu::ZERO, |d| d.sample_area_units),
                share_reached: view.as_ref().is_some_and(|v| v.share_reached),
                complete: d.is_some_and(|d| tally.done >= i64::from(d.sample_plots)),
                tally,
            })
        })
        .collect();
    items.sort_by(|a, b| a.village_code.cmp(&b.village_code));
    Ok(VillageList {
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        rules: scheme.def.inspection.clone(),
        items,
    })
}
