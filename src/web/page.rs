//! Plumbing shared by every server-rendered page: the layout and menu, the
//! error page, redirects with a flash message, CSRF refusal, form fields and
//! the download response (Chinese UI, laid out for a 10-inch tablet and a desktop).

use super::session::csrf_token;
use super::AppState;
use crate::app::Actor;
use crate::error::AppError;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(crate) type Data = web::Data<AppState>;
pub(crate) type Form = web::Form<HashMap<String, String>>;
pub(crate) type Query = web::Query<HashMap<String, String>>;

const FORM_LIMIT: usize = 4 * 1024 * 1024;

/// The limit and error shape of every page form body (app-wide).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|e, _| super::form_error(e, FORM_LIMIT)),
    );
}

fn nav(actor: &Actor) -> Vec<Value> {
    let mut items = vec![json!({"href": "/", "label": "首页"})];
    items.push(json!({"href": "/growers", "label": "农户"}));
    items.push(json!({"href": "/plots", "label": "地块"}));
    items.push(json!({"href": "/policies", "label": "保单"}));
    items.push(json!({"href": "/batches", "label": "保费交付"}));
    items.push(json!({"href": "/claims", "label": "理赔"}));
    if crate::app::notices::may_post(actor) {
        items.push(json!({"href": "/notices", "label": "公示"}));
    }
    if actor.may(crate::app::Action::DrawInspection)
        || actor.may(crate::app::Action::RecordInspection)
    {
        items.push(json!({"href": "/inspection", "label": "验标"}));
    }
    if actor.can_edit_enrollment() {
        items.push(json!({"href": "/import", "label": "花名册导入"}));
    }
    items.push(json!({"href": "/reports", "label": "报表"}));
    if crate::app::checks::may_view(actor) {
        items.push(json!({"href": "/checks", "label": "风险核查"}));
    }
    if crate::app::finance::can_view_statement(actor) {
        items.push(json!({"href": "/finance", "label": "补贴结算"}));
    }
    items.push(json!({"href": "/schemes", "label": "险种方案"}));
    if actor.can_read_audit() {
        items.push(json!({"href": "/audit", "label": "操作日志"}));
    }
    if actor.may(crate::app::Action::ManageAccounts) {
        items.push(json!({"href": "/accounts", "label": "账号管理"}));
    }
    // A menu longer than one desktop row keeps its last entries under 更多.
    if items.len() > MENU_ROW {
        for item in items.iter_mut().skip(MENU_ROW - 1) {
            item["more"] = json!(true);
        }
    }
    items
}

/// The most menu entries shown in the header's row at 1280 px (the rest under 更多).
const MENU_ROW: usize = 12;

/// Render a page inside the base layout with the user, menu, CSRF token and flash.
pub(crate) fn page(
    state: &AppState,
    session: &Session,
    actor: Option<&Actor>,
    name: &str,
    status: StatusCode,
    mut ctx: Value,
) -> HttpResponse {
    if let Value::Object(map) = &mut ctx {
        map.insert("csrf".into(), json!(csrf_token(session)));
        if let Some(a) = actor {
            map.insert(
                "me".into(),
                json!({
                    "name": a.display_name, "username": a.username, "role": a.role.code(),
                    "role_name": a.role.name(), "can_edit": a.can_edit_enrollment(),
                    "can_collect": a.can_collect_premium(), "can_underwrite": a.can_underwrite(),
                    "can_manage_schemes": a.can_manage_schemes(),
                    "can_handle_claims": crate::app::claims::may_handle(a),
                    "id": a.user_id,
                }),
            );
            map.insert("nav".into(), json!(nav(a)));
        }
        if let Some(f) = session.remove("flash") {
            map.insert(
                "flash".into(),
                json!(serde_json::from_str::<String>(&f).unwrap_or(f)),
            );
        }
    }
    match state.render(name, &ctx) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            log::error!("{e}");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("页面渲染失败")
        }
    }
}

pub(crate) fn error_page(
    state: &AppState,
    session: &Session,
    actor: Option<&Actor>,
    err: &AppError,
) -> HttpResponse {
    let mut res = page(
        state,
        session,
        actor,
        "error.html",
        err.status(),
        json!({
            "title": match err.status().as_u16() { 404 => "未找到", 403 => "无权访问", _ => "出错了" },
            "code": err.code(),
            "messages": err.messages(),
            "request_id": crate::web::observe::request_id(),
        }),
    );
    res.extensions_mut().insert(err.note());
    res
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

pub(crate) fn flash(session: &Session, msg: &str) {
    let _ = session.insert("flash", msg);
}

pub(crate) fn field(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// A number from a query parameter (a filter id, a page); anything else is "not given".
pub(crate) fn parse_id(s: Option<&String>) -> Option<i64> {
    s.and_then(|v| v.trim().parse().ok())
}

/// `ctx[key] = value` without the panic `IndexMut` has for a value that is
/// not an object: page contexts are objects (a null becomes one).
pub(crate) fn set_key(ctx: &mut Value, key: &str, value: Value) {
    if ctx.is_null() {
        *ctx = Value::Object(serde_json::Map::new());
    }
    if let Some(map) = ctx.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

pub(crate) fn errors_json(err: &AppError) -> Value {
    let by_field: HashMap<String, Vec<String>> =
        err.fields().iter().fold(HashMap::new(), |mut m, f| {
            m.entry(f.field.clone())
                .or_default()
                .push(f.message.clone());
            m
        });
    json!({"messages": err.messages(), "fields": by_field, "code": err.code()})
}

pub(crate) fn is_user_error(e: &AppError) -> bool {
    matches!(e, AppError::Validation(_) | AppError::Conflict { .. })
}

/// A person's mistake, or a record they named that is not there.
pub(crate) fn is_user_error_or_missing(e: &AppError) -> bool {
    is_user_error(e) || matches!(e, AppError::NotFound(_))
}

/// An Excel download named `filename` (Chinese names as RFC 5987).
pub(crate) fn xlsx(filename: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"report.xlsx\"; filename*=UTF-8''{}",
                percent(filename)
            ),
        ))
        .body(bytes)
}

/// RFC 5987 encoding for Chinese file names.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_key_sets_on_objects_and_nulls_and_leaves_other_values() {
        let mut ctx = json!({"a": 1});
        set_key(&mut ctx, "b", json!(2));
        assert_eq!(ctx, json!({"a": 1, "b": 2}));
        let mut null = Value::Null;
        set_key(&mut null, "errors", json!(null));
        assert_eq!(null, json!({"errors": null}));
        let mut list = json!([1]);
        set_key(&mut list, "x", json!(3));
        assert_eq!(list, json!([1]));
    }
}
