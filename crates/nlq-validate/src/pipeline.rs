//! The validation pipeline: every step a query passes before and after it runs, in order, with
//! early exit. Each step reports a `StepResult`; the whole is a `Report` that `nlq check`
//! prints and every answer carries.
//!
//! ```text
//!  guard ─► lint ─► dry_run ─► cost ─► explain ─► schema ─► canary ─► execute ─► assertions
//!  (AST)    (AST)   (warehouse) (cap)  (plan)    (LIMIT 0)  (last day)  (rows)    (result)
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlparser::ast::{Expr, LimitClause, Statement};

use nlq_core::{Column, ErrorClass, QueryRequest, QueryResult, Warehouse, WarehouseError, label};

use crate::assertions::{self, ResultShape};
use crate::cost::{self, Cost, CostPolicy};
use crate::error::ValidateError;
use crate::finding::{Finding, Severity};
use crate::guard::{AllowedDataset, GuardConfig, guard};
use crate::lint::{LintContext, lint};
use crate::params::ParamCatalog;

/// What may run, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The only datasets a query may read.
    pub allowed: Vec<AllowedDataset>,
    /// Price, other currency, and `maximum_bytes_billed`.
    pub cost: CostPolicy,
    /// Validate and estimate, never run (no canary, no execution).
    pub dry_run_only: bool,
    /// At most this many rows come back.
    pub max_rows: usize,
    /// Each warehouse call (dry run, canary, run) gives up after this long.
    pub timeout: Duration,
    /// Run the query on its range's last day first, when that is cheaper than the whole.
    pub canary: bool,
    /// A query the dry run says reads less than this runs without a canary: a failure of the
    /// whole costs little, and the canary's extra round trip more than it saves.
    pub canary_min_bytes: u64,
    /// Ask the warehouse for its plan (a `check` shows it; an answer does not need it).
    pub explain: bool,
    /// Lint rules (`lint.items_fanout`) whose errors the analyst accepts: they are reported as
    /// warnings that say so, and the query runs. Guard rules cannot be allowed.
    pub allow: Vec<String>,
}

impl Policy {
    /// Defaults for reading one dataset: on-demand price, 10 GiB cap, 10,000 rows, 60 s; a
    /// canary for queries reading 1 GiB or more; no explain.
    pub fn for_dataset(project: impl Into<String>, dataset: impl Into<String>) -> Self {
        Policy {
            allowed: vec![AllowedDataset {
                project: project.into(),
                dataset: dataset.into(),
            }],
            cost: CostPolicy::default(),
            dry_run_only: false,
            max_rows: 10_000,
            timeout: Duration::from_secs(60),
            canary: true,
            canary_min_bytes: 1 << 30,
            explain: false,
            allow: Vec::new(),
        }
    }

    fn check(&self) -> Result<(), ValidateError> {
        let invalid = |message: &str| {
            Err(ValidateError::InvalidPolicy {
                message: message.to_owned(),
            })
        };
        if self.allowed.is_empty() {
            return invalid("no allowed datasets: name at least one `project.dataset`");
        }
        if !(self.cost.usd_per_tib.is_finite() && self.cost.usd_per_tib >= 0.0) {
            return invalid("the price per TiB must be a non-negative number");
        }
        if let Some((code, rate)) = &self.cost.currency
            && (code.is_empty() || !rate.is_finite() || *rate <= 0.0)
        {
            return invalid("a second currency needs a code and a positive rate per USD");
        }
        if self.max_rows == 0 {
            return invalid("the row cap must be at least 1");
        }
        if self.timeout.is_zero() {
            return invalid("the timeout must be longer than zero");
        }
        if let Some(message) = not_allowable(&self.allow) {
            return Err(ValidateError::InvalidPolicy { message });
        }
        Ok(())
    }
}

/// Why a rule in `rules` cannot be allowed (a guard rule, an unknown name); None when all can.
pub fn not_allowable(rules: &[String]) -> Option<String> {
    let rule = rules
        .iter()
        .find(|rule| !crate::lint::RULES.contains(&rule.as_str()))?;
    let what = if rule.starts_with("guard.") {
        "is a guard rule: the guard always holds"
    } else {
        "is not a lint rule"
    };
    Some(format!(
        "`{rule}` cannot be allowed: it {what}; rules that can be allowed: {}",
        crate::lint::RULES.join(", ")
    ))
}

/// What one validation runs for: the labels every warehouse job carries (the conversation),
/// and the lint rules this request accepts on top of the policy's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Job<'a> {
    pub labels: &'a [(String, String)],
    pub allow: &'a [String],
}

/// What the dataset holds, for rules that compare the query with the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetFacts {
    /// The dataset's tables (`events_20201101`, ...).
    pub tables: Vec<String>,
    /// Today, `YYYY-MM-DD`: what `CURRENT_DATE()` means.
    pub today: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Guard,
    Lint,
    DryRun,
    Cost,
    Explain,
    Schema,
    Canary,
    Execute,
    Assertions,
}

/// What a step measured or learned. On the wire each is a plain object of its fields (the
/// step's `name` says which), as reports have always been written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepMeta {
    /// The step did not run, and why.
    Skipped {
        skipped: String,
    },
    DryRun {
        bytes_processed: u64,
        tables: Vec<String>,
    },
    Cost {
        bytes_billed: u64,
        usd: f64,
        maximum_bytes_billed: u64,
    },
    Explain {
        plan: String,
    },
    /// The result's columns, from the `LIMIT 0` run.
    Schema {
        columns: Vec<Column>,
    },
    Canary {
        days: Vec<String>,
        rows: usize,
        bytes_processed: u64,
    },
    Execute {
        rows: usize,
        truncated: bool,
        bytes_processed: u64,
        engine_ms: u64,
    },
    /// Nothing to tell (guard, lint, assertions, a failed step). Last: it reads any object.
    Nothing {},
}

impl StepMeta {
    /// Why the step did not run, when it did not.
    pub fn skipped(&self) -> Option<&str> {
        match self {
            StepMeta::Skipped { skipped } => Some(skipped),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub name: Step,
    /// False when the step found an error: the pipeline stopped here.
    pub ok: bool,
    pub findings: Vec<Finding>,
    pub meta: StepMeta,
    #[serde(
        rename = "elapsed_ms",
        serialize_with = "millis",
        deserialize_with = "from_millis"
    )]
    pub elapsed: Duration,
    /// Whose fault a warehouse failure is, when the step failed on one.
    pub class: Option<ErrorClass>,
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

fn from_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1000.0).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every step passed (warnings may remain).
    Passed,
    /// The query may not run: guard, lint or the byte cap said no.
    Refused,
    /// The warehouse rejected or failed the query.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub sql: String,
    pub verdict: Verdict,
    pub steps: Vec<StepResult>,
    pub cost: Option<Cost>,
    /// Result columns and types, from the `LIMIT 0` run.
    pub columns: Option<Vec<Column>>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.steps.iter().flat_map(|s| s.findings.iter())
    }

    /// The first error: why the query was refused or failed.
    pub fn first_error(&self) -> Option<&Finding> {
        self.findings().find(|f| f.severity == Severity::Error)
    }

    /// The failing warehouse step's class, for mapping to a status code.
    pub fn failure_class(&self) -> Option<ErrorClass> {
        match self.verdict {
            Verdict::Passed => None,
            Verdict::Refused => Some(ErrorClass::User),
            Verdict::Failed => self.steps.iter().find_map(|s| s.class),
        }
    }

    /// Records a step; false when it failed and the pipeline must stop.
    fn push(
        &mut self,
        name: Step,
        started: Instant,
        findings: Vec<Finding>,
        meta: StepMeta,
    ) -> bool {
        let ok = !findings.iter().any(|f| f.severity == Severity::Error);
        if !ok {
            self.verdict = Verdict::Refused;
        }
        self.steps.push(StepResult {
            name,
            ok,
            findings,
            meta,
            elapsed: started.elapsed(),
            class: None,
        });
        ok
    }

    fn fail(&mut self, name: Step, started: Instant, error: WarehouseError) {
        self.verdict = Verdict::Failed;
        self.steps.push(StepResult {
            name,
            ok: false,
            findings: vec![Finding {
                rule: match name {
                    Step::DryRun => "warehouse.dry_run",
                    Step::Explain => "warehouse.explain",
                    Step::Schema => "warehouse.schema",
                    Step::Canary => "warehouse.canary",
                    _ => "warehouse.query",
                },
                severity: Severity::Error,
                message: error.message,
                position: error.position,
            }],
            meta: StepMeta::Nothing {},
            elapsed: started.elapsed(),
            class: Some(error.class),
        });
    }
}

/// A validated answer: the report, and the rows when the query ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub report: Report,
    pub result: Option<QueryResult>,
}

/// Validates and runs untrusted SQL against one warehouse under one policy.
pub struct Validator {
    warehouse: Arc<dyn Warehouse>,
    policy: Policy,
    guard: GuardConfig,
    facts: DatasetFacts,
    params: Arc<dyn ParamCatalog>,
}

impl Validator {
    pub fn new(
        warehouse: Arc<dyn Warehouse>,
        policy: Policy,
        facts: DatasetFacts,
        params: Arc<dyn ParamCatalog>,
    ) -> Result<Self, ValidateError> {
        policy.check()?;
        Ok(Validator {
            guard: GuardConfig {
                allowed: policy.allowed.clone(),
            },
            warehouse,
            policy,
            facts,
            params,
        })
    }

    /// A table the dry run names, `project.dataset.table` (BigQuery) or a bare name (a table
    /// of the configured dataset, as the embedded engine reports them).
    fn allowed_table(&self, table: &str) -> bool {
        let parts: Vec<&str> = table.split('.').collect();
        match parts.as_slice() {
            [project, dataset, _] => self
                .policy
                .allowed
                .iter()
                .any(|a| a.project == *project && a.dataset == *dataset),
            [_] => true,
            _ => false,
        }
    }

    /// A lint error the policy allows runs, as a warning that says it was allowed.
    fn allowed(&self, mut finding: Finding, job: &Job<'_>) -> Finding {
        let allowed = |rules: &[String]| rules.iter().any(|r| r == finding.rule);
        if finding.severity == Severity::Error
            && (allowed(&self.policy.allow) || allowed(job.allow))
        {
            finding.severity = Severity::Warning;
            finding.message = format!("allowed by request ({}): {}", finding.rule, finding.message);
        }
        finding
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every step short of running the query for its answer: guard, lint, dry run, cost,
    /// explain, schema and (unless dry-run-only) the canary.
    pub async fn check(&self, sql: &str) -> Report {
        self.check_labeled(sql, &[]).await
    }

    /// `check`, with `labels` (e.g. the conversation) on every job it runs.
    pub async fn check_labeled(&self, sql: &str, labels: &[(String, String)]) -> Report {
        self.check_job(sql, &Job { labels, allow: &[] }).await
    }

    /// `check` for one request: its labels and the lint rules it allows.
    pub async fn check_job(&self, sql: &str, job: &Job<'_>) -> Report {
        self.check_statement(sql, job).await.0
    }

    /// `check`, then the run and the assertions on its result.
    pub async fn run(&self, sql: &str) -> Outcome {
        self.run_labeled(sql, &[]).await
    }

    /// `run`, with `labels` (e.g. the conversation) on every job it runs; each job also
    /// says its stage (`schema`, `canary`, `answer`).
    pub async fn run_labeled(&self, sql: &str, labels: &[(String, String)]) -> Outcome {
        self.run_job(sql, &Job { labels, allow: &[] }).await
    }

    /// `run` for one request: its labels and the lint rules it allows.
    pub async fn run_job(&self, sql: &str, job: &Job<'_>) -> Outcome {
        let labels = job.labels;
        let (mut report, statement) = self.check_statement(sql, job).await;
        let Some(statement) = statement.filter(|_| report.passed()) else {
            return Outcome {
                report,
                result: None,
            };
        };
        let started = Instant::now();
        if self.policy.dry_run_only {
            report.push(
                Step::Execute,
                started,
                vec![],
                StepMeta::Skipped {
                    skipped: "the policy is dry-run only".to_owned(),
                },
            );
            return Outcome {
                report,
                result: None,
            };
        }
        let request = warehouse_job(sql.to_owned(), self.policy.max_rows, labels, "answer");
        let result = match self.with_timeout(self.warehouse.query(&request)).await {
            Ok(result) => result,
            Err(err) => {
                report.fail(Step::Execute, started, err);
                return Outcome {
                    report,
                    result: None,
                };
            }
        };
        report.push(
            Step::Execute,
            started,
            vec![],
            StepMeta::Execute {
                rows: result.rows.len(),
                truncated: result.truncated,
                bytes_processed: result.bytes_processed,
                engine_ms: result.elapsed_ms,
            },
        );
        let started = Instant::now();
        let days = days_of(&statement, &self.facts.today);
        let findings = assertions::check(&result, &ResultShape::of(&statement, days));
        report.push(Step::Assertions, started, findings, StepMeta::Nothing {});
        Outcome {
            report,
            result: Some(result),
        }
    }

    async fn with_timeout<T>(
        &self,
        call: impl Future<Output = Result<T, WarehouseError>>,
    ) -> Result<T, WarehouseError> {
        // A warehouse whose calls block (the embedded engine) finishes before this can fire;
        // remote warehouses are cancelled here and cancel their job.
        match tokio::time::timeout(self.policy.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(WarehouseError {
                class: ErrorClass::Transient,
                message: format!(
                    "the warehouse did not answer within {} s; narrow the query or raise the timeout",
                    self.policy.timeout.as_secs_f64()
                ),
                position: None,
            }),
        }
    }

    async fn check_statement(&self, sql: &str, job: &Job<'_>) -> (Report, Option<Statement>) {
        let labels = job.labels;
        let mut report = Report {
            sql: sql.to_owned(),
            verdict: Verdict::Passed,
            steps: Vec::new(),
            cost: None,
            columns: None,
        };

        let started = Instant::now();
        let findings = guard(sql, &self.guard);
        if !report.push(Step::Guard, started, findings, StepMeta::Nothing {}) {
            return (report, None);
        }
        // The guard parsed this very text; a failure here would be a bug in it.
        let statement = match nlq_sql::parse_query(sql) {
            Ok(statement) => statement,
            Err(err) => {
                report.fail(
                    Step::Guard,
                    started,
                    WarehouseError {
                        class: ErrorClass::Bug,
                        message: format!("the guard passed SQL that does not parse: {err}"),
                        position: err.position(),
                    },
                );
                return (report, None);
            }
        };

        let started = Instant::now();
        let context = LintContext {
            tables: &self.facts.tables,
            today: &self.facts.today,
            params: self.params.as_ref(),
        };
        let mut findings: Vec<Finding> = lint(&statement, &context)
            .into_iter()
            .map(|finding| self.allowed(finding, job))
            .collect();
        if let Some(message) = not_allowable(job.allow) {
            findings.push(Finding::error("lint.allow", message, None));
        }
        if !report.push(Step::Lint, started, findings, StepMeta::Nothing {}) {
            return (report, None);
        }

        let started = Instant::now();
        let dry_run = match self.with_timeout(self.warehouse.dry_run(sql)).await {
            Ok(dry_run) => dry_run,
            Err(err) => {
                report.fail(Step::DryRun, started, err);
                return (report, None);
            }
        };
        // The guard read the SQL; the dry run says what the warehouse would actually read,
        // after views and wildcards. A table outside the allowed datasets stops it here.
        let outside: Vec<Finding> = dry_run
            .tables
            .iter()
            .filter(|table| !self.allowed_table(table))
            .map(|table| Finding {
                rule: "dry_run.table_not_allowed",
                severity: Severity::Error,
                message: format!(
                    "the warehouse would read {table}, which is outside the allowed datasets ({}); nothing ran",
                    self.policy
                        .allowed
                        .iter()
                        .map(|a| format!("{}.{}", a.project, a.dataset))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                position: None,
            })
            .collect();
        if !report.push(
            Step::DryRun,
            started,
            outside,
            StepMeta::DryRun {
                bytes_processed: dry_run.bytes_processed,
                tables: dry_run.tables.clone(),
            },
        ) {
            return (report, None);
        }

        let started = Instant::now();
        let cost = cost::cost(
            dry_run.bytes_processed,
            dry_run.tables.len(),
            &self.policy.cost,
        );
        let findings = cost::over_cap(&cost, &self.policy.cost)
            .into_iter()
            .collect();
        report.cost = Some(cost.clone());
        let meta = StepMeta::Cost {
            bytes_billed: cost.bytes_billed,
            usd: cost.usd,
            maximum_bytes_billed: self.policy.cost.maximum_bytes_billed,
        };
        if !report.push(Step::Cost, started, findings, meta) {
            return (report, None);
        }

        if self.policy.explain {
            let started = Instant::now();
            match self.with_timeout(self.warehouse.explain(sql)).await {
                Ok(plan) => {
                    report.push(Step::Explain, started, vec![], StepMeta::Explain { plan });
                }
                Err(err) => {
                    report.fail(Step::Explain, started, err);
                    return (report, None);
                }
            }
        }

        let started = Instant::now();
        let request = warehouse_job(with_limit(&statement, 0), 1, labels, "schema");
        match self.with_timeout(self.warehouse.query(&request)).await {
            Ok(empty) => {
                let meta = StepMeta::Schema {
                    columns: empty.columns.clone(),
                };
                report.columns = Some(empty.columns);
                report.push(Step::Schema, started, vec![], meta);
            }
            Err(err) => {
                report.fail(Step::Schema, started, err);
                return (report, None);
            }
        }

        if self.policy.canary && !self.policy.dry_run_only {
            let started = Instant::now();
            let mut canary = statement.clone();
            let days = nlq_sql::narrow_to_last_day(&mut canary, &self.facts.today);
            let skipped = if dry_run.tables.len() <= 1 {
                Some("the query reads one day: the canary would be the query itself".to_owned())
            } else if dry_run.bytes_processed < self.policy.canary_min_bytes {
                Some(format!(
                    "the query reads {} bytes, less than the {} that make a canary worth its round trip",
                    dry_run.bytes_processed, self.policy.canary_min_bytes
                ))
            } else {
                None
            };
            if let Some(reason) = skipped {
                report.push(
                    Step::Canary,
                    started,
                    vec![],
                    StepMeta::Skipped { skipped: reason },
                );
            } else if days.is_empty() {
                report.push(
                    Step::Canary,
                    started,
                    vec![],
                    StepMeta::Skipped {
                        skipped: "no constant _TABLE_SUFFIX range to narrow to one day".to_owned(),
                    },
                );
            } else {
                let request = warehouse_job(canary.to_string(), 10, labels, "canary");
                match self.with_timeout(self.warehouse.query(&request)).await {
                    Ok(rows) => {
                        report.push(
                            Step::Canary,
                            started,
                            vec![],
                            StepMeta::Canary {
                                days,
                                rows: rows.rows.len(),
                                bytes_processed: rows.bytes_processed,
                            },
                        );
                    }
                    Err(err) => {
                        report.fail(Step::Canary, started, err);
                        return (report, None);
                    }
                }
            }
        }
        (report, Some(statement))
    }
}

/// One job of a validation: the caller's labels and the step it runs for.
fn warehouse_job(
    sql: String,
    max_rows: usize,
    labels: &[(String, String)],
    stage: &str,
) -> QueryRequest {
    let mut request = QueryRequest::new(sql);
    request.max_rows = max_rows;
    request.labels = labels.to_vec();
    request.with_label(label::STAGE, stage)
}

/// The query with its outermost LIMIT set to `n`: same columns and types, `n` rows at most.
fn with_limit(statement: &Statement, n: u64) -> String {
    let mut statement = statement.clone();
    if let Statement::Query(query) = &mut statement {
        query.fetch = None;
        query.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(Expr::value(sqlparser::ast::Value::Number(
                n.to_string(),
                false,
            ))),
            offset: None,
            limit_by: vec![],
        });
    }
    statement.to_string()
}

/// The constant `_TABLE_SUFFIX` days of the top-level SELECT's first wildcard, when both ends
/// are known.
fn days_of(statement: &Statement, today: &str) -> Option<(String, String)> {
    use std::ops::Bound;
    let Statement::Query(query) = statement else {
        return None;
    };
    let sqlparser::ast::SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let wildcard = crate::lint::wildcards(select).into_iter().next()?;
    let bounds = nlq_sql::suffix_bounds(select.selection.as_ref(), wildcard.alias, today);
    match (bounds.low, bounds.high) {
        (Bound::Included(low), Bound::Included(high)) => Some((low, high)),
        _ => None,
    }
}
