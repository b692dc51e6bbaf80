//! The stages of one question, in order, each timed and reported.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;

use nlq_semantic::{DateRange, Lang, Plan, Reader, SemanticModel, Understanding};
use nlq_validate::{DatasetFacts, Step, Validator, Verdict};

use crate::answer::{Answer, Event, Stage, Status, Timing, Turn};
use crate::error::PipelineError;
use crate::llm_path::{Grounding, LlmEnd, LlmPath, LlmReport, Run};

/// Answers questions from one dataset through one validator (and its warehouse).
pub struct Pipeline {
    model: Arc<SemanticModel>,
    validator: Validator,
    /// Where questions the semantic engine hands on go; None: they are answered `needs_llm`.
    llm: Option<LlmPath>,
    as_of: NaiveDate,
    /// The first and last day with data.
    data: DateRange,
}

impl Pipeline {
    /// `facts` are the dataset's tables and today's date, as the validator knows them.
    pub fn new(
        model: Arc<SemanticModel>,
        validator: Validator,
        facts: &DatasetFacts,
    ) -> Result<Self, PipelineError> {
        let as_of = NaiveDate::parse_from_str(&facts.today, "%Y-%m-%d")
            .map_err(|_| PipelineError::BadAsOf(facts.today.clone()))?;
        let mut days: Vec<NaiveDate> = facts
            .tables
            .iter()
            .filter_map(|t| t.strip_prefix("events_"))
            .filter_map(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
            .collect();
        days.sort_unstable();
        let (Some(&start), Some(&end)) = (days.first(), days.last()) else {
            return Err(PipelineError::NoData);
        };
        Ok(Pipeline {
            model,
            validator,
            llm: None,
            as_of,
            data: DateRange { start, end },
        })
    }

    pub fn model(&self) -> &SemanticModel {
        &self.model
    }

    /// Sends the questions the semantic engine cannot answer to an LLM.
    pub fn with_llm(mut self, llm: LlmPath) -> Self {
        self.llm = Some(llm);
        self
    }

    async fn ask_llm(
        &self,
        question: &str,
        history: &[Turn],
        reason: String,
        mut answer: Answer,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let Some(llm) = &self.llm else {
            return finish(answer, Status::NeedsLlm, Some(reason), events);
        };
        let run = Run {
            question,
            grounding: Grounding {
                model: &self.model,
                as_of: self.as_of.to_string(),
                first_suffix: self.data.start.format("%Y%m%d").to_string(),
                last_suffix: self.data.end.format("%Y%m%d").to_string(),
                history,
            },
            validator: &self.validator,
            events,
        };
        let started = Instant::now();
        let mut report = LlmReport::default();
        let end = llm.answer(&run, &mut report).await;
        answer.timings.push(Timing {
            stage: Stage::Llm,
            ms: elapsed(started),
        });
        let (status, message) = match end {
            LlmEnd::Ran(outcome, sql) => {
                let outcome = *outcome;
                answer.sql = Some(sql);
                answer.cost = outcome.report.cost.clone();
                answer.validation = Some(outcome.report);
                if let Some(result) = outcome.result {
                    let started = Instant::now();
                    let period = match (result.tables_read.first(), result.tables_read.last()) {
                        (Some(first), Some(last)) => format!("{first} .. {last}"),
                        _ => "(no daily table was read)".to_owned(),
                    };
                    let summary = match llm.summarize(&run, &period, &result, &mut report).await {
                        Some(text) => text,
                        // Without the model's summary, its own account of the query.
                        None => {
                            let rows = result.rows.len();
                            match report.explanation.as_deref() {
                                Some(e) if !e.is_empty() => format!("{e} ({rows} rows)"),
                                _ => format!("{rows} rows"),
                            }
                        }
                    };
                    let ms = elapsed(started);
                    answer.timings.push(Timing {
                        stage: Stage::Summarize,
                        ms,
                    });
                    events(&Event::Summarized {
                        summary: summary.clone(),
                        ms,
                    });
                    answer.summary = Some(summary);
                    answer.columns = result.columns;
                    answer.rows = result.rows;
                    answer.tables_read = result.tables_read;
                }
                (Status::Answered, None)
            }
            LlmEnd::Declined(why) => (Status::Clarify, Some(why)),
            LlmEnd::Help(why) => (
                Status::Clarify,
                Some(format!("{why}\n{}", help(&self.model))),
            ),
            LlmEnd::OutOfScope(why) => (Status::OutOfScope, Some(why)),
            LlmEnd::ChangeData(why) => (Status::Refused, Some(why)),
            LlmEnd::GaveUp(last, why) => {
                let status = match last.as_ref().map(|r| r.verdict) {
                    Some(Verdict::Refused) => Status::Refused,
                    _ => Status::Error,
                };
                let detail = last
                    .as_ref()
                    .and_then(|r| r.first_error().map(|f| f.message.clone()));
                if let Some(r) = last {
                    answer.sql = Some(r.sql.clone());
                    answer.validation = Some(*r);
                }
                let message = match detail {
                    Some(d) => format!("{why}; the last was stopped: {d}"),
                    None => why,
                };
                (status, Some(message))
            }
            LlmEnd::Failed(why) => (Status::Error, Some(format!("the LLM path failed: {why}"))),
        };
        events(&Event::LlmAnswered {
            provider: llm.provider().name().to_owned(),
            model: llm.provider().model().to_owned(),
            calls: report.calls.len(),
            input_tokens: report.input_tokens,
            output_tokens: report.output_tokens,
            cost_usd: report.cost_usd,
            ms: elapsed(started),
        });
        answer.llm = Some(report);
        finish(answer, status, message, events)
    }

    /// Answers one question; every stage is sent to `events` as it finishes.
    pub async fn ask(&self, question: &str, events: &(dyn Fn(&Event) + Send + Sync)) -> Answer {
        self.ask_with(question, &[], events).await
    }

    /// Answers a question that follows `history` (oldest first), which the LLM path gets as
    /// context.
    pub async fn ask_with(
        &self,
        question: &str,
        history: &[Turn],
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let mut answer = Answer {
            status: Status::Answered,
            question: question.to_owned(),
            message: None,
            sql: None,
            columns: vec![],
            rows: vec![],
            summary: None,
            plan: None,
            range: None,
            tables_read: vec![],
            validation: None,
            cost: None,
            llm: None,
            timings: vec![],
        };

        let started = Instant::now();
        let understanding = Reader::new(&self.model, self.as_of, self.data).understand(question);
        let ms = elapsed(started);
        answer.timings.push(Timing {
            stage: Stage::Understand,
            ms,
        });
        let plan = match understanding {
            Understanding::Data { plan } => {
                events(&Event::Understood {
                    intent: "data".into(),
                    plan: Some(plan.clone()),
                    ms,
                });
                plan
            }
            Understanding::NeedsLlm { reason } if self.llm.is_some() => {
                events(&Event::Understood {
                    intent: "needs_llm".into(),
                    plan: None,
                    ms,
                });
                return self
                    .ask_llm(question, history, reason, answer, events)
                    .await;
            }
            other => {
                let (intent, status, message) = match other {
                    Understanding::ChangeData { reason } => {
                        ("change_data", Status::Refused, reason)
                    }
                    Understanding::OutOfScope { reason } => {
                        ("out_of_scope", Status::OutOfScope, reason)
                    }
                    Understanding::Help => ("help", Status::Clarify, help(&self.model)),
                    Understanding::Clarify { question } => ("clarify", Status::Clarify, question),
                    Understanding::NeedsLlm { reason } => (
                        "needs_llm",
                        Status::NeedsLlm,
                        format!(
                            "{reason}; without an LLM configured nlq cannot answer this with confidence"
                        ),
                    ),
                    Understanding::Data { .. } => ("data", Status::Answered, String::new()),
                };
                events(&Event::Understood {
                    intent: intent.into(),
                    plan: None,
                    ms,
                });
                return finish(answer, status, Some(message), events);
            }
        };
        answer.range = Some(plan.range);
        answer.plan = Some(plan.clone());

        let started = Instant::now();
        let sql = match nlq_semantic::compile(&self.model, &plan) {
            Ok(sql) => sql,
            Err(bug) => return finish(answer, Status::Error, Some(bug), events),
        };
        let ms = elapsed(started);
        answer.timings.push(Timing {
            stage: Stage::Compile,
            ms,
        });
        events(&Event::Compiled {
            sql: sql.clone(),
            ms,
        });
        answer.sql = Some(sql.clone());

        let started = Instant::now();
        let outcome = self.validator.run(&sql).await;
        let total = elapsed(started);
        let execute_ms = outcome
            .report
            .steps
            .iter()
            .filter(|s| matches!(s.name, Step::Execute | Step::Assertions))
            .map(|s| s.elapsed.as_secs_f64() * 1000.0)
            .sum::<f64>();
        answer.timings.push(Timing {
            stage: Stage::Validate,
            ms: total - execute_ms,
        });
        events(&Event::Validated {
            report: outcome.report.clone(),
            ms: total - execute_ms,
        });
        answer.cost = outcome.report.cost.clone();
        let verdict = outcome.report.verdict;
        let first_error = outcome.report.first_error().map(|f| f.message.clone());
        answer.validation = Some(outcome.report);
        let Some(result) = outcome.result else {
            let status = match verdict {
                Verdict::Refused => Status::Refused,
                _ => Status::Error,
            };
            return finish(answer, status, first_error, events);
        };
        answer.timings.push(Timing {
            stage: Stage::Execute,
            ms: execute_ms,
        });
        events(&Event::Executed {
            rows: result.rows.len(),
            bytes_processed: result.bytes_processed,
            ms: execute_ms,
        });

        let started = Instant::now();
        // A range the data does not reach is an answer (no rows yet), not an error.
        let outside = plan.range.is_empty()
            || plan.range.end < self.data.start
            || plan.range.start > self.data.end;
        let summary = if outside {
            no_data(&plan, question, self.data)
        } else {
            nlq_semantic::summarize(&self.model, &plan, &result, Lang::of(question))
        };
        let ms = elapsed(started);
        answer.timings.push(Timing {
            stage: Stage::Summarize,
            ms,
        });
        events(&Event::Summarized {
            summary: summary.clone(),
            ms,
        });
        answer.summary = Some(summary);
        answer.columns = result.columns;
        answer.rows = result.rows;
        answer.tables_read = result.tables_read;
        finish(answer, Status::Answered, None, events)
    }
}

fn finish(
    mut answer: Answer,
    status: Status,
    message: Option<String>,
    events: &(dyn Fn(&Event) + Send + Sync),
) -> Answer {
    answer.status = status;
    if message.is_some() {
        answer.message = message;
    }
    events(&Event::Done { status });
    answer
}

fn elapsed(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

fn no_data(plan: &Plan, question: &str, data: DateRange) -> String {
    let words = plan.range_words.clone().unwrap_or_default();
    match Lang::of(question) {
        Lang::Ko => format!(
            "{words} ({} .. {})에는 아직 데이터가 없습니다. 데이터는 {} .. {} 기간에 있습니다.",
            plan.range.start, plan.range.end, data.start, data.end
        ),
        Lang::En => format!(
            "{words} ({} .. {}) has no data yet; the data covers {} .. {}.",
            plan.range.start, plan.range.end, data.start, data.end
        ),
    }
}

fn help(model: &SemanticModel) -> String {
    let metrics: Vec<&str> = model.metrics.iter().map(|m| m.name.as_str()).collect();
    let dimensions: Vec<&str> = model.dimensions.iter().map(|d| d.name.as_str()).collect();
    let examples: Vec<&str> = model.golden.iter().map(|g| g.question.as_str()).collect();
    format!(
        "Ask for a metric ({}) by a dimension ({}) over a period (어제, 지난 7일, 지난주, 지난달, \
         2020년 12월, last 14 days ...), with filters such as a country or device. Examples: {}",
        metrics.join(", "),
        dimensions.join(", "),
        examples.join(" | ")
    )
}
