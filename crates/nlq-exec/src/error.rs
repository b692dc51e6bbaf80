//! Why running a query (or preparing the embedded dataset) failed.

use std::path::PathBuf;

use nlq_core::{Classify, ErrorClass, SqlPosition, WarehouseError};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Sql(#[from] nlq_sql::SqlError),
    #[error("the query failed in the embedded engine: {message}")]
    Engine { message: String, class: ErrorClass },
    #[error("no GA4 sample database at {}: run `nlq data generate` (or pass --data-dir)", path.display())]
    NotPrepared { path: PathBuf },
    #[error("the sample database at {} is unusable: {message}; delete it and run `nlq data generate`", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sample(#[from] nlq_sample::SampleError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(
        "the query ran longer than {seconds} s and was stopped: narrow the date range or raise the timeout (--timeout-secs)"
    )]
    Timeout { seconds: f64 },
    #[error("cannot start the BigQuery client's threads: {0}")]
    Runtime(std::io::Error),
}

impl ExecError {
    /// DuckDB's error text starts with its kind; binder and conversion errors come from what
    /// the query asked, a parser error from what nlq-sql printed.
    pub(crate) fn engine(err: duckdb::Error) -> ExecError {
        let message = err.to_string();
        let class = if [
            "Binder Error",
            "Catalog Error",
            "Conversion Error",
            "Invalid Input Error",
            "Out of Range Error",
            "Constraint Error",
            "Not implemented Error",
        ]
        .iter()
        .any(|kind| message.starts_with(kind))
        {
            ErrorClass::User
        } else if message.starts_with("IO Error") || message.contains("Out of Memory") {
            ErrorClass::Transient
        } else {
            ErrorClass::Bug
        };
        ExecError::Engine { message, class }
    }

    pub fn position(&self) -> Option<SqlPosition> {
        match self {
            ExecError::Sql(err) => err.position(),
            _ => None,
        }
    }
}

impl Classify for ExecError {
    fn class(&self) -> ErrorClass {
        match self {
            ExecError::Sql(err) => err.class(),
            ExecError::Engine { class, .. } => *class,
            ExecError::NotPrepared { .. } | ExecError::Config(_) => ErrorClass::User,
            ExecError::Corrupt { .. } => ErrorClass::User,
            ExecError::Io { .. } | ExecError::Runtime(_) | ExecError::Timeout { .. } => {
                ErrorClass::Transient
            }
            ExecError::Sample(err) => err.class(),
        }
    }
}

impl From<ExecError> for WarehouseError {
    fn from(err: ExecError) -> Self {
        WarehouseError {
            class: err.class(),
            position: err.position(),
            message: err.to_string(),
        }
    }
}
