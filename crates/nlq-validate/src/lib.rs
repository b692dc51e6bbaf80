//! nlq-validate: SQL from an LLM or a user is untrusted input. Before anything runs it must be
//! proven a single read-only query over allowed datasets, calling only allow-listed functions.
//!
//! ```text
//!  SQL ─► guard (AST: one query, tables in allowed datasets, allow-listed functions) ─► findings
//!     ─► cost (dry-run bytes → billed bytes, USD, the byte cap)
//!         (lint, schema, canary and assertions come next: issue 3)
//! ```
//!
//! Findings are data (`Finding { rule, severity, message, position }`); an empty list of errors
//! means the guard passed. Never analyses SQL as text: keywords inside strings, comments or
//! names are not statements.

mod cost;
mod finding;
mod guard;

pub use cost::{Cost, CostPolicy, bytes_billed, cost, over_cap};
pub use finding::{Finding, Severity};
pub use guard::{AllowedDataset, GuardConfig, guard};
