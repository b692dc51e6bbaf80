//! nlq-validate: SQL from an LLM or a user is untrusted input. Before anything runs it must be
//! proven a single read-only query over allowed datasets, calling only allow-listed functions,
//! that costs no more than the policy allows; after it runs, its result must look like a GA4
//! answer can.
//!
//! ```text
//!  SQL ─► guard (AST: one query, allowed datasets, allow-listed functions)
//!      ─► lint  (GA4 mistakes: SELECT *, unbounded shards, fan-out, wrong param field ...)
//!      ─► dry run ─► cost (billed bytes, USD, the byte cap) ─► explain ─► schema (LIMIT 0)
//!      ─► canary (the range's last day) ─► execute ─► assertions (domain facts on the rows)
//! ```
//!
//! `Validator` runs the steps over any `Warehouse`, stopping at the first error; each step is a
//! `StepResult` in a `Report`. Findings are data (`Finding { rule, severity, message,
//! position }`). Never analyses SQL as text: keywords inside strings, comments or names are not
//! statements.

mod assertions;
mod cost;
mod error;
mod finding;
mod guard;
mod lint;
mod params;
mod pipeline;

pub use assertions::{ResultShape, check as check_result};
pub use cost::{Cost, CostPolicy, bytes_billed, cost, over_cap};
pub use error::ValidateError;
pub use finding::{Finding, Severity};
pub use guard::{AllowedDataset, GuardConfig, guard};
pub use lint::{LintContext, lint};
pub use params::{ParamCatalog, ParamScope, StandardParams, ValueField};
pub use pipeline::{
    DatasetFacts, Job, Outcome, Policy, Report, Step, StepMeta, StepResult, Validator, Verdict,
    not_allowable,
};
