//! Roster import pages (upload → preview → commit → error report), the
//! boundary upload on the same page, and the blank roster template.

use crate::app::{self, import, reports, Actor};
use crate::error::{AppError, ErrorCode};
use crate::web::page::{
    download, error_page, flash, is_user_error_or_missing, page, redirect, refuse_unless_editor,
    set_key, show, xlsx_or_error, Data, Form, Query,
};
use crate::web::session::PageUser;
use crate::web::AppState;
use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/import", web::get().to(import_form))
        .route("/import", web::post().to(import_upload))
        .route("/import/boundaries", web::post().to(boundaries_upload))
        .route("/import/{id}", web::get().to(import_preview))
        .route("/import/{id}/commit", web::post().to(import_commit))
        .route("/import/{id}/errors.xlsx", web::get().to(import_errors))
        .route("/roster-template.xlsx", web::get().to(template));
}

async fn form_context(state: &AppState, actor: &Actor) -> Result<serde_json::Value, AppError> {
    let max_mb = state.limits.max_upload_bytes / (1024 * 1024);
    state
        .run_as(actor, move |c, a| {
            let towns = app::areas::townships(c, a)?;
            Ok(json!({"townships": towns, "max_mb": max_mb}))
        })
        .await
}

const MISSING_ROSTER: &str = "请选择要上传的花名册文件";
const MISSING_GEOJSON: &str = "请选择要上传的GeoJSON文件";

async fn import_form(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    if let Some(refused) = refuse_unless_editor(&state, &session, &actor) {
        return refused;
    }
    let res = form_context(&state, &actor).await;
    show(&state, &session, &actor, "import.html", res)
}

async fn import_upload(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    payload: Multipart,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let upload = read_upload(&state, &session, &req, &actor, payload, MISSING_ROSTER).await;
    let (fields, filename, bytes) = match upload {
        Ok(upload) => upload,
        Err(answer) => return *answer,
    };
    let township = fields.get("township_code").cloned().unwrap_or_default();
    let read_options = state.limits.read_options();
    let res = state
        .run_as(&actor, move |c, a| {
            let township = app::areas::township_or_own(c, a, &township)?.code;
            import::stage(
                c,
                a,
                &import::ImportRequest {
                    township_code: &township,
                    scheme: "",
                    filename: &filename,
                    bytes: &bytes,
                    options: read_options,
                },
            )
        })
        .await;
    match res {
        Ok(rep) => redirect(&format!("/import/{}", rep.upload_id.unwrap_or(0))),
        Err(e) => upload_error(&state, &session, &actor, e).await,
    }
}

/// GeoJSON boundaries: "预览" checks only, "导入" writes.
async fn boundaries_upload(
    state: Data,
    session: Session,
    user: PageUser,
    req: HttpRequest,
    payload: Multipart,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let upload = read_upload(&state, &session, &req, &actor, payload, MISSING_GEOJSON).await;
    let (fields, _, bytes) = match upload {
        Ok(upload) => upload,
        Err(answer) => return *answer,
    };
    let Ok(text) = String::from_utf8(bytes) else {
        let e = AppError::invalid("file", ErrorCode::GeojsonInvalid, "GeoJSON必须是UTF-8文本");
        return upload_error(&state, &session, &actor, e).await;
    };
    let dry_run = fields.get("mode").map(String::as_str) != Some("commit");
    let township = fields.get("township_code").cloned().unwrap_or_default();
    let res =
        crate::web::areas::upload_boundaries(&state, actor.clone(), text, dry_run, move |c, a| {
            let code = app::areas::township_or_own(c, a, &township)?.code;
            app::boundaries::load_context(c, a, &code)
        })
        .await;
    match res {
        Ok(rep) => page(
            &state,
            &session,
            Some(&actor),
            "boundaries_result.html",
            StatusCode::OK,
            json!({"report": rep}),
        ),
        Err(e) => upload_error(&state, &session, &actor, e).await,
    }
}

enum ReadError {
    /// Wrong role or CSRF token: refused before the body was read.
    Refused(AppError),
    /// The form itself is too large or broken: shown on the form.
    Form(AppError),
}

/// Role and CSRF first, then the form within its limits. Both uploads on the
/// import page (roster, boundaries) need enrollment rights.
async fn read_form(
    state: &AppState,
    session: &Session,
    req: &HttpRequest,
    actor: &Actor,
    payload: Multipart,
) -> Result<crate::web::upload::Upload, ReadError> {
    crate::web::upload::page_gate(session, req, actor.can_edit_enrollment())
        .map_err(ReadError::Refused)?;
    let limits = crate::web::upload::Limits::for_file(state.limits.max_upload_bytes);
    crate::web::upload::read(req, payload, limits)
        .await
        .map_err(ReadError::Form)
}

/// The text fields and the one non-empty file of an upload form; what went
/// wrong is already the answer: the error page for a refusal, the form again
/// (with `missing` when no file came) otherwise.
async fn read_upload(
    state: &AppState,
    session: &Session,
    req: &HttpRequest,
    actor: &Actor,
    payload: Multipart,
    missing: &'static str,
) -> Result<(HashMap<String, String>, String, Vec<u8>), Box<HttpResponse>> {
    let form = match read_form(state, session, req, actor, payload).await {
        Ok(f) => f,
        Err(ReadError::Refused(e)) => {
            return Err(Box::new(error_page(state, session, Some(actor), &e)))
        }
        Err(ReadError::Form(e)) => {
            return Err(Box::new(upload_error(state, session, actor, e).await))
        }
    };
    match form.file.filter(|(_, b)| !b.is_empty()) {
        Some((filename, bytes)) => Ok((form.fields, filename, bytes)),
        None => {
            let e = AppError::invalid("file", ErrorCode::FileMissing, missing);
            Err(Box::new(upload_error(state, session, actor, e).await))
        }
    }
}

async fn upload_error(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    e: AppError,
) -> HttpResponse {
    if !is_user_error_or_missing(&e) {
        return error_page(state, session, Some(actor), &e);
    }
    match form_context(state, actor).await {
        Ok(mut ctx) => {
            set_key(
                &mut ctx,
                "errors",
                json!({"messages": e.messages(), "code": e.code()}),
            );
            page(state, session, Some(actor), "import.html", e.status(), ctx)
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn load_report(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(import::Upload, import::ImportReport), AppError> {
    let read_options = state.limits.read_options();
    state
        .run_as(actor, move |c, a| {
            let u = import::upload(c, a, id)?;
            let township = app::areas::area_by_id(c, u.township_id)?;
            let scheme = app::schemes::by_id(c, u.scheme_id)?;
            let rep = import::preview(
                c,
                a,
                &import::ImportRequest {
                    township_code: &township.code,
                    scheme: &scheme.def.code,
                    filename: &u.filename,
                    bytes: &u.content,
                    options: read_options,
                },
            );
            // A committed upload previews as "unchanged": show what it did instead.
            Ok((u, rep?))
        })
        .await
}

async fn import_preview(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "上传的花名册");
    let res = load_report(&state, &actor, id).await.map(|(u, rep)| {
        let committed = u.status == "committed";
        let summary: serde_json::Value = serde_json::from_str(&u.summary).unwrap_or_default();
        let problems: Vec<_> = rep.rows.iter().filter(|r| !r.problems.is_empty()).take(500).collect();
        let ineligible: Vec<_> = rep.rows.iter().filter(|r| r.eligible == Some(false)).take(500).collect();
        json!({
            "upload": {"id": u.id, "filename": u.filename, "created_at": u.created_at, "committed": committed,
                       "committed_at": u.committed_at, "summary": summary},
            "report": rep, "problems": problems, "ineligible": ineligible,
        })
    });
    show(&state, &session, &actor, "import_preview.html", res)
}

async fn import_commit(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "上传的花名册");
    let options = state.limits.read_options();
    match state
        .run_as(&actor, move |c, a| import::commit_upload(c, a, id, options))
        .await
    {
        Ok(rep) => {
            let c = &rep.counts;
            flash(
                &session,
                &format!(
                    "已导入：新增{}行，变更{}行，无变化{}行，拒收{}行（未导入）",
                    c.new, c.changed, c.unchanged, c.rejected
                ),
            );
            redirect(&format!("/import/{id}"))
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn import_errors(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "上传的花名册");
    let res = load_report(&state, &actor, id).await.and_then(|(u, rep)| {
        let bytes = crate::excel::write::error_report(&rep.headers, &import::error_rows(&rep))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let name = u
            .filename
            .trim_end_matches(".xlsx")
            .trim_end_matches(".xls");
        Ok((format!("错误报告-{name}.xlsx"), bytes))
    });
    xlsx_or_error(&state, &session, &actor, res)
}

async fn template(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let township = q.get("township").cloned().unwrap_or_default();
    download(&state, &session, &actor, move |c, a| {
        let t = app::areas::township_or_own(c, a, &township)?;
        let bytes = reports::roster_template(c, a, &t.code, None)?;
        Ok((format!("花名册模板-{}.xlsx", t.name), bytes))
    })
    .await
}
