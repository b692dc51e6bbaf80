//! The GA4 corpus file (fixtures/corpus/ga4_corpus.toml), shared by the differential tests and
//! the benchmark (benches/ga4_queries.rs includes this file).
// Each of the two users reads only some of the fields.
#![allow(dead_code)]

use serde::Deserialize;

#[derive(Deserialize)]
struct Corpus {
    query: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub about: String,
    pub order_matters: bool,
    pub tolerance: Option<f64>,
    pub bigquery: String,
    pub duckdb: String,
    pub bqemulator_divergence: Option<String>,
    pub bqemulator_note: Option<String>,
}

pub fn corpus() -> Vec<Entry> {
    let text = include_str!("../../../../fixtures/corpus/ga4_corpus.toml");
    match toml::from_str::<Corpus>(text) {
        Ok(corpus) => corpus.query,
        Err(err) => panic!("fixtures/corpus/ga4_corpus.toml: {err}"),
    }
}
