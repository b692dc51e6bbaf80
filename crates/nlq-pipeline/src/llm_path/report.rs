//! The record of what the LLM did for one answer: every call with its stage, prompt, tokens,
//! cost and problems, and the totals by stage.

use serde::Serialize;

use nlq_core::Usage;
use nlq_llm::budget::Trimmed;

use crate::risk::Risk;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmStage {
    Classify,
    Generate,
    Repair,
    Review,
    Summarize,
}

/// One call to a model and what became of its reply.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LlmCall {
    pub stage: LlmStage,
    /// `generate_sql@2`, `classify@1`: the prompt and its version.
    pub prompt: String,
    pub provider: String,
    pub model: String,
    /// None when the reply did not report it.
    pub usage: Option<Usage>,
    /// None when the price table does not know the model or the usage is unknown.
    pub cost_usd: Option<f64>,
    pub ms: f64,
    /// The SQL of a draft, as the model wrote it.
    pub sql: Option<String>,
    /// Why this reply was not used as it was: validation findings, a reply that was not JSON.
    pub problems: Vec<String>,
}

/// Tokens and cost of one stage, summed over its calls.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StageCost {
    pub stage: LlmStage,
    pub calls: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
}

/// Everything the LLM did for one answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct LlmReport {
    pub calls: Vec<LlmCall>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The cost of the calls whose price is known.
    pub cost_usd: f64,
    /// Calls whose cost is not in `cost_usd`: the price table does not know the model, or the
    /// reply did not report its usage.
    pub unpriced_calls: usize,
    /// Calls whose reply did not report its usage: their tokens are not in the totals.
    #[serde(default)]
    pub unmetered_calls: usize,
    /// What the classifier said the request is, and why.
    pub intent: Option<(String, String)>,
    pub explanation: Option<String>,
    pub assumptions: Vec<String>,
    /// The risk of the draft that ran (or was last checked).
    pub risk: Option<Risk>,
    /// What the token budget cut from the SQL prompts.
    pub trimmed: Option<Trimmed>,
}

impl LlmReport {
    pub(crate) fn record(&mut self, call: LlmCall) {
        match call.usage {
            Some(usage) => {
                self.input_tokens += usage.input_tokens;
                self.output_tokens += usage.output_tokens;
            }
            None => self.unmetered_calls += 1,
        }
        match call.cost_usd {
            Some(usd) => self.cost_usd += usd,
            None => self.unpriced_calls += 1,
        }
        self.calls.push(call);
    }

    /// The calls that wrote SQL: generation, repairs and reviews.
    pub fn drafts(&self) -> impl Iterator<Item = &LlmCall> {
        self.calls.iter().filter(|c| {
            matches!(
                c.stage,
                LlmStage::Generate | LlmStage::Repair | LlmStage::Review
            )
        })
    }

    /// Tokens and cost per stage, in the order the stages first ran.
    pub fn by_stage(&self) -> Vec<StageCost> {
        let mut stages: Vec<StageCost> = Vec::new();
        for call in &self.calls {
            let i = match stages.iter().position(|s| s.stage == call.stage) {
                Some(i) => i,
                None => {
                    stages.push(StageCost {
                        stage: call.stage,
                        calls: 0,
                        input_tokens: 0,
                        output_tokens: 0,
                        cost_usd: 0.0,
                    });
                    stages.len() - 1
                }
            };
            let stage = &mut stages[i];
            stage.calls += 1;
            let usage = call.usage.unwrap_or_default();
            stage.input_tokens += usage.input_tokens;
            stage.output_tokens += usage.output_tokens;
            stage.cost_usd += call.cost_usd.unwrap_or(0.0);
        }
        stages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_of_unknown_usage_is_counted_apart_not_as_free() {
        let call = |usage: Option<Usage>, cost_usd: Option<f64>| LlmCall {
            stage: LlmStage::Generate,
            prompt: "generate_sql@1".into(),
            provider: "vllm".into(),
            model: "m".into(),
            usage,
            cost_usd,
            ms: 1.0,
            sql: None,
            problems: vec![],
        };
        let mut report = LlmReport::default();
        report.record(call(
            Some(Usage {
                input_tokens: 10,
                output_tokens: 2,
            }),
            Some(0.5),
        ));
        report.record(call(None, None));
        assert_eq!((report.input_tokens, report.output_tokens), (10, 2));
        assert_eq!((report.unmetered_calls, report.unpriced_calls), (1, 1));
        assert_eq!(report.cost_usd, 0.5);
    }
}
