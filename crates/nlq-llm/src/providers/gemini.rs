//! Google's Gemini `generateContent` (and `streamGenerateContent?alt=sse`). The key goes in the
//! `x-goog-api-key` header, never in the URL, so no log line or error can carry it.

use async_trait::async_trait;
use serde_json::{Value, json};

use nlq_core::{ChatRequest, ChatResponse, LlmProvider, ProviderError, Role, Usage};

use super::http::{self, ProviderConfig};

const NAME: &str = "gemini";

pub struct Gemini {
    config: ProviderConfig,
    client: reqwest::Client,
}

impl Gemini {
    /// `base_url` is e.g. `https://generativelanguage.googleapis.com/v1beta`.
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderError> {
        Ok(Gemini {
            client: http::client(&config)?,
            config,
        })
    }

    pub(crate) fn body(&self, request: &ChatRequest) -> Value {
        let system: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| json!({"text": m.content}))
            .collect();
        let contents: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| {
                let role = if m.role == Role::Assistant {
                    "model"
                } else {
                    "user"
                };
                json!({"role": role, "parts": [{"text": m.content}]})
            })
            .collect();
        let mut config = json!({"maxOutputTokens": self.config.max_tokens});
        if let Some(t) = self.config.temperature {
            config["temperature"] = json!(t);
        }
        if request.json {
            config["responseMimeType"] = json!("application/json");
        }
        let mut body = json!({"contents": contents, "generationConfig": config});
        if !system.is_empty() {
            body["systemInstruction"] = json!({"parts": system});
        }
        body
    }

    fn post(&self, body: &Value, stream: bool) -> reqwest::RequestBuilder {
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let mut builder = self
            .client
            .post(format!(
                "{}/models/{}:{method}",
                self.config.base_url, self.config.model
            ))
            .json(body);
        if let Some(key) = &self.config.api_key {
            builder = builder.header("x-goog-api-key", key.expose());
        }
        builder
    }
}

/// The text of one reply (or stream chunk), and whether the model was stopped for safety.
fn candidate_text(v: &Value) -> (String, bool) {
    let candidate = &v["candidates"][0];
    let text = candidate["content"]["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default();
    let blocked =
        candidate["finishReason"] == "SAFETY" || v["promptFeedback"]["blockReason"].is_string();
    (text, blocked)
}

fn usage(v: &Value) -> Usage {
    Usage {
        input_tokens: v["usageMetadata"]["promptTokenCount"].as_u64().unwrap_or(0),
        output_tokens: v["usageMetadata"]["candidatesTokenCount"]
            .as_u64()
            .unwrap_or(0),
    }
}

fn refused() -> ProviderError {
    ProviderError {
        provider: NAME.to_owned(),
        class: nlq_core::ErrorClass::User,
        message: "the model declined to answer (safety)".to_owned(),
        retry_after: None,
    }
}

#[async_trait]
impl LlmProvider for Gemini {
    fn name(&self) -> &str {
        NAME
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = self.body(request);
        let (response, attempts) =
            http::send(NAME, &self.config.retry, || self.post(&body, false)).await?;
        let v: Value = response
            .json()
            .await
            .map_err(|_| http::malformed(NAME, "the body is not JSON"))?;
        let (text, blocked) = candidate_text(&v);
        if blocked {
            return Err(refused());
        }
        if v["candidates"][0].is_null() {
            return Err(http::malformed(NAME, "no candidates"));
        }
        Ok(ChatResponse {
            text,
            usage: usage(&v),
            provider: NAME.to_owned(),
            model: v["modelVersion"]
                .as_str()
                .unwrap_or(&self.config.model)
                .to_owned(),
            attempts,
        })
    }

    async fn chat_stream(
        &self,
        request: &ChatRequest,
        delta: &(dyn for<'a> Fn(&'a str) + Send + Sync),
    ) -> Result<ChatResponse, ProviderError> {
        let body = self.body(request);
        let (response, attempts) =
            http::send(NAME, &self.config.retry, || self.post(&body, true)).await?;
        let mut text = String::new();
        let mut used = Usage::default();
        let mut model = self.config.model.clone();
        http::sse(NAME, response, |data| {
            let v: Value = serde_json::from_str(data)
                .map_err(|_| http::malformed(NAME, "a stream event is not JSON"))?;
            let (piece, blocked) = candidate_text(&v);
            if blocked {
                return Err(refused());
            }
            if !piece.is_empty() {
                delta(&piece);
                text.push_str(&piece);
            }
            if v["usageMetadata"].is_object() {
                used = usage(&v);
            }
            if let Some(m) = v["modelVersion"].as_str() {
                model = m.to_owned();
            }
            Ok(())
        })
        .await?;
        Ok(ChatResponse {
            text,
            usage: used,
            provider: NAME.to_owned(),
            model,
            attempts,
        })
    }
}
