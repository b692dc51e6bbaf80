//! Google's Gemini `generateContent` (and `streamGenerateContent?alt=sse`). The key goes in the
//! `x-goog-api-key` header, never in the URL, so no log line or error can carry it.

use async_trait::async_trait;
use serde::Deserialize;
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

/// A generateContent reply or stream chunk, as far as nlq reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    /// Missing: the usage is unknown (never counted as 0 tokens, $0).
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    prompt_token_count: u64,
    /// Absent when the model wrote nothing (a blocked reply).
    #[serde(default)]
    candidates_token_count: u64,
}

impl Reply {
    fn parse(text: &str) -> Result<Reply, ProviderError> {
        serde_json::from_str(text).map_err(|e| {
            http::malformed(
                NAME,
                &format!("the body is not a generateContent reply ({e})"),
            )
        })
    }

    /// The first candidate's text, and whether the model was stopped for safety.
    fn text(&self) -> (String, bool) {
        let candidate = self.candidates.first();
        let text = candidate
            .and_then(|c| c.content.as_ref())
            .map(|c| c.parts.iter().filter_map(|p| p.text.as_deref()).collect())
            .unwrap_or_default();
        let blocked = candidate.is_some_and(|c| c.finish_reason.as_deref() == Some("SAFETY"))
            || self
                .prompt_feedback
                .as_ref()
                .is_some_and(|f| f.block_reason.is_some());
        (text, blocked)
    }

    fn usage(&self) -> Option<Usage> {
        self.usage_metadata.as_ref().map(|u| Usage {
            input_tokens: u.prompt_token_count,
            output_tokens: u.candidates_token_count,
        })
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
        let body = response
            .text()
            .await
            .map_err(|_| http::malformed(NAME, "the body could not be read"))?;
        let reply = Reply::parse(&body)?;
        let (text, blocked) = reply.text();
        if blocked {
            return Err(refused());
        }
        if reply.candidates.is_empty() {
            return Err(http::malformed(NAME, "no candidates"));
        }
        Ok(ChatResponse {
            text,
            usage: reply.usage(),
            provider: NAME.to_owned(),
            model: reply
                .model_version
                .unwrap_or_else(|| self.config.model.clone()),
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
        let mut used = None;
        let mut model = self.config.model.clone();
        http::sse(NAME, response, |data| {
            let chunk = Reply::parse(data)?;
            let (piece, blocked) = chunk.text();
            if blocked {
                return Err(refused());
            }
            if !piece.is_empty() {
                delta(&piece);
                text.push_str(&piece);
            }
            if let Some(usage) = chunk.usage() {
                used = Some(usage);
            }
            if let Some(m) = chunk.model_version {
                model = m;
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
