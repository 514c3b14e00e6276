//! Server-rendered pages (Chinese UI, laid out for a 10-inch tablet and a desktop).

use super::session::{check_csrf, csrf_token, log_in, log_out, PageUser};
use super::AppState;
use crate::app::{self, batches, growers, plots, policies, schemes, Actor};
use crate::error::AppError;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

type Data = web::Data<AppState>;
type Form = web::Form<HashMap<String, String>>;
type Query = web::Query<HashMap<String, String>>;

const FORM_LIMIT: usize = 4 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|e, _| super::form_error(e, FORM_LIMIT)),
    )
    .route("/", web::get().to(dashboard))
    .route("/login", web::get().to(login_form))
    .route("/login", web::post().to(login))
    .route("/logout", web::post().to(logout))
    .route("/growers", web::get().to(grower_list))
    .route("/growers", web::post().to(grower_create))
    .route("/growers/new", web::get().to(grower_new))
    .route("/growers/{id}", web::get().to(grower_show))
    .route("/growers/{id}", web::post().to(grower_update))
    .route("/growers/{id}/edit", web::get().to(grower_edit))
    .route("/growers/{id}/delete", web::post().to(grower_delete))
    .route("/growers/{id}/plots/new", web::get().to(plot_new))
    .route("/plots", web::get().to(plot_list))
    .route("/plots", web::post().to(plot_create))
    .route("/plots/{id}", web::get().to(plot_show))
    .route("/plots/{id}", web::post().to(plot_update))
    .route("/plots/{id}/edit", web::get().to(plot_edit))
    .route("/plots/{id}/delete", web::post().to(plot_delete))
    .route("/policies", web::get().to(policy_list))
    .route("/policies/{id}", web::get().to(policy_show))
    .route("/policies/{id}/{action}", web::post().to(policy_action))
    .route("/batches", web::get().to(batch_list))
    .route("/batches", web::post().to(batch_create))
    .route("/schemes", web::get().to(scheme_list))
    .route("/schemes", web::post().to(scheme_create))
    .route("/schemes/{code}", web::get().to(scheme_show))
    .route("/audit", web::get().to(audit_list));
}

fn nav(actor: &Actor) -> Vec<Value> {
    let mut items = vec![json!({"href": "/", "label": "首页"})];
    items.push(json!({"href": "/growers", "label": "农户"}));
    items.push(json!({"href": "/plots", "label": "地块"}));
    items.push(json!({"href": "/policies", "label": "保单"}));
    items.push(json!({"href": "/batches", "label": "保费交付"}));
    items.push(json!({"href": "/claims", "label": "理赔"}));
    if actor.can_edit_enrollment() {
        items.push(json!({"href": "/import", "label": "花名册导入"}));
    }
    items.push(json!({"href": "/reports", "label": "报表"}));
    if crate::app::finance::can_view_statement(actor) {
        items.push(json!({"href": "/finance", "label": "补贴结算"}));
    }
    items.push(json!({"href": "/schemes", "label": "险种方案"}));
    if actor.can_read_audit() {
        items.push(json!({"href": "/audit", "label": "操作日志"}));
    }
    items
}

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
    if err.status().is_server_error() {
        log::error!("{err:?}");
    }
    page(
        state,
        session,
        actor,
        "error.html",
        err.status(),
        json!({
            "title": match err.status().as_u16() { 404 => "未找到", 403 => "无权访问", _ => "出错了" },
            "code": err.code(),
            "messages": err.messages(),
        }),
    )
}

/// A page from a use case's result: the template on success, the error page otherwise.
pub(crate) fn show(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    name: &str,
    res: Result<Value, AppError>,
) -> HttpResponse {
    match res {
        Ok(ctx) => page(state, session, Some(actor), name, StatusCode::OK, ctx),
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

pub(crate) fn flash(session: &Session, msg: &str) {
    let _ = session.insert("flash", msg);
}

/// Refuse a form without this session's CSRF token; nothing is changed.
macro_rules! csrf_or_refuse {
    ($state:expr, $session:expr, $actor:expr, $form:expr) => {
        if let Err(e) = check_csrf(&$session, $form.get("csrf_token")) {
            return error_page(&$state, &$session, $actor, &e);
        }
    };
}

pub(crate) fn field(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
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

// ---------------------------------------------------------------- login

async fn login_form(state: Data, session: Session, user: PageUser) -> HttpResponse {
    if user.0.is_some() {
        return redirect("/");
    }
    page(
        &state,
        &session,
        None,
        "login.html",
        StatusCode::OK,
        json!({}),
    )
}

async fn login(state: Data, session: Session, form: Form) -> HttpResponse {
    csrf_or_refuse!(state, session, None, form);
    let username = field(&form, "username");
    let password = field(&form, "password");
    let u = username.clone();
    match state
        .run(move |c| app::auth::authenticate(c, &u, &password))
        .await
    {
        Ok(actor) => match log_in(&session, &actor) {
            Ok(()) => redirect("/"),
            Err(e) => error_page(&state, &session, None, &e),
        },
        Err(AppError::LoginFailed) => page(
            &state,
            &session,
            None,
            "login.html",
            StatusCode::UNAUTHORIZED,
            json!({"error": "用户名或密码错误", "username": username}),
        ),
        Err(e) => error_page(&state, &session, None, &e),
    }
}

async fn logout(state: Data, session: Session, form: Form) -> HttpResponse {
    csrf_or_refuse!(state, session, None, form);
    log_out(&session);
    redirect("/login")
}

// ---------------------------------------------------------------- dashboard

async fn dashboard(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let scheme_code = q.get("scheme").cloned();
    let res = state
        .run(move |c| {
            let all = schemes::list(c)?;
            let scheme = match scheme_code {
                Some(code) => schemes::by_code(c, &code)?,
                None => match all.first() {
                    Some(s) => s.clone(),
                    None => return Ok(json!({"schemes": [], "rows": []})),
                },
            };
            let rows = app::areas::progress(c, &a, scheme.id)?;
            let target: i64 = rows.iter().map(|r| r.target_mu.units()).sum();
            let insured: i64 = rows.iter().map(|r| r.insured_mu.units()).sum();
            let eligible: i64 = rows.iter().map(|r| r.eligible_mu.units()).sum();
            let totals = json!({
                "target_mu": crate::domain::Mu::from_units(target),
                "insured_mu": crate::domain::Mu::from_units(insured),
                "eligible_mu": crate::domain::Mu::from_units(eligible),
                "growers": rows.iter().map(|r| r.growers).sum::<i64>(),
                "plots": rows.iter().map(|r| r.plots).sum::<i64>(),
                "policies": rows.iter().map(|r| r.policies).sum::<i64>(),
                "progress_percent": if target > 0 {
                    (rust_decimal::Decimal::from(insured) * rust_decimal::Decimal::ONE_HUNDRED
                        / rust_decimal::Decimal::from(target)).round_dp(1)
                } else { rust_decimal::Decimal::ZERO },
            });
            let county = app::areas::county(c)?;
            Ok(json!({
                "scheme": {"code": scheme.def.code, "name": scheme.def.name},
                "schemes": all.iter().map(|s| json!({"code": s.def.code, "name": s.def.name})).collect::<Vec<_>>(),
                "rows": rows, "totals": totals, "county": county,
                "single_township": a.township_scope().is_some(),
            }))
        })
        .await;
    show(&state, &session, &actor, "dashboard.html", res)
}

// ---------------------------------------------------------------- growers

fn parse_id(s: Option<&String>) -> Option<i64> {
    s.and_then(|v| v.trim().parse().ok())
}

async fn grower_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let filter = growers::GrowerFilter {
        township_id: parse_id(q.get("township")),
        village_id: parse_id(q.get("village")),
        q: q.get("q").cloned(),
        year: None,
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    let res = state
        .run(move |c| {
            let list = growers::list(c, &a, &filter)?;
            let towns = app::areas::townships(c, &a)?;
            let villages = app::areas::villages(c, &a, filter.township_id.or(a.township_scope()))?;
            Ok(json!({"list": list, "townships": towns, "villages": villages, "query": query}))
        })
        .await;
    show(&state, &session, &actor, "growers.html", res)
}

async fn grower_form_page(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    values: Value,
    errors: Option<&AppError>,
    action: String,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let villages = state.run(move |c| app::areas::villages(c, &a, None)).await;
    match villages {
        Ok(v) => page(
            state,
            session,
            Some(actor),
            "grower_form.html",
            status,
            json!({
                "values": values, "villages": v, "action": action,
                "errors": errors.map(errors_json),
            }),
        ),
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn grower_new(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    if !actor.can_edit_enrollment() {
        return error_page(&state, &session, Some(&actor), &AppError::forbidden());
    }
    grower_form_page(
        &state,
        &session,
        &actor,
        json!({}),
        None,
        "/growers".into(),
        StatusCode::OK,
    )
    .await
}

fn grower_input(form: &HashMap<String, String>) -> growers::GrowerInput {
    growers::GrowerInput {
        year: None,
        name: field(form, "name"),
        id_number: field(form, "id_number"),
        phone: field(form, "phone"),
        bank_name: field(form, "bank_name"),
        bank_account: field(form, "bank_account"),
        village_code: field(form, "village_code"),
        version: parse_id(form.get("version")).map(|v| v as i32),
    }
}

async fn grower_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input = grower_input(&form);
    let a = actor.clone();
    match state.run(move |c| growers::create(c, &a, &input)).await {
        Ok(g) => {
            flash(&session, &format!("已登记农户{}", g.name));
            redirect(&format!("/growers/{}", g.id))
        }
        Err(e) if is_user_error(&e) => {
            grower_form_page(
                &state,
                &session,
                &actor,
                json!(form.into_inner()),
                Some(&e),
                "/growers".into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn grower_show(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "农户");
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let g = growers::get_view(c, &a, id)?;
            let p = plots::of_grower(c, &a, id)?;
            let pol = policies::of_grower(c, &a, id)?;
            Ok(json!({"grower": g, "plots": p, "policies": pol}))
        })
        .await;
    show(&state, &session, &actor, "grower.html", res)
}

async fn grower_edit(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "农户");
    if !actor.can_edit_enrollment() {
        return error_page(&state, &session, Some(&actor), &AppError::forbidden());
    }
    let a = actor.clone();
    match state.run(move |c| growers::get_view(c, &a, id)).await {
        Ok(g) => {
            grower_form_page(
                &state,
                &session,
                &actor,
                json!(g),
                None,
                format!("/growers/{id}"),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn grower_update(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "农户");
    let input = grower_input(&form);
    let a = actor.clone();
    match state.run(move |c| growers::update(c, &a, id, &input)).await {
        Ok(g) => {
            flash(&session, &format!("已保存农户{}", g.name));
            redirect(&format!("/growers/{id}"))
        }
        Err(e) if is_user_error(&e) => {
            let mut values = json!(form.into_inner());
            set_key(&mut values, "id", json!(id));
            grower_form_page(
                &state,
                &session,
                &actor,
                values,
                Some(&e),
                format!("/growers/{id}"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn grower_delete(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "农户");
    let a = actor.clone();
    match state.run(move |c| growers::delete(c, &a, id)).await {
        Ok(()) => {
            flash(&session, "已删除农户及其地块");
            redirect("/growers")
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// ---------------------------------------------------------------- plots

#[allow(clippy::too_many_arguments)]
async fn plot_form_page(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    grower_id: i64,
    values: Value,
    errors: Option<&AppError>,
    action: String,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let g = growers::get_view(c, &a, grower_id)?;
            let gr = growers::load(c, grower_id)?;
            let villages = app::areas::villages(c, &a, Some(gr.township_id))?;
            let all = schemes::list(c)?;
            let list: Vec<Value> = all
                .iter()
                .filter(|s| s.def.year == g.year)
                .map(|s| json!({"code": s.def.code, "name": s.def.name, "varieties": s.def.varieties}))
                .collect();
            Ok(json!({"grower": g, "villages": villages, "schemes": list}))
        })
        .await;
    match res {
        Ok(mut ctx) => {
            set_key(&mut ctx, "values", values);
            set_key(&mut ctx, "action", json!(action));
            set_key(&mut ctx, "errors", json!(errors.map(errors_json)));
            page(state, session, Some(actor), "plot_form.html", status, ctx)
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn plot_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let filter = plots::PlotFilter {
        scheme: q.get("scheme").cloned().filter(|s| !s.is_empty()),
        township_id: parse_id(q.get("township")),
        village_id: parse_id(q.get("village")),
        eligible: match q.get("eligible").map(String::as_str) {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    let res = state
        .run(move |c| {
            let list = plots::list(c, &a, &filter)?;
            let towns = app::areas::townships(c, &a)?;
            let growers: HashMap<i64, String> = list
                .items
                .iter()
                .map(|p| Ok((p.grower_id, growers::load(c, p.grower_id)?.name)))
                .collect::<Result<_, AppError>>()?;
            Ok(json!({"list": list, "townships": towns, "growers": growers, "query": query}))
        })
        .await;
    show(&state, &session, &actor, "plots.html", res)
}

async fn plot_new(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "农户");
    if !actor.can_edit_enrollment() {
        return error_page(&state, &session, Some(&actor), &AppError::forbidden());
    }
    plot_form_page(
        &state,
        &session,
        &actor,
        id,
        json!({"grower_id": id}),
        None,
        "/plots".into(),
        StatusCode::OK,
    )
    .await
}

fn plot_input(form: &HashMap<String, String>) -> plots::PlotInput {
    let mut attributes = std::collections::BTreeMap::new();
    for (k, v) in form {
        if let Some(name) = k.strip_prefix("attr_") {
            if !v.trim().is_empty() {
                attributes.insert(name.to_string(), json!(v));
            }
        }
    }
    plots::PlotInput {
        grower_id: parse_id(form.get("grower_id")).unwrap_or(0),
        scheme: field(form, "scheme"),
        code: field(form, "code"),
        village_code: field(form, "village_code"),
        variety: field(form, "variety"),
        tree_age: field(form, "tree_age"),
        tree_count: field(form, "tree_count"),
        fruit_per_tree: field(form, "fruit_per_tree"),
        area_mu: field(form, "area_mu"),
        attributes,
        boundary: form.get("boundary").cloned(),
        version: parse_id(form.get("version")).map(|v| v as i32),
    }
}

async fn plot_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input = plot_input(&form);
    let gid = input.grower_id;
    let a = actor.clone();
    match state.run(move |c| plots::create(c, &a, &input)).await {
        Ok(p) => {
            flash(
                &session,
                &format!(
                    "已登记地块{}：{}",
                    p.code,
                    if p.eligible {
                        "符合投保条件"
                    } else {
                        "不符合投保条件"
                    }
                ),
            );
            redirect(&format!("/plots/{}", p.id))
        }
        Err(e) if is_user_error(&e) => {
            plot_form_page(
                &state,
                &session,
                &actor,
                gid,
                json!(form.into_inner()),
                Some(&e),
                "/plots".into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn plot_show(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "地块");
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let p = plots::get_view(c, &a, id)?;
            let g = growers::get_view(c, &a, p.grower_id)?;
            Ok(json!({"plot": p, "grower": g,
                      "boundary_text": p.boundary.as_ref().map(|b| b.to_string())}))
        })
        .await;
    show(&state, &session, &actor, "plot.html", res)
}

async fn plot_edit(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "地块");
    if !actor.can_edit_enrollment() {
        return error_page(&state, &session, Some(&actor), &AppError::forbidden());
    }
    let a = actor.clone();
    match state.run(move |c| plots::get_view(c, &a, id)).await {
        Ok(p) => {
            let mut values = json!(p);
            set_key(&mut values, "scheme", json!(p.scheme_code));
            set_key(
                &mut values,
                "boundary",
                json!(p
                    .boundary
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default()),
            );
            plot_form_page(
                &state,
                &session,
                &actor,
                p.grower_id,
                values,
                None,
                format!("/plots/{id}"),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn plot_update(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "地块");
    let input = plot_input(&form);
    let gid = input.grower_id;
    let a = actor.clone();
    match state.run(move |c| plots::update(c, &a, id, &input)).await {
        Ok(p) => {
            flash(&session, &format!("已保存地块{}", p.code));
            redirect(&format!("/plots/{id}"))
        }
        Err(e) if is_user_error(&e) => {
            plot_form_page(
                &state,
                &session,
                &actor,
                gid,
                json!(form.into_inner()),
                Some(&e),
                format!("/plots/{id}"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn plot_delete(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, "地块");
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let p = plots::get_scoped(c, &a, id)?;
            plots::delete(c, &a, id)?;
            Ok(p.grower_id)
        })
        .await;
    match res {
        Ok(gid) => {
            flash(&session, "已删除地块");
            redirect(&format!("/growers/{gid}"))
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// ---------------------------------------------------------------- policies

async fn policy_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let filter = policies::PolicyFilter {
        scheme: q.get("scheme").cloned(),
        township_id: parse_id(q.get("township")),
        status: q.get("status").cloned(),
        page: parse_id(q.get("page")),
        page_size: Some(50),
    };
    let query = q.into_inner();
    let res = state
        .run(move |c| {
            let list = policies::list(c, &a, &filter)?;
            let towns = app::areas::townships(c, &a)?;
            let statuses: Vec<Value> = policies::STATUSES
                .iter()
                .map(|(c, n)| json!({"code": c, "name": n}))
                .collect();
            Ok(json!({"list": list, "townships": towns, "statuses": statuses, "query": query}))
        })
        .await;
    show(&state, &session, &actor, "policies.html", res)
}

async fn policy_show(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, "保单");
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let p = policies::get_view(c, &a, id)?;
            let pl: Vec<_> = plots::of_grower(c, &a, p.grower_id)?
                .into_iter()
                .filter(|x| x.scheme_code == p.scheme_code)
                .collect();
            Ok(json!({"policy": p, "plots": pl, "today": chrono::Utc::now().format("%Y-%m-%d").to_string()}))
        })
        .await;
    show(&state, &session, &actor, "policy.html", res)
}

async fn policy_action(
    state: Data,
    session: Session,
    user: PageUser,
    path: web::Path<(String, String)>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let (id, action) = path.into_inner();
    let id = id_or_404!(state, session, actor, id, "保单");
    let a = actor.clone();
    let date = field(&form, "collected_on");
    let res = state
        .run(move |c| match action.as_str() {
            "collect" => policies::collect(c, &a, id, &date),
            "issue" => policies::issue(c, &a, id),
            "cancel" => policies::cancel(c, &a, id),
            _ => Err(AppError::not_found("操作")),
        })
        .await;
    match res {
        Ok(p) => {
            flash(&session, &format!("保单{}：{}", p.policy_no, p.status_name));
            redirect(&format!("/policies/{id}"))
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// ---------------------------------------------------------------- batches

async fn batch_page(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    errors: Option<&AppError>,
    values: Value,
    status: StatusCode,
) -> HttpResponse {
    let a = actor.clone();
    let res = state
        .run(move |c| {
            let list = batches::list(c, &a)?;
            let towns = app::areas::townships(c, &a)?;
            let pending: Vec<Value> = match schemes::current(c)? {
                Some(s) => towns
                    .iter()
                    .map(|t| {
                        let p = batches::pending(c, t.id, s.id)?;
                        let amount: crate::domain::Fen = p.iter().map(|x| crate::domain::Fen(x.grower_share_fen)).sum();
                        Ok(json!({"code": t.code, "name": t.name, "count": p.len(), "amount": amount}))
                    })
                    .collect::<Result<_, AppError>>()?,
                None => vec![],
            };
            let total: crate::domain::Fen = list.iter().map(|b| b.amount).sum();
            Ok(json!({"batches": list, "pending": pending, "total": total,
                      "today": chrono::Utc::now().format("%Y-%m-%d").to_string()}))
        })
        .await;
    match res {
        Ok(mut ctx) => {
            set_key(&mut ctx, "errors", json!(errors.map(errors_json)));
            set_key(&mut ctx, "values", values);
            page(state, session, Some(actor), "batches.html", status, ctx)
        }
        Err(e) => error_page(state, session, Some(actor), &e),
    }
}

async fn batch_list(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    batch_page(&state, &session, &actor, None, json!({}), StatusCode::OK).await
}

async fn batch_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input = batches::BatchInput {
        township_code: field(&form, "township_code"),
        scheme: field(&form, "scheme"),
        receipt_no: field(&form, "receipt_no"),
        handed_over_on: field(&form, "handed_over_on"),
    };
    let a = actor.clone();
    match state.run(move |c| batches::create(c, &a, &input)).await {
        Ok(b) => {
            flash(
                &session,
                &format!(
                    "已登记交付批次{}：{}份保单，{}元",
                    b.receipt_no, b.policy_count, b.amount
                ),
            );
            redirect("/batches")
        }
        Err(e) if is_user_error(&e) || matches!(e, AppError::NotFound(_)) => {
            batch_page(
                &state,
                &session,
                &actor,
                Some(&e),
                json!(form.into_inner()),
                e.status(),
            )
            .await
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// ---------------------------------------------------------------- schemes

async fn scheme_list(state: Data, session: Session, user: PageUser) -> HttpResponse {
    let actor = actor_or_login!(user);
    match state.run(schemes::list).await {
        Ok(list) => {
            let defs: Vec<_> = list.into_iter().map(|s| s.def).collect();
            page(
                &state,
                &session,
                Some(&actor),
                "schemes.html",
                StatusCode::OK,
                json!({"schemes": defs}),
            )
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn scheme_show(
    state: Data,
    session: Session,
    user: PageUser,
    code: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let code = code.into_inner();
    match state.run(move |c| schemes::by_code(c, &code)).await {
        Ok(s) => {
            let quote = s
                .def
                .varieties
                .first()
                .and_then(|v| schemes::quote(&s.def, &v.code, "1").ok());
            page(
                &state,
                &session,
                Some(&actor),
                "scheme.html",
                StatusCode::OK,
                json!({
                    "scheme": s.def,
                    "quote": quote,
                    "levels": s.def.subsidy_levels.iter().map(|l| json!({
                        "name": crate::domain::scheme::level_name(&l.level), "percent": l.percent
                    })).collect::<Vec<_>>(),
                }),
            )
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

async fn scheme_create(state: Data, session: Session, user: PageUser, form: Form) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let text = field(&form, "definition");
    let a = actor.clone();
    let res = match schemes::parse_definition(&text) {
        Ok(def) => state.run(move |c| schemes::create(c, &a, &def)).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(s) => {
            flash(&session, &format!("已添加险种方案{}", s.def.name));
            redirect(&format!("/schemes/{}", s.def.code))
        }
        Err(e) if is_user_error(&e) => {
            let list = state.run(schemes::list).await.unwrap_or_default();
            let defs: Vec<_> = list.into_iter().map(|s| s.def).collect();
            page(
                &state,
                &session,
                Some(&actor),
                "schemes.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "schemes": defs, "errors": errors_json(&e), "definition": text,
                }),
            )
        }
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
}

// ---------------------------------------------------------------- audit

async fn audit_list(state: Data, session: Session, user: PageUser, q: Query) -> HttpResponse {
    let actor = actor_or_login!(user);
    let a = actor.clone();
    let entity = q.get("entity").cloned().filter(|s| !s.is_empty());
    let entity_id = parse_id(q.get("entity_id"));
    match state
        .run(move |c| app::audit::list(c, &a, entity.as_deref(), entity_id, 200))
        .await
    {
        Ok(rows) => page(
            &state,
            &session,
            Some(&actor),
            "audit.html",
            StatusCode::OK,
            json!({"rows": rows, "query": q.into_inner()}),
        ),
        Err(e) => error_page(&state, &session, Some(&actor), &e),
    }
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
