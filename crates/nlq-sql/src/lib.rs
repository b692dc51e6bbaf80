//! nlq-sql: BigQuery Standard SQL, read through the `sqlparser` AST (BigQuery dialect), and
//! rewritten for the embedded engine (DuckDB) so GA4 SQL runs unchanged offline.
//!
//! ```text
//!  BigQuery SQL ──parse──► AST ──┬─ tables: resolve `project.dataset.events_*`, prune shards
//!                                │          by constant `_TABLE_SUFFIX` bounds
//!                                ├─ columns: the leaf columns the query reads (billing)
//!                                └─ rewrite: UNNEST, parameter subqueries, functions, types
//!                                            ──print──► DuckDB SQL
//! ```
//!
//! Invariants: pure (no I/O, runs nothing); never analyses SQL as text, only as AST; anything
//! it cannot translate faithfully is an error naming the construct and its position.

pub mod catalog;
mod columns;
mod error;
mod fold;
pub mod functions;
mod rewrite;
mod tables;

pub use catalog::Catalog;
pub use error::SqlError;
pub use tables::{
    SuffixBounds, and_conditions, name_parts, narrow_to_last_day, retarget, suffix_bounds,
};

use std::collections::BTreeSet;

use sqlparser::ast::{Statement, VisitMut};
use sqlparser::dialect::BigQueryDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use nlq_core::SqlPosition;

/// BigQuery SQL made ready for the embedded engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The query in DuckDB's dialect.
    pub sql: String,
    /// Physical shards the query can read after static `_TABLE_SUFFIX` pruning, sorted.
    pub tables_read: Vec<String>,
    /// Leaf columns of the events schema the query references (`device.category`,
    /// `event_params.value.int_value`): what BigQuery bills.
    pub columns: BTreeSet<String>,
}

/// Parses BigQuery SQL that must be exactly one query (SELECT, WITH, set operations).
pub fn parse_query(sql: &str) -> Result<Statement, SqlError> {
    let dialect = BigQueryDialect {};
    let parsed = sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(sqlparser::parser::ParserError::from)
        .and_then(|tokens| {
            Parser::new(&dialect)
                .with_tokens_with_locations(typed_array_literals(split_type_closings(tokens)))
                .parse_statements()
        });
    let mut statements = parsed.map_err(|err| {
        match SqlError::from_parser(err) {
            // sqlparser gives no position for an early end of input: it is the end of the text.
            SqlError::Parse {
                message,
                position: None,
            } if message.ends_with("found: EOF") => {
                let line = sql.lines().count().max(1) as u64;
                let column = sql.lines().last().map_or(0, |l| l.chars().count()) as u64 + 1;
                let position = SqlPosition { line, column };
                SqlError::Parse {
                    message: format!("{message} at {position}"),
                    position: Some(position),
                }
            }
            other => other,
        }
    })?;
    match statements.len() {
        0 => Err(SqlError::Empty),
        1 => {
            let statement = statements.remove(0);
            match statement {
                Statement::Query(_) => match select_into(&statement) {
                    // `SELECT ... INTO t` parses as a query but writes a table.
                    Some(position) => Err(SqlError::NotAQuery {
                        construct: "SELECT ... INTO".to_owned(),
                        position,
                    }),
                    None => Ok(statement),
                },
                other => Err(SqlError::NotAQuery {
                    construct: statement_kind(&other),
                    // The text holds this one statement: it starts at the first word (sqlparser's
                    // spans are empty or start later for some statements).
                    position: first_word(sql),
                }),
            }
        }
        n => Err(SqlError::MultipleStatements {
            count: n,
            position: second_statement(sql),
        }),
    }
}

/// Translates one BigQuery query for DuckDB over the catalog's shards.
pub fn translate(sql: &str, catalog: &Catalog) -> Result<Translation, SqlError> {
    let mut statement = parse_query(sql)?;
    let columns = columns::referenced_columns(&statement, &catalog.schema);
    rewrite::rename_shadowing_aliases(&mut statement, &catalog.schema);
    rewrite::name_anonymous_columns(&mut statement);
    let mut rewriter = rewrite::ToDuckDb::new(catalog);
    if let std::ops::ControlFlow::Break(err) = statement.visit(&mut rewriter) {
        return Err(*err);
    }
    let _ = statement.visit(&mut rewrite::Pushdown);
    let mut tables_read: Vec<String> = rewriter.tables_read.into_iter().collect();
    tables_read.sort();
    Ok(Translation {
        sql: statement.to_string(),
        tables_read,
        columns,
    })
}

/// BigQuery's typed literals nest angle brackets (`ARRAY<STRUCT<a INT64, b STRING>>[...]`);
/// the tokenizer reads their closing `>>` as a shift. Inside a type's brackets it is two
/// closings; everywhere else a shift stays a shift.
fn split_type_closings(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut depth = 0usize;
    for token in tokens {
        let after_type_word = out
            .iter()
            .rev()
            .find(|t| !matches!(t.token, Token::Whitespace(_)))
            .is_some_and(|t| {
                matches!(&t.token, Token::Word(w) if matches!(w.keyword, Keyword::ARRAY | Keyword::STRUCT))
            });
        match token.token {
            Token::Lt if after_type_word => depth += 1,
            Token::Gt if depth > 0 => depth -= 1,
            Token::ShiftRight if depth >= 2 => {
                depth -= 2;
                let mut second = token.clone();
                second.span.start.column += 1;
                let mut first = token;
                first.span.end = second.span.start;
                first.token = Token::Gt;
                second.token = Token::Gt;
                out.push(first);
                out.push(second);
                continue;
            }
            _ => {}
        }
        out.push(token);
    }
    out
}

/// The position of the first token at or after `from` that is not whitespace.
fn significant(tokens: &[TokenWithSpan], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
}

/// `ARRAY<T>[e, ...]`, BigQuery's typed array literal, which sqlparser reads as comparisons:
/// the type moves onto the elements, where sqlparser reads it. A tuple element of an array of
/// structs becomes `STRUCT<...>(...)` (its fields take the type's names and types); any other
/// element becomes `CAST(e AS T)`.
fn typed_array_literals(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let is_array = matches!(&tokens[i].token, Token::Word(w) if w.keyword == Keyword::ARRAY);
        let typed = is_array.then(|| typed_array_at(&tokens, i)).flatten();
        let Some((type_tokens, open, close)) = typed else {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        };
        let is_struct = matches!(type_tokens.first().map(|t| &t.token), Some(Token::Word(w)) if w.keyword == Keyword::STRUCT);
        out.push(tokens[i].clone());
        out.push(tokens[open].clone());
        let mut element: Vec<TokenWithSpan> = Vec::new();
        let mut depth = 0usize;
        let flush = |element: &mut Vec<TokenWithSpan>, out: &mut Vec<TokenWithSpan>| {
            let Some(first) = significant(element, 0) else {
                out.append(element);
                return;
            };
            let span = element[first].span;
            let token = |token: Token| TokenWithSpan { token, span };
            if is_struct && element[first].token == Token::LParen {
                out.extend(type_tokens.iter().cloned());
                out.append(element);
            } else {
                out.push(token(Token::make_keyword("CAST")));
                out.push(token(Token::LParen));
                out.append(element);
                out.push(token(Token::Whitespace(
                    sqlparser::tokenizer::Whitespace::Space,
                )));
                out.push(token(Token::make_keyword("AS")));
                out.push(token(Token::Whitespace(
                    sqlparser::tokenizer::Whitespace::Space,
                )));
                out.extend(type_tokens.iter().cloned());
                out.push(token(Token::RParen));
            }
        };
        for token in &tokens[open + 1..close] {
            match token.token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
                Token::Comma if depth == 0 => {
                    flush(&mut element, &mut out);
                    out.push(token.clone());
                    continue;
                }
                _ => {}
            }
            element.push(token.clone());
        }
        flush(&mut element, &mut out);
        out.push(tokens[close].clone());
        i = close + 1;
    }
    out
}

/// At an `ARRAY` word: its type's tokens, and the positions of `[` and the matching `]`, when
/// `<T>[` follows.
fn typed_array_at(
    tokens: &[TokenWithSpan],
    at: usize,
) -> Option<(Vec<TokenWithSpan>, usize, usize)> {
    let lt = significant(tokens, at + 1)?;
    if tokens[lt].token != Token::Lt {
        return None;
    }
    let mut depth = 0usize;
    let mut gt = None;
    for (i, t) in tokens.iter().enumerate().skip(lt) {
        match t.token {
            Token::Lt => depth += 1,
            Token::Gt => {
                depth -= 1;
                if depth == 0 {
                    gt = Some(i);
                    break;
                }
            }
            // Anything a type cannot hold: not a typed literal.
            Token::LBracket | Token::RBracket | Token::SemiColon | Token::LParen => return None,
            _ => {}
        }
    }
    let gt = gt?;
    let open = significant(tokens, gt + 1)?;
    if tokens[open].token != Token::LBracket {
        return None;
    }
    let mut depth = 0usize;
    let close = (open..tokens.len()).find(|&i| {
        match tokens[i].token {
            Token::LBracket => depth += 1,
            Token::RBracket => depth -= 1,
            _ => {}
        }
        depth == 0
    })?;
    Some((tokens[lt + 1..gt].to_vec(), open, close))
}

/// Where a `SELECT ... INTO` is, at any depth: `Some(position)` when there is one.
fn select_into(statement: &Statement) -> Option<Option<SqlPosition>> {
    struct Into(Option<Option<SqlPosition>>);
    impl sqlparser::ast::Visitor for Into {
        type Break = ();
        fn pre_visit_query(&mut self, query: &sqlparser::ast::Query) -> std::ops::ControlFlow<()> {
            fn find(body: &sqlparser::ast::SetExpr) -> Option<Option<SqlPosition>> {
                match body {
                    sqlparser::ast::SetExpr::Select(select) => select.into.as_ref().map(|into| {
                        into.targets
                            .first()
                            .and_then(|n| span_start(sqlparser::ast::Spanned::span(n)))
                            .or_else(|| span_start(select.select_token.0.span))
                    }),
                    sqlparser::ast::SetExpr::SetOperation { left, right, .. } => {
                        find(left).or_else(|| find(right))
                    }
                    sqlparser::ast::SetExpr::Query(query) => find(&query.body),
                    _ => None,
                }
            }
            self.0 = find(&query.body);
            if self.0.is_some() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        }
    }
    let mut into = Into(None);
    let _ = sqlparser::ast::Visit::visit(statement, &mut into);
    into.0
}

/// A name for a statement that is not a query, for the error that refuses it.
fn statement_kind(statement: &Statement) -> String {
    let name = match statement {
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Merge(_) => "MERGE",
        Statement::Truncate(_) => "TRUNCATE",
        Statement::CreateTable(_) => "CREATE TABLE",
        Statement::CreateView(_) => "CREATE VIEW",
        Statement::CreateFunction(_) => "CREATE FUNCTION",
        Statement::Drop { .. } => "DROP",
        Statement::AlterTable(_) => "ALTER TABLE",
        Statement::Declare { .. } => "DECLARE",
        Statement::Set(_) => "SET",
        Statement::Call(_) => "CALL",
        Statement::Execute { .. } => "EXECUTE",
        Statement::ExportData(_) => "EXPORT DATA",
        Statement::StartTransaction { .. } => "BEGIN",
        _ => {
            // Other statements: the AST variant's name ("Grant", "Copy", ...).
            let debug = format!("{statement:?}");
            let end = debug
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(debug.len());
            return debug[..end].to_ascii_uppercase();
        }
    };
    name.to_owned()
}

/// Where the second statement starts: the first token after the first `;` that is followed by
/// more than whitespace and comments.
fn second_statement(sql: &str) -> Option<SqlPosition> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&BigQueryDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let mut after_semicolon = false;
    for token in tokens {
        match token.token {
            Token::SemiColon => after_semicolon = true,
            Token::Whitespace(_) => {}
            _ if after_semicolon => {
                return span_start(token.span);
            }
            _ => {}
        }
    }
    None
}

fn first_word(sql: &str) -> Option<SqlPosition> {
    sql.lines().enumerate().find_map(|(line, text)| {
        let column = text.chars().position(|c| !c.is_whitespace())?;
        Some(SqlPosition {
            line: line as u64 + 1,
            column: column as u64 + 1,
        })
    })
}

/// The names of every CTE in the statement, lower-cased: single-part table names that refer
/// to the query itself rather than to a dataset.
pub fn cte_names(statement: &Statement) -> Vec<String> {
    struct Ctes(Vec<String>);
    impl sqlparser::ast::Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, query: &sqlparser::ast::Query) -> std::ops::ControlFlow<()> {
            if let Some(with) = &query.with {
                self.0.extend(
                    with.cte_tables
                        .iter()
                        .map(|c| c.alias.name.value.to_ascii_lowercase()),
                );
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut ctes = Ctes(Vec::new());
    let _ = sqlparser::ast::Visit::visit(statement, &mut ctes);
    ctes.0
}

/// The 1-based start of a span, when sqlparser recorded one.
pub fn span_start(span: sqlparser::tokenizer::Span) -> Option<SqlPosition> {
    (span.start.line > 0).then_some(SqlPosition {
        line: span.start.line,
        column: span.start.column,
    })
}
