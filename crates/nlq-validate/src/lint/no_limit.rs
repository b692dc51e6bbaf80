//! A row-level answer (no aggregation) with no LIMIT returns one row per event: millions of
//! rows nobody reads, all fetched and paid for.

use sqlparser::ast::{Expr, GroupByExpr, Query, SetExpr};

use super::{each_expr_at_level, is_aggregate, position};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.no_limit";

pub(super) fn check_statement(query: &Query, out: &mut Vec<Finding>) {
    if query.limit_clause.is_some() || query.fetch.is_some() || !row_level(&query.body) {
        return;
    }
    out.push(Finding {
        rule: RULE,
        severity: Severity::Warning,
        message: "the query returns one row per input row and has no LIMIT; aggregate \
                  (GROUP BY) or add `LIMIT 100`"
            .to_owned(),
        position: position(query),
    });
}

/// Whether the body returns input rows as they are: a SELECT with no GROUP BY and no
/// aggregate, or a set operation of such SELECTs.
fn row_level(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => {
            let grouped = match &select.group_by {
                GroupByExpr::All(_) => true,
                GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
            };
            if grouped || select.from.is_empty() {
                return false;
            }
            let mut aggregated = false;
            each_expr_at_level(&select.projection, |e| {
                aggregated |= matches!(e, Expr::Function(f) if is_aggregate(f));
            });
            !aggregated
        }
        SetExpr::SetOperation { left, right, .. } => row_level(left) || row_level(right),
        SetExpr::Query(query) => query.limit_clause.is_none() && row_level(&query.body),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, rules};
    use super::RULE;

    #[test]
    fn fires_on_row_level_results_without_limit() {
        for sql in [
            format!("SELECT user_pseudo_id, event_name FROM {T} WHERE _TABLE_SUFFIX = '20201201'"),
            format!("SELECT DISTINCT user_pseudo_id FROM {T} WHERE _TABLE_SUFFIX = '20201201'"),
            format!(
                "WITH p AS (SELECT user_pseudo_id FROM {T} WHERE _TABLE_SUFFIX = '20201201') \
                 SELECT user_pseudo_id FROM p ORDER BY 1"
            ),
        ] {
            assert!(rules(&sql).contains(&RULE), "{sql}");
        }
    }

    #[test]
    fn quiet_on_aggregates_and_limits() {
        for sql in [
            format!(
                "SELECT user_pseudo_id, event_name FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 10"
            ),
            format!(
                "SELECT event_name, COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT COUNT(DISTINCT user_pseudo_id) AS users FROM {T} WHERE _TABLE_SUFFIX = '20201201'"
            ),
            "SELECT 1 AS one".to_owned(),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
