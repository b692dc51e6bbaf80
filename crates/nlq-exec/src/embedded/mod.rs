//! The embedded warehouse: BigQuery SQL on DuckDB over the GA4 sample.
//!
//! The query connection is read-only, has external access (files, network) disabled and its
//! configuration locked, and loads no extension: even SQL that slipped past every check can
//! read nothing but the dataset.

mod store;
mod types;
mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use duckdb::{AccessMode, Config, Connection};

use nlq_core::{Column, DryRun, QueryRequest, QueryResult, TableSchema, Warehouse, WarehouseError};
use nlq_sql::{Catalog, Translation};

use crate::error::ExecError;

pub use store::{DATABASE_FILE, Source, build, column_size_sql};

/// How to open the embedded dataset.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Directory holding `ga4.duckdb` (and the Parquet it was built from).
    pub data_dir: PathBuf,
    /// `CURRENT_DATE()` as `YYYY-MM-DD`; default: the day after the newest shard.
    pub as_of: Option<String>,
    /// Accepted `project.dataset` qualifiers of table names.
    pub project: String,
    pub dataset: String,
    /// A query running longer is interrupted; the connection stays usable.
    pub timeout: Duration,
    /// The property the data imitates: its dataset name and its shards' schema.
    pub profile: nlq_sample::Profile,
}

impl EmbeddedConfig {
    /// The data directory as its sample's manifest describes it (the public sample's names
    /// when there is no sample yet: that is the one generated).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        match nlq_sample::Manifest::load(&data_dir) {
            Ok(manifest) => {
                let mut config = Self::for_profile(data_dir, manifest.profile());
                (config.project, config.dataset) = manifest.dataset_name();
                config
            }
            Err(_) => Self::for_profile(data_dir, nlq_sample::Profile::default()),
        }
    }

    /// A directory holding (or to hold) a sample of `profile`.
    pub fn for_profile(data_dir: impl Into<PathBuf>, profile: nlq_sample::Profile) -> Self {
        EmbeddedConfig {
            data_dir: data_dir.into(),
            as_of: None,
            project: profile.project().to_owned(),
            dataset: profile.dataset().to_owned(),
            timeout: Duration::from_secs(60),
            profile,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }
}

/// Makes sure the dataset exists: generates the Parquet sample (when missing) and builds the
/// database from it. `progress(done, total, stage)` reports both steps.
pub fn prepare(
    config: &EmbeddedConfig,
    sample: &nlq_sample::SampleConfig,
    progress: &(dyn Fn(u64, u64, &str) + Sync),
) -> Result<(), ExecError> {
    let db = config.database_path();
    if db.exists() {
        return Ok(());
    }
    generate_sample(config, sample, progress)?;
    let schema = events_schema(config)?;
    store::build(
        &db,
        Source::Sample(&config.data_dir),
        &schema,
        &|done, total| progress(done as u64, total as u64, "building the embedded database"),
    )
}

/// Generates the Parquet sample when the data directory has none (the first half of
/// [`prepare`]; [`EmbeddedWarehouse::open_building`] answers from it while it builds the rest).
pub fn generate_sample(
    config: &EmbeddedConfig,
    sample: &nlq_sample::SampleConfig,
    progress: &(dyn Fn(u64, u64, &str) + Sync),
) -> Result<(), ExecError> {
    if nlq_sample::Manifest::load(&config.data_dir).is_ok() {
        return Ok(());
    }
    nlq_sample::generate(sample, &config.data_dir, &|p: nlq_sample::Progress| {
        progress(
            p.done_days as u64,
            p.total_days as u64,
            "generating GA4 sample",
        )
    })?;
    Ok(())
}

/// Imports a property's own export files into `data_dir` (see [`nlq_sample::import`]) and
/// rebuilds the database over the result. The database goes first: should the rebuild fail,
/// the next [`prepare`] builds it from the new manifest rather than answering from stale data.
pub fn import(
    data_dir: &Path,
    paths: &[PathBuf],
    source: &nlq_sample::ImportConfig,
    progress: &(dyn Fn(u64, u64, &str) + Sync),
) -> Result<nlq_sample::ImportReport, ExecError> {
    let report = nlq_sample::import(paths, source, data_dir, progress)?;
    let config = EmbeddedConfig::new(data_dir);
    let db = config.database_path();
    if db.exists() {
        std::fs::remove_file(&db).map_err(|source| ExecError::Io {
            action: "remove",
            path: db.clone(),
            source,
        })?;
    }
    let schema = events_schema(&config)?;
    store::build(&db, Source::Sample(data_dir), &schema, &|done, total| {
        progress(done as u64, total as u64, "building the embedded database")
    })?;
    Ok(report)
}

fn events_schema(config: &EmbeddedConfig) -> Result<TableSchema, ExecError> {
    config
        .profile
        .schema()
        .map_err(|e| ExecError::Config(format!("events schema: {e}")))
}

/// What the embedded warehouse's queries read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// The built database: the fastest form.
    Database,
    /// The sample's Parquet shards, while the database is being built.
    Parquet,
}

/// The background build [`EmbeddedWarehouse::open_building`] started.
pub struct Build {
    thread: std::thread::JoinHandle<Result<(), ExecError>>,
}

impl Build {
    /// Waits for the build; its error, if it failed (queries then keep reading the Parquet).
    pub fn wait(self) -> Result<(), ExecError> {
        self.thread.join().unwrap_or_else(|_| {
            Err(ExecError::Config(
                "the database build panicked; the Parquet shards still answer".to_owned(),
            ))
        })
    }
}

pub struct EmbeddedWarehouse {
    conn: Mutex<Connection>,
    /// Whether `conn` is the in-memory view over the Parquet (see `open_building`).
    on_parquet: AtomicBool,
    timeout: Duration,
    catalog: Catalog,
    /// (shard, leaf column) → billed bytes.
    column_bytes: HashMap<(String, String), u64>,
}

impl EmbeddedWarehouse {
    /// Opens the built database (`ga4.duckdb`); [`prepare`] builds it.
    pub fn open(config: &EmbeddedConfig) -> Result<Self, ExecError> {
        let path = config.database_path();
        if !path.exists() {
            return Err(ExecError::NotPrepared { path });
        }
        let conn = Connection::open_with_flags(&path, query_config().map_err(ExecError::engine)?)
            .map_err(|e| ExecError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Self::over(conn, config, Storage::Database)
    }

    /// Opens the dataset as soon as its Parquet sample exists. When the database is built, as
    /// [`open`](Self::open). When it is not, queries read the Parquet shards through views at
    /// once while a background thread builds the database, and the warehouse switches to it
    /// between two queries when it is done (a first answer in seconds instead of minutes; the
    /// same speed as `open` afterwards). `progress(done, total)` reports the build.
    pub fn open_building(
        config: &EmbeddedConfig,
        progress: impl Fn(usize, usize) + Send + 'static,
    ) -> Result<(Arc<Self>, Option<Build>), ExecError> {
        if config.database_path().exists() {
            return Ok((Arc::new(Self::open(config)?), None));
        }
        let schema = events_schema(config)?;
        let conn =
            Connection::open_in_memory_with_flags(parquet_config().map_err(ExecError::engine)?)
                .map_err(ExecError::engine)?;
        store::parquet_views(&conn, &config.data_dir, &schema)?;
        // The views read files, so external access can only close after them; the sample's
        // Parquet folder stays readable and nothing else.
        let parquet = config.data_dir.join(nlq_sample::PARQUET_DIR);
        let parquet = std::fs::canonicalize(&parquet).map_err(|source| ExecError::Io {
            action: "read",
            path: parquet.clone(),
            source,
        })?;
        conn.execute_batch(&format!(
            "SET allowed_directories = ['{}/']; SET enable_external_access = false; SET lock_configuration = true;",
            store::sql_path(&parquet)
        ))
        .map_err(ExecError::engine)?;
        let warehouse = Arc::new(Self::over(conn, config, Storage::Parquet)?);
        let db = config.database_path();
        let dir = config.data_dir.clone();
        let weak = Arc::downgrade(&warehouse);
        let thread = std::thread::Builder::new()
            .name("nlq-embedded-build".to_owned())
            .spawn(move || {
                store::build(&db, Source::Sample(&dir), &schema, &progress)?;
                let conn =
                    Connection::open_with_flags(&db, query_config().map_err(ExecError::engine)?)
                        .map_err(ExecError::engine)?;
                // Nobody holds the warehouse any more: the database stays built for next time.
                if let Some(warehouse) = weak.upgrade() {
                    *warehouse.connection() = conn;
                    warehouse.on_parquet.store(false, Ordering::Release);
                }
                Ok(())
            })
            .map_err(|source| ExecError::Io {
                action: "start the database build for",
                path: config.database_path(),
                source,
            })?;
        Ok((warehouse, Some(Build { thread })))
    }

    fn over(
        conn: Connection,
        config: &EmbeddedConfig,
        storage: Storage,
    ) -> Result<Self, ExecError> {
        let path = config.database_path();
        let corrupt = |message: String| ExecError::Corrupt {
            path: path.clone(),
            message,
        };
        let tables = store::shard_tables(&conn)?;
        // "Today" follows the newest complete day: an intraday table is a day still coming in.
        let newest = tables
            .iter()
            .rev()
            .find(|t| !t.starts_with(store::INTRADAY_PREFIX))
            .ok_or_else(|| corrupt("it holds no daily events tables".to_owned()))?;
        let as_of = match &config.as_of {
            Some(date) => date.clone(),
            None => conn
                .query_row(
                    "SELECT strftime(CAST(strptime(?, '%Y%m%d') AS DATE) + 1, '%Y-%m-%d')",
                    [&newest["events_".len()..]],
                    |row| row.get::<_, String>(0),
                )
                .map_err(ExecError::engine)?,
        };
        let mut column_bytes = HashMap::new();
        {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT table_name, column_path, bytes FROM {}",
                    store::COLUMN_BYTES_TABLE
                ))
                .map_err(|e| corrupt(e.to_string()))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .map_err(ExecError::engine)?;
            for row in rows {
                let (table, column, bytes) = row.map_err(ExecError::engine)?;
                column_bytes.insert((table, column), u64::try_from(bytes).unwrap_or(0));
            }
        }
        let catalog = Catalog {
            project: config.project.clone(),
            dataset: config.dataset.clone(),
            tables,
            schema: events_schema(config)?,
            current_date: as_of,
        };
        Ok(EmbeddedWarehouse {
            conn: Mutex::new(conn),
            on_parquet: AtomicBool::new(storage == Storage::Parquet),
            timeout: config.timeout,
            catalog,
            column_bytes,
        })
    }

    /// What queries read right now.
    pub fn storage(&self) -> Storage {
        if self.on_parquet.load(Ordering::Acquire) {
            Storage::Parquet
        } else {
            Storage::Database
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The columns `table` has as stored, in BigQuery's types. Where a column is stored as the
    /// export schema says, its export type is kept (DuckDB cannot tell DATETIME from
    /// TIMESTAMP); a column that differs is read from DuckDB's type.
    pub fn table_schema_sync(&self, table: &str) -> Result<TableSchema, ExecError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| ExecError::Config("the database connection was poisoned".into()))?;
        let mut stmt = conn
            .prepare(
                "SELECT column_name, data_type FROM information_schema.columns \
                 WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            )
            .map_err(ExecError::engine)?;
        let columns = stmt
            .query_map([table], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(ExecError::engine)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(ExecError::engine)?;
        if columns.is_empty() {
            return Err(ExecError::Engine {
                message: format!("no table `{table}` in the dataset"),
                class: nlq_core::ErrorClass::User,
            });
        }
        let mut fields = Vec::with_capacity(columns.len());
        for (name, duck) in columns {
            let expected = self.catalog.schema.field(&name);
            let ty = match expected {
                Some(f) if store::same_duck_type(&f.ty, &duck) => f.ty.clone(),
                _ => types::bq_type(&duck).map_err(|message| ExecError::Corrupt {
                    path: PathBuf::from(table),
                    message,
                })?,
            };
            fields.push(nlq_core::Field { name, ty });
        }
        Ok(TableSchema { fields })
    }

    /// The translation the engine would run, for `--explain`-style output and tests.
    pub fn translate(&self, sql: &str) -> Result<Translation, ExecError> {
        Ok(nlq_sql::translate(sql, &self.catalog)?)
    }

    fn billed_bytes(&self, translation: &Translation) -> u64 {
        translation
            .tables_read
            .iter()
            .flat_map(|table| {
                translation.columns.iter().map(move |column| {
                    self.column_bytes
                        .get(&(table.clone(), column.clone()))
                        .copied()
                        .unwrap_or(0)
                })
            })
            .sum()
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave DuckDB's connection half-updated in a way
        // that matters to a read-only query, so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn dry_run_sync(&self, sql: &str) -> Result<DryRun, ExecError> {
        let translation = self.translate(sql)?;
        // Preparing binds every name and type without reading data.
        self.connection()
            .prepare(&translation.sql)
            .map_err(ExecError::engine)?;
        Ok(DryRun {
            bytes_processed: self.billed_bytes(&translation),
            tables: translation.tables_read,
        })
    }

    /// DuckDB's physical plan for the translated query.
    pub fn explain_sync(&self, sql: &str) -> Result<String, ExecError> {
        let translation = self.translate(sql)?;
        let Fetched { rows, .. } = self.run(&format!("EXPLAIN {}", translation.sql), 64)?;
        // EXPLAIN answers (explain_key, explain_value) rows; the value is the rendered plan.
        Ok(rows
            .iter()
            .filter_map(|row| match row.get(1) {
                Some(nlq_core::Value::String(plan)) => Some(plan.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }

    pub fn query_sync(&self, request: &QueryRequest) -> Result<QueryResult, ExecError> {
        let started = Instant::now();
        let translation = self.translate(&request.sql)?;
        let Fetched {
            columns,
            rows,
            truncated,
        } = self.run(&translation.sql, request.max_rows)?;
        Ok(QueryResult {
            columns,
            rows,
            bytes_processed: self.billed_bytes(&translation),
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            tables_read: translation.tables_read,
            truncated,
        })
    }

    /// Runs DuckDB SQL as it is, on the same locked-down connection: the hand-written
    /// baselines of the differential tests and the benchmark.
    #[cfg(feature = "native-sql")]
    pub fn query_native(&self, sql: &str, max_rows: usize) -> Result<QueryResult, ExecError> {
        let started = Instant::now();
        let Fetched {
            columns,
            rows,
            truncated,
        } = self.run(sql, max_rows)?;
        Ok(QueryResult {
            columns,
            rows,
            bytes_processed: 0,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            tables_read: vec![],
            truncated,
        })
    }

    fn run(&self, sql: &str, max_rows: usize) -> Result<Fetched, ExecError> {
        let conn = self.connection();
        let watchdog = Watchdog::start(conn.interrupt_handle(), self.timeout);
        let fetched = Self::fetch(&conn, sql, max_rows);
        match (fetched, watchdog.stop()) {
            (Err(_), true) => Err(ExecError::Timeout {
                seconds: self.timeout.as_secs_f64(),
            }),
            (fetched, _) => fetched,
        }
    }

    fn fetch(conn: &Connection, sql: &str, max_rows: usize) -> Result<Fetched, ExecError> {
        let mut stmt = conn.prepare(sql).map_err(ExecError::engine)?;
        let mut rows = stmt.query([]).map_err(ExecError::engine)?;
        let mut out = Vec::new();
        let mut width = None;
        let mut truncated = false;
        while let Some(row) = rows.next().map_err(ExecError::engine)? {
            let width = *width.get_or_insert_with(|| row.as_ref().column_count());
            if out.len() == max_rows {
                truncated = true;
                break;
            }
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(values::value(
                    row.get::<_, duckdb::types::Value>(i)
                        .map_err(ExecError::engine)?,
                ));
            }
            out.push(cells);
        }
        drop(rows);
        let columns = (0..stmt.column_count())
            .map(|i| Column {
                name: stmt
                    .column_name(i)
                    .map(String::to_owned)
                    .unwrap_or_default(),
                ty: values::bq_type(&stmt.column_type(i)),
            })
            .collect();
        Ok(Fetched {
            columns,
            rows: out,
            truncated,
        })
    }
}

/// Interrupts the connection's running query when the deadline passes. DuckDB's calls block,
/// so no async timeout around them can fire; a thread that waits for either the end of the
/// query or the deadline can.
struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(handle: std::sync::Arc<duckdb::InterruptHandle>, timeout: Duration) -> Watchdog {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || match wait.recv_timeout(timeout) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                handle.interrupt();
                true
            }
            _ => false,
        });
        Watchdog { done, thread }
    }

    /// Ends the watch; whether it interrupted the query.
    fn stop(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// What a run fetched: at most the row cap, and whether it cut the result.
struct Fetched {
    columns: Vec<Column>,
    rows: Vec<Vec<nlq_core::Value>>,
    truncated: bool,
}

/// The locked-down configuration every query connection uses.
fn query_config() -> duckdb::Result<Config> {
    common_config()?
        .access_mode(AccessMode::ReadOnly)?
        .enable_external_access(false)?
        .with("lock_configuration", "true")
}

/// The in-memory connection over the Parquet: it cannot be read-only (it holds the views) and
/// closes external access itself once they exist (see `open_building`). Translated SQL is one
/// SELECT, so it writes nothing either way.
fn parquet_config() -> duckdb::Result<Config> {
    common_config()
}

fn common_config() -> duckdb::Result<Config> {
    Config::default()
        .enable_autoload_extension(false)?
        .with("autoinstall_known_extensions", "false")?
        // BigQuery sorts NULLs first ascending and last descending.
        .with("default_null_order", "nulls_first_on_asc_last_on_desc")
}

#[async_trait]
impl Warehouse for EmbeddedWarehouse {
    fn name(&self) -> &str {
        "embedded"
    }

    // DuckDB calls block; the embedded engine is for one machine, where a query holds its
    // connection for its whole run anyway.
    async fn dry_run(&self, sql: &str) -> Result<DryRun, WarehouseError> {
        Ok(self.dry_run_sync(sql)?)
    }

    async fn explain(&self, sql: &str) -> Result<String, WarehouseError> {
        Ok(self.explain_sync(sql)?)
    }

    async fn query(&self, request: &QueryRequest) -> Result<QueryResult, WarehouseError> {
        Ok(self.query_sync(request)?)
    }

    async fn list_tables(&self) -> Result<Vec<String>, WarehouseError> {
        Ok(self.catalog.tables.clone())
    }

    async fn table_schema(&self, table: &str) -> Result<TableSchema, WarehouseError> {
        Ok(self.table_schema_sync(table)?)
    }
}

/// The data directory a user gets when they name none.
pub fn default_data_dir(home: Option<&Path>) -> PathBuf {
    match home {
        Some(home) => home.join(".local/share/nlq/ga4-sample"),
        None => PathBuf::from("nlq-data"),
    }
}
