//! The typical GA4 queries (the `bench_*` entries of fixtures/corpus/ga4_corpus.toml: events,
//! items and parameters) on the full-scale sample: our BigQuery-SQL translation against the
//! same logical query written by hand in the best DuckDB form (goal: at most 1.2x), and
//! through bqemulator when `NLQ_BQEMU_URL` names one loaded with the same data. Prints
//! figures; asserts nothing about time.
//!
//!   NLQ_BENCH_DATA_DIR  sample directory (default: the CLI's; generated at scale 1.0 if missing)
//!   NLQ_BENCH_RUNS      timed runs per query (default 5; the median is reported)
//!
//! Run: `cargo bench -p nlq-exec --features native-sql --bench ga4_queries`

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/corpus_file.rs"]
mod corpus_file;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nlq_core::QueryRequest;
use nlq_exec::embedded::{self, EmbeddedConfig, EmbeddedWarehouse};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo test --all-targets` runs this binary without `--bench`: then it only checks that
    // the benchmark works, once, on the small test sample.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let dir = if smoke {
        match std::env::var_os("NLQ_TEST_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => {
                eprintln!(
                    "benchmark smoke run skipped: NLQ_TEST_DATA_DIR is not set (scripts/test.sh sets it)"
                );
                return;
            }
        }
    } else {
        std::env::var_os("NLQ_BENCH_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                embedded::default_data_dir(std::env::var_os("HOME").map(PathBuf::from).as_deref())
            })
    };
    let runs: usize = if smoke {
        1
    } else {
        std::env::var("NLQ_BENCH_RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(5)
            .max(1)
    };
    let config = EmbeddedConfig::new(&dir);
    let prepare = Instant::now();
    embedded::prepare(
        &config,
        &nlq_sample::SampleConfig::default(),
        &|done, total, stage| {
            if done == total {
                eprintln!("{stage}: done ({:.1} s)", prepare.elapsed().as_secs_f64());
            }
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let warehouse = EmbeddedWarehouse::open(&config).unwrap_or_else(|e| panic!("{e}"));
    let bqemu = std::env::var("NLQ_BQEMU_URL").ok();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));

    println!("data: {}  runs: {runs} (median)", dir.display());
    println!(
        "{:<26} {:>10} {:>10} {:>7} {:>12} {:>10}",
        "query", "nlq ms", "duckdb ms", "ratio", "bqemu ms", "rows"
    );
    for entry in corpus_file::corpus()
        .into_iter()
        .filter(|e| e.id.starts_with("bench_"))
    {
        let request = QueryRequest {
            sql: entry.bigquery.clone(),
            max_rows: 1_000_000,
            labels: Vec::new(),
        };
        // Warm-up: both forms once (caches, lazy loading), and a row-count check.
        let ours = warehouse
            .query_sync(&request)
            .unwrap_or_else(|e| panic!("{}: {e}", entry.id));
        let native = warehouse
            .query_native(&entry.duckdb, 1_000_000)
            .unwrap_or_else(|e| panic!("{}: {e}", entry.id));
        assert_eq!(
            ours.rows.len(),
            native.rows.len(),
            "{}: row counts differ",
            entry.id
        );
        let (mut ours_t, mut native_t) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            // Interleaved, so drift in machine load hits both sides alike.
            let t = Instant::now();
            let _ = warehouse.query_sync(&request);
            ours_t.push(t.elapsed());
            let t = Instant::now();
            let _ = warehouse.query_native(&entry.duckdb, 1_000_000);
            native_t.push(t.elapsed());
        }
        let (ours_m, native_m) = (median(ours_t), median(native_t));
        let bq = bqemu.as_ref().map(|url| {
            let mut times = Vec::new();
            for _ in 0..runs.min(3) {
                let t = Instant::now();
                let response = client
                    .post(format!("{url}/bigquery/v2/projects/nlq-test/queries"))
                    .json(&serde_json::json!({"query": entry.bigquery, "useLegacySql": false, "timeoutMs": 600000}))
                    .send();
                if response.is_err() {
                    return "error".to_owned();
                }
                times.push(t.elapsed());
            }
            format!("{:.0}", median(times).as_secs_f64() * 1e3)
        });
        println!(
            "{:<26} {:>10.1} {:>10.1} {:>6.2}x {:>12} {:>10}",
            entry.id,
            ours_m.as_secs_f64() * 1e3,
            native_m.as_secs_f64() * 1e3,
            ours_m.as_secs_f64() / native_m.as_secs_f64(),
            bq.unwrap_or_else(|| "n/a".to_owned()),
            ours.rows.len()
        );
    }
}
