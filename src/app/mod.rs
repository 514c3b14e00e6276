//! Use cases, each written once. Web handlers and the CLI both call these.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod batches;
pub mod boundaries;
pub mod claims;
pub mod clock;
pub mod demo_load;
pub mod fault;
pub mod finance;
pub mod finance_synth;
pub mod growers;
pub mod import;
pub mod plots;
pub mod policies;
pub mod premium_flow;
pub mod reconciliation;
pub mod reports;
pub mod schemes;
pub mod subsidy_requests;

pub use auth::{Actor, Role};

use crate::db::DbConn;
use crate::error::AppResult;
use diesel::Connection;

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

/// Page through lists: 1-based page numbers, a fixed page size.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Page {
    pub fn new(number: Option<i64>, size: Option<i64>) -> Page {
        Page {
            number: number.unwrap_or(1).max(1),
            size: size.unwrap_or(50).clamp(1, 500),
        }
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1) * self.size
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
            pages: ((total + page.size - 1) / page.size).max(1),
        }
    }
}
