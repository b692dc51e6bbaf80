//! A wildcard table with no `_TABLE_SUFFIX` condition reads every day the dataset has.

use sqlparser::ast::Select;

use super::{LintContext, position, suffixes, wildcards};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.unbounded_wildcard";

pub(super) fn check_select(select: &Select, context: &LintContext<'_>, out: &mut Vec<Finding>) {
    for wildcard in wildcards(select) {
        let bounds =
            nlq_sql::suffix_bounds(select.selection.as_ref(), wildcard.alias, context.today);
        if bounds.mentioned {
            continue;
        }
        let days = suffixes(context.tables, &wildcard.prefix);
        let hint = match (days.first(), days.last()) {
            (Some(first), Some(last)) => {
                format!(" (the data has {} shards, {first} .. {last})", days.len())
            }
            _ => String::new(),
        };
        out.push(Finding {
            rule: RULE,
            severity: Severity::Warning,
            message: format!(
                "`{}` has no `_TABLE_SUFFIX` bound, so it reads every shard{hint}; add \
                 `WHERE _TABLE_SUFFIX BETWEEN 'YYYYMMDD' AND 'YYYYMMDD'` for the days you mean",
                nlq_sql::name_parts(wildcard.name).join(".")
            ),
            position: position(wildcard.name),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, lint_sql, rules};
    use super::RULE;

    #[test]
    fn fires_without_a_suffix_condition() {
        let findings = lint_sql(&format!(
            "SELECT COUNT(*) AS n FROM {T} WHERE event_name = 'page_view'"
        ));
        let finding = findings.iter().find(|f| f.rule == RULE).expect("fires");
        assert!(
            finding.message.contains("31 shards, 20201201 .. 20201231"),
            "{}",
            finding.message
        );
        assert_eq!(finding.position.map(|p| p.column), Some(27));
        // A bound on another table's suffix does not bound this one.
        assert!(
            rules(&format!(
                "SELECT COUNT(*) AS n FROM {T} AS a JOIN {T} AS b USING (user_pseudo_id) \
             WHERE a._TABLE_SUFFIX = '20201201'"
            ))
            .contains(&RULE)
        );
    }

    #[test]
    fn quiet_with_any_suffix_condition() {
        for sql in [
            format!(
                "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201207'"
            ),
            format!("SELECT COUNT(*) AS n FROM {T} AS e WHERE e._TABLE_SUFFIX >= '20201225'"),
            // Not constant, still a bound: the engine prunes at run time.
            format!(
                "SELECT COUNT(*) AS n FROM {T} WHERE _TABLE_SUFFIX = FORMAT_DATE('%Y%m%d', CURRENT_DATE())"
            ),
            "SELECT COUNT(*) AS n FROM ga4_obfuscated_sample_ecommerce.events_20201201".to_owned(),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
