//! Around every request: a request id (in the `x-request-id` header and every error body),
//! authentication, the rate limit, and error bodies that never carry internals.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};

use crate::error::ServerError;
use crate::security::{Caller, same_secret};
use crate::service::{Service, new_id};

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Routes anyone may call: the page, its files, health and the spec.
fn is_open(path: &str) -> bool {
    matches!(path, "/" | "/healthz" | "/readyz" | "/api/openapi.json")
        || path.starts_with("/static/")
}

fn bearer(req: &ServiceRequest) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

/// EventSource cannot send headers: the stream route also takes `access_token`.
fn query_token(req: &ServiceRequest) -> Option<String> {
    if req.path() != "/api/query/stream" {
        return None;
    }
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()?
        .get("access_token")
        .cloned()
}

fn authenticate(req: &ServiceRequest, service: &Service) -> Result<Caller, ServerError> {
    let path = req.path().to_owned();
    let token = bearer(req).or_else(|| query_token(req));
    if path.starts_with("/admin/") {
        let Some(expected) = &service.config.admin_token else {
            return Err(ServerError::Forbidden(
                "the admin routes are off: start the server with an admin token (NLQ_ADMIN_TOKEN)"
                    .into(),
            ));
        };
        return match token {
            Some(token) if same_secret(&token, expected) => Ok(Caller("admin".into())),
            _ => Err(ServerError::Unauthorized(
                "the admin routes need `Authorization: Bearer <admin token>`".into(),
            )),
        };
    }
    let keys = &service.config.api_keys;
    if keys.is_empty() || is_open(&path) {
        let address = req
            .connection_info()
            .realip_remote_addr()
            .unwrap_or("unknown")
            .to_owned();
        return Ok(Caller::of_address(&address));
    }
    match token {
        Some(token) => keys
            .iter()
            .find(|key| same_secret(&token, key))
            .map(|key| Caller::of_key(key))
            .ok_or_else(|| {
                ServerError::Unauthorized(
                    "this API key is not known: check it, or ask the server's operator for one"
                        .into(),
                )
            }),
        None => Err(ServerError::Unauthorized(
            "this server needs an API key: send `Authorization: Bearer <key>`".into(),
        )),
    }
}

/// A body announced larger than the limit is refused before it is read.
fn check_length(req: &ServiceRequest, limit: usize) -> Result<(), ServerError> {
    let length = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match length {
        Some(length) if length > limit => Err(ServerError::TooLarge(format!(
            "the body has {length} bytes; at most {limit} are taken"
        ))),
        _ => Ok(()),
    }
}

pub async fn around(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = new_id("r");
    req.extensions_mut().insert(RequestId(id.clone()));
    let checked = match req.app_data::<web::Data<Service>>() {
        Some(service) => authenticate(&req, service).and_then(|caller| {
            if !is_open(req.path()) {
                service.limiter.admit(&caller)?;
            }
            check_length(&req, service.config.limits.max_body_bytes)?;
            Ok(caller)
        }),
        None => Err(ServerError::Internal("the app has no service".into())),
    };
    let response = match checked {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            let response = next.call(req).await?.map_into_boxed_body();
            rebuild(response, &id)
        }
        Err(err) => {
            let (request, _) = req.into_parts();
            ServiceResponse::new(request, err.response_with(&id))
        }
    };
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// Error responses get the request id; errors that are not ours (a bad path segment, a
/// method the route lacks) get our body shape, and server errors lose their details.
fn rebuild(response: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let Some(error) = response.response().error() else {
        return response;
    };
    let rebuilt: HttpResponse = match error.as_error::<ServerError>() {
        Some(ours) => ours.response_with(id),
        None => {
            let status = error.as_response_error().status_code();
            let wrapped = if status.is_server_error() {
                ServerError::Internal(error.to_string())
            } else if status == actix_web::http::StatusCode::METHOD_NOT_ALLOWED {
                ServerError::bad("method_not_allowed", "this route does not take that method")
            } else {
                ServerError::bad("bad_request", error.to_string())
            };
            if status.is_server_error() {
                eprintln!("request {id}: {error}");
            }
            let mut built = wrapped.response_with(id);
            *built.status_mut() = status;
            built
        }
    };
    if let Some(ServerError::Internal(detail) | ServerError::Store(detail)) =
        error.as_error::<ServerError>()
    {
        // The details go to the log, under the id the user was given.
        eprintln!("request {id}: {detail}");
    }
    let (request, _) = response.into_parts();
    ServiceResponse::new(request, rebuilt)
}

impl FromRequest for Caller {
    type Error = ServerError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(|| ServerError::Internal("no caller on the request".into())),
        )
    }
}

impl FromRequest for RequestId {
    type Error = ServerError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(String::new()))))
    }
}

/// Turns the extractors' errors (bad JSON, a body too large, a bad query string) into ours.
pub fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let ours = match &err {
        JsonPayloadError::OverflowKnownLength { length, limit } => ServerError::TooLarge(format!(
            "the body has {length} bytes; at most {limit} are taken"
        )),
        JsonPayloadError::Overflow { limit } => {
            ServerError::TooLarge(format!("the body is over {limit} bytes"))
        }
        JsonPayloadError::ContentType => ServerError::bad(
            "bad_content_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ServerError::bad(
            "bad_field",
            format!("the JSON does not fit this route: {e}"),
        ),
        other => ServerError::bad("bad_json", format!("the body is not valid JSON: {other}")),
    };
    ours.into()
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ServerError::bad(
        "bad_query",
        format!("the query string does not fit this route: {err}"),
    )
    .into()
}
