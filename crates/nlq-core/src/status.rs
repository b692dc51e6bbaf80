//! What became of a question: one status for the pipeline, the server and the evaluator.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ran SQL and presented rows, SQL and a summary.
    Answered,
    /// Declined: not a question about this data.
    OutOfScope,
    /// Declined: asked to change data, or the SQL was refused by validation.
    Refused,
    /// The semantic engine cannot answer with confidence; an LLM could.
    NeedsLlm,
    /// Something must be asked back.
    Clarify,
    /// The warehouse failed; the message says whether retrying can help.
    Error,
    /// Validated but not run: it costs more than the approval threshold, and the message says
    /// how much.
    NeedsApproval,
    /// Validated and costed, not run: the caller asked for the plan only (a dry run).
    Planned,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Answered,
        Status::OutOfScope,
        Status::Refused,
        Status::NeedsLlm,
        Status::Clarify,
        Status::Error,
        Status::NeedsApproval,
        Status::Planned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Answered => "answered",
            Status::OutOfScope => "out_of_scope",
            Status::Refused => "refused",
            Status::NeedsLlm => "needs_llm",
            Status::Clarify => "clarify",
            Status::Error => "error",
            Status::NeedsApproval => "needs_approval",
            Status::Planned => "planned",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_name_is_the_display_name() {
        for status in Status::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), status);
        }
    }
}
