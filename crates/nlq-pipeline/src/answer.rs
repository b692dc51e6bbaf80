//! What a question gets back, and the events emitted on the way.

use serde::Serialize;

use nlq_core::{Column, Value};
use nlq_semantic::{DateRange, Plan};
use nlq_validate::{Cost, Report};

use crate::llm_path::{LlmReport, LlmStage};
use crate::risk::Risk;

pub use nlq_core::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Understand,
    Compile,
    /// The LLM's drafts and repairs, with their validation.
    Llm,
    Validate,
    Execute,
    Summarize,
}

impl Stage {
    /// The name the JSON and the metrics use.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Understand => "understand",
            Stage::Compile => "compile",
            Stage::Llm => "llm",
            Stage::Validate => "validate",
            Stage::Execute => "execute",
            Stage::Summarize => "summarize",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Timing {
    pub stage: Stage,
    pub ms: f64,
}

/// Serialized as JSON with plain cells; read back through [`AnswerJson`], which types each
/// cell by its column (a DATE and a STRING look alike in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(try_from = "AnswerJson")]
pub struct Answer {
    pub status: Status,
    pub question: String,
    /// Why the answer is not rows (refusal, clarification, what the engine could not read).
    pub message: Option<String>,
    /// With a clarification: complete questions the user may pick instead of answering.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    pub sql: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub summary: Option<String>,
    pub plan: Option<Plan>,
    /// The days read, inclusive.
    pub range: Option<DateRange>,
    pub tables_read: Vec<String>,
    pub validation: Option<Report>,
    pub cost: Option<Cost>,
    /// What the LLM path did, when it answered or tried to.
    pub llm: Option<LlmReport>,
    pub timings: Vec<Timing>,
    /// What the reader should know about the data behind the numbers (days without a table,
    /// a day still being exported), in the question's language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// The time buckets (a week's first day, a month `YYYY-MM`) the range cuts at its edges:
    /// they hold only some of their days, and the page marks their rows and chart points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
    /// The id of the verified example (a taught lesson) whose SQL answered the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
}

/// An answer as JSON holds it: the cells not yet typed.
#[derive(serde::Deserialize)]
struct AnswerJson {
    status: Status,
    question: String,
    message: Option<String>,
    #[serde(default)]
    choices: Vec<String>,
    sql: Option<String>,
    columns: Vec<Column>,
    rows: Vec<Vec<serde_json::Value>>,
    summary: Option<String>,
    plan: Option<Plan>,
    range: Option<DateRange>,
    #[serde(default)]
    tables_read: Vec<String>,
    validation: Option<Report>,
    cost: Option<Cost>,
    llm: Option<LlmReport>,
    #[serde(default)]
    timings: Vec<Timing>,
    #[serde(default)]
    caveats: Vec<String>,
    #[serde(default)]
    partial: Vec<String>,
    #[serde(default)]
    verified: Option<String>,
}

impl TryFrom<AnswerJson> for Answer {
    type Error = String;

    fn try_from(json: AnswerJson) -> Result<Self, String> {
        let rows = json
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                if row.len() != json.columns.len() {
                    return Err(format!(
                        "row {r} has {} cells for {} columns",
                        row.len(),
                        json.columns.len()
                    ));
                }
                row.iter()
                    .zip(&json.columns)
                    .map(|(cell, column)| {
                        Value::from_json(cell, &column.ty)
                            .map_err(|e| format!("row {r}, column {}: {e}", column.name))
                    })
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        Ok(Answer {
            status: json.status,
            question: json.question,
            message: json.message,
            choices: json.choices,
            sql: json.sql,
            columns: json.columns,
            rows,
            summary: json.summary,
            plan: json.plan,
            range: json.range,
            tables_read: json.tables_read,
            validation: json.validation,
            cost: json.cost,
            llm: json.llm,
            timings: json.timings,
            caveats: json.caveats,
            partial: json.partial,
            verified: json.verified,
        })
    }
}

impl Answer {
    /// Nothing known yet about `question`; the stages fill it in.
    pub(crate) fn new(question: &str) -> Self {
        Answer {
            status: Status::Answered,
            question: question.to_owned(),
            message: None,
            choices: vec![],
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
            caveats: vec![],
            partial: vec![],
            verified: None,
        }
    }
}

/// One earlier question of the conversation, as the next question's context.
pub type Turn = nlq_core::context::Turn<Plan>;

/// The conversation a question belongs to (see `nlq_core::context`).
pub type Context = nlq_core::ContextBlock<Plan>;

impl From<&Answer> for Turn {
    fn from(answer: &Answer) -> Self {
        Turn {
            question: answer.question.clone(),
            plan: answer.plan.clone(),
            sql: answer.sql.clone(),
            digest: answer.summary.clone().or_else(|| answer.message.clone()),
        }
    }
}

/// One stage's result, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Understood {
        intent: String,
        plan: Option<Plan>,
        ms: f64,
    },
    Compiled {
        sql: String,
        ms: f64,
    },
    Validated {
        report: Report,
        ms: f64,
    },
    Executed {
        rows: usize,
        bytes_processed: u64,
        ms: f64,
    },
    /// The LLM classifier's reading of a question the semantic engine handed on.
    Classified {
        intent: String,
        reason: String,
    },
    /// An LLM draft (generation, repair or review) and what stopped it, if anything.
    Drafted {
        stage: LlmStage,
        sql: Option<String>,
        problems: Vec<String>,
    },
    /// A draft that passed its checks, scored; `review`: it goes to the expert first.
    RiskAssessed {
        risk: Risk,
        review: bool,
    },
    /// A piece of the LLM's summary as it is written.
    SummaryDelta {
        text: String,
    },
    LlmAnswered {
        provider: String,
        model: String,
        calls: usize,
        input_tokens: u64,
        output_tokens: u64,
        cost_usd: f64,
        ms: f64,
    },
    Summarized {
        summary: String,
        ms: f64,
    },
    Done {
        status: Status,
    },
}
