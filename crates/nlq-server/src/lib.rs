//! nlq-server: the HTTP API and the chat page, as an actix-web app built here so tests make it
//! in-process and the binary only reads its configuration.
//!
//! ```text
//!  request ─► middleware: request id, API key / admin token, rate limit
//!          ─► route (routes/*) ─► Service: question + conversation ─► Pipeline ─► Answer
//!                                          approval rule, byte budget, AnswerStore (SQLite)
//!          ◄─ JSON, or Server-Sent Events (one per stage, `done` last); errors as
//!             {error: {code, message, request_id}}, 5xx without internals
//! ```

pub mod answer;
pub mod chart;
pub mod config;
pub mod error;
pub mod flow;
pub mod metrics;
pub mod middleware;
pub mod routes;
pub mod security;
pub mod service;
pub mod store;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};

pub use answer::QueryResponse;
pub use config::{Limits, ServerConfig};
pub use error::ServerError;
pub use service::{Readiness, Service};
pub use store::postgres::{PostgresConfig, PostgresStore};
pub use store::sqlite::SqliteStore;
pub use store::{AnswerStore, Store, UsageStore};

/// The whole app over `service`.
pub fn app(
    service: web::Data<Service>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limits = service.config.limits.clone();
    let cors =
        service
            .config
            .cors_origins
            .iter()
            .fold(actix_cors::Cors::default(), |cors, origin| {
                cors.allowed_origin(origin)
                    .allowed_methods(["GET", "POST", "PUT", "DELETE"])
                    .allowed_headers(["authorization", "content-type"])
                    .max_age(3600)
            });
    App::new()
        .app_data(service)
        .app_data(
            web::JsonConfig::default()
                .limit(limits.max_body_bytes)
                .error_handler(middleware::json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(middleware::query_error))
        .wrap(actix_web::middleware::from_fn(middleware::around))
        .wrap(cors)
        .service(routes::health::healthz)
        .service(routes::health::readyz)
        .service(routes::health::metrics)
        .service(routes::page::index)
        .service(routes::page::file)
        .service(routes::page::openapi)
        .service(routes::stream::stream)
        .service(routes::query::query)
        .service(routes::query::oneshot)
        .service(routes::query::run)
        .service(routes::query::demo_questions)
        .service(routes::query::get_answer)
        .service(routes::query::conversation)
        .service(routes::network::segments)
        .service(routes::network::customer_flow)
        .service(routes::knowledge::list)
        .service(routes::knowledge::teach)
        .service(routes::knowledge::verify)
        .service(routes::knowledge::edit)
        .service(routes::knowledge::remove)
        .service(routes::admin::status)
        .service(routes::admin::sync)
        .default_service(web::to(not_found))
}

/// A known path with a method it does not take is 405 (with `Allow`); anything else is 404.
async fn not_found(
    request: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, ServerError> {
    let path = request.path();
    const PATHS: &[(&str, &str)] = &[
        ("/", "GET"),
        ("/healthz", "GET"),
        ("/readyz", "GET"),
        ("/metrics", "GET"),
        ("/api/openapi.json", "GET"),
        ("/api/query", "POST"),
        ("/api/query/stream", "GET"),
        ("/api/query/oneshot", "POST"),
        ("/api/query/run", "POST"),
        ("/api/demo/questions", "GET"),
        ("/api/network/customer-flow", "POST"),
        ("/api/network/customer-flow/segments", "GET"),
        ("/api/knowledge", "GET, POST"),
        ("/api/knowledge/verified", "POST"),
        ("/admin/status", "GET"),
        ("/admin/metadata/sync", "POST"),
    ];
    let one_segment_under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    let allow = PATHS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, method)| *method)
        .or_else(|| {
            (one_segment_under("/api/query/") || one_segment_under("/api/conversations/"))
                .then_some("GET")
        })
        .or_else(|| one_segment_under("/api/knowledge/").then_some("PUT, DELETE"));
    if let Some(allow) = allow {
        return Err(ServerError::MethodNotAllowed {
            message: format!("{path} takes {allow}, not {}", request.method()),
            allow,
        });
    }
    Err(ServerError::NotFound {
        what: "route",
        id: path.to_owned(),
    })
}
