//! nlq-exec integration tests: one binary, a module per area.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aliases;
mod bigquery;
mod corpus;
mod corpus_file;
mod errors;
mod idioms;
mod import;
mod pruning;
mod schema;
mod sizes;
mod support;
