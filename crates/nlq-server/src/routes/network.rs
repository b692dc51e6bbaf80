//! The customer-flow graph.

use actix_web::{HttpResponse, get, post, web};
use serde_json::json;

use crate::error::ServerError;
use crate::flow::{self, FlowRequest, SEGMENTS};
use crate::security::Caller;
use crate::service::Service;

#[get("/api/network/customer-flow/segments")]
pub async fn segments() -> HttpResponse {
    let segments: Vec<_> = SEGMENTS
        .iter()
        .map(|(id, label)| json!({"id": id, "label": label}))
        .collect();
    HttpResponse::Ok().json(json!({ "segments": segments }))
}

#[post("/api/network/customer-flow")]
pub async fn customer_flow(
    service: web::Data<Service>,
    caller: Caller,
    body: web::Json<FlowRequest>,
) -> Result<HttpResponse, ServerError> {
    service.limiter.check_budget(&caller)?;
    let pipeline = service.fresh_pipeline().await;
    let table = pipeline.model().table.clone();
    let graph = flow::graph(pipeline.validator(), &table, &body).await?;
    let billed = graph.cost.as_ref().map_or(0, |c| c.bytes_billed);
    service.limiter.spend(&caller, billed);
    Ok(HttpResponse::Ok().json(graph))
}
