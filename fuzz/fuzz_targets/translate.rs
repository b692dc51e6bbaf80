//! Fuzz target: `nlq_sql::parse_query` then, when it parses, `nlq_sql::translate` over a GA4
//! catalog must never panic, whatever the input.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nlq_sql::Catalog;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        project: "bigquery-public-data".into(),
        dataset: "ga4_obfuscated_sample_ecommerce".into(),
        tables: vec![
            "events_20201130".into(),
            "events_20201201".into(),
            "events_20201202".into(),
        ],
        schema: nlq_core::ga4::events_schema()
            .unwrap_or_else(|err| panic!("the GA4 events schema does not parse: {err}")),
        current_date: "2020-12-03".into(),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    if nlq_sql::parse_query(sql).is_ok() {
        let _ = nlq_sql::translate(sql, catalog());
    }
});
