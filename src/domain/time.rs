//! Instants and calendar days as the system stores, compares and shows them.
//!
//! An [`Instant`] is a UTC time stored as fixed-width text
//! (`2026-06-12T06:30:00Z`), so text order is time order on both databases;
//! a [`Day`] is a China calendar date stored as `2026-06-12`. People read
//! instants in China time (UTC+8).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use std::fmt;

use super::macros::{serde_as_text, stored_value, text_error};

/// China Standard Time: dates on policies, and what people type and read.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    // Const evaluation: an invalid offset would fail to compile.
    None => panic!("UTC+8 is a valid offset"),
};

/// The stored forms as chrono patterns (written by hand in `from_utc` and
/// `Day::new`; the tests hold the two to the same text).
#[cfg(test)]
const STORED_INSTANT: &str = "%Y-%m-%dT%H:%M:%SZ";
const STORED_DAY: &str = "%Y-%m-%d";

stored_value! {
    /// A moment, to the second, in UTC.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub struct Instant {
        at: DateTime<Utc>,
        /// The stored form, kept beside the value so the database layer can
        /// bind it by reference.
        text: [u8; 20],
    }
}

/// The stored form (`as_str`, `to_text`) of a value that keeps it in a
/// fixed-width `text` field; it is also the `Display` and JSON form.
macro_rules! stored_text {
    ($name:ident, $parse:path, $example:literal) => {
        impl $name {
            #[doc = concat!("The stored form: ", $example, ".")]
            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.text).unwrap_or_default()
            }

            pub fn to_text(self) -> String {
                self.as_str().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        serde_as_text!($name, $parse);
    };
}

/// The formatted text in a fixed-width buffer (the formats give exactly `N`
/// ASCII bytes for the years [`FIRST_YEAR`]..=[`LAST_YEAR`]). Written in
/// place, without a `String`: every instant and day read from the database
/// comes through here (a claims board reads thousands).
fn fixed_width<const N: usize>(formatted: fmt::Arguments<'_>) -> [u8; N] {
    struct Fixed<const N: usize> {
        text: [u8; N],
        len: usize,
    }
    impl<const N: usize> fmt::Write for Fixed<N> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for (slot, byte) in self.text.iter_mut().skip(self.len).zip(s.bytes()) {
                *slot = byte;
            }
            self.len = self.len.saturating_add(s.len());
            Ok(())
        }
    }
    let mut out = Fixed {
        text: [b'0'; N],
        len: 0,
    };
    // Writing to the buffer cannot fail; a longer text would be cut, and the
    // formats cannot give one.
    let _ = fmt::Write::write_fmt(&mut out, formatted);
    out.text
}

/// The number written by ASCII digits, `None` if any is not one.
fn digits(ds: &[u8]) -> Option<u32> {
    ds.iter().try_fold(0u32, |n, d| {
        d.is_ascii_digit()
            .then(|| n * 10 + u32::from(d.saturating_sub(b'0')))
    })
}

/// Years the fixed-width text can hold; nothing in a county's insurance
/// season lies outside them.
const FIRST_YEAR: i32 = 1000;
const LAST_YEAR: i32 = 9999;

impl Instant {
    pub fn from_utc(t: DateTime<Utc>) -> Instant {
        use chrono::Datelike;
        // Stored to the second: keep the value what a round trip gives back.
        let mut at = t - chrono::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()));
        if at.year() < FIRST_YEAR || at.year() > LAST_YEAR {
            let year = at.year().clamp(FIRST_YEAR, LAST_YEAR);
            at = chrono::TimeZone::with_ymd_and_hms(&Utc, year, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or(at);
        }
        // STORED_INSTANT, by hand: chrono's `format` parses its pattern on
        // every call, which made it the largest cost of reading claims.
        let text = {
            use chrono::Timelike;
            fixed_width(format_args!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                at.year(),
                at.month(),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            ))
        };
        Instant { at, text }
    }

    pub fn utc(self) -> DateTime<Utc> {
        self.at
    }

    /// Read a stored instant (any RFC 3339 text is accepted).
    pub fn parse_stored(s: &str) -> Result<Instant, TimeError> {
        if let Some(i) = Instant::read_canonical(s) {
            return Ok(i);
        }
        DateTime::parse_from_rfc3339(s)
            .map(|t| Instant::from_utc(t.with_timezone(&Utc)))
            .map_err(|_| TimeError(s.to_string()))
    }

    /// The stored form itself (`2026-06-12T06:30:05Z`), read digit by digit
    /// and kept as it is: what nearly every value read from the database
    /// looks like, and a tenth of the work of the general reader. Anything
    /// else (an offset, a fraction, a leap second) is left to that reader.
    fn read_canonical(s: &str) -> Option<Instant> {
        let text: [u8; 20] = s.as_bytes().try_into().ok()?;
        let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1, b'Z'] =
            text
        else {
            return None;
        };
        let year = digits(&[y0, y1, y2, y3])?;
        if year < FIRST_YEAR.unsigned_abs() {
            return None;
        }
        let at = NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            digits(&[m0, m1])?,
            digits(&[d0, d1])?,
        )?
        .and_hms_opt(digits(&[h0, h1])?, digits(&[n0, n1])?, digits(&[s0, s1])?)?
        .and_utc();
        Some(Instant { at, text })
    }

    /// `2026-06-12 14:30` in China time.
    pub fn display(self) -> String {
        self.at
            .with_timezone(&CHINA)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// The China calendar day of this instant.
    pub fn china_day(self) -> Day {
        Day::new(self.at.with_timezone(&CHINA).date_naive())
    }
}

/// `text` with every stored UTC time in it ("2026-11-29T17:35:21Z", alone or
/// inside a record's JSON) written as people read it, "2026-11-30 01:35" in
/// China time; the rest of the text unchanged. What the pages show of a time.
pub fn china_times_in(text: &str) -> String {
    const LEN: usize = 20;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(t) = rest.find('T') {
        // A stored time has its 'T' at byte 10, its date before it.
        let start = t.saturating_sub(10);
        let candidate = (t >= 10)
            .then(|| rest.get(start..start + LEN))
            .flatten()
            .and_then(Instant::read_canonical);
        match candidate {
            Some(i) => {
                out.push_str(rest.get(..start).unwrap_or_default());
                out.push_str(&i.display());
                rest = rest.get(start + LEN..).unwrap_or_default();
            }
            None => {
                out.push_str(rest.get(..=t).unwrap_or_default());
                rest = rest.get(t + 1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

stored_text!(Instant, Instant::parse_stored, "`2026-06-12T06:30:00Z`");

stored_value! {
    /// A calendar day (China), stored as `2026-06-12`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub struct Day {
        date: NaiveDate,
        text: [u8; 10],
    }
}

impl Day {
    pub fn new(d: NaiveDate) -> Day {
        use chrono::Datelike;
        let date = if d.year() < FIRST_YEAR || d.year() > LAST_YEAR {
            NaiveDate::from_ymd_opt(d.year().clamp(FIRST_YEAR, LAST_YEAR), 1, 1).unwrap_or(d)
        } else {
            d
        };
        // STORED_DAY, by hand (see `Instant::from_utc`).
        let text = fixed_width(format_args!(
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        ));
        Day { date, text }
    }

    pub fn date(self) -> NaiveDate {
        self.date
    }

    pub fn parse_stored(s: &str) -> Result<Day, TimeError> {
        // The stored form itself, read by hand (see `Instant::read_canonical`).
        if let Ok([y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]) = <[u8; 10]>::try_from(s.as_bytes())
        {
            let date = digits(&[y0, y1, y2, y3])
                .filter(|y| *y >= FIRST_YEAR.unsigned_abs())
                .and_then(|y| i32::try_from(y).ok())
                .and_then(|y| NaiveDate::from_ymd_opt(y, digits(&[m0, m1])?, digits(&[d0, d1])?));
            if let Some(date) = date {
                return Ok(Day::new(date));
            }
        }
        NaiveDate::parse_from_str(s, STORED_DAY)
            .map(Day::new)
            .map_err(|_| TimeError(s.to_string()))
    }
}

stored_text!(Day, Day::parse_stored, "`2026-06-12`");

/// 2012-3-5, 2012/03/05, 2012.3.5, 2012年3月5日, 20120305, and any of those
/// followed by a time.
pub fn read_day(s: &str) -> Option<chrono::NaiveDate> {
    let t: String = s.chars().map(super::text::halfwidth).collect();
    let t = t.trim();
    let date_part = t.split([' ', 'T']).next().unwrap_or(t);
    let date_part = date_part.trim_end_matches(['日', '号']);
    let parts: Vec<&str> = date_part
        .split(['-', '/', '.', '年', '月'])
        .map(str::trim)
        .collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => {
            (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        }
        [ymd] if ymd.len() == 8 && ymd.chars().all(|c| c.is_ascii_digit()) => (
            ymd.get(0..4)?.parse().ok()?,
            ymd.get(4..6)?.parse().ok()?,
            ymd.get(6..8)?.parse().ok()?,
        ),
        _ => return None,
    };
    if !(1900..=2100).contains(&y) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

text_error!(
    /// A stored time that does not read back: the database holds text the
    /// program did not write.
    TimeError,
    "not a stored time or date: {0:?}"
);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_stored_text_written_by_hand_is_chronos_pattern() {
        let mut t = Utc.with_ymd_and_hms(1000, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        let mut n = 0;
        while t <= end {
            let i = Instant::from_utc(t);
            assert_eq!(i.to_text(), t.format(STORED_INSTANT).to_string());
            assert_eq!(Instant::parse_stored(&i.to_text()), Ok(i));
            // The hand reader agrees with the general one.
            let general = DateTime::parse_from_rfc3339(&i.to_text())
                .map(|t| Instant::from_utc(t.with_timezone(&Utc)))
                .unwrap();
            assert_eq!(Instant::read_canonical(&i.to_text()), Some(general));
            let d = Day::new(t.date_naive());
            assert_eq!(d.to_text(), t.format(STORED_DAY).to_string());
            assert_eq!(Day::parse_stored(&d.to_text()), Ok(d));
            assert_eq!(
                Day::parse_stored(&d.to_text()).unwrap().date(),
                NaiveDate::parse_from_str(&d.to_text(), STORED_DAY).unwrap()
            );
            // Steps that are not round, so every field takes many values.
            t += chrono::Duration::seconds(86_400 * 3_653 / 7 + 3_607);
            n += 1;
        }
        assert!(n > 1000, "{n}");
        assert_eq!(
            Instant::from_utc(Utc.with_ymd_and_hms(2026, 6, 2, 3, 4, 5).unwrap()).to_text(),
            "2026-06-02T03:04:05Z"
        );
        assert_eq!(
            Day::new(NaiveDate::from_ymd_opt(812, 3, 4).unwrap()).to_text(),
            "1000-01-01"
        );
        // Not the stored form: the general reader decides, as before.
        for s in [
            "2026-02-30T00:00:00Z",
            "2026-06-12T23:59:60Z",
            "0999-06-12T00:00:00Z",
            "2026-06-12t06:30:05z",
            "2026-06-12T06:30:05.5Z",
            "2026-06-12T14:30:05+08:00",
            "2026-0６-12T06:30:05Z",
            "+026-06-12T06:30:05Z",
        ] {
            assert_eq!(Instant::read_canonical(s), None, "{s}");
            let general = DateTime::parse_from_rfc3339(s)
                .map(|t| Instant::from_utc(t.with_timezone(&Utc)))
                .map_err(|_| TimeError(s.to_string()));
            assert_eq!(Instant::parse_stored(s), general, "{s}");
        }
        for s in [
            "2026-02-30",
            "0999-06-12",
            "2026-6-12",
            "2026-06-1x",
            "+026-06-12",
        ] {
            let general = NaiveDate::parse_from_str(s, STORED_DAY)
                .map(Day::new)
                .map_err(|_| TimeError(s.to_string()));
            assert_eq!(Day::parse_stored(s), general, "{s}");
        }
    }

    #[test]
    fn an_instant_is_stored_to_the_second_in_utc_and_read_back() {
        let t = Utc.with_ymd_and_hms(2026, 6, 12, 6, 30, 5).unwrap()
            + chrono::Duration::milliseconds(750);
        let i = Instant::from_utc(t);
        assert_eq!(i.to_text(), "2026-06-12T06:30:05Z");
        assert_eq!(Instant::parse_stored(&i.to_text()), Ok(i));
        assert_eq!(i.display(), "2026-06-12 14:30");
        assert_eq!(Instant::parse_stored("2026-06-12T14:30:05+08:00"), Ok(i));
        assert!(Instant::parse_stored("2026-06-12 14:30").is_err());
        assert_eq!(
            serde_json::to_string(&i).unwrap(),
            "\"2026-06-12T06:30:05Z\""
        );
    }

    #[test]
    fn text_order_is_time_order() {
        let a = Instant::parse_stored("2026-06-12T09:59:59Z").unwrap();
        let b = Instant::parse_stored("2026-06-12T10:00:00Z").unwrap();
        assert!(a < b);
        assert!(a.to_text() < b.to_text());
    }

    #[test]
    fn the_china_day_turns_at_16_00_utc() {
        let before = Instant::parse_stored("2026-06-12T15:59:59Z").unwrap();
        let after = Instant::parse_stored("2026-06-12T16:00:00Z").unwrap();
        assert_eq!(before.china_day().to_text(), "2026-06-12");
        assert_eq!(after.china_day().to_text(), "2026-06-13");
    }

    #[test]
    fn days_round_trip_and_refuse_other_text() {
        let d = Day::parse_stored("2026-02-28").unwrap();
        assert_eq!(d.to_text(), "2026-02-28");
        assert!(Day::parse_stored("2026-02-30").is_err());
        assert!(Day::parse_stored("2026/02/28").is_err());
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-02-28\"");
    }

    #[test]
    fn years_outside_four_digits_are_clamped_not_garbled() {
        let far =
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(365 * 9000);
        assert_eq!(Instant::from_utc(far).as_str(), "9999-01-01T00:00:00Z");
        let d = Day::new(NaiveDate::from_ymd_opt(12, 5, 1).unwrap());
        assert_eq!(d.as_str(), "1000-01-01");
    }

    #[test]
    fn stored_times_in_text_read_in_china_time() {
        assert_eq!(china_times_in("2026-11-29T17:35:21Z"), "2026-11-30 01:35");
        assert_eq!(
            china_times_in(r#"{"updated_at": "2026-06-12T06:30:00Z", "name": "Tom"}"#),
            r#"{"updated_at": "2026-06-12 14:30", "name": "Tom"}"#
        );
        for plain in [
            "",
            "T",
            "2026-06-12",
            "ID 2026-06-12T06:30",
            "农户T",
            "2026-13-12T06:30:00Z",
        ] {
            assert_eq!(china_times_in(plain), plain);
        }
    }
}
