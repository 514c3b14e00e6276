//! Pre-cover inspection (验标) rows and queries: draws, their sampled plots,
//! the results recorded on site and their photos.

use super::schema::{
    growers, inspection_draws, inspection_photos, inspection_results, inspection_samples, plots,
    policies,
};
use super::DbConn;
use crate::domain::measure::Mu;
use crate::domain::policy::PolicyStatus;
use crate::domain::time::Instant;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = inspection_draws)]
pub struct Draw {
    pub id: i64,
    pub scheme_id: i64,
    pub village_id: i64,
    pub township_id: i64,
    pub mode: String,
    pub percent: String,
    pub seed: i64,
    pub population_plots: i32,
    #[serde(serialize_with = "super::stored::mu")]
    pub population_area_units: Mu,
    #[serde(serialize_with = "super::stored::mu")]
    pub required_area_units: Mu,
    pub sample_plots: i32,
    #[serde(serialize_with = "super::stored::mu")]
    pub sample_area_units: Mu,
    pub status: String,
    pub reason: String,
    pub superseded_by: Option<i64>,
    pub drawn_by: Option<i64>,
    pub drawn_at: Instant,
}

super::scope::township_row!(Draw, inspection_draws, "验标抽样");

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inspection_draws)]
pub struct NewDraw {
    pub scheme_id: i64,
    pub village_id: i64,
    pub township_id: i64,
    pub mode: String,
    pub percent: String,
    pub seed: i64,
    pub population_plots: i32,
    pub population_area_units: Mu,
    pub required_area_units: Mu,
    pub sample_plots: i32,
    pub sample_area_units: Mu,
    pub status: String,
    pub reason: String,
    pub drawn_by: Option<i64>,
    pub drawn_at: Instant,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = inspection_samples)]
pub struct Sample {
    pub id: i64,
    pub draw_id: i64,
    pub plot_id: i64,
    pub position: i32,
    #[serde(serialize_with = "super::stored::mu")]
    pub area_units: Mu,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, Insertable)]
#[diesel(table_name = inspection_results)]
pub struct ResultRow {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub sample_id: i64,
    pub plot_id: i64,
    pub client_id: String,
    pub outcome: String,
    #[serde(serialize_with = "super::stored::mu")]
    pub area_before_units: Mu,
    #[serde(serialize_with = "super::stored::option_mu")]
    pub area_after_units: Option<Mu>,
    pub reason: String,
    pub notes: String,
    pub inspected_at: Instant,
    pub received_at: Instant,
    pub latitude: String,
    pub longitude: String,
    pub accuracy_m: Option<i32>,
    pub location_check: String,
    pub distance_m: i32,
    pub recorded_by: Option<i64>,
}

/// A photo without its bytes.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = inspection_photos)]
pub struct PhotoMeta {
    pub id: i64,
    pub sample_id: i64,
    pub client_id: String,
    pub sha256: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by: Option<i64>,
    pub created_at: Instant,
}

pub struct NewPhoto<'a> {
    pub sample_id: i64,
    pub client_id: &'a str,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub original_sha256: Option<&'a str>,
    pub uploaded_by: Option<i64>,
    pub created_at: Instant,
}

/// Policies whose plots are still to be covered: the population a sample is
/// drawn from (cancelled and issued policies are not).
pub const PENDING: [PolicyStatus; 2] = [PolicyStatus::Draft, PolicyStatus::Collected];

/// The insured plots of a village in a scheme: eligible, on a draft or
/// collected policy. (id, code, area), by code.
pub fn population(
    conn: &mut DbConn,
    scheme_id: i64,
    village_id: i64,
) -> QueryResult<Vec<(i64, String, Mu)>> {
    plots::table
        .inner_join(
            policies::table.on(policies::grower_id
                .eq(plots::grower_id)
                .and(policies::scheme_id.eq(plots::scheme_id))),
        )
        .filter(plots::scheme_id.eq(scheme_id))
        .filter(plots::village_id.eq(village_id))
        .filter(plots::eligible.eq(true))
        .filter(policies::status.eq_any(PENDING))
        .order((plots::code, plots::id))
        .select((plots::id, plots::code, plots::area_units))
        .load(conn)
}

/// The insured plots and area of every village of a scheme (optionally of
/// one township): (village id, plots, area units).
pub fn population_by_village(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let mut q = plots::table
        .inner_join(
            policies::table.on(policies::grower_id
                .eq(plots::grower_id)
                .and(policies::scheme_id.eq(plots::scheme_id))),
        )
        .filter(plots::scheme_id.eq(scheme_id))
        .filter(plots::eligible.eq(true))
        .filter(policies::status.eq_any(PENDING))
        .select((plots::village_id, plots::area_units))
        .into_boxed();
    if let Some(t) = township {
        q = q.filter(plots::township_id.eq(t));
    }
    let mut by: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for (v, units) in q.load::<(i64, i64)>(conn)? {
        let e = by.entry(v).or_default();
        e.0 += 1;
        e.1 += units;
    }
    Ok(by.into_iter().map(|(v, (n, u))| (v, n, u)).collect())
}

pub fn draw_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Draw>> {
    inspection_draws::table
        .find(id)
        .select(Draw::as_select())
        .first(conn)
        .optional()
}

pub fn current_draw(
    conn: &mut DbConn,
    scheme_id: i64,
    village_id: i64,
) -> QueryResult<Option<Draw>> {
    inspection_draws::table
        .filter(inspection_draws::scheme_id.eq(scheme_id))
        .filter(inspection_draws::village_id.eq(village_id))
        .filter(inspection_draws::status.eq("current"))
        .select(Draw::as_select())
        .first(conn)
        .optional()
}

/// Every draw of a village in a scheme, the latest first.
pub fn draws_of(conn: &mut DbConn, scheme_id: i64, village_id: i64) -> QueryResult<Vec<Draw>> {
    inspection_draws::table
        .filter(inspection_draws::scheme_id.eq(scheme_id))
        .filter(inspection_draws::village_id.eq(village_id))
        .order(inspection_draws::id.desc())
        .select(Draw::as_select())
        .load(conn)
}

/// The current draws of a scheme, optionally of one township.
pub fn current_draws(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> QueryResult<Vec<Draw>> {
    let mut q = inspection_draws::table
        .filter(inspection_draws::scheme_id.eq(scheme_id))
        .filter(inspection_draws::status.eq("current"))
        .into_boxed();
    if let Some(t) = township {
        q = q.filter(inspection_draws::township_id.eq(t));
    }
    q.select(Draw::as_select()).load(conn)
}

/// Mark a draw superseded; 0 rows when it was no longer current (someone
/// else re-drew it first).
pub fn supersede(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(
        inspection_draws::table
            .filter(inspection_draws::id.eq(id))
            .filter(inspection_draws::status.eq("current")),
    )
    .set(inspection_draws::status.eq("superseded"))
    .execute(conn)
}

pub fn set_superseded_by(conn: &mut DbConn, id: i64, by: i64) -> QueryResult<usize> {
    diesel::update(inspection_draws::table.find(id))
        .set(inspection_draws::superseded_by.eq(by))
        .execute(conn)
}

pub fn insert_draw(conn: &mut DbConn, d: &NewDraw) -> QueryResult<i64> {
    diesel::insert_into(inspection_draws::table)
        .values(d)
        .returning(inspection_draws::id)
        .get_result(conn)
}

/// The sampled plots of a draw, in draw order: (plot id, area units).
pub fn insert_samples(conn: &mut DbConn, draw_id: i64, plots: &[(i64, Mu)]) -> QueryResult<usize> {
    for (i, (plot, area)) in plots.iter().enumerate() {
        diesel::insert_into(inspection_samples::table)
            .values((
                inspection_samples::draw_id.eq(draw_id),
                inspection_samples::plot_id.eq(*plot),
                inspection_samples::position.eq(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                inspection_samples::area_units.eq(*area),
            ))
            .execute(conn)?;
    }
    Ok(plots.len())
}

/// A sampled plot as the pages list it: the sample, the plot's code, its
/// grower's id and name, the plot's current area and boundary.
pub type SampleLine = (Sample, String, i64, String, Mu, Option<String>);

pub fn samples_of(conn: &mut DbConn, draw_id: i64) -> QueryResult<Vec<SampleLine>> {
    inspection_samples::table
        .inner_join(plots::table)
        .inner_join(growers::table.on(growers::id.eq(plots::grower_id)))
        .filter(inspection_samples::draw_id.eq(draw_id))
        .order(inspection_samples::position)
        .select((
            Sample::as_select(),
            plots::code,
            growers::id,
            growers::name,
            plots::area_units,
            plots::boundary,
        ))
        .load(conn)
}

pub fn sample_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Sample>> {
    inspection_samples::table
        .find(id)
        .select(Sample::as_select())
        .first(conn)
        .optional()
}

/// The results recorded on a draw's samples.
pub fn results_of(conn: &mut DbConn, draw_id: i64) -> QueryResult<Vec<ResultRow>> {
    inspection_results::table
        .inner_join(inspection_samples::table)
        .filter(inspection_samples::draw_id.eq(draw_id))
        .order(inspection_results::id)
        .select(ResultRow::as_select())
        .load(conn)
}

/// (draw id, outcome, count) for the given draws.
pub fn outcome_counts(conn: &mut DbConn, draws: &[i64]) -> QueryResult<Vec<(i64, String, i64)>> {
    let mut by: std::collections::BTreeMap<(i64, String), i64> = Default::default();
    for chunk in draws.chunks(500) {
        let rows: Vec<(i64, String)> = inspection_results::table
            .inner_join(inspection_samples::table)
            .filter(inspection_samples::draw_id.eq_any(chunk))
            .select((inspection_samples::draw_id, inspection_results::outcome))
            .load(conn)?;
        for key in rows {
            *by.entry(key).or_default() += 1;
        }
    }
    Ok(by.into_iter().map(|((d, o), n)| (d, o, n)).collect())
}

pub fn result_by_client_id(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<ResultRow>> {
    inspection_results::table
        .filter(inspection_results::client_id.eq(client_id))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()
}

pub fn result_of_sample(conn: &mut DbConn, sample_id: i64) -> QueryResult<Option<ResultRow>> {
    inspection_results::table
        .filter(inspection_results::sample_id.eq(sample_id))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_result(conn: &mut DbConn, row: &ResultRow) -> QueryResult<i64> {
    diesel::insert_into(inspection_results::table)
        .values(row)
        .returning(inspection_results::id)
        .get_result(conn)
}

/// The reason of the latest refusal recorded on a plot, if any.
pub fn refusal_of(conn: &mut DbConn, plot_id: i64) -> QueryResult<Option<String>> {
    inspection_results::table
        .filter(inspection_results::plot_id.eq(plot_id))
        .filter(inspection_results::outcome.eq("refused"))
        .order(inspection_results::id.desc())
        .select(inspection_results::reason)
        .first(conn)
        .optional()
}

/// How many of these plots were ever sampled.
pub fn sampled_count(conn: &mut DbConn, plot_ids: &[i64]) -> QueryResult<i64> {
    let mut n = 0;
    for chunk in plot_ids.chunks(500) {
        n += inspection_samples::table
            .filter(inspection_samples::plot_id.eq_any(chunk))
            .count()
            .get_result::<i64>(conn)?;
    }
    Ok(n)
}

pub fn photo_by_client_id(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<PhotoMeta>> {
    inspection_photos::table
        .filter(inspection_photos::client_id.eq(client_id))
        .select(PhotoMeta::as_select())
        .first(conn)
        .optional()
}

pub fn photos_of(conn: &mut DbConn, sample_ids: &[i64]) -> QueryResult<Vec<PhotoMeta>> {
    inspection_photos::table
        .filter(inspection_photos::sample_id.eq_any(sample_ids))
        .order(inspection_photos::id)
        .select(PhotoMeta::as_select())
        .load(conn)
}

pub fn insert_photo(conn: &mut DbConn, p: &NewPhoto) -> QueryResult<i64> {
    diesel::insert_into(inspection_photos::table)
        .values((
            inspection_photos::sample_id.eq(p.sample_id),
            inspection_photos::client_id.eq(p.client_id),
            inspection_photos::sha256.eq(p.sha256),
            inspection_photos::content_type.eq(p.content_type),
            inspection_photos::size_bytes.eq(p.size_bytes),
            inspection_photos::width.eq(p.width),
            inspection_photos::height.eq(p.height),
            inspection_photos::original_sha256.eq(p.original_sha256),
            inspection_photos::uploaded_by.eq(p.uploaded_by),
            inspection_photos::created_at.eq(p.created_at),
        ))
        .returning(inspection_photos::id)
        .get_result(conn)
}

/// (content type, SHA-256, bytes still in the row) of a photo.
pub fn photo_content(
    conn: &mut DbConn,
    sample_id: i64,
    photo_id: i64,
) -> QueryResult<Option<super::photos::RowContent>> {
    inspection_photos::table
        .filter(inspection_photos::id.eq(photo_id))
        .filter(inspection_photos::sample_id.eq(sample_id))
        .select((
            inspection_photos::content_type,
            inspection_photos::sha256,
            inspection_photos::content,
        ))
        .first(conn)
        .optional()
}
