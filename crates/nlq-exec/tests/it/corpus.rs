//! The GA4 corpus (fixtures/corpus/ga4_corpus.toml), run differentially on the generated sample:
//! every BigQuery query through the embedded engine must equal
//!  1. the hand-written DuckDB-native equivalent (always), and
//!  2. bqemulator, an independent BigQuery implementation, where it is right (when the test
//!     script started it: `NLQ_BQEMU_URL`). Its known bugs are recorded by name per query.

use std::collections::BTreeMap;

use nlq_core::{BqType, QueryRequest, QueryResult, Value};

use crate::corpus_file::{Entry, corpus, public_style};
use nlq_exec::{EmbeddedConfig, EmbeddedWarehouse, Storage};

use crate::support::sample;

/// Values as compared: numbers by value with a tolerance, everything else exactly.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Cmp {
    Null,
    Num(f64),
    Text(String),
    List(Vec<Cmp>),
}

fn cmp(value: &Value) -> Cmp {
    match value {
        Value::Null => Cmp::Null,
        Value::Bool(b) => Cmp::Text(b.to_string()),
        Value::Int64(_) | Value::Float64(_) | Value::Numeric(_) => {
            Cmp::Num(value.as_f64().unwrap_or(f64::NAN))
        }
        Value::Timestamp(micros) => Cmp::Num(*micros as f64),
        Value::String(s) | Value::Date(s) | Value::Datetime(s) | Value::Time(s) => {
            Cmp::Text(s.clone())
        }
        Value::Bytes(b) => Cmp::Text(format!("{b:?}")),
        Value::Array(items) => Cmp::List(items.iter().map(cmp).collect()),
        Value::Struct(fields) => Cmp::List(fields.iter().map(|(_, v)| cmp(v)).collect()),
    }
}

fn close(a: &Cmp, b: &Cmp, tolerance: f64) -> bool {
    match (a, b) {
        (Cmp::Num(x), Cmp::Num(y)) => {
            x == y
                || (x - y).abs() <= tolerance * x.abs().max(y.abs())
                || (x.is_nan() && y.is_nan())
        }
        (Cmp::List(x), Cmp::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b, tolerance))
        }
        _ => a == b,
    }
}

fn rows(result: &QueryResult, order_matters: bool) -> Vec<Vec<Cmp>> {
    let mut rows: Vec<Vec<Cmp>> = result
        .rows
        .iter()
        .map(|r| r.iter().map(cmp).collect())
        .collect();
    if !order_matters {
        rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    }
    rows
}

/// Why two results differ, or None when they agree.
pub(crate) fn difference(
    ours: &QueryResult,
    theirs: &QueryResult,
    entry: &Entry,
    check_types: bool,
) -> Option<String> {
    let names = |r: &QueryResult| {
        r.columns
            .iter()
            .map(|c| c.name.to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    if names(ours) != names(theirs) {
        return Some(format!("columns {:?} vs {:?}", names(ours), names(theirs)));
    }
    if check_types {
        let types = |r: &QueryResult| {
            r.columns
                .iter()
                .map(|c| c.ty.clone())
                .collect::<Vec<BqType>>()
        };
        if types(ours) != types(theirs) {
            return Some(format!(
                "types {:?} vs {:?}",
                ours.columns
                    .iter()
                    .map(|c| c.ty.to_string())
                    .collect::<Vec<_>>(),
                theirs
                    .columns
                    .iter()
                    .map(|c| c.ty.to_string())
                    .collect::<Vec<_>>()
            ));
        }
    }
    let tolerance = entry.tolerance.unwrap_or(1e-9);
    let (a, b) = (
        rows(ours, entry.order_matters),
        rows(theirs, entry.order_matters),
    );
    if a.len() != b.len() {
        return Some(format!("{} rows vs {} rows", a.len(), b.len()));
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if x.len() != y.len() || !x.iter().zip(y).all(|(p, q)| close(p, q, tolerance)) {
            return Some(format!("row {i}: {x:?} vs {y:?}"));
        }
    }
    None
}

#[test]
fn corpus_is_large_and_holds_every_dev_gold_query() {
    let entries = corpus();
    assert!(entries.len() >= 60, "{} entries", entries.len());
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    for line in include_str!("../../../../fixtures/questions/dev.jsonl").lines() {
        let question: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(gold) = question["gold_sql"].as_str() {
            let id = question["id"].as_str().unwrap();
            let entry = entries
                .iter()
                .find(|e| e.id == id)
                .unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(entry.bigquery.trim(), gold.trim(), "{id} is not verbatim");
        }
    }
    for bench in [
        "bench_daily_users_month",
        "bench_revenue_by_device",
        "bench_top_items",
        "bench_sessions_per_day",
        "bench_funnel",
    ] {
        assert!(ids.contains(&bench), "{bench} missing");
    }
}

/// Other people's GA4 SQL: at least 60 queries, in every style, each id once.
#[test]
fn the_public_style_corpus_covers_every_style() {
    let entries = public_style();
    assert!(entries.len() >= 60, "{} entries", entries.len());
    for style in ["blog", "docs", "benchmark", "llm"] {
        let n = entries
            .iter()
            .filter(|e| e.style.as_deref() == Some(style))
            .count();
        assert!(n >= 10, "{n} entries in the {style} style");
    }
    let mut ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), entries.len(), "duplicate ids");
}

#[test]
fn every_corpus_query_matches_its_duckdb_native_equivalent() {
    let warehouse = sample();
    let mut failures = Vec::new();
    let mut empty = Vec::new();
    for entry in corpus().into_iter().chain(public_style()) {
        let ours = match warehouse.query_sync(&QueryRequest {
            sql: entry.bigquery.clone(),
            max_rows: 100_000,
            labels: Vec::new(),
        }) {
            Ok(result) => result,
            Err(err) => {
                failures.push(format!("{}: ours failed: {err}", entry.id));
                continue;
            }
        };
        let native = match warehouse.query_native(&entry.duckdb, 100_000) {
            Ok(result) => result,
            Err(err) => {
                failures.push(format!("{}: native failed: {err}", entry.id));
                continue;
            }
        };
        if ours.rows.is_empty() {
            empty.push(entry.id.clone());
        }
        if let Some(diff) = difference(&ours, &native, &entry, true) {
            failures.push(format!("{}: {diff}", entry.id));
        }
    }
    eprintln!("corpus: queries with no rows on the sample: {empty:?}");
    assert!(
        failures.is_empty(),
        "{} corpus mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A first run answers from the Parquet shards while the database builds, then switches: every
/// query answers the same either way, bytes included, and the Parquet connection reads nothing
/// outside the sample's folder.
#[test]
fn the_parquet_shards_answer_as_the_built_database_does() {
    let built = sample();
    let fresh = tempfile::tempdir().unwrap();
    let source = crate::support::sample_dir();
    std::fs::copy(
        source.join("manifest.json"),
        fresh.path().join("manifest.json"),
    )
    .unwrap();
    let parquet = fresh.path().join(nlq_sample::PARQUET_DIR);
    std::fs::create_dir(&parquet).unwrap();
    for file in std::fs::read_dir(source.join(nlq_sample::PARQUET_DIR)).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, parquet.join(file.file_name().unwrap())).unwrap();
    }
    let config = EmbeddedConfig::new(fresh.path());
    let (warehouse, build) = EmbeddedWarehouse::open_building(&config, |_, _| {}).unwrap();
    let build = build.expect("no database yet: a build must start");
    assert_eq!(warehouse.storage(), Storage::Parquet);
    let refused = warehouse
        .query_native("SELECT * FROM read_csv('/etc/passwd')", 1)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("disabled"), "{refused}");

    let compare = |storage: &str| {
        let mut failures = Vec::new();
        for entry in public_style()
            .into_iter()
            .chain(corpus().into_iter().take(40))
        {
            let request = QueryRequest {
                sql: entry.bigquery.clone(),
                max_rows: 100_000,
                labels: Vec::new(),
            };
            let (ours, theirs) = (
                warehouse.query_sync(&request).unwrap(),
                built.query_sync(&request).unwrap(),
            );
            if let Some(diff) = difference(&ours, &theirs, &entry, true) {
                failures.push(format!("{} ({storage}): {diff}", entry.id));
            }
            if ours.bytes_processed != theirs.bytes_processed {
                failures.push(format!("{} ({storage}): bytes differ", entry.id));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    };
    compare("while building");
    build.wait().unwrap();
    assert_eq!(warehouse.storage(), Storage::Database);
    assert!(config.database_path().exists());
    compare("built");
    // The next open finds the database: nothing to build.
    drop(warehouse);
    let (again, build) = EmbeddedWarehouse::open_building(&config, |_, _| {}).unwrap();
    assert!(build.is_none());
    assert_eq!(again.storage(), Storage::Database);
}

#[test]
fn corpus_matches_bqemulator_where_it_is_right() {
    let Some(url) = nlq_testkit::emulator::bqemulator() else {
        return;
    };
    let warehouse = sample();
    // The corpus runs through our BigQuery warehouse (its requests, paging and value
    // conversion) against the emulator: parity of the two warehouses, not only of the SQL.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = nlq_exec::bigquery::BigQueryConfig::new(
        "nlq-test",
        "bigquery-public-data.ga4_obfuscated_sample_ecommerce",
    )
    .unwrap();
    config.endpoint = Some(url.clone());
    config.credentials = nlq_exec::bigquery::Credentials::Anonymous;
    config.timeout = std::time::Duration::from_secs(120);
    let bigquery = rt
        .block_on(nlq_exec::bigquery::BigQueryWarehouse::connect(config))
        .unwrap();
    let mut failures = Vec::new();
    let mut divergences: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut agreed = 0;
    for entry in corpus().into_iter().chain(public_style()) {
        let ours = warehouse
            .query_sync(&QueryRequest {
                sql: entry.bigquery.clone(),
                max_rows: 100_000,
                labels: Vec::new(),
            })
            .unwrap_or_else(|e| panic!("{}: {e}", entry.id));
        let theirs = rt
            .block_on(nlq_core::Warehouse::query(
                &bigquery,
                &QueryRequest {
                    sql: entry.bigquery.clone(),
                    max_rows: 100_000,
                    labels: Vec::new(),
                },
            ))
            .map_err(|e| e.to_string());
        let diff = match &theirs {
            Ok(result) => difference(&ours, result, &entry, false),
            Err(err) => Some(format!("bqemulator error: {err}")),
        };
        match (&entry.bqemulator_divergence, diff) {
            (None, None) => agreed += 1,
            (None, Some(diff)) => failures.push(format!("{}: {diff}", entry.id)),
            (Some(bug), Some(_)) => divergences
                .entry(bug.clone())
                .or_default()
                .push(entry.id.clone()),
            (Some(bug), None) => {
                // Known bug not seen on this data (e.g. the affected column was all NULL): fine,
                // but say so, so the record stays honest.
                eprintln!(
                    "{}: recorded bqemulator divergence `{bug}` did not show on this sample",
                    entry.id
                );
                agreed += 1;
            }
        }
    }
    eprintln!("bqemulator: {agreed} queries agree; known divergences by name:");
    for (bug, ids) in &divergences {
        eprintln!("  {bug}: {}", ids.join(", "));
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with bqemulator:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
