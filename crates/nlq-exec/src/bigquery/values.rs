//! BigQuery's JSON rows (`{"f": [{"v": ...}]}`) and schemas into the common result types.
//! Scalars arrive as strings; RECORD is `{"f": [...]}`, REPEATED is `[{"v": ...}]`.

use google_cloud_bigquery_v2::model::{TableFieldSchema, TableSchema as BqSchema};
use serde_json::Value as Json;

use nlq_core::{BqType, Column, Field, TableSchema, Value};

pub(crate) fn field_type(field: &TableFieldSchema) -> BqType {
    let base = match field.r#type.as_str() {
        "RECORD" | "STRUCT" => BqType::Struct(
            field
                .fields
                .iter()
                .map(|f| Field {
                    name: f.name.clone(),
                    ty: field_type(f),
                })
                .collect(),
        ),
        // BIGNUMERIC keeps its exact text, as NUMERIC does.
        "BIGNUMERIC" => BqType::Numeric,
        name => BqType::scalar(name).unwrap_or(BqType::String),
    };
    if field.mode == "REPEATED" {
        BqType::Array(Box::new(base))
    } else {
        base
    }
}

pub(crate) fn columns(schema: Option<&BqSchema>) -> Vec<Column> {
    schema
        .map(|s| {
            s.fields
                .iter()
                .map(|f| Column {
                    name: f.name.clone(),
                    ty: field_type(f),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn table_schema(schema: Option<&BqSchema>) -> TableSchema {
    TableSchema {
        fields: columns(schema)
            .into_iter()
            .map(|c| Field {
                name: c.name,
                ty: c.ty,
            })
            .collect(),
    }
}

/// One row of the `rows` array.
pub(crate) fn row(row: &serde_json::Map<String, Json>, columns: &[Column]) -> Vec<Value> {
    row.get("f")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .zip(columns)
        .map(|(cell, column)| value(&cell["v"], &column.ty))
        .collect()
}

pub(crate) fn value(v: &Json, ty: &BqType) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    match ty {
        BqType::Array(inner) => Value::Array(
            v.as_array()
                .into_iter()
                .flatten()
                .map(|e| value(&e["v"], inner))
                .collect(),
        ),
        BqType::Struct(fields) => Value::Struct(
            v["f"]
                .as_array()
                .into_iter()
                .flatten()
                .zip(fields)
                .map(|(c, f)| (f.name.clone(), value(&c["v"], &f.ty)))
                .collect(),
        ),
        _ => {
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            match ty {
                BqType::Int64 => text
                    .parse()
                    .map(Value::Int64)
                    .unwrap_or(Value::String(text)),
                BqType::Float64 => match text.as_str() {
                    "NaN" => Value::Float64(f64::NAN),
                    "Infinity" => Value::Float64(f64::INFINITY),
                    "-Infinity" => Value::Float64(f64::NEG_INFINITY),
                    _ => text
                        .parse()
                        .map(Value::Float64)
                        .unwrap_or(Value::String(text)),
                },
                BqType::Numeric => Value::Numeric(text),
                BqType::Bool => Value::Bool(text == "true"),
                BqType::Date => Value::Date(text),
                BqType::Datetime => Value::Datetime(text),
                BqType::Time => Value::Time(text),
                // Integer microseconds (requested with useInt64Timestamp, and what the
                // emulator sends); older replies carry float seconds.
                BqType::Timestamp => match text.parse::<i64>() {
                    Ok(micros) => Value::Timestamp(micros),
                    Err(_) => text
                        .parse::<f64>()
                        .map(|s| Value::Timestamp((s * 1e6).round() as i64))
                        .unwrap_or(Value::String(text)),
                },
                _ => Value::String(text),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, ty: &str, mode: &str, fields: Vec<TableFieldSchema>) -> TableFieldSchema {
        let mut f = TableFieldSchema::default();
        f.name = name.into();
        f.r#type = ty.into();
        f.mode = mode.into();
        f.fields = fields;
        f
    }

    #[test]
    fn nested_and_repeated_values_become_the_common_types() {
        let params = field(
            "event_params",
            "RECORD",
            "REPEATED",
            vec![
                field("key", "STRING", "NULLABLE", vec![]),
                field(
                    "value",
                    "RECORD",
                    "NULLABLE",
                    vec![field("int_value", "INTEGER", "NULLABLE", vec![])],
                ),
            ],
        );
        let mut schema = BqSchema::default();
        schema.fields = vec![
            field("n", "INTEGER", "NULLABLE", vec![]),
            field("at", "TIMESTAMP", "NULLABLE", vec![]),
            params,
        ];
        let cols = columns(Some(&schema));
        let raw = json!({"f": [
            {"v": "42"},
            {"v": "1609459200000000"},
            {"v": [{"v": {"f": [{"v": "ga_session_id"}, {"v": {"f": [{"v": "7"}]}}]}}]}
        ]});
        let values = row(raw.as_object().unwrap(), &cols);
        assert_eq!(values[0], Value::Int64(42));
        assert_eq!(values[1], Value::Timestamp(1_609_459_200_000_000));
        assert_eq!(
            values[2],
            Value::Array(vec![Value::Struct(vec![
                ("key".into(), Value::String("ga_session_id".into())),
                (
                    "value".into(),
                    Value::Struct(vec![("int_value".into(), Value::Int64(7))])
                ),
            ])])
        );
        assert_eq!(
            value(&json!("1.6094592E9"), &BqType::Timestamp),
            Value::Timestamp(1_609_459_200_000_000)
        );
        assert_eq!(value(&Json::Null, &BqType::Int64), Value::Null);
    }
}
