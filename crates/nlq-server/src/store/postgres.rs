//! The store in one PostgreSQL database that every replica uses: a follow-up asked on any
//! replica sees the conversation, and the limits count a caller's use across all of them.
//!
//! The store's trait is synchronous (SQLite's calls are too), so the client lives on a small
//! runtime of its own and a call waits for its reply on a channel: the caller's thread blocks
//! for one round trip, as it does for a SQLite write, and never enters a second runtime.

use std::future::Future;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use chrono::NaiveDate;
use tokio_postgres::{Client, Config, NoTls};

use super::{AnswerStore, Bucket, UsageStore, from_db, to_db};
use crate::answer::QueryResponse;
use crate::error::ServerError;

/// The schema's steps, in order; `nlq_schema_migrations` records those applied.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE conversations (
         id TEXT PRIMARY KEY,
         created_at TEXT NOT NULL
     );
     CREATE TABLE answers (
         qid TEXT PRIMARY KEY,
         conversation_id TEXT NOT NULL REFERENCES conversations(id),
         seq INTEGER NOT NULL,
         created_at TEXT NOT NULL,
         response JSONB NOT NULL
     );
     CREATE INDEX answers_by_conversation ON answers (conversation_id, seq);",
    "CREATE TABLE rate_buckets (
         caller TEXT PRIMARY KEY,
         tokens DOUBLE PRECISION NOT NULL,
         at DOUBLE PRECISION NOT NULL,
         admitted BOOLEAN NOT NULL
     );
     CREATE TABLE bytes_spent (
         caller TEXT NOT NULL,
         day DATE NOT NULL,
         bytes BIGINT NOT NULL,
         PRIMARY KEY (caller, day)
     );",
];

/// Replicas starting together take this lock before they look at the schema, so one of
/// them migrates and the others find it done.
const MIGRATION_LOCK: i64 = 0x6e6c_715f_7363_6865;

/// A statement that has not answered after this long is given up on: the request fails as
/// unavailable instead of holding a worker.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the server reaches its database.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// A libpq URL or key=value string (`postgres://user:password@host:5432/nlq`).
    pub url: String,
}

pub struct PostgresStore {
    runtime: Option<tokio::runtime::Runtime>,
    config: Config,
    /// What the URL names, without its password, for messages.
    target: String,
    // One client: tokio-postgres pipelines the statements of concurrent callers on it. A
    // client whose connection closed, or that let a statement time out, is replaced on the
    // next call.
    client: Mutex<Arc<Client>>,
    /// When connecting last failed: callers within `RECONNECT_PAUSE` of it fail at once
    /// instead of each waiting out a connect timeout while the database is down.
    failed_at: Mutex<Option<std::time::Instant>>,
    /// A statement timed out on the client: its connection may be half-open, so the next
    /// call connects again.
    stale: std::sync::atomic::AtomicBool,
}

/// How long after a failed connect the store answers "unavailable" without trying again.
const RECONNECT_PAUSE: Duration = Duration::from_secs(2);

impl PostgresStore {
    /// Connects and brings the schema up to date. An unreachable database is `Unavailable`.
    pub fn open(config: &PostgresConfig) -> Result<Self, ServerError> {
        let mut parsed: Config = config.url.parse().map_err(|e| {
            ServerError::bad(
                "database_url",
                format!(
                    "the database URL is not valid ({e}); expected postgres://user:password@host:5432/database"
                ),
            )
        })?;
        if parsed.get_connect_timeout().is_none() {
            parsed.connect_timeout(CONNECT_TIMEOUT);
        }
        // A peer that vanished without a reset (a failover) is noticed in about a minute,
        // not after the kernel's two hours.
        parsed.keepalives(true);
        parsed.keepalives_idle(Duration::from_secs(30));
        parsed.application_name("nlq-server");
        let target = describe(&parsed);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("nlq-postgres")
            .enable_all()
            .build()
            .map_err(|e| ServerError::Internal(format!("starting the database runtime: {e}")))?;
        let client = block(&runtime, connect(parsed.clone(), true), &target)??;
        Ok(PostgresStore {
            runtime: Some(runtime),
            config: parsed,
            target,
            client: Mutex::new(Arc::new(client)),
            failed_at: Mutex::new(None),
            stale: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// host:port/database, for messages and logs.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime, ServerError> {
        // Only `drop` takes it.
        self.runtime
            .as_ref()
            .ok_or_else(|| ServerError::Internal("the database runtime has stopped".into()))
    }

    /// The client, connected again when its connection was lost (the database restarted).
    fn client(&self) -> Result<Arc<Client>, ServerError> {
        let mut client = self
            .client
            .lock()
            .map_err(|_| ServerError::Internal("the database client's lock is poisoned".into()))?;
        let stale = self.stale.swap(false, std::sync::atomic::Ordering::Relaxed);
        if stale || client.is_closed() {
            let recent = self
                .failed_at
                .lock()
                .ok()
                .and_then(|at| *at)
                .is_some_and(|at| at.elapsed() < RECONNECT_PAUSE);
            if recent {
                return Err(ServerError::Unavailable(format!(
                    "the database at {} is unavailable; connecting again shortly",
                    self.target
                )));
            }
            tracing::warn!(database = %self.target, "the database connection was lost; connecting again");
            let fresh = block(
                self.runtime()?,
                connect(self.config.clone(), false),
                &self.target,
            )
            .and_then(|connected| connected);
            if let Ok(mut at) = self.failed_at.lock() {
                *at = fresh.is_err().then(std::time::Instant::now);
            }
            *client = Arc::new(fresh?);
        }
        Ok(client.clone())
    }

    /// Runs one call on the store's runtime and waits for its result.
    fn run<T, F, Fut>(&self, call: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let client = self.client()?;
        match block(self.runtime()?, call(client), &self.target) {
            Ok(result) => result.map_err(|e| classify(e, &self.target)),
            Err(timed_out) => {
                self.stale.store(true, std::sync::atomic::Ordering::Relaxed);
                Err(timed_out)
            }
        }
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The store may be dropped on an async worker, where waiting for a runtime to stop
        // is not allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `future` on `runtime` and waits for it, within the statement timeout.
fn block<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    future: impl Future<Output = T> + Send + 'static,
    target: &str,
) -> Result<T, ServerError> {
    let (sender, receiver) = mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = sender.send(tokio::time::timeout(STATEMENT_TIMEOUT, future).await);
    });
    match receiver.recv() {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(ServerError::Unavailable(format!(
            "the database at {target} did not answer within {} s",
            STATEMENT_TIMEOUT.as_secs()
        ))),
        Err(_) => Err(ServerError::Internal(
            "the database runtime stopped before answering".into(),
        )),
    }
}

/// host:port/database, never the password.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port}/{}",
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
    )
}

/// Connects, drives the connection on the current runtime, and (on the first connection)
/// migrates the schema.
async fn connect(config: Config, migrate: bool) -> Result<Client, ServerError> {
    let target = describe(&config);
    // Whatever stops a connection (refused, timed out, the server starting up) may pass.
    let (mut client, connection) = config.connect(NoTls).await.map_err(|e| {
        ServerError::Unavailable(format!("the database at {target} is unavailable: {e}"))
    })?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::warn!(error = %err, "the database connection ended");
        }
    });
    if migrate {
        migrate_schema(&mut client, &target).await?;
    }
    Ok(client)
}

async fn migrate_schema(client: &mut Client, target: &str) -> Result<(), ServerError> {
    let failed = |e| classify(e, target);
    let transaction = client.transaction().await.map_err(failed)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS nlq_schema_migrations (
                 version INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(failed)?;
    let applied: i32 = transaction
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM nlq_schema_migrations",
            &[],
        )
        .await
        .map_err(failed)?
        .get(0);
    let known = MIGRATIONS.len() as i32;
    if applied > known {
        return Err(ServerError::Store(format!(
            "the database at {target} was set up by a newer nlq (schema {applied}, this one knows up to {known}): upgrade nlq-server or use another database"
        )));
    }
    for (step, sql) in (1..).zip(MIGRATIONS).skip(applied as usize) {
        transaction
            .batch_execute(sql)
            .await
            .map_err(|e| ServerError::Store(format!("schema step {step} on {target}: {e}")))?;
        transaction
            .execute(
                "INSERT INTO nlq_schema_migrations (version) VALUES ($1)",
                &[&step],
            )
            .await
            .map_err(failed)?;
        tracing::info!(database = %target, step, "database schema step applied");
    }
    transaction.commit().await.map_err(failed)
}

/// A lost or refused connection, a database shutting down or out of resources: the request
/// may succeed later. Anything else (a statement the database refused, a value that does not
/// fit its column) is a bug of ours.
fn classify(err: tokio_postgres::Error, target: &str) -> ServerError {
    let io = std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>());
    let transient = match err.as_db_error() {
        None => err.is_closed() || io,
        Some(db) => {
            let code = db.code().code();
            // 08: connection; 53: resources; 57P: operator intervention; 40001/40P01: retry.
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "40001"
                || code == "40P01"
        }
    };
    if transient {
        ServerError::Unavailable(format!("the database at {target} is unavailable: {err}"))
    } else {
        ServerError::Store(format!("{target}: {err}"))
    }
}

fn parse(text: &str) -> Result<QueryResponse, ServerError> {
    serde_json::from_str(text).map_err(|e| ServerError::Store(format!("a stored answer: {e}")))
}

impl AnswerStore for PostgresStore {
    fn save(&self, response: &QueryResponse) -> Result<(), ServerError> {
        let text = serde_json::to_string(response)
            .map_err(|e| ServerError::Internal(format!("an answer as JSON: {e}")))?;
        let (qid, conversation, created) = (
            response.qid.clone(),
            response.conversation_id.clone(),
            response.created_at.clone(),
        );
        self.run(move |c| async move {
            c.execute(
                "INSERT INTO conversations (id, created_at) VALUES ($1, $2)
                 ON CONFLICT (id) DO NOTHING",
                &[&conversation, &created],
            )
            .await?;
            // A replaced answer (an approved run) keeps its place in the conversation.
            c.execute(
                "INSERT INTO answers (qid, conversation_id, seq, created_at, response)
                 VALUES ($1, $2,
                         (SELECT COALESCE(MAX(seq), 0) + 1 FROM answers WHERE conversation_id = $2),
                         $3, $4::text::jsonb)
                 ON CONFLICT (qid) DO UPDATE SET response = excluded.response",
                &[&qid, &conversation, &created, &text],
            )
            .await
            .map(drop)
        })
    }

    fn get(&self, qid: &str) -> Result<Option<QueryResponse>, ServerError> {
        // PostgreSQL text cannot hold NUL: no stored id has one.
        if qid.contains('\0') {
            return Ok(None);
        }
        let qid = qid.to_owned();
        let text: Option<String> = self.run(move |c| async move {
            let row = c
                .query_opt("SELECT response::text FROM answers WHERE qid = $1", &[&qid])
                .await?;
            Ok(row.map(|row| row.get(0)))
        })?;
        text.as_deref().map(parse).transpose()
    }

    fn conversation(&self, id: &str) -> Result<Option<Vec<QueryResponse>>, ServerError> {
        if id.contains('\0') {
            return Ok(None);
        }
        let id = id.to_owned();
        let texts: Option<Vec<String>> = self.run(move |c| async move {
            let known = c
                .query_opt("SELECT 1 FROM conversations WHERE id = $1", &[&id])
                .await?
                .is_some();
            if !known {
                return Ok(None);
            }
            let rows = c
                .query(
                    "SELECT response::text FROM answers WHERE conversation_id = $1
                     ORDER BY seq, created_at",
                    &[&id],
                )
                .await?;
            Ok(Some(rows.iter().map(|row| row.get(0)).collect()))
        })?;
        texts
            .map(|texts| texts.iter().map(|t| parse(t)).collect())
            .transpose()
    }

    fn has_conversation(&self, id: &str) -> Result<bool, ServerError> {
        if id.contains('\0') {
            return Ok(false);
        }
        let id = id.to_owned();
        self.run(move |c| async move {
            let row = c
                .query_opt("SELECT 1 FROM conversations WHERE id = $1", &[&id])
                .await?;
            Ok(row.is_some())
        })
    }

    fn counts(&self) -> Result<(u64, u64), ServerError> {
        self.run(|c| async move {
            let row = c
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM answers), (SELECT COUNT(*) FROM conversations)",
                    &[],
                )
                .await?;
            Ok((from_db(row.get(0)), from_db(row.get(1))))
        })
    }
}

impl UsageStore for PostgresStore {
    fn take_token(
        &self,
        caller: &str,
        now_secs: f64,
        rate: f64,
        capacity: f64,
    ) -> Result<Bucket, ServerError> {
        let caller = caller.to_owned();
        // One statement: the row lock of the upsert makes concurrent replicas take turns.
        self.run(move |c| async move {
            let row = c
                .query_one(
                    "INSERT INTO rate_buckets AS b (caller, tokens, at, admitted)
                     VALUES ($1, $4::float8 - 1, $2::float8, TRUE)
                     ON CONFLICT (caller) DO UPDATE SET
                         tokens = LEAST($4, b.tokens + GREATEST($2 - b.at, 0) * $3)
                             - CASE WHEN LEAST($4, b.tokens + GREATEST($2 - b.at, 0) * $3) >= 1
                                    THEN 1 ELSE 0 END,
                         admitted = LEAST($4, b.tokens + GREATEST($2 - b.at, 0) * $3) >= 1,
                         at = GREATEST($2, b.at)
                     RETURNING admitted, tokens",
                    &[&caller, &now_secs, &rate, &capacity],
                )
                .await?;
            Ok(Bucket {
                admitted: row.get(0),
                tokens: row.get(1),
            })
        })
    }

    fn add_bytes(&self, caller: &str, day: NaiveDate, bytes: u64) -> Result<(), ServerError> {
        let (caller, day, bytes) = (caller.to_owned(), day.to_string(), to_db(bytes));
        self.run(move |c| async move {
            c.execute(
                "INSERT INTO bytes_spent AS s (caller, day, bytes) VALUES ($1, $2::text::date, $3)
                 ON CONFLICT (caller, day) DO UPDATE SET bytes = s.bytes + excluded.bytes",
                &[&caller, &day, &bytes],
            )
            .await
            .map(drop)
        })
    }

    fn bytes_spent(&self, caller: &str, day: NaiveDate) -> Result<u64, ServerError> {
        let (caller, day) = (caller.to_owned(), day.to_string());
        self.run(move |c| async move {
            let row = c
                .query_opt(
                    "SELECT bytes FROM bytes_spent WHERE caller = $1 AND day = $2::text::date",
                    &[&caller, &day],
                )
                .await?;
            Ok(row.map(|row| from_db(row.get(0))).unwrap_or(0))
        })
    }

    fn bytes_spent_on(&self, day: NaiveDate) -> Result<Vec<(String, u64)>, ServerError> {
        let day = day.to_string();
        self.run(move |c| async move {
            let rows = c
                .query(
                    "SELECT caller, bytes FROM bytes_spent WHERE day = $1::text::date
                     ORDER BY caller",
                    &[&day],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|row| (row.get(0), from_db(row.get(1))))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    /// A fresh database on the test server (`NLQ_TEST_DATABASE_URL`, which scripts/test.sh
    /// sets), dropped by nobody: each run's names are new, and the cluster is the test's own.
    fn fresh_database() -> Option<PostgresConfig> {
        let Ok(url) = std::env::var("NLQ_TEST_DATABASE_URL") else {
            assert!(
                !std::env::var("NLQ_REQUIRE_POSTGRES").is_ok_and(|v| v == "1"),
                "NLQ_REQUIRE_POSTGRES is set but NLQ_TEST_DATABASE_URL is not"
            );
            eprintln!("skipped: NLQ_TEST_DATABASE_URL is not set (scripts/test.sh sets it)");
            return None;
        };
        let name = format!("nlq_unit_{:016x}", rand::random::<u64>());
        let admin = PostgresStore::open(&PostgresConfig { url: url.clone() }).unwrap();
        let create = format!("CREATE DATABASE {name}");
        admin
            .run(move |c| async move { c.batch_execute(&create).await })
            .unwrap();
        let mut config: Config = url.parse().unwrap();
        config.dbname(&name);
        Some(PostgresConfig {
            url: config_url(&config, &name),
        })
    }

    /// The URL of the same server with another database.
    fn config_url(config: &Config, database: &str) -> String {
        let user = config.get_user().unwrap_or("postgres");
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".into(),
        };
        format!("postgres://{user}@{host}:{port}/{database}")
    }

    #[test]
    fn answers_are_kept_in_order_across_connections() {
        let Some(config) = fresh_database() else {
            return;
        };
        let store = PostgresStore::open(&config).unwrap();
        conformance::answers_keep_their_order(&store, &|| {
            Box::new(PostgresStore::open(&config).unwrap())
        });
        conformance::typed_answers_read_back(&store);
    }

    #[test]
    fn usage_counts_refill_and_add_up() {
        let Some(config) = fresh_database() else {
            return;
        };
        conformance::usage_counts(&PostgresStore::open(&config).unwrap());
    }

    #[test]
    fn replicas_starting_together_migrate_once_and_a_newer_schema_is_refused() {
        let Some(config) = fresh_database() else {
            return;
        };
        let opened: Vec<_> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| PostgresStore::open(&config).map(drop)))
                .collect();
            starts.into_iter().map(|s| s.join().unwrap()).collect()
        });
        assert!(opened.iter().all(Result::is_ok), "{opened:?}");
        let store = PostgresStore::open(&config).unwrap();
        let steps: Vec<i32> = store
            .run(|c| async move {
                let rows = c
                    .query(
                        "SELECT version FROM nlq_schema_migrations ORDER BY version",
                        &[],
                    )
                    .await?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            })
            .unwrap();
        assert_eq!(steps, (1..=MIGRATIONS.len() as i32).collect::<Vec<_>>());
        store
            .run(|c| async move {
                c.batch_execute("INSERT INTO nlq_schema_migrations (version) VALUES (99)")
                    .await
            })
            .unwrap();
        let err = PostgresStore::open(&config).err().unwrap().to_string();
        assert!(err.contains("newer nlq"), "{err}");
    }

    #[test]
    fn an_unreachable_database_is_unavailable_and_a_bad_url_says_what_is_expected() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = PostgresStore::open(&PostgresConfig {
            url: format!("postgres://nlq:secret@127.0.0.1:{port}/nlq"),
        })
        .err()
        .unwrap();
        assert!(matches!(err, ServerError::Unavailable(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}/nlq")), "{text}");
        assert!(!text.contains("secret"), "{text}");

        let err = PostgresStore::open(&PostgresConfig {
            url: "postgres://host:notaport/db".into(),
        })
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("postgres://user:password@host:5432/database"),
            "{err}"
        );
    }
}
