//! What the translator needs to know about the dataset: its name, its shards, their schema,
//! and the date `CURRENT_DATE()` stands for.

use nlq_core::TableSchema;

#[derive(Debug, Clone)]
pub struct Catalog {
    /// Project qualifier accepted in table names (`bigquery-public-data`).
    pub project: String,
    /// Dataset qualifier accepted in table names (`ga4_obfuscated_sample_ecommerce`).
    pub dataset: String,
    /// Physical tables, e.g. `events_20201101`; the embedded engine stores them under these names.
    pub tables: Vec<String>,
    /// The schema every shard shares.
    pub schema: TableSchema,
    /// `CURRENT_DATE()` as `YYYY-MM-DD`: the dataset's as-of date, so relative dates mean
    /// something on historical data.
    pub current_date: String,
}
