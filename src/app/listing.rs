//! Sorting of the lists (growers, plots, policies): a whitelist of sort keys
//! per list, each with its Chinese name, and a direction. The page and the
//! API parse `sort` and `dir` through here; what is not on the list is
//! refused with the keys that are (the page falls back to the default).

use crate::error::{AppError, AppResult, ErrorCode};

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
}

impl Dir {
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Asc => "asc",
            Dir::Desc => "desc",
        }
    }
}

/// The sort keys of one list: `(code, Chinese name, key)`, the default
/// one (listed first), and the direction it starts in.
pub trait SortKey: Copy + PartialEq + 'static {
    const KEYS: &'static [(&'static str, &'static str, Self)];
    const DEFAULT: Self;
    const DEFAULT_DIR: Dir = Dir::Asc;
}

/// A list's order: a whitelisted key and a direction (rows with the same
/// key follow their id in the same direction, so pages never overlap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<K> {
    pub key: K,
    pub dir: Dir,
}

fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

impl<K: SortKey> Sort<K> {
    /// The default order of the list.
    pub fn default_order() -> Sort<K> {
        Sort {
            key: K::DEFAULT,
            dir: K::DEFAULT_DIR,
        }
    }

    /// `sort` and `dir` as given (blank is the default); an unknown key or
    /// direction is refused naming what is accepted.
    pub fn parse(sort: Option<&str>, dir: Option<&str>) -> AppResult<Sort<K>> {
        let mut errors = Vec::new();
        let key = match given(sort) {
            None => Some(K::DEFAULT),
            Some(s) => {
                let found = K::KEYS.iter().find(|(c, _, _)| *c == s).map(|k| k.2);
                if found.is_none() {
                    let choices: Vec<String> = K::KEYS
                        .iter()
                        .map(|(c, n, _)| format!("{c}（{n}）"))
                        .collect();
                    errors.push(crate::error::FieldError::new(
                        "sort",
                        ErrorCode::QueryInvalid,
                        format!(
                            "排序字段（sort）“{}”无效，可选：{}",
                            crate::domain::number::shown(s),
                            choices.join("、")
                        ),
                    ));
                }
                found
            }
        };
        let dir = match given(dir) {
            None => Some(if given(sort).is_some() {
                Dir::Asc
            } else {
                K::DEFAULT_DIR
            }),
            Some("asc") => Some(Dir::Asc),
            Some("desc") => Some(Dir::Desc),
            Some(d) => {
                errors.push(crate::error::FieldError::new(
                    "dir",
                    ErrorCode::QueryInvalid,
                    format!(
                        "排序方向（dir）“{}”无效，可选：asc（升序）、desc（降序）",
                        crate::domain::number::shown(d)
                    ),
                ));
                None
            }
        };
        match (key, dir) {
            (Some(key), Some(dir)) if errors.is_empty() => Ok(Sort { key, dir }),
            _ => Err(AppError::Validation(errors)),
        }
    }

    /// The key's code (`name`, `policy_no` ...).
    pub fn code(&self) -> &'static str {
        K::KEYS.iter().find(|k| k.2 == self.key).map_or("", |k| k.0)
    }
}

/// The most characters a search box takes.
pub const MAX_SEARCH_CHARS: usize = 100;

/// A search box's text, refused when too long or holding control
/// characters (PostgreSQL refuses NUL in text); blank is no search.
pub fn search_text(q: Option<&str>) -> AppResult<Option<&str>> {
    let Some(q) = q.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > MAX_SEARCH_CHARS || q.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "q",
            ErrorCode::QueryInvalid,
            format!("查询内容（q）须为不超过{MAX_SEARCH_CHARS}个字的文字"),
        ));
    }
    Ok(Some(q))
}

/// `like` text: what was typed, without the wildcards of LIKE.
pub fn contains(typed: &str) -> String {
    format!("%{}%", typed.replace(['%', '_', '\\'], ""))
}

/// Order a boxed query by `$col` in `$dir`, then by `$id` the same way.
macro_rules! order_by {
    ($q:expr, $dir:expr, $id:expr; $($col:expr),+) => {
        match $dir {
            $crate::app::listing::Dir::Asc => $q.order_by(($($col.asc(),)+ $id.asc())),
            $crate::app::listing::Dir::Desc => $q.order_by(($($col.desc(),)+ $id.desc())),
        }
    };
}
pub(crate) use order_by;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum K {
        A,
        B,
    }
    impl SortKey for K {
        const KEYS: &'static [(&'static str, &'static str, K)] =
            &[("a", "甲", K::A), ("b", "乙", K::B)];
        const DEFAULT: K = K::A;
    }

    #[test]
    fn keys_are_whitelisted_and_directions_two() {
        assert_eq!(Sort::<K>::parse(None, None).unwrap(), Sort::default_order());
        assert_eq!(
            Sort::<K>::parse(Some("b"), Some("desc")).unwrap(),
            Sort {
                key: K::B,
                dir: Dir::Desc
            }
        );
        assert_eq!(Sort::<K>::parse(Some(" "), Some("")).unwrap().key, K::A);
        let e = Sort::<K>::parse(Some("name; DROP"), Some("up")).unwrap_err();
        assert_eq!(e.fields().len(), 2);
        assert!(e.fields()[0].message.contains("a（甲）"));
        assert_eq!(e.fields()[1].field, "dir");
        assert_eq!(contains("50%_"), "%50%");
        assert_eq!(search_text(Some("  ")).unwrap(), None);
        assert_eq!(search_text(Some(" 张 ")).unwrap(), Some("张"));
        assert!(search_text(Some("a\0b")).is_err());
        assert!(search_text(Some(&"长".repeat(101))).is_err());
    }
}
