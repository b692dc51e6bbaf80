//! Latency of `ask`.
//!
//! 1. Without the warehouse: understanding + compile + guard + lint, over every semantic
//!    question of the dev set. Goal: p50 under 5 ms.
//! 2. End to end on an embedded sample (validation, dry run, canary, execution, summary), when
//!    `NLQ_BENCH_DATA_DIR` names a prepared data directory (`nlq data generate` at full scale).
//!
//! Run: `cargo bench -p nlq-pipeline --bench ask`. Under `cargo test --all-targets` (no
//! `--bench`) each part runs once over the small test sample, to prove the benchmark works.

// A benchmark: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_pipeline::{Pipeline, Status};
use nlq_semantic::{DateRange, Reader, SemanticModel, Understanding};
use nlq_validate::{
    AllowedDataset, DatasetFacts, GuardConfig, LintContext, Policy, StandardParams, Validator,
};

fn questions() -> Vec<String> {
    include_str!("../../../fixtures/questions/dev.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|q| q["kind"] == "semantic")
        .map(|q| q["question"].as_str().unwrap().to_owned())
        .collect()
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    format!(
        "p50 {:.3} ms  p95 {:.3} ms  max {:.3} ms  ({} runs)",
        at(0.5),
        at(0.95),
        at(1.0),
        times.len()
    )
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let questions = questions();
    let model = SemanticModel::builtin().unwrap();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let data = DateRange {
        start: day("2020-11-01"),
        end: day("2021-01-31"),
    };
    let tables: Vec<String> = (0..=data.days() - 1)
        .map(|i| {
            format!(
                "events_{}",
                (data.start + chrono::Days::new(i as u64)).format("%Y%m%d")
            )
        })
        .collect();
    let guard = GuardConfig {
        allowed: vec![AllowedDataset {
            project: "bigquery-public-data".into(),
            dataset: "ga4_obfuscated_sample_ecommerce".into(),
        }],
    };
    let context = LintContext {
        tables: &tables,
        today: "2021-02-01",
        params: &StandardParams,
    };
    let rounds = if bench { 200 } else { 1 };
    let mut times = Vec::new();
    for _ in 0..rounds {
        for question in &questions {
            let started = Instant::now();
            let reader = Reader::new(&model, day("2021-02-01"), data);
            if let Understanding::Data { plan } = reader.understand(question) {
                let sql = nlq_semantic::compile(&model, &plan).unwrap();
                assert!(nlq_validate::guard(&sql, &guard).is_empty());
                let statement = nlq_sql::parse_query(&sql).unwrap();
                std::hint::black_box(nlq_validate::lint(&statement, &context));
            }
            times.push(started.elapsed());
        }
    }
    println!(
        "understand + compile + guard + lint, {} questions: {}",
        questions.len(),
        percentiles(times)
    );

    let dir = std::env::var("NLQ_BENCH_DATA_DIR")
        .ok()
        .filter(|_| bench)
        .or_else(|| std::env::var("NLQ_TEST_DATA_DIR").ok());
    let Some(dir) = dir else {
        println!("end to end skipped: set NLQ_BENCH_DATA_DIR to a prepared data directory");
        return;
    };
    let config = EmbeddedConfig::new(&dir);
    let warehouse = Arc::new(EmbeddedWarehouse::open(&config).unwrap());
    let facts = DatasetFacts {
        tables: warehouse.catalog().tables.clone(),
        today: warehouse.catalog().current_date.clone(),
    };
    let policy = Policy::for_dataset(&config.project, &config.dataset);
    let validator =
        Validator::new(warehouse, policy, facts.clone(), Arc::new(StandardParams)).unwrap();
    let pipeline = Pipeline::new(Arc::new(model), validator, &facts).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let rounds = if bench { 3 } else { 1 };
    let mut times = Vec::new();
    for _ in 0..rounds {
        for question in &questions {
            let started = Instant::now();
            let answer = runtime.block_on(pipeline.ask(question, &|_| {}));
            times.push(started.elapsed());
            assert_ne!(
                answer.status,
                Status::Error,
                "{question}: {:?}",
                answer.message
            );
        }
    }
    println!("ask end to end on {dir}: {}", percentiles(times));
}
