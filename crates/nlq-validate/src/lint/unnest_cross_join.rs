//! Two repeated fields unnested side by side in one FROM: every event_params row meets every
//! items row, so the rows multiply and every count over them is wrong.

use sqlparser::ast::{Select, TableFactor};

use super::{from_factors, path, position};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.unnest_cross_join";

pub(super) fn check_select(select: &Select, out: &mut Vec<Finding>) {
    let unnests: Vec<(&TableFactor, Vec<String>, Option<String>)> = from_factors(select)
        .filter_map(|factor| match factor {
            TableFactor::UNNEST {
                array_exprs, alias, ..
            } => {
                // Only arrays read from a column: a literal array or a subquery does not
                // multiply the table's rows by a data-dependent count.
                let array = array_exprs.iter().find_map(path)?;
                let alias = alias.as_ref().map(|a| a.name.value.to_ascii_lowercase());
                Some((factor, array, alias))
            }
            _ => None,
        })
        .collect();
    // `UNNEST(item.item_params)` reads inside another UNNEST's element: nested, not side by side.
    let aliases: Vec<&String> = unnests.iter().filter_map(|(_, _, a)| a.as_ref()).collect();
    let independent: Vec<&(&TableFactor, Vec<String>, Option<String>)> = unnests
        .iter()
        .filter(|(_, array, _)| !(array.len() > 1 && aliases.contains(&&array[0])))
        .collect();
    if let [(_, first, _), .., (factor, second, _)] = independent.as_slice() {
        out.push(Finding {
            rule: RULE,
            severity: Severity::Warning,
            message: format!(
                "`UNNEST({})` and `UNNEST({})` in one FROM pair every element of one with every \
                 element of the other, multiplying rows; read one of them with a subquery \
                 such as `(SELECT value.int_value FROM UNNEST(event_params) WHERE key = '...')`",
                first.join("."),
                second.join(".")
            ),
            position: position(*factor),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, rules};
    use super::RULE;

    #[test]
    fn fires_on_two_sibling_unnests() {
        for sql in [
            format!(
                "SELECT COUNT(*) AS n FROM {T}, UNNEST(event_params) AS p, UNNEST(items) AS i \
                 WHERE _TABLE_SUFFIX = '20201201'"
            ),
            format!(
                "SELECT COUNT(*) AS n FROM {T} AS e CROSS JOIN UNNEST(e.items) AS i \
                 LEFT JOIN UNNEST(e.user_properties) AS u ON TRUE WHERE _TABLE_SUFFIX = '20201201'"
            ),
        ] {
            assert!(rules(&sql).contains(&RULE), "{sql}");
        }
    }

    #[test]
    fn quiet_on_one_unnest_nested_unnests_and_literals() {
        for sql in [
            format!(
                "SELECT COUNT(*) AS n FROM {T}, UNNEST(items) AS i WHERE _TABLE_SUFFIX = '20201201'"
            ),
            format!(
                "SELECT COUNT(*) AS n FROM {T}, UNNEST(items) AS i, UNNEST(i.item_params) AS ip \
                 WHERE _TABLE_SUFFIX = '20201201'"
            ),
            format!(
                "SELECT COUNT(*) AS n FROM {T}, UNNEST(items) AS i, UNNEST([1, 2]) AS k \
                 WHERE _TABLE_SUFFIX = '20201201'"
            ),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
