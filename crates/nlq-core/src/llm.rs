//! The `LlmProvider` trait: chat with a language model. Implemented for OpenAI, Anthropic,
//! Gemini and OpenAI-compatible servers (vLLM) in `nlq-llm`; held as `Arc<dyn LlmProvider>`.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ErrorClass;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::User,
            content: content.into(),
        }
    }
}

/// One call. Model, limits and timeouts are the provider's configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    /// Ask for a JSON object, where the API supports it (the prompt asks too).
    pub json: bool,
}

/// Tokens a call used, as the API reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatResponse {
    pub text: String,
    /// None when the reply did not say: unknown, never taken as zero tokens and $0.
    pub usage: Option<Usage>,
    /// The provider's name (`openai`, `anthropic`, `gemini`, `vllm`) and the model that answered.
    pub provider: String,
    pub model: String,
    /// How many HTTP attempts the call took (retries included).
    pub attempts: u32,
}

/// A provider failure as every caller sees it. Never contains a key.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    pub provider: String,
    pub class: ErrorClass,
    pub message: String,
    /// What the server asked us to wait before trying again (429 / 503 `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// `openai`, `anthropic`, `gemini`, `vllm`.
    fn name(&self) -> &str;

    fn model(&self) -> &str;

    /// One completion, with the provider's retries.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError>;

    /// The same, streamed: `delta` gets each piece of text as it arrives.
    async fn chat_stream(
        &self,
        request: &ChatRequest,
        delta: &(dyn for<'a> Fn(&'a str) + Send + Sync),
    ) -> Result<ChatResponse, ProviderError>;
}
