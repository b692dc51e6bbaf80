//! The crate's one error: our prompt files and the code that fills them (bugs in nlq) and price
//! tables (ours: a bug; a user's file: the user's). Provider failures are `ProviderError`, the
//! shared type every provider returns.

use nlq_core::{Classify, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The front matter is missing or one of its lines cannot be read.
    #[error("prompt header, line {line}: {message}")]
    Header { line: usize, message: String },
    #[error("prompt header: `{field}` is missing")]
    MissingField { field: &'static str },
    #[error("prompt {prompt}, line {line}: `{{{{` is never closed")]
    UnclosedPlaceholder { prompt: String, line: usize },
    #[error("prompt {prompt}, line {line}: `{{{{{text}}}}}` is not a variable name")]
    BadPlaceholder {
        prompt: String,
        line: usize,
        text: String,
    },
    #[error("prompt {prompt}, line {line}: `{{{{{variable}}}}}` is not declared in the header")]
    UndeclaredPlaceholder {
        prompt: String,
        line: usize,
        variable: String,
    },
    #[error("prompt {prompt}: variable `{variable}` is declared but never used")]
    UnusedVariable { prompt: String, variable: String },
    #[error("prompt {prompt}: no value for variable `{variable}`")]
    MissingVariable { prompt: String, variable: String },
    #[error("prompt {prompt}: `{variable}` is not a variable of this prompt")]
    UnknownVariable { prompt: String, variable: String },
    #[error("no prompt named `{name}`")]
    UnknownPrompt { name: String },
    #[error("two prompts are named `{name}`")]
    DuplicatePrompt { name: String },
    /// A shipped prompt lives in the file named after it.
    #[error("the prompt `{name}` must be in `{name}.md`")]
    MisnamedFile { name: String },
    /// A price table that cannot be read: ours (a bug) or a user's file.
    #[error("price table {source_name}: {message}")]
    Prices {
        source_name: String,
        message: String,
        user: bool,
    },
    /// A problem of one prompt file, named.
    #[error("prompt file {file}")]
    InFile {
        file: String,
        #[source]
        source: Box<LlmError>,
    },
}

impl Classify for LlmError {
    fn class(&self) -> ErrorClass {
        match self {
            // Prompts are files we ship and variables are filled by our code: a mistake in
            // either is ours, never the user's.
            LlmError::Header { .. }
            | LlmError::MissingField { .. }
            | LlmError::UnclosedPlaceholder { .. }
            | LlmError::BadPlaceholder { .. }
            | LlmError::UndeclaredPlaceholder { .. }
            | LlmError::UnusedVariable { .. }
            | LlmError::MissingVariable { .. }
            | LlmError::UnknownVariable { .. }
            | LlmError::UnknownPrompt { .. }
            | LlmError::DuplicatePrompt { .. }
            | LlmError::MisnamedFile { .. } => ErrorClass::Bug,
            LlmError::Prices { user: true, .. } => ErrorClass::User,
            LlmError::Prices { user: false, .. } => ErrorClass::Bug,
            LlmError::InFile { source, .. } => source.class(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_problems_are_bugs_and_say_where() {
        let err = LlmError::InFile {
            file: "generate_sql.md".into(),
            source: Box::new(LlmError::UnclosedPlaceholder {
                prompt: "generate_sql".into(),
                line: 12,
            }),
        };
        assert_eq!(err.class(), ErrorClass::Bug);
        assert_eq!(err.to_string(), "prompt file generate_sql.md");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("prompt generate_sql, line 12: `{{` is never closed")
        );
        let err = LlmError::UndeclaredPlaceholder {
            prompt: "classify".into(),
            line: 3,
            variable: "sql".into(),
        };
        assert_eq!(
            err.to_string(),
            "prompt classify, line 3: `{{sql}}` is not declared in the header"
        );
    }
}
