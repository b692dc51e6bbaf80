//! How risky an LLM draft is, before it runs: the bytes it would read against the cap, the
//! joins and row-multiplying UNNESTs it makes, and how far it is from every verified query.
//! A risky draft gets a second, expert look before anything runs.

use std::collections::HashSet;
use std::ops::ControlFlow;

use serde::Serialize;
use sqlparser::ast::{Query, SetExpr, TableFactor, Visit, Visitor};
use sqlparser::dialect::BigQueryDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Risk {
    /// 0 (like a verified query, cheap, simple) .. 1.
    pub score: f64,
    pub bytes_processed: u64,
    /// Joins between tables or subqueries (UNNEST not counted).
    pub joins: usize,
    /// UNNESTs joined to another relation: each can multiply rows.
    pub unnests: usize,
    /// Jaccard distance between the draft's words and the nearest verified query's (0 = same).
    pub example_distance: f64,
    /// What made it risky, for the reviewer and the report.
    pub reasons: Vec<String>,
}

/// The words of a query (keywords, identifiers, functions), without its literals: two
/// queries that differ only in dates are the same shape.
pub(crate) fn shape(sql: &str) -> HashSet<String> {
    Tokenizer::new(&BigQueryDialect {}, sql)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn distance(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    1.0 - a.intersection(b).count() as f64 / union as f64
}

#[derive(Default)]
struct Relations {
    joins: usize,
    unnests: usize,
}

impl Relations {
    fn set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => {
                let factors: Vec<&TableFactor> = select
                    .from
                    .iter()
                    .flat_map(|t| {
                        std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation))
                    })
                    .collect();
                if factors.len() > 1 {
                    let unnests = factors
                        .iter()
                        .filter(|f| matches!(f, TableFactor::UNNEST { .. }))
                        .count();
                    self.unnests += unnests;
                    self.joins += (factors.len() - unnests).saturating_sub(1);
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            // Subqueries are queries of their own: the visitor reaches them.
            _ => {}
        }
    }
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.set_expr(&query.body);
        ControlFlow::Continue(())
    }
}

/// Scores a draft that passed validation; `examples` are the shapes of the verified queries.
pub(crate) fn assess(
    sql: &str,
    bytes_processed: u64,
    max_bytes: u64,
    examples: &[HashSet<String>],
) -> Risk {
    let mut relations = Relations::default();
    if let Ok(statement) = nlq_sql::parse_query(sql) {
        let _ = statement.visit(&mut relations);
    }
    let draft = shape(sql);
    let example_distance = examples
        .iter()
        .map(|e| distance(&draft, e))
        .fold(1.0, f64::min);
    let bytes_share = if max_bytes == 0 {
        0.0
    } else {
        (bytes_processed as f64 / max_bytes as f64).min(1.0)
    };
    let join_share = (relations.joins as f64 / 2.0).min(1.0);
    let unnest_share = (relations.unnests as f64 / 2.0).min(1.0);
    // Distance weighs most: a draft unlike anything verified is where models go wrong.
    let score =
        0.3 * bytes_share + 0.15 * join_share + 0.15 * unnest_share + 0.4 * example_distance;
    let mut reasons = Vec::new();
    if bytes_share >= 0.25 {
        reasons.push(format!(
            "reads {} of the {} cap",
            nlq_core::result::human_bytes(bytes_processed),
            nlq_core::result::human_bytes(max_bytes)
        ));
    }
    if relations.joins > 0 {
        reasons.push(format!("{} join(s)", relations.joins));
    }
    if relations.unnests > 0 {
        reasons.push(format!(
            "{} UNNEST(s) joined to a table, which can multiply rows",
            relations.unnests
        ));
    }
    if example_distance >= 0.5 {
        reasons.push(format!(
            "unlike every verified query (distance {example_distance:.2})"
        ));
    }
    Risk {
        score,
        bytes_processed,
        joins: relations.joins,
        unnests: relations.unnests,
        example_distance,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "`p.d.events_*`";

    #[test]
    fn a_verified_query_with_other_dates_is_not_risky() {
        let golden = format!(
            "SELECT device.category, COUNT(DISTINCT user_pseudo_id) AS users FROM {T} WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210107' GROUP BY 1"
        );
        let draft = golden.replace("20210107", "20210131");
        let risk = assess(&draft, 1 << 20, 10 << 30, &[shape(&golden)]);
        assert_eq!(
            (risk.joins, risk.unnests, risk.example_distance),
            (0, 0, 0.0)
        );
        assert!(risk.score < 0.01 && risk.reasons.is_empty(), "{risk:?}");
    }

    #[test]
    fn joins_cross_joined_unnests_bytes_and_novelty_raise_it() {
        let draft = format!(
            "SELECT i.item_name, COUNT(*) AS n FROM {T} AS e, UNNEST(e.items) AS i \
             JOIN (SELECT user_pseudo_id FROM {T}) AS b ON b.user_pseudo_id = e.user_pseudo_id \
             WHERE (SELECT value.int_value FROM UNNEST(e.event_params) WHERE key = 'x') > 0 GROUP BY 1"
        );
        let risk = assess(&draft, 8 << 30, 10 << 30, &[shape("SELECT 1")]);
        // The scalar subquery's UNNEST(event_params) reads one row per event: not counted.
        assert_eq!((risk.joins, risk.unnests), (1, 1));
        assert!(risk.example_distance > 0.9);
        assert!(risk.score > 0.7, "{risk:?}");
        assert_eq!(risk.reasons.len(), 4, "{:?}", risk.reasons);
    }

    #[test]
    fn set_operations_count_both_sides() {
        let draft = format!(
            "SELECT a FROM {T} AS x, UNNEST(items) UNION ALL SELECT a FROM {T} AS y JOIN {T} AS z USING (a)"
        );
        let risk = assess(&draft, 0, 0, &[]);
        assert_eq!((risk.joins, risk.unnests), (1, 1));
    }
}
