//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::service::Service;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the warehouse answers a metadata call and the metadata, when configured, has
/// loaded; 503 otherwise, saying which.
#[get("/readyz")]
pub async fn readyz(service: web::Data<Service>) -> HttpResponse {
    let warehouse = match service.warehouse.list_tables().await {
        Ok(_) => "ok".to_owned(),
        Err(err) => format!("unreachable: {err}"),
    };
    let metadata = match &service.metadata {
        None => "none".to_owned(),
        Some(loader) => match loader.current().await {
            Ok(_) => "loaded".to_owned(),
            Err(err) => format!("not loaded: {err}"),
        },
    };
    let ready = warehouse == "ok" && (metadata == "loaded" || metadata == "none");
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "warehouse": warehouse,
        "metadata": metadata,
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
