//! The `Warehouse` trait: where SQL runs. Implemented by the embedded engine and BigQuery
//! in `nlq-exec`; held as `Arc<dyn Warehouse>` by whoever composes them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ErrorClass;
use crate::result::QueryResult;
use crate::schema::TableSchema;

/// One query to run.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    /// BigQuery Standard SQL.
    pub sql: String,
    /// At most this many rows come back; the result says when it was cut.
    pub max_rows: usize,
    /// Key-value labels the job carries where the warehouse keeps them (BigQuery's job
    /// labels), so a bill can be traced to its conversation and stage; see `label`.
    pub labels: Vec<(String, String)>,
}

impl QueryRequest {
    pub fn new(sql: impl Into<String>) -> Self {
        QueryRequest {
            sql: sql.into(),
            max_rows: 10_000,
            labels: Vec::new(),
        }
    }

    /// The request with one more label; a later value for the same key wins.
    pub fn with_label(mut self, key: &str, value: impl Into<String>) -> Self {
        self.labels.retain(|(k, _)| k != key);
        self.labels.push((key.to_owned(), value.into()));
        self
    }
}

/// Label keys nlq sets on the jobs it runs.
pub mod label {
    /// The conversation a job answers (the server's conversation id).
    pub const CONVERSATION: &str = "conversation";
    /// Why the job ran: `schema`, `canary`, `answer` (validation steps), `metasync`.
    pub const STAGE: &str = "stage";
}

/// What a warehouse can tell about a query without running it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DryRun {
    pub bytes_processed: u64,
    /// Physical tables the query would read.
    pub tables: Vec<String>,
}

/// 1-based line and column of a place in the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlPosition {
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for SqlPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A warehouse failure as every caller sees it, whatever the backend.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct WarehouseError {
    pub class: ErrorClass,
    pub message: String,
    /// Where in the SQL the problem is, when known.
    pub position: Option<SqlPosition>,
}

#[async_trait]
pub trait Warehouse: Send + Sync {
    /// Short name for logs and reports: `embedded`, `bigquery`.
    fn name(&self) -> &str;

    /// Estimates what `sql` would read, without running it.
    async fn dry_run(&self, sql: &str) -> Result<DryRun, WarehouseError>;

    /// What the engine would do to run `sql`, as text for people: the embedded engine's
    /// physical plan; for BigQuery, what its dry run reports.
    async fn explain(&self, sql: &str) -> Result<String, WarehouseError>;

    /// Runs one query.
    async fn query(&self, request: &QueryRequest) -> Result<QueryResult, WarehouseError>;

    /// Names of the tables in the dataset (`events_20201101`, ...), sorted.
    async fn list_tables(&self) -> Result<Vec<String>, WarehouseError>;

    /// The columns of one table of the dataset, from metadata: never by reading its data.
    async fn table_schema(&self, table: &str) -> Result<TableSchema, WarehouseError>;
}
