//! Liveness and readiness.

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
