//! The GA4 corpus files, shared by the differential tests and the benchmark
//! (benches/ga4_queries.rs includes this file): fixtures/corpus/ga4_corpus.toml (the team's own
//! queries and the dev set's gold SQL) and fixtures/corpus/public_style.toml (queries in the
//! styles other people write: blog tutorials, documentation, benchmark gold SQL, LLM output).
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
    /// public_style.toml only: blog, docs, benchmark or llm.
    pub style: Option<String>,
}

pub fn corpus() -> Vec<Entry> {
    parse(
        "ga4_corpus.toml",
        include_str!("../../../../fixtures/corpus/ga4_corpus.toml"),
    )
}

pub fn public_style() -> Vec<Entry> {
    parse(
        "public_style.toml",
        include_str!("../../../../fixtures/corpus/public_style.toml"),
    )
}

fn parse(name: &str, text: &str) -> Vec<Entry> {
    match toml::from_str::<Corpus>(text) {
        Ok(corpus) => corpus.query,
        Err(err) => panic!("fixtures/corpus/{name}: {err}"),
    }
}
