//! Funnels: ordered steps, each an event, counted per user or per session as GA4's funnel
//! exploration counts them. A closed funnel counts, at each step, the units that did every
//! earlier step first (each step at or after the previous one's first time); an open one
//! counts each step on its own. The answer has one row per step: its count, the conversion
//! from the step before and from the first step.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use nlq_core::{QueryResult, Value};

use crate::Lang;
use crate::lexicon::Words;
use crate::model::{Format, SemanticModel};
use crate::understand::Plan;

/// The model file's `funnel:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelWords {
    /// "퍼널", "funnel": the question asks for a funnel.
    pub words: Words,
    /// "개방형", "open funnel": each step counted on its own.
    #[serde(default)]
    pub open: Words,
    /// The steps of a funnel the question names by one step or none ("구매 퍼널").
    pub default_steps: Vec<String>,
}

/// What a funnel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Users,
    Sessions,
}

/// A funnel's plan, beside the grid plan's range and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// Event names, in order.
    pub steps: Vec<String>,
    pub unit: Unit,
    pub open: bool,
}

impl Funnel {
    /// The metric column the steps are counted in.
    pub fn column(&self) -> &'static str {
        match self.unit {
            Unit::Users => "users",
            Unit::Sessions => "sessions",
        }
    }
}

/// The event a count metric counts, when it counts exactly one (`COUNTIF(event_name = 'add_to_cart')`,
/// `COUNT(DISTINCT IF(event_name = 'purchase', ...))`): a step a question can name by the metric.
pub(crate) fn metric_event(sql: &str) -> Option<String> {
    use sqlparser::ast::{BinaryOperator, Expr, Value as SqlValue, Visit, Visitor};
    use sqlparser::dialect::BigQueryDialect;
    use sqlparser::parser::Parser;
    use std::ops::ControlFlow;

    struct Events(Vec<String>);
    impl Visitor for Events {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = expr
                && let Expr::Identifier(column) = left.as_ref()
                && column.value.eq_ignore_ascii_case("event_name")
                && let Expr::Value(v) = right.as_ref()
                && let SqlValue::SingleQuotedString(name) = &v.value
                && !self.0.contains(name)
            {
                self.0.push(name.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let expr = Parser::new(&BigQueryDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let mut events = Events(Vec::new());
    let _ = expr.visit(&mut events);
    match events.0.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The funnel's SQL over the plan's range and filters.
pub(crate) fn compile(
    model: &SemanticModel,
    plan: &Plan,
    funnel: &Funnel,
) -> Result<String, String> {
    if funnel.steps.len() < 2 {
        return Err("a funnel needs two steps or more".to_owned());
    }
    let unit = match funnel.unit {
        Unit::Users => "user_pseudo_id".to_owned(),
        Unit::Sessions => model
            .session_key
            .clone()
            .ok_or("a funnel of sessions needs the model's `session_key` fragment")?,
    };
    let (low, high) = plan.range.suffixes();
    let mut sql = String::from("WITH funnel_events AS (\n");
    let _ = write!(
        sql,
        "  SELECT {unit} AS unit, event_name, event_timestamp\n  FROM `{}`\n  WHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'\n    AND event_name IN ({})",
        model.table,
        crate::compile::quoted(&funnel.steps)
    );
    sql.push_str(&crate::compile::event_filters(model, plan, "a funnel")?);
    sql.push_str("\n)");
    for (i, step) in funnel.steps.iter().enumerate() {
        let n = i + 1;
        let event = crate::compile::quote(step);
        if i == 0 || funnel.open {
            let _ = write!(
                sql,
                ",\nstep_{n} AS (\n  SELECT unit, MIN(event_timestamp) AS reached_at\n  FROM funnel_events\n  WHERE event_name = {event} AND unit IS NOT NULL\n  GROUP BY unit\n)"
            );
        } else {
            let _ = write!(
                sql,
                ",\nstep_{n} AS (\n  SELECT e.unit, MIN(e.event_timestamp) AS reached_at\n  FROM funnel_events AS e\n  JOIN step_{i} AS p ON e.unit = p.unit\n  WHERE e.event_name = {event} AND e.event_timestamp >= p.reached_at\n  GROUP BY e.unit\n)"
            );
        }
    }
    let column = funnel.column();
    let counts: Vec<String> = funnel
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            format!(
                "  SELECT {} AS step, {} AS event_name, COUNT(*) AS {column} FROM step_{}",
                i + 1,
                crate::compile::quote(step),
                i + 1
            )
        })
        .collect();
    let _ = write!(
        sql,
        ",\nsteps AS (\n{}\n)\nSELECT\n  step,\n  event_name,\n  {column},\n  SAFE_DIVIDE({column}, LAG({column}) OVER (ORDER BY step)) AS step_conversion_rate,\n  SAFE_DIVIDE({column}, FIRST_VALUE({column}) OVER (ORDER BY step)) AS overall_conversion_rate\nFROM steps\nORDER BY step\nLIMIT {}",
        counts.join("\n  UNION ALL\n"),
        funnel.steps.len()
    );
    Ok(sql)
}

/// "funnel of users, Dec 1 .. Dec 31: view_item 1,234 → add_to_cart 321 (26.0%) → purchase 45
/// (14.0%); 3.6% overall; the largest drop: view_item → add_to_cart (74.0% left)".
pub(crate) fn summarize(funnel: &Funnel, result: &QueryResult, lang: Lang, range: &str) -> String {
    let count = |row: &[Value]| row.get(2).and_then(Value::as_f64).unwrap_or(0.0);
    let rows: Vec<(String, f64)> = result
        .rows
        .iter()
        .map(|r| {
            let name = match r.get(1) {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            (name, count(r))
        })
        .collect();
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let mut chain = Vec::new();
    for (i, (name, n)) in rows.iter().enumerate() {
        let shown = crate::summary::number(*n, Format::Count);
        if i == 0 {
            chain.push(format!("{name} {shown}"));
        } else {
            let before = rows[i - 1].1;
            let rate = if before > 0.0 {
                pct(n / before)
            } else {
                "-".into()
            };
            chain.push(format!("{name} {shown} ({rate})"));
        }
    }
    let first = rows.first().map_or(0.0, |r| r.1);
    let last = rows.last().map_or(0.0, |r| r.1);
    let overall = if first > 0.0 {
        pct(last / first)
    } else {
        "-".into()
    };
    // The weakest step: the smallest share of the step before that goes on.
    let weakest = rows
        .windows(2)
        .filter(|w| w[0].1 > 0.0)
        .map(|w| (w[1].1 / w[0].1, &w[0].0, &w[1].0))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let (unit_ko, unit_en) = match funnel.unit {
        Unit::Users => ("사용자", "users"),
        Unit::Sessions => ("세션", "sessions"),
    };
    let kind = match (funnel.open, lang) {
        (true, Lang::Ko) => "개방형 퍼널",
        (false, Lang::Ko) => "퍼널",
        (true, Lang::En) => "open funnel",
        (false, Lang::En) => "funnel",
    };
    match lang {
        Lang::Ko => {
            let mut out = format!(
                "{range}: {kind}({unit_ko} 기준) {}; 전체 전환율 {overall}",
                chain.join(" → ")
            );
            if let Some((rate, from, to)) = weakest {
                let _ = write!(out, "; 가장 약한 단계: {from} → {to} ({} 진행)", pct(rate));
            }
            out
        }
        Lang::En => {
            let mut out = format!(
                "{range}: {kind} of {unit_en}: {}; {overall} overall",
                chain.join(" → ")
            );
            if let Some((rate, from, to)) = weakest {
                let _ = write!(
                    out,
                    "; the weakest step: {from} → {to} ({} go on)",
                    pct(rate)
                );
            }
            out
        }
    }
}
