//! What a validation step found: data, not errors.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize};

use nlq_core::SqlPosition;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// A finding as stored: the rule name owned until it is interned.
#[derive(Deserialize)]
struct StoredFinding {
    rule: String,
    severity: Severity,
    message: String,
    position: Option<SqlPosition>,
}

// By hand: a derive would tie the input's lifetime to the `'static` rule name.
impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = StoredFinding::deserialize(d)?;
        Ok(Finding {
            rule: rule_name(stored.rule),
            severity: stored.severity,
            message: stored.message,
            position: stored.position,
        })
    }
}

/// A rule name read back from a stored report. Rule names are a small fixed set, so each
/// distinct one is kept once for the life of the process.
fn rule_name(name: String) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_read_back_as_written() {
        let finding = Finding::error("guard.not_a_query", "no".to_owned(), None);
        let json = serde_json::to_string(&finding).unwrap();
        let first: Finding = serde_json::from_str(&json).unwrap();
        let second: Finding = serde_json::from_str(&json).unwrap();
        assert_eq!(first, finding);
        // The same name is kept once.
        assert!(std::ptr::eq(first.rule, second.rule));
    }
}
