//! What can stop a pipeline from being built. Questions never fail: they get an `Answer` with
//! a status.

use nlq_core::{Classify, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("the dataset has no `events_YYYYMMDD` tables: nothing to answer from")]
    NoData,
    #[error("the as-of date `{0}` is not YYYY-MM-DD")]
    BadAsOf(String),
}

impl Classify for PipelineError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }
}
