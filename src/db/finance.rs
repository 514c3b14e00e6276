//! Queries of the subsidy money: the statement's live and signed-off figures,
//! adjustments, disbursements, the insurer's subsidy requests and the
//! reconciliations. Figures are sums of integer fen made by the database.

use super::policies::level_column;
use super::schema::{
    policies, reconciliation_lines, reconciliations, statement_levels, statement_townships,
    subsidy_adjustments, subsidy_disbursements, subsidy_request_items, subsidy_requests,
    subsidy_statements,
};
use super::DbConn;
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::FundingLevel;
use crate::domain::time::{Day, Instant};
use crate::domain::Fen;
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable};
use serde::Serialize;
use std::collections::HashMap;

/// Per township: policies, mu units, premium, grower share, subsidy (fen).
pub type TownRow = (i64, i64, i64, i64, i64, i64);
/// (township, level, amount in fen).
pub type LevelRow = (i64, String, i64);
/// Amounts in fen per (township, level).
pub type ByTownshipLevel = HashMap<(i64, String), i64>;

/// The status filter as a literal, not bound parameters: the partial index
/// `policies_finance` (issued and expired policies only) can then be used.
fn subsidised() -> SqlLiteral<Bool> {
    let list: Vec<String> = PolicyStatus::SUBSIDISED
        .iter()
        .map(|s| format!("'{s}'"))
        .collect();
    sql::<Bool>(&format!("policies.status IN ({})", list.join(", ")))
}

fn sum_sql(expr: &str) -> SqlLiteral<BigInt> {
    sql::<BigInt>(&format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

/// One township, or all: grouped queries can't be boxed, so the optional
/// township filter is a range that is either one id or everything.
fn span(township: Option<i64>) -> (i64, i64) {
    township.map_or((i64::MIN, i64::MAX), |t| (t, t))
}

/// The live figures of a scheme's subsidised policies: per township, and
/// per township and funding level (levels with nothing left out).
pub fn live_figures(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> QueryResult<(Vec<TownRow>, Vec<LevelRow>)> {
    let (lo, hi) = span(township);
    let of_scheme = policies::scheme_id
        .eq(scheme_id)
        .and(subsidised())
        .and(policies::township_id.between(lo, hi));
    // One pass over the covering index `policies_finance`, in township
    // order: the level amounts are columns of the policy, summed alongside.
    let [l0, l1, l2, l3] = FundingLevel::ALL;
    let rows: Vec<(TownRow, (i64, i64, i64, i64))> = policies::table
        .filter(of_scheme)
        .group_by(policies::township_id)
        .select((
            (
                policies::township_id,
                sql::<BigInt>("COUNT(*)"),
                sum_sql("insured_area_units"),
                sum_sql("premium_fen"),
                sum_sql("grower_share_fen"),
                sum_sql("subsidy_fen"),
            ),
            (
                sum_sql(level_column(l0)),
                sum_sql(level_column(l1)),
                sum_sql(level_column(l2)),
                sum_sql(level_column(l3)),
            ),
        ))
        .load(conn)?;
    let levels = rows
        .iter()
        .flat_map(|(town, (a, b, c, d))| {
            [(l0, *a), (l1, *b), (l2, *c), (l3, *d)]
                .into_iter()
                .filter(|(_, amount)| *amount != 0)
                .map(move |(l, amount)| (town.0, l.to_string(), amount))
        })
        .collect();
    let towns = rows.into_iter().map(|(town, _)| town).collect();
    Ok((towns, levels))
}

/// A signed-off statement's copied figures.
pub fn locked_figures(
    conn: &mut DbConn,
    statement_id: i64,
    township: Option<i64>,
) -> QueryResult<(Vec<TownRow>, Vec<LevelRow>)> {
    let (lo, hi) = span(township);
    let towns = statement_townships::table
        .filter(statement_townships::statement_id.eq(statement_id))
        .filter(statement_townships::township_id.between(lo, hi))
        .select((
            statement_townships::township_id,
            statement_townships::policies,
            statement_townships::mu_units,
            statement_townships::premium_fen,
            statement_townships::grower_share_fen,
            statement_townships::subsidy_fen,
        ))
        .load(conn)?;
    let levels = statement_levels::table
        .filter(statement_levels::statement_id.eq(statement_id))
        .filter(statement_levels::township_id.between(lo, hi))
        .select((
            statement_levels::township_id,
            statement_levels::level,
            statement_levels::amount_fen,
        ))
        .load(conn)?;
    Ok((towns, levels))
}

/// A scheme's statement as signed off.
#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = subsidy_statements)]
pub struct LockInfo {
    pub id: i64,
    pub signed_off_by: String,
    pub note: String,
    pub locked_at: Instant,
    pub policy_count: i64,
    #[diesel(column_name = subsidy_fen)]
    pub subsidy: Fen,
}

pub fn locked_statement(conn: &mut DbConn, scheme_id: i64) -> QueryResult<Option<LockInfo>> {
    subsidy_statements::table
        .filter(subsidy_statements::scheme_id.eq(scheme_id))
        .select(LockInfo::as_select())
        .first(conn)
        .optional()
}

/// What signing off writes: the statement, then its figures copied.
pub struct NewLock<'a> {
    pub scheme_id: i64,
    pub signed_off_by: &'a str,
    pub note: &'a str,
    pub locked_by: Option<i64>,
    pub locked_at: Instant,
}

/// Write the signed-off statement and its copied figures; its id.
pub fn insert_lock(
    conn: &mut DbConn,
    lock: &NewLock,
    towns: &[TownRow],
    levels: &[LevelRow],
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(subsidy_statements::table)
        .values((
            subsidy_statements::scheme_id.eq(lock.scheme_id),
            subsidy_statements::policy_count.eq(towns.iter().map(|t| t.1).sum::<i64>()),
            subsidy_statements::subsidy_fen.eq(towns.iter().map(|t| t.5).sum::<i64>()),
            subsidy_statements::signed_off_by.eq(lock.signed_off_by),
            subsidy_statements::note.eq(lock.note),
            subsidy_statements::locked_by.eq(lock.locked_by),
            subsidy_statements::locked_at.eq(lock.locked_at),
        ))
        .returning(subsidy_statements::id)
        .get_result(conn)?;
    for (t, n, mu, p, g, s) in towns {
        diesel::insert_into(statement_townships::table)
            .values((
                statement_townships::statement_id.eq(id),
                statement_townships::township_id.eq(*t),
                statement_townships::policies.eq(*n),
                statement_townships::mu_units.eq(*mu),
                statement_townships::premium_fen.eq(*p),
                statement_townships::grower_share_fen.eq(*g),
                statement_townships::subsidy_fen.eq(*s),
            ))
            .execute(conn)?;
    }
    for (t, l, a) in levels {
        diesel::insert_into(statement_levels::table)
            .values((
                statement_levels::statement_id.eq(id),
                statement_levels::township_id.eq(*t),
                statement_levels::level.eq(l),
                statement_levels::amount_fen.eq(*a),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

/// Sum `amount_fen` of an entry table per (township, level), for the rows
/// whose `$key` column is `$value`, within one township or all.
macro_rules! sums_by_township_level {
    ($conn:expr, $table:ident, $key:ident, $value:expr, $township:expr) => {{
        let (lo, hi) = span($township);
        let rows: Vec<LevelRow> = $table::table
            .filter($table::$key.eq($value))
            .filter($table::township_id.between(lo, hi))
            .group_by(($table::township_id, $table::level))
            .select(($table::township_id, $table::level, sum_sql("amount_fen")))
            .load($conn)?;
        Ok(rows.into_iter().map(|(t, l, a)| ((t, l), a)).collect())
    }};
}

/// The adjustments entered after sign-off, summed.
pub fn adjustment_sums(
    conn: &mut DbConn,
    statement_id: i64,
    township: Option<i64>,
) -> QueryResult<ByTownshipLevel> {
    sums_by_township_level!(
        conn,
        subsidy_adjustments,
        statement_id,
        statement_id,
        township
    )
}

/// The subsidy paid out, summed.
pub fn paid_sums(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> QueryResult<ByTownshipLevel> {
    sums_by_township_level!(conn, subsidy_disbursements, scheme_id, scheme_id, township)
}

/// One adjustment entry, with the number of the policy it follows from.
#[derive(Debug, Clone, Queryable)]
pub struct Adjustment {
    pub id: i64,
    pub township_id: i64,
    pub level: FundingLevel,
    pub amount: Fen,
    pub kind: String,
    pub reason: String,
    pub created_at: Instant,
    pub policy_no: Option<String>,
}

/// A statement's adjustments within `within`, in the order entered.
pub fn adjustments(
    conn: &mut DbConn,
    statement_id: i64,
    within: Option<i64>,
) -> QueryResult<Vec<Adjustment>> {
    let (lo, hi) = span(within);
    subsidy_adjustments::table
        .left_join(policies::table)
        .filter(subsidy_adjustments::statement_id.eq(statement_id))
        .filter(subsidy_adjustments::township_id.between(lo, hi))
        .order(subsidy_adjustments::id)
        .select((
            subsidy_adjustments::id,
            subsidy_adjustments::township_id,
            subsidy_adjustments::level,
            subsidy_adjustments::amount_fen,
            subsidy_adjustments::kind,
            subsidy_adjustments::reason,
            subsidy_adjustments::created_at,
            policies::policy_no.nullable(),
        ))
        .load(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = subsidy_adjustments)]
pub struct NewAdjustment<'a> {
    pub statement_id: i64,
    pub township_id: i64,
    pub level: FundingLevel,
    pub amount_fen: Fen,
    pub kind: &'a str,
    pub policy_id: Option<i64>,
    pub reason: &'a str,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

pub fn insert_adjustment(conn: &mut DbConn, a: &NewAdjustment) -> QueryResult<i64> {
    diesel::insert_into(subsidy_adjustments::table)
        .values(a)
        .returning(subsidy_adjustments::id)
        .get_result(conn)
}

/// Our subsidy per policy number of a scheme's subsidised policies: the whole
/// subsidy, or one funding level's part.
pub fn subsidy_by_policy(
    conn: &mut DbConn,
    scheme_id: i64,
    level: Option<FundingLevel>,
) -> QueryResult<HashMap<String, i64>> {
    let of_scheme = policies::scheme_id
        .eq(scheme_id)
        .and(policies::status.eq_any(PolicyStatus::SUBSIDISED));
    let rows: Vec<(String, i64)> = match level {
        None => policies::table
            .filter(of_scheme)
            .select((policies::policy_no, policies::subsidy_fen))
            .load(conn)?,
        Some(l) => policies::table
            .filter(of_scheme)
            .filter(sql::<Bool>(&format!("{} IS NOT NULL", level_column(l))))
            .select((policies::policy_no, sql::<BigInt>(level_column(l))))
            .load(conn)?,
    };
    Ok(rows.into_iter().collect())
}

/// One disbursement as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subsidy_disbursements)]
pub struct Disbursement {
    pub id: i64,
    pub township_id: i64,
    pub level: FundingLevel,
    pub amount_fen: Fen,
    pub paid_on: Day,
    pub voucher_no: String,
    pub note: String,
    pub created_at: Instant,
}

/// A scheme's disbursements in the order recorded, or the one `id`.
pub fn disbursements(
    conn: &mut DbConn,
    scheme_id: i64,
    id: Option<i64>,
) -> QueryResult<Vec<Disbursement>> {
    let mut q = subsidy_disbursements::table
        .filter(subsidy_disbursements::scheme_id.eq(scheme_id))
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(subsidy_disbursements::id.eq(id));
    }
    q.order(subsidy_disbursements::id)
        .select(Disbursement::as_select())
        .load(conn)
}

/// Two clerks paying the same balance at once: the second waits and then
/// sees the first payment (SQLite writers are serial anyway).
pub fn lock_disbursements(conn: &mut DbConn) -> QueryResult<()> {
    if super::backend(conn) == super::Backend::Postgres {
        diesel::sql_query("LOCK TABLE subsidy_disbursements IN SHARE ROW EXCLUSIVE MODE")
            .execute(conn)?;
    }
    Ok(())
}

pub fn voucher_taken(conn: &mut DbConn, voucher_no: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        subsidy_disbursements::table.filter(subsidy_disbursements::voucher_no.eq(voucher_no)),
    ))
    .get_result(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = subsidy_disbursements)]
pub struct NewDisbursement<'a> {
    pub scheme_id: i64,
    pub township_id: i64,
    pub level: FundingLevel,
    pub amount_fen: Fen,
    pub paid_on: Day,
    pub voucher_no: &'a str,
    pub note: &'a str,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

pub fn insert_disbursement(conn: &mut DbConn, d: &NewDisbursement) -> QueryResult<i64> {
    diesel::insert_into(subsidy_disbursements::table)
        .values(d)
        .returning(subsidy_disbursements::id)
        .get_result(conn)
}

/// A subsidy request as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subsidy_requests)]
pub struct SubsidyRequest {
    pub id: i64,
    pub scheme_id: i64,
    pub request_no: String,
    pub note: String,
    pub policy_count: i64,
    pub eligible_count: i64,
    pub eligible_subsidy_fen: Fen,
    pub created_at: Instant,
}

/// Every subsidy request, newest first, or the one `id`.
pub fn requests(conn: &mut DbConn, id: Option<i64>) -> QueryResult<Vec<SubsidyRequest>> {
    let mut q = subsidy_requests::table.into_boxed();
    if let Some(id) = id {
        q = q.filter(subsidy_requests::id.eq(id));
    }
    q.order(subsidy_requests::id.desc())
        .select(SubsidyRequest::as_select())
        .load(conn)
}

pub fn request_no_taken(conn: &mut DbConn, request_no: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        subsidy_requests::table.filter(subsidy_requests::request_no.eq(request_no)),
    ))
    .get_result(conn)
}

/// The request (by number) in which each of these policies' subsidy was
/// already requested as eligible.
pub fn requested_in(conn: &mut DbConn, policy_ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    let mut requested = HashMap::new();
    for chunk in policy_ids.chunks(1_000) {
        let rows: Vec<(i64, String)> = subsidy_request_items::table
            .inner_join(
                subsidy_requests::table
                    .on(subsidy_requests::id.eq(subsidy_request_items::request_id)),
            )
            .filter(subsidy_request_items::policy_id.eq_any(chunk))
            .filter(subsidy_request_items::eligible.eq(true))
            .select((
                subsidy_request_items::policy_id,
                subsidy_requests::request_no,
            ))
            .load(conn)?;
        requested.extend(rows);
    }
    Ok(requested)
}

/// One policy of a request, as judged when it was submitted.
#[derive(Debug, Clone, Queryable)]
pub struct RequestItem {
    pub policy_id: i64,
    pub policy_no: String,
    pub township_id: i64,
    pub status: PolicyStatus,
    pub eligible: bool,
    pub reason: String,
    pub subsidy: Fen,
}

/// A request's items: ineligible first, then by policy number.
pub fn request_items(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<RequestItem>> {
    subsidy_request_items::table
        .inner_join(policies::table)
        .filter(subsidy_request_items::request_id.eq(request_id))
        .order((subsidy_request_items::eligible, policies::policy_no))
        .select((
            policies::id,
            policies::policy_no,
            policies::township_id,
            policies::status,
            subsidy_request_items::eligible,
            subsidy_request_items::reason,
            subsidy_request_items::subsidy_fen,
        ))
        .load(conn)
}

/// The eligible subsidy of a request per funding level.
/// Levels no eligible policy has an amount for are left out.
pub fn request_level_sums(
    conn: &mut DbConn,
    request_id: i64,
) -> QueryResult<HashMap<FundingLevel, i64>> {
    let sum = |l: FundingLevel| {
        sql::<Nullable<BigInt>>(&format!("CAST(SUM({}) AS BIGINT)", level_column(l)))
    };
    let [l0, l1, l2, l3] = FundingLevel::ALL;
    let (a, b, c, d): (Option<i64>, Option<i64>, Option<i64>, Option<i64>) =
        subsidy_request_items::table
            .inner_join(policies::table)
            .filter(subsidy_request_items::request_id.eq(request_id))
            .filter(subsidy_request_items::eligible.eq(true))
            .select((sum(l0), sum(l1), sum(l2), sum(l3)))
            .first(conn)?;
    Ok([(l0, a), (l1, b), (l2, c), (l3, d)]
        .into_iter()
        .filter_map(|(l, amount)| Some((l, amount?)))
        .collect())
}

/// A reconciliation as stored; `summary` is its JSON.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reconciliations)]
pub struct Reconciliation {
    pub id: i64,
    pub created_at: Instant,
    pub source: String,
    pub filename: String,
    pub summary: String,
}

/// Every reconciliation, newest first, or the one `id`.
pub fn reconciliations(conn: &mut DbConn, id: Option<i64>) -> QueryResult<Vec<Reconciliation>> {
    let mut q = reconciliations::table.into_boxed();
    if let Some(id) = id {
        q = q.filter(reconciliations::id.eq(id));
    }
    q.order(reconciliations::id.desc())
        .select(Reconciliation::as_select())
        .load(conn)
}

/// A reconciliation's lines: policy number, group, ours, theirs, their row;
/// all of them, or those not matched.
pub type ReconciliationLine = (String, String, Option<i64>, Option<i64>, Option<i64>);

pub fn reconciliation_lines(
    conn: &mut DbConn,
    id: i64,
    skip_group: Option<&str>,
) -> QueryResult<Vec<ReconciliationLine>> {
    let mut q = reconciliation_lines::table
        .filter(reconciliation_lines::reconciliation_id.eq(id))
        .into_boxed();
    if let Some(g) = skip_group {
        q = q.filter(reconciliation_lines::status.ne(g));
    }
    q.select((
        reconciliation_lines::policy_no,
        reconciliation_lines::status,
        reconciliation_lines::ours_fen,
        reconciliation_lines::theirs_fen,
        reconciliation_lines::row_no,
    ))
    .load(conn)
}

// ---- reconciliation: their statement staged in the database, matched there

// The statement's lines as read, in a temporary table of this connection.
diesel::table! {
    reconcile_input (row_no) {
        row_no -> BigInt,
        policy_no -> Text,
        amount_fen -> BigInt,
    }
}

/// A statement line staged for matching: their row, policy number, amount.
pub type StagedLine = (i64, String, i64);

/// Create the staging tables (inside the reconciliation's transaction, so a
/// rejected file leaves nothing behind). Temporary tables live on disk on
/// SQLite and in the session on PostgreSQL: a million lines never sit in
/// our memory.
pub fn stage_begin(conn: &mut DbConn) -> QueryResult<()> {
    stage_end(conn)?;
    diesel::sql_query(
        "CREATE TEMPORARY TABLE reconcile_input \
         (row_no BIGINT NOT NULL, policy_no TEXT NOT NULL, amount_fen BIGINT NOT NULL)",
    )
    .execute(conn)?;
    diesel::sql_query(
        "CREATE TEMPORARY TABLE reconcile_theirs \
         (policy_no TEXT NOT NULL PRIMARY KEY, amount_fen BIGINT NOT NULL, row_no BIGINT NOT NULL)",
    )
    .execute(conn)?;
    Ok(())
}

/// Add a chunk of their lines.
pub fn stage_lines(conn: &mut DbConn, lines: &[StagedLine]) -> QueryResult<usize> {
    let rows: Vec<_> = lines
        .iter()
        .map(|(row, no, amount)| {
            (
                reconcile_input::row_no.eq(*row),
                reconcile_input::policy_no.eq(no.as_str()),
                reconcile_input::amount_fen.eq(*amount),
            )
        })
        .collect();
    crate::bulk_copy!(conn, reconcile_input::table, rows, 3)
}

/// Drop the staging tables.
pub fn stage_end(conn: &mut DbConn) -> QueryResult<()> {
    diesel::sql_query("DROP TABLE IF EXISTS reconcile_input").execute(conn)?;
    diesel::sql_query("DROP TABLE IF EXISTS reconcile_theirs").execute(conn)?;
    Ok(())
}

/// Their lines summed per policy number (the first row it was on); how
/// many policy numbers they list.
pub fn stage_sum(conn: &mut DbConn) -> QueryResult<i64> {
    diesel::sql_query(
        "INSERT INTO reconcile_theirs (policy_no, amount_fen, row_no) \
         SELECT policy_no, CAST(SUM(amount_fen) AS BIGINT), MIN(row_no) \
         FROM reconcile_input GROUP BY policy_no",
    )
    .execute(conn)?;
    reconcile_theirs_count(conn)
}

fn reconcile_theirs_count(conn: &mut DbConn) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT COUNT(*) AS n FROM reconcile_theirs")
        .get_result::<N>(conn)
        .map(|r| r.n)
}

/// Write reconciliation `id`'s lines: each policy number they list, matched,
/// differing or missing on our side, then our subsidised policies they do
/// not list. Ours is the whole subsidy, or one funding level's part.
pub fn stage_match(
    conn: &mut DbConn,
    id: i64,
    scheme_id: i64,
    level: Option<FundingLevel>,
) -> QueryResult<()> {
    let statuses: Vec<String> = PolicyStatus::SUBSIDISED
        .iter()
        .map(|s| format!("'{s}'"))
        .collect();
    let (column, present) = match level {
        None => ("subsidy_fen", String::new()),
        Some(l) => (
            level_column(l),
            format!(" AND {} IS NOT NULL", level_column(l)),
        ),
    };
    // Only integers we hold and fixed names go into the text: no binds, so
    // the statements read the same on both backends.
    let ours = format!(
        "FROM policies p WHERE p.scheme_id = {scheme_id} AND p.status IN ({}){present}",
        statuses.join(", ")
    );
    diesel::sql_query(format!(
        "INSERT INTO reconciliation_lines \
         (reconciliation_id, policy_no, status, ours_fen, theirs_fen, row_no) \
         SELECT {id}, t.policy_no, \
           CASE WHEN o.amount IS NULL THEN 'missing_ours' \
                WHEN o.amount = t.amount_fen THEN 'matched' ELSE 'differs' END, \
           o.amount, t.amount_fen, t.row_no \
         FROM reconcile_theirs t LEFT JOIN \
           (SELECT p.policy_no AS policy_no, p.{column} AS amount {ours}) o \
           ON o.policy_no = t.policy_no \
         ORDER BY t.policy_no"
    ))
    .execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO reconciliation_lines \
         (reconciliation_id, policy_no, status, ours_fen, theirs_fen, row_no) \
         SELECT {id}, p.policy_no, 'missing_theirs', p.{column}, \
           CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) \
         {ours} AND NOT EXISTS \
           (SELECT 1 FROM reconcile_theirs t WHERE t.policy_no = p.policy_no) \
         ORDER BY p.policy_no"
    ))
    .execute(conn)?;
    Ok(())
}

/// Per group of reconciliation `id`: lines, our total, their total (fen).
pub fn reconciliation_group_sums(
    conn: &mut DbConn,
    id: i64,
) -> QueryResult<Vec<(String, i64, i64, i64)>> {
    reconciliation_lines::table
        .filter(reconciliation_lines::reconciliation_id.eq(id))
        .group_by(reconciliation_lines::status)
        .select((
            reconciliation_lines::status,
            sql::<BigInt>("COUNT(*)"),
            sum_sql("ours_fen"),
            sum_sql("theirs_fen"),
        ))
        .load(conn)
}
