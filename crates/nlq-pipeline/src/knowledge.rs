//! Teaching: each lesson checked as strictly as any query before it is kept, the lessons kept
//! in the metadata store as one versioned document, and the verified examples that answer
//! their question again (with its dates moved) without the semantic engine or an LLM.
//!
//! ```text
//!  check     example: the validator (guard, lint, dry run, cost) and a LIMIT 0 run;
//!            metric: the model takes it, a test query with it compiles and validates;
//!            synonym: the model takes it (the word is free, the meaning exists);
//!            note: its shape only
//!  store     KnowledgeBase: the latest version, cached; changes by compare-and-swap
//!  answer    Verified: a question equal after normalization to a taught one
//! ```

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlparser::ast::{Value, ValueWithSpan, VisitMut, VisitorMut};
use sqlparser::dialect::BigQueryDialect;
use sqlparser::parser::Parser;

use nlq_core::knowledge::{Knowledge, KnowledgeError, Lesson};
use nlq_metasync::{MetaStore, MetaSyncError, VersionId};
use nlq_semantic::normalize::normalize;
use nlq_semantic::{DateRange, Plan, SemanticModel};

use crate::pipeline::Pipeline;

/// Checks a lesson against the pipeline's model and data; the lesson as it is to be kept (an
/// example with the dates its question means today), or why it is refused.
pub async fn check(pipeline: &Pipeline, lesson: Lesson) -> Result<Lesson, KnowledgeError> {
    let lesson = lesson.tidy()?;
    match lesson {
        Lesson::Example { question, sql, .. } => {
            let report = pipeline.validator().check(&sql).await;
            if !report.passed() {
                let reason = report.first_error().map_or_else(
                    || "it did not pass validation".to_owned(),
                    |f| f.message.clone(),
                );
                return Err(KnowledgeError::Invalid(format!(
                    "the SQL is refused: {reason}"
                )));
            }
            let outcome = pipeline.validator().run(&limit_zero(&sql)?).await;
            if outcome.result.is_none() {
                let reason = outcome
                    .report
                    .first_error()
                    .map_or_else(|| "it did not run".to_owned(), |f| f.message.clone());
                return Err(KnowledgeError::Invalid(format!(
                    "the SQL does not run: {reason}"
                )));
            }
            let range = pipeline
                .reader()
                .time_range(&question)
                .map(|r| (r.start.to_string(), r.end.to_string()));
            Ok(Lesson::Example {
                question,
                sql,
                range,
            })
        }
        Lesson::Metric { ref name, .. } => {
            let model = pipeline
                .model()
                .clone()
                .with_lesson(&lesson)
                .map_err(|e| KnowledgeError::Invalid(e.to_string()))?;
            let sql =
                nlq_semantic::compile(&model, &test_plan(name, pipeline.data())).map_err(|e| {
                    KnowledgeError::Invalid(format!("a query with it does not compile: {e}"))
                })?;
            let report = pipeline.validator().check(&sql).await;
            if let Some(finding) = report.first_error().filter(|_| !report.passed()) {
                return Err(KnowledgeError::Invalid(format!(
                    "a query with it is refused: {}",
                    finding.message
                )));
            }
            Ok(lesson)
        }
        Lesson::Synonym { .. } => {
            pipeline
                .model()
                .clone()
                .with_lesson(&lesson)
                .map_err(|e| KnowledgeError::Invalid(e.to_string()))?;
            Ok(lesson)
        }
        Lesson::Note { .. } => Ok(lesson),
    }
}

/// The metric over the last week of data: the query a question about it would become.
fn test_plan(metric: &str, data: DateRange) -> Plan {
    let start = (data.end - chrono::Days::new(6)).max(data.start);
    Plan {
        metrics: vec![metric.to_owned()],
        dimensions: Vec::new(),
        filters: Vec::new(),
        range: DateRange {
            start,
            end: data.end,
        },
        range_words: None,
        compare: None,
        top: None,
        having: Vec::new(),
        percent: false,
        confidence: 1.0,
        notes: Vec::new(),
        shape: None,
        change: false,
        other: false,
        versus: Vec::new(),
        approx: false,
    }
}

/// `SELECT * FROM (<sql>) LIMIT 0`: the query is planned and started, no row comes back.
fn limit_zero(sql: &str) -> Result<String, KnowledgeError> {
    let statements = Parser::parse_sql(&BigQueryDialect {}, sql)
        .map_err(|e| KnowledgeError::Invalid(format!("the SQL does not parse: {e}")))?;
    match statements.as_slice() {
        [statement] => Ok(format!("SELECT * FROM ({statement}) LIMIT 0")),
        _ => Err(KnowledgeError::Invalid(
            "a verified example is one SELECT statement".to_owned(),
        )),
    }
}

/// A taught example, ready to answer its question again.
#[derive(Debug, Clone)]
pub struct Verified {
    pub id: String,
    /// The question, normalized.
    key: String,
    pub sql: String,
    /// The days the question meant when taught.
    range: Option<DateRange>,
}

impl Verified {
    pub fn of(knowledge: &Knowledge) -> Vec<Verified> {
        knowledge
            .entries
            .iter()
            .filter_map(|taught| match &taught.lesson {
                Lesson::Example {
                    question,
                    sql,
                    range,
                } => Some(Verified {
                    id: taught.id.clone(),
                    key: normalize(question),
                    sql: sql.clone(),
                    range: range.as_ref().and_then(|(start, end)| {
                        Some(DateRange {
                            start: start.parse().ok()?,
                            end: end.parse().ok()?,
                        })
                    }),
                }),
                _ => None,
            })
            .collect()
    }

    /// The example taught for `question` (equal after normalization), the latest taught.
    pub fn find<'v>(examples: &'v [Verified], question: &str) -> Option<&'v Verified> {
        let key = normalize(question);
        examples.iter().rev().find(|e| e.key == key)
    }

    /// Its SQL for the days the question means now: the date literals moved from the taught
    /// range to `now`. None when they cannot be moved (the question named time then and names
    /// none now, or the other way round).
    pub fn sql_for(&self, now: Option<DateRange>) -> Option<String> {
        match (self.range, now) {
            (then, now) if then == now => Some(self.sql.clone()),
            (Some(then), Some(now)) => rebind(&self.sql, then, now),
            _ => None,
        }
    }
}

/// The SQL with each string literal that spells a day of `then` (`'20201101'`,
/// `'2020-11-01'`, also inside `DATE '...'`) spelling the matching day of `now`. SQL with
/// relative dates (`CURRENT_DATE()`) has none and stays as it is.
pub fn rebind(sql: &str, then: DateRange, now: DateRange) -> Option<String> {
    struct Dates {
        pairs: Vec<(String, String)>,
    }
    impl VisitorMut for Dates {
        type Break = ();
        fn post_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
            if let Value::SingleQuotedString(text) | Value::DoubleQuotedString(text) =
                &mut value.value
                && let Some((_, new)) = self.pairs.iter().find(|(old, _)| old == text)
            {
                *text = new.clone();
            }
            ControlFlow::Continue(())
        }
    }
    let spell = |d: NaiveDate| [d.format("%Y%m%d").to_string(), d.to_string()];
    let mut pairs = Vec::new();
    for (old, new) in [(then.start, now.start), (then.end, now.end)] {
        for (o, n) in spell(old).into_iter().zip(spell(new)) {
            pairs.push((o, n));
        }
    }
    let mut statements = Parser::parse_sql(&BigQueryDialect {}, sql).ok()?;
    let _ = statements.visit(&mut Dates { pairs });
    Some(
        statements
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(";\n"),
    )
}

/// The lessons in the metadata store: the latest version cached for `ttl`, changed by
/// reading, editing and writing back only if nobody wrote in between (else again).
pub struct KnowledgeBase {
    store: Arc<dyn MetaStore>,
    ttl: Duration,
    cached: tokio::sync::Mutex<Option<Read>>,
}

/// The lessons as last read: when, from which version (None: nothing taught yet).
type Read = (Instant, Option<VersionId>, Arc<Knowledge>);

/// A change that lost a race this many times in a row is reported, not retried.
const ATTEMPTS: usize = 5;

impl KnowledgeBase {
    pub fn new(store: Arc<dyn MetaStore>, ttl: Duration) -> Self {
        KnowledgeBase {
            store,
            ttl,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    pub fn location(&self) -> String {
        self.store.location()
    }

    /// The lessons and the version they were read from (None: nothing taught yet).
    pub async fn current(&self) -> Result<(Option<VersionId>, Arc<Knowledge>), TeachError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, version, knowledge)) = cached.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok((version.clone(), knowledge.clone()));
        }
        let (version, knowledge) = self.read().await?;
        let knowledge = Arc::new(knowledge);
        *cached = Some((Instant::now(), version.clone(), knowledge.clone()));
        Ok((version, knowledge))
    }

    async fn read(&self) -> Result<(Option<VersionId>, Knowledge), TeachError> {
        match self.store.latest().await? {
            None => Ok((None, Knowledge::default())),
            Some(stored) => Ok((
                Some(stored.info.id),
                Knowledge::from_json(&stored.document)?,
            )),
        }
    }

    /// Applies `edit` to the latest lessons and writes the result as a new version; what
    /// `edit` returned. A concurrent writer's version is read again and `edit` re-applied.
    pub async fn change<T>(
        &self,
        edit: impl Fn(&mut Knowledge) -> Result<T, KnowledgeError>,
    ) -> Result<T, TeachError> {
        let mut cached = self.cached.lock().await;
        for _ in 0..ATTEMPTS {
            let (_, mut knowledge) = self.read().await?;
            let out = edit(&mut knowledge)?;
            match self.store.put(&knowledge.to_json()).await {
                Ok(written) => {
                    *cached = Some((
                        Instant::now(),
                        Some(written.version.id),
                        Arc::new(knowledge),
                    ));
                    return Ok(out);
                }
                Err(MetaSyncError::Conflict { .. }) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(TeachError::Busy)
    }
}

/// Why a lesson was not kept.
#[derive(Debug, thiserror::Error)]
pub enum TeachError {
    #[error(transparent)]
    Lesson(#[from] KnowledgeError),
    #[error("the knowledge store failed: {0}")]
    Store(#[from] MetaSyncError),
    #[error("the knowledge changed under {ATTEMPTS} attempts in a row: try again")]
    Busy,
}

impl nlq_core::Classify for TeachError {
    fn class(&self) -> nlq_core::ErrorClass {
        match self {
            TeachError::Lesson(e) => e.class(),
            TeachError::Store(e) => e.class(),
            TeachError::Busy => nlq_core::ErrorClass::Transient,
        }
    }
}

/// The time a lesson is stamped with: RFC 3339, UTC, to the second.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The model entries by origin, for the Knowledge tab: (kind, name, origin, words).
pub fn model_entries(model: &SemanticModel) -> Vec<serde_json::Value> {
    let words =
        |ko: &[String], en: &[String]| -> Vec<String> { ko.iter().chain(en).cloned().collect() };
    model
        .metrics
        .iter()
        .map(|m| {
            serde_json::json!({
                "kind": "metric", "name": m.name, "origin": m.origin,
                "sql": m.sql, "words": words(&m.ko, &m.en),
            })
        })
        .chain(model.dimensions.iter().map(|d| {
            serde_json::json!({
                "kind": "dimension", "name": d.name, "origin": d.origin,
                "sql": d.sql, "words": words(&d.ko, &d.en),
            })
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(a: &str, b: &str) -> DateRange {
        DateRange {
            start: a.parse().unwrap(),
            end: b.parse().unwrap(),
        }
    }

    #[test]
    fn rebinding_moves_every_spelling_of_the_taught_days() {
        let sql = "SELECT COUNT(*) FROM `p.d.events_*` WHERE _TABLE_SUFFIX BETWEEN '20201125' AND '20201201' \
                   AND PARSE_DATE('%Y%m%d', event_date) <= DATE '2020-12-01' AND event_name = '20201125x'";
        let moved = rebind(
            sql,
            range("2020-11-25", "2020-12-01"),
            range("2021-01-25", "2021-01-31"),
        )
        .unwrap();
        assert!(
            moved.contains("BETWEEN '20210125' AND '20210131'"),
            "{moved}"
        );
        assert!(moved.contains("DATE '2021-01-31'"), "{moved}");
        assert!(moved.contains("'20201125x'"), "{moved}");
    }

    #[test]
    fn an_example_answers_its_question_whatever_its_spelling() {
        let mut knowledge = Knowledge::default();
        knowledge.add(
            Lesson::Example {
                question: "지난 7일 가입 수".into(),
                sql: "SELECT 1 FROM t WHERE d BETWEEN '20201125' AND '20201201'".into(),
                range: Some(("2020-11-25".into(), "2020-12-01".into())),
            },
            "ann",
            "t",
        );
        let examples = Verified::of(&knowledge);
        let now = Some(range("2021-01-25", "2021-01-31"));
        let example = Verified::find(&examples, "지난 7일  가입 수?").unwrap();
        let sql = example.sql_for(now).unwrap();
        assert_eq!(example.id, "k1");
        assert!(sql.contains("'20210125' AND '20210131'"), "{sql}");
        let answer = |q: &str, now| Verified::find(&examples, q).and_then(|e| e.sql_for(now));
        assert!(answer("지난 7일 가입 수", None).is_none());
        assert!(answer("지난 30일 가입 수", now).is_none());
    }

    #[test]
    fn limit_zero_wraps_one_statement_only() {
        assert_eq!(
            limit_zero("SELECT 1").unwrap(),
            "SELECT * FROM (SELECT 1) LIMIT 0"
        );
        assert!(limit_zero("SELECT 1; SELECT 2").is_err());
    }
}
