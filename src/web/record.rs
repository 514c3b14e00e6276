//! The pages that change a record with an edit form (a grower, a plot):
//! create, edit, update and delete are the same steps for each; what differs
//! (the use cases, the form, the messages) is the record's `Record` impl.

use crate::app::Actor;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::web::desk::{Desk, Page};
use crate::web::form::RecordForm;
use crate::web::page::Form;
use actix_web::web;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The use case that creates a record `R` from its input.
pub(crate) type Create<R> =
    fn(&mut DbConn, &Actor, &<R as Record>::Input) -> AppResult<<R as Record>::Saved>;
/// The use case that updates record `id` of `R` from its input.
pub(crate) type Update<R> =
    fn(&mut DbConn, &Actor, i64, &<R as Record>::Input) -> AppResult<<R as Record>::Saved>;

pub(crate) trait Record: 'static {
    /// What the record is called on the "not found" page.
    const NOUN: &'static str;
    /// Its pages: the form posts new records here, `PATH/{id}` is one record.
    const PATH: &'static str;
    /// The use cases' input, read from the posted form.
    type Input: Send + 'static;
    /// What the create and update use cases give back.
    type Saved: Send + 'static;

    fn input(form: &HashMap<String, String>) -> AppResult<Self::Input>;
    /// The edit form for `input`, posting to `action`.
    fn form(input: &Self::Input, action: String) -> RecordForm;
    /// The use cases that create a record and update record `id`.
    const CREATE: Create<Self>;
    const UPDATE: Update<Self>;
    /// The message and the page after a create.
    fn created(saved: Self::Saved) -> (String, String);
    /// The message after an update of record `id`.
    fn updated(saved: Self::Saved) -> String;
    /// What an update form rejected shows again: what was typed.
    fn typed(form: HashMap<String, String>, _id: i64) -> Value {
        json!(form)
    }
    /// Record `id` as its edit form shows it, and that form.
    fn edit_form(c: &mut DbConn, actor: &Actor, id: i64) -> AppResult<(Value, RecordForm)>;
    /// Delete record `id`: the message and the page to go to.
    fn delete(c: &mut DbConn, actor: &Actor, id: i64) -> AppResult<(String, String)>;
}

/// POST `PATH`: a new record from the form.
pub(crate) async fn create<R: Record>(desk: Desk, form: Form) -> Page {
    desk.csrf(&form)?;
    let input = desk.or_fail(R::input(&form))?;
    let record_form = R::form(&input, R::PATH.to_string());
    let res = desk.run(move |c, a| R::CREATE(c, a, &input)).await;
    let values = json!(form.into_inner());
    record_form.saved(&desk, res, values, R::created).await
}

/// GET `PATH/{id}/edit`: the form filled with the record.
pub(crate) async fn edit<R: Record>(desk: Desk, id: web::Path<String>) -> Page {
    let id = desk.id(&id, R::NOUN)?;
    desk.editor()?;
    let found = desk.run(move |c, a| R::edit_form(c, a, id)).await;
    let (values, record_form) = desk.or_fail(found)?;
    record_form.show(&desk, values).await
}

/// POST `PATH/{id}`: the record changed as the form says.
pub(crate) async fn update<R: Record>(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    desk.csrf(&form)?;
    let id = desk.id(&id, R::NOUN)?;
    let input = desk.or_fail(R::input(&form))?;
    let location = format!("{}/{id}", R::PATH);
    let record_form = R::form(&input, location.clone());
    let res = desk.run(move |c, a| R::UPDATE(c, a, id, &input)).await;
    let values = R::typed(form.into_inner(), id);
    let next = |saved| (R::updated(saved), location);
    record_form.saved(&desk, res, values, next).await
}

/// POST `PATH/{id}/delete`.
pub(crate) async fn delete<R: Record>(desk: Desk, id: web::Path<String>, form: Form) -> Page {
    desk.csrf(&form)?;
    let id = desk.id(&id, R::NOUN)?;
    let res = desk.run(move |c, a| R::delete(c, a, id)).await;
    desk.done(res, |next| next)
}
