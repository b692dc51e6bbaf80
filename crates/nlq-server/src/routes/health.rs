//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::service::Service;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the warehouse answers a metadata call and the metadata, when configured, has
/// loaded; 503 otherwise, saying which part (the error itself only in `/admin/status`: this
/// route is open). The check is cached for a few seconds, so probes do not call the warehouse
/// each time.
#[get("/readyz")]
pub async fn readyz(service: web::Data<Service>) -> HttpResponse {
    let readiness = service.readiness().await;
    let ready = readiness.ready();
    let body = readiness.public();
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The server's metrics in Prometheus text (see `metrics.rs` for the families). Behind the API
/// keys like the rest of the API when keys are configured: Prometheus sends one as a bearer
/// token (`authorization` in its scrape config).
#[get("/metrics")]
pub async fn metrics(service: web::Data<Service>) -> HttpResponse {
    let metadata = service.metadata.as_ref().map(|loader| {
        let age = loader
            .age()
            .map(|age| age.num_milliseconds() as f64 / 1000.0);
        (age, loader.failed_checks())
    });
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(service.metrics.render(metadata))
}
