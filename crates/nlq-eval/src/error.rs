//! The crate's one error: a question file that cannot be used. Answers that do not match are
//! not errors; they are outcomes.

use nlq_core::{Classify, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A line of the question file is not a valid question.
    #[error("questions line {line}: {message}")]
    BadLine { line: usize, message: String },
    /// Two questions share an id.
    #[error("questions line {line}: duplicate id `{id}` (first used on line {first_line})")]
    DuplicateId {
        id: String,
        line: usize,
        first_line: usize,
    },
    /// The file holds no question at all.
    #[error("the question file holds no questions")]
    NoQuestions,
}

impl Classify for EvalError {
    fn class(&self) -> ErrorClass {
        match self {
            // Question files are written by whoever runs the benchmark: fix the file.
            EvalError::BadLine { .. } | EvalError::DuplicateId { .. } | EvalError::NoQuestions => {
                ErrorClass::User
            }
        }
    }
}
