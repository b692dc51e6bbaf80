//! nlq-pipeline: one question, start to answer.
//!
//! ```text
//!  question ─► understand (intent + plan) ─► compile ─► validate + execute (nlq-validate over
//!           the Warehouse) ─► summarize ─► Answer
//!           └─ needs_llm and an LLM configured ─► classify ─► generate (grounded prompt,
//!              strict JSON) ─► check ─► risky? expert review ─► execute ─► refused? repair
//!              with the findings (bounded) ─► LLM summary (no identifier columns) ─► Answer
//!  a verified example (taught, `knowledge.rs`) of the same question ─► its SQL, dates moved
//!           ─► validate + execute ─► summarize
//!  each stage ─► Event (typed, timed) to the caller's sink: the CLI prints, the server streams
//! ```
//!
//! Embeddable: `Pipeline::ask` is async, takes the question and an event sink, and returns an
//! `Answer` whose `status` says what happened; it never panics on any question.

mod answer;
mod error;
pub mod knowledge;
mod llm_path;
pub mod metadata;
mod pipeline;
mod risk;

pub use answer::{Answer, Context, Event, Stage, Status, Timing, Turn};
pub use error::PipelineError;
pub use llm_path::{LlmCall, LlmPath, LlmReport, LlmStage, StageCost};
pub use pipeline::{Pipeline, Request};
pub use risk::Risk;
