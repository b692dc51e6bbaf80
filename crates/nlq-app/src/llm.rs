//! Which LLM answers what the semantic engine hands on: flags and environment variables to
//! providers, a fallback chain, an expert reviewer and a price table.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use nlq_core::LlmProvider;
use nlq_llm::PriceTable;
use nlq_llm::providers::{Anthropic, Fallback, Gemini, OpenAi, ProviderConfig, Secret};
use nlq_pipeline::LlmPath;
use nlq_semantic::SemanticModel;

/// Without any key or base URL, no LLM: questions the semantic engine hands on are answered
/// `needs_llm`.
#[derive(clap::Args)]
pub struct LlmArgs {
    /// openai, anthropic, gemini or vllm (an OpenAI-compatible server); default: the first
    /// whose key is set (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY), else vllm when
    /// NLQ_LLM_BASE_URL is set.
    #[arg(long, env = "NLQ_LLM_PROVIDER")]
    provider: Option<String>,
    /// The model; defaults: gpt-4o-mini, claude-sonnet-4-5, gemini-2.5-flash (vllm: required).
    #[arg(long, env = "NLQ_LLM_MODEL")]
    llm_model: Option<String>,
    /// The API's base URL (required for vllm, e.g. http://127.0.0.1:8000/v1).
    #[arg(long, env = "NLQ_LLM_BASE_URL")]
    llm_base_url: Option<String>,
    /// Seconds before one LLM call is given up (it is retried on timeouts).
    #[arg(long, env = "NLQ_LLM_TIMEOUT_SECS", default_value_t = 60)]
    llm_timeout_secs: u64,
    /// Providers to try, in order, when the first fails: `anthropic,gemini:gemini-2.5-pro`
    /// (each with its default base URL and its own key variable).
    #[arg(long, env = "NLQ_LLM_FALLBACK", value_delimiter = ',')]
    llm_fallback: Vec<String>,
    /// The expert that reviews risky drafts, as `provider[:model]`; default: the same as
    /// writes them.
    #[arg(long, env = "NLQ_LLM_REVIEWER")]
    llm_reviewer: Option<String>,
    /// A price table (TOML, shaped like fixtures/llm-prices.toml) instead of the built-in one.
    #[arg(long, env = "NLQ_LLM_PRICES")]
    llm_prices: Option<PathBuf>,
}

/// The LLM configuration, checked and built.
#[derive(Clone)]
pub struct LlmConfig {
    provider: Arc<dyn LlmProvider>,
    reviewer: Option<Arc<dyn LlmProvider>>,
    prices: Option<PriceTable>,
}

impl LlmConfig {
    pub fn path(&self, model: &SemanticModel) -> anyhow::Result<LlmPath> {
        let mut path = LlmPath::new(self.provider.clone(), model)?;
        if let Some(reviewer) = &self.reviewer {
            path = path.with_reviewer(reviewer.clone());
        }
        if let Some(prices) = &self.prices {
            path = path.with_prices(prices.clone());
        }
        Ok(path)
    }
}

impl LlmArgs {
    pub fn config(&self) -> anyhow::Result<Option<LlmConfig>> {
        let name = match &self.provider {
            Some(name) => name.to_ascii_lowercase(),
            None if key("OPENAI_API_KEY").is_some() => "openai".into(),
            None if key("ANTHROPIC_API_KEY").is_some() => "anthropic".into(),
            None if key("GEMINI_API_KEY").is_some() => "gemini".into(),
            None if self.llm_base_url.is_some() => "vllm".into(),
            None => return Ok(None),
        };
        let timeout = Duration::from_secs(self.llm_timeout_secs.max(1));
        let first = build(
            &name,
            self.llm_model.as_deref(),
            self.llm_base_url.as_deref(),
            timeout,
        )?;
        let provider = if self.llm_fallback.is_empty() {
            first
        } else {
            let mut chain = vec![first];
            for entry in &self.llm_fallback {
                let (name, model) = split(entry);
                chain.push(
                    build(name, model, None, timeout)
                        .with_context(|| format!("fallback provider `{entry}`"))?,
                );
            }
            match Fallback::new(chain) {
                Some(chain) => Arc::new(chain),
                None => anyhow::bail!("the fallback chain is empty"),
            }
        };
        let reviewer = match &self.llm_reviewer {
            Some(entry) => {
                let (name, model) = split(entry);
                Some(
                    build(name, model, None, timeout)
                        .with_context(|| format!("reviewer `{entry}`"))?,
                )
            }
            None => None,
        };
        let prices = match &self.llm_prices {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the price table {}", path.display()))?;
                Some(PriceTable::from_toml(&path.display().to_string(), &text)?)
            }
            None => None,
        };
        Ok(Some(LlmConfig {
            provider,
            reviewer,
            prices,
        }))
    }
}

fn key(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|k| !k.trim().is_empty())
}

/// `gemini:gemini-2.5-pro` -> ("gemini", Some("gemini-2.5-pro")).
fn split(entry: &str) -> (&str, Option<&str>) {
    match entry.trim().split_once(':') {
        Some((name, model)) => (name.trim(), Some(model.trim())),
        None => (entry.trim(), None),
    }
}

fn build(
    name: &str,
    model: Option<&str>,
    base_url: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<Arc<dyn LlmProvider>> {
    let name = name.to_ascii_lowercase();
    let (default_url, default_model, key_var) = match name.as_str() {
        "openai" => (
            "https://api.openai.com/v1",
            Some("gpt-4o-mini"),
            "OPENAI_API_KEY",
        ),
        "anthropic" => (
            "https://api.anthropic.com",
            Some("claude-sonnet-4-5"),
            "ANTHROPIC_API_KEY",
        ),
        "gemini" => (
            "https://generativelanguage.googleapis.com/v1beta",
            Some("gemini-2.5-flash"),
            "GEMINI_API_KEY",
        ),
        "vllm" => ("", None, "NLQ_LLM_API_KEY"),
        other => {
            anyhow::bail!("unknown LLM provider `{other}`: use openai, anthropic, gemini or vllm")
        }
    };
    let base_url = match (base_url, default_url) {
        (Some(url), _) => url.to_owned(),
        (None, "") => anyhow::bail!(
            "vllm needs --llm-base-url (NLQ_LLM_BASE_URL), e.g. http://127.0.0.1:8000/v1"
        ),
        (None, url) => url.to_owned(),
    };
    let model = match (model, default_model) {
        (Some(m), _) => m.to_owned(),
        (None, Some(m)) => m.to_owned(),
        (None, None) => {
            anyhow::bail!("{name} needs --llm-model (NLQ_LLM_MODEL): the model the server serves")
        }
    };
    let api_key = key(key_var).map(Secret::new);
    if api_key.is_none() && name != "vllm" {
        anyhow::bail!("{name} needs its API key in {key_var}");
    }
    let config = ProviderConfig {
        api_key,
        timeout,
        ..ProviderConfig::new(base_url, model)
    };
    Ok(match name.as_str() {
        "openai" => Arc::new(OpenAi::new(config)?),
        "anthropic" => Arc::new(Anthropic::new(config)?),
        "gemini" => Arc::new(Gemini::new(config)?),
        _ => Arc::new(OpenAi::compatible(config)?),
    })
}
