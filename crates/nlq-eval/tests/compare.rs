//! The result comparison (src/compare/) through its public API: the rules of its module
//! documentation, each with cases that must match and cases that must not.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nlq_core::{BqType, Column, QueryResult, Value};
use nlq_eval::{Comparison, compare, numbers_equal};

fn result(names: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
    QueryResult {
        columns: names
            .iter()
            .map(|n| Column {
                name: (*n).to_string(),
                ty: BqType::String,
            })
            .collect(),
        rows,
        bytes_processed: 0,
        elapsed_ms: 0,
        tables_read: Vec::new(),
        truncated: false,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}
fn i(v: i64) -> Value {
    Value::Int64(v)
}
fn f(v: f64) -> Value {
    Value::Float64(v)
}
fn n(v: &str) -> Value {
    Value::Numeric(v.into())
}
fn d(v: &str) -> Value {
    Value::Date(v.into())
}

fn sources() -> QueryResult {
    result(
        &["source", "users"],
        vec![
            vec![s("google"), i(30)],
            vec![s("(direct)"), i(20)],
            vec![s("baidu"), i(10)],
        ],
    )
}

fn assert_match(gold: &QueryResult, answer: &QueryResult, order: bool) -> Comparison {
    let c = compare(gold, answer, order);
    assert!(c.matched, "expected a match: {}", c.reason);
    assert!(c.mapping.iter().all(Option::is_some));
    c
}

fn assert_no_match(gold: &QueryResult, answer: &QueryResult, order: bool) -> Comparison {
    let c = compare(gold, answer, order);
    assert!(!c.matched, "expected no match: {}", c.reason);
    c
}

#[test]
fn identical_results_match_column_by_column() {
    let c = assert_match(&sources(), &sources(), true);
    assert_eq!(c.mapping, vec![Some(0), Some(1)]);
    assert_eq!(c.reason, "matched (source -> #0 source, users -> #1 users)");
}

#[test]
fn column_order_and_names_are_ignored() {
    let answer = result(
        &["n", "src"],
        vec![
            vec![i(30), s("google")],
            vec![i(20), s("(direct)")],
            vec![i(10), s("baidu")],
        ],
    );
    let c = assert_match(&sources(), &answer, true);
    assert_eq!(c.mapping, vec![Some(1), Some(0)]);
    assert!(c.reason.contains("source -> #1 src"), "{}", c.reason);
}

#[test]
fn extra_answer_columns_are_allowed() {
    let answer = result(
        &["rank", "source", "share", "users"],
        vec![
            vec![i(1), s("google"), f(0.5), i(30)],
            vec![i(2), s("(direct)"), f(0.333), i(20)],
            vec![i(3), s("baidu"), f(0.167), i(10)],
        ],
    );
    let c = assert_match(&sources(), &answer, false);
    assert_eq!(c.mapping, vec![Some(1), Some(3)]);
}

#[test]
fn fewer_answer_columns_never_match() {
    let answer = result(
        &["source"],
        vec![vec![s("google")], vec![s("(direct)")], vec![s("baidu")]],
    );
    let c = assert_no_match(&sources(), &answer, false);
    assert_eq!(c.reason, "answer has 1 column but gold has 2 columns");
    assert_eq!(c.mapping, vec![None, None]);
}

#[test]
fn each_answer_column_serves_one_gold_column() {
    // Gold has two equal columns; the answer has only one column with those values.
    let gold = result(&["a", "b"], vec![vec![i(1), i(1)], vec![i(2), i(2)]]);
    let answer = result(&["x", "y"], vec![vec![i(1), s("p")], vec![i(2), s("q")]]);
    let c = assert_no_match(&gold, &answer, false);
    assert_eq!(
        c.reason,
        "gold columns cannot each get their own answer column (candidates: a -> {#0 x}; \
         b -> {#0 x})"
    );
    assert_eq!(c.mapping, vec![Some(0), Some(0)]);
    let answer = result(&["x", "y"], vec![vec![i(1), i(1)], vec![i(2), i(2)]]);
    let c = assert_match(&gold, &answer, false);
    assert_eq!(c.mapping, vec![Some(0), Some(1)]);
}

#[test]
fn float_tolerance_is_relative() {
    let gold = result(&["revenue"], vec![vec![f(1234.5678)], vec![f(0.001)]]);
    let close = result(
        &["r"],
        vec![
            vec![f(1234.5678 * (1.0 + 1e-7))],
            vec![f(0.001 * (1.0 - 1e-7))],
        ],
    );
    assert_match(&gold, &close, true);
    let far = result(
        &["r"],
        vec![vec![f(1234.5678 * (1.0 + 1e-5))], vec![f(0.001)]],
    );
    let c = assert_no_match(&gold, &far, true);
    assert!(c.reason.contains("gold column `revenue`"), "{}", c.reason);
    let far_unordered = assert_no_match(&gold, &far, false);
    assert!(far_unordered.reason.contains("no answer column holds"));
}

#[test]
fn numbers_near_zero_use_the_absolute_epsilon() {
    assert!(numbers_equal(0.0, 1e-12));
    assert!(numbers_equal(-1e-10, 1e-10));
    assert!(!numbers_equal(0.0, 1e-6));
    assert!(numbers_equal(f64::NAN, f64::NAN));
    assert!(numbers_equal(f64::INFINITY, f64::INFINITY));
    assert!(!numbers_equal(f64::INFINITY, f64::NEG_INFINITY));
    let gold = result(&["x"], vec![vec![f(0.0)], vec![f(-0.0)]]);
    let answer = result(&["x"], vec![vec![f(1e-12)], vec![i(0)]]);
    assert_match(&gold, &answer, true);
}

#[test]
fn int_float_and_numeric_compare_as_numbers() {
    let gold = result(&["a", "b", "c"], vec![vec![i(3), f(2.5), n("10.000000")]]);
    let answer = result(&["a", "b", "c"], vec![vec![f(3.0), n("2.5"), i(10)]]);
    assert_match(&gold, &answer, true);
    let answer = result(
        &["a", "b", "c"],
        vec![vec![f(3.0000001), n("2.50000001"), f(10.0)]],
    );
    assert_match(&gold, &answer, true);
}

#[test]
fn two_integers_compare_exactly() {
    let gold = result(&["events"], vec![vec![i(4_000_000)]]);
    assert_no_match(&gold, &result(&["e"], vec![vec![i(4_000_001)]]), true);
    // Against a float the tolerance applies.
    assert_match(&gold, &result(&["e"], vec![vec![f(4_000_001.0)]]), true);
}

#[test]
fn a_number_never_equals_its_text() {
    let gold = result(&["n"], vec![vec![i(3)]]);
    assert_no_match(&gold, &result(&["n"], vec![vec![s("3")]]), false);
    // An unparsable NUMERIC text compares as text.
    let gold = result(&["n"], vec![vec![n("abc")]]);
    assert_match(&gold, &result(&["n"], vec![vec![s("abc")]]), false);
}

#[test]
fn null_equals_only_null() {
    let gold = result(
        &["a", "b"],
        vec![vec![Value::Null, i(1)], vec![s("x"), i(2)]],
    );
    assert_match(&gold, &gold.clone(), false);
    for other in [s("NULL"), s(""), i(0), f(0.0)] {
        let answer = result(
            &["a", "b"],
            vec![vec![other.clone(), i(1)], vec![s("x"), i(2)]],
        );
        let c = assert_no_match(&gold, &answer, false);
        assert_eq!(c.mapping, vec![None, Some(1)], "{other:?}");
    }
}

#[test]
fn dates_match_strings_with_the_same_text() {
    let gold = result(
        &["day", "users"],
        vec![vec![d("2020-11-01"), i(5)], vec![d("2020-11-02"), i(7)]],
    );
    let answer = result(
        &["day", "users"],
        vec![vec![s("2020-11-01"), i(5)], vec![s("2020-11-02"), i(7)]],
    );
    assert_match(&gold, &answer, true);
    let other_format = result(
        &["day", "users"],
        vec![vec![s("20201101"), i(5)], vec![s("20201102"), i(7)]],
    );
    let c = assert_no_match(&gold, &other_format, true);
    assert!(c.reason.contains("gold column `day`"), "{}", c.reason);
    assert!(
        c.reason.contains(
            "differs first at sorted value #1: gold \"2020-11-01\" vs answer \"20201101\""
        ),
        "{}",
        c.reason
    );
}

#[test]
fn bools_and_timestamps_compare_by_text() {
    let gold = result(
        &["b", "t"],
        vec![vec![Value::Bool(true), Value::Timestamp(0)]],
    );
    let answer = result(
        &["b", "t"],
        vec![vec![s("true"), s("1970-01-01 00:00:00 UTC")]],
    );
    assert_match(&gold, &answer, true);
}

#[test]
fn rows_are_a_multiset_unless_order_matters() {
    let shuffled = result(
        &["source", "users"],
        vec![
            vec![s("baidu"), i(10)],
            vec![s("google"), i(30)],
            vec![s("(direct)"), i(20)],
        ],
    );
    assert_match(&sources(), &shuffled, false);
    let c = assert_no_match(&sources(), &shuffled, true);
    assert!(c.reason.contains("different row order"), "{}", c.reason);
    assert_eq!(c.mapping, vec![None, None]);
}

#[test]
fn duplicate_rows_are_counted() {
    let gold = result(&["x"], vec![vec![s("a")], vec![s("a")], vec![s("b")]]);
    let answer = result(&["x"], vec![vec![s("a")], vec![s("b")], vec![s("b")]]);
    let c = assert_no_match(&gold, &answer, false);
    assert!(c.reason.contains("no answer column holds"), "{}", c.reason);
    // Same per-column multisets, but the rows pair differently.
    let gold = result(
        &["k", "v"],
        vec![
            vec![s("a"), i(1)],
            vec![s("a"), i(1)],
            vec![s("b"), i(2)],
            vec![s("b"), i(2)],
        ],
    );
    let answer = result(
        &["k", "v"],
        vec![
            vec![s("a"), i(1)],
            vec![s("a"), i(2)],
            vec![s("b"), i(1)],
            vec![s("b"), i(2)],
        ],
    );
    let c = assert_no_match(&gold, &answer, false);
    assert!(c.reason.contains("rows do not pair up"), "{}", c.reason);
    assert!(
        c.reason.contains("gold row (\"a\", 1) has no match"),
        "{}",
        c.reason
    );
    assert_eq!(c.mapping, vec![Some(0), Some(1)]);
}

#[test]
fn rows_pair_by_exact_parts_first() {
    let gold = result(
        &["k", "v"],
        vec![vec![s("a"), i(1)], vec![s("a"), i(1)], vec![s("b"), i(2)]],
    );
    let answer = result(
        &["k", "v"],
        vec![vec![s("a"), i(1)], vec![s("b"), i(1)], vec![s("a"), i(2)]],
    );
    let c = assert_no_match(&gold, &answer, false);
    assert!(
        c.reason
            .ends_with("gold row (\"a\", 1) has no match in the answer"),
        "{}",
        c.reason
    );
    let gold = result(
        &["k", "v"],
        vec![
            vec![s("a"), s("x")],
            vec![s("a"), s("x")],
            vec![s("b"), s("y")],
            vec![s("b"), s("y")],
        ],
    );
    let answer = result(
        &["k", "v"],
        vec![
            vec![s("a"), s("x")],
            vec![s("a"), s("y")],
            vec![s("b"), s("x")],
            vec![s("b"), s("y")],
        ],
    );
    let c = assert_no_match(&gold, &answer, false);
    assert!(
        c.reason
            .ends_with("gold has 2 row(s) like (\"a\", \"x\"), answer has 1"),
        "{}",
        c.reason
    );
}

#[test]
fn row_count_must_be_equal() {
    let fewer = result(
        &["source", "users"],
        vec![vec![s("google"), i(30)], vec![s("(direct)"), i(20)]],
    );
    let c = assert_no_match(&sources(), &fewer, false);
    assert_eq!(c.reason, "row count differs: gold has 3 rows, answer has 2");
    assert_eq!(c.mapping, vec![None, None]);
}

#[test]
fn empty_results_match_by_position_when_wide_enough() {
    let gold = result(&["a", "b"], vec![]);
    let c = assert_match(&gold, &result(&["x", "y", "z"], vec![]), false);
    assert_eq!(c.mapping, vec![Some(0), Some(1)]);
    assert_match(&gold, &result(&["x", "y"], vec![]), true);
    assert_no_match(&gold, &result(&["x"], vec![]), false);
    assert_no_match(&gold, &sources(), false);
    assert_no_match(&sources(), &gold, false);
}

#[test]
fn a_gold_result_without_columns_needs_only_the_row_count() {
    let gold = result(&[], vec![vec![], vec![]]);
    assert_match(&gold, &result(&["x"], vec![vec![i(1)], vec![i(2)]]), false);
    assert_no_match(&gold, &result(&["x"], vec![vec![i(1)]]), false);
}

#[test]
fn truncated_results_never_match() {
    let mut gold = sources();
    gold.truncated = true;
    assert!(
        compare(&gold, &sources(), false)
            .reason
            .contains("gold result was cut short")
    );
    let mut answer = sources();
    answer.truncated = true;
    assert!(
        compare(&sources(), &answer, false)
            .reason
            .contains("answer result was cut short")
    );
}

#[test]
fn ambiguous_columns_are_resolved_by_rows() {
    // Columns b and c hold the same multiset; only one assignment pairs the rows.
    let gold = result(
        &["k", "b", "c"],
        vec![vec![s("x"), i(1), i(2)], vec![s("y"), i(2), i(1)]],
    );
    let answer = result(
        &["c2", "k2", "b2"],
        vec![vec![i(2), s("x"), i(1)], vec![i(1), s("y"), i(2)]],
    );
    let c = assert_match(&gold, &answer, false);
    assert_eq!(c.mapping, vec![Some(1), Some(2), Some(0)]);
    // Same with order mattering: the sequences decide directly.
    let c = assert_match(&gold, &answer, true);
    assert_eq!(c.mapping, vec![Some(1), Some(2), Some(0)]);
}

#[test]
fn near_equal_numbers_that_sort_differently_still_pair() {
    // Sorting by the first number puts the rows in opposite orders on the two sides; the
    // second number only pairs them one way.
    let gold = result(
        &["x", "y"],
        vec![vec![f(1.0), f(10.0)], vec![f(1.0 + 1e-9), f(20.0)]],
    );
    let answer = result(
        &["x", "y"],
        vec![vec![f(1.0 + 2e-9), f(10.0)], vec![f(1.0), f(20.0)]],
    );
    assert_match(&gold, &answer, false);
    // And a real miss is still a miss.
    let answer = result(
        &["x", "y"],
        vec![vec![f(1.0 + 2e-9), f(10.0)], vec![f(1.0), f(21.0)]],
    );
    let c = assert_no_match(&gold, &answer, false);
    assert!(
        c.reason
            .contains("no answer column holds the values of gold column `y`"),
        "{}",
        c.reason
    );
}

#[test]
fn bipartite_fallback_needs_augmenting_paths() {
    // Sorted, gold (5, 1) pairs with answer (5, 1+0.9e-6) and then gold (5+e, 1+1.8e-6)
    // cannot pair with answer (5+e, 1-0.9e-6). Greedy matching repeats that choice; only
    // an augmenting path moves gold (5, 1) to the other answer row.
    let e = 1e-8;
    let gold = result(
        &["x", "y"],
        vec![vec![f(5.0), f(1.0)], vec![f(5.0 + e), f(1.0 + 1.8e-6)]],
    );
    let answer = result(
        &["x", "y"],
        vec![
            vec![f(5.0 + e), f(1.0 - 0.9e-6)],
            vec![f(5.0), f(1.0 + 0.9e-6)],
        ],
    );
    assert_match(&gold, &answer, false);
    // Columns that match one by one but rows that do not: the matching says which row.
    let gold = result(
        &["x", "y"],
        vec![vec![f(5.0), f(1.0)], vec![f(7.0), f(2.0)]],
    );
    let answer = result(
        &["x", "y"],
        vec![vec![f(5.0), f(2.0)], vec![f(7.0), f(1.0)]],
    );
    let c = assert_no_match(&gold, &answer, false);
    assert!(
        c.reason
            .ends_with("gold row (5, 1) has no match in the answer"),
        "{}",
        c.reason
    );
}

#[test]
fn many_identical_columns_do_not_explode() {
    // Ten gold columns of zeros, fifteen answer columns of zeros: symmetric branches are
    // skipped, so the first assignment is checked and accepted.
    let rows: Vec<Vec<Value>> = (0..50).map(|_| vec![i(0); 10]).collect();
    let names: Vec<String> = (0..10).map(|c| format!("g{c}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let gold = result(&names, rows);
    let answer_rows: Vec<Vec<Value>> = (0..50).map(|_| vec![i(0); 15]).collect();
    let answer_names: Vec<String> = (0..15).map(|c| format!("a{c}")).collect();
    let answer_names: Vec<&str> = answer_names.iter().map(String::as_str).collect();
    let answer = result(&answer_names, answer_rows);
    let c = assert_match(&gold, &answer, false);
    assert_eq!(c.mapping, (0..10).map(Some).collect::<Vec<_>>());
}

#[test]
fn ten_thousand_rows_compare_quickly() {
    let gold_rows: Vec<Vec<Value>> = (0..10_000)
        .map(|r| {
            let mut row = vec![s(&format!("k{r}")), d("2020-12-01")];
            row.extend((0..8).map(|c| f((r * 7 + c) as f64 / 3.0)));
            row
        })
        .collect();
    let names: Vec<String> = (0..10).map(|c| format!("c{c}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let gold = result(&names, gold_rows.clone());
    let mut answer_rows: Vec<Vec<Value>> = gold_rows
        .iter()
        .map(|row| {
            let mut row: Vec<Value> = row
                .iter()
                .map(|v| match v {
                    Value::Float64(x) => f(x * (1.0 + 1e-9)),
                    other => other.clone(),
                })
                .collect();
            row.reverse();
            row
        })
        .collect();
    answer_rows.reverse();
    let answer = result(&names, answer_rows);
    let started = std::time::Instant::now();
    let c = assert_match(&gold, &answer, false);
    assert_eq!(c.mapping[0], Some(9));
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn short_rows_read_as_null() {
    let gold = result(&["a", "b"], vec![vec![i(1)]]);
    let answer = result(&["a", "b"], vec![vec![i(1), Value::Null]]);
    assert_match(&gold, &answer, true);
}

#[test]
fn nan_and_infinity_equal_themselves() {
    let gold = result(&["x"], vec![vec![f(f64::NAN)], vec![f(f64::INFINITY)]]);
    let answer = result(&["x"], vec![vec![f(f64::INFINITY)], vec![f(f64::NAN)]]);
    assert_match(&gold, &answer, false);
    assert_no_match(&gold, &answer, true);
}

#[test]
fn comparisons_serialize() {
    let c = compare(&sources(), &sources(), true);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["matched"], true);
    assert_eq!(json["mapping"], serde_json::json!([0, 1]));
}
