//! Notice pages: the list with the form for a new notice, one notice with
//! its evidence and objections, its printable A4 page and its .xlsx.

use super::api::Photos;
use crate::app::notices::{self, NoticeFilter, NoticeInput, ObjectionInput, ResolveInput};
use crate::error::{AppError, ErrorCode};
use crate::web::desk::{Desk, Page};
use crate::web::form::from_form;
use crate::web::page::{is_user_error_or_missing, Form, Query};
use crate::web::photos::{page_original, page_thumb};
use crate::web::upload;
use actix_multipart::Multipart;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices", web::get().to(list))
        .route("/notices", web::post().to(create))
        .route("/notices/{id}", web::get().to(show))
        .route("/notices/{id}/print", web::get().to(print))
        .route("/notices/{id}/sheet.xlsx", web::get().to(sheet))
        .route("/notices/{id}/photos", web::post().to(photo_upload))
        .route(
            "/notices/{id}/photos/{pid}",
            web::get().to(page_original::<Photos>),
        )
        .route(
            "/notices/{id}/photos/{pid}/thumb",
            web::get().to(page_thumb::<Photos>),
        )
        .route("/notices/{id}/objections", web::post().to(object))
        .route(
            "/notices/{id}/objections/{oid}/resolve",
            web::post().to(resolve),
        );
}

async fn list_page(
    desk: &Desk,
    kind: Option<String>,
    rejected: Option<AppError>,
    values: Value,
) -> Page {
    let today = desk.state.clock.today();
    let res = desk
        .run(move |c, a| {
            let items = notices::list(c, a, &NoticeFilter { kind: kind.clone() }, today)?;
            let (villages, events) = notices::choices(c, a)?;
            let events: Vec<Value> = events
                .into_iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            Ok(
                json!({"notices": items, "villages": villages, "events": events,
                      "kind": kind, "today": today.to_string()}),
            )
        })
        .await;
    desk.form_page("notices.html", res, rejected, values)
}

async fn list(desk: Desk, q: Query) -> Page {
    let kind = q.get("kind").cloned().filter(|k| !k.is_empty());
    list_page(&desk, kind, None, json!({})).await
}

async fn create(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let input: NoticeInput = desk.or_fail(from_form(&form))?;
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| notices::create(c, a, now, &input))
        .await;
    let retry = |e| list_page(&desk, None, Some(e), json!(form.into_inner()));
    let next = |n: notices::NoticeView| {
        (
            format!("已生成{}：{}户", n.title, n.totals.households),
            format!("/notices/{}", n.id),
        )
    };
    desk.answer_form(res, is_user_error_or_missing, retry, next)
        .await
}

async fn show_page(desk: &Desk, id: i64, rejected: Option<AppError>, values: Value) -> Page {
    let today = desk.state.clock.today();
    let res = desk
        .run(move |c, a| {
            let n = notices::get(c, a, id, today)?;
            Ok(json!({"notice": n, "today": today.to_string()}))
        })
        .await;
    desk.form_page("notice.html", res, rejected, values)
}

async fn show(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "公示")?;
    show_page(&desk, id, None, json!({})).await
}

async fn print(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "公示")?;
    let today = desk.state.clock.today();
    desk.show_with("notice_print.html", move |c, a| {
        let n = notices::get(c, a, id, today)?;
        Ok(json!({"notice": n}))
    })
    .await
}

async fn sheet(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, "公示")?;
    let today = desk.state.clock.today();
    desk.download(move |c, a| {
        let n = notices::get(c, a, id, today)?;
        notices::sheet::xlsx(&n).map_err(|e| AppError::Internal(e.0))
    })
    .await
}

async fn object(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    desk.csrf(&form)?;
    let id = desk.id(&id, "公示")?;
    let input: ObjectionInput = desk.or_fail(from_form(&form))?;
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| notices::object(c, a, now, id, &input))
        .await;
    let retry = |e| show_page(&desk, id, Some(e), json!(form.into_inner()));
    let next = |_| ("已登记异议".to_string(), format!("/notices/{id}"));
    desk.answer_form(res, is_user_error_or_missing, retry, next)
        .await
}

async fn resolve(desk: Desk, path: web::Path<(String, String)>, form: Form) -> Page {
    desk.csrf(&form)?;
    let (id, oid) = path.into_inner();
    let id = desk.id(&id, "公示")?;
    let oid = desk.id(&oid, "异议")?;
    let input: ResolveInput = desk.or_fail(from_form(&form))?;
    let now = desk.state.clock.now();
    let res = desk
        .run(move |c, a| notices::resolve(c, a, now, id, oid, &input))
        .await;
    let retry = |e| show_page(&desk, id, Some(e), json!({}));
    let next = |_| ("已登记异议处理结果".to_string(), format!("/notices/{id}"));
    desk.answer_form(res, is_user_error_or_missing, retry, next)
        .await
}

/// A photo of the posted notice from the page's form (multipart; the CSRF
/// token in the action's query string, checked before the body is read).
async fn photo_upload(
    desk: Desk,
    id: web::Path<String>,
    req: HttpRequest,
    payload: Multipart,
) -> Page {
    let id = desk.id(&id, "公示")?;
    let gate = upload::page_gate(&desk.session, &req, notices::may_post(&desk.actor));
    desk.or_fail(gate)?;
    let max = desk.state.limits.max_photo_bytes;
    let scope = desk
        .run(move |c, a| notices::scoped(c, a, id).map(drop))
        .await;
    desk.or_fail(scope)?;
    let read = upload::read(&req, payload, upload::Limits::for_file(max))
        .await
        .and_then(|form| match form.file.filter(|(_, b)| !b.is_empty()) {
            Some((_, bytes)) => Ok(bytes),
            None => Err(AppError::invalid(
                "photo",
                ErrorCode::FileMissing,
                "请选择公示张贴现场的照片",
            )),
        });
    let stored = match read {
        Ok(bytes) => crate::web::photos::store(&desk.state, bytes, max, None).await,
        Err(e) => Err(e),
    };
    let res = match stored {
        Ok(p) => {
            let now = desk.state.clock.now();
            desk.run(move |c, a| notices::add_photo(c, a, now, id, &p))
                .await
        }
        Err(e) => Err(e),
    };
    match res {
        Err(e) if is_user_error_or_missing(&e) => show_page(&desk, id, Some(e), json!({})).await,
        res => desk.done(res, |_| {
            ("已上传张贴照片".to_string(), format!("/notices/{id}"))
        }),
    }
}
