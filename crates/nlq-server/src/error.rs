//! What a request can fail with. Every error knows whose fault it is, and that decides the
//! status code; 5xx bodies say only that the server failed, with the request id to look up in
//! the log, never the internals.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use nlq_core::{Classify, ErrorClass};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} `{id}` is not known: it may have been mistyped, or made by another server")]
    NotFound { what: &'static str, id: String },
    #[error("{message}")]
    MethodNotAllowed {
        message: String,
        allow: &'static str,
    },
    #[error("{0}")]
    TooLarge(String),
    #[error("{message}")]
    Limited {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    Conflict(String),
    /// A dependency is down; the request may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// The answer store failed.
    #[error("the answer store failed: {0}")]
    Store(String),
    #[error("{0}")]
    Internal(String),
}

impl ServerError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        ServerError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The stable machine-readable code of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::BadRequest { code, .. } | ServerError::Limited { code, .. } => code,
            ServerError::Unauthorized(_) => "unauthorized",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::NotFound { what, .. } => match *what {
                "qid" => "unknown_qid",
                "conversation" => "unknown_conversation",
                _ => "not_found",
            },
            ServerError::MethodNotAllowed { .. } => "method_not_allowed",
            ServerError::TooLarge(_) => "too_large",
            ServerError::Conflict(_) => "conflict",
            ServerError::Unavailable(_) => "unavailable",
            ServerError::Store(_) | ServerError::Internal(_) => "internal",
        }
    }
}

impl Classify for ServerError {
    fn class(&self) -> ErrorClass {
        match self {
            ServerError::Unavailable(_) | ServerError::Limited { .. } => ErrorClass::Transient,
            ServerError::Store(_) | ServerError::Internal(_) => ErrorClass::Bug,
            _ => ErrorClass::User,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message: String,
    pub request_id: String,
}

impl ResponseError for ServerError {
    fn status_code(&self) -> StatusCode {
        match self {
            ServerError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::NotFound { .. } => StatusCode::NOT_FOUND,
            ServerError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ServerError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::Store(_) | ServerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The request-id middleware rebuilds this with the request's id.
        self.response_with("")
    }
}

impl ServerError {
    /// The error response, carrying the request's id.
    pub fn response_with(&self, request_id: &str) -> HttpResponse {
        let message = if self.class() == ErrorClass::Bug {
            "the server failed; the request id finds the details in its log".to_owned()
        } else {
            self.to_string()
        };
        let mut response = HttpResponse::build(self.status_code());
        if let ServerError::Limited {
            retry_after_secs, ..
        } = self
        {
            response.insert_header(("retry-after", retry_after_secs.to_string()));
        }
        if let ServerError::MethodNotAllowed { allow, .. } = self {
            response.insert_header(("allow", *allow));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                request_id: request_id.to_owned(),
            },
        })
    }
}
