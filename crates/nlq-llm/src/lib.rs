//! nlq-llm: the LLM path of nlq, for the questions the semantic engine passes on.
//!
//! ```text
//!  question ─► retrieval: the k golden queries most like it (ExampleIndex; LexicalIndex here)
//!           ─► prompt:    a versioned template from fixtures/prompts/ filled with the schema,
//!                         the model's definitions, the GA4 rules, the conversation, the
//!                         examples and the as-of date (every variable, or an error)
//!           ─► provider:  OpenAI, Anthropic, Gemini, OpenAI-compatible (vLLM) over reqwest
//!                         (`providers`): retries, timeouts, streaming, token usage
//!           ─► reply:     strict JSON {"sql", "explanation", "assumptions"}, untrusted: the
//!                         caller validates the SQL before anything runs it
//! ```
//!
//! Around the call: `budget` trims the prompt's context to a token budget by priority,
//! `providers::Fallback` chains providers in order of preference, and `pricing` turns the
//! tokens each call used into money.
//!
//! What this crate owns: the prompt files and their rendering (`prompt`), retrieval of
//! verified examples (`retrieval`), and the providers (`providers/`, one module each, sharing
//! `providers/http.rs`: configuration, retries with backoff, jitter and `Retry-After`).
//!
//! What it must never do: touch a warehouse or execute SQL (the SQL it returns is a draft for
//! `nlq-validate`), and never log, print or put in an error an API key.
//!
//! ```
//! use std::collections::BTreeMap;
//! use nlq_llm::{ExampleIndex, GlossaryEntry, LexicalIndex, PromptSet, prompt};
//! use nlq_semantic::model::Golden;
//!
//! let golden = vec![Golden {
//!     question: "지난 7일 디바이스별 방문자 수".into(),
//!     sql: "SELECT ...".into(),
//! }];
//! let glossary = [GlossaryEntry::new("사용자 수", "metric users")];
//! let index = LexicalIndex::new(&golden, &glossary);
//! let examples = index.top_k("지난 7일 디바이스별로 방문자는?", 3);
//! assert_eq!(examples[0].question, "지난 7일 디바이스별 방문자 수");
//!
//! let prompts = PromptSet::builtin()?;
//! let classify = prompts.get(prompt::CLASSIFY)?;
//! let values = BTreeMap::from([
//!     ("scope", "GA4 events of one web store, 2020-11-01 .. 2021-01-31".to_string()),
//!     ("context", "(none)".to_string()),
//!     ("question", "지난주 매출은?".to_string()),
//! ]);
//! let rendered = classify.render(&values)?;
//! assert_eq!(rendered.id(), "classify@1");
//! # Ok::<(), nlq_llm::LlmError>(())
//! ```

pub mod budget;
mod error;
pub mod pricing;
pub mod prompt;
pub mod providers;
pub mod retrieval;

pub use budget::{Section, Trimmed};
pub use error::LlmError;
pub use pricing::{Price, PriceTable};
pub use prompt::{PromptSet, PromptTemplate, RenderedPrompt, Variable};
pub use retrieval::{ExampleIndex, GlossaryEntry, LexicalIndex, Scored};
