//! The `LlmProvider` implementations over reqwest: OpenAI, OpenAI-compatible servers (vLLM),
//! Anthropic and Gemini, sharing configuration, retries and error handling (`http.rs`).

mod anthropic;
mod fallback;
mod gemini;
mod http;
mod openai;

pub use anthropic::Anthropic;
pub use fallback::Fallback;
pub use gemini::Gemini;
pub use http::{ProviderConfig, RetryPolicy, Secret};
pub use openai::OpenAi;
