//! `nlq teach`: lessons checked against the data, then kept in the knowledge store.

use std::io::Write;

use clap::Subcommand;

use nlq_core::knowledge::Lesson;
use nlq_pipeline::Pipeline;
use nlq_pipeline::knowledge::{KnowledgeBase, check};

#[derive(Subcommand)]
pub enum TeachCommand {
    /// A verified example: this question is answered by this SQL from now on (its dates moved
    /// to what the question means when asked again).
    Example { question: String, sql: String },
    /// A word for a metric, a dimension or a value (`event_name=sign_up`).
    Synonym { word: String, means: String },
    /// A metric: an aggregate SQL expression over one events row.
    Metric {
        name: String,
        sql: String,
        /// count, currency, ratio, seconds or decimal.
        #[arg(long, default_value = "count")]
        format: String,
        /// Its values do not add up across rows and days (users, ratios).
        #[arg(long)]
        not_additive: bool,
        /// A word questions name it by (repeat for several; default: its name).
        #[arg(long = "word")]
        words: Vec<String>,
    },
    /// A business note for the LLM's prompt.
    Note { text: String },
    /// What was taught, by whom and when.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Forget a lesson by its id (see `list`).
    Remove { id: String },
}

/// Runs one teach command; `pipeline` checks new lessons against the data.
pub async fn run(
    command: TeachCommand,
    base: &KnowledgeBase,
    pipeline: &Pipeline,
    by: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let lesson = match command {
        TeachCommand::List { json } => {
            let (version, knowledge) = base.current().await?;
            if json {
                serde_json::to_writer_pretty(&mut *out, knowledge.as_ref())?;
                writeln!(out)?;
            } else {
                let version = version.map_or("nothing taught yet".to_owned(), |v| v.to_string());
                writeln!(out, "{} ({version})", base.location())?;
                for taught in &knowledge.entries {
                    writeln!(
                        out,
                        "{:<5} {:<8} {}  ({}, {})",
                        taught.id,
                        taught.lesson.kind(),
                        describe(&taught.lesson),
                        taught.by,
                        taught.at
                    )?;
                }
            }
            return Ok(());
        }
        TeachCommand::Remove { id } => {
            let removed = base.change(|k| k.remove(&id)).await?;
            writeln!(
                out,
                "removed {} ({})",
                removed.id,
                describe(&removed.lesson)
            )?;
            return Ok(());
        }
        TeachCommand::Example { question, sql } => Lesson::Example {
            question,
            sql,
            range: None,
        },
        TeachCommand::Synonym { word, means } => Lesson::Synonym { word, means },
        TeachCommand::Metric {
            name,
            sql,
            format,
            not_additive,
            words,
        } => Lesson::Metric {
            name,
            sql,
            format,
            additive: !not_additive,
            words,
        },
        TeachCommand::Note { text } => Lesson::Note { text },
    };
    let lesson = check(pipeline, lesson)
        .await
        .map_err(nlq_pipeline::knowledge::TeachError::from)?;
    let at = nlq_pipeline::knowledge::now();
    let summary = describe(&lesson);
    let id = base.change(|k| Ok(k.add(lesson.clone(), by, &at))).await?;
    writeln!(out, "taught {id}: {summary}")?;
    Ok(())
}

fn describe(lesson: &Lesson) -> String {
    match lesson {
        Lesson::Example { question, .. } => format!("“{question}” answered by its SQL"),
        Lesson::Synonym { word, means } => format!("“{word}” means {means}"),
        Lesson::Metric { name, sql, .. } => format!("{name} = {sql}"),
        Lesson::Note { text } => text.clone(),
    }
}
