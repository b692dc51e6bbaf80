//! What `GET /metrics` shows, in Prometheus text: requests by route and status, answers by
//! status and path, stage latencies, bytes billed and USD by warehouse, LLM tokens and USD by
//! provider and model, answer-cache hits, the metadata's age and failed refreshes, and the
//! requests the rate limit and the byte budget refused.
//!
//! Labels take values from closed sets only (route patterns, not paths; statuses; stage
//! names; the configured providers and models), so a caller cannot grow the series.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::answer::QueryResponse;

/// Seconds, from a fast page to a slow warehouse query.
const LATENCY_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnswerLabels {
    status: &'static str,
    path: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WarehouseLabels {
    warehouse: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    provider: String,
    model: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    provider: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    reason: &'static str,
}

/// How an answer was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerPath {
    /// The deterministic semantic engine.
    Semantic,
    Llm,
    /// A recent identical question's answer, copied.
    Cache,
    /// `POST /api/query/run`: SQL run after approval, or the caller's own.
    Run,
}

impl AnswerPath {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerPath::Semantic => "semantic",
            AnswerPath::Llm => "llm",
            AnswerPath::Cache => "cache",
            AnswerPath::Run => "run",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    answers: Family<AnswerLabels, Counter>,
    stage_seconds: Histograms<StageLabels>,
    bytes_billed: Family<WarehouseLabels, Counter>,
    warehouse_usd: Family<WarehouseLabels, Counter<f64, AtomicU64>>,
    llm_tokens: Family<TokenLabels, Counter>,
    llm_usd: Family<ModelLabels, Counter<f64, AtomicU64>>,
    llm_unmetered: Family<ModelLabels, Counter>,
    cache_hits: Counter,
    refusals: Family<RefusalLabels, Counter>,
    metadata_age: Gauge<f64, AtomicU64>,
    metadata_failures: Counter,
    /// The loader's failure count at the last scrape: the counter grows by the difference.
    metadata_failures_seen: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("nlq");
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            answers: Family::default(),
            stage_seconds: Family::new_with_constructor(latency_histogram),
            bytes_billed: Family::default(),
            warehouse_usd: Family::default(),
            llm_tokens: Family::default(),
            llm_usd: Family::default(),
            llm_unmetered: Family::default(),
            cache_hits: Counter::default(),
            refusals: Family::default(),
            metadata_age: Gauge::default(),
            metadata_failures: Counter::default(),
            metadata_failures_seen: AtomicU64::new(0),
        };
        let r = &mut registry;
        r.register(
            "http_requests",
            "HTTP requests by route pattern, method and status",
            m.requests.clone(),
        );
        r.register_with_unit(
            "http_request_duration",
            "Time to the response's head, by route pattern",
            Unit::Seconds,
            m.request_seconds.clone(),
        );
        r.register(
            "answers",
            "Answers by status and path (semantic, llm, cache, run)",
            m.answers.clone(),
        );
        r.register_with_unit(
            "stage_duration",
            "Time spent in each pipeline stage",
            Unit::Seconds,
            m.stage_seconds.clone(),
        );
        r.register_with_unit(
            "billed",
            "Bytes billed by the queries that ran, by warehouse",
            Unit::Bytes,
            m.bytes_billed.clone(),
        );
        r.register(
            "warehouse_usd",
            "Warehouse cost of the queries that ran, in USD, by warehouse",
            m.warehouse_usd.clone(),
        );
        r.register(
            "llm_tokens",
            "LLM tokens by provider, model and kind (input, output)",
            m.llm_tokens.clone(),
        );
        r.register(
            "llm_usd",
            "LLM cost in USD of the calls whose price is known, by provider and model",
            m.llm_usd.clone(),
        );
        r.register(
            "llm_unmetered_calls",
            "LLM calls whose reply did not report its usage",
            m.llm_unmetered.clone(),
        );
        r.register(
            "answer_cache_hits",
            "Questions answered from a recent identical question",
            m.cache_hits.clone(),
        );
        r.register(
            "refusals",
            "Requests refused by the rate limit or the daily byte budget",
            m.refusals.clone(),
        );
        r.register_with_unit(
            "metadata_age",
            "Age of the metadata document in use (absent before the first load)",
            Unit::Seconds,
            m.metadata_age.clone(),
        );
        r.register(
            "metadata_refresh_failures",
            "Checks of the metadata store that failed",
            m.metadata_failures.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// A request the limiter refused; `code` is the error's code.
    pub fn refused(&self, code: &str) {
        let reason = match code {
            "rate_limited" => "rate",
            "budget_exhausted" => "budget",
            _ => "other",
        };
        self.refusals.get_or_create(&RefusalLabels { reason }).inc();
    }

    /// An answer, counted once when it is made. `warehouse` names where its query ran.
    pub fn answer(&self, response: &QueryResponse, path: AnswerPath, warehouse: &str) {
        self.answers
            .get_or_create(&AnswerLabels {
                status: response.status.as_str(),
                path: path.as_str(),
            })
            .inc();
        if path == AnswerPath::Cache {
            self.cache_hits.inc();
            return;
        }
        for timing in &response.timings {
            self.stage_seconds
                .get_or_create(&StageLabels {
                    stage: timing.stage.as_str(),
                })
                .observe(timing.ms / 1000.0);
        }
        let billed = response.bytes_billed();
        if billed > 0 {
            let labels = WarehouseLabels {
                warehouse: warehouse.to_owned(),
            };
            self.bytes_billed.get_or_create(&labels).inc_by(billed);
            if let Some(cost) = &response.cost {
                self.warehouse_usd.get_or_create(&labels).inc_by(cost.usd);
            }
        }
        let Some(llm) = &response.llm else { return };
        for call in &llm.calls {
            let model = ModelLabels {
                provider: call.provider.clone(),
                model: call.model.clone(),
            };
            match call.usage {
                Some(usage) => {
                    for (kind, tokens) in [
                        ("input", usage.input_tokens),
                        ("output", usage.output_tokens),
                    ] {
                        self.llm_tokens
                            .get_or_create(&TokenLabels {
                                provider: call.provider.clone(),
                                model: call.model.clone(),
                                kind,
                            })
                            .inc_by(tokens);
                    }
                }
                None => {
                    self.llm_unmetered.get_or_create(&model).inc();
                }
            }
            if let Some(usd) = call.cost_usd {
                self.llm_usd.get_or_create(&model).inc_by(usd);
            }
        }
    }

    /// The text of a scrape; `metadata` is the loader's (age, failed checks) when there is one.
    pub fn render(&self, metadata: Option<(Option<f64>, u64)>) -> String {
        if let Some((age, failures)) = metadata {
            if let Some(age) = age {
                self.metadata_age.set(age);
            }
            let seen = self
                .metadata_failures_seen
                .swap(failures, Ordering::Relaxed);
            self.metadata_failures.inc_by(failures.saturating_sub(seen));
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(model: &str, usage: serde_json::Value, usd: Option<f64>) -> serde_json::Value {
        json!({"stage": "generate", "prompt": "generate_sql@2", "provider": "openai",
               "model": model, "usage": usage, "cost_usd": usd, "ms": 900.0,
               "sql": null, "problems": []})
    }

    /// LLM work is counted per provider and model; a reply without usage is an unmetered
    /// call, never zero tokens.
    #[test]
    fn llm_tokens_and_cost_by_provider_and_model() {
        let response: QueryResponse = serde_json::from_value(json!({
            "qid": "q_1", "conversation_id": "c_1", "question": "q", "status": "answered",
            "columns": [], "rows": [], "row_count": 0, "needs_approval": false,
            "timings": [{"stage": "llm", "ms": 1200.0}], "created_at": "2026-12-07T00:00:00Z",
            "llm": {"calls": [
                        call("gpt-5", json!({"input_tokens": 1000, "output_tokens": 200}), Some(0.01)),
                        call("gpt-5", json!({"input_tokens": 500, "output_tokens": 100}), Some(0.005)),
                        call("local", json!(null), None)],
                    "input_tokens": 1500, "output_tokens": 300, "cost_usd": 0.015,
                    "unpriced_calls": 1, "unmetered_calls": 1, "assumptions": []}
        }))
        .unwrap();
        let metrics = Metrics::new();
        metrics.answer(&response, AnswerPath::Llm, "bigquery");
        let text = metrics.render(Some((Some(90.0), 2)));
        for line in [
            r#"nlq_answers_total{status="answered",path="llm"} 1"#,
            r#"nlq_llm_tokens_total{provider="openai",model="gpt-5",kind="input"} 1500"#,
            r#"nlq_llm_tokens_total{provider="openai",model="gpt-5",kind="output"} 300"#,
            r#"nlq_llm_usd_total{provider="openai",model="gpt-5"} 0.015"#,
            r#"nlq_llm_unmetered_calls_total{provider="openai",model="local"} 1"#,
            r#"nlq_stage_duration_seconds_count{stage="llm"} 1"#,
            "nlq_metadata_age_seconds 90.0",
            "nlq_metadata_refresh_failures_total 2",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        assert!(!text.contains("local\",kind"), "{text}");
        // A later scrape adds only the failures since.
        let text = metrics.render(Some((Some(91.0), 3)));
        assert!(
            text.contains("nlq_metadata_refresh_failures_total 3"),
            "{text}"
        );
    }
}
