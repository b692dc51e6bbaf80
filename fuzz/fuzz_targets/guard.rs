//! Fuzz target: the SQL guard, and the lint after it, must never panic, whatever the input.
//!
//! Invariant: when the guard returns no findings, the SQL parses as exactly one query
//! (`nlq_sql::parse_query` succeeds): the guard passes only parseable single queries.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nlq_validate::{AllowedDataset, GuardConfig, LintContext, StandardParams, guard, lint};

fn config() -> &'static GuardConfig {
    static CONFIG: OnceLock<GuardConfig> = OnceLock::new();
    CONFIG.get_or_init(|| GuardConfig {
        allowed: vec![AllowedDataset {
            project: "bigquery-public-data".into(),
            dataset: "ga4_obfuscated_sample_ecommerce".into(),
        }],
    })
}

fn check(sql: &str) {
    let findings = guard(sql, config());
    if findings.is_empty() {
        match nlq_sql::parse_query(sql) {
            Err(err) => {
                panic!("guard passed SQL that parse_query refuses: {err}\n---\n{sql}\n---")
            }
            // What passes the guard goes on to the lint.
            Ok(statement) => {
                let tables = ["events_20201201".to_owned(), "events_20201202".to_owned()];
                let context = LintContext {
                    tables: &tables,
                    today: "2020-12-03",
                    params: &StandardParams,
                };
                let _ = lint(&statement, &context);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(sql) => check(sql),
        // Invalid UTF-8: the lossy text (with U+FFFD) still exercises the tokenizer.
        Err(_) => check(&String::from_utf8_lossy(data)),
    }
});
