//! `SELECT *` over an events table reads, and bills, every one of its 94 leaf columns.

use sqlparser::ast::{Select, SelectItem, SelectItemQualifiedWildcardKind, TableFactor};

use super::{from_factors, is_events_table, position};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.select_star";

pub(super) fn check_select(select: &Select, out: &mut Vec<Finding>) {
    // The events tables in FROM, with the name a qualified `x.*` would use for each.
    let events: Vec<(String, String)> = from_factors(select)
        .filter_map(|factor| match factor {
            TableFactor::Table { name, alias, .. } if is_events_table(name) => {
                let parts = nlq_sql::name_parts(name);
                let reference = match alias {
                    Some(alias) => alias.name.value.clone(),
                    None => parts.last()?.clone(),
                };
                Some((parts.join("."), reference))
            }
            _ => None,
        })
        .collect();
    for item in &select.projection {
        let table = match item {
            SelectItem::Wildcard(_) => events.first(),
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(q), _) => {
                let qualifier = nlq_sql::name_parts(q);
                events.iter().find(|(_, reference)| {
                    qualifier
                        .last()
                        .is_some_and(|q| q.eq_ignore_ascii_case(reference))
                })
            }
            _ => None,
        };
        if let Some((table, _)) = table {
            out.push(Finding {
                rule: RULE,
                severity: Severity::Warning,
                message: format!(
                    "`{item}` over `{table}` reads and bills every column of every shard; \
                     name the columns the answer needs"
                ),
                position: position(item),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, rules};
    use super::RULE;

    #[test]
    fn fires_on_star_over_events() {
        for sql in [
            format!("SELECT * FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"),
            format!("SELECT e.* FROM {T} AS e WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"),
            "SELECT * EXCEPT (items) FROM ga4_obfuscated_sample_ecommerce.events_20201201 LIMIT 5"
                .to_owned(),
        ] {
            assert!(rules(&sql).contains(&RULE), "{sql}");
        }
    }

    #[test]
    fn quiet_on_named_columns_and_star_over_other_rows() {
        for sql in [
            format!("SELECT event_name FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"),
            format!(
                "WITH d AS (SELECT event_name, COUNT(*) AS n FROM {T} \
                 WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1) SELECT * FROM d"
            ),
            format!(
                "SELECT p.* FROM {T}, UNNEST(event_params) AS p \
                 WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
