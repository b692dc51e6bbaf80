//! Guard + lint of typical GA4 queries: the static checks every question pays before the
//! warehouse is asked anything. Goal: p50 under 1 ms.
//!
//! Run: `cargo bench -p nlq-validate --bench guard_lint`. Prints p50 / p90 / p99 per query over
//! many runs, after a warm-up. Under `cargo test --all-targets` (no `--bench` argument) it runs
//! each query a few times only, to prove the benchmark still works.

// A benchmark: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use nlq_validate::{AllowedDataset, GuardConfig, LintContext, StandardParams, guard, lint};

const T: &str = "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";

fn queries() -> Vec<(&'static str, String)> {
    vec![
        (
            "users by device, last 7 days",
            format!(
                "SELECT device.category AS device, COUNT(DISTINCT user_pseudo_id) AS users FROM {T} \
                 WHERE _TABLE_SUFFIX BETWEEN FORMAT_DATE('%Y%m%d', DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)) \
                 AND FORMAT_DATE('%Y%m%d', DATE_SUB(CURRENT_DATE(), INTERVAL 1 DAY)) GROUP BY device ORDER BY users DESC"
            ),
        ),
        (
            "sessions and engagement rate by day",
            format!(
                "WITH s AS (SELECT event_date, CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value \
                 FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING)) AS session_key, \
                 (SELECT ep.value.string_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'session_engaged') AS engaged \
                 FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231') \
                 SELECT event_date, COUNT(DISTINCT session_key) AS sessions, \
                 SAFE_DIVIDE(COUNT(DISTINCT IF(engaged = '1', session_key, NULL)), COUNT(DISTINCT session_key)) AS engagement_rate \
                 FROM s GROUP BY event_date ORDER BY event_date"
            ),
        ),
        (
            "top 10 products by revenue",
            format!(
                "SELECT item.item_name, SUM(item.item_revenue) AS revenue, SUM(item.quantity) AS units \
                 FROM {T}, UNNEST(items) AS item WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231' \
                 AND event_name = 'purchase' GROUP BY 1 ORDER BY revenue DESC LIMIT 10"
            ),
        ),
        (
            "purchase funnel",
            format!(
                "SELECT COUNT(DISTINCT IF(event_name = 'view_item', user_pseudo_id, NULL)) AS step1_view, \
                 COUNT(DISTINCT IF(event_name = 'add_to_cart', user_pseudo_id, NULL)) AS step2_cart, \
                 COUNT(DISTINCT IF(event_name = 'begin_checkout', user_pseudo_id, NULL)) AS step3_checkout, \
                 COUNT(DISTINCT IF(event_name = 'purchase', user_pseudo_id, NULL)) AS step4_purchase \
                 FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20201130'"
            ),
        ),
        (
            "revenue by country and month",
            format!(
                "SELECT geo.country, SUBSTR(event_date, 1, 6) AS month, \
                 SUM(IF(event_name = 'purchase', ecommerce.purchase_revenue, 0)) AS revenue \
                 FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131' \
                 GROUP BY 1, 2 ORDER BY revenue DESC LIMIT 20"
            ),
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (warmup, runs) = if bench { (200, 5_000) } else { (1, 3) };
    let config = GuardConfig {
        allowed: vec![AllowedDataset {
            project: "bigquery-public-data".into(),
            dataset: "ga4_obfuscated_sample_ecommerce".into(),
        }],
    };
    // The sample's shards, 2020-11-01 .. 2021-01-31.
    let tables: Vec<String> = [("202011", 30), ("202012", 31), ("202101", 31)]
        .iter()
        .flat_map(|(month, days)| (1..=*days).map(move |d| format!("events_{month}{d:02}")))
        .collect();
    let context = LintContext {
        tables: &tables,
        today: "2021-02-01",
        params: &StandardParams,
    };
    let mut all = Vec::new();
    println!("guard + lint, {runs} runs per query after {warmup} warm-up runs");
    for (name, sql) in queries() {
        let once = || {
            let refused = guard(&sql, &config);
            assert!(refused.is_empty(), "{name}: {refused:?}");
            // The pipeline parses once more after the guard; count it.
            let statement = nlq_sql::parse_query(&sql).expect("the guard passed it");
            std::hint::black_box(lint(&statement, &context));
        };
        for _ in 0..warmup {
            once();
        }
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                once();
                started.elapsed()
            })
            .collect();
        times.sort_unstable();
        println!(
            "{name:40} p50 {:>8.1} µs  p90 {:>8.1} µs  p99 {:>8.1} µs  ({} bytes of SQL)",
            percentile(&times, 0.5).as_secs_f64() * 1e6,
            percentile(&times, 0.9).as_secs_f64() * 1e6,
            percentile(&times, 0.99).as_secs_f64() * 1e6,
            sql.len()
        );
        all.extend(times);
    }
    all.sort_unstable();
    println!(
        "{:40} p50 {:>8.1} µs  p90 {:>8.1} µs  p99 {:>8.1} µs",
        "all",
        percentile(&all, 0.5).as_secs_f64() * 1e6,
        percentile(&all, 0.9).as_secs_f64() * 1e6,
        percentile(&all, 0.99).as_secs_f64() * 1e6
    );
}
