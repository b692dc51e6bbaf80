//! What the API returns for a question: the pipeline's answer as JSON, with the server's ids,
//! the approval decision and the chart. It is also what the store keeps, so a stored answer
//! reads back exactly as it was sent.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use nlq_pipeline::{Answer, Status};

use crate::chart;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResponse {
    pub qid: String,
    pub conversation_id: String,
    pub question: String,
    /// `answered`, `needs_approval`, `refused`, `out_of_scope`, `needs_llm`, `clarify`, `error`.
    pub status: String,
    pub message: Option<String>,
    /// With `clarify`: complete questions the user may pick instead of answering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    pub sql: Option<String>,
    pub plan: Option<Json>,
    pub columns: Vec<Json>,
    pub rows: Vec<Vec<Json>>,
    pub row_count: usize,
    pub summary: Option<String>,
    /// A Vega-Lite spec with the rows inlined, or None when no chart fits the result.
    pub chart: Option<Json>,
    pub cost: Option<Json>,
    /// Nothing ran: `POST /api/query/run` with `user_ack: true` runs it.
    pub needs_approval: bool,
    pub approval_reason: Option<String>,
    pub risk: Option<Json>,
    pub validation: Option<Json>,
    pub llm: Option<Json>,
    pub timings: Json,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The qid this answer was copied from when a recent identical question was reused;
    /// nothing ran for it and nothing was billed.
    #[serde(default)]
    pub cached_from: Option<String>,
}

impl QueryResponse {
    pub fn new(answer: &Answer, qid: String, conversation_id: String) -> Self {
        let status = json(&answer.status).as_str().unwrap_or("error").to_owned();
        let columns: Vec<Json> = answer.columns.iter().map(json).collect();
        let rows: Vec<Vec<Json>> = answer
            .rows
            .iter()
            .map(|row| row.iter().map(json).collect())
            .collect();
        let needs_approval = answer.status == Status::NeedsApproval;
        let chart = chart::spec(&columns, &rows);
        QueryResponse {
            qid,
            conversation_id,
            question: answer.question.clone(),
            status,
            message: answer.message.clone(),
            choices: answer.choices.clone(),
            sql: answer.sql.clone(),
            plan: answer.plan.as_ref().map(json),
            row_count: rows.len(),
            columns,
            rows,
            summary: answer.summary.clone(),
            chart,
            cost: answer.cost.as_ref().map(json),
            needs_approval,
            approval_reason: needs_approval.then(|| answer.message.clone()).flatten(),
            risk: answer.llm.as_ref().and_then(|l| l.risk.as_ref()).map(json),
            validation: answer.validation.as_ref().map(json),
            llm: answer.llm.as_ref().map(json),
            timings: json(&answer.timings),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            cached_from: None,
        }
    }

    /// Bytes billed by what ran for this answer (0 when nothing ran).
    pub fn bytes_billed(&self) -> u64 {
        if self.needs_approval || self.status != "answered" || self.cached_from.is_some() {
            return 0;
        }
        self.cost
            .as_ref()
            .and_then(|c| c["bytes_billed"].as_u64())
            .unwrap_or(0)
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
