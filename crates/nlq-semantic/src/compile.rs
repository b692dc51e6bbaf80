//! Plan → BigQuery SQL, built from the model's checked expressions: shards bounded by
//! `_TABLE_SUFFIX`, `UNNEST(items)` only for item metrics, the contract's answer shape
//! (dimension columns, then metric columns in the question's order; time ascending; "top N" by
//! the first metric with ties broken by the dimensions). A percent of a count or a sum by a
//! breakdown adds each row's share of all rows (`<metric>_share_pct`, after the metric
//! columns); conditions on metrics become `HAVING`; excluded values `NOT IN`.
//!
//! Session-scoped dimensions (session source, landing page, and the channel group built on
//! them) are one value per session, computed over all of the session's events in the range
//! before any filter: a `session_facts` CTE grouped by session, joined to the events.

use std::fmt::Write;

use crate::model::{Dimension, Format, Grain, SESSION_FACTS, SemanticModel};
use crate::understand::{FilterOp, Plan};

/// The SQL of a plan. Names in a plan come from the model, so a missing one is a bug in the
/// reader; it is reported rather than panicking.
pub fn compile(model: &SemanticModel, plan: &Plan) -> Result<String, String> {
    if let Some(crate::understand::Shape::Funnel(funnel)) = &plan.shape {
        return crate::funnel::compile(model, plan, funnel);
    }
    let metric = |name: &str| {
        model
            .metric(name)
            .ok_or_else(|| format!("the plan names an unknown metric `{name}`"))
    };
    let dimension = |name: &str| {
        model
            .dimension(name)
            .ok_or_else(|| format!("the plan names an unknown dimension `{name}`"))
    };
    let metrics = plan
        .metrics
        .iter()
        .map(|m| metric(m))
        .collect::<Result<Vec<_>, _>>()?;
    let dimensions = plan
        .dimensions
        .iter()
        .map(|d| dimension(d))
        .collect::<Result<Vec<_>, _>>()?;

    let mut columns: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if let Some((other, _)) = &plan.compare {
        let (low, high) = plan.range.suffixes();
        let (other_low, other_high) = other.suffixes();
        columns.push(format!(
            "CASE WHEN _TABLE_SUFFIX BETWEEN '{low}' AND '{high}' THEN '{low}-{high}' \
             WHEN _TABLE_SUFFIX BETWEEN '{other_low}' AND '{other_high}' THEN '{other_low}-{other_high}' END AS period"
        ));
        names.push("period".to_owned());
    }
    for d in &dimensions {
        columns.push(format!("{} AS {}", d.sql, d.name));
        names.push(d.name.clone());
    }
    let mut metric_names = Vec::new();
    let mut shares = Vec::new();
    for m in &metrics {
        let (sql, name) = if plan.percent && m.format == Format::Ratio {
            (format!("({}) * 100", m.sql), format!("{}_pct", m.name))
        } else {
            (m.sql.clone(), m.name.clone())
        };
        columns.push(format!("{sql} AS {name}"));
        if plan.percent && m.format != Format::Ratio {
            if dimensions.is_empty() || plan.compare.is_some() {
                return Err(format!(
                    "a share of `{}` needs a breakdown; the plan has none",
                    m.name
                ));
            }
            // Window functions run after GROUP BY and before LIMIT: the share of all rows.
            shares.push(format!(
                "100 * SAFE_DIVIDE({sql}, SUM({sql}) OVER ()) AS {name}_share_pct"
            ));
        }
        metric_names.push(name);
    }
    columns.extend(shares);
    // Each bucket's change from the one before, within the other breakdowns' rows. Window
    // functions run after GROUP BY: LAG reads the previous bucket's aggregate.
    if plan.change {
        let Some(time) = dimensions.iter().find(|d| d.time.is_some()) else {
            return Err("a change from the previous bucket needs a time breakdown".to_owned());
        };
        let others: Vec<&str> = dimensions
            .iter()
            .filter(|d| d.time.is_none())
            .map(|d| d.sql.as_str())
            .collect();
        let window = if others.is_empty() {
            format!("ORDER BY {}", time.sql)
        } else {
            format!("PARTITION BY {} ORDER BY {}", others.join(", "), time.sql)
        };
        for m in &metrics {
            let sql = &m.sql;
            // A fraction, as every rate of an answer is unless percent is asked for.
            columns.push(format!(
                "SAFE_DIVIDE({sql} - LAG({sql}) OVER ({window}), LAG({sql}) OVER ({window})) AS {}_change",
                m.name
            ));
        }
    }

    // One scan covers both periods of a comparison; each row is labelled with its period.
    let (low, high) = match &plan.compare {
        Some((other, _)) => {
            let (a, b) = plan.range.suffixes();
            let (c, d) = other.suffixes();
            (a.min(c), b.max(d))
        }
        None => plan.range.suffixes(),
    };
    // The two periods' own days, not the months between them.
    let periods = plan.compare.as_ref().map(|(other, _)| {
        let (a, b) = plan.range.suffixes();
        let (c, d) = other.suffixes();
        format!("(_TABLE_SUFFIX BETWEEN '{a}' AND '{b}' OR _TABLE_SUFFIX BETWEEN '{c}' AND '{d}')")
    });

    // The session values the breakdown and the filters read, in the model's order.
    let mut session_names: Vec<&str> = Vec::new();
    for d in &dimensions {
        session_names.extend(d.sessions.iter().map(String::as_str));
    }
    for filter in &plan.filters {
        session_names.extend(
            dimension(&filter.dimension)?
                .sessions
                .iter()
                .map(String::as_str),
        );
    }
    let sessions: Vec<&Dimension> = model
        .dimensions
        .iter()
        .filter(|d| session_names.contains(&d.name.as_str()))
        .collect();

    let mut sql = String::new();
    if !sessions.is_empty() {
        sql.push_str(&session_facts(
            model,
            &sessions,
            (&low, &high),
            periods.as_deref(),
        )?);
    }
    sql.push_str("SELECT\n");
    sql.push_str(&select_list(&columns, "  "));
    let _ = write!(sql, "\nFROM `{}`", model.table);
    let item_grain = metrics.iter().any(|m| m.grain == Grain::Item);
    if item_grain {
        sql.push_str("\nCROSS JOIN UNNEST(items) AS item");
    }
    if let (false, Some(key)) = (sessions.is_empty(), &model.session_key) {
        let _ = write!(
            sql,
            "\nLEFT JOIN {SESSION_FACTS} ON {SESSION_FACTS}.session_key = {key}"
        );
    }
    let _ = write!(sql, "\nWHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'");
    if let Some(periods) = &periods {
        let _ = write!(sql, "\n  AND {periods}");
    }
    // Metrics that each read only some events (a catalog event's count, a parameter's total):
    // the other events are left out, so a breakdown shows no rows where none happened.
    let event_bound = !metrics.is_empty() && metrics.iter().all(|m| !m.events.is_empty());
    if item_grain || event_bound {
        let mut events: Vec<&str> = metrics
            .iter()
            .flat_map(|m| m.events.iter().map(String::as_str))
            .collect();
        events.sort_unstable();
        events.dedup();
        let _ = write!(sql, "\n  AND event_name IN ({})", quoted(&events));
    }
    // A breakdown by a parameter some events carry is over the events that carry it.
    for d in dimensions.iter().filter(|d| d.only_present) {
        let _ = write!(sql, "\n  AND {} IS NOT NULL", d.sql);
    }
    for filter in &plan.filters {
        let d = dimension(&filter.dimension)?;
        let values: Vec<&str> = filter.values.iter().map(String::as_str).collect();
        match (filter.op, values.as_slice()) {
            (FilterOp::In, [one]) => {
                let _ = write!(sql, "\n  AND {} = {}", d.sql, quote(one));
            }
            (FilterOp::In, _) => {
                let _ = write!(sql, "\n  AND {} IN ({})", d.sql, quoted(&values));
            }
            // A row whose value is NULL is not "mobile" either: keep it.
            (FilterOp::NotIn, _) => {
                let _ = write!(
                    sql,
                    "\n  AND ({0} IS NULL OR {0} NOT IN ({1}))",
                    d.sql,
                    quoted(&values)
                );
            }
        }
    }
    if !names.is_empty() {
        let _ = write!(sql, "\nGROUP BY {}", names.join(", "));
    }
    if !plan.having.is_empty() {
        if names.is_empty() {
            return Err("a condition on a metric needs a breakdown; the plan has none".to_owned());
        }
        let mut conditions = Vec::new();
        for h in &plan.having {
            let m = metric(&h.metric)?;
            if !h.value.is_finite() {
                return Err(format!("the condition on `{}` is not a number", h.metric));
            }
            conditions.push(format!("{} {} {}", m.sql, h.op.sql(), h.value));
        }
        let _ = write!(sql, "\nHAVING {}", conditions.join(" AND "));
    }
    let order: Vec<String> = match plan.top {
        Some(top) if !dimensions.is_empty() => {
            let first = metric_names.first().cloned().unwrap_or_default();
            let direction = if top.descending { "DESC" } else { "ASC" };
            std::iter::once(format!("{first} {direction}"))
                .chain(names.iter().map(|n| format!("{n} ASC")))
                .collect()
        }
        _ => names.clone(),
    };
    if !order.is_empty() {
        let _ = write!(sql, "\nORDER BY {}", order.join(", "));
    }
    if let Some(top) = plan.top
        && !dimensions.is_empty()
    {
        let _ = write!(sql, "\nLIMIT {}", top.n);
    }
    Ok(sql)
}

/// The CTE of per-session values: each session-scoped dimension's first non-null value among
/// the session's events in the range, in time order.
fn session_facts(
    model: &SemanticModel,
    sessions: &[&Dimension],
    (low, high): (&str, &str),
    periods: Option<&str>,
) -> Result<String, String> {
    let key = model
        .session_key
        .as_deref()
        .ok_or("session-scoped dimensions need the model's `session_key`")?;
    let mut columns = vec![format!("{key} AS session_key")];
    for d in sessions {
        let Some(value) = &d.session else {
            return Err(format!("`{}` is not session-scoped", d.name));
        };
        let first = format!(
            "ARRAY_AGG({} IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)]",
            value.first
        );
        columns.push(match &value.default {
            Some(default) => format!("COALESCE({first}, {default}) AS {}", d.name),
            None => format!("{first} AS {}", d.name),
        });
    }
    let mut sql = format!("WITH {SESSION_FACTS} AS (\n  SELECT\n");
    sql.push_str(&select_list(&columns, "    "));
    let _ = write!(
        sql,
        "\n  FROM `{}`\n  WHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'{}\n  GROUP BY session_key\n)\n",
        model.table,
        periods.map_or(String::new(), |p| format!("\n    AND {p}"))
    );
    Ok(sql)
}

/// A SELECT's columns, one a line.
fn select_list(columns: &[String], indent: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{indent}{c}"))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// A BigQuery string literal. Values come from the model, but quoting never trusts that.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A regular expression as a BigQuery raw string (`r'...'`, as the export's users write them:
/// backslashes stay as written); a pattern holding a quote falls back to an escaped literal.
pub(crate) fn quote_pattern(pattern: &str) -> String {
    if pattern.contains(['\'', '\n']) || pattern.ends_with('\\') {
        quote(pattern)
    } else {
        format!("r'{pattern}'")
    }
}

pub(crate) fn quoted<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(|v| quote(v.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::time::DateRange;
    use crate::understand::{Reader, Understanding};

    fn sql(question: &str) -> String {
        let model = SemanticModel::builtin().unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let reader = Reader::new(
            &model,
            day("2021-02-01"),
            DateRange {
                start: day("2020-11-01"),
                end: day("2021-01-31"),
            },
        );
        match reader.understand(question) {
            Understanding::Data { plan } => compile(&model, &plan).unwrap(),
            other => panic!("{question}: {other:?}"),
        }
    }

    #[test]
    fn top_n_with_a_filter() {
        insta::assert_snapshot!(sql("미국 지역별 사용자 수 상위 5개"), @r#"
    SELECT
      geo.region AS region,
      COUNT(DISTINCT user_pseudo_id) AS users
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
      AND geo.country = 'United States'
    GROUP BY region
    ORDER BY users DESC, region ASC
    LIMIT 5
    "#);
    }

    #[test]
    fn item_metrics_unnest_items_for_their_events_only() {
        insta::assert_snapshot!(sql("Top 5 products by item revenue in December"), @r#"
    SELECT
      item.item_name AS item_name,
      SUM(IF(event_name = 'purchase', item.item_revenue, 0)) AS item_revenue
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    CROSS JOIN UNNEST(items) AS item
    WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'
      AND event_name IN ('purchase')
    GROUP BY item_name
    ORDER BY item_revenue DESC, item_name ASC
    LIMIT 5
    "#);
    }

    #[test]
    fn time_series_and_ratios() {
        insta::assert_snapshot!(sql("지난 30일 동안 브라우저별 참여율은?"), @r#"
    SELECT
      device.web_info.browser AS browser,
      SAFE_DIVIDE((COUNT(DISTINCT IF((SELECT ep.value.string_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'session_engaged') = '1', CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING)), NULL))), (COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))))) AS engagement_rate
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20210102' AND '20210131'
    GROUP BY browser
    ORDER BY browser
    "#);
    }

    #[test]
    fn a_share_is_each_row_against_all_rows() {
        insta::assert_snapshot!(sql("각 국가가 차지하는 세션 비율 상위 3개"), @r#"
    SELECT
      geo.country AS country,
      COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))) AS sessions,
      100 * SAFE_DIVIDE(COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))), SUM(COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING)))) OVER ()) AS sessions_share_pct
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
    GROUP BY country
    ORDER BY sessions DESC, country ASC
    LIMIT 3
    "#);
    }

    #[test]
    fn exclusions_keep_unknown_values_and_thresholds_are_having() {
        insta::assert_snapshot!(sql("users by country excluding mobile and tablet"), @r#"
    SELECT
      geo.country AS country,
      COUNT(DISTINCT user_pseudo_id) AS users
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
      AND (device.category IS NULL OR device.category NOT IN ('mobile', 'tablet'))
    GROUP BY country
    ORDER BY country
    "#);
        insta::assert_snapshot!(sql("countries with at least 50 users last month"), @r#"
    SELECT
      geo.country AS country,
      COUNT(DISTINCT user_pseudo_id) AS users
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131'
    GROUP BY country
    HAVING COUNT(DISTINCT user_pseudo_id) >= 50
    ORDER BY country
    "#);
    }

    #[test]
    fn session_scoped_values_are_computed_per_session_and_joined() {
        insta::assert_snapshot!(sql("지난 달 모바일 세션 소스별 세션 수"), @r#"
    WITH session_facts AS (
      SELECT
        CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING)) AS session_key,
        COALESCE(ARRAY_AGG((SELECT ep.value.string_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'source') IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)], '(direct)') AS session_source
      FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
      WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131'
      GROUP BY session_key
    )
    SELECT
      session_facts.session_source AS session_source,
      COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))) AS sessions
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    LEFT JOIN session_facts ON session_facts.session_key = CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))
    WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131'
      AND device.category = 'mobile'
    GROUP BY session_source
    ORDER BY session_source
    "#);
    }

    #[test]
    fn a_channel_group_reads_the_session_values_it_needs() {
        let sql = sql("랜딩 페이지별 자연 검색 세션 수 12월");
        assert!(sql.starts_with("WITH session_facts AS ("), "{sql}");
        for needed in [
            "AS landing_page",
            "AS session_source",
            "AS session_medium",
            "AS session_campaign",
        ] {
            assert!(sql.contains(needed), "{needed}: {sql}");
        }
        assert!(sql.contains("THEN 'Organic Search'"), "{sql}");
        assert!(sql.contains("= 'Organic Search'"), "{sql}");
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote("O'Brien \\ x"), "'O\\'Brien \\\\ x'");
    }
}
