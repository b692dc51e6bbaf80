//! GA4 timestamps (`event_timestamp`, `user_first_touch_timestamp`, ...) are INT64 microseconds.
//! A date function applied to one directly fails or reads the number as the wrong unit; it
//! must go through `TIMESTAMP_MICROS` first.

use sqlparser::ast::{DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

use super::{path, position};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.timestamp_micros";

const MICROS_COLUMNS: &[&str] = &[
    "event_timestamp",
    "event_previous_timestamp",
    "user_first_touch_timestamp",
];

const DATE_FUNCTIONS: &[&str] = &[
    "DATE",
    "DATETIME",
    "TIME",
    "TIMESTAMP",
    "FORMAT_TIMESTAMP",
    "FORMAT_DATE",
    "FORMAT_DATETIME",
    "DATE_TRUNC",
    "DATETIME_TRUNC",
    "TIMESTAMP_TRUNC",
    "DATE_DIFF",
    "DATETIME_DIFF",
    "TIMESTAMP_DIFF",
    "DATE_ADD",
    "DATE_SUB",
    "TIMESTAMP_ADD",
    "TIMESTAMP_SUB",
    "UNIX_SECONDS",
    "UNIX_MILLIS",
    "UNIX_MICROS",
    "UNIX_DATE",
    // The right family, the wrong unit: seconds or milliseconds read as microseconds.
    "TIMESTAMP_SECONDS",
    "TIMESTAMP_MILLIS",
];

fn micros_column(expr: &Expr) -> Option<String> {
    let p = path(expr)?;
    let last = p.last()?;
    MICROS_COLUMNS
        .contains(&last.as_str())
        .then(|| last.clone())
}

pub(super) fn check_expr(expr: &Expr, out: &mut Vec<Finding>) {
    let (what, column) = match expr {
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            if !DATE_FUNCTIONS.contains(&name.as_str()) {
                return;
            }
            let FunctionArguments::List(list) = &function.args else {
                return;
            };
            let column = list.args.iter().find_map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => micros_column(e),
                _ => None,
            });
            (name, column)
        }
        Expr::Extract { expr, .. } => ("EXTRACT".to_owned(), micros_column(expr)),
        Expr::Cast {
            expr, data_type, ..
        } if matches!(
            data_type,
            DataType::Date | DataType::Datetime(_) | DataType::Timestamp(..) | DataType::Time(..)
        ) =>
        {
            (format!("CAST AS {data_type}"), micros_column(expr))
        }
        _ => return,
    };
    if let Some(column) = column {
        out.push(Finding {
            rule: RULE,
            severity: Severity::Error,
            message: format!(
                "`{what}` is applied to `{column}`, which is INT64 microseconds since the epoch; \
                 convert it first: write `TIMESTAMP_MICROS({column})` where it is read"
            ),
            position: position(expr),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, lint_sql, rules};
    use super::RULE;

    #[test]
    fn fires_on_date_functions_over_raw_micros() {
        for sql in [
            format!(
                "SELECT DATE(event_timestamp) AS d FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT EXTRACT(HOUR FROM e.event_timestamp) AS h FROM {T} AS e WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT FORMAT_TIMESTAMP('%H', event_timestamp) AS h FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT TIMESTAMP_SECONDS(user_first_touch_timestamp) AS t FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
            format!(
                "SELECT CAST(event_timestamp AS TIMESTAMP) AS t FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
        ] {
            assert!(rules(&sql).contains(&RULE), "{sql}");
        }
        let finding = lint_sql(&format!(
            "SELECT DATE(event_timestamp) AS d FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
        ))
        .into_iter()
        .find(|f| f.rule == RULE)
        .unwrap();
        assert!(
            finding
                .message
                .contains("`TIMESTAMP_MICROS(event_timestamp)`"),
            "{}",
            finding.message
        );
        assert_eq!(finding.position.map(|p| p.column), Some(8));
    }

    #[test]
    fn quiet_after_timestamp_micros_and_on_other_columns() {
        for sql in [
            format!(
                "SELECT DATE(TIMESTAMP_MICROS(event_timestamp)) AS d FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT EXTRACT(HOUR FROM TIMESTAMP_MICROS(event_timestamp)) AS h FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT PARSE_DATE('%Y%m%d', event_date) AS d FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT MAX(event_timestamp) - MIN(event_timestamp) AS span FROM {T} WHERE _TABLE_SUFFIX = '20201201'"
            ),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
