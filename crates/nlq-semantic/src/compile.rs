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

use crate::model::{Dimension, Format, Grain, Metric, SESSION_FACTS, SemanticModel, USER_FACTS};
use crate::understand::{Filter, FilterOp, Plan, Shape};

/// The SQL of a plan. Names in a plan come from the model, so a missing one is a bug in the
/// reader; it is reported rather than panicking.
pub fn compile(model: &SemanticModel, plan: &Plan) -> Result<String, String> {
    match &plan.shape {
        Some(Shape::Funnel(funnel)) => return crate::funnel::compile(model, plan, funnel),
        Some(Shape::Cohort(cohort)) => return crate::cohort::compile(model, plan, cohort),
        Some(Shape::BoughtTogether(together)) => {
            return crate::together::compile(model, plan, together);
        }
        None => {}
    }
    let metric = |name: &str| {
        model
            .metric(name)
            .map(|m| counted(m, plan.approx))
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
    let mut valued = Vec::new();
    for m in &metrics {
        let (sql, name) = if plan.percent && m.format == Format::Ratio {
            (format!("({}) * 100", m.sql), format!("{}_pct", m.name))
        } else {
            (m.sql.clone(), m.name.clone())
        };
        columns.push(format!("{sql} AS {name}"));
        valued.push((sql.clone(), name.clone()));
        if plan.percent && m.format != Format::Ratio {
            if dimensions.is_empty() || plan.compare.is_some() {
                return Err(format!(
                    "a share of `{}` needs a breakdown; the plan has none",
                    m.name
                ));
            }
            shares.push((m, sql.clone(), name.clone()));
        }
        metric_names.push(name);
    }
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

    // The user values the breakdown and the filters read.
    let mut users: Vec<&Dimension> = dimensions
        .iter()
        .filter(|d| d.user.is_some())
        .copied()
        .collect();
    for filter in &plan.filters {
        let d = dimension(&filter.dimension)?;
        if d.user.is_some() && !users.iter().any(|u| u.name == d.name) {
            users.push(d);
        }
    }

    let mut ctes = Vec::new();
    if !sessions.is_empty() {
        let key = model
            .session_key
            .as_deref()
            .ok_or("session-scoped dimensions need the model's `session_key`")?;
        ctes.push(facts(
            model,
            (SESSION_FACTS, key, "session_key"),
            &sessions,
            (&low, &high),
            periods.as_deref(),
        )?);
    }
    if !users.is_empty() {
        ctes.push(facts(
            model,
            (USER_FACTS, "user_pseudo_id", "user_key"),
            &users,
            (&low, &high),
            periods.as_deref(),
        )?);
    }
    let mut from = format!("\nFROM `{}`", model.table);
    let item_grain = metrics.iter().any(|m| m.grain == Grain::Item);
    if item_grain {
        from.push_str("\nCROSS JOIN UNNEST(items) AS item");
    }
    if let (false, Some(key)) = (sessions.is_empty(), &model.session_key) {
        let _ = write!(
            from,
            "\nLEFT JOIN {SESSION_FACTS} ON {SESSION_FACTS}.session_key = {key}"
        );
    }
    if !users.is_empty() {
        let _ = write!(
            from,
            "\nLEFT JOIN {USER_FACTS} ON {USER_FACTS}.user_key = user_pseudo_id"
        );
    }
    let mut sql = String::new();
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
        let _ = write!(sql, "\n  AND {}", condition(&d.sql, filter));
    }
    // `sql` holds the WHERE clause so far: what every scan of this question reads.
    let filtered = std::mem::take(&mut sql);
    for (m, value, name) in shares {
        // Window functions run after GROUP BY and before LIMIT: the sum of all rows. A count
        // of distinct users or sessions does not add up across rows (one user can be in two),
        // so its whole is counted once over the same events.
        let whole = if m.adds_up() {
            format!("SUM({value}) OVER ()")
        } else {
            let scan = format!("{from}{filtered}")
                .replace("\n  ", " ")
                .replace('\n', " ");
            format!("(SELECT {value}{scan})")
        };
        columns.push(format!(
            "100 * SAFE_DIVIDE({value}, {whole}) AS {name}_share_pct"
        ));
    }
    // Two values side by side: the grouped rows, then each one's difference from the first
    // value's row, over the columns' names (a dimension computed from event_params could not
    // be repeated after GROUP BY), NULL when the first value has no row.
    let versus = if plan.versus.is_empty() {
        None
    } else {
        let [_] = dimensions.as_slice() else {
            return Err("a difference between values needs exactly one breakdown".to_owned());
        };
        let (d, first) = (&names[0], quote(&plan.versus[0]));
        let diffs: Vec<String> = valued
            .iter()
            .map(|(_, name)| {
                format!("{name} - MAX(IF({d} = {first}, {name}, NULL)) OVER () AS {name}_diff")
            })
            .collect();
        Some((diffs, versus_order(d, &plan.versus)))
    };
    if plan.other {
        let ([d], Some(top), Some(first)) = (dimensions.as_slice(), plan.top, metrics.first())
        else {
            return Err("the rest as one row needs a top N of one breakdown".to_owned());
        };
        let direction = if top.descending { "DESC" } else { "ASC" };
        ctes.push(format!(
            "{TOP_ROWS} AS (\n  SELECT {d_sql} AS top_value{from}{filtered}\n    AND {d_sql} IS NOT NULL\n  \
             GROUP BY top_value\n  ORDER BY {m_sql} {direction}, top_value\n  LIMIT {n}\n)",
            d_sql = d.sql,
            m_sql = first.sql,
            from = indent(&from),
            filtered = indent(&filtered),
            n = top.n,
        ));
        let _ = write!(
            from,
            "\nLEFT JOIN {TOP_ROWS} ON {TOP_ROWS}.top_value = {}",
            d.sql
        );
        columns[0] = format!("COALESCE({TOP_ROWS}.top_value, '{OTHER}') AS {}", d.name);
    }
    let head = if ctes.is_empty() {
        String::new()
    } else {
        format!("WITH {}\n", ctes.join(",\n"))
    };
    sql.push_str("SELECT\n");
    sql.push_str(&select_list(&columns, "  "));
    sql.push_str(&from);
    sql.push_str(&filtered);
    if plan.other {
        sql.push_str("\nGROUP BY 1");
    } else if !names.is_empty() {
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
        // The rest comes last, whatever its size.
        Some(top) if plan.other => {
            let first = metric_names.first().cloned().unwrap_or_default();
            let direction = if top.descending { "DESC" } else { "ASC" };
            // By the joined top value, not the column's name, which may also be a column
            // of the table (event_name).
            vec![
                format!("MAX({TOP_ROWS}.top_value) IS NULL"),
                format!("{first} {direction}"),
                format!("MAX({TOP_ROWS}.top_value) ASC"),
            ]
        }
        _ if versus.is_some() => Vec::new(),
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
        && !plan.other
    {
        let _ = write!(sql, "\nLIMIT {}", top.n);
    }
    if let Some((diffs, order)) = versus {
        sql = format!(
            "SELECT\n  *,\n{}\nFROM (\n{}\n)\nORDER BY {order}",
            select_list(&diffs, "  "),
            indent_all(&sql)
        );
    }
    Ok(format!("{head}{sql}"))
}

/// Every line of a query indented one level, to sit inside a subquery.
fn indent_all(sql: &str) -> String {
    sql.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The CTE of per-session (or per-user) values: each scoped dimension's first non-null value
/// among the session's (user's) events in the range, in time order. `(alias, key SQL, key
/// column)` name the CTE and what it is grouped by.
fn facts(
    model: &SemanticModel,
    (alias, key, key_column): (&str, &str, &str),
    scoped: &[&Dimension],
    (low, high): (&str, &str),
    periods: Option<&str>,
) -> Result<String, String> {
    let mut columns = vec![format!("{key} AS {key_column}")];
    for d in scoped {
        let Some(value) = d.session.as_ref().or(d.user.as_ref()) else {
            return Err(format!("`{}` is neither session- nor user-scoped", d.name));
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
    let mut sql = format!("{alias} AS (\n  SELECT\n");
    sql.push_str(&select_list(&columns, "    "));
    let _ = write!(
        sql,
        "\n  FROM `{}`\n  WHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'{}\n  GROUP BY {key_column}\n)",
        model.table,
        periods.map_or(String::new(), |p| format!("\n    AND {p}"))
    );
    Ok(sql)
}

/// The metric as the plan counts it: in approx mode, as GA4's reports estimate it where the
/// model says how.
fn counted(m: &Metric, approx: bool) -> Metric {
    let mut m = m.clone();
    if approx && let Some(sql) = m.approx.take() {
        m.sql = sql;
    }
    m
}

/// A filter as a condition on its dimension's SQL.
pub(crate) fn condition(sql: &str, filter: &Filter) -> String {
    match (filter.op, filter.values.as_slice()) {
        (FilterOp::In, [one]) => format!("{sql} = {}", quote(one)),
        (FilterOp::In, values) => format!("{sql} IN ({})", quoted(values)),
        // A row whose value is NULL is not "mobile" either: keep it.
        (FilterOp::NotIn, values) => {
            format!("({sql} IS NULL OR {sql} NOT IN ({}))", quoted(values))
        }
    }
}

/// The conditions an analysis shape's scan adds for the plan's filters, one `AND` a line.
/// A shape reads the events themselves: a session-, user- or item-scoped value is refused,
/// named with `what` the shape is.
pub(crate) fn event_filters(
    model: &SemanticModel,
    plan: &Plan,
    what: &str,
) -> Result<String, String> {
    let mut out = String::new();
    for filter in &plan.filters {
        let d = model
            .dimension(&filter.dimension)
            .ok_or_else(|| format!("the plan names an unknown dimension `{}`", filter.dimension))?;
        if d.joined() || d.grain == Grain::Item {
            return Err(format!(
                "{what} filtered by `{}` is not written yet",
                d.name
            ));
        }
        let _ = write!(out, "\n    AND {}", condition(&d.sql, filter));
    }
    Ok(out)
}

/// The top N's values, for the rest to be everything else.
const TOP_ROWS: &str = "top_rows";

/// The label of the row after a top N.
pub const OTHER: &str = "(other)";

/// Each value's place in the order the question named them, as an ORDER BY expression.
fn versus_order(expression: &str, values: &[String]) -> String {
    let mut case = format!("CASE {expression}");
    for (i, v) in values.iter().enumerate() {
        let _ = write!(case, " WHEN {} THEN {i}", quote(v));
    }
    let _ = write!(case, " END");
    case
}

/// Clause lines indented one level, to sit inside a CTE.
fn indent(clause: &str) -> String {
    clause.replace('\n', "\n  ")
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

    /// The sample's reader: data from 2020-11-01 to 2021-01-31, asked on 2021-02-01.
    fn reader(model: &SemanticModel) -> Reader<'_> {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        Reader::new(
            model,
            day("2021-02-01"),
            DateRange {
                start: day("2020-11-01"),
                end: day("2021-01-31"),
            },
        )
    }

    fn sql(question: &str) -> String {
        let model = SemanticModel::builtin().unwrap();
        sql_of(&reader(&model), &model, question)
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
    fn a_share_is_each_row_against_the_whole() {
        // Distinct sessions do not add up across rows: the whole is counted once.
        insta::assert_snapshot!(sql("각 국가가 차지하는 세션 비율 상위 3개"), @r#"
    SELECT
      geo.country AS country,
      COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))) AS sessions,
      100 * SAFE_DIVIDE(COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))), (SELECT COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131')) AS sessions_share_pct
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
    GROUP BY country
    ORDER BY sessions DESC, country ASC
    LIMIT 3
    "#);
        // Revenue adds up: the whole is the sum of the rows.
        insta::assert_snapshot!(sql("share of revenue by device"), @r#"
    SELECT
      device.category AS device_category,
      SUM(IF(event_name = 'purchase', ecommerce.purchase_revenue, 0)) AS revenue,
      100 * SAFE_DIVIDE(SUM(IF(event_name = 'purchase', ecommerce.purchase_revenue, 0)), SUM(SUM(IF(event_name = 'purchase', ecommerce.purchase_revenue, 0))) OVER ()) AS revenue_share_pct
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
    GROUP BY device_category
    ORDER BY device_category
    "#);
    }

    #[test]
    fn the_rest_after_a_top_n_is_one_row_joined_on_the_top_values() {
        insta::assert_snapshot!(sql("top 3 countries by users and the rest"), @r#"
    WITH top_rows AS (
      SELECT geo.country AS top_value
      FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
      WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
        AND geo.country IS NOT NULL
      GROUP BY top_value
      ORDER BY COUNT(DISTINCT user_pseudo_id) DESC, top_value
      LIMIT 3
    )
    SELECT
      COALESCE(top_rows.top_value, '(other)') AS country,
      COUNT(DISTINCT user_pseudo_id) AS users
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    LEFT JOIN top_rows ON top_rows.top_value = geo.country
    WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
    GROUP BY 1
    ORDER BY MAX(top_rows.top_value) IS NULL, users DESC, MAX(top_rows.top_value) ASC
    "#);
    }

    #[test]
    fn two_values_side_by_side_carry_their_difference() {
        insta::assert_snapshot!(sql("mobile vs desktop sessions"), @r#"
    SELECT
      *,
      sessions - MAX(IF(device_category = 'mobile', sessions, NULL)) OVER () AS sessions_diff
    FROM (
      SELECT
        device.category AS device_category,
        COUNT(DISTINCT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))) AS sessions
      FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
      WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131'
        AND device.category IN ('mobile', 'desktop')
      GROUP BY device_category
    )
    ORDER BY CASE device_category WHEN 'mobile' THEN 0 WHEN 'desktop' THEN 1 END
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
    fn approx_mode_counts_users_and_sessions_as_ga4_reports_do() {
        let model = SemanticModel::builtin().unwrap();
        let sql = sql("GA4 화면 기준 지난달 디바이스별 사용자 수와 세션 수");
        assert!(
            sql.contains("HLL_COUNT.EXTRACT(HLL_COUNT.INIT(user_pseudo_id, 14)) AS users"),
            "{sql}"
        );
        assert!(
            sql.contains("HLL_COUNT.EXTRACT(HLL_COUNT.INIT(CONCAT(user_pseudo_id"),
            "{sql}"
        );
        assert!(sql.contains(", 12)) AS sessions"), "{sql}");
        let reader = reader(&model);
        // Revenue is exact either way, and the answer says so.
        let Understanding::Data { plan } = reader.understand("revenue by device as in the GA4 UI")
        else {
            panic!()
        };
        assert!(plan.approx, "{plan:?}");
        assert!(
            plan.notes.iter().any(|n| n.contains("exact either way")),
            "{plan:?}"
        );
        assert!(!compile(&model, &plan).unwrap().contains("HLL_COUNT"));
        // Without the words, exact.
        assert!(!sql_of(&reader, &model, "지난달 디바이스별 사용자 수").contains("HLL_COUNT"));
    }

    fn sql_of(reader: &Reader<'_>, model: &SemanticModel, question: &str) -> String {
        match reader.understand(question) {
            Understanding::Data { plan } => compile(model, &plan).unwrap(),
            other => panic!("{question}: {other:?}"),
        }
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote("O'Brien \\ x"), "'O\\'Brien \\\\ x'");
    }
}
