//! The one-line summary of an answer, computed from the rows (never written by a model): the
//! totals, the top value of a breakdown, the change between two compared periods, and the
//! insights of `insights.rs`; in the question's language.

use nlq_core::{QueryResult, Value};

use crate::model::{Format, Metric, SemanticModel};
use crate::understand::{FilterOp, Plan, Shape};

pub use nlq_core::Lang;

pub fn summarize(model: &SemanticModel, plan: &Plan, result: &QueryResult, lang: Lang) -> String {
    let mut range = match &plan.range_words {
        Some(words) => format!("{words} ({} .. {})", plan.range.start, plan.range.end),
        None => format!("{} .. {}", plan.range.start, plan.range.end),
    };
    for filter in &plan.filters {
        let op = match (filter.op, lang) {
            (FilterOp::In, _) => "=",
            (FilterOp::NotIn, Lang::Ko) => "제외:",
            (FilterOp::NotIn, Lang::En) => "excluding",
        };
        range.push_str(&format!(
            ", {} {op} {}",
            filter.dimension,
            filter.values.join(" | ")
        ));
    }
    // Shapes say what their own rows mean, none included (no purchase held two items).
    match &plan.shape {
        Some(Shape::Funnel(funnel)) => {
            return crate::funnel::summarize(funnel, result, lang, &range);
        }
        Some(Shape::Cohort(cohort)) => {
            return crate::cohort::summarize(cohort, plan, result, lang, &range);
        }
        Some(Shape::BoughtTogether(together)) => {
            return crate::together::summarize(together, result, lang, &range);
        }
        _ => {}
    }
    if result.rows.is_empty() {
        return match lang {
            Lang::Ko => format!("{range}: 이 기간에는 아직 데이터가 없습니다."),
            Lang::En => format!("{range}: there is no data for this period yet."),
        };
    }
    let offset = usize::from(plan.compare.is_some()) + plan.dimensions.len();
    let metric_columns: Vec<(usize, String, Format)> = plan
        .metrics
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let metric = model.metric(name)?;
            let format = if plan.percent && metric.format == Format::Ratio {
                Format::Decimal
            } else {
                metric.format
            };
            let column = result.columns.get(offset + i)?.name.clone();
            Some((offset + i, column, format))
        })
        .collect();

    if let Some((_, other_words)) = &plan.compare {
        return compare(result, &metric_columns, plan, other_words, lang);
    }
    if plan.dimensions.is_empty() {
        let parts: Vec<String> = metric_columns
            .iter()
            .map(|(i, name, format)| format!("{name} {}", show(result.rows[0].get(*i), *format)))
            .collect();
        return format!("{range}: {}", parts.join(", "));
    }

    // A breakdown: the total of additive metrics over the rows, and the top row of the first.
    let mut parts = Vec::new();
    let rows = result.rows.len();
    parts.push(match lang {
        Lang::Ko => format!("{rows}개 행"),
        Lang::En => format!("{rows} row{}", if rows == 1 { "" } else { "s" }),
    });
    for (i, name, format) in &metric_columns {
        // Distinct counts and ratios do not add up across rows; sums do.
        let additive = model.metric(name).is_some_and(Metric::adds_up);
        if additive && !result.truncated {
            let total: f64 = result
                .rows
                .iter()
                .filter_map(|r| r.get(*i).and_then(Value::as_f64))
                .sum();
            parts.push(match lang {
                Lang::Ko => format!("{name} 합계 {}", number(total, *format)),
                Lang::En => format!("total {name} {}", number(total, *format)),
            });
        }
    }
    // "가장 적은", "fewest": the row the question asked for is the smallest.
    let lowest = plan.top.is_some_and(|t| !t.descending);
    if let Some((i, name, format)) = metric_columns.first()
        && let Some(best) = result
            .rows
            .iter()
            .filter(|r| r.get(*i).and_then(Value::as_f64).is_some())
            // The rest is many values together, not a value that ranks.
            .filter(|r| !(plan.other && is_rest(r)))
            .max_by(|a, b| {
                let (x, y) = (a[*i].as_f64().unwrap_or(0.0), b[*i].as_f64().unwrap_or(0.0));
                if lowest {
                    y.total_cmp(&x)
                } else {
                    x.total_cmp(&y)
                }
            })
    {
        let key: Vec<String> = (usize::from(plan.compare.is_some())..offset)
            .map(|k| best.get(k).map(ToString::to_string).unwrap_or_default())
            .collect();
        parts.push(match lang {
            Lang::Ko => format!(
                "{name} {}: {} ({})",
                if lowest { "최저" } else { "최고" },
                key.join(" / "),
                show(best.get(*i), *format)
            ),
            Lang::En => format!(
                "{} {name}: {} ({})",
                if lowest { "lowest" } else { "highest" },
                key.join(" / "),
                show(best.get(*i), *format)
            ),
        });
    }
    if let Some((i, name, format)) = metric_columns.first() {
        if plan.other {
            parts.extend(rest_share(model, result, *i, name, lang));
        }
        if let [first, second, ..] = plan.versus.as_slice() {
            parts.extend(difference(result, (first, second), *i, name, *format, lang));
        }
    }
    parts.extend(crate::insights::insights(
        model,
        plan,
        result,
        metric_columns.first(),
        lang,
    ));
    format!("{range}: {}", parts.join(", "))
}

fn is_rest(row: &[Value]) -> bool {
    matches!(row.first(), Some(Value::String(s)) if s == crate::compile::OTHER)
}

/// "the top 5 hold 67.2% of page_views": only of a metric whose rows add up to the whole.
fn rest_share(
    model: &SemanticModel,
    result: &QueryResult,
    i: usize,
    name: &str,
    lang: Lang,
) -> Option<String> {
    if !model.metric(name).is_some_and(Metric::adds_up) || result.truncated {
        return None;
    }
    let value = |r: &Vec<Value>| r.get(i).and_then(Value::as_f64).unwrap_or(0.0);
    let total: f64 = result.rows.iter().map(value).sum();
    let rest: f64 = result.rows.iter().filter(|r| is_rest(r)).map(value).sum();
    if total <= 0.0 {
        return None;
    }
    let top = result.rows.iter().filter(|r| !is_rest(r)).count();
    let share = 100.0 * (total - rest) / total;
    Some(match lang {
        Lang::Ko => format!(
            "상위 {top}개가 {name}의 {share:.1}%, 나머지가 {:.1}%",
            100.0 - share
        ),
        Lang::En => format!(
            "the top {top} hold {share:.1}% of {name}, the rest {:.1}%",
            100.0 - share
        ),
    })
}

/// The second value named against the first: "desktop 852 vs mobile 554 (+298, +53.8%)".
fn difference(
    result: &QueryResult,
    (first, second): (&String, &String),
    i: usize,
    name: &str,
    format: Format,
    lang: Lang,
) -> Option<String> {
    let value_of = |label: &str| {
        result
            .rows
            .iter()
            .find(|r| matches!(r.first(), Some(Value::String(s)) if s == label))
            .and_then(|r| r.get(i))
            .and_then(Value::as_f64)
    };
    let (a, b) = (value_of(first)?, value_of(second)?);
    let relative = if a != 0.0 {
        format!(", {:+.1}%", (b - a) / a * 100.0)
    } else {
        String::new()
    };
    let sign = if b >= a { "+" } else { "-" };
    let diff = number((b - a).abs(), format);
    let (a, b) = (number(a, format), number(b, format));
    Some(match lang {
        Lang::Ko => format!("{name}: {second} {b}, {first} {a} 대비 {sign}{diff}{relative}"),
        Lang::En => format!("{name}: {second} {b} vs {first} {a} ({sign}{diff}{relative})"),
    })
}

fn compare(
    result: &QueryResult,
    metrics: &[(usize, String, Format)],
    plan: &Plan,
    other_words: &str,
    lang: Lang,
) -> String {
    let label = |r: &Vec<Value>| r.first().map(ToString::to_string).unwrap_or_default();
    let (first_low, first_high) = plan.range.suffixes();
    let first_label = format!("{first_low}-{first_high}");
    let first = result.rows.iter().find(|r| label(r) == first_label);
    let second = result.rows.iter().find(|r| label(r) != first_label);
    let first_words = plan.range_words.clone().unwrap_or_default();
    let parts: Vec<String> = metrics
        .iter()
        .map(|(i, name, format)| {
            let a = first.and_then(|r| r.get(*i)).and_then(Value::as_f64);
            let b = second.and_then(|r| r.get(*i)).and_then(Value::as_f64);
            let change = match (a, b) {
                (Some(a), Some(b)) if b != 0.0 => format!("{:+.1}%", (a - b) / b * 100.0),
                _ => "n/a".to_owned(),
            };
            let (a, b) = (
                a.map_or("-".to_owned(), |v| number(v, *format)),
                b.map_or("-".to_owned(), |v| number(v, *format)),
            );
            match lang {
                Lang::Ko => format!(
                    "{name}: {first_words} {a}, {other_words} {b} ({other_words} 대비 {change})"
                ),
                Lang::En => format!(
                    "{name}: {first_words} {a}, {other_words} {b} ({change} vs {other_words})"
                ),
            }
        })
        .collect();
    parts.join("; ")
}

fn show(value: Option<&Value>, format: Format) -> String {
    match value.and_then(Value::as_f64) {
        Some(v) => number(v, format),
        None => value.map(ToString::to_string).unwrap_or_default(),
    }
}

/// A number as people read it: thousands separated, money with two decimals, ratios as
/// percentages.
pub fn number(value: f64, format: Format) -> String {
    match format {
        Format::Count => grouped(value.round(), 0),
        Format::Currency => format!("${}", grouped(value, 2)),
        Format::Ratio => format!("{:.1}%", value * 100.0),
        Format::Seconds => format!("{}s", grouped(value, 1)),
        Format::Decimal => grouped(value, 2),
    }
}

fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    if value < 0.0 && value.abs() >= 0.5 * 10f64.powi(-(decimals as i32)) {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_numbers() {
        assert_eq!(number(1234567.0, Format::Count), "1,234,567");
        assert_eq!(number(1234.5, Format::Currency), "$1,234.50");
        assert_eq!(number(0.0345, Format::Ratio), "3.5%");
        assert_eq!(number(-12.0, Format::Count), "-12");
        assert_eq!(number(999.0, Format::Count), "999");
    }

    #[test]
    fn language_follows_the_question() {
        assert_eq!(Lang::of("지난 7일 방문자"), Lang::Ko);
        assert_eq!(Lang::of("users last week"), Lang::En);
    }
}
