//! The customer-flow graph: how often one event follows another within a session, for a
//! segment and a date range. The SQL is built here from checked inputs only (a segment from a
//! fixed list, dates parsed as dates, integers) and still passes the validator like any query,
//! whose byte cap bounds how long a range may be.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use nlq_core::Value;
use nlq_validate::Validator;

use crate::error::ServerError;

pub const SEGMENTS: &[(&str, &str)] = &[
    ("all", "All sessions"),
    ("purchasers", "Sessions of users who purchased in the range"),
    ("new_users", "First sessions (ga_session_number = 1)"),
    (
        "returning_users",
        "Returning sessions (ga_session_number > 1)",
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowRequest {
    #[serde(default = "all")]
    pub segment: String,
    pub start: String,
    pub end: String,
    #[serde(default = "one")]
    pub min_edge_count: u64,
    #[serde(default = "fifty")]
    pub limit: u64,
}

fn all() -> String {
    "all".into()
}
fn one() -> u64 {
    1
}
fn fifty() -> u64 {
    50
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    /// Transitions into or out of the event, whichever is larger.
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub source: String,
    pub target: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowGraph {
    pub segment: String,
    pub start: String,
    pub end: String,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub sql: String,
    pub cost: Option<nlq_validate::Cost>,
}

fn day(text: &str, field: &str) -> Result<NaiveDate, ServerError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ServerError::bad(
            "bad_date",
            format!("`{field}` must be a date as YYYY-MM-DD, not {text:?}"),
        )
    })
}

/// The transitions query for a checked request.
pub fn sql(table: &str, request: &FlowRequest) -> Result<String, ServerError> {
    let start = day(&request.start, "start")?;
    let end = day(&request.end, "end")?;
    if end < start {
        return Err(ServerError::bad(
            "bad_range",
            format!("`end` ({end}) is before `start` ({start})"),
        ));
    }
    if !(1..=500).contains(&request.limit) {
        return Err(ServerError::bad(
            "bad_limit",
            "`limit` must be between 1 and 500",
        ));
    }
    let (first, last) = (start.format("%Y%m%d"), end.format("%Y%m%d"));
    let range = format!("_TABLE_SUFFIX BETWEEN '{first}' AND '{last}'");
    let segment = match request.segment.as_str() {
        "all" => String::new(),
        "purchasers" => format!(
            "AND user_pseudo_id IN (SELECT user_pseudo_id FROM `{table}` WHERE {range} AND event_name = 'purchase')"
        ),
        "new_users" => "AND session_number = 1".to_owned(),
        "returning_users" => "AND session_number > 1".to_owned(),
        other => {
            let known: Vec<&str> = SEGMENTS.iter().map(|(id, _)| *id).collect();
            return Err(ServerError::bad(
                "unknown_segment",
                format!("segment {other:?} is not one of {}", known.join(", ")),
            ));
        }
    };
    Ok(format!(
        "WITH events AS (
  SELECT user_pseudo_id, event_name, event_timestamp,
    (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id') AS session_id,
    (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_number') AS session_number
  FROM `{table}`
  WHERE {range}
), steps AS (
  SELECT event_name AS source,
    LEAD(event_name) OVER (PARTITION BY user_pseudo_id, session_id ORDER BY event_timestamp, event_name) AS target
  FROM events
  WHERE session_id IS NOT NULL {segment}
)
SELECT source, target, COUNT(*) AS transitions
FROM steps
WHERE target IS NOT NULL
GROUP BY source, target
HAVING COUNT(*) >= {min}
ORDER BY transitions DESC, source, target
LIMIT {limit}",
        min = request.min_edge_count.max(1),
        limit = request.limit,
    ))
}

/// Runs the request's query through the validator and shapes the graph.
pub async fn graph(
    validator: &Validator,
    table: &str,
    request: &FlowRequest,
) -> Result<FlowGraph, ServerError> {
    let sql = sql(table, request)?;
    let outcome = validator.run(&sql).await;
    let Some(result) = outcome.result else {
        let message = outcome.report.first_error().map_or_else(
            || "the flow query did not run".to_owned(),
            |f| f.message.clone(),
        );
        return Err(match outcome.report.failure_class() {
            Some(nlq_core::ErrorClass::User) => ServerError::bad("flow_refused", message),
            Some(nlq_core::ErrorClass::Transient) => ServerError::Unavailable(message),
            _ => ServerError::Internal(message),
        });
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    };
    let count = |v: &Value| match v {
        Value::Int64(n) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    let links: Vec<Link> = result
        .rows
        .iter()
        .filter(|row| row.len() == 3)
        .map(|row| Link {
            source: text(&row[0]),
            target: text(&row[1]),
            count: count(&row[2]),
        })
        .collect();
    let mut inout: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for link in &links {
        inout.entry(&link.source).or_default().1 += link.count;
        inout.entry(&link.target).or_default().0 += link.count;
    }
    let mut nodes: Vec<Node> = inout
        .into_iter()
        .map(|(id, (into, out))| Node {
            id: id.to_owned(),
            count: into.max(out),
        })
        .collect();
    nodes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    Ok(FlowGraph {
        segment: request.segment.clone(),
        start: request.start.clone(),
        end: request.end.clone(),
        nodes,
        links,
        sql,
        cost: outcome.report.cost.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(segment: &str, start: &str, end: &str) -> FlowRequest {
        FlowRequest {
            segment: segment.into(),
            start: start.into(),
            end: end.into(),
            min_edge_count: 2,
            limit: 10,
        }
    }

    #[test]
    fn inputs_are_checked_before_any_sql_is_written() {
        let table = "p.d.events_*";
        let ok = sql(table, &request("purchasers", "2021-01-01", "2021-01-07")).unwrap();
        assert!(ok.contains("BETWEEN '20210101' AND '20210107'"));
        assert!(ok.contains("event_name = 'purchase'"));
        assert!(ok.contains("HAVING COUNT(*) >= 2"));
        for (bad, code) in [
            (
                request("everyone", "2021-01-01", "2021-01-07"),
                "unknown_segment",
            ),
            (
                request("all", "2021-01-07'; DROP", "2021-01-07"),
                "bad_date",
            ),
            (request("all", "2021-01-07", "2021-01-01"), "bad_range"),
        ] {
            assert_eq!(sql(table, &bad).unwrap_err().code(), code);
        }
    }
}
