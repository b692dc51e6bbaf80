//! nlq-llm integration tests: the shipped prompts, retrieval over realistic examples, and the
//! providers against recorded HTTP exchanges served on 127.0.0.1.

// Test helpers outside #[test] functions: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod prompts;
mod providers;
mod retrieval;
