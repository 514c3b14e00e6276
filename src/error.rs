//! One error type for every use case. Each error has a stable machine code
//! (asserted by tests and API clients) and a Chinese message for people.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: message.into(),
        }
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
    #[error("提交的内容有误")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    Conflict { code: String, message: String },
    #[error("数据库错误：{0}")]
    Db(diesel::result::Error),
    #[error("数据库连接失败：{0}")]
    Pool(String),
    /// The database could not take the write in time (lock wait, pool wait,
    /// serialization failure): nothing was written, and the same request can
    /// simply be sent again. 503 with `Retry-After`.
    #[error("系统繁忙，请稍后重试：{0}")]
    Busy(String),
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

    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Forbidden(_) => "forbidden",
            AppError::Unauthenticated => "unauthenticated",
            AppError::LoginFailed => "login_failed",
            AppError::Csrf => "csrf_invalid",
            AppError::Validation(_) => "validation_failed",
            AppError::Conflict { code, .. } => code,
            AppError::Db(_) | AppError::Internal(_) => "internal",
            AppError::Pool(_) | AppError::Busy(_) => "busy",
            AppError::Panicked(_) => "internal_panic",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthenticated | AppError::LoginFailed => StatusCode::UNAUTHORIZED,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Db(_) | AppError::Internal(_) | AppError::Panicked(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Pool(_) | AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
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
                "duplicate",
                "同样的记录刚刚已被提交（可能是重复提交或他人同时操作），请刷新页面查看",
            ),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                AppError::Busy(info.message().to_string())
            }
            Error::DatabaseError(_, ref info) if is_lock_wait(info.message()) => {
                AppError::Busy(info.message().to_string())
            }
            // PostgreSQL refuses a NUL in text. Every entry path checks text
            // first; this is the net under a lookup field that was missed.
            Error::DatabaseError(_, ref info)
                if info.message().contains("invalid byte sequence") =>
            {
                AppError::invalid(
                    "text",
                    "text_control_character",
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

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Pool(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [FieldError],
}

/// API responses: `{"error": "<code>", "message": "...", "fields": [...]}`.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.status().is_server_error() {
            log::error!("{self:?}");
        }
        let mut reply = HttpResponse::build(self.status());
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            reply.insert_header(("Retry-After", RETRY_AFTER_SECS.to_string()));
        }
        reply.json(ErrorBody {
            error: self.code(),
            message: self.messages().join("；"),
            fields: self.fields(),
        })
    }
}

#[cfg(test)]
mod unique_tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    #[test]
    fn a_unique_violation_is_a_conflict_other_database_errors_are_internal() {
        let dup: AppError = Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("dup".to_string()),
        )
        .into();
        assert_eq!(dup.code(), "duplicate");
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        let fk: AppError = Error::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation,
            Box::new("fk".to_string()),
        )
        .into();
        assert_eq!(fk.code(), "internal");
        assert_eq!(AppError::from(Error::NotFound).code(), "internal");
    }

    #[test]
    fn a_lock_not_granted_in_time_is_busy_with_retry_after() {
        let locked: AppError = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_string()),
        )
        .into();
        assert_eq!(locked.code(), "busy");
        assert_eq!(locked.status(), StatusCode::SERVICE_UNAVAILABLE);
        let r = locked.error_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            r.headers().get("Retry-After").and_then(|v| v.to_str().ok()),
            Some("2")
        );
        let deadlock: AppError = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("deadlock detected".to_string()),
        )
        .into();
        assert_eq!(deadlock.status(), StatusCode::SERVICE_UNAVAILABLE);
        let serial: AppError = Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new("could not serialize".to_string()),
        )
        .into();
        assert_eq!(serial.code(), "busy");
        let nul: AppError = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("invalid byte sequence for encoding \"UTF8\": 0x00".to_string()),
        )
        .into();
        assert_eq!(nul.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(AppError::Panicked("x".into()).messages()[0].contains("没有保存"));
        assert_eq!(
            AppError::Panicked("x".into()).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
