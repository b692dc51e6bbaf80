//! Insights a summary adds when the rows support them, computed from the rows only: the top
//! segment's share of the total, a series' trend and its largest move between neighbours,
//! and the buckets the range cuts at its edges (a week that began before the range, a month
//! whose last days are not in it), which are named and left out of the trend so a short last
//! bucket never reads as a collapse.

use chrono::{Datelike, NaiveDate};

use nlq_core::{QueryResult, Value};

use crate::Lang;
use crate::model::{Format, SemanticModel, TimeGrain};
use crate::summary::number;
use crate::understand::Plan;

/// A change smaller than this share of the mean over the series reads as flat.
const FLAT: f64 = 0.05;

/// The time grain of the plan's only breakdown, when it is a series by date, week or month.
fn series_grain(model: &SemanticModel, plan: &Plan) -> Option<TimeGrain> {
    match plan.dimensions.as_slice() {
        // A top N or a condition leaves rows out (and sorts them by the metric): no series.
        [one] if plan.compare.is_none() && plan.top.is_none() && plan.having.is_empty() => model
            .dimension(one)?
            .time
            .filter(|g| matches!(g, TimeGrain::Date | TimeGrain::Week | TimeGrain::Month)),
        _ => None,
    }
}

/// The first day a bucket's label stands for and its last day.
fn bucket(grain: TimeGrain, label: &Value) -> Option<(NaiveDate, NaiveDate)> {
    let text = match label {
        Value::Date(d) | Value::String(d) => d.as_str(),
        _ => return None,
    };
    match grain {
        TimeGrain::Date => {
            let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            Some((day, day))
        }
        TimeGrain::Week => {
            let start = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            Some((start, start + chrono::Days::new(6)))
        }
        TimeGrain::Month => {
            let start = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
            let next = start.checked_add_months(chrono::Months::new(1))?;
            Some((start, next.pred_opt()?))
        }
        TimeGrain::Hour => None,
    }
}

/// The buckets at the edges of the plan's range that the range cuts, as their rows label
/// them ("2020-11-30" for the week that began then, "2021-01" for a month): the week of the
/// first day when it began earlier, the week of the last when it ends later.
pub fn partial_buckets(model: &SemanticModel, plan: &Plan) -> Vec<String> {
    let Some(grain) = series_grain(model, plan) else {
        return Vec::new();
    };
    let (first, last) = (plan.range.start, plan.range.end);
    if last < first {
        return Vec::new();
    }
    let label_of = |day: NaiveDate| -> Option<(String, NaiveDate, NaiveDate)> {
        match grain {
            TimeGrain::Week => {
                let start =
                    day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()));
                Some((start.to_string(), start, start + chrono::Days::new(6)))
            }
            TimeGrain::Month => {
                let label = format!("{:04}-{:02}", day.year(), day.month());
                let (start, end) = bucket(grain, &Value::String(label.clone()))?;
                Some((label, start, end))
            }
            TimeGrain::Date | TimeGrain::Hour => None,
        }
    };
    let mut out = Vec::new();
    for (day, cut) in [(first, true), (last, false)] {
        if let Some((label, start, end)) = label_of(day)
            && ((cut && start < first) || (!cut && end > last))
            && !out.contains(&label)
        {
            out.push(label);
        }
    }
    out
}

/// The caveat an answer carries when its range cuts a week or month at an edge: `partial`
/// are those buckets ([`partial_buckets`]).
pub fn partial_caveat(partial: &[String], lang: Lang) -> Option<String> {
    if partial.is_empty() {
        return None;
    }
    Some(match lang {
        Lang::Ko => format!(
            "{} 구간은 기간이 잘라 일부 날짜만 포함하므로 다른 구간보다 작게 보일 수 있습니다.",
            partial.join(", ")
        ),
        Lang::En => format!(
            "the range cuts {} at its edge: that bucket holds only some of its days and reads smaller than the others.",
            partial.join(", ")
        ),
    })
}

/// "직전 같은 기간(2020-11-01 .. 2020-11-30) 대비 revenue +12.3% ($1,102.00)": each metric of a
/// one-row answer against the same metric of the period before, read from a second query's
/// row. None when a value is missing or the earlier one is zero (no change to state).
pub fn previous_period_change(
    model: &SemanticModel,
    plan: &Plan,
    current: &QueryResult,
    previous: &QueryResult,
    before: crate::DateRange,
    lang: Lang,
) -> Option<String> {
    let (now, then) = (current.rows.first()?, previous.rows.first()?);
    let mut parts = Vec::new();
    for (i, name) in plan.metrics.iter().enumerate() {
        let metric = model.metric(name)?;
        let (a, b) = (now.get(i)?.as_f64()?, then.get(i)?.as_f64()?);
        if b == 0.0 {
            return None;
        }
        let format = if plan.percent && metric.format == Format::Ratio {
            Format::Decimal
        } else {
            metric.format
        };
        parts.push(format!(
            "{name} {:+.1}% ({})",
            (a - b) / b * 100.0,
            crate::summary::number(b, format)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let (start, end) = (before.start, before.end);
    Some(match lang {
        Lang::Ko => format!("직전 같은 기간({start} .. {end}) 대비 {}", parts.join(", ")),
        Lang::En => format!(
            "vs the period before ({start} .. {end}): {}",
            parts.join(", ")
        ),
    })
}

/// What the summary of a breakdown adds: partial buckets, a series' trend and largest move,
/// or the top segment's share of the total.
pub(crate) fn insights(
    model: &SemanticModel,
    plan: &Plan,
    result: &QueryResult,
    metric: Option<&(usize, String, Format)>,
    lang: Lang,
) -> Vec<String> {
    let Some((i, name, format)) = metric else {
        return Vec::new();
    };
    let value = |row: &Vec<Value>| row.get(*i).and_then(Value::as_f64);
    let mut out = Vec::new();
    if series_grain(model, plan).is_some() {
        let partial = partial_buckets(model, plan);
        if !partial.is_empty() {
            out.push(match lang {
                Lang::Ko => format!(
                    "{}: 기간이 잘라 일부 날짜만 포함된 구간(추세에서 제외)",
                    partial.join(", ")
                ),
                Lang::En => format!(
                    "{} cut by the range (partial; left out of the trend)",
                    partial.join(", ")
                ),
            });
        }
        let whole: Vec<(String, f64)> = result
            .rows
            .iter()
            .filter(|r| !r.first().is_some_and(|l| partial.contains(&l.to_string())))
            .filter_map(|r| Some((r.first()?.to_string(), value(r)?)))
            .collect();
        if whole.len() >= 3 {
            out.extend(trend(&whole, name, *format, lang));
        }
        return out;
    }
    // The top row's share of the sum: only where parts add up to the whole, and only when
    // every row is here.
    let additive = model
        .metric(name)
        .is_some_and(crate::model::Metric::adds_up);
    if additive
        && plan.top.is_none()
        && plan.having.is_empty()
        && !result.truncated
        && result.rows.len() >= 2
    {
        let total: f64 = result.rows.iter().filter_map(value).sum();
        let best = result
            .rows
            .iter()
            .filter_map(|r| Some((r, value(r)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((row, top)) = best
            && total > 0.0
        {
            let offset = plan.dimensions.len();
            let key: Vec<String> = (0..offset)
                .map(|k| row.get(k).map(ToString::to_string).unwrap_or_default())
                .collect();
            let share = format!("{:.1}%", top / total * 100.0);
            out.push(match lang {
                Lang::Ko => format!("{}이(가) {name} 합계의 {share}", key.join(" / ")),
                Lang::En => format!("{} is {share} of all {name}", key.join(" / ")),
            });
        }
    }
    out
}

/// The direction of a series (least squares over its points, against its mean) and its
/// largest move between neighbours.
fn trend(points: &[(String, f64)], name: &str, format: Format, lang: Lang) -> Vec<String> {
    let n = points.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, (_, y)) in points.iter().enumerate() {
        let dx = x as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let mut out = Vec::new();
    if mean_y != 0.0 {
        let change = slope * (n - 1.0) / mean_y.abs();
        let direction = match (change.abs() < FLAT, change > 0.0, lang) {
            (true, _, Lang::Ko) => "보합".to_owned(),
            (true, _, Lang::En) => "flat".to_owned(),
            (false, true, Lang::Ko) => format!("상승 ({:+.1}%)", change * 100.0),
            (false, false, Lang::Ko) => format!("하락 ({:+.1}%)", change * 100.0),
            (false, true, Lang::En) => format!("rising ({:+.1}%)", change * 100.0),
            (false, false, Lang::En) => format!("falling ({:+.1}%)", change * 100.0),
        };
        out.push(match lang {
            Lang::Ko => format!("{name} 추세: {direction}"),
            Lang::En => format!("{name} trend: {direction}"),
        });
    }
    let biggest = points
        .windows(2)
        .map(|w| (&w[1].0, w[1].1 - w[0].1, w[0].1))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    if let Some((label, delta, before)) = biggest
        && delta != 0.0
    {
        let pct = if before != 0.0 {
            format!(", {:+.1}%", delta / before.abs() * 100.0)
        } else {
            String::new()
        };
        let sign = if delta > 0.0 { "+" } else { "-" };
        let shown = format!("{sign}{}{pct}", number(delta.abs(), format));
        out.push(match lang {
            Lang::Ko => format!("가장 큰 변화: {label} ({shown})"),
            Lang::En => format!("largest move: {label} ({shown})"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use nlq_core::{BqType, Column};

    use super::*;
    use crate::understand::{Reader, Understanding};
    use crate::{DateRange, summarize};

    fn plan(model: &SemanticModel, question: &str) -> Plan {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let reader = Reader::new(
            model,
            day("2021-02-01"),
            DateRange {
                start: day("2020-11-01"),
                end: day("2021-01-31"),
            },
        );
        match reader.understand(question) {
            Understanding::Data { plan } => plan,
            other => panic!("{question}: {other:?}"),
        }
    }

    fn result(names: [&str; 2], rows: Vec<(Value, f64)>) -> QueryResult {
        QueryResult {
            columns: vec![
                Column {
                    name: names[0].into(),
                    ty: BqType::String,
                },
                Column {
                    name: names[1].into(),
                    ty: BqType::Float64,
                },
            ],
            rows: rows
                .into_iter()
                .map(|(label, v)| vec![label, Value::Float64(v)])
                .collect(),
            bytes_processed: 0,
            elapsed_ms: 0,
            tables_read: Vec::new(),
            truncated: false,
        }
    }

    #[test]
    fn weeks_and_months_the_range_cuts_are_named_and_left_out_of_the_trend() {
        let model = SemanticModel::builtin().unwrap();
        // December 2020 starts on a Tuesday (its week began Nov 30) and ends on a Thursday.
        let weekly = plan(&model, "2020년 12월 주별 매출");
        assert_eq!(
            partial_buckets(&model, &weekly),
            ["2020-11-30", "2020-12-28"]
        );
        let rows = result(
            ["week", "revenue"],
            vec![
                (Value::Date("2020-11-30".into()), 500.0),
                (Value::Date("2020-12-07".into()), 1000.0),
                (Value::Date("2020-12-14".into()), 1100.0),
                (Value::Date("2020-12-21".into()), 1200.0),
                (Value::Date("2020-12-28".into()), 300.0),
            ],
        );
        let text = summarize(&model, &weekly, &rows, Lang::Ko);
        assert!(
            text.contains("2020-11-30, 2020-12-28: 기간이 잘라"),
            "{text}"
        );
        // The short last week is not a collapse: the whole weeks rise.
        assert!(text.contains("추세: 상승"), "{text}");
        assert!(text.contains("가장 큰 변화: 2020-12-21"), "{text}");
        let caveat = partial_caveat(&partial_buckets(&model, &weekly), Lang::En).unwrap();
        assert!(caveat.contains("2020-11-30, 2020-12-28"), "{caveat}");

        // Whole months are not cut; a range from mid-November cuts its first month.
        assert!(partial_buckets(&model, &plan(&model, "2020년 12월 월별 매출")).is_empty());
        let from_mid = plan(&model, "2020년 11월 15일부터 2021년 1월 31일까지 월별 매출");
        assert_eq!(partial_buckets(&model, &from_mid), ["2020-11"]);
        // Days are never partial.
        assert!(partial_buckets(&model, &plan(&model, "2020년 12월 일별 매출")).is_empty());
    }

    #[test]
    fn a_series_says_where_it_goes_and_a_breakdown_its_top_share() {
        let model = SemanticModel::builtin().unwrap();
        let daily = plan(&model, "2020년 12월 1일부터 12월 5일까지 일별 페이지뷰");
        let falling = result(
            ["date", "page_views"],
            vec![
                (Value::Date("2020-12-01".into()), 100.0),
                (Value::Date("2020-12-02".into()), 90.0),
                (Value::Date("2020-12-03".into()), 40.0),
                (Value::Date("2020-12-04".into()), 35.0),
                (Value::Date("2020-12-05".into()), 30.0),
            ],
        );
        let text = summarize(&model, &daily, &falling, Lang::En);
        assert!(text.contains("page_views trend: falling"), "{text}");
        assert!(
            text.contains("largest move: 2020-12-03 (-50, -55.6%)"),
            "{text}"
        );
        // The top days are sorted by the metric, not by day: no trend is read from them.
        let top_days = plan(&model, "daily page views top 5 in December 2020");
        assert!(top_days.top.is_some());
        let text = summarize(&model, &top_days, &falling, Lang::En);
        assert!(
            !text.contains("trend") && !text.contains("largest move"),
            "{text}"
        );
        let flat = result(
            ["date", "page_views"],
            (1..=5)
                .map(|d| {
                    (
                        Value::Date(format!("2020-12-0{d}")),
                        100.0 + f64::from(d % 2),
                    )
                })
                .collect(),
        );
        assert!(summarize(&model, &daily, &flat, Lang::En).contains("trend: flat"));

        let by_device = plan(&model, "2020년 12월 디바이스별 페이지뷰");
        let rows = result(
            ["device_category", "page_views"],
            vec![
                (Value::String("desktop".into()), 600.0),
                (Value::String("mobile".into()), 300.0),
                (Value::String("tablet".into()), 100.0),
            ],
        );
        let text = summarize(&model, &by_device, &rows, Lang::Ko);
        assert!(
            text.contains("desktop이(가) page_views 합계의 60.0%"),
            "{text}"
        );
        // Distinct users do not add up across devices: no share is claimed.
        let users = plan(&model, "2020년 12월 디바이스별 사용자 수");
        let mut user_rows = rows.clone();
        user_rows.columns[1].name = "users".into();
        let text = summarize(&model, &users, &user_rows, Lang::Ko);
        assert!(!text.contains("합계의"), "{text}");
    }
}
