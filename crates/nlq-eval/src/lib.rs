//! nlq-eval: how an nlq answer is judged against the benchmark, as pure functions.
//!
//! ```text
//!   questions JSONL text ─► parse_questions ─► [Question]
//!   (gold result, answer result) ─► compare ─► Comparison (matched? which column is which)
//!   (question, status, sql ran?, comparison) ─► score ─► Outcome
//!   [Outcome] ─► Summary (accuracy by kind / lang) ─► render_table, or JSON via serde
//! ```
//!
//! This crate owns the question-file format, the rules for when two query results are the
//! same answer, and the scoring rules. It must never touch a warehouse, run SQL, read files or
//! call the pipeline: the runner that executes gold and answer SQL and times them lives in the
//! binary / pipeline and hands the results here.

mod compare;
mod error;
mod question;
mod score;
mod summary;

pub use compare::{ABSOLUTE_TOLERANCE, Comparison, RELATIVE_TOLERANCE, compare, numbers_equal};
pub use error::EvalError;
pub use question::{Kind, Question, parse_questions};
pub use score::{Outcome, Status, score};
pub use summary::{KindLangTally, Summary, Tally, render_table};
