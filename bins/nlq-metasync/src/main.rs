//! `nlq-metasync`: runs the MetaSync job (once, or every `--every`) and shows what the metadata
//! store holds. Reads flags and the environment, builds the store and the warehouse, calls
//! `nlq_metasync`, logs; the job itself is in the library.

mod metrics;
mod progress;
mod show;
mod warehouse;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use nlq_app::exit::{class_name, class_of};
use nlq_app::logging::LogFormat;
use nlq_core::Classify;
use nlq_metasync::store::DEFAULT_KEEP;
use nlq_metasync::store::gcs::DEFAULT_ENDPOINT;
use nlq_metasync::sync::{SyncConfig, SyncEvent, sync};
use nlq_metasync::{MetaStore, MetaSyncError, MetadataDocument, StoreOptions};

use crate::metrics::{Ran, RunMetrics};
use crate::progress::Progress;
use crate::warehouse::{Settings, ValidatorCheck};

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  2  yours to fix: bad flags, a bad store location, access denied, no data to describe
  3  transient: the store or the warehouse was unreachable or busy, or another writer
     replaced the latest version meanwhile; run again later
  1  a bug in nlq; please report it

GCS credentials: Google's application default credentials (GOOGLE_APPLICATION_CREDENTIALS,
gcloud's application-default login, or the metadata server), refreshed before they expire;
NLQ_GCS_TOKEN instead sends a fixed bearer token (never printed).";

#[derive(Parser)]
#[command(
    name = "nlq-metasync",
    version,
    about = "Collects the warehouse's metadata into a versioned document the nlq server and CLI read",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Where the versions are kept: a directory or gs://bucket/prefix
    /// [default: <data dir>/metadata].
    #[arg(long, global = true, env = "NLQ_METADATA_STORE")]
    store: Option<String>,
    /// Versions kept; older ones are pruned after each run.
    #[arg(long, global = true, env = "NLQ_METADATA_KEEP", default_value_t = DEFAULT_KEEP)]
    keep: usize,
    /// The GCS JSON API, e.g. http://127.0.0.1:4443 for an emulator.
    #[arg(long, global = true, env = "NLQ_GCS_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    gcs_endpoint: String,
    /// Where the embedded GA4 sample lives (as for `nlq`).
    #[arg(long, global = true, env = "NLQ_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    log: nlq_app::logging::LogArgs,
    #[command(flatten)]
    warehouse: nlq_app::setup::WarehouseArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sync once and write a new version (with --every: repeat forever).
    Run(RunArgs),
    /// Print what the latest version says.
    Show {
        /// Print the document itself.
        #[arg(long)]
        json: bool,
    },
    /// List the versions kept, newest first.
    Versions {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Run again this long after each run ends (90s, 30m, 1h, 1h30m); a failed run is logged
    /// and the next one still comes.
    #[arg(long, env = "NLQ_METASYNC_EVERY", value_parser = parse_every)]
    every: Option<Duration>,
    /// The date CURRENT_DATE() stands for when the examples are checked (YYYY-MM-DD);
    /// default: the day after the newest shard.
    #[arg(long, env = "NLQ_AS_OF", value_parser = nlq_app::setup::parse_day)]
    as_of: Option<String>,
    /// The parameter catalog samples this many of the newest shards.
    #[arg(long, env = "NLQ_METASYNC_SAMPLE_SHARDS", default_value_t = 7)]
    sample_shards: usize,
    /// The catalog's queries are refused above this: bytes, or with a unit (500MiB, 1GiB).
    #[arg(long, env = "NLQ_METASYNC_MAX_BYTES", default_value = "1GiB", value_parser = parse_bytes)]
    max_bytes: u64,
    /// A catalog query still running after this many seconds is cancelled.
    #[arg(long, env = "NLQ_METASYNC_TIMEOUT_SECS", default_value_t = 300)]
    timeout_secs: u64,
    /// After every run, write the run's metrics here in Prometheus text (for node_exporter's
    /// textfile collector or a Pushgateway).
    #[arg(long, env = "NLQ_METASYNC_METRICS_FILE")]
    metrics_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    // clap exits 2 itself on bad flags, and 0 after --help.
    // Flags, then NLQ_* variables, then the NLQ_CONFIG file and *_FILE secrets.
    let cli: Cli = match nlq_app::config::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let progress = Progress::new();
    if let Err(err) = cli
        .log
        .init("nlq-metasync", LogFormat::for_stderr(), progress.sink())
    {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    // The reader going away (`nlq-metasync show | head`) is not a failure.
    nlq_app::exit::logged(run(cli, &progress))
}

fn run(cli: Cli, progress: &Progress) -> anyhow::Result<()> {
    let data_dir = cli.data_dir.unwrap_or_else(|| {
        nlq_exec::embedded::default_data_dir(std::env::var_os("HOME").map(PathBuf::from).as_deref())
    });
    // `dir:` so a directory whose name looks like a URL is still a directory.
    let location = cli
        .store
        .unwrap_or_else(|| format!("dir:{}", data_dir.join("metadata").display()));
    let options = StoreOptions {
        keep: cli.keep,
        gcs_auth: nlq_app::metadata::gcs_auth(&cli.gcs_endpoint),
        gcs_endpoint: cli.gcs_endpoint,
        ..StoreOptions::default()
    };
    let store = nlq_metasync::open(&location, &options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Run(args) => runtime.block_on(run_job(
            &*store,
            &Job {
                args,
                warehouse: cli.warehouse,
                data_dir,
            },
            progress,
        )),
        Command::Show { json } => runtime.block_on(show(&*store, json)),
        Command::Versions { json } => runtime.block_on(versions(&*store, json)),
    }
}

/// What one run needs from the flags.
struct Job {
    args: RunArgs,
    warehouse: nlq_app::setup::WarehouseArgs,
    data_dir: PathBuf,
}

async fn run_job(store: &dyn MetaStore, job: &Job, progress: &Progress) -> anyhow::Result<()> {
    let metrics = RunMetrics::new();
    // Each run, counted and timed; the file (when asked for) is rewritten after each.
    let measured = |outcome: &anyhow::Result<Ran>, started: Instant| -> anyhow::Result<()> {
        metrics.record(
            outcome.as_ref().ok().copied(),
            started.elapsed().as_secs_f64(),
        );
        match &job.args.metrics_file {
            Some(path) => metrics.write(path),
            None => Ok(()),
        }
    };
    let Some(every) = job.args.every else {
        let started = Instant::now();
        let outcome = sync_once(store, job, progress).await;
        measured(&outcome, started)?;
        return outcome.map(|_| ());
    };
    tracing::info!(
        store = store.location(),
        every_secs = every.as_secs(),
        "running on a schedule"
    );
    // Stopping between or during runs is safe: a version becomes the latest whole or not at
    // all, so the default handling of SIGINT and SIGTERM (exit) is all a scheduler needs.
    loop {
        let started = Instant::now();
        let outcome = sync_once(store, job, progress).await;
        if let Err(err) = measured(&outcome, started) {
            tracing::warn!("{err:#}");
        }
        if let Err(err) = outcome {
            tracing::error!(
                class = class_name(class_of(&err)),
                next_run_in_secs = every.as_secs(),
                "{err:#}"
            );
        }
        tokio::time::sleep(every).await;
    }
}

async fn sync_once(store: &dyn MetaStore, job: &Job, progress: &Progress) -> anyhow::Result<Ran> {
    let args = &job.args;
    let started = Instant::now();
    tracing::info!(
        store = store.location(),
        warehouse = %job.warehouse.warehouse,
        "sync started"
    );
    // The store first: a typo in the bucket or a missing token fails in a second, not after
    // the warehouse has been read.
    let kept = store.versions().await?;
    // Opened for each run, so a scheduled job sees the shards that landed since the last.
    let warehouse_args = job.warehouse.clone();
    let settings = Settings {
        data_dir: job.data_dir.clone(),
        as_of: args.as_of.clone(),
        max_bytes: args.max_bytes,
        timeout: Duration::from_secs(args.timeout_secs),
    };
    let (opened, validator) =
        tokio::task::spawn_blocking(move || warehouse::open(&warehouse_args, &settings))
            .await
            .context("opening the warehouse")??;
    let mut config = SyncConfig::new(&opened.project, &opened.dataset);
    config.sample_shards = args.sample_shards;
    config.max_bytes = args.max_bytes;
    config.examples = opened
        .model
        .golden
        .iter()
        .map(|golden| (golden.question.clone(), golden.sql.clone()))
        .collect();
    let check = ValidatorCheck(&validator);
    let events = |event: &SyncEvent| progress.sync_event(event);
    let synced = sync(&*opened.warehouse(), &config, Some(&check), &events).await;
    progress.finish();
    let synced = synced?;

    let document = &synced.document;
    let written = store.put(&document.to_json()).await?;
    let pruned: Vec<String> = written.pruned.iter().map(ToString::to_string).collect();
    tracing::info!(
        store = store.location(),
        version = %written.version.id,
        bytes = written.version.size,
        previous = kept.first().map(|v| v.id.to_string()),
        pruned = pruned.join(","),
        shards = document.registry.shards.len(),
        as_of = document.registry.as_of.map(|d| d.to_string()),
        examples = document.examples.len(),
        warnings = synced.warnings.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "wrote a new version"
    );
    if let Some(err) = written.prune_error {
        // The new version is written and is the latest; the next run prunes what this one left.
        tracing::warn!(
            class = class_name(err.class()),
            "could not prune old versions: {err}"
        );
    }
    Ok(Ran {
        shards: document.registry.shards.len(),
        examples: document.examples.len(),
        warnings: synced.warnings.len(),
        document_bytes: written.version.size,
    })
}

async fn show(store: &dyn MetaStore, json: bool) -> anyhow::Result<()> {
    let location = store.location();
    let Some(latest) = store.latest().await? else {
        return Err(no_document(&location).into());
    };
    let document = MetadataDocument::from_json(&latest.document).map_err(|reason| {
        MetaSyncError::BadDocument {
            location: location.clone(),
            version: latest.info.id.to_string(),
            reason,
        }
    })?;
    let mut stdout = std::io::stdout().lock();
    if json {
        // The bytes as stored: exactly what the server reads.
        stdout.write_all(&latest.document)?;
        if !latest.document.ends_with(b"\n") {
            stdout.write_all(b"\n")?;
        }
        return Ok(());
    }
    let kept = store.versions().await?;
    stdout.write_all(show::summary(&location, &kept, &latest, &document).as_bytes())?;
    Ok(())
}

async fn versions(store: &dyn MetaStore, json: bool) -> anyhow::Result<()> {
    let kept = store.versions().await?;
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &kept)?;
        stdout.write_all(b"\n")?;
    } else if kept.is_empty() {
        tracing::info!(
            store = store.location(),
            "no versions yet: `nlq-metasync run` writes one"
        );
    } else {
        stdout.write_all(show::versions(&kept).as_bytes())?;
    }
    Ok(())
}

fn no_document(location: &str) -> MetaSyncError {
    MetaSyncError::NoData(format!(
        "{location} holds no metadata document yet: run `nlq-metasync run` to write one"
    ))
}

/// `90s`, `30m`, `1h`, `1h30m`, `1d`.
fn parse_every(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration; write e.g. 90s, 30m, 1h or 1h30m");
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut parts = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 60 * 60,
            'd' => 24 * 60 * 60,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(bad)?;
        digits.clear();
        parts += 1;
    }
    if parts == 0 || !digits.is_empty() {
        return Err(bad());
    }
    if total == 0 {
        return Err("the interval must be at least 1s".to_owned());
    }
    Ok(Duration::from_secs(total))
}

/// Bytes, or with a unit: 500MiB, 1GiB, 1.5GB (both spellings mean powers of 1024, as in
/// BigQuery's billing).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 500MiB or 1GiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "kib" => 1024.0,
        "mb" | "mib" => 1024.0 * 1024.0,
        "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown unit `{other}`; use B, KiB, MiB, GiB or TiB"
            ));
        }
    };
    let bytes = number * scale;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a usable size: at least 1 byte"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        let secs = |text| parse_every(text).map(|d| d.as_secs());
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("30m"), Ok(1800));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("1d"), Ok(86400));
        for bad in ["", "90", "h", "1x", "1h30", "-1h", "1.5h"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
        assert!(parse_every("0s").unwrap_err().contains("at least 1s"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("500MiB"), Ok(500 << 20));
        assert_eq!(parse_bytes("1.5 KiB"), Ok(1536));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("1PB").unwrap_err().contains("unknown unit"));
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn exit_codes_follow_whose_fault() {
        use nlq_app::exit::exit_code;
        let user: anyhow::Error = MetaSyncError::BadLocation {
            location: "s3://x".into(),
            reason: "no".into(),
        }
        .into();
        assert_eq!(exit_code(class_of(&user)), 2);
        let transient = anyhow::Error::from(MetaSyncError::Conflict {
            location: "gs://b/p".into(),
        })
        .context("writing");
        assert_eq!(exit_code(class_of(&transient)), 3);
        assert_eq!(exit_code(class_of(&anyhow::anyhow!("surprise"))), 1);
    }
}
