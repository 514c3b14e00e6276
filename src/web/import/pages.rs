//! Roster import pages (upload → preview → commit → error report), the
//! boundary upload on the same page, and the blank roster template.

use crate::app::{self, import, reports};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::areas::upload_boundaries;
use crate::web::desk::{Answered, Desk, Page};
use crate::web::page::{is_user_error_or_missing, redirect, set_key, Form, Query};
use crate::web::upload;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, Handler, HttpRequest};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What the import pages call an upload on their "not found" page.
const UPLOAD: &str = "上传的花名册";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/import", web::get().to(import_form))
        .route("/import", web::post().to(upload(Kind::Roster)))
        .route(
            "/import/boundaries",
            web::post().to(upload(Kind::Boundaries)),
        )
        .route("/import/{id}", web::get().to(import_preview))
        .route("/import/{id}/commit", web::post().to(import_commit))
        .route("/import/{id}/errors.xlsx", web::get().to(import_errors))
        .route("/roster-template.xlsx", web::get().to(template));
}

async fn form_context(desk: &Desk) -> AppResult<Value> {
    let max_mb = desk.state.limits.max_upload_bytes / (1024 * 1024);
    desk.run(move |c, a| {
        let towns = app::areas::townships(c, a)?;
        Ok(json!({"townships": towns, "max_mb": max_mb}))
    })
    .await
}

async fn import_form(desk: Desk) -> Page {
    desk.editor()?;
    let res = form_context(&desk).await;
    desk.show("import.html", res)
}

/// The two uploads of the import page.
#[derive(Clone, Copy)]
enum Kind {
    /// A roster workbook: staged, then its preview.
    Roster,
    /// GeoJSON boundaries: "预览" checks only, "导入" writes.
    Boundaries,
}

/// An upload of the import page: its form read (role and CSRF first), then
/// the upload's own work; a person's mistake shows the import page again.
fn upload(kind: Kind) -> impl Handler<(Desk, HttpRequest, Multipart), Output = Page> {
    move |desk: Desk, req: HttpRequest, payload: Multipart| async move {
        let missing = match kind {
            Kind::Roster => "请选择要上传的花名册文件",
            Kind::Boundaries => "请选择要上传的GeoJSON文件",
        };
        let (fields, filename, bytes) = read_upload(&desk, &req, payload, missing).await?;
        let township = fields.get("township_code").cloned().unwrap_or_default();
        let res = match kind {
            Kind::Roster => stage(&desk, township, filename, bytes).await,
            Kind::Boundaries => {
                let dry_run = fields.get("mode").map(String::as_str) != Some("commit");
                boundaries(&desk, township, bytes, dry_run).await
            }
        };
        match res {
            Ok(page) => page,
            Err(e) => upload_error(&desk, e).await,
        }
    }
}

/// The roster staged for `township`: its preview next.
async fn stage(desk: &Desk, township: String, filename: String, bytes: Vec<u8>) -> AppResult<Page> {
    let options = desk.state.limits.read_options();
    let url = desk.state.pool.url().to_string();
    let rep = desk
        .run(move |c, a| {
            let township = app::areas::township_or_own(c, a, &township)?.code;
            let request = import::ImportRequest {
                database_url: &url,
                township_code: &township,
                scheme: "",
                filename: &filename,
                bytes: &bytes,
                options,
            };
            import::stage(c, a, &request)
        })
        .await?;
    Ok(Ok(redirect(&format!(
        "/import/{}",
        rep.upload_id.unwrap_or(0)
    ))))
}

/// The boundaries of `township` checked, and written unless `dry_run`.
async fn boundaries(
    desk: &Desk,
    township: String,
    bytes: Vec<u8>,
    dry_run: bool,
) -> AppResult<Page> {
    let text = String::from_utf8(bytes).map_err(|_| {
        AppError::invalid("file", ErrorCode::GeojsonInvalid, "GeoJSON必须是UTF-8文本")
    })?;
    let actor = desk.actor.clone();
    let rep = upload_boundaries(&desk.state, actor, text, dry_run, move |c, a| {
        let code = app::areas::township_or_own(c, a, &township)?.code;
        app::boundaries::load_context(c, a, &code)
    })
    .await?;
    let ctx = json!({"report": rep});
    Ok(desk.render("boundaries_result.html", StatusCode::OK, ctx))
}

/// The text fields and the one non-empty file of an upload form. Role and
/// CSRF first (both uploads need enrollment rights), the error page if they
/// fail; then the form within its limits, the import page again (with
/// `missing` when no file came) if it does not fit.
async fn read_upload(
    desk: &Desk,
    req: &HttpRequest,
    payload: Multipart,
    missing: &'static str,
) -> Result<(HashMap<String, String>, String, Vec<u8>), Answered> {
    let gate = upload::page_gate(&desk.session, req, desk.actor.can_edit_enrollment());
    desk.or_fail(gate)?;
    let limits = upload::Limits::for_file(desk.state.limits.max_upload_bytes);
    let file = upload::read(req, payload, limits).await.and_then(|form| {
        match form.file.filter(|(_, b)| !b.is_empty()) {
            Some((filename, bytes)) => Ok((form.fields, filename, bytes)),
            None => Err(AppError::invalid("file", ErrorCode::FileMissing, missing)),
        }
    });
    match file {
        Ok(file) => Ok(file),
        Err(e) => Err(Answered::from_page(upload_error(desk, e).await)),
    }
}

/// A person's mistake in an upload: the import page again with it; anything
/// else the error page.
async fn upload_error(desk: &Desk, e: AppError) -> Page {
    if !is_user_error_or_missing(&e) {
        return desk.error(&e);
    }
    let mut ctx = match form_context(desk).await {
        Ok(ctx) => ctx,
        Err(e) => return desk.error(&e),
    };
    let errors = json!({"messages": e.messages(), "code": e.code()});
    set_key(&mut ctx, "errors", errors);
    desk.render("import.html", e.status(), ctx)
}

async fn load_report(desk: &Desk, id: i64) -> AppResult<(import::Upload, import::ImportReport)> {
    let read_options = desk.state.limits.read_options();
    let url = desk.state.pool.url().to_string();
    desk.run(move |c, a| {
        let u = import::upload(c, a, id)?;
        let township = app::areas::area_by_id(c, u.township_id)?;
        let scheme = app::schemes::by_id(c, u.scheme_id)?;
        let rep = import::preview(
            c,
            a,
            &import::ImportRequest {
                database_url: &url,
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

async fn import_preview(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, UPLOAD)?;
    let res = load_report(&desk, id).await.map(|(u, rep)| {
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
    desk.show("import_preview.html", res)
}

async fn import_commit(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    desk.csrf(&form)?;
    let id = desk.id(&id, UPLOAD)?;
    let options = desk.state.limits.read_options();
    let url = desk.state.pool.url().to_string();
    let res = desk
        .run(move |c, a| import::commit_upload(c, a, id, (&url, options)))
        .await;
    if let Ok(rep) = &res {
        let c = &rep.counts;
        let rows = c.new + c.changed + c.unchanged;
        desk.state
            .metrics
            .import(u64::try_from(rows).unwrap_or(u64::MAX));
    }
    desk.done(res, |rep| {
        let c = &rep.counts;
        let message = format!(
            "已导入：新增{}行，变更{}行，无变化{}行，拒收{}行（未导入）",
            c.new, c.changed, c.unchanged, c.rejected
        );
        (message, format!("/import/{id}"))
    })
}

async fn import_errors(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, UPLOAD)?;
    let res = load_report(&desk, id).await.and_then(|(u, rep)| {
        let bytes = crate::excel::write::error_report(&rep.headers, &import::error_rows(&rep))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let name = u
            .filename
            .trim_end_matches(".xlsx")
            .trim_end_matches(".xls");
        Ok((format!("错误报告-{name}.xlsx"), bytes))
    });
    desk.xlsx(res)
}

async fn template(desk: Desk, q: Query) -> Page {
    let township = q.get("township").cloned().unwrap_or_default();
    desk.download(move |c, a| {
        let t = app::areas::township_or_own(c, a, &township)?;
        let bytes = reports::roster_template(c, a, &t.code, None)?;
        Ok((format!("花名册模板-{}.xlsx", t.name), bytes))
    })
    .await
}
