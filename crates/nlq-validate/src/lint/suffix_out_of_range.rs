//! A `_TABLE_SUFFIX` range that reaches past the shards the dataset has: those days are
//! silently missing from the answer (or the answer is empty).

use std::ops::Bound;

use sqlparser::ast::Select;

use super::{LintContext, position, suffixes, wildcards};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.suffix_out_of_range";

pub(super) fn check_select(select: &Select, context: &LintContext<'_>, out: &mut Vec<Finding>) {
    for wildcard in wildcards(select) {
        let days = suffixes(context.tables, &wildcard.prefix);
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            continue;
        };
        let bounds =
            nlq_sql::suffix_bounds(select.selection.as_ref(), wildcard.alias, context.today);
        let shown = |b: &Bound<String>| match b {
            Bound::Included(v) | Bound::Excluded(v) => Some(v.clone()),
            Bound::Unbounded => None,
        };
        let (low, high) = (shown(&bounds.low), shown(&bounds.high));
        if low.is_none() && high.is_none() {
            continue;
        }
        let range = format!(
            "{} .. {}",
            low.as_deref().unwrap_or("(open)"),
            high.as_deref().unwrap_or("(open)")
        );
        let message = if !days.iter().any(|d| bounds.admits(d)) {
            format!(
                "`_TABLE_SUFFIX` {range} matches none of the {} shards ({first} .. {last}): the \
                 answer will be empty; choose days inside the data",
                days.len()
            )
        } else if low.as_deref().is_some_and(|l| l < *first)
            || high.as_deref().is_some_and(|h| h > *last)
        {
            format!(
                "`_TABLE_SUFFIX` {range} reaches past the data ({first} .. {last}); the days \
                 outside it have no rows, so totals cover fewer days than the range says"
            )
        } else {
            continue;
        };
        out.push(Finding {
            rule: RULE,
            severity: Severity::Warning,
            message,
            position: select.selection.as_ref().and_then(position),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, lint_sql, rules};
    use super::RULE;

    fn message(sql: &str) -> String {
        lint_sql(sql)
            .into_iter()
            .find(|f| f.rule == RULE)
            .map(|f| f.message)
            .unwrap_or_default()
    }

    #[test]
    fn fires_when_the_range_reaches_past_the_shards() {
        let m = message(&format!(
            "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20201215' AND '20210115'"
        ));
        assert!(
            m.contains("reaches past the data (20201201 .. 20201231)"),
            "{m}"
        );
        let m = message(&format!(
            "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210107'"
        ));
        assert!(m.contains("matches none of the 31 shards"), "{m}");
        // CURRENT_DATE() is 2021-01-01 here: the last 7 days start before the data ends but
        // end after it.
        let m = message(&format!(
            "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX BETWEEN \
             FORMAT_DATE('%Y%m%d', DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)) \
             AND FORMAT_DATE('%Y%m%d', CURRENT_DATE())"
        ));
        assert!(m.contains("20201225 .. 20210101"), "{m}");
    }

    #[test]
    fn quiet_inside_the_shards_or_when_not_constant() {
        for sql in [
            format!(
                "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'"
            ),
            format!("SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX >= '20201225'"),
            format!(
                "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX IN ('20201201', '20201202')"
            ),
            format!("SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX > event_date"),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
