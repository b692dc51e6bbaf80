//! Shared test datasets: the hand-built tiny one and a small generated sample.

use std::path::PathBuf;
use std::sync::OnceLock;

use nlq_core::{QueryRequest, QueryResult};
use nlq_exec::embedded::{self, EmbeddedConfig, EmbeddedWarehouse, Source};

/// The tiny dataset of tests/fixtures/tiny.sql (see the table in that file).
pub fn tiny() -> &'static EmbeddedWarehouse {
    static TINY: OnceLock<(tempfile::TempDir, EmbeddedWarehouse)> = OnceLock::new();
    &TINY.get_or_init(|| tiny_with(|_| {})).1
}

/// A tiny dataset of its own, opened with `configure`'s changes (a shorter timeout, say).
pub fn tiny_with(
    configure: impl FnOnce(&mut EmbeddedConfig),
) -> (tempfile::TempDir, EmbeddedWarehouse) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EmbeddedConfig::new(dir.path());
    configure(&mut config);
    let schema = nlq_core::ga4::events_schema().unwrap();
    embedded::build(
        &config.database_path(),
        Source::Script {
            tables: &["events_20201230", "events_20201231", "events_20210101"],
            sql: include_str!("../fixtures/tiny.sql"),
        },
        &schema,
        &|_, _| {},
    )
    .unwrap();
    let warehouse = EmbeddedWarehouse::open(&config).unwrap();
    (dir, warehouse)
}

/// A generated sample at a small scale. `NLQ_TEST_DATA_DIR` names one the test script made
/// (and loaded into bqemulator); otherwise one is generated for this run.
pub fn sample() -> &'static EmbeddedWarehouse {
    &sample_with_dir().1
}

/// The directory of [`sample`]: its Parquet, manifest and built database.
pub fn sample_dir() -> &'static std::path::Path {
    &sample_with_dir().0
}

fn sample_with_dir() -> &'static (PathBuf, EmbeddedWarehouse) {
    static SAMPLE: OnceLock<(Option<tempfile::TempDir>, (PathBuf, EmbeddedWarehouse))> =
        OnceLock::new();
    &SAMPLE
        .get_or_init(|| {
            let (keep, dir) = match std::env::var_os("NLQ_TEST_DATA_DIR") {
                Some(dir) => (None, PathBuf::from(dir)),
                None => {
                    let tmp = tempfile::tempdir().unwrap();
                    let path = tmp.path().to_owned();
                    (Some(tmp), path)
                }
            };
            let config = EmbeddedConfig::new(&dir);
            embedded::prepare(&config, &sample_config(), &|_, _, _| {}).unwrap();
            (keep, (dir, EmbeddedWarehouse::open(&config).unwrap()))
        })
        .1
}

/// The scale and seed every test sample uses; scripts/test.sh generates the same.
pub fn sample_config() -> nlq_sample::SampleConfig {
    nlq_sample::SampleConfig {
        seed: 20201101,
        scale: 0.01,
        ..nlq_sample::SampleConfig::default()
    }
}

pub fn run(warehouse: &EmbeddedWarehouse, sql: &str) -> QueryResult {
    warehouse
        .query_sync(&QueryRequest::new(sql))
        .unwrap_or_else(|e| {
            panic!(
                "query failed: {e}\n{sql}\ntranslated: {:?}",
                warehouse.translate(sql).map(|t| t.sql)
            )
        })
}

/// Runs `sql` on the tiny dataset and compares its rows, as JSON, with `expected`.
#[track_caller]
pub fn check(sql: &str, expected: serde_json::Value) {
    let result = run(tiny(), sql);
    let rows = serde_json::to_value(&result.rows).unwrap();
    assert_eq!(
        rows,
        expected,
        "\n{sql}\ntranslated: {}",
        tiny().translate(sql).unwrap().sql
    );
}
