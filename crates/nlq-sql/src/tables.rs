//! Table names: which physical shards a name means, and how many of a wildcard's shards the
//! query's constant `_TABLE_SUFFIX` bounds let through.

use std::cmp::Ordering;
use std::ops::{Bound, ControlFlow, RangeBounds};

use sqlparser::ast::{
    BinaryOperator, Expr, ObjectName, ObjectNamePart, TableFactor, Visit, Visitor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::catalog::Catalog;
use crate::error::SqlError;
use crate::fold;

/// What a table name in FROM refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableRef {
    /// One physical table of the dataset.
    Shard(String),
    /// `events_*` or `events_2020*`: every table with the prefix; `_TABLE_SUFFIX` is the rest.
    Wildcard { prefix: String },
    /// A single-part name that is not a dataset table: a CTE (the engine checks it exists).
    Local,
}

/// The dotted parts of a name, however it was quoted: `` `a.b.c` `` and `a.b.c` alike.
pub fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .flat_map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident
                .value
                .split('.')
                .map(str::to_owned)
                .collect::<Vec<_>>(),
            other => vec![other.to_string()],
        })
        .collect()
}

pub(crate) fn resolve(
    name: &ObjectName,
    catalog: &Catalog,
    ctes: &[String],
) -> Result<TableRef, SqlError> {
    // Shards named inside a wildcard's union are double-quoted, which BigQuery SQL cannot
    // write: they are the rewrite's own, already resolved and counted.
    if let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
        && ident.quote_style == Some('"')
    {
        return Ok(TableRef::Local);
    }
    let parts = name_parts(name);
    let position = crate::span_start(sqlparser::ast::Spanned::span(name));
    let unknown = |hint: String| SqlError::UnknownTable {
        name: parts.join("."),
        hint,
        position,
    };
    let (qualifiers, table) = match parts.split_last() {
        Some((table, qualifiers)) => (qualifiers, table.as_str()),
        None => return Err(unknown("empty table name".to_owned())),
    };
    let dataset_hint = || {
        format!(
            "the dataset here is `{}.{}`; query its tables as `{}.{}.events_*`",
            catalog.project, catalog.dataset, catalog.project, catalog.dataset
        )
    };
    match qualifiers {
        [] => {
            if ctes.iter().any(|c| c.eq_ignore_ascii_case(table)) {
                return Ok(TableRef::Local);
            }
        }
        [dataset] if dataset.eq_ignore_ascii_case(&catalog.dataset) => {}
        [project, dataset]
            if project.eq_ignore_ascii_case(&catalog.project)
                && dataset.eq_ignore_ascii_case(&catalog.dataset) => {}
        _ => return Err(unknown(dataset_hint())),
    }
    if let Some(prefix) = table.strip_suffix('*') {
        if catalog
            .tables
            .iter()
            .any(|t| starts_with_ignore_case(t, prefix))
        {
            return Ok(TableRef::Wildcard {
                prefix: prefix.to_owned(),
            });
        }
        return Err(unknown(format!(
            "no table matches the prefix `{prefix}`; {}",
            range_hint(catalog)
        )));
    }
    match catalog
        .tables
        .iter()
        .find(|t| t.eq_ignore_ascii_case(table))
    {
        Some(shard) => Ok(TableRef::Shard(shard.clone())),
        None => Err(unknown(range_hint(catalog))),
    }
}

fn range_hint(catalog: &Catalog) -> String {
    match (catalog.tables.first(), catalog.tables.last()) {
        (Some(first), Some(last)) => format!(
            "the dataset has {} tables, {first} .. {last}; use `events_*` with a `_TABLE_SUFFIX` range",
            catalog.tables.len()
        ),
        _ => "the dataset has no tables yet".to_owned(),
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The shards of a wildcard whose suffix passes every constant `_TABLE_SUFFIX` bound among
/// the top-level AND-ed conditions of `selection`. Bounds that are not constant are left to the
/// engine (the condition stays in the query, so pruning here never changes the answer).
pub(crate) fn prune<'a>(
    catalog: &'a Catalog,
    prefix: &str,
    alias: Option<&str>,
    selection: Option<&Expr>,
) -> Vec<(&'a str, &'a str)> {
    let mut conditions = Vec::new();
    if let Some(expr) = selection {
        conjuncts(expr, &mut conditions);
    }
    catalog
        .tables
        .iter()
        .filter(|t| starts_with_ignore_case(t, prefix))
        .map(|t| (t.as_str(), &t[prefix.len()..]))
        .filter(|(_, suffix)| {
            conditions
                .iter()
                .all(|c| admits(c, suffix, alias, &catalog.current_date))
        })
        .collect()
}

/// The top-level AND-ed conditions of a WHERE clause.
pub fn and_conditions(expr: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    conjuncts(expr, &mut out);
    out
}

fn conjuncts<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) => conjuncts(inner, out),
        other => out.push(other),
    }
}

fn is_suffix(expr: &Expr, alias: Option<&str>) -> bool {
    match expr {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case("_TABLE_SUFFIX"),
        Expr::CompoundIdentifier(idents) => match idents.as_slice() {
            [table, column] => {
                column.value.eq_ignore_ascii_case("_TABLE_SUFFIX")
                    && alias.is_some_and(|a| a.eq_ignore_ascii_case(&table.value))
            }
            _ => false,
        },
        Expr::Nested(inner) => is_suffix(inner, alias),
        _ => false,
    }
}

/// Whether a condition can be true for a shard with this suffix. Conditions it cannot
/// evaluate admit every shard.
fn admits(condition: &Expr, suffix: &str, alias: Option<&str>, today: &str) -> bool {
    let constant = |e: &Expr| fold::const_string(e, today);
    match condition {
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } if is_suffix(expr, alias) => match (constant(low), constant(high)) {
            (Some(low), Some(high)) => low.as_str() <= suffix && suffix <= high.as_str(),
            _ => true,
        },
        Expr::InList {
            expr,
            list,
            negated: false,
        } if is_suffix(expr, alias) => {
            let values: Option<Vec<String>> = list.iter().map(constant).collect();
            values.is_none_or(|values| values.iter().any(|v| v == suffix))
        }
        Expr::BinaryOp { left, op, right } => {
            let (op, value) = if is_suffix(left, alias) {
                (op.clone(), constant(right))
            } else if is_suffix(right, alias) {
                (flip(op), constant(left))
            } else {
                return true;
            };
            let Some(value) = value else { return true };
            let value = value.as_str();
            match op {
                BinaryOperator::Eq => suffix == value,
                BinaryOperator::Lt => suffix < value,
                BinaryOperator::LtEq => suffix <= value,
                BinaryOperator::Gt => suffix > value,
                BinaryOperator::GtEq => suffix >= value,
                _ => true,
            }
        }
        _ => true,
    }
}

fn flip(op: &BinaryOperator) -> BinaryOperator {
    match op {
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        other => other.clone(),
    }
}

/// The derived table that stands for a wildcard: the kept shards, each with its suffix as
/// the `_TABLE_SUFFIX` column, glued by UNION ALL.
pub(crate) fn wildcard_union(
    shards: &[(&str, &str)],
    any_shard: &str,
    alias: sqlparser::ast::TableAlias,
) -> Result<TableFactor, SqlError> {
    let body = if shards.is_empty() {
        // No shard in range: an empty result with the right columns, as BigQuery answers.
        format!("SELECT *, CAST(NULL AS VARCHAR) AS _TABLE_SUFFIX FROM \"{any_shard}\" WHERE FALSE")
    } else {
        balanced_union(shards)
    };
    // Shard names come from the catalog (letters, digits, `_`), never from the user's SQL.
    let sql = format!("SELECT * FROM ({body}) AS t");
    let parsed = Parser::parse_sql(&GenericDialect {}, &sql).map_err(SqlError::from_parser)?;
    let factor = parsed
        .into_iter()
        .next()
        .and_then(|statement| match statement {
            sqlparser::ast::Statement::Query(query) => match *query.body {
                sqlparser::ast::SetExpr::Select(select) => {
                    select.from.into_iter().next().map(|from| from.relation)
                }
                _ => None,
            },
            _ => None,
        });
    match factor {
        Some(TableFactor::Derived {
            lateral, subquery, ..
        }) => Ok(TableFactor::Derived {
            lateral,
            subquery,
            alias: Some(alias),
            sample: None,
        }),
        _ => Err(SqlError::Unsupported {
            construct: "wildcard table expansion".to_owned(),
            hint: Some("internal: the shard union did not parse".to_owned()),
            position: None,
        }),
    }
}

/// The shards' UNION ALL as a balanced tree of parenthesized halves: a chain of 92 shards
/// (three months) nests 92 deep, and every later walk of the tree recursed that deep — enough
/// to overflow a 2 MiB thread stack (a test thread, a server worker) in a debug build.
fn balanced_union(shards: &[(&str, &str)]) -> String {
    match shards {
        [(table, suffix)] => format!("SELECT *, '{suffix}' AS _TABLE_SUFFIX FROM \"{table}\""),
        _ => {
            let (left, right) = shards.split_at(shards.len() / 2);
            let side = |half: &[(&str, &str)]| match half {
                [_] => balanced_union(half),
                _ => format!("({})", balanced_union(half)),
            };
            format!("{} UNION ALL {}", side(left), side(right))
        }
    }
}

/// What a WHERE clause says about one wildcard table's `_TABLE_SUFFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuffixBounds {
    /// Some condition anywhere in the clause mentions `_TABLE_SUFFIX`, constant or not.
    pub mentioned: bool,
    /// The tightest bounds of the constant conditions among the top-level AND-ed ones.
    pub low: Bound<String>,
    pub high: Bound<String>,
}

impl SuffixBounds {
    /// Whether a suffix passes both bounds.
    pub fn admits(&self, suffix: &str) -> bool {
        (
            self.low.as_ref().map(String::as_str),
            self.high.as_ref().map(String::as_str),
        )
            .contains(suffix)
    }
}

/// The `_TABLE_SUFFIX` bounds of `selection` for the wildcard table named `alias` (or unaliased).
/// `today` (`YYYY-MM-DD`) folds `CURRENT_DATE()`.
pub fn suffix_bounds(selection: Option<&Expr>, alias: Option<&str>, today: &str) -> SuffixBounds {
    let mut bounds = SuffixBounds {
        mentioned: selection.is_some_and(|e| mentions_suffix(e, alias)),
        low: Bound::Unbounded,
        high: Bound::Unbounded,
    };
    let mut conditions = Vec::new();
    if let Some(expr) = selection {
        conjuncts(expr, &mut conditions);
    }
    let constant = |e: &Expr| fold::const_string(e, today);
    for condition in conditions {
        let (low, high) = match condition {
            Expr::Between {
                expr,
                negated: false,
                low,
                high,
            } if is_suffix(expr, alias) => (
                constant(low).map_or(Bound::Unbounded, Bound::Included),
                constant(high).map_or(Bound::Unbounded, Bound::Included),
            ),
            Expr::InList {
                expr,
                list,
                negated: false,
            } if is_suffix(expr, alias) => {
                let values: Option<Vec<String>> = list.iter().map(constant).collect();
                match values {
                    Some(values) => (
                        values
                            .iter()
                            .min()
                            .cloned()
                            .map_or(Bound::Unbounded, Bound::Included),
                        values
                            .iter()
                            .max()
                            .cloned()
                            .map_or(Bound::Unbounded, Bound::Included),
                    ),
                    None => continue,
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let (op, value) = if is_suffix(left, alias) {
                    (op.clone(), constant(right))
                } else if is_suffix(right, alias) {
                    (flip(op), constant(left))
                } else {
                    continue;
                };
                let Some(value) = value else { continue };
                match op {
                    BinaryOperator::Eq => (Bound::Included(value.clone()), Bound::Included(value)),
                    BinaryOperator::Lt => (Bound::Unbounded, Bound::Excluded(value)),
                    BinaryOperator::LtEq => (Bound::Unbounded, Bound::Included(value)),
                    BinaryOperator::Gt => (Bound::Excluded(value), Bound::Unbounded),
                    BinaryOperator::GtEq => (Bound::Included(value), Bound::Unbounded),
                    _ => continue,
                }
            }
            _ => continue,
        };
        bounds.low = tighter(bounds.low, low, Ordering::Greater);
        bounds.high = tighter(bounds.high, high, Ordering::Less);
    }
    bounds
}

/// Of two bounds on the same side, the one that admits less: `wins` is the ordering of a
/// value that tightens (greater for a low bound, less for a high one).
fn tighter(a: Bound<String>, b: Bound<String>, wins: Ordering) -> Bound<String> {
    match (a, b) {
        (Bound::Unbounded, other) | (other, Bound::Unbounded) => other,
        (a, b) => {
            let (Bound::Included(x) | Bound::Excluded(x)) = &a else {
                return b;
            };
            let (Bound::Included(y) | Bound::Excluded(y)) = &b else {
                return a;
            };
            match y.cmp(x) {
                Ordering::Equal if matches!(b, Bound::Excluded(_)) => b,
                Ordering::Equal => a,
                order if order == wins => b,
                _ => a,
            }
        }
    }
}

fn mentions_suffix(expr: &Expr, alias: Option<&str>) -> bool {
    struct Finder<'a>(Option<&'a str>);
    impl Visitor for Finder<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if is_suffix(expr, self.0) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    expr.visit(&mut Finder(alias)).is_break()
}

/// Narrows every constant `_TABLE_SUFFIX BETWEEN low AND high` to its last day (`low := high`),
/// for a canary run that reads one shard instead of the whole range. Returns the days the
/// ranges now end on; empty when there was nothing to narrow.
pub fn narrow_to_last_day(statement: &mut sqlparser::ast::Statement, today: &str) -> Vec<String> {
    struct Narrow<'a> {
        today: &'a str,
        days: Vec<String>,
    }
    impl sqlparser::ast::VisitorMut for Narrow<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Between {
                expr: column,
                negated: false,
                low,
                high,
            } = expr
                && names_a_suffix(column)
                && let (Some(first), Some(last)) = (
                    fold::const_string(low, self.today),
                    fold::const_string(high, self.today),
                )
                && first < last
            {
                **low = Expr::value(sqlparser::ast::Value::SingleQuotedString(last.clone()));
                **high = Expr::value(sqlparser::ast::Value::SingleQuotedString(last.clone()));
                self.days.push(last);
            }
            ControlFlow::Continue(())
        }
    }
    let mut narrow = Narrow {
        today,
        days: Vec::new(),
    };
    let _ = sqlparser::ast::VisitMut::visit(statement, &mut narrow);
    narrow.days
}

/// `sql` reading `to`'s tables wherever it reads `from`'s: each table name qualified by `from`
/// (`project.dataset`, however quoted) is renamed to the same table of `to`, written
/// `` `project.dataset.table` ``. The query comes back as one line.
pub fn retarget(sql: &str, from: (&str, &str), to: (&str, &str)) -> Result<String, SqlError> {
    let mut statement = crate::parse_query(sql)?;
    let _ = sqlparser::ast::visit_relations_mut(&mut statement, |name: &mut ObjectName| {
        if let [project, dataset, table] = name_parts(name).as_slice()
            && (project.as_str(), dataset.as_str()) == from
        {
            *name = ObjectName::from(vec![sqlparser::ast::Ident::with_quote(
                '`',
                format!("{}.{}.{table}", to.0, to.1),
            )]);
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(statement.to_string())
}

/// `_TABLE_SUFFIX` however qualified.
fn names_a_suffix(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case("_TABLE_SUFFIX"),
        Expr::CompoundIdentifier(idents) => idents
            .last()
            .is_some_and(|i| i.value.eq_ignore_ascii_case("_TABLE_SUFFIX")),
        Expr::Nested(inner) => names_a_suffix(inner),
        _ => false,
    }
}
