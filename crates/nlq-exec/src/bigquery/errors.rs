//! BigQuery's failures classed by whose fault they are (user, transient, bug), with the SQL
//! position when the message has one.

use google_cloud_bigquery_v2::model::ErrorProto;
use nlq_core::{ErrorClass, SqlPosition, WarehouseError};

/// A failed call, classed by whose fault it is.
pub(super) fn api_error(err: google_cloud_bigquery_v2::Error) -> WarehouseError {
    if err.is_timeout() || err.is_io() || err.is_transport() {
        return failure(
            ErrorClass::Transient,
            format!("BigQuery did not answer: {err}"),
        );
    }
    if let Some(status) = err.status() {
        use google_cloud_gax::error::rpc::Code;
        let class = match status.code {
            Code::InvalidArgument
            | Code::NotFound
            | Code::PermissionDenied
            | Code::FailedPrecondition
            | Code::OutOfRange
            | Code::AlreadyExists
            | Code::Unauthenticated => ErrorClass::User,
            Code::ResourceExhausted
            | Code::Unavailable
            | Code::Internal
            | Code::DeadlineExceeded
            | Code::Aborted => ErrorClass::Transient,
            _ => ErrorClass::Bug,
        };
        // The reason's class when one is known (a quota is transient whatever its code).
        let reason = reason_of(&status.message, status.code);
        let mut error = by_reason(reason, &status.message);
        if reason.is_empty() {
            error.class = class;
        }
        return error;
    }
    let status = err.http_status_code();
    let payload: Option<serde_json::Value> = err
        .http_payload()
        .and_then(|body| serde_json::from_slice(body).ok());
    let (reason, message) = payload
        .as_ref()
        .map(|p| {
            (
                p["error"]["errors"][0]["reason"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                p["error"]["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .unwrap_or_default();
    let message = if message.is_empty() {
        err.to_string()
    } else {
        message
    };
    let mut error = by_reason(&reason, &message);
    if reason.is_empty() {
        error.class = match status {
            Some(400..=404) => ErrorClass::User,
            Some(429) | Some(500..) => ErrorClass::Transient,
            _ => ErrorClass::Bug,
        };
    }
    error
}

/// The client keeps a status (code and message) but not BigQuery's `errors[].reason`: the
/// message says which of the reasons that need their own advice it is. Quotas and rate limits
/// come as 403 PERMISSION_DENIED, like a denied access, and only their wording tells them
/// apart.
pub(super) fn reason_of(message: &str, code: google_cloud_gax::error::rpc::Code) -> &'static str {
    use google_cloud_gax::error::rpc::Code;
    if message.contains("exceeded limit for bytes billed") {
        "bytesBilledLimitExceeded"
    } else if message.to_ascii_lowercase().contains("quota exceeded") {
        "quotaExceeded"
    } else if message.starts_with("Exceeded rate limits") {
        "rateLimitExceeded"
    } else {
        match code {
            Code::InvalidArgument | Code::OutOfRange => "invalidQuery",
            Code::NotFound => "notFound",
            Code::PermissionDenied | Code::Unauthenticated | Code::FailedPrecondition => {
                "accessDenied"
            }
            Code::ResourceExhausted => "quotaExceeded",
            Code::Unavailable | Code::Internal | Code::DeadlineExceeded | Code::Aborted => {
                "backendError"
            }
            _ => "",
        }
    }
}

/// A job error (`errors` of a reply, or of a 4xx body) as a clear message.
pub(super) fn by_reason(reason: &str, message: &str) -> WarehouseError {
    let (class, text) = match reason {
        "invalidQuery" | "invalid" => (
            ErrorClass::User,
            format!("BigQuery refused the query: {message}"),
        ),
        "bytesBilledLimitExceeded" => (
            ErrorClass::User,
            format!("the query would bill more than the byte cap: {message}"),
        ),
        "accessDenied" | "billingNotEnabled" | "responseTooLarge" => (
            ErrorClass::User,
            format!(
                "BigQuery denied the query: {message}; check the billing project and your access to the dataset"
            ),
        ),
        "notFound" => (
            ErrorClass::User,
            format!("not found in BigQuery: {message}"),
        ),
        "quotaExceeded" if quota_resets_later(message) => (
            ErrorClass::User,
            format!(
                "BigQuery's quota is used up: {message}; raise the quota (or enable billing) on the project, or wait until it resets"
            ),
        ),
        "quotaExceeded" | "rateLimitExceeded" | "backendError" | "internalError" => (
            ErrorClass::Transient,
            format!("BigQuery is busy or failing: {message}; try again later"),
        ),
        _ => (ErrorClass::Bug, format!("BigQuery failed: {message}")),
    };
    WarehouseError {
        class,
        position: position(message),
        message: text,
    }
}

/// A daily, custom (cost control) or free-tier quota: trying again in a minute will not help.
/// The others (concurrent or queued jobs) clear as jobs finish.
pub(super) fn quota_resets_later(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["custom quota", "per day", "daily", "free query bytes"]
        .iter()
        .any(|kind| message.contains(kind))
}

pub(super) fn first_error(errors: &[ErrorProto]) -> Option<WarehouseError> {
    errors.first().map(|e| by_reason(&e.reason, &e.message))
}

/// BigQuery puts positions in messages as `[line:column]`.
pub(super) fn position(message: &str) -> Option<SqlPosition> {
    let start = message.rfind('[')?;
    let end = start + message[start..].find(']')?;
    let (line, column) = message[start + 1..end].split_once(':')?;
    Some(SqlPosition {
        line: line.trim().parse().ok()?,
        column: column.trim().parse().ok()?,
    })
}

pub(super) fn failure(class: ErrorClass, message: String) -> WarehouseError {
    WarehouseError {
        class,
        message,
        position: None,
    }
}
