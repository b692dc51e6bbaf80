//! Domain assertions on a result: facts about GA4 numbers that hold for any right answer, so a
//! result that breaks one comes from a query that does not mean what it says. Columns are
//! recognised by their names (the semantic engine and the prompts use these names); a finding
//! is a warning shown next to the result.

use std::collections::HashSet;

use sqlparser::ast::{Expr, GroupByExpr, SelectItem, SetExpr, Statement};

use nlq_core::{QueryResult, Value};

use crate::finding::{Finding, Severity};

/// What the assertions know about the query that made the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultShape {
    /// The result columns that are GROUP BY keys: their tuples must be unique.
    pub key_columns: Vec<usize>,
    /// The `_TABLE_SUFFIX` days the query asked for (`YYYYMMDD`, inclusive), when constant.
    pub days: Option<(String, String)>,
}

impl ResultShape {
    /// The key columns of a grouped top-level SELECT: the output columns that aggregate nothing.
    pub fn of(statement: &Statement, days: Option<(String, String)>) -> Self {
        let mut key_columns = Vec::new();
        if let Statement::Query(query) = statement
            && let SetExpr::Select(select) = query.body.as_ref()
            && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if !e.is_empty())
            && select.projection.iter().all(|item| {
                matches!(
                    item,
                    SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
                )
            })
        {
            for (i, item) in select.projection.iter().enumerate() {
                let expr = match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                    _ => continue,
                };
                if !aggregates(expr) {
                    key_columns.push(i);
                }
            }
        }
        ResultShape { key_columns, days }
    }
}

fn aggregates(expr: &Expr) -> bool {
    let mut found = false;
    crate::lint::each_expr_at_level(expr, |e| {
        found |= matches!(e, Expr::Function(f) if crate::lint::is_aggregate(f) || f.over.is_some());
    });
    found
}

/// Every assertion over `result`.
pub fn check(result: &QueryResult, shape: &ResultShape) -> Vec<Finding> {
    let mut out = Vec::new();
    let names: Vec<String> = result
        .columns
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    non_negative(result, &names, &mut out);
    rates(result, &names, &mut out);
    users_sessions_events(result, &names, &mut out);
    funnel(result, &names, &mut out);
    unique_keys(result, shape, &mut out);
    inside_range(result, &names, shape, &mut out);
    out
}

fn warn(rule: &'static str, message: String) -> Finding {
    Finding {
        rule,
        severity: Severity::Warning,
        message,
        position: None,
    }
}

/// Names of changes between periods, which may be negative or above 1.
fn is_change(name: &str) -> bool {
    ["change", "diff", "delta", "growth", "vs", "lift", "trend"]
        .iter()
        .any(|w| name.contains(w))
}

fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
}

const COUNT_WORDS: &[&str] = &[
    "users",
    "sessions",
    "events",
    "count",
    "views",
    "pageviews",
    "purchases",
    "purchasers",
    "transactions",
    "orders",
    "revenue",
    "quantity",
    "items",
    "carts",
    "checkouts",
    "clicks",
];

fn non_negative(result: &QueryResult, names: &[String], out: &mut Vec<Finding>) {
    for (i, name) in names.iter().enumerate() {
        if is_change(name) || !words(name).any(|w| COUNT_WORDS.contains(&w)) {
            continue;
        }
        if let Some(v) = result
            .rows
            .iter()
            .filter_map(|r| r.get(i).and_then(Value::as_f64))
            .find(|v| *v < 0.0)
        {
            out.push(warn(
                "assert.non_negative",
                format!(
                    "column `{}` counts or sums something but has the negative value {v}",
                    result.columns[i].name
                ),
            ));
        }
    }
}

fn rates(result: &QueryResult, names: &[String], out: &mut Vec<Finding>) {
    for (i, name) in names.iter().enumerate() {
        if is_change(name) {
            continue;
        }
        let percent = words(name).any(|w| matches!(w, "pct" | "percent" | "percentage"));
        let rate = percent || words(name).any(|w| matches!(w, "rate" | "ratio" | "share"));
        if !rate {
            continue;
        }
        let max = if percent { 100.0 } else { 1.0 };
        if let Some(v) = result
            .rows
            .iter()
            .filter_map(|r| r.get(i).and_then(Value::as_f64))
            .find(|v| !(0.0..=max).contains(v))
        {
            out.push(warn(
                "assert.rate_range",
                format!(
                    "rate column `{}` has {v}, outside [0, {max}]",
                    result.columns[i].name
                ),
            ));
        }
    }
}

fn users_sessions_events(result: &QueryResult, names: &[String], out: &mut Vec<Finding>) {
    let find = |candidates: &[&str]| names.iter().position(|n| candidates.contains(&n.as_str()));
    let ladder: Vec<usize> = [
        find(&["users", "total_users", "active_users"]),
        find(&["sessions"]),
        find(&["events", "event_count"]),
    ]
    .into_iter()
    .flatten()
    .collect();
    for pair in ladder.windows(2) {
        let (small, large) = (pair[0], pair[1]);
        if let Some(row) = result.rows.iter().find(|r| {
            matches!(
                (r.get(small).and_then(Value::as_f64), r.get(large).and_then(Value::as_f64)),
                (Some(a), Some(b)) if a > b
            )
        }) {
            out.push(warn(
                "assert.users_sessions_events",
                format!(
                    "`{}` ({}) exceeds `{}` ({}) in a row; users <= sessions <= events always holds",
                    result.columns[small].name,
                    row[small],
                    result.columns[large].name,
                    row[large]
                ),
            ));
        }
    }
}

/// The step number in a funnel column name: `step1`, `step_2_users`, `s3_step` → 1, 2, 3.
fn step_number(name: &str) -> Option<u32> {
    let at = name.find("step")?;
    let digits: String = name[at + 4..]
        .trim_start_matches('_')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn funnel(result: &QueryResult, names: &[String], out: &mut Vec<Finding>) {
    let mut steps: Vec<(u32, usize)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((step_number(n)?, i)))
        .collect();
    if steps.len() < 2 {
        return;
    }
    steps.sort_unstable();
    for row in &result.rows {
        for pair in steps.windows(2) {
            let (a, b) = (pair[0].1, pair[1].1);
            if let (Some(x), Some(y)) = (
                row.get(a).and_then(Value::as_f64),
                row.get(b).and_then(Value::as_f64),
            ) && y > x
            {
                out.push(warn(
                    "assert.funnel",
                    format!(
                        "funnel step `{}` ({y}) is larger than the step before it, `{}` ({x}); \
                         each step must count a subset of the previous one",
                        result.columns[b].name, result.columns[a].name
                    ),
                ));
                return;
            }
        }
    }
}

fn unique_keys(result: &QueryResult, shape: &ResultShape, out: &mut Vec<Finding>) {
    if shape.key_columns.is_empty() {
        return;
    }
    let mut seen = HashSet::new();
    for row in &result.rows {
        let key: Vec<String> = shape
            .key_columns
            .iter()
            .map(|&i| row.get(i).map(ToString::to_string).unwrap_or_default())
            .collect();
        if !seen.insert(key.clone()) {
            out.push(warn(
                "assert.duplicate_keys",
                format!(
                    "the group ({}) appears in more than one row; a grouped result has one row \
                     per group",
                    key.join(", ")
                ),
            ));
            return;
        }
    }
}

fn inside_range(
    result: &QueryResult,
    names: &[String],
    shape: &ResultShape,
    out: &mut Vec<Finding>,
) {
    let Some((first, last)) = &shape.days else {
        return;
    };
    for (i, name) in names.iter().enumerate() {
        if !matches!(name.as_str(), "event_date" | "date" | "day") {
            continue;
        }
        for row in &result.rows {
            let day = match row.get(i) {
                Some(Value::String(s)) if s.len() == 8 => s.clone(),
                Some(Value::Date(d)) => d.replace('-', ""),
                _ => continue,
            };
            if day < *first || day > *last {
                out.push(warn(
                    "assert.time_range",
                    format!(
                        "`{}` has {day}, outside the requested days {first} .. {last}",
                        result.columns[i].name
                    ),
                ));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use nlq_core::{BqType, Column};

    use super::*;

    fn result(columns: &[(&str, BqType)], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: columns
                .iter()
                .map(|(n, t)| Column {
                    name: (*n).to_owned(),
                    ty: t.clone(),
                })
                .collect(),
            rows,
            bytes_processed: 0,
            elapsed_ms: 0,
            tables_read: vec![],
            truncated: false,
        }
    }

    fn rules(r: &QueryResult, shape: &ResultShape) -> Vec<&'static str> {
        check(r, shape).into_iter().map(|f| f.rule).collect()
    }

    use Value::{Float64 as F, Int64 as I};

    #[test]
    fn counts_and_revenue_are_never_negative_but_changes_may_be() {
        let r = result(
            &[
                ("users", BqType::Int64),
                ("revenue", BqType::Float64),
                ("users_change", BqType::Int64),
            ],
            vec![vec![I(5), F(-1.0), I(-3)]],
        );
        assert_eq!(rules(&r, &ResultShape::default()), ["assert.non_negative"]);
        let r = result(&[("users", BqType::Int64)], vec![vec![I(5)]]);
        assert!(rules(&r, &ResultShape::default()).is_empty());
    }

    #[test]
    fn rates_stay_in_their_range() {
        let bad = result(&[("engagement_rate", BqType::Float64)], vec![vec![F(1.2)]]);
        assert_eq!(rules(&bad, &ResultShape::default()), ["assert.rate_range"]);
        let ok = result(
            &[
                ("engagement_rate", BqType::Float64),
                ("conversion_pct", BqType::Float64),
            ],
            vec![vec![F(0.7), F(45.0)]],
        );
        assert!(rules(&ok, &ResultShape::default()).is_empty());
        let bad_pct = result(&[("conversion_pct", BqType::Float64)], vec![vec![F(120.0)]]);
        assert_eq!(
            rules(&bad_pct, &ResultShape::default()),
            ["assert.rate_range"]
        );
    }

    #[test]
    fn users_sessions_events_are_ordered() {
        let cols = [
            ("users", BqType::Int64),
            ("sessions", BqType::Int64),
            ("events", BqType::Int64),
        ];
        let bad = result(&cols, vec![vec![I(10), I(8), I(100)]]);
        assert_eq!(
            rules(&bad, &ResultShape::default()),
            ["assert.users_sessions_events"]
        );
        let ok = result(&cols, vec![vec![I(8), I(10), I(100)]]);
        assert!(rules(&ok, &ResultShape::default()).is_empty());
    }

    #[test]
    fn funnel_steps_never_grow() {
        let cols = [
            ("step1_view", BqType::Int64),
            ("step2_cart", BqType::Int64),
            ("step3_purchase", BqType::Int64),
        ];
        let bad = result(&cols, vec![vec![I(100), I(20), I(30)]]);
        assert_eq!(rules(&bad, &ResultShape::default()), ["assert.funnel"]);
        let ok = result(&cols, vec![vec![I(100), I(20), I(5)]]);
        assert!(rules(&ok, &ResultShape::default()).is_empty());
    }

    #[test]
    fn group_keys_are_unique_and_days_inside_the_range() {
        let shape = ResultShape {
            key_columns: vec![0],
            days: Some(("20201201".into(), "20201207".into())),
        };
        let cols = [("event_date", BqType::String), ("n", BqType::Int64)];
        let dup = result(
            &cols,
            vec![
                vec![Value::String("20201201".into()), I(1)],
                vec![Value::String("20201201".into()), I(2)],
            ],
        );
        assert_eq!(rules(&dup, &shape), ["assert.duplicate_keys"]);
        let outside = result(&cols, vec![vec![Value::String("20201208".into()), I(1)]]);
        assert_eq!(rules(&outside, &shape), ["assert.time_range"]);
        let ok = result(
            &cols,
            vec![
                vec![Value::String("20201201".into()), I(1)],
                vec![Value::String("20201202".into()), I(1)],
            ],
        );
        assert!(rules(&ok, &shape).is_empty());
        let date_cols = [("date", BqType::Date), ("n", BqType::Int64)];
        let outside = result(
            &date_cols,
            vec![vec![Value::Date("2020-11-30".into()), I(1)]],
        );
        assert_eq!(rules(&outside, &shape), ["assert.time_range"]);
    }

    #[test]
    fn key_columns_come_from_the_grouped_select() {
        let statement = nlq_sql::parse_query(
            "SELECT device.category, event_date, COUNT(*) AS n, SUM(x) OVER () AS w FROM t GROUP BY 1, 2",
        )
        .unwrap();
        assert_eq!(ResultShape::of(&statement, None).key_columns, vec![0, 1]);
        let statement = nlq_sql::parse_query("SELECT a, b FROM t").unwrap();
        assert!(ResultShape::of(&statement, None).key_columns.is_empty());
    }
}
