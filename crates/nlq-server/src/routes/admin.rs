//! Operators' routes, behind the admin token.

use actix_web::{HttpResponse, get, post, web};
use serde_json::json;

use crate::error::ServerError;
use crate::service::Service;

#[get("/admin/status")]
pub async fn status(service: web::Data<Service>) -> Result<HttpResponse, ServerError> {
    let (answers, conversations) = service.store.counts()?;
    let metadata = match &service.metadata {
        None => json!(null),
        Some(loader) => match loader.current().await {
            Ok(snapshot) => json!({
                "version": snapshot.version.to_string(),
                "generated_at": snapshot.document.generated_at,
                "loaded_at": snapshot.loaded_at,
                "as_of": snapshot.document.registry.as_of,
                "warnings": snapshot.warnings,
            }),
            Err(err) => json!({"error": err.to_string()}),
        },
    };
    let spent: Vec<_> = service
        .limiter
        .spent_today()?
        .into_iter()
        .map(|(caller, bytes)| json!({"caller": caller, "bytes_billed": bytes}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "uptime_secs": service.started.elapsed().as_secs(),
        "warehouse": service.warehouse.name(),
        "answers": answers,
        "conversations": conversations,
        "metadata": metadata,
        "spent_today": spent,
        "approval_bytes": service.config.approval_bytes,
        "authentication": !service.config.api_keys.is_empty(),
        "readiness": service.readiness().await.details(),
    })))
}

/// Reloads the metadata document now instead of at the end of its TTL, and the pipeline over
/// it (its vocabulary, registry and examples) before the next question.
#[post("/admin/metadata/sync")]
pub async fn sync(service: web::Data<Service>) -> Result<HttpResponse, ServerError> {
    let Some(loader) = &service.metadata else {
        return Err(ServerError::Conflict(
            "no metadata store is configured: start the server with --metadata".into(),
        ));
    };
    let snapshot = loader
        .refresh()
        .await
        .map_err(|e| ServerError::Unavailable(format!("reloading the metadata: {e}")))?;
    service.fresh_pipeline().await;
    Ok(HttpResponse::Ok().json(json!({
        "version": snapshot.version.to_string(),
        "generated_at": snapshot.document.generated_at,
        "warnings": snapshot.warnings,
    })))
}
