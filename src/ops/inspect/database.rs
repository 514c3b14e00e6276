//! The sections read from the database: the audit chain, logins, surveys,
//! payments, server errors, and the database's size and growth.

use super::*;

// ---- audit chain ----

pub(super) fn audit_section(conn: &mut DbConn, start: &str, end: &str) -> AppResult<AuditSection> {
    let v = audit_chain::verify(conn)?;
    let month_rows: i64 = audit_log::table
        .filter(audit_log::at.ge(start))
        .filter(audit_log::at.lt(end))
        .count()
        .get_result(conn)?;
    let judged = match &v.broken {
        None => judged(
            Status::Normal,
            format!("哈希链完整：共{}行，无断点", v.rows),
        ),
        Some(b) => judged(Status::Abnormal, format!("哈希链断开：{}", b.message())),
    };
    Ok(AuditSection {
        judged,
        intact: v.broken.is_none(),
        rows: v.rows,
        last_id: v.last_id,
        head_hash: v.head_hash,
        broken_at: v.broken.as_ref().and_then(Break::id),
        broken: v.broken,
        month_rows,
    })
}

// ---- logins ----

pub(super) fn login_section(conn: &mut DbConn, start: &str, end: &str) -> AppResult<LoginSection> {
    let rows: Vec<(String, String, Option<String>, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq_any(["login_failed", "lockout"]))
        .filter(audit_log::at.ge(start))
        .filter(audit_log::at.lt(end))
        .order(audit_log::id.asc())
        .select((
            audit_log::action,
            audit_log::entity,
            audit_log::after_json,
            audit_log::client_addr,
        ))
        .load(conn)?;
    let field = |json: &Option<String>, key: &str| -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(json.as_deref()?).ok()?;
        v.get(key)?.as_str().map(str::to_string)
    };
    let mut failures = 0i64;
    let mut by_name: BTreeMap<String, i64> = BTreeMap::new();
    let mut addresses = BTreeSet::new();
    let mut lockouts = 0i64;
    let mut locked = Vec::new();
    let mut self_service = 0i64;
    for (action, entity, after, addr) in &rows {
        if action == "login_failed" {
            failures += 1;
            *by_name
                .entry(field(after, "username").unwrap_or_default())
                .or_default() += 1;
            if let Some(a) = addr {
                addresses.insert(a.clone());
            }
        } else if entity == "user" {
            lockouts += 1;
            let key = field(after, "key").unwrap_or_default();
            let shown = if let Some(name) = key.strip_prefix("user:") {
                format!("用户名 {name}")
            } else if let Some(a) = key.strip_prefix("addr:") {
                format!("地址 {a}")
            } else {
                key
            };
            if !locked.contains(&shown) {
                locked.push(shown);
            }
        } else {
            self_service += 1;
        }
    }
    let mut top: Vec<NameCount> = by_name
        .iter()
        .map(|(name, count)| NameCount {
            name: name.clone(),
            count: *count,
        })
        .collect();
    top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    top.truncate(10);
    let note = format!(
        "登录失败{failures}次（{}个用户名），登录锁定{lockouts}次，自助查询锁定{self_service}次",
        by_name.len()
    );
    let status = if lockouts + self_service > 0 {
        Status::Attention
    } else {
        Status::Normal
    };
    Ok(LoginSection {
        judged: judged(status, note),
        failures,
        accounts: by_name.len(),
        addresses: addresses.len(),
        lockouts,
        locked,
        self_service_lockouts: self_service,
        top_accounts: top,
    })
}

// ---- surveys ----

pub(super) fn survey_section(
    conn: &mut DbConn,
    start: &str,
    end: &str,
    now: DateTime<Utc>,
) -> AppResult<SurveySection> {
    let rows: Vec<(i64, String, String, String, Option<String>)> = claims::table
        .filter(claims::reported_at.ge(start))
        .filter(claims::reported_at.lt(end))
        .order((claims::reported_at.asc(), claims::id.asc()))
        .select((
            claims::id,
            claims::claim_no,
            claims::status,
            claims::survey_due_at,
            claims::surveyed_at,
        ))
        .load(conn)?;
    // The first visit counts: a survey sent back and done again later does
    // not make a claim surveyed on time late.
    let visits: Vec<(i64, String)> = claim_surveys::table
        .inner_join(claims::table.on(claims::id.eq(claim_surveys::claim_id)))
        .filter(claims::reported_at.ge(start))
        .filter(claims::reported_at.lt(end))
        .select((claim_surveys::claim_id, claim_surveys::surveyed_at))
        .load(conn)?;
    let mut first: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for (id, at) in &visits {
        let at = stored_time(at)?;
        first
            .entry(*id)
            .and_modify(|t| *t = (*t).min(at))
            .or_insert(at);
    }
    let mut s = SurveySection {
        judged: judged(Status::Normal, ""),
        reported: 0,
        declined_unsurveyed: 0,
        on_time: 0,
        late: 0,
        overdue: 0,
        pending: 0,
        on_time_percent: None,
        late_claims: Vec::new(),
        overdue_claims: Vec::new(),
    };
    for (id, no, status, due, surveyed) in rows {
        s.reported += 1;
        let due = stored_time(&due)?;
        let surveyed = match (first.get(&id), surveyed.as_deref()) {
            (Some(t), _) => Some(*t),
            (None, Some(t)) => Some(stored_time(t)?),
            (None, None) => None,
        };
        match surveyed {
            Some(t) if t <= due => s.on_time += 1,
            Some(_) => {
                s.late += 1;
                if s.late_claims.len() < LISTED {
                    s.late_claims.push(no);
                }
            }
            None if status == "declined" => s.declined_unsurveyed += 1,
            None if due < now => {
                s.overdue += 1;
                if s.overdue_claims.len() < LISTED {
                    s.overdue_claims.push(no);
                }
            }
            None => s.pending += 1,
        }
    }
    s.on_time_percent = percent(s.on_time, s.on_time + s.late + s.overdue);
    let share = s
        .on_time_percent
        .map_or_else(|| "无（没有到期的赔案）".to_string(), |p| format!("{p}%"));
    let note = format!(
        "本月报案{}件：按时查勘{}件，超时查勘{}件，逾期未查勘{}件；按时率{share}",
        s.reported, s.on_time, s.late, s.overdue
    );
    let status = if s.overdue > 0 {
        Status::Abnormal
    } else if s.late > 0 {
        Status::Attention
    } else {
        Status::Normal
    };
    s.judged = judged(status, note);
    Ok(s)
}

/// Rounded half away from zero to one decimal, and always written with it ("100.0").
pub(super) fn one_decimal(p: Decimal) -> Decimal {
    let mut p = p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    p.rescale(1);
    p
}

/// part ÷ whole in percent, one decimal (half away from zero); `None` when whole is 0.
pub fn percent(part: i64, whole: i64) -> Option<Decimal> {
    if whole <= 0 {
        return None;
    }
    Decimal::from(part)
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(Decimal::from(whole))
        .map(one_decimal)
}

// ---- payments ----

pub(super) fn payment_section(conn: &mut DbConn, as_of: NaiveDate) -> AppResult<PaymentSection> {
    let day = as_of.format("%Y-%m-%d").to_string();
    type Row = (i64, String, Option<String>, Option<String>, Option<i64>);
    let due: Vec<Row> = claims::table
        .filter(claims::agreed_on.le(&day))
        .filter(claims::payment_due_on.lt(&day))
        .filter(claims::status.ne("declined"))
        .order((claims::payment_due_on.asc(), claims::id.asc()))
        .select((
            claims::id,
            claims::claim_no,
            claims::agreed_on,
            claims::payment_due_on,
            claims::payout_fen,
        ))
        .load(conn)?;
    // Paid by the day the figures stand at, whatever was paid after it.
    let paid: Vec<(i64, i64)> = claim_payments::table
        .inner_join(claims::table.on(claims::id.eq(claim_payments::claim_id)))
        .filter(claims::agreed_on.le(&day))
        .filter(claims::payment_due_on.lt(&day))
        .filter(claim_payments::paid_on.le(&day))
        .select((claim_payments::claim_id, claim_payments::amount_fen))
        .load(conn)?;
    let mut paid_by: HashMap<i64, i64> = HashMap::new();
    for (id, fen) in paid {
        let e = paid_by.entry(id).or_default();
        *e = e.saturating_add(fen);
    }
    let mut list = Vec::new();
    let mut owed_total = 0i64;
    for (id, no, agreed, due_on, payout) in due {
        let owed = payout
            .unwrap_or(0)
            .saturating_sub(paid_by.get(&id).copied().unwrap_or(0));
        if owed <= 0 {
            continue;
        }
        let due_on = due_on.unwrap_or_default();
        let days = crate::domain::time::read_day(&due_on).map_or(0, |d| (as_of - d).num_days());
        owed_total = owed_total.saturating_add(owed);
        list.push(OverduePayment {
            claim_no: no,
            agreed_on: agreed.unwrap_or_default(),
            due_on,
            days_overdue: days,
            owed: Fen(owed),
        });
    }
    list.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.claim_no.cmp(&b.claim_no))
    });
    let overdue = list.len();
    list.truncate(LISTED);
    let (status, note) = if overdue > 0 {
        (
            Status::Abnormal,
            format!(
                "截至{day}，{overdue}件赔案达成协议后超过支付期限仍未付清，欠付{}元",
                Fen(owed_total)
            ),
        )
    } else {
        (
            Status::Normal,
            format!("截至{day}，没有超过支付期限未付的赔款"),
        )
    };
    Ok(PaymentSection {
        judged: judged(status, note),
        as_of: day,
        overdue,
        owed: Fen(owed_total),
        claims: list,
    })
}

// ---- errors ----

pub(super) fn error_section(conn: &mut DbConn, start: &str, end: &str) -> AppResult<ErrorSection> {
    let counted: Vec<(String, i64)> = error_events::table
        .filter(error_events::at.ge(start))
        .filter(error_events::at.lt(end))
        .group_by(error_events::code)
        .select((error_events::code, diesel::dsl::count_star()))
        .load(conn)?;
    let mut by_code: Vec<NameCount> = counted
        .into_iter()
        .map(|(name, count)| NameCount { name, count })
        .collect();
    by_code.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let total: i64 = by_code.iter().map(|c| c.count).sum();
    let last: Option<(String, String, String, String, i32, String)> = error_events::table
        .filter(error_events::at.ge(start))
        .filter(error_events::at.lt(end))
        .order(error_events::id.desc())
        .select((
            error_events::at,
            error_events::request_id,
            error_events::method,
            error_events::route,
            error_events::status,
            error_events::code,
        ))
        .first(conn)
        .optional()?;
    let (status, note) = if total > 0 {
        let codes: Vec<String> = by_code
            .iter()
            .map(|c| format!("{} {}次", c.name, c.count))
            .collect();
        (
            Status::Attention,
            format!("本月系统错误{total}次（{}）", codes.join("、")),
        )
    } else {
        (Status::Normal, "本月没有系统错误".to_string())
    };
    Ok(ErrorSection {
        judged: judged(status, note),
        total,
        by_code,
        last: last.map(|(at, request_id, method, route, status, code)| LastError {
            at: clock::display_text(&at),
            request_id,
            method,
            route,
            status,
            code,
        }),
    })
}

// ---- database size ----

pub(super) struct Size {
    bytes: i64,
    wal: Option<i64>,
    /// The SQLite file, for the disk it lies on.
    pub(super) file: Option<PathBuf>,
}

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct FileRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

pub(super) fn database_size(conn: &mut DbConn) -> AppResult<Size> {
    match crate::db::backend(conn) {
        Backend::Postgres => {
            let b: Bytes =
                diesel::sql_query("SELECT pg_database_size(current_database())::BIGINT AS n")
                    .get_result(conn)?;
            Ok(Size {
                bytes: b.n,
                wal: None,
                file: None,
            })
        }
        Backend::Sqlite => {
            let b: Bytes = diesel::sql_query(
                "SELECT p.page_count * s.page_size AS n FROM pragma_page_count() p, pragma_page_size() s",
            )
            .get_result(conn)?;
            let f: Option<FileRow> =
                diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .get_result(conn)
                    .optional()?;
            let file = f
                .map(|f| PathBuf::from(f.file))
                .filter(|p| !p.as_os_str().is_empty());
            let wal = file.as_ref().and_then(|p| {
                let mut w = p.clone().into_os_string();
                w.push("-wal");
                std::fs::metadata(PathBuf::from(w))
                    .ok()
                    .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
            });
            Ok(Size {
                bytes: b.n.saturating_add(wal.unwrap_or(0)),
                wal,
                file,
            })
        }
    }
}

pub(super) fn storage_section(
    conn: &mut DbConn,
    size: &Size,
    month: Month,
) -> AppResult<StorageSection> {
    let previous = month.previous();
    let before: Option<i64> = ops_inspections::table
        .filter(ops_inspections::month.eq(previous.to_string()))
        .select(ops_inspections::db_bytes)
        .first(conn)
        .optional()?;
    let growth = before.map(|b| size.bytes.saturating_sub(b));
    let growth_percent = match (growth, before) {
        (Some(g), Some(b)) => percent(g, b),
        _ => None,
    };
    let database = match crate::db::backend(conn) {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let now_size = size_text(size.bytes);
    let (status, note) = match (growth, growth_percent) {
        (Some(g), Some(p)) if p > Decimal::from(GROWTH_WARN_PERCENT) => (
            Status::Attention,
            format!(
                "数据库{now_size}，比{previous}增长{}（{p}%），增长过快",
                signed_size(g)
            ),
        ),
        (Some(g), p) => (
            Status::Normal,
            format!(
                "数据库{now_size}，比{previous}{}{}",
                if g < 0 { "减少" } else { "增长" },
                match p {
                    Some(p) => format!("{}（{}%）", size_text_abs(g), p.abs()),
                    None => size_text_abs(g),
                }
            ),
        ),
        (None, _) => (
            Status::Normal,
            format!("数据库{now_size}；{previous}没有巡检记录，无法计算增长"),
        ),
    };
    Ok(StorageSection {
        judged: judged(status, note),
        database,
        db_bytes: size.bytes,
        db_size: now_size,
        wal_bytes: size.wal,
        previous_month: previous.to_string(),
        previous_bytes: before,
        growth_bytes: growth,
        growth_percent,
    })
}

/// Bytes as people read them: "812 B", "3.4 MiB", "1.2 GiB".
pub fn size_text(bytes: i64) -> String {
    if bytes < 0 {
        format!("-{}", size_text_abs(bytes))
    } else {
        size_text_abs(bytes)
    }
}

pub(super) fn size_text_abs(bytes: i64) -> String {
    let n = u128::from(bytes.unsigned_abs());
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        let base = 1u128 << shift;
        if n >= base {
            let tenths = (n * 10 + base / 2) / base;
            return format!("{}.{} {unit}", tenths / 10, tenths % 10);
        }
    }
    format!("{n} B")
}

pub(super) fn signed_size(bytes: i64) -> String {
    if bytes < 0 {
        format!("-{}", size_text_abs(bytes))
    } else {
        size_text_abs(bytes)
    }
}
