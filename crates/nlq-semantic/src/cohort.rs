//! Cohort retention: users grouped by the week or month of their first visit (GA4's first
//! touch, the `first_visit` event), and how many of each cohort were active in each period
//! after it. Period 0 is the cohort's own period; a cohort's row for period k counts its
//! users with any event k weeks (months) after the cohort began.

use std::fmt::Write;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use nlq_core::{QueryResult, Value};

use crate::Lang;
use crate::lexicon::Words;
use crate::model::{SemanticModel, TimeGrain};
use crate::understand::Plan;

/// The model file's `cohorts:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CohortWords {
    /// "코호트", "retention": the question asks for cohorts.
    pub words: Words,
    /// The event that puts a user in a cohort: the first visit.
    pub first_event: String,
}

/// A cohort table's plan, beside the grid plan's range and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// Week (the default) or month: the cohorts and the periods after them.
    pub grain: TimeGrain,
    /// The event that puts a user in a cohort.
    pub first_event: String,
}

/// A day's bucket of the grain, as SQL over the events' `event_date`.
fn bucket(grain: TimeGrain) -> Result<&'static str, String> {
    match grain {
        TimeGrain::Week => Ok("DATE_TRUNC(PARSE_DATE('%Y%m%d', event_date), WEEK(MONDAY))"),
        TimeGrain::Month => Ok("DATE_TRUNC(PARSE_DATE('%Y%m%d', event_date), MONTH)"),
        TimeGrain::Date | TimeGrain::Hour => Err("cohorts are by week or by month".to_owned()),
    }
}

/// The cohort table's SQL over the plan's range; filters choose who enters a cohort (a
/// first visit on mobile), any later event of theirs counts as a return.
pub(crate) fn compile(
    model: &SemanticModel,
    plan: &Plan,
    cohort: &Cohort,
) -> Result<String, String> {
    let period = bucket(cohort.grain)?;
    // Whole periods between two period starts: weeks are seven days apart.
    let since = match cohort.grain {
        TimeGrain::Week => "CAST(DATE_DIFF(a.period, c.cohort, DAY) / 7 AS INT64)",
        _ => "DATE_DIFF(a.period, c.cohort, MONTH)",
    };
    let (low, high) = plan.range.suffixes();
    let table = &model.table;
    let entry = crate::compile::event_filters(model, plan, "a cohort table")?;
    let first = crate::compile::quote(&cohort.first_event);
    Ok(format!(
        "WITH cohort_users AS (
  SELECT user_pseudo_id, MIN({period}) AS cohort
  FROM `{table}`
  WHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'
    AND event_name = {first}{entry}
  GROUP BY user_pseudo_id
),
cohort_sizes AS (
  SELECT cohort, COUNT(*) AS cohort_users
  FROM cohort_users
  GROUP BY cohort
),
activity AS (
  SELECT DISTINCT user_pseudo_id, {period} AS period
  FROM `{table}`
  WHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'
)
SELECT
  c.cohort AS cohort,
  {since} AS period,
  s.cohort_users AS cohort_users,
  COUNT(DISTINCT a.user_pseudo_id) AS users,
  SAFE_DIVIDE(COUNT(DISTINCT a.user_pseudo_id), s.cohort_users) AS retention_rate
FROM cohort_users AS c
JOIN cohort_sizes AS s ON s.cohort = c.cohort
JOIN activity AS a ON a.user_pseudo_id = c.user_pseudo_id AND a.period >= c.cohort
GROUP BY 1, 2, 3
ORDER BY 1, 2"
    ))
}

/// The start of the period `k` periods after `start`.
fn after(grain: TimeGrain, start: NaiveDate, k: u32) -> Option<NaiveDate> {
    match grain {
        TimeGrain::Week => start.checked_add_days(chrono::Days::new(7 * u64::from(k))),
        _ => start.checked_add_months(Months::new(k)),
    }
}

/// "5 weekly cohorts (2,345 users); 1 week later 4.2% came back, averaged over the 4 cohorts
/// the range covers a week later for; best: 2020-12-07 (6.1%)".
pub(crate) fn summarize(
    cohort: &Cohort,
    plan: &Plan,
    result: &QueryResult,
    lang: Lang,
    range: &str,
) -> String {
    // (cohort start, period, cohort users, users)
    let rows: Vec<(NaiveDate, i64, f64, f64)> = result
        .rows
        .iter()
        .filter_map(|r| {
            let start = match r.first()? {
                Value::Date(d) | Value::String(d) => {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?
                }
                _ => return None,
            };
            Some((
                start,
                r.get(1)?.as_f64()? as i64,
                r.get(2)?.as_f64()?,
                r.get(3)?.as_f64()?,
            ))
        })
        .collect();
    let mut cohorts: Vec<(NaiveDate, f64)> = Vec::new();
    for (start, _, size, _) in &rows {
        if !cohorts.iter().any(|(s, _)| s == start) {
            cohorts.push((*start, *size));
        }
    }
    let users: f64 = cohorts.iter().map(|(_, n)| n).sum();
    // Cohorts whose next period the range covers entirely: a later one has not had the time.
    let reached: Vec<&(NaiveDate, f64)> = cohorts
        .iter()
        .filter(|(start, _)| {
            after(cohort.grain, *start, 2)
                .and_then(|d| d.pred_opt())
                .is_some_and(|end| end <= plan.range.end)
        })
        .collect();
    let back = |start: &NaiveDate| {
        rows.iter()
            .find(|(s, k, ..)| s == start && *k == 1)
            .map_or(0.0, |r| r.3)
    };
    let came_back: f64 = reached.iter().map(|(s, _)| back(s)).sum();
    let size: f64 = reached.iter().map(|(_, n)| n).sum();
    let best = reached
        .iter()
        .filter(|(_, n)| *n > 0.0)
        .map(|(s, n)| (s, back(s) / n))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let n = crate::summary::number(users, crate::model::Format::Count);
    let (unit_ko, unit_en) = match cohort.grain {
        TimeGrain::Week => ("주", "week"),
        _ => ("개월", "month"),
    };
    let mut out = match lang {
        Lang::Ko => format!(
            "{range}: 첫 방문 {unit_ko} 기준 코호트 {}개 (사용자 {n}명)",
            cohorts.len()
        ),
        Lang::En => format!(
            "{range}: {} cohorts by {unit_en} of first visit ({n} users)",
            cohorts.len()
        ),
    };
    if size > 0.0 {
        let rate = format!("{:.1}%", 100.0 * came_back / size);
        let _ = match lang {
            Lang::Ko => write!(
                out,
                "; 1{unit_ko} 뒤 재방문 {rate} (다음 {unit_ko}가 기간 안에 있는 코호트 {}개 평균)",
                reached.len()
            ),
            Lang::En => write!(
                out,
                "; {rate} came back 1 {unit_en} later (over the {} cohorts whose next {unit_en} the range covers)",
                reached.len()
            ),
        };
        if let Some((start, rate)) = best
            && reached.len() > 1
        {
            let rate = format!("{:.1}%", 100.0 * rate);
            let _ = match lang {
                Lang::Ko => write!(out, "; 가장 높은 코호트: {start} ({rate})"),
                Lang::En => write!(out, "; best cohort: {start} ({rate})"),
            };
        }
    }
    // The first cohort starts before a range that begins mid-period: fewer days to join it.
    if let Some(first) = cohorts.first().map(|c| c.0)
        && first < plan.range.start
    {
        let _ = match lang {
            Lang::Ko => write!(out, "; {first} 코호트는 기간 시작 전 날짜가 빠져 있습니다"),
            Lang::En => write!(out, "; the {first} cohort misses the days before the range"),
        };
    }
    out
}
