//! Use cases, each written once. Web handlers and the CLI both call these.

pub mod accounts;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod batches;
pub mod boundaries;
pub mod checks;
pub mod claims;
pub mod clock;
pub mod fault;
pub mod finance;
pub mod growers;
pub mod home;
pub mod import;
pub mod inspection;
pub mod listing;
pub mod notices;
pub mod on_site;
pub mod photos;
pub mod plots;
pub mod policies;
pub mod premium_flow;
pub mod reconciliation;
pub mod reports;
pub mod schemes;
pub mod self_service;
pub mod sessions;
pub mod subsidy_requests;
pub mod throttle;

pub use auth::{Action, Actor, Role};

use crate::db::scope::{find_within, TownshipRow, Within};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use diesel::Connection;

/// The row `id` within `within` (`Actor::township_scope`, or `None` for the
/// whole county), else "not found" naming the row: every use case loads its
/// record through here, so another township's row looks like a missing one.
pub fn load_within<T: TownshipRow>(conn: &mut DbConn, within: Within, id: i64) -> AppResult<T> {
    find_within(conn, id, within)?.ok_or_else(|| AppError::not_found(T::NOUN))
}

/// The row `id` in the whole county (for use cases past their scope check).
pub fn load<T: TownshipRow>(conn: &mut DbConn, id: i64) -> AppResult<T> {
    load_within(conn, None, id)
}

/// Refuse an edit made on a version other than the current one (optimistic
/// locking); `message` tells the editor what to do.
pub fn check_version(seen: Option<i32>, current: i32, message: &str) -> AppResult<()> {
    match seen {
        Some(v) if v != current => Err(AppError::conflict(ErrorCode::VersionConflict, message)),
        _ => Ok(()),
    }
}

/// The row `id` the actor may see, else "not found".
pub fn scoped<T: TownshipRow>(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<T> {
    load_within(conn, actor.township_scope(), id)
}

/// Wall-clock time per phase of a long use case (the roster import), for the
/// benchmark and the log: each `lap` closes the phase that ran since the last.
#[derive(Debug, Clone)]
pub struct Phases {
    last: std::time::Instant,
    pub laps: Vec<(&'static str, std::time::Duration)>,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Phases {
    /// Close the running phase under `name` (time adds up if it recurs).
    pub fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        let took = now - self.last;
        self.last = now;
        match self.laps.iter_mut().find(|(n, _)| *n == name) {
            Some((_, d)) => *d += took,
            None => self.laps.push((name, took)),
        }
    }
}

/// Run `f` in one transaction: a use case either happens whole or not at all.
///
/// - On SQLite the outermost transaction begins `IMMEDIATE`: it takes the
///   write lock up front, where the busy timeout can wait for it. A deferred
///   transaction that reads and then writes cannot wait (SQLite answers
///   "database is locked" at once), which is how writers used to fail under load.
/// - An error rolls back; so does a panic, which then carries on unwinding to
///   the boundary that turns it into a 500 ([`crate::web::AppState::run`]).
///   Either way the connection goes back to the pool with no transaction open.
/// - A nested call becomes a savepoint, as with diesel's own `transaction`.
pub fn tx<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    let outermost = !crate::db::is_dirty(conn);
    match conn {
        DbConn::Sqlite(c) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        _ => Manager::begin_transaction(conn)?,
    }
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)));
    match ran {
        Ok(Ok(value)) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                // A failed COMMIT may leave the transaction open (SQLite busy).
                let _ = Manager::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Ok(Err(e)) => {
            // Should the rollback itself fail, the connection is left marked
            // broken and the pool closes it (`db::Manager::has_broken`).
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
        Err(panic) => {
            let _ = Manager::rollback_transaction(conn);
            std::panic::resume_unwind(panic)
        }
    }
}

/// Run `f` as [`tx`] would, then roll everything back: a preview that is the
/// real run (same checks, same order) and writes nothing. The same rollback
/// on an error or a panic.
pub fn dry_run<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    let outermost = !crate::db::is_dirty(conn);
    match conn {
        DbConn::Sqlite(c) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        _ => Manager::begin_transaction(conn)?,
    }
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)));
    let rolled_back = Manager::rollback_transaction(conn);
    match ran {
        Ok(result) => {
            rolled_back?;
            result
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Page through lists: 1-based page numbers, a fixed page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Page {
    pub const DEFAULT_SIZE: i64 = 50;
    /// The most rows one page may ask for (the OpenAPI document says so too).
    pub const MAX_SIZE: i64 = 500;

    /// A page as asked for: `page` from 1, `page_size` from 1 to
    /// [`Page::MAX_SIZE`]; anything else is refused, not quietly changed.
    pub fn new(number: Option<i64>, size: Option<i64>) -> AppResult<Page> {
        let number = number.unwrap_or(1);
        if number < 1 {
            return Err(AppError::invalid(
                "page",
                ErrorCode::PageInvalid,
                format!("页码（page）须从1开始，收到{number}"),
            ));
        }
        let size = size.unwrap_or(Self::DEFAULT_SIZE);
        if !(1..=Self::MAX_SIZE).contains(&size) {
            return Err(AppError::invalid(
                "page_size",
                ErrorCode::PageSizeInvalid,
                format!(
                    "每页条数（page_size）须在1到{}之间，收到{size}",
                    Self::MAX_SIZE
                ),
            ));
        }
        Ok(Page { number, size })
    }

    /// Rows before this page; a page far beyond the end stays far beyond it
    /// (and is empty) instead of wrapping round.
    pub fn offset(&self) -> i64 {
        self.number.saturating_sub(1).saturating_mul(self.size)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub pages: i64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, page: Page) -> Paged<T> {
        Paged {
            items,
            total,
            page: page.number,
            page_size: page.size,
            pages: total
                .saturating_add(page.size.saturating_sub(1))
                .checked_div(page.size)
                .unwrap_or(0)
                .max(1),
        }
    }
}

#[cfg(test)]
mod page_tests {
    use super::*;

    #[test]
    fn pages_start_at_one_and_have_a_bounded_size() {
        assert_eq!(
            Page::new(None, None).unwrap(),
            Page {
                number: 1,
                size: 50
            }
        );
        assert_eq!(Page::new(Some(3), Some(500)).unwrap().offset(), 1000);
        assert_eq!(Page::new(Some(1), Some(1)).unwrap().offset(), 0);
        for (n, s, field) in [
            (Some(0), None, "page_invalid"),
            (Some(-5), None, "page_invalid"),
            (Some(i64::MIN), None, "page_invalid"),
            (None, Some(0), "page_size_invalid"),
            (None, Some(501), "page_size_invalid"),
            (None, Some(i64::MAX), "page_size_invalid"),
        ] {
            let e = Page::new(n, s).unwrap_err();
            assert_eq!(e.fields()[0].code, field, "{n:?} {s:?}");
            assert!(e.messages()[0].contains("收到"));
        }
    }

    #[test]
    fn a_huge_page_number_does_not_wrap() {
        let p = Page::new(Some(i64::MAX), Some(500)).unwrap();
        assert_eq!(p.offset(), i64::MAX);
        let p = Page::new(Some(i64::MAX / 50 + 2), Some(50)).unwrap();
        assert_eq!(p.offset(), i64::MAX);
        assert!(p.offset() > 0);
    }

    #[test]
    fn page_counts_round_up_and_never_overflow() {
        let page = Page::new(None, Some(50)).unwrap();
        assert_eq!(Paged::new(Vec::<()>::new(), 0, page).pages, 1);
        assert_eq!(Paged::new(Vec::<()>::new(), 101, page).pages, 3);
        assert_eq!(
            Paged::new(Vec::<()>::new(), i64::MAX, page).pages,
            i64::MAX / 50
        );
    }
}
