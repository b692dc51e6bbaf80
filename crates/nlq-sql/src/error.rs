//! Why a query could not be parsed or translated. Every case is the SQL author's to fix.

use nlq_core::{Classify, ErrorClass, SqlPosition};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    #[error("SQL syntax error: {message}")]
    Parse {
        message: String,
        position: Option<SqlPosition>,
    },
    #[error("the SQL text is empty: write one SELECT query")]
    Empty,
    #[error("{count} statements given{}: send exactly one SELECT query", second(.position))]
    MultipleStatements {
        count: usize,
        /// Where the second statement starts.
        position: Option<SqlPosition>,
    },
    #[error("{construct} is not a query{}: only a single read-only SELECT can run", at(.position))]
    NotAQuery {
        construct: String,
        position: Option<SqlPosition>,
    },
    #[error("unknown table `{name}`{}: {hint}", at(.position))]
    UnknownTable {
        name: String,
        hint: String,
        position: Option<SqlPosition>,
    },
    #[error("{construct} is not supported by the embedded engine{}{}", at(.position), hint_text(.hint))]
    Unsupported {
        construct: String,
        hint: Option<String>,
        position: Option<SqlPosition>,
    },
}

fn at(position: &Option<SqlPosition>) -> String {
    position.map(|p| format!(" at {p}")).unwrap_or_default()
}

fn second(position: &Option<SqlPosition>) -> String {
    position
        .map(|p| format!(" (the second starts at {p})"))
        .unwrap_or_default()
}

fn hint_text(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default()
}

impl SqlError {
    pub(crate) fn from_parser(err: sqlparser::parser::ParserError) -> SqlError {
        let text = match err {
            sqlparser::parser::ParserError::TokenizerError(m)
            | sqlparser::parser::ParserError::ParserError(m) => m,
            sqlparser::parser::ParserError::RecursionLimitExceeded => {
                "the query nests too deeply".to_owned()
            }
        };
        // sqlparser appends " at Line: L, Column: C"; keep the message and lift the position.
        let position = text.rfind("Line: ").and_then(|i| {
            let rest = &text[i + 6..];
            let (line, rest) = rest.split_once(", Column: ")?;
            let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some(SqlPosition {
                line: line.trim().parse().ok()?,
                column: column.parse().ok()?,
            })
        });
        let message = match text.rfind(" at Line: ") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        let message = match position {
            Some(p) => format!("{message} at {p}"),
            None => message,
        };
        SqlError::Parse { message, position }
    }

    pub fn position(&self) -> Option<SqlPosition> {
        match self {
            SqlError::Parse { position, .. }
            | SqlError::NotAQuery { position, .. }
            | SqlError::UnknownTable { position, .. }
            | SqlError::Unsupported { position, .. }
            | SqlError::MultipleStatements { position, .. } => *position,
            SqlError::Empty => None,
        }
    }
}

impl Classify for SqlError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }
}
