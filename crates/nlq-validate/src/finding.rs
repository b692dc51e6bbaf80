//! What a validation step found: data, not errors.

use serde::Serialize;

use nlq_core::SqlPosition;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The query must not run.
    Error,
    /// The query may run, but probably does not mean what it says.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which check found it, e.g. `guard.not_a_query`.
    pub rule: &'static str,
    pub severity: Severity,
    /// What is wrong and what to do instead.
    pub message: String,
    pub position: Option<SqlPosition>,
}

impl Finding {
    pub(crate) fn error(
        rule: &'static str,
        message: String,
        position: Option<SqlPosition>,
    ) -> Self {
        Finding {
            rule,
            severity: Severity::Error,
            message,
            position,
        }
    }
}
