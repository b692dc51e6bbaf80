//! Turning token usage into money: a price table per model (longest prefix wins) and per
//! provider, read from `fixtures/llm-prices.toml` or a user's file of the same shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use nlq_core::Usage;

use crate::LlmError;

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.input_tokens as f64 * self.input + usage.output_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// Model name prefix -> price.
    #[serde(default)]
    prices: BTreeMap<String, Price>,
    /// Provider name -> price for every model it serves.
    #[serde(default)]
    providers: BTreeMap<String, Price>,
}

const BUILTIN: &str = include_str!("../../../fixtures/llm-prices.toml");

impl PriceTable {
    /// The table shipped with nlq.
    pub fn builtin() -> Result<Self, LlmError> {
        Self::parse(BUILTIN).map_err(|message| LlmError::Prices {
            source_name: "fixtures/llm-prices.toml".into(),
            message,
            user: false,
        })
    }

    /// A user's table (`name` says where it came from, for the error).
    pub fn from_toml(name: &str, text: &str) -> Result<Self, LlmError> {
        Self::parse(text).map_err(|message| LlmError::Prices {
            source_name: name.to_owned(),
            message,
            user: true,
        })
    }

    fn parse(text: &str) -> Result<Self, String> {
        let table: PriceTable = toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, price) in table.prices.iter().chain(&table.providers) {
            if !(price.input >= 0.0 && price.output >= 0.0) {
                return Err(format!("`{name}`: prices must be numbers >= 0"));
            }
        }
        Ok(table)
    }

    /// The price of `model` served by `provider`: the provider's flat price, else the longest
    /// model prefix; None when neither is known (a cost is then not reported, never guessed).
    pub fn price(&self, provider: &str, model: &str) -> Option<Price> {
        if let Some(p) = self.providers.get(provider) {
            return Some(*p);
        }
        // Dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-20250514`) share their
        // family's price; `models/` is how Gemini names models in some replies.
        let model = model.strip_prefix("models/").unwrap_or(model);
        self.prices
            .iter()
            .filter(|(prefix, _)| model.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, p)| *p)
    }

    pub fn cost(&self, provider: &str, model: &str, usage: Usage) -> Option<f64> {
        self.price(provider, model).map(|p| p.cost(usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
        Usage {
            input_tokens,
            output_tokens,
        }
    }

    #[test]
    fn longest_prefix_wins_and_unknown_models_have_no_price() {
        let table = PriceTable::builtin().unwrap();
        let mini = table.cost("openai", "gpt-4o-mini-2024-07-18", usage(1_000_000, 0));
        assert_eq!(mini, Some(0.15));
        assert_eq!(
            table.cost("openai", "gpt-4o", usage(0, 1_000_000)),
            Some(10.0)
        );
        let flash = table
            .price("gemini", "models/gemini-2.5-flash-lite")
            .unwrap();
        assert_eq!(flash.input, 0.10);
        assert_eq!(
            table.cost("vllm", "Qwen/Qwen2.5-7B", usage(5000, 500)),
            Some(0.0)
        );
        assert_eq!(table.cost("openai", "davinci-002", usage(1, 1)), None);
        let sonnet = table.cost("anthropic", "claude-sonnet-4-20250514", usage(2000, 100));
        assert!((sonnet.unwrap() - 0.0075).abs() < 1e-12);
    }

    #[test]
    fn a_bad_user_table_says_where_and_what() {
        let err = PriceTable::from_toml("prices.toml", "[prices]\nx = { input = -1, output = 1 }")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "price table prices.toml: `x`: prices must be numbers >= 0"
        );
        let err = PriceTable::from_toml("p.toml", "[prices]\nx = { in = 1 }").unwrap_err();
        assert!(err.to_string().contains("unknown field `in`"), "{err}");
        assert_eq!(nlq_core::Classify::class(&err), nlq_core::ErrorClass::User);
    }
}
