//! The LLM path: questions the semantic engine hands on. The prompt is grounded (schema, the
//! model's definitions, GA4 rules, the most similar golden queries, the as-of date); the reply
//! must be strict JSON; its SQL is untrusted and goes through the same validator as every other
//! query; what validation stops is sent back for repair, a bounded number of times, each attempt
//! recorded.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use nlq_core::{ChatMessage, ChatRequest, LlmProvider, Usage};
use nlq_llm::{ExampleIndex, LexicalIndex, PromptSet, prompt};
use nlq_semantic::SemanticModel;
use nlq_validate::{Outcome, Severity};

/// The LLM path's configuration.
pub struct LlmPath {
    provider: Arc<dyn LlmProvider>,
    prompts: PromptSet,
    index: LexicalIndex,
    /// Repairs after the first draft.
    pub max_repairs: u32,
    /// How many golden queries go into the prompt.
    pub examples: usize,
}

impl LlmPath {
    pub fn new(
        provider: Arc<dyn LlmProvider>,
        model: &SemanticModel,
    ) -> Result<Self, nlq_llm::LlmError> {
        Ok(LlmPath {
            provider,
            prompts: PromptSet::builtin()?,
            index: LexicalIndex::from_model(model),
            max_repairs: 2,
            examples: 3,
        })
    }

    pub fn provider(&self) -> &dyn LlmProvider {
        self.provider.as_ref()
    }
}

/// One call to the model and what became of its reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmAttempt {
    /// `generate_sql@1`, `repair_sql@1`.
    pub prompt: String,
    pub provider: String,
    pub model: String,
    pub usage: Usage,
    pub sql: Option<String>,
    /// Why this draft was not the answer: validation findings, or a reply that was not JSON.
    pub problems: Vec<String>,
}

/// Everything the LLM did for one answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlmReport {
    pub attempts: Vec<LlmAttempt>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub explanation: Option<String>,
    pub assumptions: Vec<String>,
}

/// What the model must reply.
#[derive(Debug, Deserialize)]
struct Draft {
    sql: Option<String>,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    assumptions: Vec<String>,
}

/// How the LLM path ended.
pub(crate) enum LlmEnd {
    /// The validated run of the last draft.
    Ran(Box<Outcome>, String),
    /// The model declined to write SQL, saying why.
    Declined(String),
    /// Every draft was refused or failed; the last outcome says why.
    GaveUp(Option<Box<Outcome>>, String),
    /// The provider failed.
    Failed(String),
}

/// The facts the prompts are grounded in.
pub(crate) struct Grounding<'a> {
    pub model: &'a SemanticModel,
    pub as_of: String,
    pub first_suffix: String,
    pub last_suffix: String,
}

impl LlmPath {
    pub(crate) async fn answer<F, Fut>(
        &self,
        question: &str,
        grounding: &Grounding<'_>,
        report: &mut LlmReport,
        validate: F,
    ) -> LlmEnd
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let mut values = match self.values(question, grounding) {
            Ok(values) => values,
            Err(err) => return LlmEnd::Failed(err),
        };
        let mut template = prompt::GENERATE_SQL;
        let mut last_outcome = None;
        for round in 0..=self.max_repairs {
            let rendered = match self.prompts.get(template).and_then(|t| {
                // Each template takes only the variables it declares.
                let declared: BTreeMap<&str, String> = values
                    .iter()
                    .filter(|(k, _)| t.variables().iter().any(|v| v.name == **k))
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                t.render(&declared)
            }) {
                Ok(r) => r,
                Err(err) => return LlmEnd::Failed(format!("prompt {template}: {err}")),
            };
            let request = ChatRequest {
                messages: vec![ChatMessage::user(rendered.text)],
                json: true,
            };
            let reply = match self.provider.chat(&request).await {
                Ok(reply) => reply,
                Err(err) => return LlmEnd::Failed(err.to_string()),
            };
            report.input_tokens += reply.usage.input_tokens;
            report.output_tokens += reply.usage.output_tokens;
            let mut attempt = LlmAttempt {
                prompt: rendered_id(template, &rendered.version),
                provider: reply.provider.clone(),
                model: reply.model.clone(),
                usage: reply.usage,
                sql: None,
                problems: vec![],
            };
            let draft: Draft = match serde_json::from_str(strip_fences(&reply.text)) {
                Ok(draft) => draft,
                Err(err) => {
                    attempt
                        .problems
                        .push(format!("the reply was not the JSON asked for: {err}"));
                    report.attempts.push(attempt);
                    // Never run what could not be read: ask again with the problem stated.
                    values.insert(
                        "sql",
                        "(no SQL: the previous reply was not valid JSON)".into(),
                    );
                    let problems = report
                        .attempts
                        .last()
                        .map(|a| a.problems.join("\n"))
                        .unwrap_or_default();
                    values.insert("findings", problems);
                    template = prompt::REPAIR_SQL;
                    continue;
                }
            };
            report.explanation = Some(draft.explanation.clone());
            report.assumptions = draft.assumptions.clone();
            let Some(sql) = draft.sql.filter(|s| !s.trim().is_empty()) else {
                report.attempts.push(attempt);
                return LlmEnd::Declined(draft.explanation);
            };
            attempt.sql = Some(sql.clone());
            let outcome = validate(sql.clone()).await;
            if outcome.report.passed() && outcome.result.is_some() {
                report.attempts.push(attempt);
                return LlmEnd::Ran(Box::new(outcome), sql);
            }
            let findings: Vec<String> = outcome
                .report
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
                .collect();
            attempt.problems = findings.clone();
            report.attempts.push(attempt);
            last_outcome = Some(Box::new(outcome));
            if round == self.max_repairs {
                break;
            }
            values.insert("sql", sql);
            values.insert("findings", findings.join("\n"));
            template = prompt::REPAIR_SQL;
        }
        LlmEnd::GaveUp(
            last_outcome,
            format!(
                "{} drafts from the LLM did not pass validation",
                report.attempts.len()
            ),
        )
    }

    /// The variables of the SQL prompts; each template takes the ones it declares.
    fn values(
        &self,
        question: &str,
        g: &Grounding<'_>,
    ) -> Result<BTreeMap<&'static str, String>, String> {
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
        let definitions: Vec<String> =
            g.model
                .metrics
                .iter()
                .map(|m| format!("metric {}: {}  -- {}", m.name, m.sql, m.en.join(", ")))
                .chain(
                    g.model.dimensions.iter().map(|d| {
                        format!("dimension {}: {}  -- {}", d.name, d.sql, d.en.join(", "))
                    }),
                )
                .collect();
        let examples: Vec<String> = self
            .index
            .top_k(question, self.examples)
            .iter()
            .map(|e| format!("Question: {}\nSQL:\n{}", e.question, e.sql.trim()))
            .collect();
        Ok(BTreeMap::from([
            ("as_of", g.as_of.clone()),
            (
                "schema",
                format!(
                    "`{}` (one table per day, events_YYYYMMDD), columns:\n{}",
                    g.model.table,
                    nlq_core::ga4::EVENTS_SCHEMA_DDL.trim()
                ),
            ),
            ("definitions", definitions.join("\n")),
            ("ga4_rules", rules),
            (
                "examples",
                if examples.is_empty() {
                    "(none)".to_owned()
                } else {
                    examples.join("\n\n")
                },
            ),
            ("context", "(none)".to_owned()),
            ("question", question.to_owned()),
        ]))
    }
}

fn rendered_id(template: &str, version: &u32) -> String {
    format!("{template}@{version}")
}

/// Some models wrap JSON in a Markdown fence even when asked not to.
fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map_or(t, str::trim)
}
