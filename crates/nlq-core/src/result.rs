//! The common result of running a query on any warehouse.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::schema::BqType;

/// A result column: its name and its BigQuery type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(
        rename = "type",
        serialize_with = "type_name",
        deserialize_with = "parse_type_name"
    )]
    pub ty: BqType,
}

fn type_name<S: Serializer>(ty: &BqType, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(ty)
}

fn parse_type_name<'de, D: Deserializer<'de>>(d: D) -> Result<BqType, D::Error> {
    let text = String::deserialize(d)?;
    BqType::parse(&text).map_err(serde::de::Error::custom)
}

/// One value of a result cell, typed the way BigQuery types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int64(i64),
    Float64(f64),
    /// NUMERIC / BIGNUMERIC kept as its exact decimal text.
    Numeric(String),
    String(String),
    Bytes(Vec<u8>),
    /// `YYYY-MM-DD`.
    Date(String),
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]`.
    Datetime(String),
    /// `HH:MM:SS[.ffffff]`.
    Time(String),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    Array(Vec<Value>),
    Struct(Vec<(String, Value)>),
}

impl Value {
    /// The value as a float, for comparisons with a tolerance.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int64(v) => Some(*v as f64),
            Value::Float64(v) => Some(*v),
            Value::Numeric(v) => v.parse().ok(),
            _ => None,
        }
    }
}

/// How a value reads in a table cell or a message: strings bare, NULL as `NULL`, the rest as
/// in the JSON result.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::String(s) => f.write_str(s),
            Value::Float64(v) => write!(f, "{v}"),
            other => match serde_json::to_value(other) {
                Ok(serde_json::Value::String(s)) => f.write_str(&s),
                Ok(v) => write!(f, "{v}"),
                Err(_) => Err(std::fmt::Error),
            },
        }
    }
}

/// A byte count for people, in binary units: `812 B`, `74.2 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(v) => s.serialize_bool(*v),
            Value::Int64(v) => s.serialize_i64(*v),
            Value::Float64(v) if v.is_finite() => s.serialize_f64(*v),
            // JSON has no NaN or infinity; BigQuery's API writes them as strings too.
            Value::Float64(v) => s.collect_str(v),
            Value::Numeric(v)
            | Value::String(v)
            | Value::Date(v)
            | Value::Datetime(v)
            | Value::Time(v) => s.serialize_str(v),
            Value::Bytes(v) => s.serialize_str(&hex(v)),
            Value::Timestamp(micros) => s.serialize_str(&format_timestamp(*micros)),
            Value::Array(items) => s.collect_seq(items),
            Value::Struct(fields) => s.collect_map(fields.iter().map(|(k, v)| (k, v))),
        }
    }
}

impl Value {
    /// Reads back what `Serialize` wrote, given the column's type: the JSON alone cannot tell
    /// a DATE from a STRING or an INT64 from a TIMESTAMP. Fails on a cell that does not fit the
    /// type, saying what it got.
    pub fn from_json(json: &serde_json::Value, ty: &BqType) -> Result<Value, String> {
        use serde_json::Value as Json;
        let mismatch = || format!("a {ty:?} cell cannot be {json}");
        let text = || json.as_str().map(str::to_owned).ok_or_else(mismatch);
        if json.is_null() {
            return Ok(Value::Null);
        }
        Ok(match ty {
            BqType::Bool => Value::Bool(json.as_bool().ok_or_else(mismatch)?),
            BqType::Int64 => Value::Int64(json.as_i64().ok_or_else(mismatch)?),
            BqType::Float64 => Value::Float64(match json {
                Json::Number(n) => n.as_f64().ok_or_else(mismatch)?,
                // NaN and infinities are written as strings.
                Json::String(s) => s.parse().map_err(|_| mismatch())?,
                _ => return Err(mismatch()),
            }),
            BqType::Numeric => Value::Numeric(text()?),
            BqType::String | BqType::Interval | BqType::Json => Value::String(text()?),
            BqType::Bytes => Value::Bytes(unhex(&text()?).ok_or_else(mismatch)?),
            BqType::Date => Value::Date(text()?),
            BqType::Datetime => Value::Datetime(text()?),
            BqType::Time => Value::Time(text()?),
            BqType::Timestamp => Value::Timestamp(parse_timestamp(&text()?).ok_or_else(mismatch)?),
            BqType::Array(item) => Value::Array(
                json.as_array()
                    .ok_or_else(mismatch)?
                    .iter()
                    .map(|v| Value::from_json(v, item))
                    .collect::<Result<_, _>>()?,
            ),
            BqType::Struct(fields) => {
                let object = json.as_object().ok_or_else(mismatch)?;
                Value::Struct(
                    fields
                        .iter()
                        .map(|field| {
                            let value = object.get(&field.name).unwrap_or(&Json::Null);
                            Ok((field.name.clone(), Value::from_json(value, &field.ty)?))
                        })
                        .collect::<Result<_, String>>()?,
                )
            }
        })
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The inverse of [`format_timestamp`].
fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.strip_suffix(" UTC")?;
    let (date, time) = text.split_once(' ')?;
    let mut ymd = date.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) = (
        ymd.next()?.parse().ok()?,
        ymd.next()?.parse().ok()?,
        ymd.next()?.parse().ok()?,
    );
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) if frac.len() == 6 => (hms, frac.parse::<i64>().ok()?),
        Some(_) => return None,
        None => (time, 0),
    };
    let mut parts = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, sec) = (parts.next()??, parts.next()??, parts.next()??);
    let days = days_from_civil(y, m, d);
    Some(((days * 86_400 + h * 3600 + min * 60 + sec) * 1_000_000) + frac)
}

/// (year, month, day) to days since 1970-01-01, the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Formats UTC microseconds as `YYYY-MM-DD HH:MM:SS[.ffffff] UTC`, as BigQuery prints them.
pub fn format_timestamp(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    if frac == 0 {
        format!("{base} UTC")
    } else {
        format!("{base}.{frac:06} UTC")
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The rows of a query and what running it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    /// Bytes BigQuery bills for the query (for the embedded engine: the estimate by
    /// BigQuery's rule, the stored size of every referenced column over the shards read).
    pub bytes_processed: u64,
    pub elapsed_ms: u64,
    /// The physical tables the query read, after wildcard pruning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables_read: Vec<String>,
    /// True when the row cap cut the result short.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::schema::Field;

    /// Every kind of cell reads back as it was written, given its column's type.
    #[test]
    fn cells_read_back_from_their_json_with_the_column_type() {
        let point = BqType::Struct(vec![
            Field {
                name: "x".into(),
                ty: BqType::Int64,
            },
            Field {
                name: "at".into(),
                ty: BqType::Timestamp,
            },
        ]);
        let cases = [
            (Value::Null, BqType::Date),
            (Value::Bool(true), BqType::Bool),
            (Value::Int64(-42), BqType::Int64),
            (Value::Float64(0.125), BqType::Float64),
            (Value::Float64(f64::INFINITY), BqType::Float64),
            (Value::Numeric("12.500000001".into()), BqType::Numeric),
            (Value::String("방문자".into()), BqType::String),
            (Value::Bytes(vec![0, 15, 255]), BqType::Bytes),
            (Value::Date("2020-12-31".into()), BqType::Date),
            (
                Value::Datetime("2020-12-31T23:59:59".into()),
                BqType::Datetime,
            ),
            (Value::Time("08:00:00.5".into()), BqType::Time),
            (Value::Timestamp(1_609_459_199_123_456), BqType::Timestamp),
            (Value::Timestamp(-86_400_000_000), BqType::Timestamp),
            (
                Value::Array(vec![Value::Int64(1), Value::Null]),
                BqType::Array(Box::new(BqType::Int64)),
            ),
            (
                Value::Struct(vec![
                    ("x".into(), Value::Int64(3)),
                    ("at".into(), Value::Timestamp(0)),
                ]),
                point,
            ),
        ];
        for (value, ty) in cases {
            let json = serde_json::to_value(&value).unwrap();
            assert_eq!(Value::from_json(&json, &ty), Ok(value), "{json} as {ty:?}");
        }
        for day in [-800_000_i64, -1, 0, 59, 18_000, 2_932_896] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), day);
        }
        let wrong = Value::from_json(&serde_json::json!("soon"), &BqType::Int64);
        assert!(wrong.unwrap_err().contains("\"soon\""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_back_with_their_types() {
        for text in [
            "STRING",
            "INT64",
            "ARRAY<STRUCT<key STRING, value STRUCT<int_value INT64, double_value FLOAT64>>>",
        ] {
            let column = Column {
                name: "c".to_owned(),
                ty: BqType::parse(text).unwrap(),
            };
            let json = serde_json::to_value(&column).unwrap();
            assert_eq!(json["type"], text);
            assert_eq!(serde_json::from_value::<Column>(json).unwrap(), column);
        }
        assert!(serde_json::from_str::<Column>(r#"{"name": "c", "type": "NO<"}"#).is_err());
    }

    #[test]
    fn formats_timestamps_like_bigquery() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            format_timestamp(1_609_545_600_000_001),
            "2021-01-02 00:00:00.000001 UTC"
        );
        assert_eq!(civil_from_days(18_628), (2021, 1, 1));
    }

    #[test]
    fn bytes_are_human_sized() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn values_display_as_table_cells() {
        assert_eq!(Value::Null.to_string(), "NULL");
        assert_eq!(Value::String("a b".into()).to_string(), "a b");
        assert_eq!(Value::Int64(-3).to_string(), "-3");
        assert_eq!(Value::Date("2020-12-01".into()).to_string(), "2020-12-01");
    }

    #[test]
    fn serializes_rows_as_plain_json() {
        let row = vec![
            Value::Int64(3),
            Value::Date("2020-12-01".into()),
            Value::Struct(vec![("a".into(), Value::Null)]),
            Value::Float64(f64::NAN),
        ];
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"[3,"2020-12-01",{"a":null},"NaN"]"#
        );
    }
}
