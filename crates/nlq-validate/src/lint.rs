//! Lint: GA4 mistakes that make a query cost too much or answer something other than what it
//! says. Each rule is a module with its own tests; every finding names the rule, a severity, a
//! message that says what to do instead, and the position.
//!
//! Rules see the query one SELECT at a time (`check_select`), one expression at a time
//! (`check_expr`), or whole (`check_statement`). They only read the AST.

mod items_fanout;
mod no_limit;
mod param_value_type;
mod select_star;
mod suffix_out_of_range;
mod timestamp_micros;
mod unbounded_wildcard;
mod unnest_cross_join;

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Function, ObjectName, Query, Select, SetExpr, Spanned, Statement, TableFactor, Visit,
    Visitor,
};

use nlq_core::SqlPosition;

use crate::finding::Finding;
use crate::params::ParamCatalog;

/// Every rule's name. An analyst may `allow` any of them (its errors become warnings);
/// the guard's rules are not here and can never be allowed.
pub const RULES: &[&str] = &[
    items_fanout::RULE,
    no_limit::RULE,
    param_value_type::RULE,
    select_star::RULE,
    suffix_out_of_range::RULE,
    timestamp_micros::RULE,
    unbounded_wildcard::RULE,
    unnest_cross_join::RULE,
];

/// What the rules know beyond the SQL.
#[derive(Clone, Copy)]
pub struct LintContext<'a> {
    /// The dataset's tables, to tell which shards a `_TABLE_SUFFIX` range can reach; empty
    /// when unknown (range rules then stay quiet).
    pub tables: &'a [String],
    /// Today, `YYYY-MM-DD`: what `CURRENT_DATE()` means in `_TABLE_SUFFIX` bounds.
    pub today: &'a str,
    pub params: &'a dyn ParamCatalog,
}

/// Runs every rule over a statement that passed the guard.
pub fn lint(statement: &Statement, context: &LintContext<'_>) -> Vec<Finding> {
    let mut linter = Linter {
        context,
        findings: Vec::new(),
    };
    let _ = statement.visit(&mut linter);
    if let Statement::Query(query) = statement {
        no_limit::check_statement(query, &mut linter.findings);
    }
    let mut findings = linter.findings;
    findings.sort_by_key(|f| f.position.map(|p| (p.line, p.column)));
    findings.dedup();
    findings
}

struct Linter<'a> {
    context: &'a LintContext<'a>,
    findings: Vec<Finding>,
}

impl Visitor for Linter<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let mut selects = Vec::new();
        selects_of(&query.body, &mut selects);
        for select in selects {
            let out = &mut self.findings;
            select_star::check_select(select, out);
            unbounded_wildcard::check_select(select, self.context, out);
            suffix_out_of_range::check_select(select, self.context, out);
            items_fanout::check_select(select, out);
            unnest_cross_join::check_select(select, out);
            param_value_type::check_select(select, self.context, out);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        timestamp_micros::check_expr(expr, &mut self.findings);
        ControlFlow::Continue(())
    }
}

/// The SELECTs of a query body, through set operations; nested queries are visited on their own.
fn selects_of<'q>(body: &'q SetExpr, out: &mut Vec<&'q Select>) {
    match body {
        SetExpr::Select(select) => out.push(select),
        SetExpr::SetOperation { left, right, .. } => {
            selects_of(left, out);
            selects_of(right, out);
        }
        _ => {}
    }
}

fn position(node: &impl Spanned) -> Option<SqlPosition> {
    nlq_sql::span_start(node.span())
}

/// Every table factor in a SELECT's FROM, joins included (not those of subqueries).
fn from_factors(select: &Select) -> impl Iterator<Item = &TableFactor> {
    select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
}

/// A wildcard table in FROM: `project.dataset.events_*`.
pub(crate) struct Wildcard<'s> {
    pub(crate) name: &'s ObjectName,
    pub(crate) alias: Option<&'s str>,
    /// The table name before the `*`: `events_`.
    pub(crate) prefix: String,
}

pub(crate) fn wildcards(select: &Select) -> Vec<Wildcard<'_>> {
    from_factors(select)
        .filter_map(|factor| match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let parts = nlq_sql::name_parts(name);
                let prefix = parts.last()?.strip_suffix('*')?.to_owned();
                Some(Wildcard {
                    name,
                    alias: alias.as_ref().map(|a| a.name.value.as_str()),
                    prefix,
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether the table's last name part is an events table (`events_*`, `events_20201101`,
/// `events_intraday_*`).
fn is_events_table(name: &ObjectName) -> bool {
    nlq_sql::name_parts(name)
        .last()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("events_"))
}

/// The dotted names of an identifier expression, lower-cased: `e.ecommerce.purchase_revenue`
/// → `["e", "ecommerce", "purchase_revenue"]`.
fn path(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Identifier(ident) => Some(vec![ident.value.to_ascii_lowercase()]),
        Expr::CompoundIdentifier(idents) => Some(
            idents
                .iter()
                .map(|i| i.value.to_ascii_lowercase())
                .collect(),
        ),
        Expr::Nested(inner) => path(inner),
        _ => None,
    }
}

/// An aggregate call (not a window function).
pub(crate) fn is_aggregate(function: &Function) -> bool {
    function.over.is_none() && nlq_sql::functions::is_aggregate(&function.name)
}

/// Calls `f` on every expression inside `node` that belongs to this query level: subqueries
/// are skipped, since the visitor reaches them as queries of their own.
pub(crate) fn each_expr_at_level(node: &impl Visit, mut f: impl FnMut(&Expr)) {
    struct Level<F> {
        depth: usize,
        f: F,
    }
    impl<F: FnMut(&Expr)> Visitor for Level<F> {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if self.depth == 0 {
                (self.f)(expr);
            }
            ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Level {
        depth: 0,
        f: &mut f,
    });
}

/// The shards of the dataset a wildcard with this prefix can read, as suffixes, sorted.
fn suffixes<'t>(tables: &'t [String], prefix: &str) -> Vec<&'t str> {
    let mut out: Vec<&str> = tables
        .iter()
        .filter(|t| {
            t.len() >= prefix.len()
                && t.is_char_boundary(prefix.len())
                && t[..prefix.len()].eq_ignore_ascii_case(prefix)
        })
        .map(|t| &t[prefix.len()..])
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod test_support {
    use super::*;
    use crate::params::StandardParams;

    pub(super) const T: &str = "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";

    /// The rules' findings for `sql` over a dataset of December 2020's shards, today 2021-01-01.
    pub(super) fn lint_sql(sql: &str) -> Vec<Finding> {
        let tables: Vec<String> = (1..=31).map(|d| format!("events_202012{d:02}")).collect();
        let statement = nlq_sql::parse_query(sql).expect("test SQL parses");
        lint(
            &statement,
            &LintContext {
                tables: &tables,
                today: "2021-01-01",
                params: &StandardParams,
            },
        )
    }

    /// The rules that fired, by name.
    pub(super) fn rules(sql: &str) -> Vec<&'static str> {
        lint_sql(sql).into_iter().map(|f| f.rule).collect()
    }
}
