//! Filters on the event row run before its arrays are unnested. GA4 SQL writes
//! `FROM events_*, UNNEST(items) AS item WHERE event_name = 'purchase'`; DuckDB unnests every
//! event's items and filters afterwards, several times slower than filtering the events
//! first. Each WHERE conjunct that reads only the event row moves into a derived table around
//! it: `FROM (SELECT * FROM events_* WHERE event_name = 'purchase') AS "events_*", UNNEST(...)`.
//! The rows are the same: the conjunct keeps or drops an event row whichever side of the
//! unnest it runs (inner, cross and left joins alike).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, JoinOperator, Query, Select, SelectItem, SetExpr, TableAlias,
    TableFactor, TableWithJoins, Visit, Visitor, VisitorMut,
};

pub(crate) struct Pushdown;

impl VisitorMut for Pushdown {
    type Break = ();

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        push_below_unnest(select);
        ControlFlow::Continue(())
    }
}

fn push_below_unnest(select: &mut Select) {
    let Some(selection) = select.selection.take() else {
        return;
    };
    let Some(unnested) = unnested_names(select) else {
        select.selection = Some(selection);
        return;
    };
    let (pushed, kept): (Vec<Expr>, Vec<Expr>) = crate::tables::and_conditions(&selection)
        .into_iter()
        .cloned()
        .partition(|c| !mentions(c, &unnested));
    select.selection = and_all(kept);
    let Some(pushed) = and_all(pushed) else {
        return;
    };
    let base = &mut select.from[0].relation;
    let (Some(name), Some(mut query)) = (outer_name(base), super::build::select_star()) else {
        // Cannot happen (unnested_names checked the name; the template parses): keep the
        // filter where it was.
        let kept = select.selection.take();
        select.selection = and_all([Some(pushed), kept].into_iter().flatten().collect());
        return;
    };
    if let SetExpr::Select(inner) = query.body.as_mut() {
        inner.from = vec![TableWithJoins {
            relation: base.clone(),
            joins: vec![],
        }];
        inner.selection = Some(pushed);
    }
    *base = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(query),
        alias: Some(TableAlias {
            explicit: true,
            name,
            columns: vec![],
            at: None,
        }),
        sample: None,
    };
}

/// When the FROM is one event relation followed only by unnests of it: the names the unnests
/// bring into scope (lower-cased), which a pushed conjunct must not mention.
fn unnested_names(select: &Select) -> Option<BTreeSet<String>> {
    let (first, rest) = select.from.split_first()?;
    outer_name(&first.relation)?;
    let mut names = BTreeSet::new();
    let joined = first
        .joins
        .iter()
        .map(|j| (Some(&j.join_operator), &j.relation))
        .chain(rest.iter().flat_map(|t: &TableWithJoins| {
            std::iter::once((None, &t.relation)).chain(
                t.joins
                    .iter()
                    .map(|j| (Some(&j.join_operator), &j.relation)),
            )
        }));
    let mut any = false;
    for (operator, relation) in joined {
        any = true;
        let keeps_left_rows = match operator {
            None => true,
            Some(op) => matches!(
                op,
                JoinOperator::CrossJoin(_)
                    | JoinOperator::Join(_)
                    | JoinOperator::Inner(_)
                    | JoinOperator::Left(_)
                    | JoinOperator::LeftOuter(_)
            ),
        };
        if !keeps_left_rows {
            return None;
        }
        match relation {
            TableFactor::UNNEST {
                alias: Some(alias), ..
            } => {
                names.insert(alias.name.value.to_ascii_lowercase());
                names.extend(
                    alias
                        .columns
                        .iter()
                        .map(|c| c.name.value.to_ascii_lowercase()),
                );
            }
            // `WITH OFFSET`: a lateral subquery whose outputs are all named.
            TableFactor::Derived {
                lateral: true,
                subquery,
                alias: Some(alias),
                ..
            } => {
                names.insert(alias.name.value.to_ascii_lowercase());
                names.extend(output_names(subquery)?);
            }
            _ => return None,
        }
    }
    any.then_some(names)
}

/// The output column names of a SELECT whose outputs are all named.
fn output_names(query: &Query) -> Option<Vec<String>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The name the rest of the query reads the relation by: its alias, or a table's own name.
fn outer_name(relation: &TableFactor) -> Option<Ident> {
    match relation {
        TableFactor::Table {
            alias: Some(alias), ..
        }
        | TableFactor::Derived {
            lateral: false,
            alias: Some(alias),
            ..
        } if alias.columns.is_empty() => Some(alias.name.clone()),
        TableFactor::Table {
            name, alias: None, ..
        } => match name.0.as_slice() {
            [sqlparser::ast::ObjectNamePart::Identifier(ident)] => Some(ident.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The conditions AND-ed again. An OR among them gets its parentheses back: the AST prints a
/// binary operator without them.
fn and_all(exprs: Vec<Expr>) -> Option<Expr> {
    exprs
        .into_iter()
        .map(|e| match e {
            Expr::BinaryOp {
                op: BinaryOperator::Or | BinaryOperator::Xor,
                ..
            } => Expr::Nested(Box::new(e)),
            other => other,
        })
        .reduce(|left, right| Expr::BinaryOp {
            left: Box::new(left),
            op: BinaryOperator::And,
            right: Box::new(right),
        })
}

/// Whether the expression names any of `names` as a column or a qualifier, at any depth
/// (subqueries included: a correlated reference to an unnested element cannot move).
fn mentions(expr: &Expr, names: &BTreeSet<String>) -> bool {
    struct Find<'a>(&'a BTreeSet<String>);
    impl Visitor for Find<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            let named = match expr {
                Expr::Identifier(ident) => Some(ident),
                Expr::CompoundIdentifier(ids) => ids.first(),
                _ => None,
            };
            match named {
                Some(ident) if self.0.contains(&ident.value.to_ascii_lowercase()) => {
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            }
        }
    }
    expr.visit(&mut Find(names)).is_break()
}
