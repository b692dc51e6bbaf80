//! Error classes shared by every crate: each library error says whose fault it is, so the
//! server can map it to 4xx / 503 / 500 without knowing the crate.

use serde::{Deserialize, Serialize};

/// Whose fault an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The input was wrong (bad SQL, unknown table, bad path): fix the input and retry.
    User,
    /// The world failed (network, quota, lock): the same request may succeed later.
    Transient,
    /// nlq itself is wrong: report it.
    Bug,
}

/// Implemented by every crate's error enum.
pub trait Classify {
    fn class(&self) -> ErrorClass;
}
