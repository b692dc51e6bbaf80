//! The one error this crate returns: findings about SQL are data, not errors; what fails is a
//! validator built from a policy that makes no sense.

use nlq_core::{Classify, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidateError {
    #[error("invalid validation policy: {message}")]
    InvalidPolicy { message: String },
}

impl Classify for ValidateError {
    fn class(&self) -> ErrorClass {
        match self {
            // Policies come from the user's configuration.
            ValidateError::InvalidPolicy { .. } => ErrorClass::User,
        }
    }
}
