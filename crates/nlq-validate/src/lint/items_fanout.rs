//! Order-level `ecommerce.*` values summed after `UNNEST(items)`: each order's value is
//! repeated once per item, so revenue and counts come out multiplied.

use sqlparser::ast::{DuplicateTreatment, Expr, FunctionArguments, Select, TableFactor};

use super::{each_expr_at_level, from_factors, is_aggregate, path, position};
use crate::finding::{Finding, Severity};

pub(super) const RULE: &str = "lint.items_fanout";

pub(super) fn check_select(select: &Select, out: &mut Vec<Finding>) {
    let unnests_items = from_factors(select).any(|factor| match factor {
        TableFactor::UNNEST { array_exprs, .. } => array_exprs
            .iter()
            .any(|e| path(e).is_some_and(|p| p.last().is_some_and(|f| f == "items"))),
        _ => false,
    });
    if !unnests_items {
        return;
    }
    let mut check = |expr: &Expr| {
        let Expr::Function(function) = expr else {
            return;
        };
        if !is_aggregate(function) {
            return;
        }
        let name = function.name.to_string().to_ascii_uppercase();
        let FunctionArguments::List(list) = &function.args else {
            return;
        };
        let distinct = list.duplicate_treatment == Some(DuplicateTreatment::Distinct);
        // MIN, MAX and COUNT(DISTINCT ...) are unchanged by repeated rows.
        if distinct || !matches!(name.as_str(), "SUM" | "AVG" | "COUNT") {
            return;
        }
        let mut order_field = None;
        each_expr_at_level(&list.args, |e| {
            if order_field.is_none()
                && let Some(p) = path(e)
                && let Some(i) = p.iter().position(|f| f == "ecommerce")
                && i + 1 < p.len()
            {
                order_field = Some(p[i..].join("."));
            }
        });
        if let Some(field) = order_field {
            out.push(Finding {
                rule: RULE,
                severity: Severity::Error,
                message: format!(
                    "`{name}` of order-level `{field}` after `UNNEST(items)` counts each order once \
                     per item; aggregate it in a query without the UNNEST, or use item-level \
                     `item_revenue` / `quantity`, or COUNT(DISTINCT ecommerce.transaction_id)"
                ),
                position: position(expr),
            });
        }
    };
    each_expr_at_level(&select.projection, &mut check);
    if let Some(having) = &select.having {
        each_expr_at_level(having, &mut check);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, rules};
    use super::RULE;

    #[test]
    fn fires_on_order_values_summed_per_item() {
        for sql in [
            format!(
                "SELECT item.item_name, SUM(ecommerce.purchase_revenue) AS revenue FROM {T}, \
                 UNNEST(items) AS item WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT i.item_category, AVG(e.ecommerce.purchase_revenue_in_usd) AS aov FROM {T} AS e \
                 CROSS JOIN UNNEST(e.items) AS i WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT COUNT(ecommerce.transaction_id) AS orders FROM {T}, UNNEST(items) \
                 WHERE _TABLE_SUFFIX = '20201201'"
            ),
        ] {
            assert!(rules(&sql).contains(&RULE), "{sql}");
        }
    }

    #[test]
    fn quiet_on_item_values_distinct_counts_and_no_unnest() {
        for sql in [
            format!(
                "SELECT item.item_name, SUM(item.item_revenue) AS revenue, \
                 COUNT(DISTINCT ecommerce.transaction_id) AS orders FROM {T}, UNNEST(items) AS item \
                 WHERE _TABLE_SUFFIX = '20201201' GROUP BY 1"
            ),
            format!(
                "SELECT SUM(ecommerce.purchase_revenue) AS revenue FROM {T} \
                 WHERE _TABLE_SUFFIX = '20201201'"
            ),
            // The UNNEST is in a subquery of its own, not in this FROM.
            format!(
                "SELECT SUM(ecommerce.purchase_revenue) AS revenue, \
                 SUM((SELECT SUM(quantity) FROM UNNEST(items))) AS units FROM {T} \
                 WHERE _TABLE_SUFFIX = '20201201'"
            ),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
