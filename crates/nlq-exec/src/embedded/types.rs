//! DuckDB's type names back to BigQuery types, so a stored shard's schema can be compared with
//! the export's, and reported in BigQuery's terms when it differs.

use nlq_core::{BqType, Field};

/// Reads a DuckDB `data_type` (`STRUCT("key" VARCHAR, "value" STRUCT(...))[]`, `BIGINT`...).
pub(crate) fn bq_type(duck: &str) -> Result<BqType, String> {
    let mut parser = Parser { text: duck, at: 0 };
    let ty = parser.ty()?;
    parser.space();
    if parser.at != duck.len() {
        return Err(format!("unexpected `{}` in `{duck}`", &duck[parser.at..]));
    }
    Ok(ty)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.space();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    /// A bare word or a double-quoted name (`""` inside is one quote).
    fn name(&mut self) -> Result<String, String> {
        self.space();
        if self.eat("\"") {
            let mut name = String::new();
            loop {
                let Some(c) = self.rest().chars().next() else {
                    return Err(format!("unclosed quote in `{}`", self.text));
                };
                self.at += c.len_utf8();
                if c == '"' {
                    if self.rest().starts_with('"') {
                        self.at += 1;
                        name.push('"');
                    } else {
                        return Ok(name);
                    }
                } else {
                    name.push(c);
                }
            }
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(format!(
                "expected a name at `{}` in `{}`",
                self.rest(),
                self.text
            ));
        }
        let name = self.rest()[..len].to_owned();
        self.at += len;
        Ok(name)
    }

    fn ty(&mut self) -> Result<BqType, String> {
        let word = self.name()?.to_ascii_uppercase();
        let mut ty = match word.as_str() {
            "STRUCT" => {
                if !self.eat("(") {
                    return Err(format!("STRUCT without fields in `{}`", self.text));
                }
                let mut fields = Vec::new();
                loop {
                    let name = self.name()?;
                    let ty = self.ty()?;
                    fields.push(Field { name, ty });
                    if self.eat(")") {
                        break;
                    }
                    if !self.eat(",") {
                        return Err(format!("expected `,` or `)` in `{}`", self.text));
                    }
                }
                BqType::Struct(fields)
            }
            "VARCHAR" | "TEXT" | "STRING" | "UUID" => BqType::String,
            "BIGINT" | "INTEGER" | "INT" | "SMALLINT" | "TINYINT" | "HUGEINT" | "UBIGINT"
            | "UINTEGER" | "USMALLINT" | "UTINYINT" => BqType::Int64,
            "DOUBLE" | "FLOAT" | "REAL" => BqType::Float64,
            "DECIMAL" | "NUMERIC" => {
                // The precision and scale do not change the BigQuery type we compare.
                if self.eat("(") {
                    let close = self.rest().find(')').ok_or("unclosed DECIMAL(")?;
                    self.at += close + 1;
                }
                BqType::Numeric
            }
            "BOOLEAN" | "BOOL" => BqType::Bool,
            "BLOB" | "BYTEA" => BqType::Bytes,
            "DATE" => BqType::Date,
            // The store keeps DATETIME and TIMESTAMP both as a bare TIMESTAMP (store.rs):
            // read back, it is TIMESTAMP, and the schema comparison allows for that.
            "TIMESTAMP" => {
                self.eat("WITH TIME ZONE");
                BqType::Timestamp
            }
            "TIMESTAMPTZ" => BqType::Timestamp,
            "TIME" => BqType::Time,
            "INTERVAL" => BqType::Interval,
            "JSON" => BqType::Json,
            other => return Err(format!("no BigQuery type for DuckDB's {other}")),
        };
        while self.eat("[]") {
            ty = BqType::Array(Box::new(ty));
        }
        Ok(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_duckdb_types() {
        let ty = bq_type(
            r#"STRUCT("key" VARCHAR, "value" STRUCT(string_value VARCHAR, int_value BIGINT, double_value DOUBLE))[]"#,
        )
        .unwrap();
        assert_eq!(
            ty.to_string(),
            "ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING, int_value INT64, double_value FLOAT64>>>"
        );
        assert_eq!(bq_type("DECIMAL(38,9)").unwrap(), BqType::Numeric);
        assert_eq!(bq_type("INTEGER[]").unwrap().to_string(), "ARRAY<INT64>");
        assert_eq!(
            bq_type(r#"STRUCT("a ""b""" DATE)"#).unwrap().to_string(),
            "STRUCT<a \"b\" DATE>"
        );
    }

    #[test]
    fn says_what_it_cannot_read() {
        assert_eq!(
            bq_type("MAP(VARCHAR, INTEGER)").unwrap_err(),
            "no BigQuery type for DuckDB's MAP"
        );
        assert!(bq_type("STRUCT(a BIGINT").is_err());
        assert!(bq_type("BIGINT junk").unwrap_err().contains("junk"));
    }
}
