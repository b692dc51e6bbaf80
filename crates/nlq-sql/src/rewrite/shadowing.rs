//! BigQuery's name resolution where DuckDB's differs: an UNNEST alias that is also a column
//! name. Public GA4 SQL writes `FROM events_*, UNNEST(items) AS items` and then `items.price`;
//! BigQuery resolves `items` to the innermost range variable (the element), DuckDB sees both
//! the table's column and the alias and refuses the name as ambiguous. Such an alias gets a
//! fresh name, and so does every reference BigQuery would resolve to it: the rest of its
//! SELECT, the query's ORDER BY, and correlated subqueries that do not bring a `items` of their
//! own into scope.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, VisitMut, Visitor,
    VisitorMut,
};

use nlq_core::TableSchema;

/// Renames every UNNEST alias in FROM that a column of the same name could shadow.
pub(crate) fn rename_shadowing_aliases(statement: &mut Statement, schema: &TableSchema) {
    let mut columns: BTreeSet<String> = schema
        .fields
        .iter()
        .map(|f| f.name.to_ascii_lowercase())
        .collect();
    // CTEs and derived tables define columns too: any name a SELECT gives its outputs.
    let _ = sqlparser::ast::Visit::visit(&*statement, &mut OutputNames(&mut columns));
    let mut pass = Pass {
        columns,
        renamed: 0,
    };
    let _ = statement.visit(&mut pass);
}

/// The column names of CTEs and derived tables: a query reading them sees those columns.
struct OutputNames<'a>(&'a mut BTreeSet<String>);

impl OutputNames<'_> {
    fn outputs(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => {
                for item in &select.projection {
                    let name = match item {
                        SelectItem::ExprWithAlias { alias, .. } => Some(alias),
                        SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i),
                        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(ids)) => ids.last(),
                        _ => None,
                    };
                    if let Some(name) = name {
                        self.0.insert(name.value.to_ascii_lowercase());
                    }
                }
            }
            // A set operation's columns are named by its first branch.
            SetExpr::SetOperation { left, .. } => self.outputs(left),
            SetExpr::Query(query) => self.outputs(&query.body),
            _ => {}
        }
    }
}

impl Visitor for OutputNames<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
            self.outputs(&cte.query.body);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Derived { subquery, .. } = factor {
            self.outputs(&subquery.body);
        }
        ControlFlow::Continue(())
    }
}

struct Pass {
    columns: BTreeSet<String>,
    renamed: usize,
}

impl VisitorMut for Pass {
    type Break = ();

    // Outer queries first: their renames reach into correlated subqueries before those are
    // processed themselves.
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let factors = super::factors(select).count();
        for index in 0..factors {
            let Some(TableFactor::UNNEST {
                alias: Some(alias), ..
            }) = super::factors_mut(select).nth(index)
            else {
                continue;
            };
            if !alias.columns.is_empty()
                || !self
                    .columns
                    .contains(&alias.name.value.to_ascii_lowercase())
            {
                continue;
            }
            self.renamed += 1;
            let old = alias.name.value.clone();
            let new = Ident::new(format!("__{}_{}", old.to_ascii_lowercase(), self.renamed));
            alias.name = new.clone();
            let mut rename = Rename {
                old: &old,
                new: &new,
                shadowed: 0,
            };
            rename.select(select, index);
            if let Some(order_by) = &mut query.order_by {
                let _ = order_by.visit(&mut rename);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Renames references to one alias, except where a nested query brings its own name into scope.
struct Rename<'a> {
    old: &'a str,
    new: &'a Ident,
    /// How many enclosing nested queries shadow the name.
    shadowed: usize,
}

impl Rename<'_> {
    fn is_old(&self, ident: &Ident) -> bool {
        ident.value.eq_ignore_ascii_case(self.old)
    }

    /// Everything in `select` that sees the alias defined by its factor number `defined`: the
    /// factors after it (and their join conditions), and every clause.
    fn select(&mut self, select: &mut Select, defined: usize) {
        let mut index = 0;
        for table in &mut select.from {
            if index > defined {
                let _ = table.relation.visit(self);
            }
            index += 1;
            for join in &mut table.joins {
                if index > defined {
                    let _ = join.relation.visit(self);
                }
                if index >= defined {
                    // A join condition sees the factors on both sides of its join.
                    self.join_constraint(&mut join.join_operator);
                }
                index += 1;
            }
        }
        for item in &mut select.projection {
            match item {
                // `SELECT items` names its column `items`, as before the rename.
                SelectItem::UnnamedExpr(Expr::Identifier(ident)) if self.is_old(ident) => {
                    let alias = ident.clone();
                    *item = SelectItem::ExprWithAlias {
                        expr: Expr::Identifier(self.new.clone()),
                        alias,
                    };
                }
                SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                    let _ = expr.visit(self);
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    if let [ObjectNamePart::Identifier(ident)] = name.0.as_mut_slice()
                        && ident.value.eq_ignore_ascii_case(self.old)
                    {
                        *ident = self.new.clone();
                    }
                }
                _ => {}
            }
        }
        let _ = select.selection.visit(self);
        let _ = select.group_by.visit(self);
        let _ = select.having.visit(self);
        let _ = select.qualify.visit(self);
        let _ = select.named_window.visit(self);
    }

    fn join_constraint(&mut self, operator: &mut JoinOperator) {
        let constraint = match operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c) => c,
            _ => return,
        };
        if let JoinConstraint::On(expr) = constraint {
            let _ = expr.visit(self);
        }
    }
}

impl VisitorMut for Rename<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if brings_name(query, self.old) {
            self.shadowed += 1;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if brings_name(query, self.old) {
            self.shadowed -= 1;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if self.shadowed > 0 {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::Identifier(ident) if self.is_old(ident) => *ident = self.new.clone(),
            Expr::CompoundIdentifier(ids) if ids.len() > 1 && self.is_old(&ids[0]) => {
                ids[0] = self.new.clone();
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Whether a nested query's FROM puts `name` in scope itself: an alias of that name, or a
/// table whose columns may include it (a dataset table or a CTE).
fn brings_name(query: &Query, name: &str) -> bool {
    let SetExpr::Select(select) = query.body.as_ref() else {
        // A set operation's branches are queries of their own; each is checked when reached.
        return false;
    };
    super::factors(select).any(|factor| match factor {
        TableFactor::Table { .. } | TableFactor::Derived { .. } => true,
        TableFactor::UNNEST { alias, .. } => alias
            .as_ref()
            .is_some_and(|a| a.name.value.eq_ignore_ascii_case(name)),
        _ => true,
    })
}
