//! The crate's one error: a semantic model that cannot be used. Questions the engine does not
//! understand are not errors; they are answers with a status (`needs_llm`, `clarify`, ...).

use nlq_core::{Classify, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemanticError {
    #[error("semantic model: {message}")]
    Model { message: String },
}

impl Classify for SemanticError {
    fn class(&self) -> ErrorClass {
        match self {
            // The model is configuration: whoever edited it can fix it.
            SemanticError::Model { .. } => ErrorClass::User,
        }
    }
}
