//! Web pages of the registry and the F1 app, rendered on the server.
//!
//! [`router`] holds every page and the embedded static assets; the server merges it with the
//! tracking API (`pitwall_registry::app_with`). Pages read through the registry's services,
//! the same operations the API handlers call, never through HTTP to the server itself. Every
//! view is a URL (its state in the query string); changes are same-origin POST forms answered
//! with a redirect.

#![forbid(unsafe_code)]

mod assets;
mod chart;
mod error;
mod fmt;
mod layout;
mod mlmodel;
mod origin;
mod pages;
mod query;

pub use error::PageError;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use pitwall_registry::AppState;

/// The pages, their form targets and the static assets, over the registry's state. Its
/// fallback is the HTML 404 page.
pub fn router() -> Router<AppState> {
    use pages::{compare, experiments, home, models, runs, versions};
    Router::new()
        .route("/", get(home::home))
        .route("/lake", get(home::lake))
        .route("/apps", get(home::apps))
        .route("/pipelines", get(home::pipelines))
        .route("/experiments", get(experiments::list))
        .route("/experiments/{id}", get(experiments::runs_table))
        .route("/experiments/{id}/runs.csv", get(experiments::runs_csv))
        .route("/experiments/{id}/runs/{run}", get(runs::page))
        .route("/experiments/{id}/runs/{run}/description", post(runs::set_description))
        .route("/experiments/{id}/runs/{run}/tags", post(runs::set_tag))
        .route("/experiments/{id}/runs/{run}/tags/delete", post(runs::delete_tag))
        .route("/compare-runs", get(compare::runs))
        .route("/metric/{key}", get(compare::metric))
        .route("/models", get(models::list))
        .route("/models/{name}", get(models::page))
        .route("/models/{name}/description", post(models::set_description))
        .route("/models/{name}/tags", post(models::set_tag))
        .route("/models/{name}/tags/delete", post(models::delete_tag))
        .route("/models/{name}/versions/{version}", get(versions::page))
        .route("/models/{name}/versions/{version}/description", post(versions::set_description))
        .route("/models/{name}/versions/{version}/tags", post(versions::set_tag))
        .route("/models/{name}/versions/{version}/tags/delete", post(versions::delete_tag))
        .route("/models/{name}/versions/{version}/aliases", post(versions::set_alias))
        .route("/models/{name}/versions/{version}/aliases/delete", post(versions::delete_alias))
        .route("/models/{name}/versions/{version}/stage", post(versions::transition_stage))
        .route("/models/{name}/versions/{version}/delete", post(versions::delete))
        .route("/compare-model-versions", get(compare::model_versions))
        .route("/static/{hash}/{*file}", get(assets::serve))
        .fallback(error::not_found_page)
        .layer(middleware::from_fn(error::render_internal_errors))
        .layer(middleware::from_fn(content_security_policy))
}

/// Scripts only from our own files, never inline: should a name ever slip through unescaped,
/// the browser still refuses to run it. Forms post only to this server.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

async fn content_security_policy(req: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let mut response = next.run(req).await;
    response
        .headers_mut()
        .insert(axum::http::header::CONTENT_SECURITY_POLICY, axum::http::HeaderValue::from_static(CSP));
    response
}
