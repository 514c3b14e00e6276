//! How the domain's typed values are stored: money and areas as BIGINT,
//! policy and claim statuses, area and funding levels, instants and days as TEXT. One generic impl per type serves
//! SQLite, PostgreSQL and the multi-connection that chooses between them;
//! a value the program did not write is a deserialization error, never a
//! panic.

use crate::domain::area::AreaLevel;
use crate::domain::claims::ClaimStatus;
use crate::domain::measure::Mu;
use crate::domain::money::Fen;
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::FundingLevel;
use crate::domain::time::{Day, Instant};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Text};

/// BIGINT columns holding a newtype over i64.
macro_rules! bigint_newtype {
    ($t:ty, $get:expr, $make:expr) => {
        impl<DB> ToSql<BigInt, DB> for $t
        where
            DB: Backend,
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                let get: fn(&$t) -> &i64 = $get;
                get(self).to_sql(out)
            }
        }

        impl<DB> FromSql<BigInt, DB> for $t
        where
            DB: Backend,
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let make: fn(i64) -> $t = $make;
                i64::from_sql(bytes).map(make)
            }
        }
    };
}

bigint_newtype!(Fen, |f| &f.0, Fen);
bigint_newtype!(Mu, Mu::units_ref, Mu::from_units);

/// TEXT columns holding a value that keeps its stored text form.
macro_rules! text_value {
    ($t:ty, $parse:expr) => {
        impl<DB> ToSql<Text, DB> for $t
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> FromSql<Text, DB> for $t
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let parse: fn(&str) -> Result<$t, Box<dyn std::error::Error + Send + Sync>> =
                    $parse;
                let text = String::from_sql(bytes)?;
                parse(&text)
            }
        }
    };
}

text_value!(PolicyStatus, |s| Ok(s.parse()?));
text_value!(ClaimStatus, |s| Ok(ClaimStatus::parse(s)?));
text_value!(Instant, |s| Ok(Instant::parse_stored(s)?));
text_value!(Day, |s| Ok(Day::parse_stored(s)?));
text_value!(FundingLevel, |s| Ok(FundingLevel::parse(s)?));
text_value!(AreaLevel, |s| AreaLevel::parse(s)
    .ok_or_else(|| format!("unknown area level {s:?}").into()));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbConn;
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::{IntoSql, SqliteConnection};

    /// SQLite always; PostgreSQL too when the suite runs against it.
    fn connections() -> Vec<DbConn> {
        let mut out = vec![DbConn::Sqlite(
            SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        )];
        if std::env::var("GUOBAO_TEST_DATABASE").as_deref() == Ok("postgres") {
            let url = std::env::var("GUOBAO_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let pg = diesel::PgConnection::establish(&format!("{url}/postgres"))
                .expect("the PostgreSQL the suite runs against");
            out.push(DbConn::Postgresql(pg));
        }
        out
    }

    /// The value as the database hands it back after binding it as `$sql`.
    macro_rules! read_back {
        ($conn:expr, $value:expr, $sql:ty => $out:ty) => {
            diesel::select($value.into_sql::<$sql>())
                .get_result::<$out>($conn)
                .unwrap()
        };
    }

    #[test]
    fn typed_values_round_trip_on_every_backend() {
        let at = Instant::parse_stored("2026-06-12T06:30:05Z").unwrap();
        let day = Day::parse_stored("2026-02-28").unwrap();
        let fen = Fen(-123_456_789_012);
        let mu = Mu::from_units(25_000);
        for mut conn in connections() {
            let conn = &mut conn;
            for status in ClaimStatus::ALL {
                assert_eq!(read_back!(conn, status, Text => ClaimStatus), status);
            }
            for status in PolicyStatus::ALL {
                assert_eq!(read_back!(conn, status, Text => PolicyStatus), status);
                assert_eq!(read_back!(conn, status, Text => String), status.as_str());
            }
            for level in AreaLevel::ALL {
                assert_eq!(read_back!(conn, level, Text => AreaLevel), level);
            }
            assert_eq!(read_back!(conn, at, Text => Instant), at);
            assert_eq!(read_back!(conn, day, Text => Day), day);
            assert_eq!(read_back!(conn, fen, BigInt => Fen), fen);
            assert_eq!(read_back!(conn, mu, BigInt => Mu), mu);
        }
    }

    #[test]
    fn text_the_program_did_not_write_is_an_error_not_a_panic() {
        for mut conn in connections() {
            let conn = &mut conn;
            let read = |text: &str| diesel::select(sql::<Text>(text));
            assert!(read("'issued '").get_result::<PolicyStatus>(conn).is_err());
            assert!(read("'closed'").get_result::<ClaimStatus>(conn).is_err());
            assert!(read("'city'").get_result::<AreaLevel>(conn).is_err());
            assert!(read("'yesterday'").get_result::<Instant>(conn).is_err());
            assert!(read("'2026-02-30'").get_result::<Day>(conn).is_err());
        }
    }
}
