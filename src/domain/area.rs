//! The administrative levels of the county: county → township → village.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    County,
    Township,
    Village,
}

impl AreaLevel {
    pub const ALL: [AreaLevel; 3] = [AreaLevel::County, AreaLevel::Township, AreaLevel::Village];

    /// The stored form (`areas.level`) and the JSON form.
    pub const fn as_str(self) -> &'static str {
        match self {
            AreaLevel::County => "county",
            AreaLevel::Township => "township",
            AreaLevel::Village => "village",
        }
    }

    /// What people read.
    pub const fn name(self) -> &'static str {
        match self {
            AreaLevel::County => "县",
            AreaLevel::Township => "乡镇",
            AreaLevel::Village => "村",
        }
    }

    /// The level an area of this level hangs under (none for the county).
    pub const fn parent(self) -> Option<AreaLevel> {
        match self {
            AreaLevel::County => None,
            AreaLevel::Township => Some(AreaLevel::County),
            AreaLevel::Village => Some(AreaLevel::Township),
        }
    }

    pub fn parse(s: &str) -> Option<AreaLevel> {
        AreaLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The stored forms, for a message listing what is accepted.
    pub fn choices() -> String {
        AreaLevel::ALL.map(AreaLevel::as_str).join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip_and_parents_go_up_one_level() {
        for l in AreaLevel::ALL {
            assert_eq!(AreaLevel::parse(l.as_str()), Some(l));
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
        }
        assert_eq!(AreaLevel::parse("Township"), None);
        assert_eq!(AreaLevel::parse("city"), None);
        assert_eq!(AreaLevel::Village.parent(), Some(AreaLevel::Township));
        assert_eq!(AreaLevel::Township.parent(), Some(AreaLevel::County));
        assert_eq!(AreaLevel::County.parent(), None);
        assert_eq!(AreaLevel::choices(), "county/township/village");
    }
}
