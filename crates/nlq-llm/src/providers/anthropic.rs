//! Anthropic's Messages API. The system prompt is a top-level field; there is no JSON mode, so
//! the prompt asks for JSON and the caller checks it.

use async_trait::async_trait;
use serde_json::{Value, json};

use nlq_core::{ChatRequest, ChatResponse, LlmProvider, ProviderError, Role, Usage};

use super::http::{self, ProviderConfig};

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
        let v: Value = response
            .json()
            .await
            .map_err(|_| http::malformed(NAME, "the body is not JSON"))?;
        let text: String = v["content"]
            .as_array()
            .ok_or_else(|| http::malformed(NAME, "no content"))?
            .iter()
            .filter_map(|block| block["text"].as_str())
            .collect();
        if v["stop_reason"] == "refusal" {
            return Err(ProviderError {
                provider: NAME.to_owned(),
                class: nlq_core::ErrorClass::User,
                message: "the model refused to answer".to_owned(),
                retry_after: None,
            });
        }
        Ok(ChatResponse {
            text,
            usage: Usage {
                input_tokens: v["usage"]["input_tokens"].as_u64().unwrap_or(0),
                output_tokens: v["usage"]["output_tokens"].as_u64().unwrap_or(0),
            },
            provider: NAME.to_owned(),
            model: v["model"].as_str().unwrap_or(&self.config.model).to_owned(),
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
        let mut usage = Usage::default();
        let mut model = self.config.model.clone();
        http::sse(NAME, response, |data| {
            let v: Value = serde_json::from_str(data)
                .map_err(|_| http::malformed(NAME, "a stream event is not JSON"))?;
            match v["type"].as_str() {
                Some("message_start") => {
                    usage.input_tokens =
                        v["message"]["usage"]["input_tokens"].as_u64().unwrap_or(0);
                    if let Some(m) = v["message"]["model"].as_str() {
                        model = m.to_owned();
                    }
                }
                Some("content_block_delta") => {
                    if let Some(piece) = v["delta"]["text"].as_str().filter(|p| !p.is_empty()) {
                        delta(piece);
                        text.push_str(piece);
                    }
                }
                Some("message_delta") => {
                    usage.output_tokens = v["usage"]["output_tokens"].as_u64().unwrap_or(0);
                }
                Some("error") => {
                    return Err(ProviderError {
                        provider: NAME.to_owned(),
                        class: nlq_core::ErrorClass::Transient,
                        message: format!(
                            "stream error: {}",
                            v["error"]["message"].as_str().unwrap_or("unknown")
                        ),
                        retry_after: None,
                    });
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
        Ok(ChatResponse {
            text,
            usage,
            provider: NAME.to_owned(),
            model,
            attempts,
        })
    }
}
