//! Warehouses for tests: `Scripted` answers every call from its fields and records what it
//! was asked; `Recording` wraps a real one and records the jobs it runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use nlq_core::{
    BqType, Column, DryRun, QueryRequest, QueryResult, TableSchema, Value, Warehouse,
    WarehouseError,
};

/// A table's schema by its name.
pub type SchemaOf = Box<dyn Fn(&str) -> TableSchema + Send + Sync>;

/// What a scripted warehouse answers. Every field is public: a test sets what it needs.
pub struct Scripted {
    /// What the dry run and every query say they process.
    pub bytes: u64,
    /// What the dry run says the query reads.
    pub tables: Vec<String>,
    /// When set, the dry run fails with it.
    pub dry_run_error: Option<WarehouseError>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    /// Each query waits this long (timeouts).
    pub query_delay: Duration,
    /// What `list_tables` answers.
    pub listed: Vec<String>,
    /// When set, `list_tables` fails with it.
    pub list_error: Option<WarehouseError>,
    /// A table's schema; the GA4 export schema when None.
    pub schema: Option<SchemaOf>,
    /// What it was asked (public only so `Scripted { bytes: 1, ..Default::default() }` works):
    /// read them with `calls()` and `requests()`.
    pub calls: Mutex<Vec<String>>,
    pub requests: Mutex<Vec<QueryRequest>>,
}

impl Default for Scripted {
    /// Two daily shards of 5 MiB, one row `("mobile", 10)` as `(category, users)`.
    fn default() -> Self {
        Scripted {
            bytes: 5 << 20,
            tables: vec!["events_20201201".into(), "events_20201202".into()],
            dry_run_error: None,
            columns: vec![
                Column {
                    name: "category".into(),
                    ty: BqType::String,
                },
                Column {
                    name: "users".into(),
                    ty: BqType::Int64,
                },
            ],
            rows: vec![vec![Value::String("mobile".into()), Value::Int64(10)]],
            query_delay: Duration::ZERO,
            listed: Vec::new(),
            list_error: None,
            schema: None,
            calls: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
        }
    }
}

impl Scripted {
    /// The default script (see `Default`), to be changed field by field.
    pub fn new() -> Self {
        Scripted::default()
    }

    /// Every call so far, in order: `dry_run: SQL`, `explain: SQL`, `query(MAX_ROWS): SQL`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// Every query request so far (SQL, row cap, labels).
    pub fn requests(&self) -> Vec<QueryRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The labels of each query, in order.
    pub fn labels(&self) -> Vec<Vec<(String, String)>> {
        self.requests().into_iter().map(|r| r.labels).collect()
    }
}

#[async_trait]
impl Warehouse for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn dry_run(&self, sql: &str) -> Result<DryRun, WarehouseError> {
        self.calls.lock().unwrap().push(format!("dry_run: {sql}"));
        match &self.dry_run_error {
            Some(err) => Err(err.clone()),
            None => Ok(DryRun {
                bytes_processed: self.bytes,
                tables: self.tables.clone(),
            }),
        }
    }

    async fn explain(&self, sql: &str) -> Result<String, WarehouseError> {
        self.calls.lock().unwrap().push(format!("explain: {sql}"));
        Ok("SCAN events".into())
    }

    async fn query(&self, request: &QueryRequest) -> Result<QueryResult, WarehouseError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("query({}): {}", request.max_rows, request.sql));
        self.requests.lock().unwrap().push(request.clone());
        tokio::time::sleep(self.query_delay).await;
        Ok(QueryResult {
            columns: self.columns.clone(),
            rows: self.rows.iter().take(request.max_rows).cloned().collect(),
            bytes_processed: self.bytes,
            elapsed_ms: 1,
            tables_read: vec![],
            truncated: false,
        })
    }

    async fn list_tables(&self) -> Result<Vec<String>, WarehouseError> {
        self.calls.lock().unwrap().push("list_tables".to_owned());
        match &self.list_error {
            Some(err) => Err(err.clone()),
            None => Ok(self.listed.clone()),
        }
    }

    async fn table_schema(&self, table: &str) -> Result<TableSchema, WarehouseError> {
        Ok(match &self.schema {
            Some(schema) => schema(table),
            None => nlq_core::ga4::events_schema().unwrap(),
        })
    }
}

/// A real warehouse whose query jobs are recorded (their SQL and labels), and may be made to
/// answer as slowly as a remote one (`delay` before each query job).
pub struct Recording {
    pub inner: Arc<dyn Warehouse>,
    pub delay: Duration,
    requests: Mutex<Vec<QueryRequest>>,
}

impl Recording {
    pub fn new(inner: Arc<dyn Warehouse>) -> Self {
        Recording {
            inner,
            delay: Duration::ZERO,
            requests: Mutex::new(Vec::new()),
        }
    }

    pub fn slow(inner: Arc<dyn Warehouse>, delay: Duration) -> Self {
        Recording {
            delay,
            ..Recording::new(inner)
        }
    }

    pub fn requests(&self) -> Vec<QueryRequest> {
        self.requests.lock().unwrap().clone()
    }

    pub fn labels(&self) -> Vec<Vec<(String, String)>> {
        self.requests().into_iter().map(|r| r.labels).collect()
    }
}

#[async_trait]
impl Warehouse for Recording {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn dry_run(&self, sql: &str) -> Result<DryRun, WarehouseError> {
        self.inner.dry_run(sql).await
    }

    async fn explain(&self, sql: &str) -> Result<String, WarehouseError> {
        self.inner.explain(sql).await
    }

    async fn query(&self, request: &QueryRequest) -> Result<QueryResult, WarehouseError> {
        self.requests.lock().unwrap().push(request.clone());
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.inner.query(request).await
    }

    async fn list_tables(&self) -> Result<Vec<String>, WarehouseError> {
        self.inner.list_tables().await
    }

    async fn table_schema(&self, table: &str) -> Result<TableSchema, WarehouseError> {
        self.inner.table_schema(table).await
    }
}
