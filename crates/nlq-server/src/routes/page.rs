//! The chat page, its files and the OpenAPI spec, compiled into the binary: users run one
//! program and need no front-end server or npm.

use actix_web::{HttpResponse, get, web};

use crate::error::ServerError;

/// (name under /static/, content type, bytes)
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/dom.js"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/i18n.js"),
    ),
    (
        "knowledge.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/knowledge.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/style.css"),
    ),
    (
        "vendor/vega.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/vega.min.js"),
    ),
    (
        "vendor/vega-lite.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/vega-lite.min.js"),
    ),
    (
        "vendor/vega-embed.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/vega-embed.min.js"),
    ),
];

pub const OPENAPI: &str = include_str!("../../openapi.json");

#[get("/")]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("../../static/index.html"))
}

#[get("/static/{file:.*}")]
pub async fn file(name: web::Path<String>) -> Result<HttpResponse, ServerError> {
    let (_, kind, bytes) = FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(|| ServerError::NotFound {
            what: "file",
            id: name.to_string(),
        })?;
    Ok(HttpResponse::Ok()
        .content_type(*kind)
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(*bytes))
}

#[get("/api/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
