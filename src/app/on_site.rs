//! What a tablet sends from an orchard, checked alike for a claim survey
//! (查勘) and a 验标 result: the id the tablet made for it, the position
//! against the plot's boundary, and the time it was made on site.

use crate::app::clock;
use crate::db::models::Plot;
use crate::db::DbConn;
use crate::domain::measure::normalize_width;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Duration, Utc};

/// Whether an id made by a tablet (a result's or a photo's) has the shape
/// the server keeps: 8 to 64 ASCII letters, digits, `-` or `_`.
pub fn valid_client_id(s: &str) -> bool {
    (8..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What a photo sent without a usable id of the tablet's is told.
pub const PHOTO_CLIENT_ID_MESSAGE: &str = "照片缺少有效的编号（client_id）";

/// The tablet's id, trimmed, or the page's own message telling the person
/// to reload it.
pub fn client_id<'a>(raw: &'a str, message: &str) -> AppResult<&'a str> {
    let t = raw.trim();
    if valid_client_id(t) {
        Ok(t)
    } else {
        Err(AppError::invalid(
            "client_id",
            ErrorCode::ClientIdInvalid,
            message,
        ))
    }
}

/// A JSON value a tablet may send as a string or a number (a figure typed
/// in a form, a coordinate), as text with full-width digits folded.
pub fn text(v: &Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => normalize_width(s).trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Where a submission was made, checked against the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Spot {
    pub latitude: f64,
    pub longitude: f64,
    /// What the tablet said of its fix, in whole metres.
    pub accuracy_m: Option<i32>,
    /// "inside" | "near" | "no_boundary"
    pub check: &'static str,
    /// Metres outside the boundary (0 inside, or with no boundary).
    pub distance_m: i32,
}

impl Spot {
    /// As stored: seven decimals, about a centimetre.
    pub fn stored(&self) -> (String, String) {
        (
            format!("{:.7}", self.latitude),
            format!("{:.7}", self.longitude),
        )
    }
}

/// The position sent with a submission: a real coordinate pair, within
/// `max_distance_m` of the plot's boundary when the plot has one. A refusal
/// is added to `errs` (`what` names the work in it: 查勘, 验标).
pub fn spot(
    errs: &mut Vec<FieldError>,
    (latitude, longitude, accuracy): (
        &Option<serde_json::Value>,
        &Option<serde_json::Value>,
        Option<f64>,
    ),
    plot: &Plot,
    max_distance_m: u32,
    what: &str,
) -> AppResult<Option<Spot>> {
    let coords = match (
        text(latitude).parse::<f64>(),
        text(longitude).parse::<f64>(),
    ) {
        (Ok(la), Ok(lo))
            if la.is_finite()
                && lo.is_finite()
                && (-90.0..=90.0).contains(&la)
                && (-180.0..=180.0).contains(&lo) =>
        {
            (la, lo)
        }
        _ => {
            errs.push(FieldError::new(
                "latitude",
                ErrorCode::GpsMissing,
                "没有获取到GPS定位，请在地块现场打开定位后再提交",
            ));
            return Ok(None);
        }
    };
    let (mut check, mut distance_m) = ("no_boundary", 0);
    if let Some(b) = plot.boundary.as_deref() {
        let poly = crate::geo::read_stored(b)
            .map_err(|e| AppError::Internal(format!("stored boundary: {e}")))?;
        let found = crate::geo::check_point(&poly, coords.1, coords.0);
        let d = found.distance_m.round().min(1e9) as i32;
        if found.inside {
            check = "inside";
        } else if found.distance_m <= f64::from(max_distance_m) {
            (check, distance_m) = ("near", d);
        } else {
            errs.push(FieldError::new(
                "latitude",
                ErrorCode::PositionFar,
                format!(
                    "{what}位置距地块{}约{d}米，超出允许的{max_distance_m}米，请到地块现场后再提交",
                    plot.code
                ),
            ));
            return Ok(None);
        }
    }
    Ok(Some(Spot {
        latitude: coords.0,
        longitude: coords.1,
        accuracy_m: accuracy
            .filter(|a| a.is_finite() && *a >= 0.0)
            .map(|a| a.round().min(1e6) as i32),
        check,
        distance_m,
    }))
}

/// A conflict or a lock wait on a retried submission may only mean that an
/// identical copy sent at the same moment (the tablet's queue replaying while
/// the first request was still running) won the race: on PostgreSQL the
/// loser meets the winner's unique client id or its version bump. Look again
/// in a fresh transaction and, if the same client id was recorded, answer
/// with the recorded result.
pub fn or_recorded<T>(
    conn: &mut DbConn,
    first: AppResult<T>,
    recorded: impl FnOnce(&mut DbConn) -> AppResult<Option<T>>,
) -> AppResult<T> {
    match first {
        Err(e @ (AppError::Conflict { .. } | AppError::Busy(_))) => {
            match crate::app::tx(conn, recorded)? {
                Some(out) => Ok(out),
                None => Err(e),
            }
        }
        other => other,
    }
}

/// When the person pressed "submit" on site (`field`, `label` name it): now
/// when the tablet left it out, and never more than five minutes ahead of
/// the server's clock. A refusal is added to `errs` and the time is then now.
pub fn made_at(
    errs: &mut Vec<FieldError>,
    raw: Option<&str>,
    (field, label): (&str, &str),
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let Some(s) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(now);
    };
    match clock::parse_input(field, label, s) {
        Ok(t) if t > now + Duration::minutes(5) => {
            errs.push(FieldError::new(
                field,
                ErrorCode::SurveyedInFuture,
                format!("{label}不能晚于当前时间"),
            ));
            Ok(now)
        }
        Ok(t) => Ok(t),
        Err(AppError::Validation(v)) => {
            errs.extend(v);
            Ok(now)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_ids_have_one_shape() {
        assert!(valid_client_id("a1b2c3d4-e5f6"));
        assert!(valid_client_id(&"x".repeat(64)));
        assert!(!valid_client_id(&"x".repeat(65)));
        assert!(!valid_client_id("short"));
        assert!(!valid_client_id("has space in it"));
        assert!(!valid_client_id("中文编号中文编号"));
        assert_eq!(client_id("  abcdefgh_1 ", "m").ok(), Some("abcdefgh_1"));
        assert!(client_id("abc", "m").is_err());
    }

    #[test]
    fn figures_come_as_text_or_number() {
        assert_eq!(text(&Some(json!("１２.５ "))), "12.5");
        assert_eq!(text(&Some(json!(40.25))), "40.25");
        assert_eq!(text(&Some(json!(true))), "");
        assert_eq!(text(&None), "");
    }

    #[test]
    fn a_time_ahead_of_the_server_is_refused_and_none_is_now() {
        let now = clock::parse_input("t", "时间", "2026-06-01T08:00:00Z").unwrap();
        let mut errs = Vec::new();
        let f = ("surveyed_at", "查勘时间");
        assert_eq!(made_at(&mut errs, None, f, now).unwrap(), now);
        assert_eq!(made_at(&mut errs, Some("  "), f, now).unwrap(), now);
        let early = made_at(&mut errs, Some("2026-06-01T08:04:00Z"), f, now).unwrap();
        assert_eq!(early, now + Duration::minutes(4));
        assert!(errs.is_empty());
        assert_eq!(
            made_at(&mut errs, Some("2026-06-01T08:06:00Z"), f, now).unwrap(),
            now
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].message, "查勘时间不能晚于当前时间");
    }
}
