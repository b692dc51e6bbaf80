//! The LLM path: questions the semantic engine hands on.
//!
//! ```text
//!  classify ─► data? ─► generate ─► check (guard, lint, dry run, cost) ─► risky? ─► review
//!     │                    ▲                       │ refused                         │
//!     │                    └──── repair ◄──────────┘ (bounded, each call recorded)   ▼
//!     └─► help / out of scope / change data                           run ─► summarize
//! ```
//!
//! Prompts are grounded (schema, the model's definitions, GA4 rules, the most similar golden
//! queries, the conversation, the as-of date) and trimmed to a token budget. Every reply is
//! untrusted: JSON that does not parse is asked for again, never executed; SQL goes through the
//! same validator as every other query. Every call is recorded with its tokens and cost.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use nlq_core::{ChatMessage, ChatRequest, LlmProvider, QueryResult};
use nlq_llm::budget::{self, Section};
use nlq_llm::retrieval::GlossaryEntry;
use nlq_llm::{ExampleIndex, LexicalIndex, PriceTable, PromptSet, prompt};
use nlq_metasync::MetadataDocument;
use nlq_semantic::{Lang, SemanticModel};
use nlq_validate::{Job, Outcome, Report, Severity, Validator};

use crate::answer::Event;
use crate::risk::{self, Risk};

mod grounding;
mod reply;
mod report;

pub(crate) use grounding::Grounding;
use grounding::{context, definitions, rows_table, schema_columns, with_hint};
use reply::{Draft, Intent, parse_json};
pub use report::{LlmCall, LlmReport, LlmStage, StageCost};

/// The LLM path's configuration.
pub struct LlmPath {
    provider: Arc<dyn LlmProvider>,
    /// The expert for risky drafts; None: the same provider.
    reviewer: Option<Arc<dyn LlmProvider>>,
    prompts: PromptSet,
    /// The semantic model's words, for the retrieval index.
    glossary: Vec<GlossaryEntry>,
    index: LexicalIndex,
    /// The last MetaSync document: its verified examples replace the model's golden queries,
    /// and its catalog goes into the prompts.
    metadata: Option<MetadataDocument>,
    /// Analysts' business notes and what the taught metrics must not be summed over: read
    /// before the model's definitions.
    notes: Vec<String>,
    /// The model's golden queries, retrieved when no MetaSync document replaces them.
    golden: Vec<nlq_semantic::model::Golden>,
    /// Taught examples, retrieved beside the golden (or MetaSync's) ones.
    taught: Vec<nlq_semantic::model::Golden>,
    /// The words of every golden query, to measure how far a draft is from all of them.
    golden_shapes: Vec<HashSet<String>>,
    prices: PriceTable,
    /// Repairs after the first draft.
    pub max_repairs: u32,
    /// How many golden queries go into the prompt.
    pub examples: usize,
    /// The estimated tokens a SQL prompt may take; context is trimmed to fit.
    pub max_prompt_tokens: usize,
    /// Drafts with a risk score at or above this get an expert review before they run.
    pub review_threshold: f64,
    /// Ask the model what kind of request it is before writing SQL.
    pub classify: bool,
    /// At most this many rows go to the model for the summary; 0: no LLM summary.
    pub summary_rows: usize,
}

impl LlmPath {
    pub fn new(
        provider: Arc<dyn LlmProvider>,
        model: &SemanticModel,
    ) -> Result<Self, nlq_llm::LlmError> {
        Ok(LlmPath {
            provider,
            reviewer: None,
            prompts: PromptSet::builtin()?,
            glossary: GlossaryEntry::from_model(model),
            index: LexicalIndex::from_model(model),
            metadata: None,
            notes: Vec::new(),
            golden: model.golden.clone(),
            taught: Vec::new(),
            golden_shapes: model.golden.iter().map(|g| risk::shape(&g.sql)).collect(),
            prices: PriceTable::builtin()?,
            max_repairs: 2,
            examples: 3,
            max_prompt_tokens: 12_000,
            review_threshold: 0.6,
            classify: true,
            summary_rows: 20,
        })
    }

    /// Risky drafts go to this provider (another model, say) for review.
    pub fn with_reviewer(mut self, reviewer: Arc<dyn LlmProvider>) -> Self {
        self.reviewer = Some(reviewer);
        self
    }

    /// Grounds the prompts in a MetaSync document: only its examples (the golden queries that
    /// still validate on the current data) are retrieved and measured against, and its facts
    /// about the data (coverage, events, parameters and their value fields) are sent.
    pub fn with_metadata(mut self, document: &MetadataDocument) -> Self {
        self.metadata = Some(document.clone());
        self.reindex();
        self
    }

    /// Grounds the prompts in what analysts taught: their notes go into every SQL prompt, a
    /// taught metric that does not add up says so, and verified examples are retrieved like
    /// golden ones.
    pub fn with_knowledge(mut self, knowledge: &nlq_core::knowledge::Knowledge) -> Self {
        use nlq_core::knowledge::Lesson;
        self.notes = knowledge.notes();
        for taught in &knowledge.entries {
            if let Lesson::Metric {
                name,
                additive: false,
                ..
            } = &taught.lesson
            {
                self.notes.push(format!(
                    "metric {name} does not add up: never sum it across rows, days or groups; \
                     compute it over the whole range instead"
                ));
            }
        }
        self.taught = knowledge
            .entries
            .iter()
            .filter_map(|t| match &t.lesson {
                Lesson::Example { question, sql, .. } => Some(nlq_semantic::model::Golden {
                    question: question.clone(),
                    sql: sql.clone(),
                }),
                _ => None,
            })
            .collect();
        self.reindex();
        self
    }

    /// The retrieval index over MetaSync's examples (else the model's golden queries, which
    /// `new` indexed) and the taught ones.
    fn reindex(&mut self) {
        let mut examples = match &self.metadata {
            Some(document) => crate::metadata::examples(document),
            None => self.golden.clone(),
        };
        examples.extend(self.taught.iter().cloned());
        self.index = LexicalIndex::new(&examples, &self.glossary);
        self.golden_shapes = examples.iter().map(|g| risk::shape(&g.sql)).collect();
    }

    pub fn with_prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    pub fn provider(&self) -> &dyn LlmProvider {
        self.provider.as_ref()
    }
}

/// How the LLM path ended.
pub(crate) enum LlmEnd {
    /// The validated run of the last draft.
    Ran(Box<Outcome>, String),
    /// A draft that passed its checks and waits for approval: its report and SQL.
    NeedsApproval(Box<Report>, String),
    /// The model declined to write SQL, saying why.
    Declined(String),
    /// Every draft was refused or failed; the last report says why.
    GaveUp(Option<Box<Report>>, String),
    /// The provider failed.
    Failed(String),
    /// The classifier's reading of a request that is not a data question.
    Help(String),
    OutOfScope(String),
    ChangeData(String),
}

/// One question's way through the LLM path.
pub(crate) struct Run<'a> {
    pub question: &'a str,
    pub grounding: Grounding<'a>,
    pub validator: &'a Validator,
    /// The labels of every warehouse job (the conversation).
    pub labels: Vec<(String, String)>,
    /// Lint rules the request allows.
    pub allow: &'a [String],
    pub events: &'a (dyn Fn(&Event) + Send + Sync),
    /// Drafts billing more than this wait for the user's approval instead of running.
    pub approval_bytes: Option<u64>,
}

impl Run<'_> {
    fn job(&self) -> Job<'_> {
        Job {
            labels: &self.labels,
            allow: self.allow,
        }
    }
}

impl LlmPath {
    pub(crate) async fn answer(&self, run: &Run<'_>, report: &mut LlmReport) -> LlmEnd {
        if self.classify {
            match self.classify(run, report).await {
                Ok(None) => {}
                Ok(Some(end)) => return end,
                Err(err) => return LlmEnd::Failed(err),
            }
        }
        let mut values = match self.values(run, report) {
            Ok(values) => values,
            Err(err) => return LlmEnd::Failed(err),
        };
        let mut stage = LlmStage::Generate;
        let mut reviewed = false;
        let mut last_report = None;
        let mut round = 0;
        loop {
            let template = match stage {
                LlmStage::Repair => prompt::REPAIR_SQL,
                _ => prompt::GENERATE_SQL,
            };
            let (text, mut call) = match self
                .call(self.provider.as_ref(), stage, template, &values, false, run)
                .await
            {
                Ok(reply) => reply,
                Err(err) => return LlmEnd::Failed(err),
            };
            let problems = match self
                .try_draft(&text, &mut call, &mut reviewed, run, report)
                .await
            {
                DraftEnd::Done(end) => return end,
                DraftEnd::Rejected {
                    sql,
                    problems,
                    report: checked,
                } => {
                    if checked.is_some() {
                        last_report = checked;
                    }
                    values.insert("sql", sql);
                    problems
                }
            };
            values.insert("findings", problems.join("\n"));
            if round == self.max_repairs {
                break;
            }
            round += 1;
            stage = LlmStage::Repair;
        }
        LlmEnd::GaveUp(
            last_report,
            format!(
                "{} drafts from the LLM did not pass validation",
                report.drafts().count()
            ),
        )
    }

    /// Reads one draft reply, checks it, reviews it when risky, and runs it.
    async fn try_draft(
        &self,
        text: &str,
        call: &mut LlmCall,
        reviewed: &mut bool,
        run: &Run<'_>,
        report: &mut LlmReport,
    ) -> DraftEnd {
        let draft = match parse_json::<Draft>(text) {
            Ok(draft) => draft,
            Err(err) => {
                // Never run what could not be read: ask again with the problem stated.
                let problem = format!("the reply was not the JSON asked for: {err}");
                call.problems.push(problem.clone());
                self.record_draft(call.clone(), run, report);
                return DraftEnd::Rejected {
                    sql: "(no SQL: the previous reply was not valid JSON)".into(),
                    problems: vec![problem],
                    report: None,
                };
            }
        };
        report.explanation = Some(draft.explanation.clone());
        report.assumptions = draft.assumptions.clone();
        let Some(mut sql) = draft.sql.filter(|s| !s.trim().is_empty()) else {
            self.record_draft(call.clone(), run, report);
            return DraftEnd::Done(LlmEnd::Declined(draft.explanation));
        };
        call.sql = Some(sql.clone());

        let mut checked = run.validator.check_job(&sql, &run.job()).await;
        if checked.passed() && !*reviewed {
            let bytes = checked.cost.as_ref().map_or(0, |c| c.bytes_processed);
            let max = run.validator.policy().cost.maximum_bytes_billed;
            let risk = risk::assess(&sql, bytes, max, &self.golden_shapes);
            let review = risk.score >= self.review_threshold;
            (run.events)(&Event::RiskAssessed {
                risk: risk.clone(),
                review,
            });
            report.risk = Some(risk.clone());
            if review {
                *reviewed = true;
                // The draft passed its checks; what runs from here is the review's reply.
                self.record_draft(call.clone(), run, report);
                let (verdict, review_call) = match self
                    .review(run, &sql, &draft.explanation, &risk, report)
                    .await
                {
                    Ok(reply) => reply,
                    Err(err) => return DraftEnd::Done(LlmEnd::Failed(err)),
                };
                *call = review_call;
                match verdict {
                    Some(better) if better.trim() != sql.trim() => {
                        sql = better;
                        checked = run.validator.check_job(&sql, &run.job()).await;
                    }
                    Some(_) => {}
                    None => {
                        self.record_draft(call.clone(), run, report);
                        let why = report.explanation.clone().unwrap_or_default();
                        return DraftEnd::Done(LlmEnd::Declined(why));
                    }
                }
            }
        }
        if !checked.passed() {
            let problems = findings(&checked);
            call.problems = problems.clone();
            self.record_draft(call.clone(), run, report);
            return DraftEnd::Rejected {
                sql,
                problems,
                report: Some(Box::new(checked)),
            };
        }
        let billed = checked.cost.as_ref().map_or(0, |c| c.bytes_billed);
        if run.approval_bytes.is_some_and(|limit| billed > limit) {
            self.record_draft(call.clone(), run, report);
            return DraftEnd::Done(LlmEnd::NeedsApproval(Box::new(checked), sql));
        }
        let outcome = run.validator.run_job(&sql, &run.job()).await;
        if outcome.report.passed() && outcome.result.is_some() {
            self.record_draft(call.clone(), run, report);
            return DraftEnd::Done(LlmEnd::Ran(Box::new(outcome), sql));
        }
        let problems = findings(&outcome.report);
        call.problems = problems.clone();
        self.record_draft(call.clone(), run, report);
        DraftEnd::Rejected {
            sql,
            problems,
            report: Some(Box::new(outcome.report)),
        }
    }

    /// Records a draft call and tells the caller about it.
    fn record_draft(&self, call: LlmCall, run: &Run<'_>, report: &mut LlmReport) {
        (run.events)(&Event::Drafted {
            stage: call.stage,
            sql: call.sql.clone(),
            problems: call.problems.clone(),
        });
        report.record(call);
    }

    /// The classifier's verdict: None for a data question (go on), or how to end.
    async fn classify(
        &self,
        run: &Run<'_>,
        report: &mut LlmReport,
    ) -> Result<Option<LlmEnd>, String> {
        let g = &run.grounding;
        let values = BTreeMap::from([
            (
                "scope",
                format!(
                    "GA4 events of one web store (`{}`), one table per day from {} to {}; as of {}",
                    g.model.table, g.first_suffix, g.last_suffix, g.as_of
                ),
            ),
            ("context", context(g.context)),
            ("question", run.question.to_owned()),
        ]);
        let (text, mut call) = self
            .call(
                self.provider.as_ref(),
                LlmStage::Classify,
                prompt::CLASSIFY,
                &values,
                false,
                run,
            )
            .await?;
        let verdict = parse_json::<Intent>(&text);
        if let Err(err) = &verdict {
            // The classifier only advises: an unreadable verdict lets the question go on,
            // since the guard, not the classifier, stops anything harmful.
            call.problems
                .push(format!("the reply was not the JSON asked for: {err}"));
        }
        report.record(call);
        let Ok(Intent { intent, reason }) = verdict else {
            return Ok(None);
        };
        (run.events)(&Event::Classified {
            intent: intent.clone(),
            reason: reason.clone(),
        });
        report.intent = Some((intent.clone(), reason.clone()));
        Ok(match intent.as_str() {
            "help" => Some(LlmEnd::Help(reason)),
            "out_of_scope" => Some(LlmEnd::OutOfScope(reason)),
            "change_data" => Some(LlmEnd::ChangeData(reason)),
            _ => None,
        })
    }

    /// The expert's look at a risky draft: Some(sql) to run (the same or corrected), None
    /// when the expert says the data cannot answer; with the call, for the caller to record.
    async fn review(
        &self,
        run: &Run<'_>,
        sql: &str,
        explanation: &str,
        risk: &Risk,
        report: &mut LlmReport,
    ) -> Result<(Option<String>, LlmCall), String> {
        let mut values = self.values(run, report)?;
        values.insert("sql", sql.to_owned());
        let mut about = explanation.to_owned();
        for a in &report.assumptions {
            about.push_str(&format!("\nassumed: {a}"));
        }
        values.insert("explanation", about);
        values.insert(
            "risks",
            format!(
                "risk score {:.2}: {}",
                risk.score,
                if risk.reasons.is_empty() {
                    "no single reason stands out".to_owned()
                } else {
                    risk.reasons.join("; ")
                }
            ),
        );
        let reviewer = self.reviewer.as_deref().unwrap_or(self.provider.as_ref());
        let (text, mut call) = self
            .call(
                reviewer,
                LlmStage::Review,
                prompt::REVIEW_SQL,
                &values,
                false,
                run,
            )
            .await?;
        match parse_json::<Draft>(&text) {
            Ok(draft) => {
                let sql = draft.sql.filter(|s| !s.trim().is_empty());
                call.sql = sql.clone();
                report.explanation = Some(draft.explanation);
                if sql.is_some() {
                    report.assumptions = draft.assumptions;
                }
                Ok((sql, call))
            }
            Err(err) => {
                // An unreadable review leaves the draft as it was: it already passed checks.
                call.problems
                    .push(format!("the review was not the JSON asked for: {err}"));
                call.sql = Some(sql.to_owned());
                Ok((Some(sql.to_owned()), call))
            }
        }
    }

    /// A short answer from the first rows, in the question's language, streamed as it is
    /// written. None when summaries are off or the call failed (the caller has a fallback).
    pub(crate) async fn summarize(
        &self,
        run: &Run<'_>,
        period: &str,
        result: &QueryResult,
        report: &mut LlmReport,
    ) -> Option<String> {
        if self.summary_rows == 0 {
            return None;
        }
        let values = BTreeMap::from([
            (
                "language",
                match Lang::of(run.question) {
                    Lang::Ko => "Korean",
                    Lang::En => "English",
                }
                .to_owned(),
            ),
            ("question", run.question.to_owned()),
            ("period", period.to_owned()),
            ("row_count", result.rows.len().to_string()),
            ("rows", rows_table(result, self.summary_rows)),
        ]);
        match self
            .call(
                self.provider.as_ref(),
                LlmStage::Summarize,
                prompt::SUMMARIZE,
                &values,
                true,
                run,
            )
            .await
        {
            Ok((text, call)) => {
                report.record(call);
                let text = text.trim();
                (!text.is_empty()).then(|| text.to_owned())
            }
            Err(_) => None,
        }
    }

    /// Renders a prompt (each template takes the variables it declares), calls `provider`,
    /// and returns the reply's text with the call's record (usage, cost, time).
    async fn call(
        &self,
        provider: &dyn LlmProvider,
        stage: LlmStage,
        template: &str,
        values: &BTreeMap<&'static str, String>,
        stream: bool,
        run: &Run<'_>,
    ) -> Result<(String, LlmCall), String> {
        let rendered = self
            .prompts
            .get(template)
            .and_then(|t| {
                let declared: BTreeMap<&str, String> = values
                    .iter()
                    .filter(|(k, _)| t.variables().iter().any(|v| v.name == **k))
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                t.render(&declared)
            })
            .map_err(|err| format!("prompt {template}: {err}"))?;
        // SQL and verdicts are asked for as JSON; a summary is prose.
        let request = ChatRequest {
            messages: vec![ChatMessage::user(rendered.text.clone())],
            json: !stream,
        };
        let started = Instant::now();
        let reply = if stream {
            let events = run.events;
            provider
                .chat_stream(&request, &|piece| {
                    events(&Event::SummaryDelta {
                        text: piece.to_owned(),
                    })
                })
                .await
        } else {
            provider.chat(&request).await
        }
        .map_err(|err| err.to_string())?;
        let call = LlmCall {
            stage,
            prompt: rendered.id(),
            cost_usd: reply
                .usage
                .and_then(|usage| self.prices.cost(&reply.provider, &reply.model, usage)),
            provider: reply.provider,
            model: reply.model,
            usage: reply.usage,
            ms: started.elapsed().as_secs_f64() * 1000.0,
            sql: None,
            problems: vec![],
        };
        Ok((reply.text, call))
    }

    /// The variables of the SQL prompts, with the context trimmed to the token budget.
    fn values(
        &self,
        run: &Run<'_>,
        report: &mut LlmReport,
    ) -> Result<BTreeMap<&'static str, String>, String> {
        let g = &run.grounding;
        let rules = self
            .prompts
            .render(
                prompt::GA4_RULES,
                &BTreeMap::from([
                    ("table", g.model.table.clone()),
                    ("first_suffix", g.first_suffix.clone()),
                    ("last_suffix", g.last_suffix.clone()),
                ]),
            )
            .map_err(|e| e.to_string())?
            .text;
        let retrieved = self.index.top_k(run.question, self.examples);
        let data = match &self.metadata {
            Some(document) => {
                let sqls: Vec<&str> = retrieved.iter().map(|e| e.sql).collect();
                let relevant = crate::metadata::relevant_events(document, run.question, &sqls);
                crate::metadata::data_facts(document, &relevant)
            }
            None => Vec::new(),
        };
        let examples: Vec<String> = retrieved
            .iter()
            .map(|e| format!("Question: {}\nSQL:\n{}", e.question, e.sql.trim()))
            .collect();
        let definitions: Vec<String> = self
            .notes
            .iter()
            .map(|note| format!("note: {note}"))
            .chain(definitions(g.model, run.question))
            .collect();
        let schema = schema_columns(&examples, &definitions)?;
        let mut values = BTreeMap::from([
            ("as_of", g.as_of.clone()),
            ("ga4_rules", rules),
            ("context", with_hint(context(g.context), g.hint.as_deref())),
            ("question", run.question.to_owned()),
            // The longest variables of the repair and review prompts, so the budget holds
            // for them too.
            ("sql", String::new()),
            ("findings", String::new()),
        ]);
        // The fixed part: the longest template with every trimmable variable empty.
        for name in ["schema", "definitions", "examples", "data_facts"] {
            values.insert(name, String::new());
        }
        let fixed = self
            .prompts
            .render(prompt::REVIEW_SQL, &{
                let mut v: BTreeMap<&str, String> = values
                    .iter()
                    .filter(|(k, _)| !matches!(**k, "findings"))
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                v.insert("explanation", String::new());
                v.insert("risks", String::new());
                v
            })
            .map(|r| budget::estimate_tokens(&r.text))
            .map_err(|e| e.to_string())?;
        // Drafts and repairs carry a query of their own: leave room for one.
        let room = 600;
        let (columns, needed) = schema;
        let mut sections = [
            Section::new("examples", examples, 0),
            Section::new("data_facts", data, 0),
            Section::new("schema", columns, needed),
            Section::new("glossary", definitions, 0),
        ];
        let trimmed = budget::fit(fixed + room, &mut sections, self.max_prompt_tokens);
        let [examples, data, columns, definitions] = sections;
        values.insert(
            "examples",
            if examples.items.is_empty() {
                "(none)".to_owned()
            } else {
                examples.items.join("\n\n")
            },
        );
        values.insert(
            "schema",
            format!(
                "`{}` (one table per day, events_YYYYMMDD), columns:\n{}",
                g.model.table,
                columns.items.join("\n")
            ),
        );
        values.insert("definitions", definitions.items.join("\n"));
        values.insert(
            "data_facts",
            if data.items.is_empty() {
                "(none)".to_owned()
            } else {
                data.items.join("\n")
            },
        );
        values.remove("sql");
        values.remove("findings");
        report.trimmed = Some(trimmed);
        Ok(values)
    }
}

enum DraftEnd {
    Done(LlmEnd),
    /// Not runnable: the problems go back to the model with this SQL.
    Rejected {
        sql: String,
        problems: Vec<String>,
        report: Option<Box<Report>>,
    },
}

fn findings(report: &Report) -> Vec<String> {
    report
        .steps
        .iter()
        .flat_map(|step| {
            step.findings.iter().map(move |f| {
                format!(
                    "{:?} {} {}: {}{}",
                    step.name,
                    f.rule,
                    match f.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    },
                    f.message,
                    f.position.map(|p| format!(" (at {p})")).unwrap_or_default()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use nlq_core::{Column, Value};

    use super::*;

    #[test]
    fn identifier_columns_never_reach_the_summary_prompt() {
        let column = |name: &str| Column {
            name: name.into(),
            ty: nlq_core::BqType::String,
        };
        let result = QueryResult {
            columns: vec![
                column("user_pseudo_id"),
                column("purchases"),
                column("buyer_user_id"),
            ],
            rows: (0..30)
                .map(|i| {
                    vec![
                        Value::String(format!("pseudo{i}")),
                        Value::Int64(i),
                        Value::String(format!("u{i}")),
                    ]
                })
                .collect(),
            bytes_processed: 0,
            elapsed_ms: 0,
            tables_read: vec![],
            truncated: false,
        };
        let table = rows_table(&result, 5);
        assert_eq!(table.lines().count(), 6);
        assert!(table.starts_with("| purchases |"));
        assert!(
            !table.contains("pseudo") && !table.contains("u1"),
            "{table}"
        );
    }

    #[test]
    fn fenced_json_is_read() {
        let d: Draft = parse_json("```json\n{\"sql\": null}\n```").unwrap();
        assert!(d.sql.is_none());
    }
}
