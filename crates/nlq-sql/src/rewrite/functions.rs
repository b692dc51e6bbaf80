//! BigQuery function calls in DuckDB terms, as the function table (`crate::functions`) says:
//! same name, renamed, refused, or written out by an arm below that names the BigQuery
//! behaviour it keeps. A name the table does not hold is refused rather than passed through, so
//! a DuckDB-only function (`read_csv`, `getenv`, ...) can never run and nothing changes meaning
//! silently.

use sqlparser::ast::{
    BinaryOperator, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, Ident, Value,
};

use super::build::{binary, call, case_when, cast, date, lambda, number, string, timestamp};
use crate::error::SqlError;
use crate::functions::{BqFunction, Kind, Translation};

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

/// `HLL_COUNT.EXTRACT(HLL_COUNT.INIT(x[, precision]))` is BigQuery's HyperLogLog++ estimate of
/// the distinct x, written whole (GA4's reports count users and sessions so): it becomes
/// `APPROX_COUNT_DISTINCT(x)`, which the embedded engine counts exactly, before the calls are
/// rewritten inside out. A sketch kept, merged or stored stays refused: its bytes are BigQuery's.
pub(crate) fn count_of_sketch(f: &mut Function) {
    let named = |f: &Function, name: &str| f.name.to_string().eq_ignore_ascii_case(name);
    if !named(f, "HLL_COUNT.EXTRACT") {
        return;
    }
    let FunctionArguments::List(list) = &f.args else {
        return;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(init)))] = list.args.as_slice()
    else {
        return;
    };
    if !named(init, "HLL_COUNT.INIT") {
        return;
    }
    let FunctionArguments::List(init_args) = &init.args else {
        return;
    };
    let precision_ok = match init_args.args.get(1) {
        None => true,
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))) => {
            matches!(&v.value, sqlparser::ast::Value::Number(n, _) if n.parse::<u8>().is_ok_and(|p| (10..=24).contains(&p)))
        }
        Some(_) => false,
    };
    let (Some(value @ FunctionArg::Unnamed(FunctionArgExpr::Expr(_))), true, true) = (
        init_args.args.first(),
        precision_ok,
        init_args.args.len() <= 2,
    ) else {
        return;
    };
    let value = value.clone();
    f.name =
        sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new("APPROX_COUNT_DISTINCT")]);
    f.args = FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
        duplicate_treatment: None,
        args: vec![value],
        clauses: vec![],
    });
}

/// Rewrites one function call. `Ok(Some(e))` replaces the call, `Ok(None)` keeps it (possibly
/// renamed in place).
pub(crate) fn rewrite(f: &mut Function, cx: &Context<'_>) -> Result<Option<Expr>, SqlError> {
    if super::build::is_duck_call(&f.name) {
        return Ok(None);
    }
    let Some(found) = crate::functions::lookup(&f.name) else {
        return Err(cx.unsupported(
            format!("function {}()", f.name),
            Some("it is not a BigQuery function nlq knows; see the function table in docs/ARCHITECTURE.md"),
        ));
    };
    let safe = found.safe;
    let out = rewrite_known(f, found.function, cx)?;
    if safe {
        // SAFE.f(...) answers NULL where f would fail: DuckDB's try() does the same. A call
        // kept under its own name drops the prefix (a renamed one already has).
        if found.function.translation == Translation::Same {
            f.name = super::build::duck_name(&found.function.name.to_ascii_lowercase());
        }
        let inner = out.unwrap_or_else(|| Expr::Function(f.clone()));
        return Ok(Some(call("try", vec![inner])));
    }
    Ok(out)
}

/// The arm `rewrite_known` ends in when the table says `Rewritten` and no arm matches: a bug in
/// this file, which a test looks for.
const NO_ARM: &str = "the function table says it is rewritten but no rewrite exists";

fn rewrite_known(
    f: &mut Function,
    function: &BqFunction,
    cx: &Context<'_>,
) -> Result<Option<Expr>, SqlError> {
    let name = function.name;
    match function.translation {
        Translation::Same => return Ok(None),
        Translation::Rename(duck) => {
            f.name = super::build::duck_name(duck);
            return Ok(None);
        }
        Translation::Refused(why) => {
            return Err(cx.unsupported(format!("function {name}()"), Some(why)));
        }
        Translation::InPlace => {
            return Err(cx.unsupported(
                format!("{name}() as a call"),
                Some(match function.kind {
                    Kind::Subscript => "write it inside an array subscript: arr[OFFSET(0)]",
                    Kind::DatePart => "write it as a date part: DATE_TRUNC(d, WEEK(MONDAY))",
                    _ => "write it in its own syntax: EXTRACT(HOUR FROM ts)",
                }),
            ));
        }
        Translation::Missing => {
            return Err(cx.unsupported(
                format!("function {name}()"),
                Some("it runs on BigQuery; the embedded engine has no faithful translation of it yet"),
            ));
        }
        Translation::Rewritten => {}
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
        "REGEXP_EXTRACT" | "REGEXP_SUBSTR" | "REGEXP_EXTRACT_ALL" => {
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
        "FORMAT_TIMESTAMP" => {
            arity(2..=3)?;
            call("strftime", vec![wall_clock(a(1), args.get(2)), a(0)])
        }
        "FORMAT_DATETIME" => {
            arity(2..=2)?;
            call("strftime", vec![a(1), a(0)])
        }
        "DATE" => match args.len() {
            1 => cast(a(0), date()),
            2 => cast(wall_clock(a(0), args.get(1)), date()),
            3 => call("make_date", args),
            _ => return Err(cx.unsupported(format!("DATE with {} arguments", args.len()), None)),
        },
        // DATETIME(timestamp, zone): the wall clock there; DATETIME(text or date): itself.
        "DATETIME" => match args.len() {
            1 => cast(a(0), timestamp()),
            2 => wall_clock(a(0), args.get(1)),
            3 => call(
                "make_timestamp",
                args.into_iter()
                    .chain([number(0), number(0), number(0)])
                    .collect(),
            ),
            6 => call("make_timestamp", args),
            _ => {
                return Err(cx.unsupported(format!("DATETIME with {} arguments", args.len()), None));
            }
        },
        // TIMESTAMP(civil time, zone): the instant that wall clock shows in the zone.
        "TIMESTAMP" => {
            arity(1..=2)?;
            instant(cast(a(0), timestamp()), args.get(1))
        }
        "CONTAINS_SUBSTR" => {
            arity(2..=2)?;
            // Case-insensitive, as BigQuery's (which also folds Unicode; lower() does for the
            // languages GA4 data holds).
            let text = |e: Expr| {
                call(
                    "lower",
                    vec![cast(e, sqlparser::ast::DataType::Varchar(None))],
                )
            };
            call("contains", vec![text(a(0)), text(a(1))])
        }
        "INSTR" => {
            arity(2..=2)?;
            call("instr", args)
        }
        "NET.HOST" => {
            arity(1..=1)?;
            // The authority's host: after an optional scheme and user info, before a port,
            // path, query or fragment; NULL when there is none, as BigQuery answers.
            let host = call(
                "regexp_extract",
                vec![
                    a(0),
                    string(
                        r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?(?://)?(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)",
                    ),
                    number(1),
                ],
            );
            call("nullif", vec![host, string("")])
        }
        "LAST_DAY" => {
            arity(1..=2)?;
            let part = match args.get(1) {
                Some(part) => date_part(part, cx)?,
                None => "MONTH".to_owned(),
            };
            let d = cast(a(0), date());
            match part.as_str() {
                "MONTH" => call("last_day", vec![d]),
                "QUARTER" | "YEAR" => cast(
                    binary(
                        binary(
                            call("date_trunc", vec![string(&part.to_ascii_lowercase()), d]),
                            BinaryOperator::Plus,
                            call(
                                &format!("to_{}s", part.to_ascii_lowercase()),
                                vec![number(1)],
                            ),
                        ),
                        BinaryOperator::Minus,
                        call("to_days", vec![number(1)]),
                    ),
                    date(),
                ),
                other => return Err(cx.unsupported(format!("LAST_DAY by {other}"), None)),
            }
        }
        "APPROX_QUANTILES" => {
            arity(2..=2)?;
            // n + 1 boundaries: the minimum, the n - 1 cut points, the maximum. The exact
            // quantiles are within any approximation's error, and the same on every run.
            let n = match literal_int(&args[1]) {
                Some(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(cx.unsupported(
                        format!("APPROX_QUANTILES with {} quantiles", args[1]),
                        Some("write the number of quantiles as a literal from 1 to 1000"),
                    ));
                }
            };
            let points = (0..=n)
                .map(|i| {
                    Expr::Value(
                        Value::Number(format!("{}", i as f64 / n as f64), false).with_empty_span(),
                    )
                })
                .collect();
            call(
                "quantile_disc",
                vec![
                    a(0),
                    Expr::Array(sqlparser::ast::Array {
                        elem: points,
                        named: false,
                    }),
                ],
            )
        }
        "APPROX_TOP_COUNT" => {
            arity(2..=2)?;
            let n = literal_int(&args[1]).filter(|n| *n >= 1).ok_or_else(|| {
                cx.unsupported(
                    format!("APPROX_TOP_COUNT with {} values", args[1]),
                    Some("write the number of values as a positive literal"),
                )
            })?;
            top_count(a(0), n)
        }
        "JSON_VALUE" | "JSON_EXTRACT_SCALAR" => {
            arity(1..=2)?;
            let path = args.get(1).cloned().unwrap_or_else(|| string("$"));
            call("json_extract_string", vec![a(0), path])
        }
        "JSON_QUERY" | "JSON_EXTRACT" => {
            arity(1..=2)?;
            let path = args.get(1).cloned().unwrap_or_else(|| string("$"));
            cast(
                call("json_extract", vec![a(0), path]),
                sqlparser::ast::DataType::Varchar(None),
            )
        }
        "TO_JSON_STRING" => {
            arity(1..=1)?;
            cast(
                call("to_json", vec![a(0)]),
                sqlparser::ast::DataType::Varchar(None),
            )
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
            let part = date_part(&args[1], cx)?;
            // A zone truncates its wall clock (its days start at its midnight).
            let local = wall_clock(a(0), args.get(2));
            let truncated = match part.as_str() {
                "MICROSECOND" | "MILLISECOND" | "SECOND" | "MINUTE" | "HOUR" | "DAY" | "MONTH"
                | "QUARTER" | "YEAR" => call(
                    "date_trunc",
                    vec![string(&part.to_ascii_lowercase()), local],
                ),
                _ => cast(date_trunc(cast(local, date()), &part, cx)?, timestamp()),
            };
            instant(truncated, args.get(2))
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
        "ZEROIFNULL" => {
            arity(1..=1)?;
            call("ifnull", vec![a(0), number(0)])
        }
        "LOG" => {
            arity(1..=2)?;
            // LOG(x, base); DuckDB's one-argument log() is base 10, BigQuery's natural.
            match args.get(1) {
                None => call("ln", args),
                Some(base) => binary(
                    call("ln", vec![a(0)]),
                    BinaryOperator::Divide,
                    call("ln", vec![base.clone()]),
                ),
            }
        }
        "SAFE_ADD" | "SAFE_SUBTRACT" | "SAFE_MULTIPLY" => {
            arity(2..=2)?;
            let op = match name {
                "SAFE_ADD" => BinaryOperator::Plus,
                "SAFE_SUBTRACT" => BinaryOperator::Minus,
                _ => BinaryOperator::Multiply,
            };
            // NULL on overflow, as BigQuery answers; try() turns DuckDB's error into NULL.
            call("try", vec![binary(a(0), op, a(1))])
        }
        "SAFE_NEGATE" => {
            arity(1..=1)?;
            call(
                "try",
                vec![Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Minus,
                    expr: Box::new(Expr::Nested(Box::new(a(0)))),
                }],
            )
        }
        "DATE_FROM_UNIX_DATE" => {
            arity(1..=1)?;
            cast(
                binary(
                    cast(string("1970-01-01"), date()),
                    BinaryOperator::Plus,
                    call("to_days", vec![a(0)]),
                ),
                date(),
            )
        }
        _ => return Err(cx.unsupported(format!("function {name}()"), Some(NO_ARM))),
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

/// `ARRAY_AGG(IF(...) IGNORE NULLS ...)`: the parser takes an IGNORE NULLS after a call for
/// that call's own (as in `FIRST_VALUE(x) IGNORE NULLS`), where BigQuery reads it as
/// ARRAY_AGG's. Moved back before the argument is rewritten (and the call it hangs on gone).
pub(super) fn hoist_null_treatment(f: &mut Function) {
    if !f.name.to_string().eq_ignore_ascii_case("ARRAY_AGG") {
        return;
    }
    if let FunctionArguments::List(list) = &mut f.args
        && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(inner)))] =
            list.args.as_mut_slice()
        && let Some(treatment) = inner.null_treatment.take()
    {
        list.clauses
            .insert(0, FunctionArgumentClause::IgnoreOrRespectNulls(treatment));
    }
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

/// The embedded engine keeps timestamps as UTC wall clocks (TIMESTAMP without a zone); a zone
/// argument converts through DuckDB's ICU time zones. UTC itself needs no conversion.
fn is_utc(zone: Option<&Expr>) -> bool {
    match zone {
        None => true,
        Some(Expr::Value(v)) => matches!(&v.value,
            Value::SingleQuotedString(z) | Value::DoubleQuotedString(z)
                if z.eq_ignore_ascii_case("UTC") || z == "Etc/UTC" || z == "+00" || z == "Z"),
        Some(_) => false,
    }
}

/// What the clocks of `zone` show at the UTC instant `ts`.
pub(crate) fn wall_clock(ts: Expr, zone: Option<&Expr>) -> Expr {
    match zone {
        Some(zone) if !is_utc(Some(zone)) => call(
            "timezone",
            vec![zone.clone(), call("timezone", vec![string("UTC"), ts])],
        ),
        _ => ts,
    }
}

/// The UTC instant at which the clocks of `zone` show `local`.
fn instant(local: Expr, zone: Option<&Expr>) -> Expr {
    match zone {
        Some(zone) if !is_utc(Some(zone)) => call(
            "timezone",
            vec![string("UTC"), call("timezone", vec![zone.clone(), local])],
        ),
        _ => local,
    }
}

fn literal_int(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// `APPROX_TOP_COUNT(x, n)`: the n most frequent values with their counts, most frequent first,
/// as `ARRAY<STRUCT<value, count>>`; ties are broken by value, so every run answers the same.
fn top_count(x: Expr, n: i64) -> Expr {
    let e = Ident::new("__e");
    let field = |name: &str| Expr::CompoundIdentifier(vec![e.clone(), Ident::new(name)]);
    let pair = |a: (&str, Expr), b: (&str, Expr)| {
        Expr::Dictionary(vec![
            sqlparser::ast::DictionaryField {
                key: Ident::with_quote('\'', a.0),
                value: Box::new(a.1),
            },
            sqlparser::ast::DictionaryField {
                key: Ident::with_quote('\'', b.0),
                value: Box::new(b.1),
            },
        ])
    };
    // histogram() counts each value; sorting {count, value} descending puts the most frequent
    // first (ties: the larger value first).
    let entries = call("map_entries", vec![call("histogram", vec![x])]);
    let by_count = call(
        "list_transform",
        vec![
            entries,
            lambda(
                e.clone(),
                pair(("count", field("value")), ("value", field("key"))),
            ),
        ],
    );
    let sorted = call("list_reverse_sort", vec![by_count]);
    let top = call("list_slice", vec![sorted, number(1), number(n)]);
    call(
        "list_transform",
        vec![
            top,
            lambda(
                e.clone(),
                pair(("value", field("value")), ("count", field("count"))),
            ),
        ],
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed_call(sql: &str) -> Function {
        let dialect = sqlparser::dialect::BigQueryDialect {};
        let expr = sqlparser::parser::Parser::new(&dialect)
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_expr())
            .unwrap();
        match expr {
            Expr::Function(f) => f,
            other => panic!("not a call: {other}"),
        }
    }

    /// Every function the table marks `Rewritten` reaches an arm, whatever its argument count:
    /// errors about arguments are fine, the "no rewrite exists" fallback is not.
    #[test]
    fn every_rewritten_function_has_an_arm() {
        let cx = Context {
            current_date: "2021-01-31",
            position: None,
        };
        let args = ["'2021-01-01'", "2", "DAY", "'Asia/Seoul'"];
        for function in crate::functions::all() {
            if function.translation != Translation::Rewritten {
                continue;
            }
            for n in 0..=args.len() {
                let sql = format!("{}({})", function.name, args[..n].join(", "));
                if let Err(SqlError::Unsupported { hint, .. }) =
                    rewrite(&mut parsed_call(&sql), &cx)
                {
                    assert_ne!(hint.as_deref(), Some(NO_ARM), "{sql}");
                }
            }
        }
    }

    #[test]
    fn a_safe_prefix_keeps_the_duckdb_name_plain() {
        let cx = Context {
            current_date: "2021-01-31",
            position: None,
        };
        let out = rewrite(&mut parsed_call("SAFE.ABS(x)"), &cx)
            .unwrap()
            .unwrap();
        assert_eq!(out.to_string(), r#""try"("abs"(x))"#);
    }
}
