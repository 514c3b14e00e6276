//! One error type for every use case. Each error has a stable machine code
//! (asserted by tests and API clients) and a Chinese message for people.
//!
//! How an error is answered over HTTP lives in `web::error`; the CLI maps
//! the same errors to exit codes. Nothing here knows about either.

mod code;

pub use code::ErrorCode;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: ErrorCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: ErrorCode, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            code,
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> AppError {
        AppError::Validation(vec![e])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("请先登录")]
    Unauthenticated,
    #[error("用户名或密码错误")]
    LoginFailed,
    #[error("页面已过期或请求来源无效，请刷新页面后重试")]
    Csrf,
    /// Too many failed logins for the name or from the address: wait.
    /// 429 with `Retry-After`.
    #[error("登录失败次数过多，账号已暂时锁定，请{}分钟后再试，或联系管理员解锁", retry_after_secs.div_ceil(60))]
    Locked { retry_after_secs: u64 },
    #[error("提交的内容有误")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    #[error("数据库错误：{0}")]
    Db(diesel::result::Error),
    #[error("数据库连接失败：{0}")]
    Pool(String),
    /// The database could not take the write in time (lock wait, pool wait,
    /// serialization failure): nothing was written, and the same request can
    /// simply be sent again. 503 with `Retry-After`.
    #[error("系统繁忙，请稍后重试：{0}")]
    Busy(String),
    /// The database cannot be reached (stopped, restarting, switching over
    /// to a standby, the network between): nothing was written, and the
    /// server reconnects by itself. 503 with `Retry-After`.
    #[error("数据库暂时无法连接：{0}")]
    Unavailable(String),
    /// A bug met at run time; the transaction was rolled back.
    #[error("内部错误（已回滚）：{0}")]
    Panicked(String),
    #[error("内部错误：{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// What a 503 tells the client to wait before sending the same request again.
pub const RETRY_AFTER_SECS: u32 = 2;

impl AppError {
    pub fn not_found(what: &str) -> AppError {
        AppError::NotFound(format!("未找到{what}"))
    }

    pub fn forbidden() -> AppError {
        AppError::Forbidden("您没有权限执行此操作".into())
    }

    pub fn invalid(field: &str, code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::Unauthenticated => ErrorCode::Unauthenticated,
            AppError::LoginFailed => ErrorCode::LoginFailed,
            AppError::Csrf => ErrorCode::CsrfInvalid,
            AppError::Locked { .. } => ErrorCode::LoginLocked,
            AppError::Validation(_) => ErrorCode::ValidationFailed,
            AppError::Conflict { code, .. } => *code,
            AppError::Db(_) | AppError::Internal(_) => ErrorCode::Internal,
            AppError::Pool(_) | AppError::Busy(_) => ErrorCode::Busy,
            AppError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            AppError::Panicked(_) => ErrorCode::InternalPanic,
        }
    }

    /// A fault of the system (not of the request): logged, and the CLI
    /// exits with 1 instead of 2.
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            AppError::Db(_)
                | AppError::Internal(_)
                | AppError::Panicked(_)
                | AppError::Pool(_)
                | AppError::Busy(_)
                | AppError::Unavailable(_)
        )
    }

    /// Every message a person should read, one per line.
    pub fn messages(&self) -> Vec<String> {
        match self {
            AppError::Validation(errs) => errs.iter().map(|e| e.message.clone()).collect(),
            AppError::Db(_) | AppError::Internal(_) | AppError::Panicked(_) => {
                vec!["系统内部错误，本次操作没有保存，请稍后重试或联系管理员".into()]
            }
            AppError::Pool(_) | AppError::Busy(_) => {
                vec![format!(
                    "系统繁忙，本次操作没有保存，请{RETRY_AFTER_SECS}秒后重试"
                )]
            }
            AppError::Unavailable(_) => {
                vec![format!(
                    "数据库暂时无法连接，本次操作没有保存。系统会自动重连，请{RETRY_AFTER_SECS}秒后重试；如持续出现，请联系管理员"
                )]
            }
            other => vec![other.to_string()],
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Validation(errs) => errs,
            _ => &[],
        }
    }
}

/// A unique index that refuses a row is two people (or one impatient button)
/// doing the same thing at once: say so, instead of an internal error.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict(
                ErrorCode::Duplicate,
                "同样的记录刚刚已被提交（可能是重复提交或他人同时操作），请刷新页面查看",
            ),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                AppError::Busy(info.message().to_string())
            }
            Error::DatabaseError(_, ref info) if is_lock_wait(info.message()) => {
                AppError::Busy(info.message().to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::Unavailable(info.message().to_string())
            }
            Error::DatabaseError(_, ref info) if is_connection_lost(info.message()) => {
                AppError::Unavailable(info.message().to_string())
            }
            // PostgreSQL refuses a NUL in text. Every entry path checks text
            // first; this is the net under a lookup field that was missed.
            Error::DatabaseError(_, ref info)
                if info.message().contains("invalid byte sequence") =>
            {
                AppError::invalid(
                    "text",
                    ErrorCode::TextControlCharacter,
                    "输入内容含有不可见的控制字符（如NUL），请删除后重试",
                )
            }
            other => AppError::Db(other),
        }
    }
}

/// Messages of a lock that was not granted in time: SQLite's busy timeout
/// ran out, or PostgreSQL broke a deadlock or hit a lock timeout.
fn is_lock_wait(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("deadlock detected")
        || message.contains("lock timeout")
}

/// Messages of a connection the database server dropped or never answered
/// (libpq's wording): the request is not the cause, and a retry once the
/// server is back will do.
fn is_connection_lost(message: &str) -> bool {
    [
        "server closed the connection",
        "terminating connection due to administrator command",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "in a read-only transaction",
    ]
    .iter()
    .any(|m| message.contains(m))
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Pool(e.to_string())
    }
}
