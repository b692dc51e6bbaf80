//! Constant folding of the date expressions GA4 SQL uses to bound `_TABLE_SUFFIX`, e.g.
//! `FORMAT_DATE('%Y%m%d', DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY))`, so shards can be pruned
//! before the query runs. Anything it does not know folds to `None` (no pruning, same answer).

use sqlparser::ast::{
    BinaryOperator, DateTimeField, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
};

use nlq_core::result::civil_from_days;

/// The value of a constant STRING expression.
pub(crate) fn const_string(expr: &Expr, today: &str) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::SingleQuotedRawStringLiteral(s)
            | Value::DoubleQuotedRawStringLiteral(s) => Some(s.clone()),
            _ => None,
        },
        Expr::Nested(inner) => const_string(inner, today),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } => Some(const_string(left, today)? + &const_string(right, today)?),
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_uppercase();
            let args = plain_args(&f.args)?;
            match (name.as_str(), args.as_slice()) {
                ("CONCAT", parts) => parts.iter().map(|p| const_string(p, today)).collect(),
                ("FORMAT_DATE", [format, date]) => {
                    format_date(&const_string(format, today)?, const_date(date, today)?)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The value of a constant DATE expression, as days since 1970-01-01.
fn const_date(expr: &Expr, today: &str) -> Option<i64> {
    match expr {
        Expr::Nested(inner) => const_date(inner, today),
        Expr::TypedString(typed) if typed.data_type == sqlparser::ast::DataType::Date => {
            match &typed.value.value {
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => parse_iso(s),
                _ => None,
            }
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_uppercase();
            let args = match &f.args {
                FunctionArguments::None => Vec::new(),
                other => plain_args(other)?,
            };
            match (name.as_str(), args.as_slice()) {
                ("CURRENT_DATE", []) => parse_iso(today),
                ("DATE", [text]) => parse_iso(&const_string(text, today)?),
                ("PARSE_DATE", [format, text]) => {
                    let format = const_string(format, today)?;
                    let text = const_string(text, today)?;
                    match format.as_str() {
                        "%Y%m%d" if text.len() == 8 => parse_iso(&format!(
                            "{}-{}-{}",
                            text.get(0..4)?,
                            text.get(4..6)?,
                            text.get(6..8)?
                        )),
                        "%Y-%m-%d" => parse_iso(&text),
                        _ => None,
                    }
                }
                ("DATE_SUB" | "DATE_ADD", [date, Expr::Interval(interval)]) => {
                    let days = const_date(date, today)?;
                    let n = match interval.value.as_ref() {
                        Expr::Value(v) => match &v.value {
                            Value::Number(n, _) => n.parse::<i64>().ok()?,
                            Value::SingleQuotedString(s) => s.trim().parse::<i64>().ok()?,
                            _ => return None,
                        },
                        _ => return None,
                    };
                    let n = if name == "DATE_SUB" { -n } else { n };
                    match interval.leading_field.as_ref()? {
                        DateTimeField::Day | DateTimeField::Days => Some(days + n),
                        DateTimeField::Week(None) | DateTimeField::Weeks => Some(days + 7 * n),
                        DateTimeField::Month | DateTimeField::Months => add_months(days, n),
                        DateTimeField::Year | DateTimeField::Years => add_months(days, 12 * n),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn plain_args(args: &FunctionArguments) -> Option<Vec<&Expr>> {
    match args {
        FunctionArguments::List(list) if list.clauses.is_empty() => list
            .args
            .iter()
            .map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `YYYY-MM-DD` to days since the epoch.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Inverse of `civil_from_days` (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// BigQuery's DATE_ADD(.., INTERVAL n MONTH): the day is clamped to the target month's end.
fn add_months(days: i64, n: i64) -> Option<i64> {
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + i64::from(m) - 1 + n;
    let (y, m) = (
        total.div_euclid(12),
        u32::try_from(total.rem_euclid(12) + 1).ok()?,
    );
    Some(days_from_civil(y, m, d.min(days_in_month(y, m))))
}

/// FORMAT_DATE for the elements shard bounds use: `%Y`, `%m`, `%d`, `%F` and literal text.
fn format_date(format: &str, days: i64) -> Option<String> {
    let (y, m, d) = civil_from_days(days);
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'Y' => out.push_str(&format!("{y:04}")),
            'm' => out.push_str(&format!("{m:02}")),
            'd' => out.push_str(&format!("{d:02}")),
            'F' => out.push_str(&format!("{y:04}-{m:02}-{d:02}")),
            '%' => out.push('%'),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::BigQueryDialect;
    use sqlparser::parser::Parser;

    fn fold(sql: &str) -> Option<String> {
        let expr = Parser::new(&BigQueryDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap();
        const_string(&expr, "2021-02-01")
    }

    #[test]
    fn folds_relative_shard_bounds() {
        assert_eq!(fold("'20201201'").as_deref(), Some("20201201"));
        assert_eq!(
            fold("FORMAT_DATE('%Y%m%d', DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY))").as_deref(),
            Some("20210125")
        );
        assert_eq!(
            fold("FORMAT_DATE('%Y%m%d', DATE_SUB(DATE '2021-03-31', INTERVAL 1 MONTH))").as_deref(),
            Some("20210228")
        );
        assert_eq!(
            fold("CONCAT('2020', '12', '01')").as_deref(),
            Some("20201201")
        );
        assert_eq!(fold("'2020' || '1201'").as_deref(), Some("20201201"));
        assert_eq!(
            fold(
                "FORMAT_DATE('%Y%m%d', DATE_ADD(PARSE_DATE('%Y%m%d', '20201231'), INTERVAL 1 DAY))"
            )
            .as_deref(),
            Some("20210101")
        );
    }

    #[test]
    fn leaves_non_constants_alone() {
        assert_eq!(fold("event_date"), None);
        assert_eq!(fold("FORMAT_DATE('%A', CURRENT_DATE())"), None);
        assert_eq!(fold("FORMAT_DATE('%Y%m%d', DATE '2021-02-30')"), None);
    }

    #[test]
    fn day_numbers_round_trip() {
        for days in [-1000, 0, 18_628, 18_659, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
