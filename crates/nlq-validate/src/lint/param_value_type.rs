//! Reading a parameter from a value field it never uses (`value.int_value` of `page_location`,
//! a string) gives NULL on every row: the answer is silently empty or zero.
//!
//! Both GA4 idioms are one SELECT over `UNNEST(event_params)` with `key = '...'` in its WHERE:
//! the correlated subquery `(SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'x')`
//! and the join `FROM events_*, UNNEST(event_params) AS p WHERE p.key = 'x'`.

use sqlparser::ast::{BinaryOperator, Expr, Select, TableFactor, Value};

use super::{LintContext, each_expr_at_level, from_factors, path, position};
use crate::finding::{Finding, Severity};
use crate::params::{ParamScope, ValueField};

pub(super) const RULE: &str = "lint.param_value_type";

/// One `UNNEST(<params>)` of this SELECT: the name its columns go by (None: unqualified).
struct Params {
    scope: ParamScope,
    alias: Option<String>,
    keys: Vec<String>,
}

pub(super) fn check_select(select: &Select, context: &LintContext<'_>, out: &mut Vec<Finding>) {
    let mut unnests: Vec<Params> = from_factors(select)
        .filter_map(|factor| match factor {
            TableFactor::UNNEST {
                array_exprs, alias, ..
            } => {
                let array = array_exprs.iter().find_map(path)?;
                Some(Params {
                    scope: ParamScope::of_field(array.last()?)?,
                    alias: alias.as_ref().map(|a| a.name.value.to_ascii_lowercase()),
                    keys: Vec::new(),
                })
            }
            _ => None,
        })
        .collect();
    if unnests.is_empty() {
        return;
    }
    let Some(selection) = &select.selection else {
        return;
    };
    let mut event_name = None;
    for condition in nlq_sql::and_conditions(selection) {
        let Some((column, values)) = equality(condition) else {
            continue;
        };
        match column.as_slice() {
            [c] if c == "event_name" => event_name = values.first().cloned(),
            [c] if c == "key" && unnests.len() == 1 => unnests[0].keys = values,
            [a, c] if c == "key" => {
                if let Some(u) = unnests.iter_mut().find(|u| u.alias.as_ref() == Some(a)) {
                    u.keys = values;
                }
            }
            _ => {}
        }
    }
    let mut check = |expr: &Expr| {
        let Some(p) = path(expr) else { return };
        let (owner, field) = match p.as_slice() {
            [v, f] if v == "value" => (None, f),
            [a, v, f] if v == "value" => (Some(a), f),
            _ => return,
        };
        let Some(field) = ValueField::of_column(field) else {
            return;
        };
        let params = match owner {
            None if unnests.len() == 1 => &unnests[0],
            None => return,
            Some(a) => match unnests.iter().find(|u| u.alias.as_ref() == Some(a)) {
                Some(u) => u,
                None => return,
            },
        };
        let mut known = Vec::new();
        for key in &params.keys {
            match context
                .params
                .value_fields(params.scope, event_name.as_deref(), key)
            {
                Some(fields) => known.push((key, fields)),
                // An unknown key may use any field.
                None => return,
            }
        }
        if known.is_empty() || known.iter().any(|(_, fields)| fields.contains(&field)) {
            return;
        }
        let (key, fields) = &known[0];
        let right: Vec<String> = fields
            .iter()
            .map(|f| format!("value.{}", f.column()))
            .collect();
        out.push(Finding {
            rule: RULE,
            severity: Severity::Warning,
            message: format!(
                "parameter '{key}' keeps its value in {}, but the query reads value.{}, which is \
                 NULL for it on every row",
                right.join(" or "),
                field.column()
            ),
            position: position(expr),
        });
    };
    each_expr_at_level(&select.projection, &mut check);
    each_expr_at_level(selection, &mut check);
    if let Some(having) = &select.having {
        each_expr_at_level(having, &mut check);
    }
}

/// `column = 'text'` (either way round) or `column IN ('a', 'b')`: the column's path and the
/// strings.
fn equality(condition: &Expr) -> Option<(Vec<String>, Vec<String>)> {
    let text = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    match condition {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => match (path(left), text(right), path(right), text(left)) {
            (Some(column), Some(value), _, _) | (_, _, Some(column), Some(value)) => {
                Some((column, vec![value]))
            }
            _ => None,
        },
        Expr::InList {
            expr,
            list,
            negated: false,
        } => Some((path(expr)?, list.iter().map(text).collect::<Option<_>>()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{T, lint_sql, rules};
    use super::RULE;

    #[test]
    fn fires_on_the_wrong_value_field() {
        for sql in [
            format!(
                "SELECT (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'page_location') AS page \
                 FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
            format!(
                "SELECT COUNT(DISTINCT (SELECT ep.value.string_value FROM UNNEST(event_params) AS ep \
                 WHERE ep.key = 'ga_session_id')) AS sessions FROM {T} WHERE _TABLE_SUFFIX = '20201201'"
            ),
            format!(
                "SELECT p.value.double_value AS v FROM {T}, UNNEST(event_params) AS p \
                 WHERE _TABLE_SUFFIX = '20201201' AND p.key = 'engagement_time_msec' LIMIT 5"
            ),
        ] {
            assert!(rules(&sql).contains(&RULE), "{sql}");
        }
        let finding = lint_sql(&format!(
            "SELECT (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'page_title') AS t \
             FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
        ))
        .into_iter()
        .find(|f| f.rule == RULE)
        .unwrap();
        assert!(
            finding
                .message
                .contains("'page_title' keeps its value in value.string_value"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn quiet_on_the_right_field_unknown_keys_and_mixed_types() {
        for sql in [
            format!(
                "SELECT (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id') AS s \
                 FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
            format!(
                "SELECT (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'my_custom_flag') AS s \
                 FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
            // session_engaged is '1' in most rows and 1 in some: both fields are right.
            format!(
                "SELECT (SELECT COALESCE(value.string_value, CAST(value.int_value AS STRING)) \
                 FROM UNNEST(event_params) WHERE key = 'session_engaged') AS e \
                 FROM {T} WHERE _TABLE_SUFFIX = '20201201' LIMIT 5"
            ),
            format!(
                "SELECT p.value.string_value AS v FROM {T}, UNNEST(event_params) AS p \
                 WHERE _TABLE_SUFFIX = '20201201' AND p.key IN ('page_location', 'page_title') LIMIT 5"
            ),
        ] {
            assert!(!rules(&sql).contains(&RULE), "{sql}");
        }
    }
}
