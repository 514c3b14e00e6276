//! How an application error is answered over HTTP: the status for each kind
//! of error, `Retry-After` on 503, and the JSON body
//! `{"error": "<code>", "message": "...", "fields": [...]}`.

use crate::error::{AppError, FieldError, RETRY_AFTER_SECS};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

impl AppError {
    /// The HTTP status this error is answered with.
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
            AppError::Pool(_) | AppError::Busy(_) | AppError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
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
    /// The request's id (`X-Request-Id`), to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl AppError {
    /// The note the request log and `error_events` read off the response.
    pub fn note(&self) -> crate::web::observe::ErrorNote {
        crate::web::observe::ErrorNote {
            code: self.code().as_str(),
            detail: self.to_string(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut reply = HttpResponse::build(self.status());
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            reply.insert_header(("Retry-After", RETRY_AFTER_SECS.to_string()));
        }
        if let AppError::Locked { retry_after_secs } = self {
            reply.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        let mut res = reply.json(ErrorBody {
            error: self.code().as_str(),
            message: self.messages().join("；"),
            fields: self.fields(),
            request_id: crate::web::observe::request_id(),
        });
        res.extensions_mut().insert(self.note());
        res
    }
}

#[cfg(test)]
mod tests {
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

#[cfg(test)]
mod fault_tests {
    use super::*;

    #[test]
    fn a_server_fault_is_exactly_a_5xx() {
        let cases = [
            AppError::not_found("保单"),
            AppError::forbidden(),
            AppError::Unauthenticated,
            AppError::LoginFailed,
            AppError::Csrf,
            AppError::Validation(vec![]),
            AppError::Internal("x".into()),
            AppError::Panicked("x".into()),
            AppError::Pool("x".into()),
            AppError::Busy("x".into()),
            AppError::Unavailable("x".into()),
            AppError::Db(diesel::result::Error::NotFound),
        ];
        for e in cases {
            assert_eq!(e.is_server_fault(), e.status().is_server_error(), "{e:?}");
        }
    }
}
