//! The BigQuery → DuckDB rewrite, one AST walk:
//!
//! * queries (pre): resolve table names; wildcards become a UNION ALL of the kept shards;
//! * expressions (pre): parameter subqueries to list functions, array subscripts, date parts;
//! * expressions (post, bottom-up): functions, casts, literals, EXTRACT, `IN UNNEST`;
//! * table factors (post): UNNEST aliases; identifiers: backticks to double quotes;
//! * selects (post): `* EXCEPT` to DuckDB's `* EXCLUDE`.

mod build;
mod functions;
mod pushdown;
mod shadowing;
mod unnest;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    AccessExpr, CastKind, DataType, ExactNumberInfo, ExcludeSelectItem, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, Ident, ObjectName, Query, Select, SelectItem, SetExpr,
    Spanned, Statement, Subscript, TableFactor, Value, VisitorMut,
};

use crate::catalog::Catalog;
use crate::error::SqlError;
use crate::tables::{self, TableRef};

pub(crate) use pushdown::Pushdown;
pub(crate) use shadowing::rename_shadowing_aliases;

pub(crate) struct ToDuckDb<'a> {
    catalog: &'a Catalog,
    ctes: Vec<String>,
    next_id: usize,
    pub(crate) tables_read: BTreeSet<String>,
}

type Flow = ControlFlow<Box<SqlError>>;

fn fail(err: SqlError) -> Flow {
    ControlFlow::Break(Box::new(err))
}

impl<'a> ToDuckDb<'a> {
    pub(crate) fn new(catalog: &'a Catalog) -> Self {
        ToDuckDb {
            catalog,
            ctes: Vec::new(),
            next_id: 0,
            tables_read: BTreeSet::new(),
        }
    }

    fn context(&self, expr: &Expr) -> functions::Context<'a> {
        functions::Context {
            current_date: &self.catalog.current_date,
            position: crate::span_start(expr.span()),
        }
    }

    /// Resolves the table names in one SELECT's FROM, pruning wildcards by its WHERE.
    fn select_tables(&mut self, select: &mut Select) -> Result<(), SqlError> {
        let selection = select.selection.clone();
        for factor in factors_mut(select) {
            self.table(factor, selection.as_ref())?;
        }
        Ok(())
    }

    fn table(
        &mut self,
        factor: &mut TableFactor,
        selection: Option<&Expr>,
    ) -> Result<(), SqlError> {
        let TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            sample,
            ..
        } = factor
        else {
            return Ok(());
        };
        if sample.is_some() {
            return Err(SqlError::Unsupported {
                construct: "TABLESAMPLE".to_owned(),
                hint: Some(
                    "a sample answers differently on every run, and the embedded data is already a sample: drop TABLESAMPLE"
                        .to_owned(),
                ),
                position: crate::span_start(name.span()),
            });
        }
        if args.is_some() {
            return Err(SqlError::Unsupported {
                construct: format!("table function `{name}`"),
                hint: Some("only the dataset's tables can be read".to_owned()),
                position: crate::span_start(name.span()),
            });
        }
        if !with_hints.is_empty() {
            return Err(SqlError::Unsupported {
                construct: "table hints".to_owned(),
                hint: None,
                position: crate::span_start(name.span()),
            });
        }
        match tables::resolve(name, self.catalog, &self.ctes)? {
            TableRef::Local => {}
            TableRef::Shard(shard) => {
                *name = ObjectName::from(vec![Ident::new(shard.clone())]);
                self.tables_read.insert(shard);
            }
            TableRef::Wildcard { prefix } => {
                let alias_name = alias.as_ref().map(|a| a.name.value.clone());
                let kept = tables::prune(self.catalog, &prefix, alias_name.as_deref(), selection);
                for (table, _) in &kept {
                    self.tables_read.insert((*table).to_owned());
                }
                let any_shard = self
                    .catalog
                    .tables
                    .iter()
                    .find(|t| {
                        t.to_ascii_lowercase()
                            .starts_with(&prefix.to_ascii_lowercase())
                    })
                    .cloned()
                    .unwrap_or_default();
                let alias = alias.clone().unwrap_or_else(|| sqlparser::ast::TableAlias {
                    explicit: true,
                    name: Ident::with_quote('"', format!("{prefix}*")),
                    columns: vec![],
                    at: None,
                });
                *factor = tables::wildcard_union(&kept, &any_shard, alias)?;
            }
        }
        Ok(())
    }
}

/// A SELECT's table factors in the order written: each FROM item, then its joins.
pub(crate) fn factors(select: &Select) -> impl Iterator<Item = &TableFactor> {
    select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
}

pub(crate) fn factors_mut(select: &mut Select) -> impl Iterator<Item = &mut TableFactor> {
    select.from.iter_mut().flat_map(|t| {
        std::iter::once(&mut t.relation).chain(t.joins.iter_mut().map(|j| &mut j.relation))
    })
}

/// Names the result's unnamed computed columns `f0_`, `f1_`, ... as BigQuery does (DuckDB would
/// name them after their expression text).
pub(crate) fn name_anonymous_columns(statement: &mut Statement) {
    let Statement::Query(query) = statement else {
        return;
    };
    let _ = for_each_select(&mut query.body, &mut |select| {
        let mut n = 0;
        for item in &mut select.projection {
            let SelectItem::UnnamedExpr(expr) = item else {
                continue;
            };
            let alias = match expr {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => continue,
                // `items[OFFSET(0)].item_name` is named after its last field.
                Expr::CompoundFieldAccess { access_chain, .. } => match access_chain.last() {
                    Some(AccessExpr::Dot(Expr::Identifier(field))) => {
                        Ident::new(field.value.clone())
                    }
                    _ => next_anonymous(&mut n),
                },
                _ => next_anonymous(&mut n),
            };
            let expr = std::mem::replace(expr, Expr::Value(Value::Null.with_empty_span()));
            *item = SelectItem::ExprWithAlias { expr, alias };
        }
        Ok(())
    });
}

fn next_anonymous(n: &mut usize) -> Ident {
    *n += 1;
    Ident::new(format!("f{}_", *n - 1))
}

/// Calls `f` on each SELECT of a query body, through set operations but not into subqueries
/// (the visitor reaches those as queries of their own).
fn for_each_select(
    body: &mut SetExpr,
    f: &mut dyn FnMut(&mut Select) -> Result<(), SqlError>,
) -> Result<(), SqlError> {
    match body {
        SetExpr::Select(select) => f(select),
        SetExpr::SetOperation { left, right, .. } => {
            for_each_select(left, f)?;
            for_each_select(right, f)
        }
        _ => Ok(()),
    }
}

impl VisitorMut for ToDuckDb<'_> {
    type Break = Box<SqlError>;

    fn pre_visit_statement(&mut self, statement: &mut Statement) -> Flow {
        // CTE names anywhere in the statement may be used as single-part table names.
        self.ctes = crate::cte_names(statement);
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> Flow {
        match for_each_select(&mut query.body, &mut |select| self.select_tables(select)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => fail(err),
        }
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> Flow {
        if let Expr::Function(f) = expr {
            functions::hoist_null_treatment(f);
            functions::count_of_sketch(f);
        }
        match expr {
            Expr::Subquery(query) => {
                if let Some(list) = unnest::scalar_subquery(query, &self.catalog.schema) {
                    *expr = list;
                }
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                for access in access_chain {
                    if let AccessExpr::Subscript(Subscript::Index { index }) = access {
                        match functions::subscript_index(index) {
                            Some(duck) => *index = duck,
                            None => {
                                return fail(SqlError::Unsupported {
                                    construct: format!("array subscript [{index}]"),
                                    hint: Some(
                                        "use [OFFSET(n)], [SAFE_OFFSET(n)] or [ORDINAL(n)]"
                                            .to_owned(),
                                    ),
                                    position: crate::span_start(index.span()),
                                });
                            }
                        }
                    }
                }
            }
            Expr::Function(f) => {
                // A backticked name is still a BigQuery function name; unquote it before the
                // identifier pass would double-quote it into a name the rewrite trusts.
                for part in &mut f.name.0 {
                    if let sqlparser::ast::ObjectNamePart::Identifier(ident) = part
                        && ident.quote_style == Some('`')
                    {
                        ident.quote_style = None;
                    }
                }
                let name = f.name.to_string().to_ascii_uppercase();
                if let Some(index) = functions::date_part_argument(&name)
                    && let FunctionArguments::List(list) = &mut f.args
                    && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(part))) =
                        list.args.get_mut(index)
                {
                    let cx = functions::Context {
                        current_date: &self.catalog.current_date,
                        position: crate::span_start(part.span()),
                    };
                    match functions::date_part(part, &cx) {
                        Ok(text) => *part = build::string(&text),
                        Err(err) => return fail(err),
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> Flow {
        let cx = self.context(expr);
        let replacement = match expr {
            Expr::Function(f) => match functions::rewrite(f, &cx) {
                Ok(replacement) => replacement,
                Err(err) => return fail(err),
            },
            Expr::Extract {
                field, expr: inner, ..
            } => match functions::extract(field, inner, &cx) {
                Ok(replacement) => replacement,
                Err(err) => return fail(err),
            },
            Expr::Cast {
                kind,
                data_type,
                format,
                ..
            } => {
                if format.is_some() {
                    return fail(SqlError::Unsupported {
                        construct: "CAST ... FORMAT".to_owned(),
                        hint: None,
                        position: cx.position,
                    });
                }
                if *kind == CastKind::SafeCast {
                    *kind = CastKind::TryCast;
                }
                match duck_type(data_type) {
                    Some(duck) => *data_type = duck,
                    None => {
                        return fail(SqlError::Unsupported {
                            construct: format!("CAST to {data_type}"),
                            hint: None,
                            position: cx.position,
                        });
                    }
                }
                None
            }
            Expr::Struct { values, fields } => Some(struct_literal(values, fields)),
            // `EXTRACT(HOUR FROM ts AT TIME ZONE 'Asia/Seoul')`: the wall clock there (DuckDB's
            // AT TIME ZONE would read a zoneless timestamp the other way round).
            Expr::AtTimeZone {
                timestamp,
                time_zone,
            } => Some(functions::wall_clock(*timestamp.clone(), Some(time_zone))),
            Expr::InUnnest {
                expr: inner,
                array_expr,
                negated,
            } => Some(unnest::in_unnest(inner, array_expr, *negated)),
            Expr::Value(v) => {
                let text = match &v.value {
                    Value::DoubleQuotedString(s)
                    | Value::SingleQuotedRawStringLiteral(s)
                    | Value::DoubleQuotedRawStringLiteral(s) => Some(s.clone()),
                    Value::TripleSingleQuotedString(s) | Value::TripleDoubleQuotedString(s) => {
                        Some(s.clone())
                    }
                    _ => None,
                };
                text.map(|s| build::string(&s))
            }
            _ => None,
        };
        if let Some(replacement) = replacement {
            *expr = replacement;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> Flow {
        match unnest::table_factor(factor, &self.catalog.schema, &mut self.next_id) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => fail(err),
        }
    }

    fn post_visit_select(&mut self, select: &mut Select) -> Flow {
        for item in &mut select.projection {
            if let SelectItem::Wildcard(options) | SelectItem::QualifiedWildcard(_, options) = item
                && let Some(except) = options.opt_except.take()
            {
                let names = std::iter::once(except.first_element)
                    .chain(except.additional_elements)
                    .map(|i| ObjectName::from(vec![i]))
                    .collect();
                options.opt_exclude = Some(ExcludeSelectItem::Multiple(names));
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_ident(&mut self, ident: &mut Ident) -> Flow {
        if ident.quote_style == Some('`') {
            ident.quote_style = Some('"');
        }
        ControlFlow::Continue(())
    }
}

/// `STRUCT(1 AS a, x)`, `STRUCT<a INT64>(1)` as DuckDB's `{'a': 1, 'x': x}`: a field takes
/// its declared name, its `AS` name, or the name of the column it reads, as BigQuery names it.
fn struct_literal(values: &[Expr], fields: &[sqlparser::ast::StructField]) -> Expr {
    let entries = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let (value, own_name) = match value {
                Expr::Named { expr, name } => (expr.as_ref().clone(), Some(name.value.clone())),
                Expr::Identifier(ident) => (value.clone(), Some(ident.value.clone())),
                Expr::CompoundIdentifier(ids) => {
                    (value.clone(), ids.last().map(|i| i.value.clone()))
                }
                other => (other.clone(), None),
            };
            let field = fields.get(i);
            let name = field
                .and_then(|f| f.field_name.as_ref().map(|n| n.value.clone()))
                .or(own_name)
                .unwrap_or_else(|| format!("_field_{}", i + 1));
            let value = match field.and_then(|f| duck_type(&f.field_type)) {
                Some(ty) => build::cast(value, ty),
                None => value,
            };
            sqlparser::ast::DictionaryField {
                key: Ident::with_quote('\'', name),
                value: Box::new(value),
            }
        })
        .collect();
    Expr::Dictionary(entries)
}

fn duck_type(data_type: &DataType) -> Option<DataType> {
    Some(match data_type {
        DataType::Int64 | DataType::Integer(_) | DataType::Int(_) | DataType::BigInt(_) => {
            DataType::BigInt(None)
        }
        DataType::Float64
        | DataType::Double(_)
        | DataType::DoublePrecision
        | DataType::Float(_) => DataType::Double(ExactNumberInfo::None),
        DataType::Numeric(_)
        | DataType::Decimal(_)
        | DataType::BigNumeric(_)
        | DataType::BigDecimal(_) => DataType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 9)),
        DataType::String(_) | DataType::Varchar(_) | DataType::Text => DataType::Varchar(None),
        DataType::Bool | DataType::Boolean => DataType::Boolean,
        DataType::Bytes(_) => DataType::Blob(None),
        DataType::Date => DataType::Date,
        DataType::Datetime(_) | DataType::Timestamp(_, _) => build::timestamp(),
        DataType::Array(_) | DataType::Struct(_, _) => return None,
        _ => return None,
    })
}
