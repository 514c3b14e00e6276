//! Page forms: the posted fields read into the same input structs the JSON API
//! takes (`from_form`), and the edit form of a record shown again after a
//! person's mistake (`RecordForm`).

use super::desk::{Desk, Page};
use super::page::{errors_json, is_user_error, set_key};
use crate::app::Actor;
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use actix_web::http::StatusCode;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The form's fields as `T`, read the way a form means them: text as it was
/// typed, an empty or blank optional field absent, numbers trimmed. A field
/// whose text does not fit its type (a number that does not parse) counts as
/// not sent, so `T`'s default applies, as the use case then reports what is
/// missing in Chinese. Fields `T` does not name (the CSRF token) are ignored.
pub(crate) fn from_form<T: DeserializeOwned>(form: &HashMap<String, String>) -> AppResult<T> {
    let mut left_out: HashSet<&str> = HashSet::new();
    loop {
        let fields = FormFields {
            entries: form
                .iter()
                .filter(|(k, _)| !left_out.contains(k.as_str()))
                .collect::<Vec<_>>()
                .into_iter(),
            value: None,
        };
        match T::deserialize(fields) {
            Ok(v) => return Ok(v),
            Err(FormError {
                field: Some(name), ..
            }) if !left_out.contains(name.as_str()) => {
                let Some((key, _)) = form.get_key_value(&name) else {
                    return Err(unreadable(&name));
                };
                left_out.insert(key.as_str());
            }
            Err(e) => return Err(unreadable(&e.message)),
        }
    }
}

fn unreadable(detail: &str) -> AppError {
    AppError::invalid(
        "body",
        ErrorCode::FormInvalid,
        format!("表单内容无法读取：{detail}"),
    )
}

#[derive(Debug)]
struct FormError {
    /// The field whose value did not fit, when the error is about one.
    field: Option<String>,
    message: String,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormError {}

impl de::Error for FormError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FormError {
            field: None,
            message: msg.to_string(),
        }
    }
}

/// The whole form as a map of field name to text.
struct FormFields<'a> {
    entries: std::vec::IntoIter<(&'a String, &'a String)>,
    /// The current field, between its key and its value.
    value: Option<(&'a str, &'a str)>,
}

impl<'de> de::Deserializer<'de> for FormFields<'_> {
    type Error = FormError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for FormFields<'_> {
    type Error = FormError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FormError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some((k.as_str(), v.as_str()));
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, FormError> {
        let (name, text) = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("value before key"))?;
        seed.deserialize(FieldText(text)).map_err(|e| FormError {
            field: Some(name.to_owned()),
            message: e.message,
        })
    }
}

/// One field's text, read as the type asks.
struct FieldText<'a>(&'a str);

macro_rules! parsed {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
            match self.0.trim().parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(e) => Err(de::Error::custom(e)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for FieldText<'_> {
    type Error = FormError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        visitor.visit_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        if self.0.trim().is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FormError> {
        visitor.visit_newtype_struct(self)
    }

    parsed! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
        deserialize_bool => visit_bool: bool,
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

type Loader = Box<dyn FnOnce(&mut DbConn, &Actor) -> AppResult<Value> + Send>;

/// A record's edit form (a grower, a plot): its template, where it posts, and
/// what it shows besides the values (villages, schemes ...).
pub(crate) struct RecordForm {
    template: &'static str,
    action: String,
    load: Loader,
}

impl RecordForm {
    pub(crate) fn new(
        template: &'static str,
        action: impl Into<String>,
        load: impl FnOnce(&mut DbConn, &Actor) -> AppResult<Value> + Send + 'static,
    ) -> RecordForm {
        RecordForm {
            template,
            action: action.into(),
            load: Box::new(load),
        }
    }

    /// The form filled with `values`, with `errors` beside the fields.
    pub(crate) async fn render(
        self,
        desk: &Desk,
        values: Value,
        errors: Option<AppError>,
        status: StatusCode,
    ) -> Page {
        let mut ctx = match desk.run(self.load).await {
            Ok(ctx) => ctx,
            Err(e) => return desk.error(&e),
        };
        set_key(&mut ctx, "values", values);
        set_key(&mut ctx, "action", json!(self.action));
        set_key(&mut ctx, "errors", json!(errors.as_ref().map(errors_json)));
        desk.render(self.template, status, ctx)
    }

    /// The empty or filled form of a plain GET.
    pub(crate) async fn show(self, desk: &Desk, values: Value) -> Page {
        self.render(desk, values, None, StatusCode::OK).await
    }

    /// After the form was saved: on success flash and go on (`next`); a
    /// person's mistake shows the form again (422) with what they typed
    /// (`values`); anything else is the error page.
    pub(crate) async fn saved<T>(
        self,
        desk: &Desk,
        res: AppResult<T>,
        values: Value,
        next: impl FnOnce(T) -> (String, String),
    ) -> Page {
        let retry = |e| {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            self.render(desk, values, Some(e), status)
        };
        desk.answer_form(res, is_user_error, retry, next).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Input {
        #[serde(default)]
        name: String,
        #[serde(default)]
        id: i64,
        #[serde(default)]
        version: Option<i32>,
        #[serde(default)]
        note: Option<String>,
        #[serde(default)]
        extra: std::collections::BTreeMap<String, Value>,
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn text_as_typed_numbers_trimmed_unknown_fields_ignored() {
        let got: Input = from_form(&form(&[
            ("name", " 张三 "),
            ("id", " 7 "),
            ("version", "3"),
            ("note", "x"),
            ("csrf_token", "abc"),
        ]))
        .unwrap();
        assert_eq!(got.name, " 张三 ");
        assert_eq!(
            (got.id, got.version, got.note.as_deref()),
            (7, Some(3), Some("x"))
        );
    }

    #[test]
    fn empty_optional_fields_are_absent() {
        let got: Input = from_form(&form(&[("version", ""), ("note", "  ")])).unwrap();
        assert_eq!(got, Input::default());
    }

    #[test]
    fn a_value_that_does_not_fit_counts_as_not_sent() {
        let got: Input = from_form(&form(&[
            ("name", "李四"),
            ("id", "abc"),
            ("version", "1.5"),
            ("extra", "not a map"),
        ]))
        .unwrap();
        assert_eq!(
            got,
            Input {
                name: "李四".into(),
                ..Input::default()
            }
        );
    }
}
