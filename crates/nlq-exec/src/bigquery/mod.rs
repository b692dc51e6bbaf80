//! BigQuery itself, through Google's generated client for the BigQuery v2 REST API
//! (`google-cloud-bigquery-v2`). The endpoint is configurable, so tests reach an emulator on
//! 127.0.0.1.
//!
//! ```text
//!  dry_run  ─► jobs.insert {dryRun}       ─► bytes, statement type, referenced tables
//!  query    ─► jobs.query {maximumBytesBilled, labels, location}
//!             └─ not complete ─► jobs.getQueryResults (poll, page) ... timeout ─► jobs.cancel
//!  metadata ─► tables.list, tables.get    (never reads data)
//! ```
//!
//! An emulator answers some query errors with HTTP 200 and an `errors` array: that array is
//! a failure here whatever the status.

mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use google_cloud_bigquery_v2::client::{JobService, TableService};
use google_cloud_bigquery_v2::model::{
    DataFormatOptions, ErrorProto, Job, JobConfiguration, JobConfigurationQuery, QueryRequest,
};

use nlq_core::{
    DryRun, ErrorClass, QueryRequest as Request, QueryResult, SqlPosition, TableSchema, Value,
    Warehouse, WarehouseError,
};

use crate::error::ExecError;

/// How the client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud, metadata
    /// server).
    Default,
    /// A service account key file (JSON).
    KeyFile(PathBuf),
    /// No credentials: for an emulator.
    Anonymous,
}

#[derive(Debug, Clone)]
pub struct BigQueryConfig {
    /// The project jobs run (and are billed) in.
    pub billing_project: String,
    /// The dataset's project and name (`bigquery-public-data`, `ga4_obfuscated_sample_ecommerce`).
    pub project: String,
    pub dataset: String,
    /// Where jobs run (`US`, `asia-northeast3`); None: BigQuery decides from the tables.
    pub location: Option<String>,
    /// The API's base URL; None: Google's.
    pub endpoint: Option<String>,
    pub credentials: Credentials,
    /// Jobs billing more than this fail in BigQuery itself (a second wall behind the
    /// validator's estimate).
    pub maximum_bytes_billed: Option<u64>,
    /// Job labels; `app=nlq` is always set.
    pub labels: Vec<(String, String)>,
    /// A job still running after this long is cancelled.
    pub timeout: Duration,
    /// Rows per results page.
    pub page_size: u32,
}

impl BigQueryConfig {
    /// `dataset` as `project.dataset`.
    pub fn new(billing_project: &str, dataset: &str) -> Result<Self, ExecError> {
        let (project, name) = dataset
            .split_once('.')
            .filter(|(p, d)| !p.is_empty() && !d.is_empty() && !d.contains('.'))
            .ok_or_else(|| {
                ExecError::Config(format!(
                    "the dataset {dataset:?} is not `project.dataset`, e.g. \
                     bigquery-public-data.ga4_obfuscated_sample_ecommerce"
                ))
            })?;
        if billing_project.trim().is_empty() {
            return Err(ExecError::Config(
                "the billing project is empty: pass the project your queries are billed to".into(),
            ));
        }
        Ok(BigQueryConfig {
            billing_project: billing_project.to_owned(),
            project: project.to_owned(),
            dataset: name.to_owned(),
            location: None,
            endpoint: None,
            credentials: Credentials::Default,
            maximum_bytes_billed: None,
            labels: Vec::new(),
            timeout: Duration::from_secs(60),
            page_size: 10_000,
        })
    }
}

/// The BigQuery warehouse. Every call runs on the warehouse's own runtime (`Home`), so it can
/// be called from any runtime: a short-lived one per CLI command, or one per server worker.
pub struct BigQueryWarehouse {
    client: Arc<Client>,
    home: Home,
}

/// What the calls need: the config and the generated clients.
struct Client {
    config: BigQueryConfig,
    jobs: JobService,
    tables: TableService,
}

/// Google's auth library spawns its token refresher on the runtime that builds the
/// credentials and panics on the next token request once that runtime is gone; hyper ties
/// pooled connections to a runtime the same way. The client therefore lives, and every call
/// runs, on one small runtime that lives exactly as long as the warehouse.
struct Home {
    handle: tokio::runtime::Handle,
    /// Taken on drop: shut down without blocking, which dropping it inside async code would.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Home {
    fn new() -> Result<Self, ExecError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("nlq-bigquery")
            .enable_all()
            .build()
            .map_err(ExecError::Runtime)?;
        Ok(Home {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs `call` here; a caller that stops waiting (a timeout) stops it.
    async fn run<T: Send + 'static>(
        &self,
        call: impl Future<Output = Result<T, WarehouseError>> + Send + 'static,
    ) -> Result<T, WarehouseError> {
        let mut call = AbortOnDrop(self.handle.spawn(call));
        (&mut call.0).await.map_err(|err| {
            failure(
                ErrorClass::Bug,
                format!("a BigQuery call stopped unexpectedly: {err}"),
            )
        })?
    }
}

/// A call whose caller stopped waiting stops too (a query then cancels its job).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl BigQueryWarehouse {
    pub async fn connect(config: BigQueryConfig) -> Result<Self, ExecError> {
        let home = Home::new()?;
        let client = home
            .handle
            .spawn(Client::connect(config))
            .await
            .map_err(|err| client_error(format!("the client's set-up stopped: {err}")))??;
        Ok(BigQueryWarehouse {
            client: Arc::new(client),
            home,
        })
    }

    pub fn config(&self) -> &BigQueryConfig {
        &self.client.config
    }
}

impl Client {
    async fn connect(config: BigQueryConfig) -> Result<Self, ExecError> {
        let credentials = match &config.credentials {
            Credentials::Anonymous => {
                google_cloud_auth::credentials::anonymous::Builder::new().build()
            }
            Credentials::Default => google_cloud_auth::credentials::Builder::default()
                .build()
                .map_err(|e| {
                    ExecError::Config(format!(
                        "no Google credentials: {e}; run `gcloud auth application-default login` \
                         or pass a service account key file"
                    ))
                })?,
            Credentials::KeyFile(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ExecError::Io {
                    action: "read the service account key",
                    path: path.clone(),
                    source,
                })?;
                let key: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    ExecError::Config(format!("{} is not a key file (JSON): {e}", path.display()))
                })?;
                google_cloud_auth::credentials::service_account::Builder::new(key)
                    .build()
                    .map_err(|e| {
                        ExecError::Config(format!(
                            "{} is not a usable service account key: {e}",
                            path.display()
                        ))
                    })?
            }
        };
        let mut jobs = JobService::builder().with_credentials(credentials.clone());
        let mut tables = TableService::builder().with_credentials(credentials);
        if let Some(endpoint) = &config.endpoint {
            jobs = jobs.with_endpoint(endpoint.clone());
            tables = tables.with_endpoint(endpoint.clone());
        }
        Ok(Client {
            jobs: jobs.build().await.map_err(client_error)?,
            tables: tables.build().await.map_err(client_error)?,
            config,
        })
    }

    /// `app=nlq`, the configured labels, then the request's; a later value for a key wins.
    /// Written as BigQuery accepts them, so a conversation id of any shape cannot fail a job.
    fn labels(&self, request: &[(String, String)]) -> BTreeMap<String, String> {
        labels_for(&self.config, request)
    }

    async fn cancel(&self, job_id: &str) {
        cancel_job(
            self.jobs.clone(),
            self.config.billing_project.clone(),
            self.config.location.clone(),
            job_id.to_owned(),
        )
        .await;
    }
}

async fn cancel_job(jobs: JobService, project: String, location: Option<String>, job_id: String) {
    let mut cancel = jobs.cancel_job().set_project_id(project).set_job_id(job_id);
    if let Some(location) = location {
        cancel = cancel.set_location(location);
    }
    // Best effort: whoever stopped waiting has already been told why.
    let _ = cancel.send().await;
}

/// A job the query started and is waiting for. Dropped while still running (the caller gave
/// up: a timeout upstream, a client that went away), it cancels the job instead of leaving it
/// to run, and bill, unwatched.
struct RunningJob<'a> {
    client: &'a Client,
    job_id: String,
    running: bool,
}

impl Drop for RunningJob<'_> {
    fn drop(&mut self) {
        if !self.running || self.job_id.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(cancel_job(
                self.client.jobs.clone(),
                self.client.config.billing_project.clone(),
                self.client.config.location.clone(),
                std::mem::take(&mut self.job_id),
            ));
        }
    }
}

fn client_error(err: impl std::fmt::Display) -> ExecError {
    ExecError::Config(format!("cannot build the BigQuery client: {err}"))
}

/// A failed call, classed by whose fault it is.
fn api_error(err: google_cloud_bigquery_v2::Error) -> WarehouseError {
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
fn reason_of(message: &str, code: google_cloud_gax::error::rpc::Code) -> &'static str {
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
fn by_reason(reason: &str, message: &str) -> WarehouseError {
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
fn quota_resets_later(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["custom quota", "per day", "daily", "free query bytes"]
        .iter()
        .any(|kind| message.contains(kind))
}

fn first_error(errors: &[ErrorProto]) -> Option<WarehouseError> {
    errors.first().map(|e| by_reason(&e.reason, &e.message))
}

/// BigQuery puts positions in messages as `[line:column]`.
fn position(message: &str) -> Option<SqlPosition> {
    let start = message.rfind('[')?;
    let end = start + message[start..].find(']')?;
    let (line, column) = message[start + 1..end].split_once(':')?;
    Some(SqlPosition {
        line: line.trim().parse().ok()?,
        column: column.trim().parse().ok()?,
    })
}

fn failure(class: ErrorClass, message: String) -> WarehouseError {
    WarehouseError {
        class,
        message,
        position: None,
    }
}

/// The calls, on the home runtime.
impl Client {
    async fn dry_run(&self, sql: &str) -> Result<DryRun, WarehouseError> {
        let mut query = JobConfigurationQuery::default();
        query.query = sql.to_owned();
        query.use_legacy_sql = Some(false);
        let mut configuration = JobConfiguration::default();
        configuration.query = Some(query);
        configuration.dry_run = Some(true);
        configuration.labels = self.labels(&[]).into_iter().collect();
        let mut job = Job::default();
        job.configuration = Some(configuration);
        let job = self
            .jobs
            .insert_job()
            .set_project_id(&self.config.billing_project)
            .set_job(job)
            .send()
            .await
            .map_err(api_error)?;
        if let Some(err) = job.status.as_ref().and_then(|s| s.error_result.as_ref()) {
            return Err(by_reason(&err.reason, &err.message));
        }
        let statistics = job.statistics.as_ref();
        let query = statistics.and_then(|s| s.query.as_ref());
        if let Some(kind) = query
            .map(|q| q.statement_type.as_str())
            .filter(|kind| !kind.is_empty() && *kind != "SELECT")
        {
            return Err(failure(
                ErrorClass::User,
                format!("BigQuery reads this as a {kind} statement; only SELECT runs"),
            ));
        }
        let bytes = query
            .and_then(|q| q.total_bytes_processed)
            .or_else(|| statistics.and_then(|s| s.total_bytes_processed))
            .unwrap_or(0);
        let mut tables: Vec<String> = query
            .map(|q| {
                q.referenced_tables
                    .iter()
                    .map(|t| format!("{}.{}.{}", t.project_id, t.dataset_id, t.table_id))
                    .collect()
            })
            .unwrap_or_default();
        tables.sort();
        Ok(DryRun {
            bytes_processed: u64::try_from(bytes).unwrap_or(0),
            tables,
        })
    }

    async fn query(&self, request: &Request) -> Result<QueryResult, WarehouseError> {
        let started = Instant::now();
        let page = self
            .config
            .page_size
            .min(u32::try_from(request.max_rows.max(1)).unwrap_or(u32::MAX));
        let wait_ms = u32::try_from(self.config.timeout.as_millis()).unwrap_or(u32::MAX);
        let mut query = QueryRequest::default()
            .set_query(request.sql.clone())
            .set_use_legacy_sql(false)
            .set_max_results(page)
            .set_timeout_ms(wait_ms.min(10_000))
            .set_job_timeout_ms(i64::try_from(self.config.timeout.as_millis()).unwrap_or(i64::MAX))
            .set_labels(self.labels(&request.labels))
            .set_format_options(DataFormatOptions::default().set_use_int64_timestamp(true));
        if let Some(cap) = self.config.maximum_bytes_billed {
            query = query.set_maximum_bytes_billed(i64::try_from(cap).unwrap_or(i64::MAX));
        }
        if let Some(location) = &self.config.location {
            query = query.set_location(location.clone());
        }
        let first = self
            .jobs
            .query()
            .set_project_id(&self.config.billing_project)
            .set_query_request(query)
            .send()
            .await
            .map_err(api_error)?;
        if let Some(err) = first_error(&first.errors) {
            return Err(err);
        }
        let mut columns = values::columns(first.schema.as_ref());
        let mut rows: Vec<Vec<Value>> = first
            .rows
            .iter()
            .map(|r| values::row(r, &columns))
            .collect();
        let bytes = first.total_bytes_processed.unwrap_or(0);
        let job_id = first
            .job_reference
            .as_ref()
            .map(|j| j.job_id.clone())
            .unwrap_or_default();
        let mut complete = first.job_complete.unwrap_or(true);
        let mut job = RunningJob {
            client: self,
            job_id: job_id.clone(),
            running: !complete,
        };
        let mut token = first.page_token.clone();
        let mut truncated = false;
        let deadline = started + self.config.timeout;
        let mut pause = Duration::from_millis(50);
        while !complete || (!token.is_empty() && rows.len() < request.max_rows) {
            if Instant::now() >= deadline {
                job.running = false;
                self.cancel(&job_id).await;
                return Err(failure(
                    ErrorClass::Transient,
                    format!(
                        "the query ran longer than {} s and was cancelled",
                        self.config.timeout.as_secs()
                    ),
                ));
            }
            if job_id.is_empty() {
                break;
            }
            let mut next = self
                .jobs
                .get_query_results()
                .set_project_id(&self.config.billing_project)
                .set_job_id(&job_id)
                .set_max_results(page)
                .set_timeout_ms(wait_ms.min(10_000));
            if complete {
                next = next.set_page_token(&token);
            }
            if let Some(location) = &self.config.location {
                next = next.set_location(location);
            }
            let reply = next.send().await.map_err(api_error)?;
            if let Some(err) = first_error(&reply.errors) {
                return Err(err);
            }
            if !reply.job_complete.unwrap_or(true) {
                // BigQuery holds a poll up to its timeoutMs; a server that answers at once
                // must not be hammered.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
            if !complete {
                complete = true;
                job.running = false;
                columns = values::columns(reply.schema.as_ref());
            }
            rows.extend(reply.rows.iter().map(|r| values::row(r, &columns)));
            token = reply.page_token.clone();
        }
        if rows.len() > request.max_rows || !token.is_empty() {
            truncated = true;
            rows.truncate(request.max_rows);
        }
        Ok(QueryResult {
            columns,
            rows,
            bytes_processed: u64::try_from(bytes).unwrap_or(0),
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            tables_read: Vec::new(),
            truncated,
        })
    }

    async fn list_tables(&self) -> Result<Vec<String>, WarehouseError> {
        let mut names = Vec::new();
        let mut token = String::new();
        loop {
            let list = self
                .tables
                .list_tables()
                .set_project_id(&self.config.project)
                .set_dataset_id(&self.config.dataset)
                .set_max_results(1000_u32)
                .set_page_token(&token)
                .send()
                .await
                .map_err(api_error)?;
            names.extend(
                list.tables
                    .iter()
                    .filter_map(|t| t.table_reference.as_ref())
                    .map(|r| r.table_id.clone()),
            );
            if list.next_page_token.is_empty() {
                break;
            }
            token = list.next_page_token;
        }
        names.sort();
        Ok(names)
    }

    async fn table_schema(&self, table: &str) -> Result<TableSchema, WarehouseError> {
        let found = self
            .tables
            .get_table()
            .set_project_id(&self.config.project)
            .set_dataset_id(&self.config.dataset)
            .set_table_id(table)
            .send()
            .await
            .map_err(api_error)?;
        Ok(values::table_schema(found.schema.as_ref()))
    }
}

#[async_trait]
impl Warehouse for BigQueryWarehouse {
    fn name(&self) -> &str {
        "bigquery"
    }

    async fn dry_run(&self, sql: &str) -> Result<DryRun, WarehouseError> {
        let (client, sql) = (self.client.clone(), sql.to_owned());
        self.home
            .run(async move { client.dry_run(&sql).await })
            .await
    }

    async fn explain(&self, sql: &str) -> Result<String, WarehouseError> {
        let dry = self.dry_run(sql).await?;
        Ok(format!(
            "BigQuery dry run: {} processed; tables: {}",
            nlq_core::result::human_bytes(dry.bytes_processed),
            if dry.tables.is_empty() {
                "(not reported)".to_owned()
            } else {
                dry.tables.join(", ")
            }
        ))
    }

    async fn query(&self, request: &Request) -> Result<QueryResult, WarehouseError> {
        let (client, request) = (self.client.clone(), request.clone());
        self.home
            .run(async move { client.query(&request).await })
            .await
    }

    async fn list_tables(&self) -> Result<Vec<String>, WarehouseError> {
        let client = self.client.clone();
        self.home
            .run(async move { client.list_tables().await })
            .await
    }

    async fn table_schema(&self, table: &str) -> Result<TableSchema, WarehouseError> {
        let (client, table) = (self.client.clone(), table.to_owned());
        self.home
            .run(async move { client.table_schema(&table).await })
            .await
    }
}

fn labels_for(config: &BigQueryConfig, request: &[(String, String)]) -> BTreeMap<String, String> {
    std::iter::once(("app".to_owned(), "nlq".to_owned()))
        .chain(config.labels.iter().cloned())
        .chain(request.iter().cloned())
        .filter_map(|(key, value)| Some((label_key(&key)?, label_value(&value))))
        .collect()
}

/// A label key as BigQuery takes it: lowercase letters, digits, `_` and `-`, starting with a
/// letter, at most 63 characters; None when nothing usable is left.
fn label_key(key: &str) -> Option<String> {
    let key = label_value(key);
    key.starts_with(|c: char| c.is_ascii_lowercase())
        .then_some(key)
}

/// A label value as BigQuery takes it: lowercase letters, digits, `_` and `-`, at most 63
/// characters; anything else becomes `_`.
fn label_value(value: &str) -> String {
    value
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_and_errors_say_what_is_wrong() {
        let config = BigQueryConfig::new(
            "my-billing",
            "bigquery-public-data.ga4_obfuscated_sample_ecommerce",
        )
        .unwrap();
        assert_eq!(config.project, "bigquery-public-data");
        assert_eq!(config.dataset, "ga4_obfuscated_sample_ecommerce");
        assert!(BigQueryConfig::new("p", "just_a_dataset").is_err());
        assert!(BigQueryConfig::new("", "p.d").is_err());

        let err = by_reason("invalidQuery", "Unrecognized name: nope at [3:8]");
        assert_eq!(err.class, ErrorClass::User);
        assert_eq!(err.position, Some(SqlPosition { line: 3, column: 8 }));
        assert_eq!(
            by_reason("bytesBilledLimitExceeded", "Query exceeded limit").class,
            ErrorClass::User
        );
        assert_eq!(
            by_reason("quotaExceeded", "slow down").class,
            ErrorClass::Transient
        );
        assert_eq!(by_reason("somethingNew", "?").class, ErrorClass::Bug);
    }

    #[test]
    fn labels_are_written_as_bigquery_takes_them() {
        let mut config = BigQueryConfig::new("p", "p.d").unwrap();
        config.labels = vec![("Team".into(), "Growth Analytics".into())];
        let request = [
            ("conversation".to_owned(), "3F2A:9c/x".repeat(10)),
            (
                "9lives".to_owned(),
                "dropped: keys start with a letter".to_owned(),
            ),
            ("app".to_owned(), "overridden".to_owned()),
        ];
        let labels = labels_for(&config, &request);
        assert_eq!(labels["team"], "growth_analytics");
        assert_eq!(labels["app"], "overridden");
        assert_eq!(labels["conversation"].len(), 63);
        assert!(labels["conversation"].starts_with("3f2a_9c_x3f2a"));
        assert!(!labels.keys().any(|k| k.starts_with('9')));
    }
}
