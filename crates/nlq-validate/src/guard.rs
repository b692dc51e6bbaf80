//! The guard: the query must be exactly one read-only query over allowed datasets, calling
//! only allow-listed BigQuery functions. Every refusal names the construct and its position.
//!
//! It works on the AST only, so `'DROP TABLE t'` in a string, `/* DELETE */` in a comment or a
//! column named `delete` are what they are, and a second statement hidden anywhere is still a
//! second statement.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, Spanned, Statement, TableFactor, Visit, Visitor};

use nlq_core::SqlPosition;
use nlq_sql::SqlError;

use crate::finding::Finding;

/// Inputs longer than this are refused before parsing: no real question needs 1 MiB of SQL.
pub const MAX_SQL_BYTES: usize = 1 << 20;

/// A dataset queries may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedDataset {
    pub project: String,
    pub dataset: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    pub allowed: Vec<AllowedDataset>,
}

/// Checks `sql`; an empty result means it may go on to the next validation step.
pub fn guard(sql: &str, config: &GuardConfig) -> Vec<Finding> {
    if sql.len() > MAX_SQL_BYTES {
        return vec![Finding::error(
            "guard.too_long",
            format!(
                "the SQL is {} bytes; at most {MAX_SQL_BYTES} are accepted",
                sql.len()
            ),
            None,
        )];
    }
    let statement = match nlq_sql::parse_query(sql) {
        Ok(statement) => statement,
        Err(err) => return vec![refusal(&err)],
    };
    let mut checks = Checks {
        config,
        ctes: nlq_sql::cte_names(&statement),
        findings: Vec::new(),
    };
    let _ = statement.visit(&mut checks);
    checks.findings
}

fn refusal(err: &SqlError) -> Finding {
    let rule = match err {
        SqlError::Parse { .. } => "guard.unparseable",
        SqlError::Empty => "guard.empty",
        SqlError::MultipleStatements { .. } => "guard.multiple_statements",
        SqlError::NotAQuery { .. } => "guard.not_a_query",
        SqlError::UnknownTable { .. } => "guard.table_not_allowed",
        SqlError::Unsupported { .. } => "guard.unsupported",
    };
    Finding::error(rule, err.to_string(), err.position())
}

fn position(node: &impl Spanned) -> Option<SqlPosition> {
    nlq_sql::span_start(node.span())
}

struct Checks<'a> {
    config: &'a GuardConfig,
    ctes: Vec<String>,
    findings: Vec<Finding>,
}

impl Checks<'_> {
    fn refuse(&mut self, rule: &'static str, message: String, position: Option<SqlPosition>) {
        self.findings.push(Finding::error(rule, message, position));
    }

    fn dataset_allowed(&self, project: Option<&str>, dataset: &str) -> bool {
        self.config.allowed.iter().any(|a| {
            a.dataset.eq_ignore_ascii_case(dataset)
                && project.is_none_or(|p| a.project.eq_ignore_ascii_case(p))
        })
    }

    fn allowed_list(&self) -> String {
        self.config
            .allowed
            .iter()
            .map(|a| format!("`{}.{}`", a.project, a.dataset))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn table(&mut self, name: &ObjectName) {
        let at = position(name);
        let parts = nlq_sql::name_parts(name);
        let text = parts.join(".");
        if parts.iter().any(|p| p.contains(['/', '\\'])) {
            return self.refuse(
                "guard.file_table",
                format!(
                    "`{text}` looks like a file path; only tables of {} can be read",
                    self.allowed_list()
                ),
                at,
            );
        }
        let upper: Vec<String> = parts.iter().map(|p| p.to_ascii_uppercase()).collect();
        let (project, dataset) = match upper.iter().position(|p| p == "INFORMATION_SCHEMA") {
            // dataset.INFORMATION_SCHEMA.VIEW or project.dataset.INFORMATION_SCHEMA.VIEW; a
            // region qualifier (`region-us.INFORMATION_SCHEMA`) reaches every dataset: refused.
            Some(i) => match &parts[..i] {
                [dataset] if !dataset.to_ascii_lowercase().starts_with("region-") => {
                    (None, dataset.as_str())
                }
                [project, dataset] if !dataset.to_ascii_lowercase().starts_with("region-") => {
                    (Some(project.as_str()), dataset.as_str())
                }
                _ => {
                    return self.refuse(
                        "guard.table_not_allowed",
                        format!(
                            "`{text}`: INFORMATION_SCHEMA is readable only for {}",
                            self.allowed_list()
                        ),
                        at,
                    );
                }
            },
            None => match parts.as_slice() {
                [table] if self.ctes.contains(&table.to_ascii_lowercase()) => return,
                [project, dataset, _] => (Some(project.as_str()), dataset.as_str()),
                [dataset, _] => (None, dataset.as_str()),
                _ => {
                    return self.refuse(
                        "guard.table_not_allowed",
                        format!("`{text}` names no dataset; write `project.dataset.table` with one of {}", self.allowed_list()),
                        at,
                    );
                }
            },
        };
        if !self.dataset_allowed(project, dataset) {
            self.refuse(
                "guard.table_not_allowed",
                format!(
                    "`{text}` is outside the allowed datasets ({})",
                    self.allowed_list()
                ),
                at,
            );
        }
    }
}

impl Visitor for Checks<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table {
                name, args: None, ..
            } => self.table(name),
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => {
                // The function table says why a known one is refused.
                let why = nlq_sql::functions::lookup(name)
                    .filter(|call| call.function.kind == nlq_sql::functions::Kind::Table)
                    .and_then(|call| call.function.refusal)
                    .map_or_else(String::new, |why| format!(" ({why})"));
                self.refuse(
                    "guard.table_function",
                    format!(
                        "table function `{name}` is not allowed{why}: read tables of {}",
                        self.allowed_list()
                    ),
                    position(name),
                )
            }
            TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. } => {}
            TableFactor::Pivot { .. } | TableFactor::Unpivot { .. } => {}
            other => self.refuse(
                "guard.table_function",
                format!(
                    "`{other}` is not allowed in FROM: read tables of {}",
                    self.allowed_list()
                ),
                position(other),
            ),
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = expr {
            // The one function table (nlq_sql::functions): a name it does not hold is refused,
            // so DuckDB-only functions (`read_csv`, `getenv`), ML.* and AI.* never run.
            let refusal = match nlq_sql::functions::lookup(&f.name) {
                None => Some(format!(
                    "function `{}` is not an allowed BigQuery function",
                    f.name
                )),
                Some(call) if !call.function.allowed => Some(format!(
                    "function `{}` is not allowed: {}",
                    f.name,
                    call.function
                        .refusal
                        .unwrap_or("it reaches outside the query")
                )),
                Some(_) => None,
            };
            if let Some(message) = refusal {
                self.refuse("guard.function_not_allowed", message, position(expr));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        // parse_query accepted one query; a statement nested in it would be a parser change.
        if !matches!(statement, Statement::Query(_)) {
            self.refuse(
                "guard.not_a_query",
                "only a single SELECT query may run".to_owned(),
                position(statement),
            );
        }
        ControlFlow::Continue(())
    }
}
