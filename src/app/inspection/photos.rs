//! The photos of a sampled plot, and the tablet page of one sample.

use super::record::sample_in_scope;
use super::*;
use crate::app::on_site;

// ---------------------------------------------------------------- photos

#[derive(Debug, Clone, Serialize)]
pub struct PhotoOutcome {
    pub created: bool,
    pub id: i64,
    pub sha256: String,
    pub size_bytes: i64,
}

/// Who may send inspection photos at all — asked before the bytes are read.
pub fn may_upload_photos(actor: &Actor) -> bool {
    actor.may(Action::RecordInspection)
}

/// The sample exists and is the actor's to see (before the bytes are read).
pub fn check_sample(conn: &mut DbConn, actor: &Actor, sample_id: i64) -> AppResult<()> {
    sample_in_scope(conn, actor, sample_id).map(drop)
}

/// A photo of a sampled plot: recognised by its bytes (decoded whole), under
/// the size limit, stored once per client id with its SHA-256.
pub fn add_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    sample_id: i64,
    client_id: &str,
    p: &crate::app::photos::Stored,
) -> AppResult<PhotoOutcome> {
    actor.require(may_upload_photos(actor))?;
    let sha = p.sha256.as_str();
    let look = |conn: &mut DbConn| -> AppResult<Option<PhotoOutcome>> {
        let (s, _) = sample_in_scope(conn, actor, sample_id)?;
        let client_id = on_site::client_id(client_id, on_site::PHOTO_CLIENT_ID_MESSAGE)?;
        match rows::photo_by_client_id(conn, client_id)? {
            None => Ok(None),
            Some(p) if p.sample_id == s.id && p.sha256 == sha => Ok(Some(PhotoOutcome {
                created: false,
                id: p.id,
                sha256: p.sha256,
                size_bytes: p.size_bytes,
            })),
            Some(_) => Err(AppError::conflict(
                ErrorCode::ClientIdReused,
                "该照片编号已用于其他照片",
            )),
        }
    };
    let first = crate::app::tx(conn, |conn| {
        if let Some(out) = look(conn)? {
            return Ok(out);
        }
        let (s, d) = sample_in_scope(conn, actor, sample_id)?;
        let client_id = on_site::client_id(client_id, on_site::PHOTO_CLIENT_ID_MESSAGE)?;
        if d.status != DrawStatus::Current.as_str() {
            return Err(AppError::conflict(
                ErrorCode::InspectionDrawSuperseded,
                "该村已重新抽样，此地块不在最新的抽样中，请刷新页面",
            ));
        }
        let id = rows::insert_photo(
            conn,
            &rows::NewPhoto {
                sample_id: s.id,
                client_id,
                sha256: sha,
                content_type: p.content_type,
                size_bytes: p.size_bytes,
                width: p.width,
                height: p.height,
                original_sha256: p.shrunk_from(),
                uploaded_by: (actor.user_id > 0).then_some(actor.user_id),
                created_at: Instant::from_utc(now),
            },
        )?;
        audit::record(
            conn,
            actor,
            "photo",
            "inspection_sample",
            s.id,
            None::<&()>,
            Some(&serde_json::json!({"photo_id": id, "sha256": sha})),
        )?;
        Ok(PhotoOutcome {
            created: true,
            id,
            sha256: sha.to_string(),
            size_bytes: p.size_bytes,
        })
    });
    on_site::or_recorded(conn, first, look)
}

/// Where the bytes of a photo the actor may see are.
pub fn photo(
    conn: &mut DbConn,
    actor: &Actor,
    sample_id: i64,
    photo_id: i64,
) -> AppResult<crate::app::photos::Content> {
    actor.require(may_see(actor))?;
    sample_in_scope(conn, actor, sample_id)?;
    rows::photo_content(conn, sample_id, photo_id)?
        .map(crate::app::photos::Content::from_row)
        .ok_or_else(|| AppError::not_found("照片"))
}

// ---------------------------------------------------------------- the tablet page

#[derive(Debug, Clone, Serialize)]
pub struct SampleDetail {
    pub sample: SampleView,
    pub draw_current: bool,
    pub village_id: i64,
    pub village_name: String,
    pub scheme_code: String,
    pub boundary: Option<String>,
    pub max_distance_m: u32,
    pub tree_count: i32,
    pub variety_name: String,
    /// The photos already received, oldest first.
    pub photo_ids: Vec<i64>,
}

/// One sampled plot, for the tablet page.
pub fn sample_detail(conn: &mut DbConn, actor: &Actor, sample_id: i64) -> AppResult<SampleDetail> {
    actor.require(may_see(actor))?;
    let (s, d) = sample_in_scope(conn, actor, sample_id)?;
    let plot = crate::app::load::<Plot>(conn, s.plot_id)?;
    let scheme = crate::app::schemes::by_id(conn, d.scheme_id)?;
    let v = crate::app::areas::area_by_id(conn, d.village_id)?;
    let grower: (i64, String) = crate::db::schema::growers::table
        .find(plot.grower_id)
        .select((
            crate::db::schema::growers::id,
            crate::db::schema::growers::name,
        ))
        .first(conn)?;
    let result = rows::result_of_sample(conn, s.id)?;
    let photo_ids: Vec<i64> = rows::photos_of(conn, &[s.id])?
        .iter()
        .map(|p| p.id)
        .collect();
    let photos = photo_ids.len();
    Ok(SampleDetail {
        sample: SampleView {
            id: s.id,
            position: s.position,
            plot_id: plot.id,
            plot_code: plot.code.clone(),
            grower_id: grower.0,
            grower_name: grower.1,
            area_mu: s.area_units,
            current_mu: plot.area_units,
            has_boundary: plot.boundary.is_some(),
            photos,
            result: result.as_ref().map(result_view),
        },
        draw_current: d.status == DrawStatus::Current.as_str(),
        village_id: v.id,
        village_name: v.name,
        scheme_code: scheme.def.code.clone(),
        boundary: plot.boundary.clone(),
        max_distance_m: scheme.def.claim_rules.max_distance_m,
        tree_count: plot.tree_count,
        variety_name: scheme
            .def
            .variety(&plot.variety)
            .map(|v| v.name.clone())
            .unwrap_or_else(|| plot.variety.clone()),
        photo_ids,
    })
}
