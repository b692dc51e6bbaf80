//! UNNEST, BigQuery's way into repeated fields, in its two GA4 shapes:
//!
//! * the parameter lookup `(SELECT ep.value.int_value FROM UNNEST(event_params) AS ep
//!   WHERE ep.key = 'x')` becomes list functions, `list_filter(event_params, lambda ep:
//!   ep.key = 'x')[1].value.int_value`: the correlated subquery is 15-30x slower in DuckDB;
//! * `UNNEST(arr) AS a` in FROM becomes `UNNEST(arr) AS a(a)`, so `a` is both the row and the
//!   element, as in BigQuery; `WITH OFFSET` and unaliased UNNEST get a lateral subquery.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, Query, SelectItem, SetExpr, TableAlias, TableAliasColumnDef,
    TableFactor, VisitMut, VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use nlq_core::TableSchema;

use super::build::{call, element, lambda, number};
use crate::error::SqlError;

/// The element fields of an array the schema knows (`event_params` → key, value).
fn element_fields(array: &Expr, schema: &TableSchema) -> Option<Vec<String>> {
    let parts: Vec<&str> = match array {
        Expr::Identifier(i) => vec![i.value.as_str()],
        // `t.event_params`: a table-qualified column.
        Expr::CompoundIdentifier(ids) => ids.iter().map(|i| i.value.as_str()).collect(),
        _ => return None,
    };
    let lookup = |parts: &[&str]| {
        let (first, rest) = parts.split_first()?;
        schema
            .field(first)?
            .ty
            .at_path(rest)?
            .struct_fields()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| f.name.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
    };
    lookup(&parts).or_else(|| lookup(parts.get(1..)?))
}

/// `(SELECT e FROM UNNEST(arr) [AS a] [WHERE p] [LIMIT 1])` with no aggregate, as list
/// functions. BigQuery fails when such a subquery yields two rows; this takes the first, the
/// one behaviour where the two differ.
pub(crate) fn scalar_subquery(query: &Query, schema: &TableSchema) -> Option<Expr> {
    if query.with.is_some() || query.order_by.is_some() {
        return None;
    }
    if let Some(limit) = &query.limit_clause {
        match limit {
            sqlparser::ast::LimitClause::LimitOffset {
                limit: Some(n),
                offset: None,
                limit_by,
            } if limit_by.is_empty() && n.to_string() == "1" => {}
            _ => return None,
        }
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let projected = match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e)] | [SelectItem::ExprWithAlias { expr: e, .. }] => e,
        _ => return None,
    };
    let plain = select.distinct.is_none()
        && select.having.is_none()
        && select.qualify.is_none()
        && select.named_window.is_empty()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    if !plain {
        return None;
    }
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::UNNEST {
        alias,
        array_exprs,
        with_offset: false,
        with_ordinality: false,
        ..
    } = &from.relation
    else {
        return None;
    };
    let [array] = array_exprs.as_slice() else {
        return None;
    };
    if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) || has_aggregate(projected) {
        return None;
    }
    let mut projected = projected.clone();
    let mut predicate = select.selection.clone();
    let param = match alias {
        Some(alias) => alias.name.clone(),
        None => {
            // Unaliased: the element's fields are in scope as bare names.
            let fields = element_fields(array, schema)?;
            let param = Ident::new("__e");
            let mut qualify = QualifyFields {
                fields,
                param: param.clone(),
            };
            let _ = projected.visit(&mut qualify);
            if let Some(p) = predicate.as_mut() {
                let _ = p.visit(&mut qualify);
            }
            param
        }
    };
    let filtered = match predicate {
        Some(p) => call("list_filter", vec![array.clone(), lambda(param.clone(), p)]),
        None => array.clone(),
    };
    Some(match &projected {
        Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&param.value) => {
            element(filtered, number(1), vec![])
        }
        Expr::CompoundIdentifier(ids)
            if ids.len() > 1 && ids[0].value.eq_ignore_ascii_case(&param.value) =>
        {
            element(filtered, number(1), ids[1..].to_vec())
        }
        _ => element(
            call("list_transform", vec![filtered, lambda(param, projected)]),
            number(1),
            vec![],
        ),
    })
}

fn has_aggregate(expr: &Expr) -> bool {
    struct Find(bool);
    impl sqlparser::ast::Visitor for Find {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr
                && crate::functions::is_aggregate(&f.name)
            {
                self.0 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut find = Find(false);
    let _ = sqlparser::ast::Visit::visit(expr, &mut find);
    find.0
}

/// Turns bare element-field names (`key`, `value.int_value`) into `__e.key`, `__e.value...`.
struct QualifyFields {
    fields: Vec<String>,
    param: Ident,
}

impl VisitorMut for QualifyFields {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let is_field = |i: &Ident| self.fields.contains(&i.value.to_ascii_lowercase());
        match expr {
            Expr::Identifier(i) if is_field(i) => {
                *expr = Expr::CompoundIdentifier(vec![self.param.clone(), i.clone()]);
            }
            Expr::CompoundIdentifier(ids) if ids.first().is_some_and(is_field) => {
                ids.insert(0, self.param.clone());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites an UNNEST in FROM for DuckDB (see the module doc).
pub(crate) fn table_factor(
    factor: &mut TableFactor,
    schema: &TableSchema,
    next_id: &mut usize,
) -> Result<(), SqlError> {
    let position = crate::span_start(sqlparser::ast::Spanned::span(&*factor));
    let TableFactor::UNNEST {
        alias,
        array_exprs,
        with_offset,
        with_offset_alias,
        with_ordinality,
    } = factor
    else {
        return Ok(());
    };
    let [array] = array_exprs.as_slice() else {
        return Err(SqlError::Unsupported {
            construct: "UNNEST of several arrays at once".to_owned(),
            hint: Some("unnest one array per UNNEST".to_owned()),
            position,
        });
    };
    let array = array.clone();
    if *with_ordinality {
        return Err(SqlError::Unsupported {
            construct: "UNNEST ... WITH ORDINALITY".to_owned(),
            hint: Some("BigQuery writes WITH OFFSET".to_owned()),
            position,
        });
    }
    *next_id += 1;
    let name = match alias {
        Some(alias) if alias.columns.is_empty() => alias.name.clone(),
        Some(_) => {
            return Err(SqlError::Unsupported {
                construct: "column aliases on UNNEST".to_owned(),
                hint: None,
                position,
            });
        }
        None => Ident::new(format!("__unnest{next_id}")),
    };
    let quoted = |ident: &Ident| format!("\"{}\"", ident.value.replace('"', "\"\""));
    if *with_offset {
        let offset = with_offset_alias
            .clone()
            .unwrap_or_else(|| Ident::new("offset"));
        let template = format!(
            "SELECT __u.{n} AS {n}, __u.__ord - 1 AS {o} FROM UNNEST(__array) WITH ORDINALITY AS __u({n}, __ord)",
            n = quoted(&name),
            o = quoted(&offset),
        );
        *factor = lateral(&template, array, name)?;
    } else if alias.is_none()
        && (element_fields(&array, schema).is_some() || is_struct_literal_array(&array))
    {
        // Unaliased UNNEST of structs: the fields become columns, as BigQuery exposes them.
        let template = "SELECT UNNEST(__e) FROM (SELECT UNNEST(__array) AS __e)";
        *factor = lateral(template, array, name)?;
    } else {
        *alias = Some(TableAlias {
            explicit: true,
            name: name.clone(),
            columns: vec![TableAliasColumnDef {
                name,
                data_type: None,
            }],
            at: None,
        });
    }
    Ok(())
}

/// `[STRUCT(1 AS a), ...]` (already rewritten to DuckDB's `{'a': 1}`): an array whose fields
/// an unaliased UNNEST exposes as columns.
fn is_struct_literal_array(array: &Expr) -> bool {
    matches!(array, Expr::Array(a) if matches!(a.elem.first(), Some(Expr::Dictionary(_))))
}

/// A LATERAL derived table parsed from `template`, whose `__array` placeholder is replaced by
/// the user's array expression (templates are ours; only `array` comes from the query).
fn lateral(template: &str, array: Expr, name: Ident) -> Result<TableFactor, SqlError> {
    let alias = TableAlias {
        explicit: true,
        name,
        columns: vec![],
        at: None,
    };
    let mut query = Parser::new(&GenericDialect {})
        .try_with_sql(template)
        .and_then(|mut p| p.parse_query())
        .map_err(SqlError::from_parser)?;
    struct Fill(Option<Expr>);
    impl VisitorMut for Fill {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if matches!(expr, Expr::Identifier(i) if i.value == "__array")
                && let Some(array) = self.0.take()
            {
                *expr = array;
            }
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Fill(Some(array)));
    Ok(TableFactor::Derived {
        lateral: true,
        subquery: query,
        alias: Some(alias),
        sample: None,
    })
}

/// `x IN UNNEST(arr)` as DuckDB's `list_contains(arr, x)`.
pub(crate) fn in_unnest(expr: &Expr, array: &Expr, negated: bool) -> Expr {
    let contains = call("list_contains", vec![array.clone(), expr.clone()]);
    if negated {
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Not,
            expr: Box::new(contains),
        }
    } else {
        contains
    }
}
