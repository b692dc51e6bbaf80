//! DuckDB result types and values, as BigQuery names and shapes them.

use duckdb::arrow::datatypes::DataType;
use duckdb::types::{TimeUnit, Value as Duck};

use nlq_core::{BqType, Field, Value};

/// The BigQuery type of a DuckDB result column.
pub(crate) fn bq_type(data_type: &DataType) -> BqType {
    match data_type {
        DataType::Boolean => BqType::Bool,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => BqType::Int64,
        // HUGEINT (DuckDB's SUM of integers) arrives as DECIMAL(38,0); BigQuery's SUM of INT64
        // is INT64.
        DataType::Decimal128(38, 0) => BqType::Int64,
        DataType::Decimal128(..) | DataType::Decimal256(..) => BqType::Numeric,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => BqType::Float64,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => BqType::String,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => BqType::Bytes,
        DataType::Date32 | DataType::Date64 => BqType::Date,
        DataType::Timestamp(..) => BqType::Timestamp,
        DataType::Time32(_) | DataType::Time64(_) => BqType::Time,
        DataType::Interval(_) | DataType::Duration(_) => BqType::Interval,
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            BqType::Array(Box::new(bq_type(f.data_type())))
        }
        DataType::Struct(fields) => BqType::Struct(
            fields
                .iter()
                .map(|f| Field {
                    name: f.name().clone(),
                    ty: bq_type(f.data_type()),
                })
                .collect(),
        ),
        // An untyped NULL column: BigQuery types a bare NULL as INT64.
        DataType::Null => BqType::Int64,
        _ => BqType::String,
    }
}

/// One DuckDB value as a BigQuery-typed value.
pub(crate) fn value(duck: Duck) -> Value {
    match duck {
        Duck::Null => Value::Null,
        Duck::Boolean(v) => Value::Bool(v),
        Duck::TinyInt(v) => Value::Int64(v.into()),
        Duck::SmallInt(v) => Value::Int64(v.into()),
        Duck::Int(v) => Value::Int64(v.into()),
        Duck::BigInt(v) => Value::Int64(v),
        Duck::UTinyInt(v) => Value::Int64(v.into()),
        Duck::USmallInt(v) => Value::Int64(v.into()),
        Duck::UInt(v) => Value::Int64(v.into()),
        Duck::UBigInt(v) => {
            i64::try_from(v).map_or_else(|_| Value::Numeric(v.to_string()), Value::Int64)
        }
        Duck::HugeInt(v) => {
            i64::try_from(v).map_or_else(|_| Value::Numeric(v.to_string()), Value::Int64)
        }
        Duck::UHugeInt(v) => {
            i64::try_from(v).map_or_else(|_| Value::Numeric(v.to_string()), Value::Int64)
        }
        Duck::Float(v) => Value::Float64(v.into()),
        Duck::Double(v) => Value::Float64(v),
        Duck::Decimal(d) => Value::Numeric(trim_decimal(&d.to_string())),
        Duck::Timestamp(unit, v) => Value::Timestamp(match unit {
            TimeUnit::Second => v.saturating_mul(1_000_000),
            TimeUnit::Millisecond => v.saturating_mul(1_000),
            TimeUnit::Microsecond => v,
            TimeUnit::Nanosecond => v / 1_000,
        }),
        Duck::Text(s) | Duck::Enum(s) => Value::String(s),
        Duck::Blob(b) | Duck::Geometry(b) => Value::Bytes(b),
        Duck::Date32(days) => {
            let (y, m, d) = nlq_core::result::civil_from_days(days.into());
            Value::Date(format!("{y:04}-{m:02}-{d:02}"))
        }
        Duck::Time64(unit, v) => {
            let micros = match unit {
                TimeUnit::Second => v * 1_000_000,
                TimeUnit::Millisecond => v * 1_000,
                TimeUnit::Microsecond => v,
                TimeUnit::Nanosecond => v / 1_000,
            };
            let secs = micros / 1_000_000;
            let frac = micros % 1_000_000;
            let base = format!(
                "{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            );
            Value::Time(if frac == 0 {
                base
            } else {
                format!("{base}.{frac:06}")
            })
        }
        Duck::Interval {
            months,
            days,
            nanos,
        } => Value::String(format!("{months} months {days} days {} us", nanos / 1_000)),
        Duck::List(items) | Duck::Array(items) => {
            Value::Array(items.into_iter().map(value).collect())
        }
        Duck::Struct(fields) => Value::Struct(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), value(v.clone())))
                .collect(),
        ),
        Duck::Map(entries) => Value::Array(
            entries
                .iter()
                .map(|(k, v)| {
                    Value::Struct(vec![
                        ("key".to_owned(), value(k.clone())),
                        ("value".to_owned(), value(v.clone())),
                    ])
                })
                .collect(),
        ),
        Duck::Union(inner) => value(*inner),
        // Types DuckDB may add later: shown as text rather than dropped.
        other => Value::String(format!("{other:?}")),
    }
}

/// `12.500000000` → `12.5`: BigQuery prints NUMERIC without trailing zeros.
fn trim_decimal(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_text_loses_trailing_zeros() {
        assert_eq!(trim_decimal("12.500000000"), "12.5");
        assert_eq!(trim_decimal("3.000000000"), "3");
        assert_eq!(trim_decimal("100"), "100");
    }

    #[test]
    fn dates_print_iso() {
        assert_eq!(
            value(Duck::Date32(18_628)),
            Value::Date("2021-01-01".into())
        );
        assert_eq!(value(Duck::HugeInt(42)), Value::Int64(42));
    }
}
