//! The time the claim rules read. Deadlines are clock hours from a report, so
//! tests must be able to set the clock instead of sleeping.

use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::sync::{Arc, Mutex};

/// The system clock, or a clock a test sets by hand.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            // A poisoned lock only means a test panicked while setting the
            // time; the value inside is still a valid instant.
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
            None => Utc::now(),
        }
    }

    /// Set a manual clock; the system clock ignores this.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(t) = &self.0 {
            *t.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    /// Today's date in China: what "today" means on every form and in expiry.
    pub fn today(&self) -> NaiveDate {
        china_date(self.now())
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Some(t) = &self.0 {
            let mut g = t.lock().unwrap_or_else(|e| e.into_inner());
            *g += by;
        }
    }
}

/// China Standard Time: dates on policies, and what people type and read.
pub fn china() -> FixedOffset {
    CHINA
}

/// UTC+8, checked when the crate compiles: an invalid offset would be a
/// compile error (const evaluation), so nothing is left to fail at run time.
const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// Stored form: UTC, fixed width, so text order is time order.
pub fn to_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Read back a stored time.
pub fn from_text(s: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| AppError::Internal(format!("stored time {s}: {e}")))
}

/// "2026-06-12 14:30" in China time.
pub fn display(t: DateTime<Utc>) -> String {
    t.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn display_text(s: &str) -> String {
    from_text(s).map(display).unwrap_or_else(|_| s.to_string())
}

/// The China date of an instant.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&china()).date_naive()
}

/// A date typed by a person or read from a file: 2026-03-05, 2026/3/5,
/// 2026年3月5日, 20260305, full-width digits — the one date reader of every
/// entry path.
pub fn input_day(field: &str, label: &str, s: &str) -> Result<NaiveDate, FieldError> {
    crate::domain::time::read_day(s).ok_or_else(|| {
        FieldError::new(
            field,
            ErrorCode::DateInvalid,
            format!(
                "{label}格式应为YYYY-MM-DD：{}",
                crate::domain::number::shown(s)
            ),
        )
    })
}

/// [`input_day`] for a day that has happened: not later than `today`.
pub fn past_day(
    field: &str,
    label: &str,
    s: &str,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    let d = input_day(field, label, s)?;
    if d > today {
        return Err(FieldError::new(
            field,
            ErrorCode::DateInFuture,
            format!("{label}不能晚于今天（{today}）"),
        ));
    }
    Ok(d)
}

/// A time typed by a person or sent by a machine: RFC 3339 with an offset, or
/// a local China time "2026-06-12T14:30" / "2026-06-12 14:30[:05]".
pub fn parse_input(field: &str, label: &str, s: &str) -> AppResult<DateTime<Utc>> {
    let t = s.trim();
    if t.is_empty() {
        return Err(AppError::invalid(
            field,
            ErrorCode::TimeMissing,
            format!("请填写{label}"),
        ));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            if let Some(d) = china().from_local_datetime(&n).single() {
                return Ok(d.with_timezone(&Utc));
            }
        }
    }
    Err(AppError::invalid(
        field,
        ErrorCode::TimeInvalid,
        format!("{label}格式不正确：{t}（应为 2026-06-12 14:30）"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_input_is_china_time_and_round_trips() {
        let t = parse_input("t", "时间", "2026-06-12 14:30").unwrap();
        assert_eq!(to_text(t), "2026-06-12T06:30:00Z");
        assert_eq!(display(t), "2026-06-12 14:30");
        let z = parse_input("t", "时间", "2026-06-12T06:30:00Z").unwrap();
        assert_eq!(z, t);
        assert_eq!(from_text(&to_text(t)).unwrap(), t);
        assert_eq!(
            china_date(parse_input("t", "x", "2026-06-12 23:59").unwrap()).to_string(),
            "2026-06-12"
        );
        assert_eq!(
            parse_input("t", "报案时间", "").unwrap_err().code(),
            "validation_failed"
        );
        assert!(parse_input("t", "报案时间", "明天").is_err());
    }

    #[test]
    fn today_is_the_china_date() {
        // 2026-06-12 23:30 UTC is already the 13th in China.
        let c = Clock::manual(
            DateTime::parse_from_rfc3339("2026-06-12T23:30:00Z")
                .unwrap()
                .into(),
        );
        assert_eq!(c.today().to_string(), "2026-06-13");
        c.set(
            DateTime::parse_from_rfc3339("2026-06-12T15:59:59Z")
                .unwrap()
                .into(),
        );
        assert_eq!(c.today().to_string(), "2026-06-12");
    }

    #[test]
    fn typed_days_in_every_form_and_never_after_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        for s in [
            "2026-03-05",
            " 2026/3/5 ",
            "2026年3月5日",
            "２０２６－０３－０５",
            "20260305",
        ] {
            assert_eq!(past_day("d", "收费日期", s, today), Ok(today), "{s:?}");
        }
        let e = past_day("d", "收费日期", "2026-03-06", today).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("d", ErrorCode::DateInFuture));
        assert!(e.message.contains("收费日期不能晚于今天"), "{}", e.message);
        for s in ["", "2026-02-30", "明天", "03/05/2026"] {
            let e = input_day("d", "收费日期", s).unwrap_err();
            assert_eq!(e.code, ErrorCode::DateInvalid, "{s:?}");
        }
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = parse_input("t", "x", "2026-06-12 08:00").unwrap();
        let c = Clock::manual(start);
        assert_eq!(c.now(), start);
        c.advance(chrono::Duration::hours(25));
        assert_eq!(display(c.now()), "2026-06-13 09:00");
        // The system clock ignores `set`: it keeps reading the real time,
        // whatever the date the suite runs on.
        let s = Clock::system();
        let far = parse_input("t", "x", "1999-01-01 00:00").unwrap();
        s.set(far);
        let (before, read, after) = (Utc::now(), s.now(), Utc::now());
        assert!(
            before <= read && read <= after,
            "{read} not between {before} and {after}"
        );
        assert_ne!(read, far);
    }
}
