//! Is the answer's result the gold result? Compared by values, never by names or SQL text.
//!
//! Rules:
//! - Row counts must be equal. A result cut short by the row cap never matches (what was cut
//!   off is unknown).
//! - Every gold column must match a distinct answer column by its values; column names and
//!   order are ignored and the answer may have extra columns.
//! - Rows are compared as multisets (duplicates count), or as sequences when `order_matters`.
//! - Numbers (`INT64`, `FLOAT64`, `NUMERIC` text) compare with each other as numbers, within
//!   [`RELATIVE_TOLERANCE`] (plus [`ABSOLUTE_TOLERANCE`] near zero) — except that two `INT64`s
//!   compare exactly: integers carry no rounding noise, so a count that is off by one is wrong
//!   however large it is. NaN equals NaN, infinities equal themselves.
//! - `NULL` equals only `NULL`.
//! - Everything else compares by its display text, so a `DATE` matches a `STRING` holding the
//!   same `YYYY-MM-DD`, and a `BOOL` matches the strings `true` / `false`. Arrays and structs
//!   compare by their JSON text (no tolerance inside them).
//!
//! Algorithm: canonicalize both results column by column; a gold column's candidates are the
//! answer columns holding the same multiset of values (or the same sequence, when order
//! matters); then a backtracking search assigns distinct candidates to gold columns, pruning a
//! partial assignment as soon as its projected rows stop pairing up. Rows pair up when, grouped
//! by their exact (non-numeric) parts, each group has the same size on both sides and its
//! numeric parts pair within tolerance: first by sorting both sides (exact for one numeric
//! column, and the common case for more), then, if sorting misses, by bipartite matching.
//!
//! Limits: the search is budgeted (a few hundred column assignments, tens of millions of
//! row-pairing steps). Results with many interchangeable columns *and* many near-equal numeric
//! rows can exhaust it, and then the comparison reports no match and says it gave up. Sorting
//! is exact for one numeric column because tolerance intervals grow with the value; with mixed
//! exact / tolerant numeric types in one column it is merely the common case.

use nlq_core::QueryResult;
use serde::{Deserialize, Serialize};

mod cell;
mod columns;
mod rows;

use cell::*;
use columns::*;
use rows::*;

/// Two numbers are equal when they differ by at most this fraction of the larger one ...
pub const RELATIVE_TOLERANCE: f64 = 1e-6;
/// ... plus this much, so that values near zero (`1e-12` vs `0`) compare equal.
pub const ABSOLUTE_TOLERANCE: f64 = 1e-9;

/// Column assignments the search may check before it gives up.
const MAX_ASSIGNMENT_CHECKS: usize = 256;
/// Row-pairing steps (candidate scans and augmenting-path steps) before the search gives up.
const MAX_PAIRING_STEPS: usize = 20_000_000;
/// Longest value shown in a reason.
const MAX_SHOWN_CHARS: usize = 60;

/// The verdict of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub matched: bool,
    /// When matched: which answer column holds each gold column. Otherwise: why not, with an
    /// example value or row.
    pub reason: String,
    /// One entry per gold column. When matched: the answer column index holding it. Otherwise:
    /// the first answer column whose values alone match it, if any (a hint, not necessarily
    /// one-to-one); all `None` when the shapes already differ.
    pub mapping: Vec<Option<usize>>,
}

/// Whether two numbers are equal within the tolerance.
pub fn numbers_equal(a: f64, b: f64) -> bool {
    a == b
        || (a.is_nan() && b.is_nan())
        || (a.is_finite() && b.is_finite())
            && (a - b).abs() <= RELATIVE_TOLERANCE * a.abs().max(b.abs()) + ABSOLUTE_TOLERANCE
}

/// Compares an answer's result with the gold result (see the module documentation for the
/// rules).
pub fn compare(gold: &QueryResult, answer: &QueryResult, order_matters: bool) -> Comparison {
    let width = gold.columns.len();
    let no_match = |reason: String| Comparison {
        matched: false,
        reason,
        mapping: vec![None; width],
    };
    if gold.truncated {
        return no_match("the gold result was cut short by the row cap".into());
    }
    if answer.truncated {
        return no_match("the answer result was cut short by the row cap".into());
    }
    if gold.rows.len() != answer.rows.len() {
        return no_match(format!(
            "row count differs: gold has {}, answer has {}",
            rows(gold.rows.len()),
            answer.rows.len()
        ));
    }
    if answer.columns.len() < width {
        return no_match(format!(
            "answer has {} but gold has {}",
            columns(answer.columns.len()),
            columns(width)
        ));
    }

    let gold_t = Table::new(gold);
    let answer_t = Table::new(answer);
    let gold_sorted = gold_t.sorted_columns();
    let answer_sorted = answer_t.sorted_columns();
    let same_values = |g: usize, a: usize| cells_equal(&gold_sorted[g], &answer_sorted[a]);
    let candidates: Vec<Vec<usize>> = (0..width)
        .map(|g| {
            (0..answer_t.width())
                .filter(|&a| {
                    if order_matters {
                        cells_equal(&gold_t.columns[g], &answer_t.columns[a])
                    } else {
                        same_values(g, a)
                    }
                })
                .collect()
        })
        .collect();
    let hint: Vec<Option<usize>> = candidates.iter().map(|c| c.first().copied()).collect();
    let no_match_hint = |reason: String| Comparison {
        matched: false,
        reason,
        mapping: hint.clone(),
    };

    if let Some(g) = candidates.iter().position(Vec::is_empty) {
        let name = &gold_t.names[g];
        let same_set = (0..answer_t.width()).find(|&a| same_values(g, a));
        let reason = match same_set {
            // Only possible when order matters.
            Some(a) => format!(
                "answer column #{a} `{}` holds the values of gold column `{name}` but in a \
                 different row order, and the order matters",
                answer_t.names[a]
            ),
            None => {
                let mut reason =
                    format!("no answer column holds the values of gold column `{name}`");
                if let Some(a) = answer_t.column_named(name) {
                    reason.push_str(&first_difference(
                        &gold_sorted[g],
                        &answer_sorted[a],
                        &answer_t.names[a],
                    ));
                }
                reason
            }
        };
        return no_match_hint(reason);
    }

    let mut search = Search::new(&gold_t, &answer_t, &candidates, order_matters);
    match search.run() {
        Found::Yes(assignment) => {
            let mapping: Vec<Option<usize>> = assignment.iter().copied().map(Some).collect();
            let pairs: Vec<String> = assignment
                .iter()
                .enumerate()
                .map(|(g, &a)| format!("{} -> #{a} {}", gold_t.names[g], answer_t.names[a]))
                .collect();
            Comparison {
                matched: true,
                reason: format!("matched ({})", pairs.join(", ")),
                mapping,
            }
        }
        Found::No => {
            let reason = match search.first_row_mismatch {
                Some(rows) => format!(
                    "every gold column matches an answer column by its values, but the rows do \
                     not pair up: {rows}"
                ),
                None => {
                    let lists: Vec<String> = candidates
                        .iter()
                        .enumerate()
                        .map(|(g, c)| {
                            let names: Vec<String> = c
                                .iter()
                                .map(|&a| format!("#{a} {}", answer_t.names[a]))
                                .collect();
                            format!("{} -> {{{}}}", gold_t.names[g], names.join(", "))
                        })
                        .collect();
                    format!(
                        "gold columns cannot each get their own answer column (candidates: {})",
                        lists.join("; ")
                    )
                }
            };
            no_match_hint(reason)
        }
        Found::GaveUp => no_match_hint(
            "gave up: too many interchangeable columns or near-equal rows to pair up within \
             the search budget"
                .into(),
        ),
    }
}

fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

fn columns(n: usize) -> String {
    if n == 1 {
        "1 column".into()
    } else {
        format!("{n} columns")
    }
}

/// `; answer column `x` differs first at sorted value #i: gold 1.5 vs answer 1.6`.
fn first_difference(gold: &[Cell], answer: &[Cell], answer_name: &str) -> String {
    match gold.iter().zip(answer).position(|(g, a)| !g.matches(a)) {
        Some(i) => format!(
            "; answer column `{answer_name}` differs first at sorted value #{}: gold {} vs answer {}",
            i + 1,
            gold[i],
            answer[i]
        ),
        None => String::new(),
    }
}
