//! `/api/v1/growers`: list, create, read (with plots and policies), update, delete.

use crate::app::{self, growers};
use crate::web::api::{created, ok, Data, Reply};
use crate::web::session::ApiUser;
use actix_web::{web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/growers", web::get().to(list_growers))
        .route("/growers", web::post().to(create_grower))
        .route("/growers/{id}", web::get().to(get_grower))
        .route("/growers/{id}", web::put().to(update_grower))
        .route("/growers/{id}", web::delete().to(delete_grower));
}

async fn list_growers(state: Data, user: ApiUser, f: web::Query<growers::GrowerFilter>) -> Reply {
    let actor = user.0;
    let f = f.into_inner();
    ok(state.run(move |c| growers::list(c, &actor, &f)).await?)
}

async fn create_grower(state: Data, user: ApiUser, body: web::Json<growers::GrowerInput>) -> Reply {
    let actor = user.0;
    let input = body.into_inner();
    app::fault::point("grower_handler", &input.name);
    created(
        state
            .run(move |c| growers::create(c, &actor, &input))
            .await?,
    )
}

async fn get_grower(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    ok(state.run(move |c| super::detail(c, &actor, id)).await?)
}

async fn update_grower(
    state: Data,
    user: ApiUser,
    id: web::Path<i64>,
    body: web::Json<growers::GrowerInput>,
) -> Reply {
    let actor = user.0;
    let (id, input) = (id.into_inner(), body.into_inner());
    ok(state
        .run(move |c| growers::update(c, &actor, id, &input))
        .await?)
}

async fn delete_grower(state: Data, user: ApiUser, id: web::Path<i64>) -> Reply {
    let actor = user.0;
    let id = id.into_inner();
    state.run(move |c| growers::delete(c, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
