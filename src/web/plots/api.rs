//! `/api/v1/plots`: list, create, read, update, delete.

use crate::app::plots;
use crate::web::api::{created, ok, Data, Reply};
use crate::web::session::ApiUser;
use actix_web::{web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/plots", web::get().to(list_plots))
        .route("/plots", web::post().to(create_plot))
        .route("/plots/{id}", web::get().to(get_plot))
        .route("/plots/{id}", web::put().to(update_plot))
        .route("/plots/{id}", web::delete().to(delete_plot));
}

async fn list_plots(state: Data, user: ApiUser, f: web::Query<plots::PlotFilter>) -> Reply {
    let actor = user.0;
    let f = f.into_inner();
    ok(state.run(move |c| plots::list(c, &actor, &f)).await?)
}

async fn create_plot(state: Data, user: ApiUser, body: web::Json<plots::PlotInput>) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    created(state.run(move |c| plots::create(c, &actor, &input)).await?)
}

async fn get_plot(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| plots::get_view(c, &actor, id)).await?)
}

async fn update_plot(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<plots::PlotInput>,
) -> Reply {
    let actor = user.0;
    let (id, input) = (id.into_inner(), body.into_inner());
    ok(state
        .run(move |c| plots::update(c, &actor, id, &input))
        .await?)
}

async fn delete_plot(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    state.run(move |c| plots::delete(c, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
