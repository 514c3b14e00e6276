//! Objections raised while a notice is up (异议), and their resolution.

use super::views::objection_views;
use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ObjectionInput {
    /// Who raised it (a grower, a villager).
    pub raised_by: String,
    /// The grower it is about (one of the notice's households), if any.
    pub grower_id: Option<i64>,
    /// The plot it is about (a plot of one of the notice's households), if any.
    pub plot_code: String,
    pub content: String,
    pub raised_on: String,
}

/// Record an objection raised while the notice was up.
pub fn object(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ObjectionInput,
) -> AppResult<ObjectionView> {
    actor.require(may_post(actor))?;
    let today = crate::app::clock::china_date(now);
    crate::app::tx(conn, |conn| {
        let n = scoped(conn, actor, id)?;
        let mut errs = Vec::new();
        let raised_by = field_text(
            &mut errs,
            "raised_by",
            "异议人",
            &input.raised_by,
            TextKind::Name,
            true,
        );
        let content = field_text(
            &mut errs,
            "content",
            "异议内容",
            &input.content,
            TextKind::Notes,
            true,
        );
        let raised_on = match input_day("raised_on", "提出日期", &input.raised_on) {
            Ok(d) if d < n.starts_on.date() || d > n.ends_on.date() || d > today => {
                errs.push(FieldError::new(
                    "raised_on",
                    ErrorCode::DateInvalid,
                    format!(
                        "提出日期应在公示期内（{}至{}）且不晚于今天（{today}）",
                        n.starts_on, n.ends_on
                    ),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let households: Vec<i64> = rows::items_of(conn, n.id)?
            .iter()
            .map(|i| i.grower_id)
            .collect();
        let grower_id = match input.grower_id {
            Some(g) if !households.contains(&g) => {
                errs.push(FieldError::new(
                    "grower_id",
                    ErrorCode::ObjectionTargetUnknown,
                    "所选农户不在本公示的名单中",
                ));
                None
            }
            g => g,
        };
        let plot_code = field_text(
            &mut errs,
            "plot_code",
            "地块编号",
            &input.plot_code,
            TextKind::Code,
            false,
        );
        let plot_id = if plot_code.is_empty() {
            None
        } else {
            let found: Option<(i64, i64)> = plots::table
                .filter(plots::code.eq(&plot_code))
                .select((plots::id, plots::grower_id))
                .first(conn)
                .optional()?;
            match found {
                Some((p, g)) if households.contains(&g) && grower_id.is_none_or(|x| x == g) => {
                    Some(p)
                }
                _ => {
                    errs.push(FieldError::new(
                        "plot_code",
                        ErrorCode::ObjectionTargetUnknown,
                        "所填地块不属于本公示名单中的农户",
                    ));
                    None
                }
            }
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let raised_on = raised_on.ok_or_else(|| AppError::Internal("异议日期未检查".into()))?;
        let oid = rows::insert_objection(
            conn,
            &NewObjection {
                notice_id: n.id,
                raised_by: &raised_by,
                grower_id,
                plot_id,
                content: &content,
                raised_on: Day::new(raised_on),
                recorded_by: author(actor),
                created_at: Instant::from_utc(now),
            },
        )?;
        let o = rows::objection(conn, oid)?
            .ok_or_else(|| AppError::Internal("异议写入后未找到".into()))?;
        audit::record(
            conn,
            actor,
            "objection",
            "notice_objection",
            oid,
            None::<&()>,
            Some(&o),
        )?;
        Ok(objection_views(conn, std::slice::from_ref(&o))?.remove(0))
    })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResolveInput {
    pub resolution: String,
}

/// Record how an objection was settled: who, when, what was decided.
pub fn resolve(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    notice_id: i64,
    objection_id: i64,
    input: &ResolveInput,
) -> AppResult<ObjectionView> {
    actor.require(may_post(actor))?;
    let mut errs = Vec::new();
    let resolution = field_text(
        &mut errs,
        "resolution",
        "处理结果",
        &input.resolution,
        TextKind::Notes,
        false,
    );
    if errs.is_empty() && resolution.is_empty() {
        errs.push(FieldError::new(
            "resolution",
            ErrorCode::ResolutionRequired,
            "请填写异议的处理结果",
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    crate::app::tx(conn, |conn| {
        let n = scoped(conn, actor, notice_id)?;
        let before = rows::objection(conn, objection_id)?
            .filter(|o| o.notice_id == n.id)
            .ok_or_else(|| AppError::not_found("异议"))?;
        if before.resolved_at.is_some() {
            return Err(AppError::conflict(
                ErrorCode::ObjectionResolved,
                "该异议已经处理过，处理结果不能更改",
            ));
        }
        rows::resolve_objection(
            conn,
            objection_id,
            &resolution,
            author(actor),
            Instant::from_utc(now),
        )?;
        let after = rows::objection(conn, objection_id)?
            .ok_or_else(|| AppError::Internal("异议处理后未找到".into()))?;
        audit::record(
            conn,
            actor,
            "resolve",
            "notice_objection",
            objection_id,
            Some(&before),
            Some(&after),
        )?;
        Ok(objection_views(conn, std::slice::from_ref(&after))?.remove(0))
    })
}
