//! The pages that change a record with an edit form (a grower, a plot):
//! create, edit, update and delete are the same steps for each; what differs
//! (the use cases, the form, the messages) is the record's `Record` impl.

use crate::app::Actor;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::web::form::RecordForm;
use crate::web::page::{done, refuse_unless_editor, Data, Form};
use crate::web::session::PageUser;
use actix_session::Session;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

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
    fn create(c: &mut DbConn, actor: &Actor, input: &Self::Input) -> AppResult<Self::Saved>;
    fn update(
        c: &mut DbConn,
        actor: &Actor,
        id: i64,
        input: &Self::Input,
    ) -> AppResult<Self::Saved>;
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
pub(crate) async fn create<R: Record>(
    state: Data,
    session: Session,
    user: PageUser,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let input = or_error_page!(state, session, actor, R::input(&form));
    let record_form = R::form(&input, R::PATH.to_string());
    let res = state
        .run_as(&actor, move |c, a| R::create(c, a, &input))
        .await;
    let values = json!(form.into_inner());
    record_form
        .saved(&state, &session, &actor, res, values, R::created)
        .await
}

/// GET `PATH/{id}/edit`: the form filled with the record.
pub(crate) async fn edit<R: Record>(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    let id = id_or_404!(state, session, actor, id, R::NOUN);
    if let Some(refused) = refuse_unless_editor(&state, &session, &actor) {
        return refused;
    }
    let (values, record_form) = or_error_page!(
        state,
        session,
        actor,
        state
            .run_as(&actor, move |c, a| R::edit_form(c, a, id))
            .await
    );
    record_form.show(&state, &session, &actor, values).await
}

/// POST `PATH/{id}`: the record changed as the form says.
pub(crate) async fn update<R: Record>(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, R::NOUN);
    let input = or_error_page!(state, session, actor, R::input(&form));
    let location = format!("{}/{id}", R::PATH);
    let record_form = R::form(&input, location.clone());
    let res = state
        .run_as(&actor, move |c, a| R::update(c, a, id, &input))
        .await;
    let values = R::typed(form.into_inner(), id);
    record_form
        .saved(&state, &session, &actor, res, values, |saved| {
            (R::updated(saved), location)
        })
        .await
}

/// POST `PATH/{id}/delete`.
pub(crate) async fn delete<R: Record>(
    state: Data,
    session: Session,
    user: PageUser,
    id: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let actor = actor_or_login!(user);
    csrf_or_refuse!(state, session, Some(&actor), form);
    let id = id_or_404!(state, session, actor, id, R::NOUN);
    let res = state.run_as(&actor, move |c, a| R::delete(c, a, id)).await;
    done(&state, &session, &actor, res, |next| next)
}
