//! Bad input gets a clear error that names what is wrong, where, and what to do.

use nlq_core::{Classify, ErrorClass, QueryRequest};

use crate::support::tiny;

fn error(sql: &str) -> (String, ErrorClass, Option<nlq_core::SqlPosition>) {
    let err = tiny().query_sync(&QueryRequest::new(sql)).expect_err(sql);
    (err.to_string(), err.class(), err.position())
}

#[test]
fn parse_errors_carry_their_position() {
    let (message, class, position) = error("SELECT event_name\nFROM t\n  WHERE (x");
    assert_eq!(class, ErrorClass::User);
    assert!(message.starts_with("SQL syntax error"), "{message}");
    assert_eq!(position.map(|p| p.line), Some(3), "{message}");
}

#[test]
fn unknown_tables_say_what_exists() {
    let (message, class, position) = error(
        "SELECT 1 FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20190101`",
    );
    assert_eq!(class, ErrorClass::User);
    assert!(
        message.contains("unknown table") && message.contains("events_20201230 .. events_20210101"),
        "{message}"
    );
    assert!(position.is_some());
    let (message, ..) = error("SELECT 1 FROM `other-project.analytics_123.events_*`");
    assert!(
        message.contains("bigquery-public-data.ga4_obfuscated_sample_ecommerce"),
        "{message}"
    );
    let (message, ..) =
        error("SELECT 1 FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.sessions_*`");
    assert!(
        message.contains("no table matches the prefix `sessions_`"),
        "{message}"
    );
}

#[test]
fn only_a_single_query_runs() {
    let (message, ..) = error(
        "DELETE FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201230` WHERE true",
    );
    assert!(message.contains("DELETE is not a query"), "{message}");
    let (message, ..) = error("SELECT 1; SELECT 2");
    assert!(message.contains("2 statements"), "{message}");
    let (message, ..) = error("  ");
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn engine_only_functions_never_run() {
    for sql in [
        "SELECT getenv('HOME')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT `read_text`('/etc/passwd')",
        "SELECT list_filter([1], x -> true)",
    ] {
        let (message, class, _) = error(sql);
        assert_eq!(class, ErrorClass::User, "{sql}: {message}");
        assert!(
            message.contains("not supported") || message.contains("unknown table"),
            "{sql}: {message}"
        );
    }
}

#[test]
fn unsupported_constructs_name_themselves() {
    // Time zones translate (see tests/it/idioms.rs); the public suffix list is not there.
    let (message, _, position) =
        error("SELECT NET.REG_DOMAIN('https://shop.example.co.uk/a') AS d");
    assert!(
        message.contains("NET.REG_DOMAIN") && message.contains("public suffix list"),
        "{message}"
    );
    assert_eq!(position.map(|p| p.column), Some(8), "{message}");
    let (message, ..) = error(
        "SELECT COUNT(*) AS n FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201230` TABLESAMPLE SYSTEM (10 PERCENT)",
    );
    assert!(message.contains("TABLESAMPLE"), "{message}");
    let (message, ..) = error("SELECT ML.PREDICT(1)");
    assert!(message.contains("ML.PREDICT"), "{message}");
    // BigQuery functions the engine cannot translate faithfully say so by name.
    let (message, ..) = error("SELECT SOUNDEX('nlq') AS s");
    assert!(
        message.contains("SOUNDEX") && message.contains("no faithful translation"),
        "{message}"
    );
    let (message, ..) = error("SELECT FARM_FINGERPRINT('nlq') AS f");
    assert!(message.contains("FARM_FINGERPRINT"), "{message}");
    // A sketch itself is BigQuery's bytes; only its count, written whole, translates.
    for sql in [
        "SELECT HLL_COUNT.INIT(user_pseudo_id, 14) AS s FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201230`",
        "SELECT HLL_COUNT.EXTRACT(HLL_COUNT.INIT(user_pseudo_id, 30)) AS n FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201230`",
    ] {
        let (message, ..) = error(sql);
        assert!(message.contains("HLL_COUNT"), "{sql}: {message}");
    }
    let (message, ..) = error("SELECT OFFSET(1) AS o");
    assert!(message.contains("array subscript"), "{message}");
}

#[test]
fn engine_errors_are_the_users_when_the_query_is_wrong() {
    let (message, class, _) = error(
        "SELECT no_such_column FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201230`",
    );
    assert_eq!(class, ErrorClass::User, "{message}");
    assert!(message.contains("no_such_column"), "{message}");
}

/// DuckDB's calls block, so only the engine itself can stop a query at its deadline: it is
/// interrupted, the caller is told it timed out, and the next query runs on the same connection.
#[test]
fn a_query_past_the_timeout_is_interrupted_and_the_engine_stays_usable() {
    let (_dir, warehouse) =
        crate::support::tiny_with(|c| c.timeout = std::time::Duration::from_millis(300));
    // Without end: counting a recursion that never stops.
    let endless = "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) \
                   SELECT COUNT(*) AS n FROM r";
    let started = std::time::Instant::now();
    let err = warehouse
        .query_sync(&QueryRequest::new(endless))
        .expect_err("an endless query must stop");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(err.class(), ErrorClass::Transient, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("ran longer than 0.3 s") && message.contains("--timeout-secs"),
        "{message}"
    );
    let result = warehouse
        .query_sync(&QueryRequest::new("SELECT 1 AS x"))
        .unwrap();
    assert_eq!(result.rows, vec![vec![nlq_core::Value::Int64(1)]]);
}
