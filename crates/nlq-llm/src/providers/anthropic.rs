//! Anthropic's Messages API. The system prompt is a top-level field; there is no JSON mode, so
//! the prompt asks for JSON and the caller checks it.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use nlq_core::{ChatRequest, ChatResponse, LlmProvider, ProviderError, Role, Usage};

use super::http::{self, ProviderConfig};

/// A Messages reply, as far as nlq reads it (required fields required).
#[derive(Deserialize)]
struct Reply {
    content: Vec<Block>,
    model: Option<String>,
    stop_reason: Option<String>,
    /// Missing: the usage is unknown (never counted as 0 tokens, $0).
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct Block {
    /// Only text blocks have text.
    text: Option<String>,
}

#[derive(Deserialize)]
struct TokenUsage {
    input_tokens: u64,
    output_tokens: u64,
}

/// One stream event: `type` says which fields it has.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockDelta {
        delta: TextDelta,
    },
    MessageDelta {
        usage: Option<OutputUsage>,
    },
    Error {
        error: StreamError,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartedMessage {
    model: Option<String>,
    usage: Option<InputUsage>,
}

#[derive(Deserialize)]
struct InputUsage {
    input_tokens: u64,
}

#[derive(Deserialize)]
struct OutputUsage {
    output_tokens: u64,
}

#[derive(Deserialize)]
struct TextDelta {
    text: Option<String>,
}

#[derive(Deserialize)]
struct StreamError {
    message: Option<String>,
}

const API_VERSION: &str = "2023-06-01";
const NAME: &str = "anthropic";

pub struct Anthropic {
    config: ProviderConfig,
    client: reqwest::Client,
}

impl Anthropic {
    /// `base_url` is e.g. `https://api.anthropic.com`.
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderError> {
        Ok(Anthropic {
            client: http::client(&config)?,
            config,
        })
    }

    pub(crate) fn body(&self, request: &ChatRequest, stream: bool) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| {
                let role = if m.role == Role::Assistant {
                    "assistant"
                } else {
                    "user"
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        let mut body = json!({
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "messages": messages,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        if stream {
            body["stream"] = json!(true);
        }
        body
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut builder = self
            .client
            .post(format!("{}/v1/messages", self.config.base_url))
            .header("anthropic-version", API_VERSION)
            .json(body);
        if let Some(key) = &self.config.api_key {
            builder = builder.header("x-api-key", key.expose());
        }
        builder
    }
}

#[async_trait]
impl LlmProvider for Anthropic {
    fn name(&self) -> &str {
        NAME
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = self.body(request, false);
        let (response, attempts) =
            http::send(NAME, &self.config.retry, || self.post(&body)).await?;
        let body = response
            .text()
            .await
            .map_err(|_| http::malformed(NAME, "the body could not be read"))?;
        let reply: Reply = serde_json::from_str(&body).map_err(|e| {
            http::malformed(NAME, &format!("the body is not a Messages reply ({e})"))
        })?;
        let text: String = reply.content.into_iter().filter_map(|b| b.text).collect();
        if reply.stop_reason.as_deref() == Some("refusal") {
            return Err(ProviderError {
                provider: NAME.to_owned(),
                class: nlq_core::ErrorClass::User,
                message: "the model refused to answer".to_owned(),
                retry_after: None,
            });
        }
        Ok(ChatResponse {
            text,
            usage: reply.usage.map(|u| Usage {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
            }),
            provider: NAME.to_owned(),
            model: reply.model.unwrap_or_else(|| self.config.model.clone()),
            attempts,
        })
    }

    async fn chat_stream(
        &self,
        request: &ChatRequest,
        delta: &(dyn for<'a> Fn(&'a str) + Send + Sync),
    ) -> Result<ChatResponse, ProviderError> {
        let body = self.body(request, true);
        let (response, attempts) =
            http::send(NAME, &self.config.retry, || self.post(&body)).await?;
        let mut text = String::new();
        // Input tokens arrive first, output tokens last; either missing leaves the usage unknown.
        let (mut input, mut output) = (None, None);
        let mut model = self.config.model.clone();
        http::sse(NAME, response, |data| {
            let event: Event = serde_json::from_str(data).map_err(|e| {
                http::malformed(NAME, &format!("a stream event is not an event ({e})"))
            })?;
            match event {
                Event::MessageStart { message } => {
                    input = message.usage.map(|u| u.input_tokens);
                    if let Some(m) = message.model {
                        model = m;
                    }
                }
                Event::ContentBlockDelta { delta: d } => {
                    if let Some(piece) = d.text.filter(|p| !p.is_empty()) {
                        delta(&piece);
                        text.push_str(&piece);
                    }
                }
                Event::MessageDelta { usage } => {
                    output = usage.map(|u| u.output_tokens);
                }
                Event::Error { error } => {
                    return Err(ProviderError {
                        provider: NAME.to_owned(),
                        class: nlq_core::ErrorClass::Transient,
                        message: format!(
                            "stream error: {}",
                            error.message.as_deref().unwrap_or("unknown")
                        ),
                        retry_after: None,
                    });
                }
                Event::Other => {}
            }
            Ok(())
        })
        .await?;
        let usage = input
            .zip(output)
            .map(|(input_tokens, output_tokens)| Usage {
                input_tokens,
                output_tokens,
            });
        Ok(ChatResponse {
            text,
            usage,
            provider: NAME.to_owned(),
            model,
            attempts,
        })
    }
}
