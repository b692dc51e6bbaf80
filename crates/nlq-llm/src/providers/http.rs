//! What every provider shares: configuration, the HTTP client, retries with exponential backoff
//! and jitter that honour `Retry-After`, and errors that never carry the key.

use std::time::Duration;

use nlq_core::{ErrorClass, ProviderError};

/// An API key. Its `Debug` never shows it, and nothing here formats it into a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(key: impl Into<String>) -> Self {
        Secret(key.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Retry on 429, 5xx, timeouts and broken connections; never on other 4xx.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// The first wait; each retry doubles it, plus up to 50% jitter, capped at `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based), or the server's `Retry-After`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let jitter = exponential.mul_f64(unit_random() * 0.5);
        (exponential + jitter).min(self.max_delay)
    }
}

/// A number in [0, 1) that differs between calls and processes: enough to spread retries.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// One provider's settings. Every endpoint is configurable, so tests point at 127.0.0.1.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// e.g. `https://api.openai.com/v1`, `http://127.0.0.1:8000/v1` for vLLM.
    pub base_url: String,
    /// None for a local server that needs no key.
    pub api_key: Option<Secret>,
    pub model: String,
    pub temperature: Option<f64>,
    pub max_tokens: u32,
    /// Per HTTP attempt.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl ProviderConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ProviderConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: None,
            model: model.into(),
            temperature: Some(0.0),
            max_tokens: 2048,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

pub(crate) fn client(config: &ProviderConfig) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .timeout(config.timeout)
        .build()
        .map_err(|err| ProviderError {
            provider: String::new(),
            class: ErrorClass::Bug,
            message: format!("cannot build the HTTP client: {err}"),
            retry_after: None,
        })
}

/// A reply that arrived, whatever its status.
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
}

/// Sends the request built by `build` until it succeeds, fails for good, or runs out of
/// retries. Returns the successful reply and the number of attempts.
pub(crate) async fn send(
    provider: &str,
    retry: &RetryPolicy,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<(reqwest::Response, u32), ProviderError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match build().send().await {
            Ok(response) if response.status().is_success() => return Ok((response, attempt)),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let body = response.text().await.unwrap_or_default();
                status_error(provider, &Reply { status, body }, retry_after)
            }
            Err(err) => ProviderError {
                provider: provider.to_owned(),
                class: ErrorClass::Transient,
                message: if err.is_timeout() {
                    "the request timed out".to_owned()
                } else {
                    // Without the URL: it may carry a key as a query parameter.
                    format!("cannot reach the API: {}", err.without_url())
                },
                retry_after: None,
            },
        };
        if failure.class != ErrorClass::Transient || attempt > retry.max_retries {
            let mut failure = failure;
            if attempt > 1 {
                failure.message = format!("{} (after {attempt} attempts)", failure.message);
            }
            return Err(failure);
        }
        tokio::time::sleep(retry.delay(attempt, failure.retry_after)).await;
    }
}

fn status_error(provider: &str, reply: &Reply, retry_after: Option<Duration>) -> ProviderError {
    // OpenAI, Anthropic and Gemini all put the reason at `error.message`.
    let detail = serde_json::from_str::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| reply.body.chars().take(200).collect::<String>());
    let (class, what) = match reply.status {
        429 => (ErrorClass::Transient, "rate limited"),
        500..=599 => (ErrorClass::Transient, "server error"),
        401 | 403 => (ErrorClass::User, "the key was refused; check it"),
        404 => (
            ErrorClass::User,
            "not found; check the base URL and the model name",
        ),
        _ => (ErrorClass::User, "the request was refused"),
    };
    ProviderError {
        provider: provider.to_owned(),
        class,
        message: format!("HTTP {}: {what}: {detail}", reply.status),
        retry_after,
    }
}

/// A reply body that is not what the API documents.
pub(crate) fn malformed(provider: &str, what: &str) -> ProviderError {
    ProviderError {
        provider: provider.to_owned(),
        class: ErrorClass::Transient,
        message: format!("malformed reply: {what}"),
        retry_after: None,
    }
}

/// Server-sent events from a streaming reply: calls `event` with each `data:` payload.
pub(crate) async fn sse(
    provider: &str,
    response: reqwest::Response,
    mut event: impl FnMut(&str) -> Result<(), ProviderError>,
) -> Result<(), ProviderError> {
    use futures_util::StreamExt;
    let mut stream = response.bytes_stream();
    // Bytes until a whole line is there: the network splits anywhere, also inside a
    // character, and a line end byte never occurs inside one, so lines decode whole.
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| ProviderError {
            provider: provider.to_owned(),
            class: ErrorClass::Transient,
            message: format!("the stream broke: {}", err.without_url()),
            retry_after: None,
        })?;
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let line = std::str::from_utf8(&line)
                .map_err(|_| malformed(provider, "a stream line is not UTF-8"))?
                .trim_end_matches(['\n', '\r']);
            if let Some(data) = line.strip_prefix("data:") {
                let data = data.trim();
                if data == "[DONE]" {
                    return Ok(());
                }
                if !data.is_empty() {
                    event(data)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let policy = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for attempt in 1..=3 {
            let d = policy.delay(attempt, None);
            let base = Duration::from_millis(100 * (1 << (attempt - 1)));
            assert!(d >= base && d <= base.mul_f64(1.5), "{attempt}: {d:?}");
        }
        assert_eq!(policy.delay(10, None), Duration::from_secs(1));
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(1)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn secrets_never_print() {
        let config = ProviderConfig {
            api_key: Some(Secret::new("sk-very-secret")),
            ..ProviderConfig::new("http://127.0.0.1:1", "m")
        };
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }
}
