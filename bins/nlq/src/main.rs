//! `nlq`: the command line. Parses flags, opens the warehouse they name (the embedded sample
//! or BigQuery), calls the libraries, prints. Everything it does is in the library crates.

mod eval;
mod render;
mod teach;

use nlq_app::exit::{self, Failure};
use nlq_app::setup::{Engine, PolicyArgs, open_options, progress_bar, runtime};
use nlq_app::{llm, metadata};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use nlq_exec::embedded::{self, EmbeddedConfig};
use nlq_validate::{Report, Verdict};

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
    #[arg(long, global = true, env = "NLQ_AS_OF", value_parser = nlq_app::setup::parse_day)]
    as_of: Option<String>,
    #[command(flatten)]
    metadata: metadata::MetadataArgs,
    #[command(flatten)]
    warehouse: nlq_app::setup::WarehouseArgs,
    #[command(flatten)]
    log: nlq_app::logging::LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run BigQuery Standard SQL on the warehouse (the embedded GA4 sample by default).
    Sql {
        /// The query, written for `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`;
        /// `-` reads it from standard input (no shell quoting of backticks needed). It may
        /// begin with a hyphen (a `-- comment` line).
        #[arg(allow_hyphen_values = true)]
        sql: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// At most this many rows are printed.
        #[arg(long, default_value_t = 10_000)]
        max_rows: usize,
        /// Instead of running it, print the DuckDB SQL the query becomes (embedded) or
        /// BigQuery's dry run (bytes, tables).
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Validate a query without running it for its answer: every step's verdict, findings
    /// with positions, bytes and cost.
    Check {
        /// The query; `-` reads it from standard input.
        #[arg(allow_hyphen_values = true)]
        sql: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Also print the engine's plan.
        #[arg(long)]
        plan: bool,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Ask a question in Korean or English; the semantic engine answers the GA4 grid.
    Ask {
        /// The question; `-` reads it from standard input.
        #[arg(allow_hyphen_values = true)]
        question: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// At most this many rows are returned.
        #[arg(long, default_value_t = 10_000)]
        max_rows: usize,
        /// Count users and sessions as GA4's reports do (HyperLogLog++), not exactly.
        #[arg(long)]
        approx: bool,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        llm: llm::LlmArgs,
    },
    /// Evaluate the engine on a question set (JSON lines with gold SQL): runs each question
    /// and its gold SQL on the same data and compares the results.
    Eval {
        /// A file shaped like fixtures/questions/dev.jsonl.
        questions: PathBuf,
        /// Print the outcomes and the summary as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        llm: llm::LlmArgs,
    },
    /// Teach nlq about your property: verified examples, synonyms, metrics and notes, each
    /// checked against the data before it is kept in the knowledge store (--knowledge).
    Teach {
        #[command(subcommand)]
        command: teach::TeachCommand,
        /// Who teaches it, kept beside the lesson.
        #[arg(long, env = "USER", default_value = "cli")]
        by: String,
        #[command(flatten)]
        policy: PolicyArgs,
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
        /// The property to imitate: public-sample (the public GA4 ecommerce sample) or app-web
        /// (web and app streams, custom events, user properties, missing days, intraday).
        #[arg(long, default_value = "public-sample")]
        profile: nlq_sample::Profile,
        /// Output directory (default: --data-dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing sample.
        #[arg(long)]
        force: bool,
    },
    /// Import your own GA4 export (files of `EXPORT DATA` or `bq extract` of events_*:
    /// Parquet, Avro or newline-delimited JSON, gzip allowed) and build the embedded database
    /// from it. Re-importing a day replaces it.
    Import {
        /// Files or directories (searched recursively) holding the export files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The dataset the files came from, as project.dataset: queries name it.
        #[arg(long)]
        dataset: String,
        /// Directory to import into (default: --data-dir).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    // Flags, then NLQ_* variables, then the NLQ_CONFIG file and *_FILE secrets.
    let cli: Cli = match nlq_app::config::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // The command's own messages are for the person who ran it, not a log collector.
    if let Err(err) = cli.log.init(
        "nlq",
        nlq_app::logging::LogFormat::Brief,
        nlq_app::logging::stderr_sink(),
    ) {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    exit::report(run(cli))
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
            policy,
        } => {
            let sql = read_sql(sql)?;
            let (project, dataset) = cli.warehouse.dataset(&data_dir)?;
            refuse_early(&sql, &project, &dataset)?;
            let opened =
                cli.warehouse
                    .open(open_options(&data_dir, cli.as_of, &cli.metadata, &policy))?;
            if explain {
                let text = match &opened.engine {
                    // The SQL DuckDB runs for it; BigQuery runs the query as written, so its
                    // dry run is what there is to show.
                    Engine::Embedded(warehouse) => warehouse.translate(&sql)?.sql,
                    Engine::BigQuery(warehouse) => {
                        runtime()?.block_on(nlq_core::Warehouse::explain(&**warehouse, &sql))?
                    }
                };
                println!("{text}");
                return Ok(());
            }
            let validator = opened.validator(opened.policy(&policy, max_rows))?;
            let outcome = runtime()?.block_on(validator.run(&sql));
            let mut stderr = std::io::stderr().lock();
            render::findings(&outcome.report, &mut stderr)?;
            let Some(result) = outcome.result else {
                if policy.dry_run {
                    return render::report(&outcome.report, false, &mut std::io::stdout().lock())
                        .map_err(Into::into);
                }
                return Err(not_answered(&outcome.report));
            };
            let mut stdout = std::io::stdout().lock();
            match format {
                Format::Table => render::table(&result, &mut stdout)?,
                Format::Json => render::json(&result, &mut stdout)?,
                Format::Csv => render::csv(&result, &mut stdout)?,
            }
            Ok(())
        }
        Command::Check {
            sql,
            format,
            plan,
            policy,
        } => {
            let sql = read_sql(sql)?;
            // `check` never runs the query for its answer; the canary still runs unless
            // --dry-run says not to touch data at all.
            let opened =
                cli.warehouse
                    .open(open_options(&data_dir, cli.as_of, &cli.metadata, &policy))?;
            let mut limits = opened.policy(&policy, 10_000);
            // A check shows every step: the plan, and a canary whatever the query's size.
            limits.explain = true;
            limits.canary_min_bytes = 0;
            let validator = opened.validator(limits)?;
            let report = runtime()?.block_on(validator.check(&sql));
            let mut stdout = std::io::stdout().lock();
            match format {
                ReportFormat::Table => render::report(&report, plan, &mut stdout)?,
                ReportFormat::Json => {
                    serde_json::to_writer_pretty(&mut stdout, &report)?;
                    std::io::Write::write_all(&mut stdout, b"\n")?;
                }
            }
            if report.passed() {
                Ok(())
            } else {
                Err(not_answered(&report))
            }
        }
        Command::Ask {
            question,
            format,
            max_rows,
            approx,
            policy,
            llm,
        } => {
            let question = read_sql(question)?;
            let llm = llm.config()?;
            let opened =
                cli.warehouse
                    .open(open_options(&data_dir, cli.as_of, &cli.metadata, &policy))?;
            let metadata = opened.metadata.clone();
            let mut pipeline = opened
                .pipeline(opened.policy(&policy, max_rows))?
                .with_approx(approx);
            if let Some(llm) = &llm {
                let mut path = llm.path(pipeline.model())?;
                if let Some(document) = &metadata {
                    path = path.with_metadata(document);
                }
                pipeline = pipeline.with_llm(path.with_knowledge(&opened.knowledge));
            }
            let answer = runtime()?.block_on(pipeline.ask(&question, &|_| {}));
            let mut stdout = std::io::stdout().lock();
            match format {
                ReportFormat::Table => render::answer(&answer, &mut stdout)?,
                ReportFormat::Json => {
                    serde_json::to_writer_pretty(&mut stdout, &answer)?;
                    std::io::Write::write_all(&mut stdout, b"\n")?;
                }
            }
            match answer.status {
                nlq_pipeline::Status::Error => Err(anyhow::anyhow!(
                    "{}",
                    answer
                        .message
                        .unwrap_or_else(|| "the warehouse failed".to_owned())
                )),
                _ => Ok(()),
            }
        }
        Command::Eval {
            questions,
            json,
            llm,
        } => {
            let llm = llm.config()?;
            let text = std::fs::read_to_string(&questions)
                .with_context(|| format!("reading {}", questions.display()))?;
            let questions = nlq_eval::parse_questions(&text)?;
            let outcomes = eval::run(
                &questions,
                &data_dir,
                cli.as_of.as_deref(),
                &cli.metadata,
                llm.as_ref(),
            )?;
            let summary = nlq_eval::Summary::from_outcomes(&outcomes);
            let mut stdout = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(
                    &mut stdout,
                    &serde_json::json!({"outcomes": outcomes, "summary": summary}),
                )?;
                std::io::Write::write_all(&mut stdout, b"\n")?;
            } else {
                std::io::Write::write_all(
                    &mut stdout,
                    nlq_eval::render_table(&outcomes, &summary).as_bytes(),
                )?;
            }
            Ok(())
        }
        Command::Data {
            command:
                DataCommand::Generate {
                    scale,
                    seed,
                    profile,
                    out,
                    force,
                },
        } => {
            let out = out.unwrap_or(data_dir);
            let config = EmbeddedConfig::for_profile(&out, profile);
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
                &nlq_sample::SampleConfig {
                    seed,
                    scale,
                    profile,
                },
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
        Command::Teach {
            command,
            by,
            policy,
        } => {
            let opened =
                cli.warehouse
                    .open(open_options(&data_dir, cli.as_of, &cli.metadata, &policy))?;
            let pipeline = opened.pipeline(opened.policy(&policy, 10))?;
            let base = cli
                .metadata
                .knowledge_base(&data_dir, std::time::Duration::ZERO)?;
            let mut stdout = std::io::stdout().lock();
            runtime()?.block_on(teach::run(command, &base, &pipeline, &by, &mut stdout))
        }
        Command::Data {
            command:
                DataCommand::Import {
                    paths,
                    dataset,
                    out,
                },
        } => import_export(&paths, &dataset, &out.unwrap_or(data_dir)),
    }
}

fn import_export(paths: &[PathBuf], dataset: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let source = nlq_sample::ImportConfig::parse(dataset).map_err(nlq_exec::ExecError::from)?;
    let started = std::time::Instant::now();
    let report = embedded::import(out, paths, &source, &progress_bar())?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let rows: u64 = report.days.iter().map(|d| d.rows).sum();
    let replaced = report.days.iter().filter(|d| d.replaced).count();
    eprintln!(
        "imported {} rows of {} day(s) from {} file(s) into {} ({} replaced, {} day(s) in all; {:.1} s)",
        rows,
        report.days.len(),
        report.files,
        out.display(),
        replaced,
        report.manifest.shards.len(),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

fn read_sql(sql: String) -> anyhow::Result<String> {
    if sql != "-" {
        return Ok(sql);
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .context("reading the query from standard input")?;
    Ok(text)
}

/// Untrusted SQL: the guard decides before any data is built, prepared or read.
fn refuse_early(sql: &str, project: &str, dataset: &str) -> anyhow::Result<()> {
    let guard = nlq_validate::GuardConfig {
        allowed: vec![nlq_validate::AllowedDataset {
            project: project.to_owned(),
            dataset: dataset.to_owned(),
        }],
    };
    match nlq_validate::guard(sql, &guard)
        .into_iter()
        .find(|f| f.severity == nlq_validate::Severity::Error)
    {
        Some(finding) => Err(Failure::user(format!("refused: {}", finding.message)).into()),
        None => Ok(()),
    }
}

fn not_answered(report: &Report) -> anyhow::Error {
    let class = report.failure_class().unwrap_or(nlq_core::ErrorClass::Bug);
    let message = report
        .first_error()
        .map(|f| match f.position {
            Some(p) if !f.message.contains("line ") => format!("{} at {p}", f.message),
            _ => f.message.clone(),
        })
        .unwrap_or_else(|| "the query did not pass validation".to_owned());
    let prefix = if report.verdict == Verdict::Refused {
        "refused: "
    } else {
        ""
    };
    Failure {
        class,
        message: format!("{prefix}{message}"),
    }
    .into()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_of(args: &[&str]) -> (String, bool) {
        match Cli::try_parse_from(args).map(|cli| cli.command) {
            Ok(Command::Sql { sql, explain, .. }) => (sql, explain),
            Ok(_) => panic!("{args:?}: not the sql command"),
            Err(err) => panic!("{args:?}: {err}"),
        }
    }

    /// A query pasted with its `--` comment line first is the query, not an unknown flag.
    #[test]
    fn sql_and_questions_may_begin_with_a_hyphen() {
        let query = "-- daily users\nSELECT 1 AS x";
        assert_eq!(sql_of(&["nlq", "sql", query]), (query.to_owned(), false));
        assert_eq!(
            sql_of(&["nlq", "sql", "--explain", query]),
            (query.to_owned(), true)
        );
        assert_eq!(
            sql_of(&["nlq", "sql", query, "--explain"]),
            (query.to_owned(), true)
        );
        match Cli::try_parse_from(["nlq", "ask", "-5% 이상 떨어진 날?"]).map(|c| c.command) {
            Ok(Command::Ask { question, .. }) => assert_eq!(question, "-5% 이상 떨어진 날?"),
            _ => panic!("ask with a leading hyphen"),
        }
        match Cli::try_parse_from(["nlq", "check", "--plan", "--\nSELECT 1"]).map(|c| c.command) {
            Ok(Command::Check { sql, plan, .. }) => {
                assert_eq!((sql.as_str(), plan), ("--\nSELECT 1", true))
            }
            _ => panic!("check with a leading hyphen"),
        }
    }
}
