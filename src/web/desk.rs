//! What every page handler starts from: `Desk`, the state, the session and the
//! logged-in person, extracted once (a visitor who is not logged in is sent to
//! /login before the handler runs), with the steps a page takes before its
//! work (CSRF, the record's id, the editor's role) as methods that end the
//! request early with the page they call for (`?` on a [`Page`]).

use super::page::{self, errors_json, flash, redirect, set_key, xlsx, Data};
use super::session::{check_csrf, PageUser};
use crate::app::Actor;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use actix_session::Session;
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

/// A page request from a logged-in person.
pub(crate) struct Desk {
    pub state: Data,
    pub session: Session,
    pub actor: Actor,
}

/// A page answered before its handler's work was done: the login redirect,
/// the CSRF refusal, the "not found" or "forbidden" page.
/// (Boxed: an `Err` this large would make every `Page` as large.)
pub(crate) struct Answered(Box<HttpResponse>);

/// What a page handler answers; `Err` is a page given early, sent as it is.
pub(crate) type Page = Result<HttpResponse, Answered>;

impl Answered {
    /// A page, given as the early answer.
    pub(crate) fn from_page(page: Page) -> Answered {
        page.unwrap_or_else(|early| *early.0).into()
    }
}

impl From<HttpResponse> for Answered {
    fn from(response: HttpResponse) -> Answered {
        Answered(Box::new(response))
    }
}

impl From<Answered> for actix_web::Error {
    fn from(a: Answered) -> actix_web::Error {
        InternalError::from_response("answered early", *a.0).into()
    }
}

impl FromRequest for Desk {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Desk, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = PageUser::from_request(req, payload);
        let session = Session::from_request(req, payload).into_inner();
        let state = req.app_data::<Data>().cloned();
        // Someone who must choose a new password sees only the page for it.
        let password_page = req.path() == super::accounts::PASSWORD_PATH;
        Box::pin(async move {
            let user = user.await?;
            if user.0.is_some() && user.1 && !password_page {
                return Err(Answered::from(redirect(super::accounts::PASSWORD_PATH)).into());
            }
            match (user.0, session, state) {
                (Some(actor), Ok(session), Some(state)) => Ok(Desk {
                    state,
                    session,
                    actor,
                }),
                _ => Err(Answered::from(redirect("/login")).into()),
            }
        })
    }
}

impl Desk {
    /// Run a use case as this person.
    pub(crate) async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &Actor) -> AppResult<T> + Send + 'static,
    {
        self.state.run_as(&self.actor, f).await
    }

    /// A template in the layout, for this person.
    pub(crate) fn render(&self, name: &str, status: StatusCode, ctx: Value) -> Page {
        let actor = Some(&self.actor);
        Ok(page::page(
            &self.state,
            &self.session,
            actor,
            name,
            status,
            ctx,
        ))
    }

    /// The error page for `err`.
    pub(crate) fn error(&self, err: &AppError) -> Page {
        Ok(self.error_page(err))
    }

    /// The error page for `err`, as an early answer.
    pub(crate) fn fail(&self, err: &AppError) -> Answered {
        self.error_page(err).into()
    }

    fn error_page(&self, err: &AppError) -> HttpResponse {
        page::error_page(&self.state, &self.session, Some(&self.actor), err)
    }

    /// The value, or the error page.
    pub(crate) fn or_fail<T>(&self, res: AppResult<T>) -> Result<T, Answered> {
        res.map_err(|e| self.fail(&e))
    }

    /// A posted form must carry this session's CSRF token; without it the
    /// refusal page, and nothing is changed.
    pub(crate) fn csrf(&self, form: &HashMap<String, String>) -> Result<(), Answered> {
        self.or_fail(check_csrf(&self.session, form.get("csrf_token")))
    }

    /// The numeric id of the path, or the page saying `what` is not found.
    pub(crate) fn id(&self, raw: &str, what: &str) -> Result<i64, Answered> {
        raw.parse()
            .map_err(|_| self.fail(&AppError::not_found(what)))
    }

    /// The forbidden page, unless this person may edit growers and plots.
    pub(crate) fn editor(&self) -> Result<(), Answered> {
        if self.actor.can_edit_enrollment() {
            Ok(())
        } else {
            Err(self.fail(&AppError::forbidden()))
        }
    }

    /// A page from a use case's result: the template on success, the error page otherwise.
    pub(crate) fn show(&self, name: &str, res: AppResult<Value>) -> Page {
        match res {
            Ok(ctx) => self.render(name, StatusCode::OK, ctx),
            Err(e) => self.error(&e),
        }
    }

    /// The template with the context the use case `load` gives, or the error page.
    pub(crate) async fn show_with<F>(&self, name: &str, load: F) -> Page
    where
        F: FnOnce(&mut DbConn, &Actor) -> AppResult<Value> + Send + 'static,
    {
        let res = self.run(load).await;
        self.show(name, res)
    }

    /// The Excel file the use case `write` names and writes, or the error page.
    pub(crate) async fn download<F>(&self, write: F) -> Page
    where
        F: FnOnce(&mut DbConn, &Actor) -> AppResult<(String, Vec<u8>)> + Send + 'static,
    {
        let res = self.run(write).await;
        self.xlsx(res)
    }

    /// The Excel file (its name and bytes), or the error page.
    pub(crate) fn xlsx(&self, res: AppResult<(String, Vec<u8>)>) -> Page {
        match res {
            Ok((name, bytes)) => Ok(xlsx(&name, bytes)),
            Err(e) => self.error(&e),
        }
    }

    /// A page with a form, its context loaded (`res`): with the errors of the
    /// `rejected` form and its status (none on a plain GET: 200), and the
    /// `values` typed (a null: the page keeps no form values); or the error page.
    pub(crate) fn form_page(
        &self,
        name: &str,
        res: AppResult<Value>,
        rejected: Option<AppError>,
        values: Value,
    ) -> Page {
        let mut ctx = match res {
            Ok(ctx) => ctx,
            Err(e) => return self.error(&e),
        };
        set_key(
            &mut ctx,
            "errors",
            json!(rejected.as_ref().map(errors_json)),
        );
        if !values.is_null() {
            set_key(&mut ctx, "values", values);
        }
        let status = rejected.as_ref().map_or(StatusCode::OK, AppError::status);
        self.render(name, status, ctx)
    }

    /// After a page form: on success flash and go on (`next`); an error that
    /// `again` holds for (a person's mistake) shows the form again (`retry`);
    /// anything else is the error page.
    pub(crate) async fn answer_form<T, Fut>(
        &self,
        res: AppResult<T>,
        again: fn(&AppError) -> bool,
        retry: impl FnOnce(AppError) -> Fut,
        next: impl FnOnce(T) -> (String, String),
    ) -> Page
    where
        Fut: Future<Output = Page>,
    {
        match res {
            Err(e) if again(&e) => retry(e).await,
            res => self.done(res, next),
        }
    }

    /// After a form that changed something: on success flash the message and
    /// go to the location `next` gives; otherwise the error page.
    pub(crate) fn done<T>(
        &self,
        res: AppResult<T>,
        next: impl FnOnce(T) -> (String, String),
    ) -> Page {
        match res {
            Ok(v) => {
                let (message, location) = next(v);
                flash(&self.session, &message);
                Ok(redirect(&location))
            }
            Err(e) => self.error(&e),
        }
    }
}
