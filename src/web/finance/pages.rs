//! The finance page: the statement with its download, and the forms that sign
//! it off, enter adjustments and record payments; and the dashboard's charts.

use super::{level_options, q, statement_query, today, xlsx_name, Posted, Query};
use crate::app::{self, finance, Actor};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::web::confirm::Confirm;
use crate::web::desk::{Desk, Page};
use crate::web::pages::is_user_error_or_missing;
use actix_web::{web, Handler};
use chrono::NaiveDate;
use serde_json::{json, Value};

async fn finance_render(
    desk: &Desk,
    query: finance::StatementQuery,
    rejected: Option<(AppError, &'static str)>,
    values: Value,
) -> Page {
    // The errors are shown beside the form that caused them (`failed_form`),
    // which the form's action anchors the page to.
    let failed_form = rejected.as_ref().map(|(_, form)| *form);
    let rejected = rejected.map(|(e, _)| e);
    let today = today(&desk.state);
    let res = desk
        .run(move |c, a| {
            let st = finance::statement(c, a, &query)?;
            let scheme = app::schemes::by_code(c, &st.scheme)?;
            let all_levels = level_options(&scheme);
            let schemes: Vec<Value> = app::schemes::list(c)?
                .iter()
                .map(|s| json!({"code": s.def.code, "name": s.def.name}))
                .collect();
            let adjustments = finance::adjustments(c, a, &st.scheme)?;
            let (balances, disbursements) = if finance::can_view_payments(a) {
                (
                    Some(finance::balances(c, a, &st.scheme)?),
                    finance::disbursements(c, a, &st.scheme)?,
                )
            } else {
                (None, Vec::new())
            };
            let townships = app::areas::townships(c, a)?;
            Ok(json!({
                "st": st, "schemes": schemes, "all_levels": all_levels,
                "adjustments": adjustments, "balances": balances,
                "disbursements": disbursements, "townships": townships,
                "can_manage": finance::can_manage(a),
                "today": today,
                "failed_form": failed_form,
            }))
        })
        .await;
    desk.form_page("finance.html", res, rejected, values)
}

pub(super) async fn finance_page(desk: Desk, query: Query) -> Page {
    let query = statement_query(&query);
    finance_render(&desk, query, None, json!({})).await
}

pub(super) async fn statement_download(desk: Desk, query: Query) -> Page {
    let sq = statement_query(&query);
    desk.download(move |c, a| {
        let st = finance::statement(c, a, &sq)?;
        Ok((xlsx_name(&st), finance::statement_xlsx(&st)?))
    })
    .await
}

/// The input of a finance form is about one scheme: the finance page of that
/// scheme is where the form answers.
pub(super) trait OfScheme {
    fn scheme(&self) -> &str;
}

macro_rules! of_scheme {
    ($($input:ty),*) => {$(
        impl OfScheme for $input {
            fn scheme(&self) -> &str {
                &self.scheme
            }
        }
    )*};
}

of_scheme!(
    finance::LockInput,
    finance::AdjustmentInput,
    finance::DisbursementInput
);

/// What a confirmation shows: title, what will happen, the facts, the button.
pub(super) type Preview = (String, String, Vec<(String, String)>, String);

/// A finance form: where it posts, the id its page anchors to, and whether
/// it asks for confirmation first (with what the confirmation shows).
pub(super) struct FormSpec<T> {
    pub action: &'static str,
    pub anchor: &'static str,
    pub confirm: Option<fn(&T, &Actor) -> Preview>,
}

pub(super) const LOCK_FORM: FormSpec<finance::LockInfo> = FormSpec {
    action: "/finance/lock",
    anchor: "lock-form",
    confirm: Some(lock_preview),
};

pub(super) const ADJUSTMENT_FORM: FormSpec<finance::AdjustmentView> = FormSpec {
    action: "/finance/adjustments",
    anchor: "adjustment-form",
    confirm: Some(adjustment_preview),
};

pub(super) const DISBURSEMENT_FORM: FormSpec<finance::DisbursementView> = FormSpec {
    action: "/finance/disbursements",
    anchor: "disbursement-form",
    confirm: Some(disbursement_preview),
};

/// The handler of a finance form: CSRF, the use case `run` (with the clock's
/// today), then back to the finance page of the input's scheme with
/// `message`, or the page again with the errors beside the form and the
/// values typed. A form that asks for confirmation runs the use case rolled
/// back first (`app::dry_run`: the same checks, nothing written) and shows
/// what it would do; only a post with `confirm=1` writes.
pub(super) fn finance_form<I, T, F>(
    run: F,
    message: fn(&T) -> String,
    spec: FormSpec<T>,
) -> impl Handler<(Desk, web::Form<Posted<I>>), Output = Page>
where
    I: OfScheme + serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    T: Send + 'static,
    F: Fn(&mut DbConn, &Actor, &I, NaiveDate) -> AppResult<T> + Clone + Send + 'static,
{
    let FormSpec {
        action,
        anchor,
        confirm,
    } = spec;
    move |desk: Desk, form: web::Form<Posted<I>>| {
        let run = run.clone();
        async move {
            let posted = form.into_inner();
            let confirmed = posted.confirm.as_deref().map(str::trim) == Some("1");
            let input = posted.checked(&desk)?;
            let scheme = input.scheme().to_owned();
            let values = json!(input);
            let today = desk.state.clock.today();
            let preview = confirm.filter(|_| !confirmed);
            let res = desk
                .run(move |c, a| {
                    if preview.is_some() {
                        app::dry_run(c, |c| run(c, a, &input, today))
                    } else {
                        run(c, a, &input, today)
                    }
                })
                .await;
            let query = finance::StatementQuery {
                scheme: scheme.clone(),
                ..Default::default()
            };
            if let (Some(show), Ok(v)) = (preview, &res) {
                let (title, lead, facts, button) = show(v, &desk.actor);
                let fields = values
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                return desk.confirm_page(Confirm {
                    title,
                    lead,
                    facts,
                    action: format!("{action}#{anchor}"),
                    fields,
                    button,
                    back: format!("/finance?scheme={scheme}#{anchor}"),
                    danger: false,
                });
            }
            let retry = |e| finance_render(&desk, query, Some((e, anchor)), values);
            let next = |v| (message(&v), format!("/finance?scheme={scheme}"));
            let again = is_user_error_or_missing;
            desk.answer_form(res, again, retry, next).await
        }
    }
}

fn lock_preview(l: &finance::LockInfo, who: &Actor) -> Preview {
    (
        "确认签字锁定补贴结算表".into(),
        "锁定后补贴结算表不再改变，之后的更正只能以调整分录记录；此操作不能撤销。".into(),
        vec![
            ("签字确认人".into(), l.signed_off_by.clone()),
            ("操作账号".into(), who.display_name.clone()),
            ("保单数".into(), l.policy_count.to_string()),
            ("财政补贴合计（元）".into(), l.subsidy.to_string()),
            ("备注".into(), l.note.clone()),
        ],
        "确认签字锁定".into(),
    )
}

fn adjustment_preview(v: &finance::AdjustmentView, who: &Actor) -> Preview {
    (
        "确认录入调整分录".into(),
        format!(
            "将对已锁定的补贴结算表录入{}{}调整 {} 元；调整分录录入后不能删除，再有差错只能另录一笔冲正。",
            v.township_name, v.level_name, v.amount
        ),
        vec![
            ("乡镇".into(), v.township_name.clone()),
            ("层级".into(), v.level_name.clone()),
            ("金额（元，负数为调减）".into(), v.amount.to_string()),
            ("保单号".into(), v.policy_no.clone().unwrap_or_else(|| "—".into())),
            ("原因".into(), v.reason.clone()),
            ("录入人".into(), who.display_name.clone()),
        ],
        "确认录入".into(),
    )
}

fn disbursement_preview(d: &finance::DisbursementView, who: &Actor) -> Preview {
    (
        "确认登记拨付".into(),
        format!(
            "将登记向{}拨付{}补贴 {} 元，登记后计入已拨金额。",
            d.township_name, d.level_name, d.amount
        ),
        vec![
            ("乡镇".into(), d.township_name.clone()),
            ("层级".into(), d.level_name.clone()),
            ("金额（元）".into(), d.amount.to_string()),
            ("拨付日期".into(), d.paid_on.to_string()),
            ("凭证号".into(), d.voucher_no.clone()),
            ("登记人".into(), who.display_name.clone()),
        ],
        "确认登记拨付".into(),
    )
}

pub(super) fn locked(l: &finance::LockInfo) -> String {
    format!(
        "补贴结算表已签字锁定：{}份保单，财政补贴{}元",
        l.policy_count, l.subsidy
    )
}

pub(super) fn adjusted(v: &finance::AdjustmentView) -> String {
    format!(
        "已录入调整分录：{}{} {}元",
        v.township_name, v.level_name, v.amount
    )
}

pub(super) fn disbursed(d: &finance::DisbursementView) -> String {
    format!(
        "已登记拨付：凭证号{}，{}{} {}元",
        d.voucher_no, d.township_name, d.level_name, d.amount
    )
}

pub(super) async fn dashboard_page(desk: Desk, query: Query) -> Page {
    use crate::web::charts::{bars, Group, Series, DUE_AND_PAID};
    let scheme = q(&query, "scheme");
    desk.show_with("finance_dashboard.html", move |c, a| {
        a.require(finance::can_view_statement(a))?;
        let sch = finance::scheme_or_current(c, &scheme)?;
        let group = |label: &str, due: crate::domain::Fen, paid: crate::domain::Fen| Group {
            label: label.to_owned(),
            values: vec![(due.0, format!("{due}元")), (paid.0, format!("{paid}元"))],
        };
        let (balances, chart_levels, chart_townships) = if finance::can_view_payments(a) {
            let b = finance::balances(c, a, &sch.def.code)?;
            let levels: Vec<Group> = b
                .levels
                .iter()
                .map(|l| group(&l.name, l.figures.due, l.figures.paid))
                .collect();
            let towns: Vec<Group> = b
                .townships
                .iter()
                .map(|t| group(&t.township_name, t.total.due, t.total.paid))
                .collect();
            (
                Some(b),
                bars("按补贴层级的应拨与已拨", &DUE_AND_PAID, &levels),
                bars("按乡镇的应拨与已拨", &DUE_AND_PAID, &towns),
            )
        } else {
            (None, String::new(), String::new())
        };
        let progress = app::areas::progress(c, a, sch.id)?;
        let enrollment: Vec<Group> = progress
            .iter()
            .map(|p| Group {
                label: p.name.clone(),
                values: vec![
                    (p.target_mu.units(), format!("{}亩", p.target_mu)),
                    (
                        p.insured_mu.units(),
                        format!("{}亩（{}%）", p.insured_mu, p.progress_percent),
                    ),
                ],
            })
            .collect();
        let chart_enrollment = bars(
            "投保面积与目标",
            &[
                Series {
                    name: "目标",
                    color: "#b0b8c1",
                },
                Series {
                    name: "投保登记",
                    color: "#2f6b2f",
                },
            ],
            &enrollment,
        );
        Ok(json!({
            "scheme_name": sch.def.name, "balances": balances,
            "chart_levels": chart_levels, "chart_townships": chart_townships,
            "chart_enrollment": chart_enrollment,
        }))
    })
    .await
}
