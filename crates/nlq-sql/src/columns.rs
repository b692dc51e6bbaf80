//! The leaf columns of the events schema a query references: what BigQuery bills for
//! (it reads only the columns, and the struct fields, a query names).
//!
//! Resolution is by name, not by scope: a name that could be an events column counts as one.
//! That can over-count (a CTE column named like an events column), never under-count, which
//! is the safe side for a cost estimate.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{AccessExpr, Expr, SelectItem, Statement, TableFactor, Visit, Visitor};

use nlq_core::TableSchema;

pub(crate) fn referenced_columns(statement: &Statement, schema: &TableSchema) -> BTreeSet<String> {
    let mut unnests = UnnestAliases {
        schema,
        aliases: HashMap::new(),
        bare: HashMap::new(),
    };
    let _ = statement.visit(&mut unnests);
    let mut collector = Collector {
        leaves: schema.leaf_paths(),
        schema,
        aliases: unnests.aliases,
        bare: unnests.bare,
        skip: HashSet::new(),
        found: BTreeSet::new(),
    };
    let _ = statement.visit(&mut collector);
    collector.found
}

/// The schema path an expression names, if it names one directly (`event_params`,
/// `t.items`, `device.web_info`).
fn schema_path(
    expr: &Expr,
    schema: &TableSchema,
    aliases: &HashMap<String, String>,
) -> Option<String> {
    let parts: Vec<String> = match expr {
        Expr::Identifier(ident) => vec![ident.value.to_ascii_lowercase()],
        Expr::CompoundIdentifier(idents) => idents
            .iter()
            .map(|i| i.value.to_ascii_lowercase())
            .collect(),
        Expr::Nested(inner) => return schema_path(inner, schema, aliases),
        _ => return None,
    };
    resolve_parts(&parts, schema, aliases)
}

fn resolve_parts(
    parts: &[String],
    schema: &TableSchema,
    aliases: &HashMap<String, String>,
) -> Option<String> {
    let (first, rest) = parts.split_first()?;
    if let Some(base) = aliases.get(first) {
        return Some(
            std::iter::once(base.clone())
                .chain(rest.iter().cloned())
                .collect::<Vec<_>>()
                .join("."),
        );
    }
    if schema.field(first).is_some() {
        return Some(parts.join("."));
    }
    // `t.column...` where t is a table alias.
    match rest.split_first() {
        Some((second, _)) if schema.field(second).is_some() => Some(rest.join(".")),
        _ => None,
    }
}

/// First pass: what each UNNEST alias stands for, and the element fields an unaliased
/// UNNEST exposes as bare names.
struct UnnestAliases<'a> {
    schema: &'a TableSchema,
    aliases: HashMap<String, String>,
    bare: HashMap<String, String>,
}

impl UnnestAliases<'_> {
    fn note(&mut self, array: &Expr, alias: Option<&str>) {
        let Some(path) = schema_path(array, self.schema, &self.aliases) else {
            return;
        };
        match alias {
            Some(alias) => {
                self.aliases.insert(alias.to_ascii_lowercase(), path);
            }
            None => {
                let segments: Vec<&str> = path.split('.').collect();
                let Some(field) = self.schema.field(segments[0]) else {
                    return;
                };
                let Some(fields) = field
                    .ty
                    .at_path(&segments[1..])
                    .and_then(|t| t.struct_fields())
                else {
                    return;
                };
                for f in fields {
                    self.bare
                        .insert(f.name.to_ascii_lowercase(), format!("{path}.{}", f.name));
                }
            }
        }
    }
}

impl Visitor for UnnestAliases<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::UNNEST {
            alias, array_exprs, ..
        } = factor
            && let [array] = array_exprs.as_slice()
        {
            self.note(array, alias.as_ref().map(|a| a.name.value.as_str()));
        }
        ControlFlow::Continue(())
    }
}

struct Collector<'a> {
    schema: &'a TableSchema,
    leaves: Vec<String>,
    aliases: HashMap<String, String>,
    bare: HashMap<String, String>,
    /// Roots of field accesses already counted with their full path.
    skip: HashSet<*const Expr>,
    found: BTreeSet<String>,
}

impl Collector<'_> {
    fn add(&mut self, path: &str) {
        let prefix = format!("{path}.");
        for leaf in &self.leaves {
            let lower = leaf.to_ascii_lowercase();
            if lower == path || lower.starts_with(&prefix) {
                self.found.insert(leaf.clone());
            }
        }
    }

    fn path_of(&self, parts: &[String]) -> Option<String> {
        if let [single] = parts
            && let Some(path) = self.bare.get(single)
        {
            return Some(path.clone());
        }
        resolve_parts(parts, self.schema, &self.aliases)
    }
}

impl Visitor for Collector<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.skip.contains(&(expr as *const Expr)) {
            return ControlFlow::Continue(());
        }
        let parts: Option<Vec<String>> = match expr {
            Expr::Identifier(ident) => Some(vec![ident.value.to_ascii_lowercase()]),
            Expr::CompoundIdentifier(idents) => Some(
                idents
                    .iter()
                    .map(|i| i.value.to_ascii_lowercase())
                    .collect(),
            ),
            Expr::CompoundFieldAccess { root, access_chain } => {
                let mut parts: Vec<String> = match root.as_ref() {
                    Expr::Identifier(ident) => vec![ident.value.to_ascii_lowercase()],
                    Expr::CompoundIdentifier(idents) => idents
                        .iter()
                        .map(|i| i.value.to_ascii_lowercase())
                        .collect(),
                    _ => return ControlFlow::Continue(()),
                };
                for access in access_chain {
                    match access {
                        AccessExpr::Dot(Expr::Identifier(field)) => {
                            parts.push(field.value.to_ascii_lowercase());
                        }
                        AccessExpr::Subscript(_) => {}
                        _ => break,
                    }
                }
                self.skip.insert(root.as_ref() as *const Expr);
                Some(parts)
            }
            _ => None,
        };
        if let Some(path) = parts.and_then(|p| self.path_of(&p)) {
            self.add(&path);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &sqlparser::ast::Select) -> ControlFlow<()> {
        // `SELECT *` over a table reads every column (minus EXCEPT ones); over a CTE the
        // CTE's own references already counted.
        let reads_table = select.from.iter().any(|from| {
            std::iter::once(&from.relation)
                .chain(from.joins.iter().map(|j| &j.relation))
                .any(|f| matches!(f, TableFactor::Table { .. }))
        });
        if !reads_table {
            return ControlFlow::Continue(());
        }
        for item in &select.projection {
            let options = match item {
                SelectItem::Wildcard(options) | SelectItem::QualifiedWildcard(_, options) => {
                    options
                }
                _ => continue,
            };
            let excluded: Vec<String> = options
                .opt_except
                .as_ref()
                .map(|except| {
                    std::iter::once(&except.first_element)
                        .chain(except.additional_elements.iter())
                        .map(|i| i.value.to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            let names: Vec<String> = self
                .schema
                .fields
                .iter()
                .map(|f| f.name.to_ascii_lowercase())
                .collect();
            for name in names {
                if !excluded.contains(&name) {
                    self.add(&name);
                }
            }
        }
        ControlFlow::Continue(())
    }
}
