//! `nlq-server`: reads flags and `NLQ_*` variables, opens the warehouse (the embedded sample or
//! BigQuery), builds the pipeline (with an LLM when one is configured) and the answer store,
//! and serves the nlq-server app.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use nlq_app::exit::{self, Failure};
use nlq_app::llm::LlmArgs;
use nlq_app::logging::{LogArgs, LogFormat, stderr_sink};
use nlq_app::metadata::MetadataArgs;
use nlq_app::setup::Opened;
use nlq_app::setup::{PolicyArgs, WarehouseArgs, open_options, parse_bytes, parse_day};
use nlq_exec::embedded;
use nlq_pipeline::Pipeline;
use nlq_server::service::{Inputs, Rebuild};
use nlq_server::{
    Limits, PostgresConfig, PostgresStore, ServerConfig, Service, SqliteStore, Store,
};

/// How users and sessions are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Counting {
    Exact,
    Approx,
}

#[derive(Parser)]
#[command(
    name = "nlq-server",
    version,
    about = "The nlq HTTP API and chat page over the GA4 export"
)]
struct Cli {
    /// Address to listen on. Without API keys only a loopback address is allowed.
    #[arg(long, env = "NLQ_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Where the embedded GA4 sample lives (built on first use).
    #[arg(long, env = "NLQ_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The date CURRENT_DATE() stands for (YYYY-MM-DD); default: the registry's as-of date,
    /// else the day after the newest shard.
    #[arg(long, env = "NLQ_AS_OF", value_parser = parse_day)]
    as_of: Option<String>,
    /// The answers, conversations and usage counts database, one SQLite file for a single
    /// server [default: <data dir>/nlq-server.sqlite].
    #[arg(long, env = "NLQ_DB")]
    db: Option<PathBuf>,
    /// A PostgreSQL database that several replicas share instead of the SQLite file
    /// (postgres://user:password@host:5432/database).
    #[arg(
        long,
        env = "NLQ_DATABASE_URL",
        hide_env_values = true,
        conflicts_with = "db"
    )]
    database_url: Option<String>,
    /// API keys callers send as `Authorization: Bearer <key>`, comma-separated.
    #[arg(
        long,
        env = "NLQ_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    api_keys: Vec<String>,
    /// The token of the /admin routes.
    #[arg(long, env = "NLQ_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Queries billing more than this wait for the user's approval (500MiB, 1GiB ...).
    #[arg(long, env = "NLQ_APPROVAL_BYTES", default_value = "1GiB", value_parser = parse_bytes)]
    approval_bytes: u64,
    /// How users and sessions are counted: exact, or approx as GA4's reports estimate them
    /// (HyperLogLog++), so totals match its interface.
    #[arg(long, env = "NLQ_COUNTING", value_enum, default_value_t = Counting::Exact)]
    counting: Counting,
    /// Requests per minute per API key (per address without keys).
    #[arg(long, env = "NLQ_RATE_LIMIT", default_value_t = 120)]
    requests_per_minute: u32,
    /// Bytes billed per API key per UTC day.
    #[arg(long, env = "NLQ_DAILY_BYTES", default_value = "100GiB", value_parser = parse_bytes)]
    daily_bytes: u64,
    /// Origins allowed to call the API from a browser, comma-separated.
    #[arg(long, env = "NLQ_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Rows an answer carries at most.
    #[arg(long, env = "NLQ_MAX_ROWS", default_value_t = 10_000)]
    max_rows: usize,
    /// Seconds a first question asked again gets the stored answer (0: always run again).
    #[arg(long, env = "NLQ_ANSWER_CACHE_SECS", default_value_t = 300)]
    answer_cache_secs: u64,
    /// Earlier answers of a conversation a question sees as context (its LLM prompt).
    #[arg(long, env = "NLQ_CONTEXT_TURNS", default_value_t = nlq_core::context::DEFAULT_WINDOW)]
    context_turns: usize,
    /// HTTP worker threads.
    #[arg(long, env = "NLQ_WORKERS", default_value_t = 2)]
    workers: usize,
    #[command(flatten)]
    warehouse: WarehouseArgs,
    #[command(flatten)]
    metadata: MetadataArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    llm: LlmArgs,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    // Flags, then NLQ_* variables, then the NLQ_CONFIG file and *_FILE secrets.
    let cli: Cli = match nlq_app::config::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    if let Err(err) = cli
        .log
        .init("nlq-server", LogFormat::for_stderr(), stderr_sink())
    {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    exit::logged(run(cli))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let api_keys: Vec<String> = cli
        .api_keys
        .iter()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect();
    if api_keys.is_empty() && !cli.bind.ip().is_loopback() {
        return Err(Failure::user(format!(
            "no API keys are configured, so {} would let anyone on the network spend your \
             warehouse budget: set NLQ_API_KEYS, or bind to 127.0.0.1",
            cli.bind
        ))
        .into());
    }
    let data_dir = cli.data_dir.clone().unwrap_or_else(|| {
        embedded::default_data_dir(std::env::var_os("HOME").map(PathBuf::from).as_deref())
    });
    // Everything that blocks is done before the HTTP system starts; a first start answers
    // from the generated Parquet while the embedded database builds behind it.
    let mut options = open_options(&data_dir, cli.as_of.clone(), &cli.metadata, &cli.policy);
    options.build_in_background = true;
    let opened = cli.warehouse.open(options)?;
    let llm = cli.llm.config()?;
    let policy = opened.policy(&cli.policy, cli.max_rows);
    let approval_bytes = cli.approval_bytes;
    let approx = cli.counting == Counting::Approx;
    let build = move |opened: &Opened| -> anyhow::Result<Pipeline> {
        let mut pipeline = opened
            .pipeline(policy.clone())?
            .with_approval_bytes(approval_bytes)
            .with_approx(approx);
        if let Some(llm) = &llm {
            let mut path = llm.path(pipeline.model())?;
            if let Some(document) = &opened.metadata {
                path = path.with_metadata(document);
            }
            pipeline = pipeline.with_llm(path.with_knowledge(&opened.knowledge));
        }
        Ok(pipeline)
    };
    let pipeline = build(&opened)?;
    let llm_on = pipeline.has_llm();
    let (store, answers_in) = open_store(&cli, &data_dir)?;
    let loader = cli.metadata.loader(&data_dir)?;
    // Lessons taught on another replica arrive within this long.
    let knowledge = cli
        .metadata
        .knowledge_base(&data_dir, std::time::Duration::from_secs(30))?;
    let server_config = ServerConfig {
        api_keys,
        admin_token: cli.admin_token.clone().filter(|t| !t.trim().is_empty()),
        approval_bytes: cli.approval_bytes,
        limits: Limits {
            requests_per_minute: cli.requests_per_minute,
            daily_bytes: cli.daily_bytes,
            max_rows: cli.max_rows,
            answer_cache_ttl: std::time::Duration::from_secs(cli.answer_cache_secs),
            context_turns: cli.context_turns,
            ..Limits::default()
        },
        cors_origins: cli.cors_origins.clone(),
    };
    let authenticated = !server_config.api_keys.is_empty();
    let warehouse = opened.warehouse();
    let dataset = format!("{}.{}", opened.project, opened.dataset);
    // A newer metadata version (nlq-metasync ran) reaches the next question: the pipeline is
    // built again over it and swapped in between two questions.
    let rebuild: Rebuild = Arc::new(move |inputs: Inputs| {
        let opened = match inputs.document {
            Some(document) => opened.with_document(document),
            None => Ok(opened.clone()),
        };
        opened
            .and_then(|opened| build(&opened.with_knowledge(inputs.knowledge)))
            .map_err(|err| format!("{err:#}"))
    });
    let service = actix_web::web::Data::new(
        Service::new(Arc::new(pipeline), warehouse, store, loader, server_config)
            .with_rebuild(rebuild)
            .with_knowledge(knowledge)
            .with_trace_link(Arc::new(nlq_app::telemetry::continue_trace)),
    );
    tracing::info!(
        address = %cli.bind,
        auth = if authenticated {
            "API keys required"
        } else {
            "no API keys configured: loopback only"
        },
        warehouse = %cli.warehouse.warehouse,
        dataset,
        answers = %answers_in,
        llm = if llm_on { "on" } else { "none" },
        "nlq-server listening on http://{}",
        cli.bind
    );
    let bind = cli.bind;
    let workers = cli.workers.max(1);
    actix_web::rt::System::new().block_on(async move {
        actix_web::HttpServer::new(move || nlq_server::app(service.clone()))
            .workers(workers)
            .bind(bind)
            .with_context(|| format!("listening on {bind}"))?
            .run()
            .await
            .context("serving")
    })
}

/// The shared PostgreSQL database when one is named, else the SQLite file; and where it is,
/// for the log (never the password).
fn open_store(cli: &Cli, data_dir: &std::path::Path) -> anyhow::Result<(Arc<dyn Store>, String)> {
    if let Some(url) = cli.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        let store = PostgresStore::open(&PostgresConfig {
            url: url.to_owned(),
        })
        .map_err(|err| Failure {
            class: nlq_core::Classify::class(&err),
            message: format!("opening the answer database: {err}"),
        })?;
        let target = store.target().to_owned();
        return Ok((Arc::new(store), format!("postgres {target}")));
    }
    let db = cli
        .db
        .clone()
        .unwrap_or_else(|| data_dir.join("nlq-server.sqlite"));
    let store = SqliteStore::open(&db).with_context(|| format!("opening {}", db.display()))?;
    Ok((Arc::new(store), db.display().to_string()))
}
