//! BigQuery column types and table schemas, parsed from BigQuery's own type syntax
//! (`ARRAY<STRUCT<key STRING, value STRUCT<...>>>`), so the schema lives in one DDL file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A BigQuery Standard SQL type, as far as the GA4 export and query results need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BqType {
    String,
    Int64,
    Float64,
    Numeric,
    Bool,
    Bytes,
    Date,
    Datetime,
    Time,
    Timestamp,
    Interval,
    Json,
    Array(Box<BqType>),
    Struct(Vec<Field>),
}

impl BqType {
    /// The scalar type a BigQuery type name stands for (`INT64` or its legacy `INTEGER`, ...),
    /// upper case; None for ARRAY, STRUCT and unknown names.
    pub fn scalar(name: &str) -> Option<BqType> {
        Some(match name {
            "STRING" => BqType::String,
            "INT64" | "INTEGER" => BqType::Int64,
            "FLOAT64" | "FLOAT" => BqType::Float64,
            "NUMERIC" => BqType::Numeric,
            "BOOL" | "BOOLEAN" => BqType::Bool,
            "BYTES" => BqType::Bytes,
            "DATE" => BqType::Date,
            "DATETIME" => BqType::Datetime,
            "TIME" => BqType::Time,
            "TIMESTAMP" => BqType::Timestamp,
            "INTERVAL" => BqType::Interval,
            "JSON" => BqType::Json,
            _ => return None,
        })
    }
}

/// A named field of a table or a struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub ty: BqType,
}

/// The columns of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema text is invalid at byte {offset}: {message}")]
pub struct SchemaError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for BqType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            BqType::String => "STRING",
            BqType::Int64 => "INT64",
            BqType::Float64 => "FLOAT64",
            BqType::Numeric => "NUMERIC",
            BqType::Bool => "BOOL",
            BqType::Bytes => "BYTES",
            BqType::Date => "DATE",
            BqType::Datetime => "DATETIME",
            BqType::Time => "TIME",
            BqType::Timestamp => "TIMESTAMP",
            BqType::Interval => "INTERVAL",
            BqType::Json => "JSON",
            BqType::Array(inner) => return write!(f, "ARRAY<{inner}>"),
            BqType::Struct(fields) => {
                f.write_str("STRUCT<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} {}", field.name, field.ty)?;
                }
                return f.write_str(">");
            }
        };
        f.write_str(name)
    }
}

impl BqType {
    /// Parses BigQuery type syntax, e.g. `ARRAY<STRUCT<a INT64, b STRING>>`.
    pub fn parse(text: &str) -> Result<BqType, SchemaError> {
        let mut p = Parser { text, pos: 0 };
        let ty = p.ty()?;
        p.skip_ws();
        if p.pos != text.len() {
            return Err(p.error("unexpected text after the type"));
        }
        Ok(ty)
    }

    /// The fields of a struct type, or of the struct element of an array.
    pub fn struct_fields(&self) -> Option<&[Field]> {
        match self {
            BqType::Struct(fields) => Some(fields),
            BqType::Array(inner) => inner.struct_fields(),
            _ => None,
        }
    }

    /// The type reached by following `path` through structs (and array elements).
    pub fn at_path(&self, path: &[&str]) -> Option<&BqType> {
        match path.split_first() {
            None => Some(self),
            Some((head, rest)) => self
                .struct_fields()?
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(head))?
                .ty
                .at_path(rest),
        }
    }

    fn collect_leaves(&self, prefix: &str, out: &mut Vec<String>) {
        match self.struct_fields() {
            Some(fields) => {
                for field in fields {
                    field
                        .ty
                        .collect_leaves(&format!("{prefix}.{}", field.name), out);
                }
            }
            None => out.push(prefix.to_owned()),
        }
    }
}

impl TableSchema {
    /// Parses a DDL column list: `( name TYPE, name TYPE, ... )`, with `--` comments allowed.
    pub fn parse_ddl_columns(ddl: &str) -> Result<TableSchema, SchemaError> {
        let mut p = Parser { text: ddl, pos: 0 };
        p.expect("(")?;
        let fields = p.fields(")")?;
        p.skip_ws();
        if p.pos != ddl.len() {
            return Err(p.error("unexpected text after the column list"));
        }
        Ok(TableSchema { fields })
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Dotted paths of every leaf (non-struct) column, in schema order: `device.web_info.browser`.
    /// Arrays count as their element: `event_params.value.int_value`.
    pub fn leaf_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for field in &self.fields {
            field.ty.collect_leaves(&field.name, &mut out);
        }
        out
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> SchemaError {
        SchemaError {
            offset: self.pos,
            message: message.to_owned(),
        }
    }

    fn skip_ws(&mut self) {
        loop {
            let rest = &self.text[self.pos..];
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("--") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else {
                return;
            }
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), SchemaError> {
        self.skip_ws();
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(self.error(&format!("expected `{token}`")))
        }
    }

    fn word(&mut self) -> Result<&str, SchemaError> {
        self.skip_ws();
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("expected a name"));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn fields(&mut self, close: &str) -> Result<Vec<Field>, SchemaError> {
        let mut fields = Vec::new();
        loop {
            let name = self.word()?.to_owned();
            let ty = self.ty()?;
            fields.push(Field { name, ty });
            self.skip_ws();
            if self.text[self.pos..].starts_with(',') {
                self.pos += 1;
            } else {
                self.expect(close)?;
                return Ok(fields);
            }
        }
    }

    fn ty(&mut self) -> Result<BqType, SchemaError> {
        self.skip_ws();
        let start = self.pos;
        let word = self.word()?.to_ascii_uppercase();
        if let Some(scalar) = BqType::scalar(&word) {
            return Ok(scalar);
        }
        Ok(match word.as_str() {
            "ARRAY" => {
                self.expect("<")?;
                let inner = self.ty()?;
                self.expect(">")?;
                BqType::Array(Box::new(inner))
            }
            "STRUCT" | "RECORD" => {
                self.expect("<")?;
                BqType::Struct(self.fields(">")?)
            }
            _ => {
                self.pos = start;
                return Err(self.error(&format!("unknown type `{word}`")));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_types() {
        let text = "ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING, int_value INT64>>>";
        let ty = BqType::parse(text).unwrap();
        assert_eq!(ty.to_string(), text);
        assert_eq!(ty.at_path(&["value", "int_value"]), Some(&BqType::Int64));
        assert_eq!(ty.at_path(&["nope"]), None);
    }

    #[test]
    fn reports_unknown_types_with_their_position() {
        let err = BqType::parse("STRUCT<a STRNG>").unwrap_err();
        assert_eq!(err.offset, 9);
        assert!(err.message.contains("STRNG"), "{err}");
    }

    #[test]
    fn rejects_trailing_text() {
        assert!(BqType::parse("INT64 INT64").is_err());
        assert!(TableSchema::parse_ddl_columns("(a INT64) x").is_err());
    }

    #[test]
    fn parses_ddl_with_comments() {
        let s =
            TableSchema::parse_ddl_columns("-- c\n(\n a STRING,\n b ARRAY<INT64>\n)\n").unwrap();
        assert_eq!(s.leaf_paths(), vec!["a", "b"]);
    }
}
