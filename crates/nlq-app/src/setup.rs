//! Wiring shared by the binaries: the query limits' flags, the warehouse the flags name
//! (the embedded sample or BigQuery), the validator and the pipeline over it, with the
//! MetaSync document when there is one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use nlq_core::Warehouse;
use nlq_core::knowledge::Knowledge;
use nlq_exec::ExecError;
use nlq_exec::bigquery::{BigQueryConfig, BigQueryWarehouse, Credentials};
use nlq_exec::embedded::{self, EmbeddedConfig, EmbeddedWarehouse};
use nlq_metasync::MetadataDocument;
use nlq_pipeline::Pipeline;
use nlq_pipeline::metadata::CatalogParams;
use nlq_semantic::{SemanticError, SemanticModel};
use nlq_validate::{DatasetFacts, ParamCatalog, Policy, StandardParams, Validator};

use crate::metadata;

/// Limits every query runs under.
#[derive(clap::Args)]
pub struct PolicyArgs {
    /// Refuse queries that would bill more than this: bytes, or with a unit (500MiB, 10GiB).
    #[arg(long, env = "NLQ_MAX_BYTES_BILLED", default_value = "10GiB", value_parser = parse_bytes)]
    pub max_bytes_billed: u64,
    /// On-demand price in USD per TiB billed.
    #[arg(long, env = "NLQ_USD_PER_TIB", default_value_t = 6.25)]
    pub usd_per_tib: f64,
    /// Also show costs in another currency, as CODE:UNITS_PER_USD (e.g. KRW:1400).
    #[arg(long, env = "NLQ_CURRENCY", value_parser = parse_currency)]
    pub currency: Option<(String, f64)>,
    /// Give up on a warehouse call after this many seconds.
    #[arg(long, env = "NLQ_TIMEOUT_SECS", default_value_t = 60)]
    pub timeout_secs: u64,
    /// Validate and estimate, never run.
    #[arg(long)]
    pub dry_run: bool,
    /// Run despite a lint rule's error (`lint.items_fanout` or `items_fanout`); the answer
    /// still reports it, as a warning. Repeat for several rules. Guard rules cannot be allowed.
    #[arg(long = "allow", value_name = "RULE")]
    pub allow: Vec<String>,
}

impl PolicyArgs {
    pub fn policy_for(&self, project: &str, dataset: &str, max_rows: usize) -> Policy {
        let mut policy = Policy::for_dataset(project, dataset);
        policy.cost.maximum_bytes_billed = self.max_bytes_billed;
        policy.cost.usd_per_tib = self.usd_per_tib;
        policy.cost.currency = self.currency.clone();
        policy.timeout = Duration::from_secs(self.timeout_secs);
        policy.dry_run_only = self.dry_run;
        policy.max_rows = max_rows;
        policy.allow = self
            .allow
            .iter()
            .map(|rule| match rule.contains('.') {
                true => rule.clone(),
                false => format!("lint.{rule}"),
            })
            .collect();
        policy
    }
}

pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 500MiB or 10GiB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "kib" => 1 << 10,
        "mb" | "mib" => 1 << 20,
        "gb" | "gib" => 1 << 30,
        "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit `{other}`; use B, KiB, MiB, GiB or TiB"
            ));
        }
    };
    Ok((number * scale as f64) as u64)
}

/// A day as `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|day| day.to_string())
        .map_err(|_| format!("`{text}` is not a date; write YYYY-MM-DD"))
}

pub fn parse_currency(text: &str) -> Result<(String, f64), String> {
    let (code, rate) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}`: write CODE:UNITS_PER_USD, e.g. KRW:1400"))?;
    let rate: f64 = rate
        .parse()
        .map_err(|_| format!("`{rate}` is not a number of {code} per USD"))?;
    if code.is_empty() || !(rate.is_finite() && rate > 0.0) {
        return Err(format!(
            "`{text}`: the code must be set and the rate positive"
        ));
    }
    Ok((code.to_ascii_uppercase(), rate))
}

pub fn embedded_config(data_dir: &Path, as_of: Option<String>) -> EmbeddedConfig {
    let mut config = EmbeddedConfig::new(data_dir);
    config.as_of = as_of;
    config
}

pub fn open_embedded(config: &EmbeddedConfig) -> anyhow::Result<Arc<EmbeddedWarehouse>> {
    embedded::prepare(
        config,
        &nlq_sample::SampleConfig::default(),
        &progress_bar(),
    )?;
    Ok(Arc::new(EmbeddedWarehouse::open(config)?))
}

/// As [`open_embedded`], but the database is built in the background while the Parquet sample
/// answers; the build reports on stderr as it goes and when it is done.
pub fn open_embedded_building(config: &EmbeddedConfig) -> anyhow::Result<Arc<EmbeddedWarehouse>> {
    embedded::generate_sample(
        config,
        &nlq_sample::SampleConfig::default(),
        &progress_bar(),
    )?;
    let started = std::time::Instant::now();
    let (warehouse, build) = EmbeddedWarehouse::open_building(config, |done, total| {
        if done % 10 == 0 || done == total {
            tracing::info!(
                done,
                total,
                "building the embedded database in the background"
            );
        }
    })?;
    if let Some(build) = build {
        tracing::info!(
            "answering from the Parquet sample until the embedded database is built (a few minutes; queries are slower until then)"
        );
        std::thread::spawn(move || match build.wait() {
            Ok(()) => tracing::info!(
                secs = started.elapsed().as_secs_f64(),
                "embedded database built; queries now read it"
            ),
            Err(err) => tracing::error!(
                "building the embedded database failed ({err}); queries keep reading the Parquet sample"
            ),
        });
    }
    Ok(warehouse)
}

/// Which warehouse answers: the embedded sample (default, offline) or BigQuery.
#[derive(Clone, clap::Args)]
pub struct WarehouseArgs {
    /// `embedded` (the GA4 sample, offline) or `bigquery`.
    #[arg(long, global = true, env = "NLQ_WAREHOUSE", default_value = "embedded", value_parser = ["embedded", "bigquery"])]
    pub warehouse: String,
    /// BigQuery: the project jobs run in and are billed to.
    #[arg(long, global = true, env = "NLQ_BQ_PROJECT")]
    pub project: Option<String>,
    /// BigQuery: the GA4 export dataset, as project.dataset.
    #[arg(
        long,
        global = true,
        env = "NLQ_BQ_DATASET",
        default_value = "bigquery-public-data.ga4_obfuscated_sample_ecommerce"
    )]
    pub dataset: String,
    /// BigQuery: where jobs run (US, EU, asia-northeast3 ...).
    #[arg(long = "location", global = true, env = "NLQ_BQ_LOCATION")]
    pub bq_location: Option<String>,
    /// BigQuery: a service account key file; default: application default credentials;
    /// `none` for an emulator.
    #[arg(long, global = true, env = "NLQ_BQ_CREDENTIALS")]
    pub credentials: Option<String>,
    /// BigQuery: the API's base URL (an emulator's, e.g. http://127.0.0.1:9050).
    #[arg(long, global = true, env = "NLQ_BQ_ENDPOINT")]
    pub bq_endpoint: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// The semantic model the questions are read with.
#[derive(clap::Args, Clone, Default)]
pub struct ModelArgs {
    /// A semantic model file (metrics, dimensions, values, lexicon; shaped like
    /// fixtures/semantic/ga4.yaml) instead of the built-in one.
    #[arg(long = "semantic-model", global = true, env = "NLQ_SEMANTIC_MODEL")]
    pub semantic_model: Option<PathBuf>,
}

impl ModelArgs {
    /// The model, checked whole: a file that cannot be read or used is refused with its path,
    /// the line and key at fault and what is wrong (a user error: exit 2). Nothing half-loads.
    pub fn load(&self) -> Result<SemanticModel, SemanticError> {
        let Some(path) = &self.semantic_model else {
            return SemanticModel::builtin();
        };
        let model_error = |message: String| SemanticError::Model {
            message: format!("{}: {message}", path.display()),
        };
        let text = std::fs::read_to_string(path)
            .map_err(|err| model_error(format!("cannot be read ({err})")))?;
        SemanticModel::from_yaml(&text).map_err(|err| match err {
            SemanticError::Model { message } => model_error(message),
        })
    }
}

/// What opening a warehouse needs besides its flags.
pub struct OpenOptions<'a> {
    pub data_dir: &'a Path,
    /// What CURRENT_DATE() and relative dates stand for; default: the registry's as-of date
    /// when a MetaSync document is loaded, else the day after the newest daily table.
    pub as_of: Option<String>,
    /// Where the MetaSync document is read from; None: not read (MetaSync writes it).
    pub metadata: Option<&'a metadata::MetadataArgs>,
    /// Build the embedded sample when it is missing. A scheduled job never does: it should
    /// say there is no data, not spend minutes generating a sample nobody asked for.
    pub prepare: bool,
    /// With `prepare`: answer from the sample's Parquet at once and build the database in the
    /// background (a long-running server), instead of building before the first answer.
    pub build_in_background: bool,
    /// BigQuery refuses jobs billing more than this itself, behind the validator's estimate.
    pub maximum_bytes_billed: u64,
    /// A BigQuery job still running after this long is cancelled; an embedded query is
    /// interrupted.
    pub timeout: Duration,
}

/// How the CLI and the server open: the MetaSync document read, the sample built when it is
/// missing, BigQuery's own cap and timeout from the query limits.
pub fn open_options<'a>(
    data_dir: &'a Path,
    as_of: Option<String>,
    metadata: &'a metadata::MetadataArgs,
    policy: &PolicyArgs,
) -> OpenOptions<'a> {
    OpenOptions {
        data_dir,
        as_of,
        metadata: Some(metadata),
        prepare: true,
        build_in_background: false,
        maximum_bytes_billed: policy.max_bytes_billed,
        timeout: Duration::from_secs(policy.timeout_secs),
    }
}

impl WarehouseArgs {
    pub fn is_bigquery(&self) -> bool {
        self.warehouse == "bigquery"
    }

    /// The dataset queries may read, as (project, dataset), known before anything is opened:
    /// for the embedded engine, the one its data directory's sample imitates.
    pub fn dataset(&self, data_dir: &Path) -> anyhow::Result<(String, String)> {
        if !self.is_bigquery() {
            let config = EmbeddedConfig::new(data_dir);
            return Ok((config.project, config.dataset));
        }
        let config = BigQueryConfig::new("-", &self.dataset)?;
        Ok((config.project, config.dataset))
    }

    fn bigquery_config(&self, options: &OpenOptions<'_>) -> anyhow::Result<BigQueryConfig> {
        let project = self.project.as_deref().ok_or_else(|| {
            ExecError::Config(
                "--warehouse bigquery needs --project (NLQ_BQ_PROJECT): the project your queries are billed to"
                    .into(),
            )
        })?;
        let mut config = BigQueryConfig::new(project, &self.dataset)?;
        config.location = self.bq_location.clone();
        config.endpoint = self.bq_endpoint.clone();
        config.credentials = match self.credentials.as_deref() {
            None => Credentials::Default,
            Some("none") => Credentials::Anonymous,
            Some(path) => Credentials::KeyFile(path.into()),
        };
        config.maximum_bytes_billed = Some(options.maximum_bytes_billed);
        config.timeout = options.timeout;
        Ok(config)
    }

    /// The warehouse the flags name, with the dataset's facts and the MetaSync document.
    pub fn open(&self, options: OpenOptions<'_>) -> anyhow::Result<Opened> {
        let (project, dataset) = self.dataset(options.data_dir)?;
        // A broken model file is refused before anything slow starts.
        let base_model = Arc::new(self.model.load()?.for_dataset(&project, &dataset)?);
        let model = (*base_model).clone();
        let (metadata, knowledge) = match options.metadata {
            Some(args) => (
                args.load(options.data_dir, &project, &dataset)?,
                args.knowledge(options.data_dir)?,
            ),
            None => (None, Arc::new(Knowledge::default())),
        };
        // The property's own events (sign_up, generate_lead ...) and values (products,
        // cities, sources) as the catalog saw them.
        let model = Arc::new(match &metadata {
            Some(document) => nlq_pipeline::metadata::model_with_values(model, document)?,
            None => model,
        });
        // An explicit date wins, then the registry's: the dates the semantic engine and the
        // LLM resolve then agree with the shards the registry lists.
        let as_of = options.as_of.clone().or_else(|| {
            metadata
                .as_ref()
                .and_then(|d| d.registry.as_of)
                .map(|day| day.to_string())
        });
        if !self.is_bigquery() {
            let mut config = embedded_config(options.data_dir, as_of);
            config.timeout = options.timeout;
            let warehouse = if options.prepare && options.build_in_background {
                open_embedded_building(&config)?
            } else if options.prepare {
                open_embedded(&config)?
            } else {
                Arc::new(EmbeddedWarehouse::open(&config)?)
            };
            let mut opened = Opened::embedded(warehouse, metadata, model)?;
            opened.base_model = base_model;
            opened.as_of = options.as_of.clone();
            opened.knowledge = knowledge;
            return Ok(opened);
        }
        let config = self.bigquery_config(&options)?;
        let warehouse = Arc::new(runtime()?.block_on(BigQueryWarehouse::connect(config))?);
        let mut facts = match &metadata {
            Some(document) => nlq_pipeline::metadata::dataset_facts(document)?,
            None => bigquery_facts(&warehouse)?,
        };
        if let Some(day) = as_of {
            facts.today = day;
        }
        Ok(Opened {
            engine: Engine::BigQuery(warehouse),
            project,
            dataset,
            facts,
            metadata,
            model,
            base_model,
            as_of: options.as_of.clone(),
            knowledge,
        })
    }
}

/// The dataset's tables, listed now, and "today": the day after the newest daily table, so
/// relative dates land on data in an export that stopped (the public sample ends 2021-01-31).
fn bigquery_facts(warehouse: &BigQueryWarehouse) -> anyhow::Result<DatasetFacts> {
    let tables = runtime()?.block_on(nlq_core::Warehouse::list_tables(warehouse))?;
    let last = tables
        .iter()
        .filter_map(|t| nlq_metasync::document::shard_day(t))
        .max()
        .ok_or_else(|| {
            let config = warehouse.config();
            ExecError::Config(format!(
                "{}.{} has no events_YYYYMMDD tables: check --dataset (project.dataset of the \
                 GA4 export) and that the credentials can read it",
                config.project, config.dataset
            ))
        })?;
    Ok(DatasetFacts {
        tables,
        today: (last + chrono::Duration::days(1)).to_string(),
    })
}

/// The concrete warehouse, for what only one of them does (the embedded engine's DuckDB SQL).
#[derive(Clone)]
pub enum Engine {
    Embedded(Arc<EmbeddedWarehouse>),
    BigQuery(Arc<BigQueryWarehouse>),
}

/// An open warehouse and what every validator and pipeline over it shares.
#[derive(Clone)]
pub struct Opened {
    pub engine: Engine,
    pub project: String,
    pub dataset: String,
    /// The tables (the registry's when a MetaSync document is loaded) and "today".
    pub facts: DatasetFacts,
    pub metadata: Option<Arc<MetadataDocument>>,
    /// The semantic model (`--semantic-model`, else the built-in one) over this dataset.
    pub model: Arc<SemanticModel>,
    /// The model before any MetaSync document taught it, for [`Opened::with_document`].
    pub base_model: Arc<SemanticModel>,
    /// The `--as-of` the user gave, which a newer document's registry does not override.
    pub as_of: Option<String>,
    /// What analysts taught; [`Opened::pipeline`] applies it.
    pub knowledge: Arc<Knowledge>,
}

impl Opened {
    /// Over the embedded engine; "today" is always its CURRENT_DATE().
    pub fn embedded(
        warehouse: Arc<EmbeddedWarehouse>,
        metadata: Option<Arc<MetadataDocument>>,
        model: Arc<SemanticModel>,
    ) -> anyhow::Result<Opened> {
        let today = warehouse.catalog().current_date.clone();
        let facts = match &metadata {
            Some(document) => DatasetFacts {
                today,
                ..nlq_pipeline::metadata::dataset_facts(document)?
            },
            None => DatasetFacts {
                tables: warehouse.catalog().tables.clone(),
                today,
            },
        };
        let (project, dataset) = (
            warehouse.catalog().project.clone(),
            warehouse.catalog().dataset.clone(),
        );
        Ok(Opened {
            engine: Engine::Embedded(warehouse),
            project,
            dataset,
            facts,
            metadata,
            base_model: model.clone(),
            model,
            as_of: None,
            knowledge: Arc::new(Knowledge::default()),
        })
    }

    pub fn warehouse(&self) -> Arc<dyn Warehouse> {
        match &self.engine {
            Engine::Embedded(w) => w.clone(),
            Engine::BigQuery(w) => w.clone(),
        }
    }

    /// The limits from the flags, over this dataset.
    pub fn policy(&self, args: &PolicyArgs, max_rows: usize) -> Policy {
        args.policy_for(&self.project, &self.dataset, max_rows)
    }

    /// The same warehouse with a newer MetaSync document: the base model taught its vocabulary,
    /// the registry's tables and "today" (the embedded engine's own date, or `--as-of`).
    pub fn with_document(&self, document: Arc<MetadataDocument>) -> anyhow::Result<Opened> {
        let model =
            nlq_pipeline::metadata::model_with_values((*self.base_model).clone(), &document)?;
        let mut facts = nlq_pipeline::metadata::dataset_facts(&document)?;
        if let Engine::Embedded(warehouse) = &self.engine {
            facts.today = warehouse.catalog().current_date.clone();
        }
        if let Some(day) = &self.as_of {
            facts.today = day.clone();
        }
        Ok(Opened {
            facts,
            metadata: Some(document),
            model: Arc::new(model),
            ..self.clone()
        })
    }

    /// The same warehouse with other taught knowledge.
    pub fn with_knowledge(&self, knowledge: Arc<Knowledge>) -> Opened {
        Opened {
            knowledge,
            ..self.clone()
        }
    }

    /// The validator; the lint reads value fields from the MetaSync catalog when there is one.
    pub fn validator(&self, policy: Policy) -> anyhow::Result<Validator> {
        let params: Arc<dyn ParamCatalog> = match &self.metadata {
            Some(document) => Arc::new(CatalogParams::new(document)),
            None => Arc::new(StandardParams),
        };
        Ok(Validator::new(
            self.warehouse(),
            policy,
            self.facts.clone(),
            params,
        )?)
    }

    /// The pipeline; the semantic model, its golden examples too, reads this dataset, with
    /// what analysts taught (a lesson the model cannot take is logged and left out).
    pub fn pipeline(&self, policy: Policy) -> anyhow::Result<Pipeline> {
        let validator = self.validator(policy)?;
        let (pipeline, skipped) = Pipeline::new(self.model.clone(), validator, &self.facts)?
            .with_knowledge(&self.knowledge);
        for lesson in skipped {
            tracing::warn!("knowledge: {lesson}");
        }
        Ok(pipeline)
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // Time for timeouts, IO for the LLM providers' HTTP.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A progress bar on a terminal; nothing when stderr is not one (CI logs, pipes).
pub fn progress_bar() -> impl Fn(u64, u64, &str) + Sync {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:32} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    move |done, total, stage| {
        bar.set_length(total);
        bar.set_position(done);
        bar.set_message(stage.to_owned());
        if done == total {
            bar.finish_and_clear();
            eprintln!("{stage}: done");
            bar.reset();
        }
    }
}
