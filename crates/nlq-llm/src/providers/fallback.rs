//! An ordered chain of providers: when one fails (down, rate limited past its retries, a
//! refused key, a malformed reply), the next is asked. Each provider keeps its own retries;
//! the chain only moves on once a provider has given up.

use std::sync::Arc;

use async_trait::async_trait;

use nlq_core::{ChatRequest, ChatResponse, ErrorClass, LlmProvider, ProviderError};

pub struct Fallback {
    chain: Vec<Arc<dyn LlmProvider>>,
}

impl Fallback {
    /// `chain` in order of preference; None when it is empty.
    pub fn new(chain: Vec<Arc<dyn LlmProvider>>) -> Option<Self> {
        (!chain.is_empty()).then_some(Fallback { chain })
    }

    async fn each<'a, F, Fut>(&'a self, call: F) -> Result<ChatResponse, ProviderError>
    where
        F: Fn(&'a dyn LlmProvider) -> Fut,
        Fut: Future<Output = Result<ChatResponse, ProviderError>>,
    {
        let mut failures: Vec<ProviderError> = Vec::new();
        for provider in &self.chain {
            match call(provider.as_ref()).await {
                Ok(mut reply) => {
                    // Calls that failed on the way count as attempts of this answer.
                    reply.attempts += failures.len() as u32;
                    return Ok(reply);
                }
                Err(err) => failures.push(err),
            }
        }
        // Transient if any provider might answer later; otherwise the user must fix the config.
        let class = if failures.iter().any(|f| f.class == ErrorClass::Transient) {
            ErrorClass::Transient
        } else {
            failures.last().map_or(ErrorClass::Bug, |f| f.class)
        };
        let retry_after = failures.iter().filter_map(|f| f.retry_after).min();
        Err(ProviderError {
            provider: self.name().to_owned(),
            class,
            message: format!(
                "every provider of the fallback chain failed: {}",
                failures
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            retry_after,
        })
    }
}

#[async_trait]
impl LlmProvider for Fallback {
    /// The first choice; every reply names the provider that actually answered.
    fn name(&self) -> &str {
        self.chain.first().map_or("fallback", |p| p.name())
    }

    fn model(&self) -> &str {
        self.chain.first().map_or("", |p| p.model())
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        self.each(|p| p.chat(request)).await
    }

    async fn chat_stream(
        &self,
        request: &ChatRequest,
        delta: &(dyn for<'a> Fn(&'a str) + Send + Sync),
    ) -> Result<ChatResponse, ProviderError> {
        // A provider that fails after streaming part of a reply leaves that part with the
        // caller; the next provider's text follows it. Callers that show deltas live should
        // treat the final `text` as the truth.
        self.each(|p| p.chat_stream(request, delta)).await
    }
}

#[cfg(test)]
mod tests {
    use nlq_core::ChatMessage;
    use nlq_testkit::provider::Fixed;

    use super::*;

    fn fixed(name: &str, reply: Result<&str, ErrorClass>) -> Arc<Fixed> {
        Arc::new(match reply {
            Ok(text) => Fixed::answering(name, text),
            Err(class) => Fixed::failing(name, class, "HTTP 503: server error"),
        })
    }

    fn request() -> ChatRequest {
        ChatRequest {
            messages: vec![ChatMessage::user("hi")],
            json: false,
        }
    }

    #[tokio::test]
    async fn moves_on_when_the_first_is_down_and_stops_at_the_first_answer() {
        let (a, b, c) = (
            fixed("a", Err(ErrorClass::Transient)),
            fixed("b", Ok("from b")),
            fixed("c", Ok("from c")),
        );
        let chain = Fallback::new(vec![a.clone(), b.clone(), c.clone()]).unwrap();
        let reply = chain.chat(&request()).await.unwrap();
        assert_eq!(
            (reply.text.as_str(), reply.provider.as_str()),
            ("from b", "b")
        );
        assert_eq!(reply.attempts, 2);
        assert_eq!(c.calls(), 0);
        assert_eq!(chain.name(), "a");
    }

    #[tokio::test]
    async fn all_failing_names_every_failure() {
        let chain = Fallback::new(vec![
            fixed("a", Err(ErrorClass::User)),
            fixed("b", Err(ErrorClass::Transient)),
        ])
        .unwrap();
        let err = chain.chat(&request()).await.unwrap_err();
        assert_eq!(err.class, ErrorClass::Transient);
        assert!(err.message.contains("a: HTTP 503") && err.message.contains("b: HTTP 503"));
        let users = Fallback::new(vec![fixed("a", Err(ErrorClass::User))]).unwrap();
        assert_eq!(
            users.chat(&request()).await.unwrap_err().class,
            ErrorClass::User
        );
        assert!(Fallback::new(vec![]).is_none());
    }
}
