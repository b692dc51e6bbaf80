//! nlq-semantic: answers the everyday grid of GA4 questions without an LLM, the same way every
//! time, in Korean and English.
//!
//! ```text
//!  question ─► normalize ─► intent (change data? out of scope? help?)
//!           ─► slots: time words (time.rs), model words (metrics, dimensions, values),
//!                     top N, percent, comparison ─► every word accounted for, or NeedsLlm
//!           ─► Plan ─► compile (SQL from the model's expressions) ─► (validate, run: elsewhere)
//!           ─► summarize (totals, top value, change between periods)
//!
//!  follow-up ("그럼 모바일만?") ─► the same slots ─► changes to the previous Plan ─► Plan
//!                                  (not a follow-up: None, read it as a question)
//! ```
//!
//! The model (`fixtures/semantic/ga4.yaml`) is the single source of metric definitions. This
//! crate never runs SQL and never guesses: a question it cannot read completely is handed on.

pub mod classify;
pub mod cohort;
pub mod compile;
mod error;
pub mod funnel;
pub mod insights;
pub mod lexicon;
pub mod model;
pub mod normalize;
pub mod summary;
mod taught;
pub mod time;
pub mod together;
pub mod understand;

pub use compile::compile;
pub use error::SemanticError;
pub use lexicon::Lexicon;
pub use model::SemanticModel;
pub use summary::{Lang, summarize};
pub use time::DateRange;
pub use understand::{
    Filter, FilterOp, Having, MIN_CONFIDENCE, Plan, Reader, Shape, Top, Understanding,
};
