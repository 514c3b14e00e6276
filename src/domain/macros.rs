//! The shapes the domain's small types share, written once: enums stored and
//! sent as a fixed code, newtypes stored in one column and sent as text, and
//! the error a text that names no value gives.

/// An error holding the text that could not be read, with its message
/// (`{0}` is that text).
macro_rules! text_error {
    ($(#[$meta:meta])* $err:ident, $msg:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $err(pub String);

        impl ::std::fmt::Display for $err {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, $msg, self.0)
            }
        }

        impl ::std::error::Error for $err {}
    };
}
pub(crate) use text_error;

/// An enum whose values are stored and sent in JSON as a fixed code
/// (`Draft = "draft"`), optionally with the name people read
/// (`Draft = "draft" / "待收费"`). Gives `ALL` (in the order written),
/// `as_str`, `name` (when every value has one), `parse`, `FromStr`,
/// `Display` (the code), serde in the code, comparison with a code, and
/// the error for an unknown code.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal / $label:literal,)+
        }
        $(#[$emeta:meta])*
        unknown: $err:ident($msg:literal);
    ) => {
        $crate::domain::macros::text_enum! {
            $(#[$meta])*
            pub enum $name {
                $($(#[$vmeta])* $variant = $code,)+
            }
            $(#[$emeta])*
            unknown: $err($msg);
        }

        impl $name {
            /// What people read.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal,)+
        }
        $(#[$emeta:meta])*
        unknown: $err:ident($msg:literal);
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant,)+
        }

        $crate::domain::macros::text_error!($(#[$emeta])* $err, $msg);

        impl $name {
            /// Every value, in the order the pages list them.
            pub const ALL: [$name; [$($name::$variant),+].len()] = [$($name::$variant),+];

            /// The code stored and sent in JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            pub fn parse(s: &str) -> Result<$name, $err> {
                $name::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $err(s.to_string()))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<$name, $err> {
                $name::parse(s)
            }
        }

        /// Compare with a code (`view.status == "reported"`), as the code
        /// did while these were strings.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use text_enum;

/// A value stored in one database column (`#[diesel(sql_type = …)]` comes
/// with the struct) and compared, ordered and hashed as a whole.
macro_rules! stored_value {
    ($(#[$meta:meta])* $vis:vis struct $name:ident $($body:tt)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(::diesel::AsExpression, ::diesel::FromSqlRow)]
        $(#[$meta])*
        $vis struct $name $($body)*
    };
}
pub(crate) use stored_value;

/// Serde as text: out as the value's `Display` form, in through `$parse`
/// (whose error becomes the deserializer's message). Amounts and areas so
/// travel as strings no client reads as floats.
macro_rules! serde_as_text {
    ($name:ty, $parse:path) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                $parse(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_as_text;

/// `Sum` (of values and of references) for a newtype over an integer.
macro_rules! sum_newtype {
    ($name:ident) => {
        impl ::std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(iter: I) -> $name {
                $name(iter.map(|v| v.0).sum())
            }
        }

        impl<'a> ::std::iter::Sum<&'a $name> for $name {
            fn sum<I: Iterator<Item = &'a $name>>(iter: I) -> $name {
                $name(iter.map(|v| v.0).sum())
            }
        }

        impl ::std::ops::Add for $name {
            type Output = $name;
            fn add(self, o: $name) -> $name {
                $name(self.0 + o.0)
            }
        }
    };
}
pub(crate) use sum_newtype;
