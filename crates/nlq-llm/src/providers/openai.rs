//! OpenAI chat completions, and any server that speaks the same API (vLLM, named `vllm`).
//! Newer OpenAI models (o-series, gpt-5) take `max_completion_tokens` and no temperature.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use nlq_core::{ChatRequest, ChatResponse, LlmProvider, ProviderError, Role, Usage};

use super::http::{self, ProviderConfig};

pub struct OpenAi {
    name: String,
    config: ProviderConfig,
    client: reqwest::Client,
}

impl OpenAi {
    /// OpenAI itself.
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderError> {
        Self::named("openai", config)
    }

    /// An OpenAI-compatible server (vLLM): the key is optional.
    pub fn compatible(config: ProviderConfig) -> Result<Self, ProviderError> {
        Self::named("vllm", config)
    }

    fn named(name: &str, config: ProviderConfig) -> Result<Self, ProviderError> {
        let client = http::client(&config).map_err(|mut e| {
            e.provider = name.to_owned();
            e
        })?;
        Ok(OpenAi {
            name: name.to_owned(),
            config,
            client,
        })
    }

    /// o1, o3, o4-mini, gpt-5...: reasoning models with the newer parameters.
    fn reasoning_model(&self) -> bool {
        let m = self.config.model.as_str();
        self.name == "openai"
            && (m.starts_with("o1")
                || m.starts_with("o3")
                || m.starts_with("o4")
                || m.starts_with("gpt-5"))
    }

    pub(crate) fn body(&self, request: &ChatRequest, stream: bool) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System if self.reasoning_model() => "developer",
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        let mut body = json!({"model": self.config.model, "messages": messages});
        if self.reasoning_model() {
            body["max_completion_tokens"] = json!(self.config.max_tokens);
        } else {
            body["max_tokens"] = json!(self.config.max_tokens);
            if let Some(t) = self.config.temperature {
                body["temperature"] = json!(t);
            }
        }
        if request.json {
            body["response_format"] = json!({"type": "json_object"});
        }
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut builder = self
            .client
            .post(format!("{}/chat/completions", self.config.base_url))
            .json(body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        builder
    }
}

/// A chat completion, as far as nlq reads it: a field the API must send is required, so a
/// change of format is an error, not a zero.
#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    model: Option<String>,
    /// Missing: the usage is unknown (never counted as 0 tokens, $0).
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct TokenUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl From<TokenUsage> for Usage {
    fn from(u: TokenUsage) -> Usage {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

/// One streamed chunk; the last carries the usage when `include_usage` was asked for.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    model: Option<String>,
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
}

#[async_trait]
impl LlmProvider for OpenAi {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = self.body(request, false);
        let (response, attempts) =
            http::send(&self.name, &self.config.retry, || self.post(&body)).await?;
        let text = response
            .text()
            .await
            .map_err(|_| http::malformed(&self.name, "the body could not be read"))?;
        let reply: Completion = serde_json::from_str(&text).map_err(|e| {
            http::malformed(
                &self.name,
                &format!("the body is not a chat completion ({e})"),
            )
        })?;
        let Some(choice) = reply.choices.into_iter().next() else {
            return Err(http::malformed(&self.name, "no choices"));
        };
        if let Some(refusal) = choice.message.refusal {
            return Err(ProviderError {
                provider: self.name.clone(),
                class: nlq_core::ErrorClass::User,
                message: format!("the model refused: {refusal}"),
                retry_after: None,
            });
        }
        let content = choice
            .message
            .content
            .ok_or_else(|| http::malformed(&self.name, "no choices[0].message.content"))?;
        Ok(ChatResponse {
            text: content,
            usage: reply.usage.map(Usage::from),
            provider: self.name.clone(),
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
            http::send(&self.name, &self.config.retry, || self.post(&body)).await?;
        let mut text = String::new();
        let mut used = None;
        let mut model = self.config.model.clone();
        http::sse(&self.name, response, |data| {
            let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
                http::malformed(&self.name, &format!("a stream event is not a chunk ({e})"))
            })?;
            if let Some(piece) = chunk
                .choices
                .into_iter()
                .next()
                .and_then(|c| c.delta.content)
                .filter(|p| !p.is_empty())
            {
                delta(&piece);
                text.push_str(&piece);
            }
            if let Some(u) = chunk.usage {
                used = Some(Usage::from(u));
            }
            if let Some(m) = chunk.model {
                model = m;
            }
            Ok(())
        })
        .await?;
        Ok(ChatResponse {
            text,
            usage: used,
            provider: self.name.clone(),
            model,
            attempts,
        })
    }
}
