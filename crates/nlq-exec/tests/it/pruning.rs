//! Wildcard pruning: a `_TABLE_SUFFIX` range reads only the shards in range, both in what the
//! engine reports and in DuckDB's own plan.

use nlq_core::Value;

use crate::support::{run, sample, tiny};

fn plan(sql: &str) -> String {
    let warehouse = tiny();
    let translated = warehouse.translate(sql).unwrap().sql;
    let explain = warehouse
        .query_native(&format!("EXPLAIN {translated}"), 100)
        .unwrap();
    explain
        .rows
        .iter()
        .flatten()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn constant_bounds_read_only_the_shards_in_range() {
    let sql = "SELECT COUNT(DISTINCT user_pseudo_id) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX = '20201231'";
    let result = run(tiny(), sql);
    assert_eq!(result.rows, vec![vec![Value::Int64(2)]]);
    assert_eq!(result.tables_read, vec!["events_20201231"]);
    let plan = plan(sql);
    assert!(plan.contains("events_20201231"), "{plan}");
    assert!(
        !plan.contains("events_20201230") && !plan.contains("events_20210101"),
        "{plan}"
    );
}

#[test]
fn relative_bounds_are_folded_before_running() {
    // CURRENT_DATE() is 2021-01-02 on the tiny dataset: the last two days.
    let sql = "SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` \
               WHERE _TABLE_SUFFIX BETWEEN FORMAT_DATE('%Y%m%d', DATE_SUB(CURRENT_DATE(), INTERVAL 2 DAY)) AND FORMAT_DATE('%Y%m%d', CURRENT_DATE())";
    let result = run(tiny(), sql);
    assert_eq!(
        result.tables_read,
        vec!["events_20201231", "events_20210101"]
    );
    assert_eq!(result.rows, vec![vec![Value::Int64(7)]]);
}

#[test]
fn bounds_that_are_not_constant_keep_every_shard_and_the_answer() {
    let sql = "SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX = event_date OR _TABLE_SUFFIX = '1'";
    let result = run(tiny(), sql);
    assert_eq!(result.tables_read.len(), 3);
    assert_eq!(result.rows, vec![vec![Value::Int64(8)]]);
}

#[test]
fn a_month_of_the_sample_reads_31_shards_and_bills_their_columns_only() {
    let month = "SELECT COUNT(DISTINCT user_pseudo_id) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'";
    let all = "SELECT COUNT(DISTINCT user_pseudo_id) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";
    let wide = "SELECT COUNT(DISTINCT user_pseudo_id), COUNT(DISTINCT device.category) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'";
    let month = run(sample(), month);
    let all = run(sample(), all);
    let wide = run(sample(), wide);
    assert_eq!(month.tables_read.len(), 31);
    assert_eq!(all.tables_read.len(), 92);
    assert!(month.bytes_processed > 0);
    assert!(month.bytes_processed < all.bytes_processed);
    // user_pseudo_id is "NNNNNNNNNN.NNNNNNNNNN"-like text: at least 2 + 10 bytes per event.
    let events = run(
        sample(),
        "SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'",
    );
    let Value::Int64(events) = events.rows[0][0] else {
        panic!()
    };
    assert!(
        month.bytes_processed >= 12 * events as u64,
        "{} bytes for {events} events",
        month.bytes_processed
    );
    // Adding device.category adds exactly that leaf's bytes, not the whole device struct.
    let category_only = wide.bytes_processed - month.bytes_processed;
    assert!(
        category_only > 0 && category_only < 14 * events as u64,
        "{category_only}"
    );
}

#[test]
fn a_dry_run_reports_what_the_query_would_read_without_running_it() {
    let sql = "SELECT device.category, COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX >= '20201231' GROUP BY 1";
    let dry = tiny().dry_run_sync(sql).unwrap();
    let run = run(tiny(), sql);
    assert_eq!(dry.tables, vec!["events_20201231", "events_20210101"]);
    assert_eq!(dry.bytes_processed, run.bytes_processed);
    // device.category over 7 events: 2 + 7 ("desktop"), 2 + 6 ("mobile"), 2 + 6 ("tablet").
    assert_eq!(dry.bytes_processed, 3 * 9 + 2 * 8 + 2 * 8);
    let err = tiny().dry_run_sync("SELECT nope FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201230`").unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn the_row_cap_cuts_and_says_so() {
    let sql =
        "SELECT event_name FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";
    let result = tiny()
        .query_sync(&nlq_core::QueryRequest {
            sql: sql.into(),
            max_rows: 5,
            labels: Vec::new(),
        })
        .unwrap();
    assert_eq!(result.rows.len(), 5);
    assert!(result.truncated);
    let result = tiny()
        .query_sync(&nlq_core::QueryRequest {
            sql: sql.into(),
            max_rows: 8,
            labels: Vec::new(),
        })
        .unwrap();
    assert_eq!(result.rows.len(), 8);
    assert!(!result.truncated);
}
