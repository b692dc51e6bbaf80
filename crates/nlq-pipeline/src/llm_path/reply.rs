//! What the prompts must reply, read from the model's text (which is untrusted: a reply that
//! does not parse is asked for again, never executed).

use serde::Deserialize;

/// What a SQL prompt must reply.
#[derive(Debug, Deserialize)]
pub(crate) struct Draft {
    pub(crate) sql: Option<String>,
    #[serde(default)]
    pub(crate) explanation: String,
    #[serde(default)]
    pub(crate) assumptions: Vec<String>,
}

/// What the classify prompt must reply.
#[derive(Debug, Deserialize)]
pub(crate) struct Intent {
    pub(crate) intent: String,
    #[serde(default)]
    pub(crate) reason: String,
}

pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(strip_fences(text))
}

/// Some models wrap JSON in a Markdown fence even when asked not to.
pub(crate) fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map_or(t, str::trim)
}
