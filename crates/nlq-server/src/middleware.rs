//! Around every request: a request id (in the `x-request-id` header and every error body),
//! authentication, the rate limit, error bodies that never carry internals, and the access log
//! line and request metrics. The request runs in a tracing span holding the request id, so
//! every log line written while it is served carries it; the answer's facts are recorded on
//! the same span (see `Service::observe`) and so reach the access log line.

use std::time::Instant;

use tracing::Instrument;
use tracing::field::Empty;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};

use crate::error::ServerError;
use crate::security::{Caller, same_secret};
use crate::service::{Service, new_id};

/// On every response. The page loads only its own files and talks only to this server: no
/// inline script, no frames, no other origins. Vega compiles chart expressions with
/// `new Function`, hence `'unsafe-eval'` (until its CSP-safe interpreter is vendored), and
/// writes style attributes, hence `'unsafe-inline'` for styles only.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

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
    // Teaching changes every later answer: the operator's token, like the admin routes. The
    // operator may read what was taught with the same token.
    let knowledge = path.starts_with("/api/knowledge");
    if knowledge
        && let (Some(token), Some(expected)) = (&token, &service.config.admin_token)
        && same_secret(token, expected)
    {
        return Ok(Caller("admin".into()));
    }
    let teaching = knowledge && req.method() != actix_web::http::Method::GET;
    if path.starts_with("/admin/") || teaching {
        let Some(expected) = &service.config.admin_token else {
            return Err(ServerError::Forbidden(
                "the admin routes and teaching are off: start the server with an admin token \
                 (NLQ_ADMIN_TOKEN)"
                    .into(),
            ));
        };
        return match token {
            Some(token) if same_secret(&token, expected) => Ok(Caller("admin".into())),
            _ => Err(ServerError::Unauthorized(
                "the admin routes and teaching need `Authorization: Bearer <admin token>`".into(),
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

/// The trace id of a W3C `traceparent` or Google's `x-cloud-trace-context` header.
fn trace_id(req: &ServiceRequest) -> Option<String> {
    let header = |name: &str| req.headers().get(name)?.to_str().ok();
    let id = match header("traceparent") {
        Some(value) => value.split('-').nth(1)?,
        None => header("x-cloud-trace-context")?.split('/').next()?,
    };
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_owned())
}

pub async fn around(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = new_id("r");
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace = Empty,
        qid = Empty,
        answer_status = Empty,
        answer_path = Empty,
        bytes_billed = Empty,
        llm_usd = Empty,
    );
    if let Some(trace) = trace_id(&req) {
        span.record("trace", trace);
    }
    let traceparent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    if let (Some(traceparent), Some(service)) = (traceparent, req.app_data::<web::Data<Service>>())
        && let Some(link) = &service.trace_link
    {
        link(&span, traceparent);
    }
    let method = req.method().to_string();
    let url = req.uri().to_string();
    let user_agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let remote = req
        .connection_info()
        .realip_remote_addr()
        .unwrap_or("")
        .to_owned();
    let response = serve(req, next, id).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(service) = response.request().app_data::<web::Data<Service>>() {
        service.metrics.request(&route, &method, status, seconds);
    }
    let _in = span.enter();
    tracing::info!(
        http.requestMethod = method,
        // The path only: a query string may carry a token.
        http.requestUrl = url.split('?').next().unwrap_or(""),
        http.status = status,
        http.latency = format!("{seconds:.3}s"),
        http.userAgent = user_agent,
        http.remoteIp = remote,
        route,
        "request"
    );
    Ok(response)
}

async fn serve(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    id: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(RequestId(id.clone()));
    let checked = match req.app_data::<web::Data<Service>>() {
        Some(service) => authenticate(&req, service).and_then(|caller| {
            // A scrape every few seconds costs nothing and must not eat the caller's quota.
            if !is_open(req.path()) && req.path() != "/metrics" {
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
            if let (ServerError::Limited { code, .. }, Some(service)) =
                (&err, req.app_data::<web::Data<Service>>())
            {
                service.metrics.refused(code);
            }
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
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
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
        Some(ours) => {
            if let (ServerError::Limited { code, .. }, Some(service)) =
                (ours, response.request().app_data::<web::Data<Service>>())
            {
                service.metrics.refused(code);
            }
            ours.response_with(id)
        }
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
                tracing::error!("{error}");
            }
            let mut built = wrapped.response_with(id);
            *built.status_mut() = status;
            built
        }
    };
    if let Some(ServerError::Internal(detail) | ServerError::Store(detail)) =
        error.as_error::<ServerError>()
    {
        // The details go to the log, under the id the user was given (the span's).
        tracing::error!("{detail}");
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
