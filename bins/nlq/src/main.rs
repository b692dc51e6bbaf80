//! `nlq`: the command line. Parses flags, builds the embedded warehouse, calls the libraries,
//! prints. Everything it does is in the library crates.

mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use nlq_core::{Classify, QueryRequest};
use nlq_exec::embedded::{self, EmbeddedConfig, EmbeddedWarehouse};

#[derive(Parser)]
#[command(
    name = "nlq",
    version,
    about = "Natural-language analytics for the GA4 BigQuery export"
)]
struct Cli {
    /// Where the embedded GA4 sample lives (built on first use).
    #[arg(long, global = true, env = "NLQ_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The date CURRENT_DATE() stands for (YYYY-MM-DD); default: the day after the newest shard.
    #[arg(long, global = true, env = "NLQ_AS_OF")]
    as_of: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run BigQuery Standard SQL on the embedded GA4 sample.
    Sql {
        /// The query, written for `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`;
        /// `-` reads it from standard input (no shell quoting of backticks needed).
        sql: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// At most this many rows are printed.
        #[arg(long, default_value_t = 10_000)]
        max_rows: usize,
        /// Print the DuckDB SQL the query becomes instead of running it.
        #[arg(long)]
        explain: bool,
    },
    /// Manage the embedded GA4 sample.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Generate the GA4 sample (Parquet shards) and build the embedded database from it.
    Generate {
        /// Fraction of the real sample's size (1.0: ~270k users, ~4.3M events).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = nlq_sample::SampleConfig::default().seed)]
        seed: u64,
        /// Output directory (default: --data-dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing sample.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            // 2: the input was wrong; 1: anything else.
            let user = err.is::<Refused>()
                || err
                    .downcast_ref::<nlq_exec::ExecError>()
                    .is_some_and(|e| e.class() == nlq_core::ErrorClass::User);
            ExitCode::from(if user { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let data_dir = cli.data_dir.unwrap_or_else(|| {
        embedded::default_data_dir(std::env::var_os("HOME").map(PathBuf::from).as_deref())
    });
    match cli.command {
        Command::Sql {
            sql,
            format,
            max_rows,
            explain,
        } => {
            let sql = if sql == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .context("reading the query from standard input")?;
                text
            } else {
                sql
            };
            let mut config = EmbeddedConfig::new(&data_dir);
            config.as_of = cli.as_of;
            // Untrusted SQL: the guard decides before anything is prepared or run.
            let guard = nlq_validate::GuardConfig {
                allowed: vec![nlq_validate::AllowedDataset {
                    project: config.project.clone(),
                    dataset: config.dataset.clone(),
                }],
            };
            if let Some(finding) = nlq_validate::guard(&sql, &guard)
                .into_iter()
                .find(|f| f.severity == nlq_validate::Severity::Error)
            {
                return Err(Refused(finding.message).into());
            }
            embedded::prepare(
                &config,
                &nlq_sample::SampleConfig::default(),
                &progress_bar(),
            )?;
            let warehouse = EmbeddedWarehouse::open(&config)?;
            if explain {
                let translation = warehouse.translate(&sql)?;
                println!("{}", translation.sql);
                return Ok(());
            }
            let result = warehouse.query_sync(&QueryRequest { sql, max_rows })?;
            let mut stdout = std::io::stdout().lock();
            match format {
                Format::Table => render::table(&result, &mut stdout)?,
                Format::Json => render::json(&result, &mut stdout)?,
                Format::Csv => render::csv(&result, &mut stdout)?,
            }
            Ok(())
        }
        Command::Data {
            command:
                DataCommand::Generate {
                    scale,
                    seed,
                    out,
                    force,
                },
        } => {
            let out = out.unwrap_or(data_dir);
            let config = EmbeddedConfig::new(&out);
            if force {
                remove_sample(&out)?;
            } else if config.database_path().exists() {
                anyhow::bail!(
                    "a sample already exists in {}: pass --force to replace it",
                    out.display()
                );
            }
            let started = std::time::Instant::now();
            embedded::prepare(
                &config,
                &nlq_sample::SampleConfig { seed, scale },
                &progress_bar(),
            )?;
            eprintln!(
                "GA4 sample ready in {} ({:.1} s, {})",
                out.display(),
                started.elapsed().as_secs_f64(),
                render::bytes(dir_size(&out))
            );
            Ok(())
        }
    }
}

/// The guard refused the query: the user's to fix.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

impl std::error::Error for Refused {}

fn remove_sample(dir: &std::path::Path) -> anyhow::Result<()> {
    for name in [embedded::DATABASE_FILE, "manifest.json"] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let parquet = dir.join(nlq_sample::PARQUET_DIR);
    if parquet.exists() {
        std::fs::remove_dir_all(&parquet)
            .with_context(|| format!("removing {}", parquet.display()))?;
    }
    Ok(())
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A progress bar on a terminal; nothing when stderr is not one (CI logs, pipes).
fn progress_bar() -> impl Fn(u64, u64, &str) + Sync {
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
