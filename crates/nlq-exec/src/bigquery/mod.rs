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

mod errors;
mod home;
mod labels;
mod values;

use errors::{api_error, by_reason, failure, first_error};
use home::Home;
use labels::labels_for;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use google_cloud_bigquery_v2::client::{JobService, TableService};
use google_cloud_bigquery_v2::model::{
    DataFormatOptions, Job, JobConfiguration, JobConfigurationQuery, QueryRequest,
};

use nlq_core::{
    DryRun, ErrorClass, QueryRequest as Request, QueryResult, TableSchema, Value, Warehouse,
    WarehouseError,
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

#[cfg(test)]
mod tests {
    use nlq_core::SqlPosition;

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
}
