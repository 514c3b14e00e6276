//! What a notice shows: its items and totals, objections and photos, and
//! the list of notices.

use super::*;

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub grower_id: i64,
    pub grower_name: String,
    pub id_number: String,
    pub phone: String,
    pub village_name: String,
    pub variety: String,
    pub policy_id: Option<i64>,
    pub claim_id: Option<i64>,
    pub insured_mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub affected_mu: Mu,
    /// Loss rate in percent, as printed ("35.5").
    pub loss_rate: String,
    pub payout: Fen,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub households: usize,
    pub insured_mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub affected_mu: Mu,
    pub payout: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionView {
    pub id: i64,
    pub raised_by: String,
    pub grower_id: Option<i64>,
    pub grower_name: Option<String>,
    pub plot_id: Option<i64>,
    pub plot_code: Option<String>,
    pub content: String,
    pub raised_on: Day,
    pub recorded_at: String,
    pub open: bool,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub id: i64,
    pub sha256: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub id: i64,
    pub kind: String,
    pub kind_name: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub insurer: String,
    pub title: String,
    pub township_id: Option<i64>,
    pub township_name: String,
    pub village_id: Option<i64>,
    pub village_name: String,
    pub event_id: Option<i64>,
    pub starts_on: Day,
    pub ends_on: Day,
    pub days: i64,
    pub place: String,
    pub contact_phone: String,
    /// `upcoming`, `posted` (in its period) or `ended`.
    pub state: String,
    pub state_name: String,
    pub open_objections: usize,
    pub items: Vec<ItemView>,
    pub totals: Totals,
    pub objections: Vec<ObjectionView>,
    pub photos: Vec<PhotoView>,
    pub created_at: String,
}

fn state_of(n: &Notice, today: NaiveDate) -> (&'static str, &'static str) {
    if today < n.starts_on.date() {
        ("upcoming", "待张贴")
    } else if today <= n.ends_on.date() {
        ("posted", "公示中")
    } else {
        ("ended", "公示期满")
    }
}

fn percent_of_bp(bp: i64) -> String {
    rust_decimal::Decimal::new(bp, 2).normalize().to_string()
}

fn item_view(i: &NoticeItem) -> ItemView {
    ItemView {
        grower_id: i.grower_id,
        grower_name: i.grower_name.clone(),
        id_number: i.id_number_masked.clone(),
        phone: i.phone_masked.clone(),
        village_name: i.village_name.clone(),
        variety: i.variety.clone(),
        policy_id: i.policy_id,
        claim_id: i.claim_id,
        insured_mu: i.insured_area_units,
        sum_insured: i.sum_insured_fen,
        premium: i.premium_fen,
        grower_share: i.grower_share_fen,
        affected_mu: i.affected_area_units,
        loss_rate: percent_of_bp(i.loss_rate_bp),
        payout: i.payout_fen,
    }
}

fn totals(items: &[NoticeItem]) -> Totals {
    let mut t = Totals {
        households: items.len(),
        ..Totals::default()
    };
    for i in items {
        t.insured_mu = t.insured_mu + i.insured_area_units;
        t.sum_insured += i.sum_insured_fen;
        t.premium += i.premium_fen;
        t.grower_share += i.grower_share_fen;
        t.affected_mu = t.affected_mu + i.affected_area_units;
        t.payout += i.payout_fen;
    }
    t
}

fn user_names(conn: &mut DbConn, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    use crate::db::schema::users;
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

pub(super) fn objection_views(
    conn: &mut DbConn,
    list: &[Objection],
) -> AppResult<Vec<ObjectionView>> {
    let users: Vec<i64> = list.iter().filter_map(|o| o.resolved_by).collect();
    let users = user_names(conn, &users)?;
    let mut out = Vec::with_capacity(list.len());
    for o in list {
        let grower_name = match o.grower_id {
            Some(g) => growers::table
                .find(g)
                .select(growers::name)
                .first::<String>(conn)
                .optional()?,
            None => None,
        };
        let plot_code = match o.plot_id {
            Some(p) => plots::table
                .find(p)
                .select(plots::code)
                .first::<String>(conn)
                .optional()?,
            None => None,
        };
        out.push(ObjectionView {
            id: o.id,
            raised_by: o.raised_by.clone(),
            grower_id: o.grower_id,
            grower_name,
            plot_id: o.plot_id,
            plot_code,
            content: o.content.clone(),
            raised_on: o.raised_on,
            recorded_at: o.created_at.display(),
            open: o.resolved_at.is_none(),
            resolution: o.resolution.clone(),
            resolved_by: o.resolved_by.and_then(|u| users.get(&u).cloned()),
            resolved_at: o.resolved_at.map(Instant::display),
        });
    }
    Ok(out)
}

pub fn view(
    conn: &mut DbConn,
    _actor: &Actor,
    n: &Notice,
    today: NaiveDate,
) -> AppResult<NoticeView> {
    let scheme = crate::app::schemes::by_id(conn, n.scheme_id)?;
    let names = crate::app::areas::names(conn)?;
    let name_of = |id: Option<i64>| {
        id.and_then(|i| names.get(&i))
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let items = rows::items_of(conn, n.id)?;
    let objections = rows::objections_of(conn, n.id)?;
    let objections = objection_views(conn, &objections)?;
    let photos = rows::photos_of(conn, n.id)?
        .into_iter()
        .map(|p| PhotoView {
            id: p.id,
            sha256: p.sha256,
            content_type: p.content_type,
            size_bytes: p.size_bytes,
            uploaded_at: p.created_at.display(),
        })
        .collect();
    let (state, state_name) = state_of(n, today);
    Ok(NoticeView {
        id: n.id,
        kind: n.kind.clone(),
        kind_name: kind_name(&n.kind).to_string(),
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        insurer: scheme.def.insurer.clone(),
        title: n.title.clone(),
        township_id: n.township_id,
        township_name: if n.township_id.is_some() {
            name_of(n.township_id)
        } else {
            "全县".into()
        },
        village_id: n.village_id,
        village_name: name_of(n.village_id),
        event_id: n.event_id,
        starts_on: n.starts_on,
        ends_on: n.ends_on,
        days: (n.ends_on.date() - n.starts_on.date()).num_days(),
        place: n.place.clone(),
        contact_phone: n.contact_phone.clone(),
        state: state.into(),
        state_name: state_name.into(),
        open_objections: objections.iter().filter(|o| o.open).count(),
        totals: totals(&items),
        items: items.iter().map(item_view).collect(),
        objections,
        photos,
        created_at: n.created_at.display(),
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: i64, today: NaiveDate) -> AppResult<NoticeView> {
    let n = scoped(conn, actor, id)?;
    view(conn, actor, &n, today)
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeSummary {
    pub id: i64,
    pub kind: String,
    pub kind_name: String,
    pub title: String,
    pub township_name: String,
    pub starts_on: Day,
    pub ends_on: Day,
    pub state: String,
    pub state_name: String,
    pub households: i64,
    pub open_objections: i64,
    pub photos: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NoticeFilter {
    pub kind: Option<String>,
}

/// The notices the actor may see, newest first.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    f: &NoticeFilter,
    today: NaiveDate,
) -> AppResult<Vec<NoticeSummary>> {
    use crate::db::schema::{notice_items, notice_objections, notice_photos};
    actor.require(may_post(actor))?;
    let mut q = notices::table.into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(notices::township_id.eq(t));
    }
    if let Some(k) = f.kind.as_deref().filter(|k| !k.is_empty()) {
        q = q.filter(notices::kind.eq(k.to_string()));
    }
    let list: Vec<Notice> = q
        .order(notices::id.desc())
        .limit(500)
        .select(Notice::as_select())
        .load(conn)?;
    let ids: Vec<i64> = list.iter().map(|n| n.id).collect();
    let count_by = |rows: Vec<i64>| {
        let mut m: HashMap<i64, i64> = HashMap::new();
        for r in rows {
            *m.entry(r).or_default() += 1;
        }
        m
    };
    let households = count_by(
        notice_items::table
            .filter(notice_items::notice_id.eq_any(&ids))
            .select(notice_items::notice_id)
            .load(conn)?,
    );
    let open = count_by(
        notice_objections::table
            .filter(notice_objections::notice_id.eq_any(&ids))
            .filter(notice_objections::resolved_at.is_null())
            .select(notice_objections::notice_id)
            .load(conn)?,
    );
    let photos = count_by(
        notice_photos::table
            .filter(notice_photos::notice_id.eq_any(&ids))
            .select(notice_photos::notice_id)
            .load(conn)?,
    );
    let names = crate::app::areas::names(conn)?;
    Ok(list
        .iter()
        .map(|n| {
            let (state, state_name) = state_of(n, today);
            NoticeSummary {
                id: n.id,
                kind: n.kind.clone(),
                kind_name: kind_name(&n.kind).into(),
                title: n.title.clone(),
                township_name: n
                    .township_id
                    .and_then(|t| names.get(&t))
                    .map_or("全县".into(), |a| a.name.clone()),
                starts_on: n.starts_on,
                ends_on: n.ends_on,
                state: state.into(),
                state_name: state_name.into(),
                households: households.get(&n.id).copied().unwrap_or(0),
                open_objections: open.get(&n.id).copied().unwrap_or(0),
                photos: photos.get(&n.id).copied().unwrap_or(0),
            }
        })
        .collect())
}
