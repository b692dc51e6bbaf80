//! What the API returns for a question: the pipeline's answer as JSON, with the server's ids,
//! the approval decision and the chart. It is also what the store keeps, so a stored answer
//! reads back exactly as it was sent.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use nlq_core::Column;
use nlq_pipeline::{Answer, LlmReport, Risk, Status, Timing};
use nlq_semantic::Plan;
use nlq_validate::{Cost, Report};

use crate::chart;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResponse {
    pub qid: String,
    pub conversation_id: String,
    pub question: String,
    pub status: Status,
    pub message: Option<String>,
    /// With `clarify`: complete questions the user may pick instead of answering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    pub sql: Option<String>,
    pub plan: Option<Plan>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Json>>,
    pub row_count: usize,
    pub summary: Option<String>,
    /// A Vega-Lite spec with the rows inlined, or None when no chart fits the result.
    pub chart: Option<Json>,
    pub cost: Option<Cost>,
    /// Nothing ran: `POST /api/query/run` with `user_ack: true` runs it.
    pub needs_approval: bool,
    pub approval_reason: Option<String>,
    pub risk: Option<Risk>,
    pub validation: Option<Report>,
    pub llm: Option<LlmReport>,
    pub timings: Vec<Timing>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// What the reader should know about the data behind the numbers, in the question's
    /// language (days without a table, a day still being exported).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// The time buckets the range cuts at its edges (a week's first day, a month `YYYY-MM`):
    /// their rows hold only some of their days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial_buckets: Vec<String>,
    /// The qid this answer was copied from when a recent identical question was reused;
    /// nothing ran for it and nothing was billed.
    #[serde(default)]
    pub cached_from: Option<String>,
    /// The taught example (its lesson id) whose SQL answered the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
}

impl QueryResponse {
    pub fn new(answer: &Answer, qid: String, conversation_id: String) -> Self {
        let columns = answer.columns.clone();
        let rows: Vec<Vec<Json>> = answer
            .rows
            .iter()
            .map(|row| row.iter().map(json).collect())
            .collect();
        let needs_approval = answer.status == Status::NeedsApproval;
        let chart = chart::spec(&columns, &rows, &answer.partial);
        QueryResponse {
            qid,
            conversation_id,
            question: answer.question.clone(),
            status: answer.status,
            message: answer.message.clone(),
            choices: answer.choices.clone(),
            sql: answer.sql.clone(),
            plan: answer.plan.clone(),
            row_count: rows.len(),
            columns,
            rows,
            summary: answer.summary.clone(),
            chart,
            cost: answer.cost.clone(),
            needs_approval,
            approval_reason: needs_approval.then(|| answer.message.clone()).flatten(),
            risk: answer.llm.as_ref().and_then(|l| l.risk.clone()),
            validation: answer.validation.clone(),
            llm: answer.llm.clone(),
            timings: answer.timings.clone(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            caveats: answer.caveats.clone(),
            partial_buckets: answer.partial.clone(),
            cached_from: None,
            verified: answer.verified.clone(),
        }
    }

    /// Bytes billed by what ran for this answer (0 when nothing ran).
    pub fn bytes_billed(&self) -> u64 {
        if self.needs_approval || self.status != Status::Answered || self.cached_from.is_some() {
            return 0;
        }
        self.cost.as_ref().map_or(0, |c| c.bytes_billed)
    }

    /// The same answer without its rows and chart: for conversation listings.
    pub fn headline(&self) -> Self {
        QueryResponse {
            rows: Vec::new(),
            chart: None,
            ..self.clone()
        }
    }
}

/// Serializing the pipeline's plain data types cannot fail; a failure would be a bug shown as
/// `null` rather than a lost answer.
fn json<T: Serialize>(value: &T) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}
