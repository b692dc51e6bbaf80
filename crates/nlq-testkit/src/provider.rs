//! An LLM provider for tests that answers every call the same way: a text, or a failure of a
//! given class (a provider that is down, a key that is refused), and counts its calls.

use std::sync::Mutex;

use async_trait::async_trait;

use nlq_core::{ChatRequest, ChatResponse, ErrorClass, LlmProvider, ProviderError, Usage};

pub struct Fixed {
    pub name: String,
    /// The reply's text, or the class and message of the failure every call gets.
    pub reply: Result<String, (ErrorClass, String)>,
    calls: Mutex<u32>,
}

impl Fixed {
    /// Answers every call with `text`.
    pub fn answering(name: &str, text: &str) -> Fixed {
        Fixed::new(name, Ok(text.to_owned()))
    }

    /// Fails every call with `class` and `message`.
    pub fn failing(name: &str, class: ErrorClass, message: &str) -> Fixed {
        Fixed::new(name, Err((class, message.to_owned())))
    }

    /// A provider that cannot be reached (transient, as after every retry).
    pub fn down(name: &str) -> Fixed {
        Fixed::failing(
            name,
            ErrorClass::Transient,
            "cannot reach the API: connection refused (after 4 attempts)",
        )
    }

    fn new(name: &str, reply: Result<String, (ErrorClass, String)>) -> Fixed {
        Fixed {
            name: name.to_owned(),
            reply,
            calls: Mutex::new(0),
        }
    }

    pub fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
}

#[async_trait]
impl LlmProvider for Fixed {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        "fixed-1"
    }

    async fn chat(&self, _: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        *self.calls.lock().unwrap() += 1;
        match &self.reply {
            Ok(text) => Ok(ChatResponse {
                text: text.clone(),
                usage: Some(Usage::default()),
                provider: self.name.clone(),
                model: "fixed-1".into(),
                attempts: 1,
            }),
            Err((class, message)) => Err(ProviderError {
                provider: self.name.clone(),
                class: *class,
                message: message.clone(),
                retry_after: None,
            }),
        }
    }

    async fn chat_stream(
        &self,
        request: &ChatRequest,
        delta: &(dyn for<'a> Fn(&'a str) + Send + Sync),
    ) -> Result<ChatResponse, ProviderError> {
        let reply = self.chat(request).await?;
        delta(&reply.text);
        Ok(reply)
    }
}
