//! BigQuery functions and their DuckDB equivalents. Each arm names the BigQuery behaviour it
//! keeps; functions not listed are refused rather than passed through, so a DuckDB-only
//! function (`read_csv`, `getenv`, ...) can never run and nothing changes meaning silently.

use sqlparser::ast::{
    BinaryOperator, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, Ident, Value,
};

use super::build::{binary, call, case_when, cast, date, lambda, number, string, timestamp};
use crate::error::SqlError;

/// Functions whose DuckDB namesake behaves as BigQuery's does for the types GA4 queries use.
const SAME_NAME: &[&str] = &[
    "ABS",
    "ANY_VALUE",
    "ARRAY_TO_STRING",
    "AVG",
    "CEIL",
    "CEILING",
    "CHAR_LENGTH",
    "COALESCE",
    "CORR",
    "COUNT",
    "CUME_DIST",
    "DENSE_RANK",
    "ENDS_WITH",
    "EXP",
    "FIRST_VALUE",
    "FLOOR",
    "IFNULL",
    "LAG",
    "LAST_VALUE",
    "LEAD",
    "LEFT",
    "LENGTH",
    "LN",
    "LOWER",
    "LPAD",
    "LTRIM",
    "MAX",
    "MIN",
    "MOD",
    "NTH_VALUE",
    "NTILE",
    "NULLIF",
    "PERCENT_RANK",
    "POW",
    "POWER",
    "RANK",
    "REPEAT",
    "REPLACE",
    "REVERSE",
    "RIGHT",
    "ROUND",
    "ROW_NUMBER",
    "RPAD",
    "RTRIM",
    "SIGN",
    "SQRT",
    "STARTS_WITH",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "STRING_AGG",
    "STRPOS",
    "SUBSTR",
    "SUBSTRING",
    "SUM",
    "TRIM",
    "TRUNC",
    "UPPER",
    "VAR_POP",
    "VAR_SAMP",
    "VARIANCE",
    "ARRAY",
];

/// Renames whose semantics match.
const RENAMED: &[(&str, &str)] = &[
    ("COUNTIF", "count_if"),
    ("LOGICAL_AND", "bool_and"),
    ("LOGICAL_OR", "bool_or"),
    ("ARRAY_LENGTH", "len"),
    ("ARRAY_CONCAT", "list_concat"),
    ("ARRAY_REVERSE", "list_reverse"),
    ("REGEXP_CONTAINS", "regexp_matches"),
    ("TIMESTAMP_MICROS", "make_timestamp"),
    ("UNIX_MICROS", "epoch_us"),
    ("UNIX_MILLIS", "epoch_ms"),
    ("FORMAT", "printf"),
    ("GENERATE_ARRAY", "generate_series"),
    ("LOG10", "log10"),
];

pub(crate) struct Context<'a> {
    pub current_date: &'a str,
    pub position: Option<nlq_core::SqlPosition>,
}

impl Context<'_> {
    fn unsupported(&self, construct: String, hint: Option<&str>) -> SqlError {
        SqlError::Unsupported {
            construct,
            hint: hint.map(str::to_owned),
            position: self.position,
        }
    }
}

/// Which argument of a function is a date part (`MONTH`, `WEEK(MONDAY)`): it must not be read
/// as a column or a function call.
pub(crate) fn date_part_argument(name: &str) -> Option<usize> {
    match name {
        "DATE_TRUNC" | "TIMESTAMP_TRUNC" | "DATETIME_TRUNC" => Some(1),
        "DATE_DIFF" | "TIMESTAMP_DIFF" | "DATETIME_DIFF" => Some(2),
        _ => None,
    }
}

/// Rewrites one function call. `Ok(Some(e))` replaces the call, `Ok(None)` keeps it (possibly
/// renamed in place).
pub(crate) fn rewrite(f: &mut Function, cx: &Context<'_>) -> Result<Option<Expr>, SqlError> {
    if super::build::is_duck_call(&f.name) {
        return Ok(None);
    }
    let parts: Vec<String> = crate::tables::name_parts(&f.name);
    let (safe, name) = match parts.as_slice() {
        [name] => (false, name.to_ascii_uppercase()),
        [prefix, name] if prefix.eq_ignore_ascii_case("SAFE") => (true, name.to_ascii_uppercase()),
        _ => return Err(cx.unsupported(format!("function `{}`", f.name), None)),
    };
    let out = rewrite_named(f, &name, cx)?;
    if safe {
        // SAFE.f(...) answers NULL where f would fail: DuckDB's try() does the same.
        let inner = out.unwrap_or_else(|| Expr::Function(f.clone()));
        return Ok(Some(call("try", vec![inner])));
    }
    Ok(out)
}

fn rewrite_named(f: &mut Function, name: &str, cx: &Context<'_>) -> Result<Option<Expr>, SqlError> {
    if let Some((_, duck)) = RENAMED.iter().find(|(bq, _)| *bq == name) {
        f.name = super::build::duck_name(duck);
        return Ok(None);
    }
    if name == "CURRENT_DATE" {
        return Ok(Some(cast(string(cx.current_date), date())));
    }
    if matches!(name, "CURRENT_TIMESTAMP" | "CURRENT_DATETIME") {
        return Ok(Some(cast(string(cx.current_date), timestamp())));
    }
    if name == "APPROX_COUNT_DISTINCT" {
        // The exact count is within any approximation's error, and the same on every run.
        f.name = super::build::duck_name("count");
        if let FunctionArguments::List(list) = &mut f.args {
            list.duplicate_treatment = Some(sqlparser::ast::DuplicateTreatment::Distinct);
        }
        return Ok(None);
    }
    if name == "ARRAY_AGG" {
        return array_agg(f, cx).map(Some);
    }
    if SAME_NAME.contains(&name) {
        return Ok(None);
    }
    let args = plain_args(f, cx, name)?;
    let arity = |range: std::ops::RangeInclusive<usize>| {
        if range.contains(&args.len()) {
            Ok(())
        } else {
            Err(cx.unsupported(format!("{name} with {} arguments", args.len()), None))
        }
    };
    let a = |i: usize| args[i].clone();
    Ok(Some(match name {
        "IF" => {
            arity(3..=3)?;
            case_when(a(0), a(1), Some(a(2)))
        }
        "GREATEST" | "LEAST" => {
            arity(1..=usize::MAX)?;
            // BigQuery answers NULL when any argument is NULL; DuckDB's skip NULLs.
            let any_null = args
                .iter()
                .map(|a| Expr::IsNull(Box::new(a.clone())))
                .reduce(|acc, next| binary(acc, BinaryOperator::Or, next))
                .unwrap_or_else(|| Expr::Value(Value::Boolean(false).with_empty_span()));
            case_when(
                any_null,
                Expr::Value(Value::Null.with_empty_span()),
                Some(call(&name.to_ascii_lowercase(), args)),
            )
        }
        "SAFE_DIVIDE" => {
            arity(2..=2)?;
            // DuckDB's `/` answers +-inf for x/0; BigQuery's SAFE_DIVIDE answers NULL.
            binary(
                a(0),
                BinaryOperator::Divide,
                call("nullif", vec![a(1), number(0)]),
            )
        }
        "DIV" => {
            arity(2..=2)?;
            binary(a(0), BinaryOperator::DuckIntegerDivide, a(1))
        }
        "CONCAT" => {
            arity(1..=usize::MAX)?;
            // `||` keeps BigQuery's NULL-in, NULL-out; DuckDB's concat() skips NULLs.
            let mut iter = args.into_iter();
            let first = iter.next().unwrap_or_else(|| string(""));
            iter.fold(first, |acc, next| {
                binary(acc, BinaryOperator::StringConcat, next)
            })
        }
        "SPLIT" => {
            arity(1..=2)?;
            let delimiter = args.get(1).cloned().unwrap_or_else(|| string(","));
            call("string_split", vec![a(0), delimiter])
        }
        "REGEXP_EXTRACT" | "REGEXP_EXTRACT_ALL" => {
            arity(2..=2)?;
            let group = number(capture_group(&args[1], cx)?);
            if name == "REGEXP_EXTRACT_ALL" {
                call("regexp_extract_all", vec![a(0), a(1), group])
            } else {
                // DuckDB answers '' when nothing matches; BigQuery answers NULL.
                case_when(
                    call("regexp_matches", vec![a(0), a(1)]),
                    call("regexp_extract", vec![a(0), a(1), group]),
                    None,
                )
            }
        }
        "REGEXP_REPLACE" => {
            arity(3..=3)?;
            call("regexp_replace", vec![a(0), a(1), a(2), string("g")])
        }
        "PARSE_DATE" => {
            arity(2..=2)?;
            cast(call("strptime", vec![a(1), a(0)]), date())
        }
        "PARSE_TIMESTAMP" | "PARSE_DATETIME" => {
            arity(2..=2)?;
            call("strptime", vec![a(1), a(0)])
        }
        "FORMAT_DATE" => {
            arity(2..=2)?;
            call("strftime", vec![cast(a(1), date()), a(0)])
        }
        "FORMAT_TIMESTAMP" | "FORMAT_DATETIME" => {
            arity(2..=3)?;
            utc_only(args.get(2), cx)?;
            call("strftime", vec![a(1), a(0)])
        }
        "DATE" => match args.len() {
            1 => cast(a(0), date()),
            2 => {
                utc_only(args.get(1), cx)?;
                cast(a(0), date())
            }
            3 => call("make_date", args),
            _ => return Err(cx.unsupported(format!("DATE with {} arguments", args.len()), None)),
        },
        "TIMESTAMP" | "DATETIME" => {
            arity(1..=2)?;
            utc_only(args.get(1), cx)?;
            cast(a(0), timestamp())
        }
        "TIMESTAMP_MILLIS" => {
            arity(1..=1)?;
            call(
                "make_timestamp",
                vec![binary(a(0), BinaryOperator::Multiply, number(1000))],
            )
        }
        "TIMESTAMP_SECONDS" => {
            arity(1..=1)?;
            call(
                "make_timestamp",
                vec![binary(a(0), BinaryOperator::Multiply, number(1_000_000))],
            )
        }
        "UNIX_SECONDS" => {
            arity(1..=1)?;
            binary(
                call("epoch_us", vec![a(0)]),
                BinaryOperator::DuckIntegerDivide,
                number(1_000_000),
            )
        }
        "UNIX_DATE" => {
            arity(1..=1)?;
            call(
                "date_diff",
                vec![string("day"), cast(string("1970-01-01"), date()), a(0)],
            )
        }
        "DATE_ADD" | "DATE_SUB" => {
            arity(2..=2)?;
            let (n, unit) = interval(&args[1], cx)?;
            let n = if name == "DATE_SUB" { negate(n) } else { n };
            date_plus(a(0), n, &unit, cx)?
        }
        "TIMESTAMP_ADD" | "TIMESTAMP_SUB" | "DATETIME_ADD" | "DATETIME_SUB" => {
            arity(2..=2)?;
            let (n, unit) = interval(&args[1], cx)?;
            let op = if name.ends_with("_SUB") {
                BinaryOperator::Minus
            } else {
                BinaryOperator::Plus
            };
            binary(
                a(0),
                op,
                call(&format!("to_{}", duck_unit_plural(&unit, cx)?), vec![n]),
            )
        }
        "DATE_DIFF" => {
            arity(3..=3)?;
            let part = date_part(&args[2], cx)?;
            date_diff(a(0), a(1), &part, cx)?
        }
        "TIMESTAMP_DIFF" | "DATETIME_DIFF" => {
            arity(3..=3)?;
            let part = date_part(&args[2], cx)?;
            // BigQuery counts whole units elapsed, not unit boundaries crossed.
            let micros = match part.as_str() {
                "MICROSECOND" => 1,
                "MILLISECOND" => 1_000,
                "SECOND" => 1_000_000,
                "MINUTE" => 60_000_000,
                "HOUR" => 3_600_000_000,
                "DAY" => 86_400_000_000,
                other => return Err(cx.unsupported(format!("{name} by {other}"), None)),
            };
            let diff = binary(
                call("epoch_us", vec![a(0)]),
                BinaryOperator::Minus,
                call("epoch_us", vec![a(1)]),
            );
            let whole_units = call(
                "trunc",
                vec![binary(diff, BinaryOperator::Divide, number(micros))],
            );
            cast(whole_units, sqlparser::ast::DataType::BigInt(None))
        }
        "DATE_TRUNC" => {
            arity(2..=2)?;
            let part = date_part(&args[1], cx)?;
            date_trunc(a(0), &part, cx)?
        }
        "TIMESTAMP_TRUNC" | "DATETIME_TRUNC" => {
            arity(2..=3)?;
            utc_only(args.get(2), cx)?;
            let part = date_part(&args[1], cx)?;
            match part.as_str() {
                "MICROSECOND" | "MILLISECOND" | "SECOND" | "MINUTE" | "HOUR" | "DAY" | "MONTH"
                | "QUARTER" | "YEAR" => {
                    call("date_trunc", vec![string(&part.to_ascii_lowercase()), a(0)])
                }
                _ => cast(date_trunc(cast(a(0), date()), &part, cx)?, timestamp()),
            }
        }
        "GENERATE_DATE_ARRAY" => {
            arity(2..=3)?;
            let step = match args.get(2) {
                Some(step) => {
                    let (n, unit) = interval(step, cx)?;
                    call(&format!("to_{}", duck_unit_plural(&unit, cx)?), vec![n])
                }
                None => call("to_days", vec![number(1)]),
            };
            let d = Ident::new("__d");
            call(
                "list_transform",
                vec![
                    call(
                        "generate_series",
                        vec![cast(a(0), timestamp()), cast(a(1), timestamp()), step],
                    ),
                    lambda(d.clone(), cast(Expr::Identifier(d), date())),
                ],
            )
        }
        _ => {
            return Err(cx.unsupported(
                format!("function {name}()"),
                Some("rewrite the query with BigQuery functions the embedded engine knows (see docs/ARCHITECTURE.md)"),
            ));
        }
    }))
}

fn plain_args(f: &Function, cx: &Context<'_>, name: &str) -> Result<Vec<Expr>, SqlError> {
    let list = match &f.args {
        FunctionArguments::None => return Ok(vec![]),
        FunctionArguments::List(list) => list,
        FunctionArguments::Subquery(_) => {
            return Err(cx.unsupported(format!("{name} over a subquery"), None));
        }
    };
    if !list.clauses.is_empty() || list.duplicate_treatment.is_some() {
        return Err(cx.unsupported(format!("{name} with ORDER BY/LIMIT/DISTINCT inside"), None));
    }
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.clone()),
            other => Err(cx.unsupported(format!("argument `{other}` of {name}"), None)),
        })
        .collect()
}

/// `ARRAY_AGG(x [ORDER BY ..] [LIMIT n])`: DuckDB's list() takes the ORDER BY; LIMIT becomes a
/// slice; IGNORE NULLS a filter.
fn array_agg(f: &mut Function, cx: &Context<'_>) -> Result<Expr, SqlError> {
    f.name = super::build::duck_name("list");
    let mut limit = None;
    let mut ignore_nulls = false;
    if let FunctionArguments::List(list) = &mut f.args {
        let mut kept = Vec::new();
        for clause in list.clauses.drain(..) {
            match clause {
                FunctionArgumentClause::Limit(n) => limit = Some(n),
                FunctionArgumentClause::IgnoreOrRespectNulls(
                    sqlparser::ast::NullTreatment::IgnoreNulls,
                ) => ignore_nulls = true,
                FunctionArgumentClause::IgnoreOrRespectNulls(_) => {}
                FunctionArgumentClause::OrderBy(order) => {
                    kept.push(FunctionArgumentClause::OrderBy(order))
                }
                other => return Err(cx.unsupported(format!("ARRAY_AGG(... {other})"), None)),
            }
        }
        list.clauses = kept;
        if ignore_nulls
            && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] = list.args.as_slice()
        {
            let condition = Expr::IsNotNull(Box::new(e.clone()));
            f.filter = Some(Box::new(match f.filter.take() {
                Some(existing) => binary(*existing, BinaryOperator::And, condition),
                None => condition,
            }));
        }
    }
    let agg = Expr::Function(f.clone());
    Ok(match limit {
        Some(n) => Expr::CompoundFieldAccess {
            root: Box::new(Expr::Nested(Box::new(agg))),
            access_chain: vec![sqlparser::ast::AccessExpr::Subscript(
                sqlparser::ast::Subscript::Slice {
                    lower_bound: Some(number(1)),
                    upper_bound: Some(n),
                    stride: None,
                },
            )],
        },
        None => agg,
    })
}

/// BigQuery answers time-zone-aware variants relative to a zone; the embedded engine keeps
/// every timestamp in UTC, so only UTC is accepted.
fn utc_only(zone: Option<&Expr>, cx: &Context<'_>) -> Result<(), SqlError> {
    match zone {
        None => Ok(()),
        Some(Expr::Value(v)) if matches!(&v.value, Value::SingleQuotedString(z) | Value::DoubleQuotedString(z) if z.eq_ignore_ascii_case("UTC") || z == "Etc/UTC" || z == "+00") => {
            Ok(())
        }
        Some(other) => Err(cx.unsupported(
            format!("time zone {other}"),
            Some("the embedded engine computes in UTC; drop the time zone argument"),
        )),
    }
}

/// `INTERVAL n UNIT` as (n, UNIT).
fn interval(expr: &Expr, cx: &Context<'_>) -> Result<(Expr, String), SqlError> {
    match expr {
        Expr::Interval(i) if i.last_field.is_none() => {
            let unit = match &i.leading_field {
                Some(field) => field_name(field),
                None => {
                    return Err(cx.unsupported(format!("interval `{expr}` without a unit"), None));
                }
            };
            let n = match i.value.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                        match s.trim().parse::<i64>() {
                            Ok(n) => number(n),
                            Err(_) => {
                                return Err(cx.unsupported(format!("interval `{expr}`"), None));
                            }
                        }
                    }
                    _ => *i.value.clone(),
                },
                other => other.clone(),
            };
            Ok((cast(n, sqlparser::ast::DataType::BigInt(None)), unit))
        }
        other => Err(cx.unsupported(format!("`{other}` where an INTERVAL was expected"), None)),
    }
}

fn negate(n: Expr) -> Expr {
    Expr::UnaryOp {
        op: sqlparser::ast::UnaryOperator::Minus,
        expr: Box::new(Expr::Nested(Box::new(n))),
    }
}

fn field_name(field: &DateTimeField) -> String {
    match field {
        DateTimeField::Week(Some(day)) => format!("WEEK({})", day.value.to_ascii_uppercase()),
        other => {
            let text = other.to_string().to_ascii_uppercase();
            text.trim_end_matches('S').to_owned()
        }
    }
}

/// The date part argument of DATE_TRUNC / DATE_DIFF: `MONTH`, `WEEK`, `WEEK(MONDAY)`, `ISOWEEK`.
pub(crate) fn date_part(expr: &Expr, cx: &Context<'_>) -> Result<String, SqlError> {
    match expr {
        Expr::Identifier(ident) => Ok(ident.value.to_ascii_uppercase()),
        // Normalised before the arguments were rewritten (see `ToDuckDb::pre_visit_expr`).
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(part) => Ok(part.to_ascii_uppercase()),
            _ => Err(cx.unsupported(format!("date part `{expr}`"), None)),
        },
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_uppercase();
            match &f.args {
                FunctionArguments::List(list) => match list.args.as_slice() {
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(day)))] => {
                        Ok(format!("{name}({})", day.value.to_ascii_uppercase()))
                    }
                    _ => Err(cx.unsupported(format!("date part `{expr}`"), None)),
                },
                _ => Err(cx.unsupported(format!("date part `{expr}`"), None)),
            }
        }
        other => Err(cx.unsupported(format!("date part `{other}`"), None)),
    }
}

fn duck_unit_plural(unit: &str, cx: &Context<'_>) -> Result<&'static str, SqlError> {
    Ok(match unit {
        "MICROSECOND" => "microseconds",
        "MILLISECOND" => "milliseconds",
        "SECOND" => "seconds",
        "MINUTE" => "minutes",
        "HOUR" => "hours",
        "DAY" => "days",
        "WEEK" => "weeks",
        "MONTH" => "months",
        "QUARTER" => "quarters",
        "YEAR" => "years",
        other => return Err(cx.unsupported(format!("interval unit {other}"), None)),
    })
}

fn date_plus(d: Expr, n: Expr, unit: &str, cx: &Context<'_>) -> Result<Expr, SqlError> {
    Ok(match unit {
        // DATE + INTEGER stays a DATE in DuckDB; DATE + INTERVAL would become a TIMESTAMP.
        "DAY" => binary(
            d,
            BinaryOperator::Plus,
            cast(n, sqlparser::ast::DataType::Integer(None)),
        ),
        "WEEK" => binary(
            d,
            BinaryOperator::Plus,
            cast(
                binary(n, BinaryOperator::Multiply, number(7)),
                sqlparser::ast::DataType::Integer(None),
            ),
        ),
        "MONTH" | "QUARTER" | "YEAR" => cast(
            binary(
                d,
                BinaryOperator::Plus,
                call(&format!("to_{}", duck_unit_plural(unit, cx)?), vec![n]),
            ),
            date(),
        ),
        other => return Err(cx.unsupported(format!("DATE arithmetic by {other}"), None)),
    })
}

/// Day of week BigQuery weeks start on: 0 = Sunday .. 6 = Saturday.
fn week_start(part: &str) -> Option<i64> {
    Some(match part {
        "WEEK" | "WEEK(SUNDAY)" => 0,
        "ISOWEEK" | "WEEK(MONDAY)" => 1,
        "WEEK(TUESDAY)" => 2,
        "WEEK(WEDNESDAY)" => 3,
        "WEEK(THURSDAY)" => 4,
        "WEEK(FRIDAY)" => 5,
        "WEEK(SATURDAY)" => 6,
        _ => return None,
    })
}

fn date_trunc(d: Expr, part: &str, cx: &Context<'_>) -> Result<Expr, SqlError> {
    if let Some(start) = week_start(part) {
        // d - ((dayofweek(d) - start + 7) % 7) days: the latest `start` day on or before d.
        let dow = call("dayofweek", vec![d.clone()]);
        let back = binary(
            binary(
                binary(dow, BinaryOperator::Minus, number(start)),
                BinaryOperator::Plus,
                number(7),
            ),
            BinaryOperator::Modulo,
            number(7),
        );
        return Ok(binary(
            cast(d, date()),
            BinaryOperator::Minus,
            cast(back, sqlparser::ast::DataType::Integer(None)),
        ));
    }
    match part {
        "DAY" => Ok(cast(d, date())),
        "MONTH" | "QUARTER" | "YEAR" => Ok(cast(
            call("date_trunc", vec![string(&part.to_ascii_lowercase()), d]),
            date(),
        )),
        "ISOYEAR" => Ok(cast(
            call(
                "date_trunc",
                vec![
                    string("week"),
                    call(
                        "make_date",
                        vec![call("isoyear", vec![d]), number(1), number(4)],
                    ),
                ],
            ),
            date(),
        )),
        other => Err(cx.unsupported(format!("DATE_TRUNC to {other}"), None)),
    }
}

fn date_diff(a: Expr, b: Expr, part: &str, cx: &Context<'_>) -> Result<Expr, SqlError> {
    if week_start(part).is_some() {
        // Week boundaries crossed = whole weeks between the two week starts.
        let days = call(
            "date_diff",
            vec![
                string("day"),
                date_trunc(b, part, cx)?,
                date_trunc(a, part, cx)?,
            ],
        );
        return Ok(binary(days, BinaryOperator::DuckIntegerDivide, number(7)));
    }
    match part {
        "DAY" | "MONTH" | "QUARTER" | "YEAR" => Ok(call(
            "date_diff",
            vec![
                string(&part.to_ascii_lowercase()),
                cast(b, date()),
                cast(a, date()),
            ],
        )),
        other => Err(cx.unsupported(format!("DATE_DIFF by {other}"), None)),
    }
}

/// EXTRACT(part FROM x) where BigQuery and DuckDB disagree on the part.
pub(crate) fn extract(
    field: &DateTimeField,
    expr: &Expr,
    cx: &Context<'_>,
) -> Result<Option<Expr>, SqlError> {
    Ok(Some(match field {
        // BigQuery: 1 = Sunday .. 7 = Saturday; DuckDB's dayofweek: 0 = Sunday.
        DateTimeField::DayOfWeek | DateTimeField::Dow => binary(
            call("dayofweek", vec![expr.clone()]),
            BinaryOperator::Plus,
            number(1),
        ),
        // BigQuery's WEEK: weeks starting Sunday, days before the first Sunday in week 0.
        DateTimeField::Week(None) => cast(
            call("strftime", vec![expr.clone(), string("%U")]),
            sqlparser::ast::DataType::BigInt(None),
        ),
        DateTimeField::Week(Some(day)) => {
            return Err(cx.unsupported(format!("EXTRACT(WEEK({day}) ...)"), None));
        }
        DateTimeField::IsoWeek => call("week", vec![expr.clone()]),
        DateTimeField::Date => cast(expr.clone(), date()),
        DateTimeField::Year
        | DateTimeField::Month
        | DateTimeField::Day
        | DateTimeField::DayOfYear
        | DateTimeField::Doy
        | DateTimeField::Hour
        | DateTimeField::Minute
        | DateTimeField::Second
        | DateTimeField::Quarter
        | DateTimeField::Isoyear => return Ok(None),
        other => return Err(cx.unsupported(format!("EXTRACT({other} ...)"), None)),
    }))
}

/// The group REGEXP_EXTRACT returns: the first capturing group if the pattern has one.
fn capture_group(pattern: &Expr, cx: &Context<'_>) -> Result<i64, SqlError> {
    let text = match pattern {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::SingleQuotedRawStringLiteral(s)
            | Value::DoubleQuotedRawStringLiteral(s) => s,
            _ => return Err(cx.unsupported("a non-string regular expression".to_owned(), None)),
        },
        _ => {
            return Err(cx.unsupported(
                "REGEXP_EXTRACT with a computed pattern".to_owned(),
                Some("write the pattern as a string literal"),
            ));
        }
    };
    let mut chars = text.chars().peekable();
    let mut groups = 0;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '(' if chars.peek() != Some(&'?') => groups += 1,
            _ => {}
        }
    }
    Ok(i64::from(groups > 0))
}

/// Array subscripts: BigQuery's OFFSET is 0-based, DuckDB lists are 1-based.
pub(crate) fn subscript_index(index: &Expr) -> Option<Expr> {
    let (name, arg) = match index {
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_uppercase();
            let arg = match &f.args {
                FunctionArguments::List(list) => match list.args.as_slice() {
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => e.clone(),
                    _ => return None,
                },
                _ => return None,
            };
            (name, arg)
        }
        // A bare `arr[n]` is an OFFSET in BigQuery.
        other => ("OFFSET".to_owned(), other.clone()),
    };
    match name.as_str() {
        "OFFSET" | "SAFE_OFFSET" => Some(binary(arg, BinaryOperator::Plus, number(1))),
        "ORDINAL" | "SAFE_ORDINAL" => Some(arg),
        _ => None,
    }
}
