//! `nlq eval`: each question through the pipeline, its gold SQL through the validator, on the
//! same embedded data, then `nlq_eval` compares and scores. Questions are grouped by their
//! as-of date: relative time words must mean what the question set says they mean. With an LLM
//! configured, what the semantic engine hands on goes to it, as in `nlq ask`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use nlq_eval::{Outcome, Question, Status, compare};
use nlq_validate::Policy;

pub fn run(
    questions: &[Question],
    data_dir: &Path,
    as_of: Option<&str>,
    metadata: &nlq_app::metadata::MetadataArgs,
    llm: Option<&nlq_app::llm::LlmConfig>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut by_day: BTreeMap<Option<String>, Vec<&Question>> = BTreeMap::new();
    for q in questions {
        let day = as_of.map(str::to_owned).or_else(|| q.as_of.clone());
        by_day.entry(day).or_default().push(q);
    }
    let runtime = nlq_app::setup::runtime()?;
    let mut outcomes = Vec::with_capacity(questions.len());
    // Parsed once: every day's pipeline reads the same model, over the data directory's
    // dataset and taught its MetaSync document, as `nlq ask` is.
    let (project, dataset) = {
        let config = nlq_app::setup::embedded_config(data_dir, None);
        (config.project, config.dataset)
    };
    let model = nlq_semantic::SemanticModel::builtin()?.for_dataset(&project, &dataset)?;
    let document = metadata.load(data_dir, &project, &dataset)?;
    let model = Arc::new(match &document {
        Some(document) => nlq_pipeline::metadata::model_with_values(model, document)?,
        None => model,
    });
    for (day, group) in by_day {
        let config = nlq_app::setup::embedded_config(data_dir, day);
        let opened = nlq_app::setup::Opened::embedded(
            nlq_app::setup::open_embedded(&config)?,
            document.clone(),
            model.clone(),
        )?;
        let mut policy = Policy::for_dataset(&opened.project, &opened.dataset);
        // The canary reruns a day of the query: no new information for an evaluation.
        policy.canary = false;
        let gold_validator = opened.validator(policy.clone())?;
        let mut pipeline = opened.pipeline(policy)?;
        if let Some(llm) = llm {
            let path = llm.path(pipeline.model())?;
            pipeline = pipeline.with_llm(path);
        }
        for question in group {
            let started = Instant::now();
            let answer = runtime.block_on(pipeline.ask(&question.question, &|_| {}));
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            let status = answer.status;
            let sql_ran = answer.validation.as_ref().is_some_and(|r| {
                r.steps
                    .iter()
                    .any(|s| s.name == nlq_validate::Step::Execute)
            });
            let comparison = match (&question.gold_sql, status) {
                (Some(gold), Status::Answered) => {
                    let gold = runtime.block_on(gold_validator.run(gold));
                    match gold.result {
                        Some(gold) => {
                            let result = nlq_core::QueryResult {
                                columns: answer.columns.clone(),
                                rows: answer.rows.clone(),
                                bytes_processed: 0,
                                elapsed_ms: 0,
                                tables_read: vec![],
                                truncated: false,
                            };
                            Some(compare(&gold, &result, question.order_matters))
                        }
                        None => {
                            eprintln!(
                                "{}: the gold SQL did not run: {}",
                                question.id,
                                gold.report
                                    .first_error()
                                    .map_or("no result", |f| f.message.as_str())
                            );
                            None
                        }
                    }
                }
                _ => None,
            };
            let mut outcome = Outcome::new(
                question,
                status,
                answer.sql.clone(),
                sql_ran,
                comparison.as_ref(),
                elapsed_ms,
            );
            if comparison.is_none()
                && let Some(message) = &answer.message
            {
                outcome.detail = format!("{} ({message})", outcome.detail);
            }
            outcomes.push(outcome);
        }
    }
    // The file's order, whatever the grouping.
    let order: BTreeMap<&str, usize> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.as_str(), i))
        .collect();
    outcomes.sort_by_key(|o| order.get(o.id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(outcomes)
}
