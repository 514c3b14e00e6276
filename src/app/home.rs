//! Each desk's home page: what is waiting for this person today, counted in
//! the database within what their role may see, with a link to where it is
//! done. A station sees its enrolment, collection and hand-over; an
//! underwriter the 待签发 queue and the claims to review; an adjuster their
//! own claims by time left; finance what is still owed by level and
//! township; an administrator the accounts that need attention.

use super::claims::{board, BoardItem};
use super::{Action, Actor};
use crate::db::claims::Within;
use crate::db::schema::{claims, policies};
use crate::db::DbConn;
use crate::domain::access::Role;
use crate::domain::claims::ClaimStatus;
use crate::domain::policy::PolicyStatus;
use crate::domain::Fen;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

/// How pressing a to-do line is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Something is late or blocked.
    Bad,
    /// Work waiting.
    Warn,
    /// Nothing waiting.
    Ok,
}

/// One line of a desk's to-do list: "待收费保单 12 份 → /policies?status=draft".
#[derive(Debug, Clone, Serialize)]
pub struct Todo {
    pub label: String,
    pub count: i64,
    pub unit: &'static str,
    /// A money figure that goes with the count (the shares to hand over).
    pub amount: Option<Fen>,
    pub href: String,
    pub action: String,
    pub tone: Tone,
}

impl Todo {
    fn new(label: &str, count: i64, unit: &'static str, href: &str, action: &str) -> Todo {
        Todo {
            label: label.to_owned(),
            count,
            unit,
            amount: None,
            href: href.to_owned(),
            action: action.to_owned(),
            tone: if count > 0 { Tone::Warn } else { Tone::Ok },
        }
    }

    fn late(mut self) -> Todo {
        if self.count > 0 {
            self.tone = Tone::Bad;
        }
        self
    }
}

/// A desk's home: its title, its to-do lines and, for an adjuster, the
/// claims to survey in the order they fall due.
#[derive(Debug, Clone, Serialize)]
pub struct Home {
    pub role: &'static str,
    pub title: &'static str,
    pub todos: Vec<Todo>,
    pub claims: Vec<BoardItem>,
    /// Whether the enrolment progress table belongs on this desk's home.
    pub shows_progress: bool,
}

/// Policies of a scheme within the actor's township (if bound) per status.
fn policy_counts(
    conn: &mut DbConn,
    actor: &Actor,
    scheme_id: i64,
) -> AppResult<Vec<(PolicyStatus, i64)>> {
    use diesel::dsl::count_star;
    let base = policies::table.filter(policies::scheme_id.eq(scheme_id));
    // A grouped query cannot be boxed: one query per scope.
    Ok(match actor.township_scope() {
        Some(t) => base
            .filter(policies::township_id.eq(t))
            .group_by(policies::status)
            .select((policies::status, count_star()))
            .load(conn)?,
        None => base
            .group_by(policies::status)
            .select((policies::status, count_star()))
            .load(conn)?,
    })
}

fn count_of(counts: &[(PolicyStatus, i64)], status: PolicyStatus) -> i64 {
    counts
        .iter()
        .filter(|(s, _)| *s == status)
        .map(|(_, n)| n)
        .sum()
}

/// Collected policies not yet in a hand-over batch, and their growers' shares.
fn not_handed_over(conn: &mut DbConn, actor: &Actor, scheme_id: i64) -> AppResult<(i64, Fen)> {
    let mut q = policies::table
        .filter(policies::scheme_id.eq(scheme_id))
        .filter(policies::status.eq_any([PolicyStatus::Collected, PolicyStatus::Issued]))
        .filter(policies::batch_id.is_null())
        .into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(policies::township_id.eq(t));
    }
    let shares: Vec<Fen> = q.select(policies::grower_share_fen).load(conn)?;
    let total = shares.iter().fold(Fen(0), |acc, f| Fen(acc.0 + f.0));
    Ok((shares.len() as i64, total))
}

/// Claims within what the actor may see, per status.
fn claim_counts(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<(ClaimStatus, i64)>> {
    use diesel::dsl::count_star;
    let per_status = (claims::status, count_star());
    Ok(match super::claims::access::within(actor) {
        Within::County => claims::table
            .group_by(claims::status)
            .select(per_status)
            .load(conn)?,
        Within::Township(t) => claims::table
            .filter(claims::township_id.eq(t))
            .group_by(claims::status)
            .select(per_status)
            .load(conn)?,
        Within::AssignedTo(u) => claims::table
            .filter(claims::adjuster_id.eq(u))
            .group_by(claims::status)
            .select(per_status)
            .load(conn)?,
    })
}

fn claims_in(counts: &[(ClaimStatus, i64)], status: ClaimStatus) -> i64 {
    counts
        .iter()
        .filter(|(s, _)| *s == status)
        .map(|(_, n)| n)
        .sum()
}

/// The home of `actor` for the scheme `scheme_id` at `now`.
pub fn home(
    conn: &mut DbConn,
    actor: &Actor,
    scheme_id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Home> {
    let policies = match scheme_id {
        Some(id) => policy_counts(conn, actor, id)?,
        None => Vec::new(),
    };
    let mut todos = Vec::new();
    let mut claims_to_survey = Vec::new();
    let (title, shows_progress) = match actor.role {
        Role::Township => {
            todos.push(Todo::new(
                "待登记收费的保单",
                count_of(&policies, PolicyStatus::Draft),
                "份",
                "/policies?status=draft",
                "登记收费",
            ));
            if let Some(id) = scheme_id {
                let (n, amount) = not_handed_over(conn, actor, id)?;
                let mut t = Todo::new("已收费、待交付保险公司", n, "份", "/batches", "办理交付");
                t.amount = Some(amount);
                todos.push(t);
            }
            let counts = claim_counts(conn, actor)?;
            todos.push(Todo::new(
                "本乡镇待查勘赔案",
                claims_in(&counts, ClaimStatus::Reported)
                    + claims_in(&counts, ClaimStatus::Dispatched),
                "件",
                "/claims",
                "查看",
            ));
            ("林业站工作台", true)
        }
        Role::Underwriter => {
            todos.push(Todo::new(
                "待签发保单（农户保费已收）",
                count_of(&policies, PolicyStatus::Collected),
                "份",
                "/policies/queue",
                "批量签发",
            ));
            let counts = claim_counts(conn, actor)?;
            todos.push(
                Todo::new(
                    "待派工赔案",
                    claims_in(&counts, ClaimStatus::Reported),
                    "件",
                    "/claims",
                    "派工",
                )
                .late(),
            );
            todos.push(Todo::new(
                "查勘完成、待审核赔案",
                claims_in(&counts, ClaimStatus::Surveyed),
                "件",
                "/claims/list?status=surveyed",
                "审核",
            ));
            todos.push(Todo::new(
                "农户已确认、待支付赔案",
                claims_in(&counts, ClaimStatus::Agreed),
                "件",
                "/claims",
                "支付",
            ));
            ("承保理赔工作台", true)
        }
        Role::Adjuster => {
            let b = board(conn, actor, now, None)?;
            let overdue = b.overdue as i64;
            claims_to_survey = b.open;
            todos.push(Todo::new(
                "待查勘赔案",
                claims_to_survey.len() as i64,
                "件",
                "/claims",
                "理赔看板",
            ));
            todos.push(Todo::new("已超过查勘时限", overdue, "件", "/claims", "查看").late());
            ("查勘工作台", false)
        }
        Role::Finance => ("财政补贴工作台", false),
        Role::Admin => {
            let (active, locked, must_change) = account_counts(conn, actor, now)?;
            todos.push(Todo {
                tone: Tone::Ok,
                ..Todo::new("在用账号", active, "个", "/accounts", "账号管理")
            });
            todos.push(Todo::new("被锁定的账号", locked, "个", "/accounts", "解锁").late());
            todos.push(Todo::new(
                "尚未设置自己密码的账号",
                must_change,
                "个",
                "/accounts",
                "查看",
            ));
            if actor.may(Action::ReadAudit) {
                todos.push(Todo {
                    tone: Tone::Ok,
                    ..Todo::new("操作日志", 0, "", "/audit", "查看")
                });
            }
            ("系统管理工作台", true)
        }
        Role::CountyForestry => {
            todos.push(Todo::new(
                "各乡镇待登记收费的保单",
                count_of(&policies, PolicyStatus::Draft),
                "份",
                "/policies?status=draft",
                "查看",
            ));
            todos.push(Todo::new(
                "待签发保单",
                count_of(&policies, PolicyStatus::Collected),
                "份",
                "/policies?status=collected",
                "查看",
            ));
            ("县林业局工作台", true)
        }
    };
    Ok(Home {
        role: actor.role.code(),
        title,
        todos,
        claims: claims_to_survey,
        shows_progress,
    })
}

/// Active accounts, those locked now, and those still on a temporary password.
fn account_counts(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<(i64, i64, i64)> {
    let all = super::accounts::list(conn, actor, now)?;
    let active: Vec<_> = all.iter().filter(|a| a.active).collect();
    let locked = active.iter().filter(|a| a.locked_until.is_some()).count();
    let must_change = active.iter().filter(|a| a.must_change_password).count();
    Ok((active.len() as i64, locked as i64, must_change as i64))
}
