//! nlq-semantic integration tests: the public API as a caller uses it.

// Test helpers outside #[test] functions: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod follow_up;
mod metamorphic;
mod shapes;

use chrono::NaiveDate;
use nlq_semantic::{DateRange, Reader, SemanticModel};

/// A reader over the sample's dates: data from 2020-11-01 to 2021-01-31, as of 2021-02-01.
fn sample_reader(model: &SemanticModel) -> Reader<'_> {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    Reader::new(
        model,
        day("2021-02-01"),
        DateRange {
            start: day("2020-11-01"),
            end: day("2021-01-31"),
        },
    )
}
