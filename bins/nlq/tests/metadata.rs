//! The CLI reads the MetaSync document: the registry sets the as-of date and the shard bounds,
//! the catalog drives the value-field lint, and a bad store is a clear error (named) or a
//! warning (the default one).

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use nlq_metasync::StoreOptions;

const PROJECT: &str = "bigquery-public-data";
const DATASET: &str = "ga4_obfuscated_sample_ecommerce";

fn data_dir() -> Option<String> {
    std::env::var("NLQ_TEST_DATA_DIR").ok()
}

fn nlq(data: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nlq"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("NLQ_METADATA_STORE")
        .env_remove("NLQ_AS_OF")
        .output()
        .unwrap()
}

/// A document as nlq-metasync writes it, for a registry that ends on 2021-01-15 (the sample
/// goes on to 2021-01-31) and a custom parameter only the catalog knows.
fn document(project: &str, dataset: &str) -> serde_json::Value {
    let shards: Vec<String> = (0..76)
        .map(|i| {
            let day =
                chrono::NaiveDate::from_ymd_opt(2020, 11, 1).unwrap() + chrono::Duration::days(i);
            format!("events_{}", day.format("%Y%m%d"))
        })
        .collect();
    serde_json::json!({
        "format_version": nlq_metasync::document::FORMAT_VERSION,
        "generated_at": chrono::Utc::now().to_rfc3339(),
        "source": {"warehouse": "embedded", "project": project, "dataset": dataset},
        "registry": {
            "shards": shards,
            "intraday": [],
            "other": [],
            "first_day": "2020-11-01",
            "last_day": "2021-01-15",
            "as_of": "2021-01-16",
            "missing_days": [],
            "drift": []
        },
        "schema": [],
        "catalog": {
            "sampled_tables": ["events_20210115"],
            "bytes_processed": 1000,
            "events": {
                "page_view": {
                    "count": 1000,
                    "event_params": [{
                        "key": "custom_tier", "rows": 900, "string_value": 0, "int_value": 900,
                        "float_value": 0, "double_value": 0, "null_rate": 0.0, "distinct": 3,
                        "top_values": [["1", 500], ["2", 300], ["3", 100]]
                    }],
                    "user_properties": [],
                    "items": null
                }
            }
        },
        "examples": [],
        "insights": []
    })
}

fn store(dir: &Path, document: &[u8]) -> String {
    let location = format!("dir:{}", dir.display());
    let store = nlq_metasync::open(&location, &StoreOptions::default()).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(store.put(document))
        .unwrap();
    location
}

#[test]
fn the_registry_sets_the_as_of_date_and_the_shard_bounds() {
    let Some(data) = data_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let location = store(
        dir.path(),
        document(PROJECT, DATASET).to_string().as_bytes(),
    );
    let ask = ["ask", "지난 7일 디바이스별 방문자 수", "--format", "json"];
    let out = nlq(&data, &[&["--metadata", &location][..], &ask].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["plan"]["range"]["start"], "2021-01-09", "{json}");
    let sql = json["sql"].as_str().unwrap();
    assert!(sql.contains("BETWEEN '20210109' AND '20210115'"), "{sql}");

    // CURRENT_DATE() is the registry's as-of date too, so user SQL agrees with the engine.
    let out = nlq(
        &data,
        &[
            "--metadata",
            &location,
            "sql",
            "SELECT CURRENT_DATE() AS today",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "today\n2021-01-16\n"
    );
}

#[test]
fn the_lint_reads_value_fields_from_the_catalog() {
    let Some(data) = data_dir() else {
        return;
    };
    let sql = format!(
        "SELECT COUNT(*) AS n FROM `{PROJECT}.{DATASET}.events_*`, UNNEST(event_params) AS p \
         WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210107' AND event_name = 'page_view' \
         AND p.key = 'custom_tier' AND p.value.string_value = '1'"
    );
    let rules = |out: &Output| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["findings"].as_array().unwrap().clone())
            .map(|f| format!("{} {}", f["rule"], f["message"]))
            .collect()
    };
    // Without metadata the key is unknown, and unknown keys may use any field.
    let out = nlq(&data, &["check", &sql, "--format", "json"]);
    assert!(
        !rules(&out).iter().any(|r| r.contains("param_value_type")),
        "{:?}",
        rules(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let location = store(
        dir.path(),
        document(PROJECT, DATASET).to_string().as_bytes(),
    );
    let out = nlq(
        &data,
        &["--metadata", &location, "check", &sql, "--format", "json"],
    );
    let found = rules(&out);
    assert!(
        found.iter().any(|r| r.contains("lint.param_value_type")
            && r.contains("'custom_tier' keeps its value in value.int_value")),
        "{found:?}"
    );
}

#[test]
fn a_named_store_must_load_and_describe_this_dataset() {
    let Some(data) = data_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let other = store(
        dir.path(),
        document("my-project", "analytics_1").to_string().as_bytes(),
    );
    let out = nlq(&data, &["--metadata", &other, "sql", "SELECT 1 AS x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("it describes my-project.analytics_1, not bigquery-public-data."),
        "{err}"
    );

    let empty = tempfile::tempdir().unwrap();
    let location = format!("dir:{}", empty.path().display());
    let out = nlq(&data, &["--metadata", &location, "sql", "SELECT 1 AS x"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&location),
        "{out:?}"
    );
}

#[test]
fn a_broken_default_store_is_a_warning_and_the_command_goes_on() {
    let Some(data) = data_dir() else {
        return;
    };
    // A data directory of our own whose metadata folder holds a corrupt document. The sample's
    // files are hard-linked in (beside the sample, so on its file system): nothing is rebuilt,
    // and the engine, which refuses paths outside its data directory, sees them in it.
    let dir = tempfile::tempdir_in(Path::new(&data).parent().unwrap()).unwrap();
    for name in ["ga4.duckdb", "manifest.json"] {
        std::fs::hard_link(Path::new(&data).join(name), dir.path().join(name)).unwrap();
    }
    let metadata = dir.path().join("metadata");
    store(&metadata, b"{\"format_version\": 1, \"generated_at\": ");
    let out = nlq(
        dir.path().to_str().unwrap(),
        &["sql", "SELECT CURRENT_DATE() AS today", "--format", "csv"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: not using the metadata in dir:"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "today\n2021-02-01\n"
    );
}
