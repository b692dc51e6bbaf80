//! nlq-exec: where SQL runs. Implementations of `nlq_core::Warehouse`.
//!
//! ```text
//!  BigQuery SQL ─► nlq-sql translate ─► DuckDB (read-only, no file or network access)
//!                      │                      │
//!                      └─ shards, columns ─► bytes BigQuery would bill (stored column sizes)
//! ```
//!
//! `embedded`: DuckDB over the GA4 sample, one native table per daily shard in one database
//! file, built once from the generator's Parquet files. `bigquery`: BigQuery itself, over its
//! REST API, with dry runs, byte caps, labels, paging and job cancellation.

pub mod bigquery;
pub mod embedded;
mod error;

pub use bigquery::{BigQueryConfig, BigQueryWarehouse};
pub use embedded::{Build, EmbeddedConfig, EmbeddedWarehouse, Storage};
pub use error::ExecError;
