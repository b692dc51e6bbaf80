//! `GET /api/query/stream`: the answer as Server-Sent Events, one typed event per stage as it
//! happens, and `done` with the whole answer last.

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::sync::mpsc;
use tracing::Instrument;

use nlq_pipeline::{Event, Status};

use crate::answer::QueryResponse;
use crate::error::ServerError;
use crate::middleware::RequestId;
use crate::security::Caller;
use crate::service::{Ask, Service};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    pub question: String,
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub user_ack: bool,
    /// Read by the authentication middleware (EventSource cannot send headers).
    #[serde(default)]
    pub access_token: Option<String>,
}

fn frame(kind: &str, data: &Json) -> Bytes {
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

/// The stream events one pipeline event becomes.
pub fn frames(event: &Event) -> Vec<(&'static str, Json)> {
    match event {
        Event::Understood { intent, plan, ms } => {
            vec![("plan", json!({"intent": intent, "plan": plan, "ms": ms}))]
        }
        Event::Classified { intent, reason } => {
            vec![("classify", json!({"intent": intent, "reason": reason}))]
        }
        Event::Compiled { sql, ms } => vec![("sql", json!({"sql": sql, "ms": ms}))],
        Event::Drafted {
            stage,
            sql,
            problems,
        } => vec![(
            "sql",
            json!({"sql": sql, "stage": stage, "problems": problems}),
        )],
        Event::Validated { report, .. } => {
            let mut out: Vec<(&'static str, Json)> = report
                .steps
                .iter()
                .map(|step| {
                    (
                        "validation",
                        json!({"step": step.name, "ok": step.ok, "findings": step.findings}),
                    )
                })
                .collect();
            if let Some(cost) = &report.cost {
                out.push(("cost", json!(cost)));
            }
            out
        }
        Event::RiskAssessed { risk, review } => {
            vec![("risk", json!({"risk": risk, "review": review}))]
        }
        Event::Executed {
            rows,
            bytes_processed,
            ms,
        } => vec![(
            "executed",
            json!({"rows": rows, "bytes_processed": bytes_processed, "ms": ms}),
        )],
        Event::SummaryDelta { text } => vec![("summary_delta", json!({"text": text}))],
        Event::LlmAnswered {
            provider,
            model,
            calls,
            input_tokens,
            output_tokens,
            cost_usd,
            ms,
        } => vec![(
            "llm",
            json!({"provider": provider, "model": model, "calls": calls,
                   "input_tokens": input_tokens, "output_tokens": output_tokens,
                   "cost_usd": cost_usd, "ms": ms}),
        )],
        Event::Summarized { summary, .. } => vec![("summary", json!({"text": summary}))],
        // The stream ends with its own `done`, carrying the whole answer.
        Event::Done { .. } => vec![],
    }
}

/// The events after the pipeline has finished, `done` last.
fn closing(response: &QueryResponse, request_id: &str) -> Vec<(&'static str, Json)> {
    let mut out = Vec::new();
    if response.needs_approval {
        out.push((
            "approval_required",
            json!({"qid": response.qid, "reason": response.approval_reason,
                   "sql": response.sql, "cost": response.cost}),
        ));
    }
    if response.status == Status::Answered {
        out.push((
            "rows",
            json!({"columns": response.columns, "rows": response.rows,
                   "row_count": response.row_count}),
        ));
    }
    if let Some(spec) = &response.chart {
        out.push(("chart", json!({ "spec": spec })));
    }
    if response.status == Status::Error {
        out.push((
            "error",
            json!({"code": "answer_failed", "message": response.message, "request_id": request_id}),
        ));
    }
    out.push(("done", json!(response)));
    out
}

#[get("/api/query/stream")]
pub async fn stream(
    service: web::Data<Service>,
    caller: Caller,
    request_id: RequestId,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ServerError> {
    let query = query.into_inner();
    let ask = Ask {
        question: query.question,
        conversation_id: query.conversation_id,
        user_ack: query.user_ack,
        dry_run: false,
    };
    service.precheck(&caller, &ask)?;
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let service: Arc<Service> = service.into_inner();
    let id = request_id.0;
    actix_web::rt::spawn(
        async move {
        let sink = {
            let tx = tx.clone();
            move |event: &Event| {
                for (kind, data) in frames(event) {
                    // A closed stream (the page went away) is not an error: the answer is
                    // still stored.
                    let _ = tx.send(frame(kind, &data));
                }
            }
        };
        let timeout = service.config.limits.stream_timeout;
        let answer = tokio::time::timeout(timeout, service.ask(&caller, &ask, &sink));
        tokio::pin!(answer);
        // A comment line now and then: proxies cut a stream that stays silent, and a
        // warehouse query can take longer than their idle timeout.
        let mut ticks = tokio::time::interval(service.config.limits.stream_keep_alive);
        ticks.tick().await;
        let outcome = loop {
            tokio::select! {
                outcome = &mut answer => break outcome,
                _ = ticks.tick() => {
                    let _ = tx.send(Bytes::from_static(b": keep-alive\n\n"));
                }
            }
        };
        let last = match outcome {
            Ok(Ok(response)) => closing(&response, &id),
            Ok(Err(err)) => vec![(
                "error",
                json!({"code": err.code(), "message": err.to_string(), "request_id": id}),
            )],
            Err(_) => vec![(
                "error",
                json!({"code": "timeout",
                       "message": format!("no answer after {} s; try a narrower question", timeout.as_secs()),
                       "request_id": id}),
            )],
        };
        for (kind, data) in last {
            let _ = tx.send(frame(kind, &data));
        }
    }
    // The answer's log lines and span fields belong to this request.
    .instrument(tracing::Span::current()));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<Bytes, actix_web::Error>(bytes), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
