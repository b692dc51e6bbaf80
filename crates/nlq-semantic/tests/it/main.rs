//! nlq-semantic integration tests: the public API as a caller uses it.

// Test helpers outside #[test] functions: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod follow_up;
mod metamorphic;
