//! The pipeline's flow over a scripted warehouse: which steps run, in which order, what each
//! sends to the warehouse, and where it stops. The embedded engine's own answers are tested in
//! nlq-exec and end to end through `nlq check` in the CLI's tests.

use std::sync::Arc;
use std::time::Duration;

use nlq_core::{ErrorClass, SqlPosition, Value, WarehouseError};
use nlq_validate::{DatasetFacts, Policy, StandardParams, Step, Validator, Verdict};

/// Answers every call from a script and records what it was asked (nlq-testkit).
use nlq_testkit::warehouse::Scripted;

const T: &str = "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";

fn good_sql() -> String {
    format!(
        "SELECT device.category, COUNT(DISTINCT user_pseudo_id) AS users FROM {T} \
         WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201207' GROUP BY 1"
    )
}

fn validator(warehouse: Arc<Scripted>, tweak: impl FnOnce(&mut Policy)) -> Validator {
    let mut policy = Policy::for_dataset("bigquery-public-data", "ga4_obfuscated_sample_ecommerce");
    tweak(&mut policy);
    let facts = DatasetFacts {
        tables: (1..=31).map(|d| format!("events_202012{d:02}")).collect(),
        today: "2021-01-01".into(),
    };
    Validator::new(warehouse, policy, facts, Arc::new(StandardParams)).unwrap()
}

/// Why a validator cannot be built with `policy`; None when it can.
fn refusal(policy: Policy) -> Option<nlq_validate::ValidateError> {
    let facts = DatasetFacts {
        tables: vec![],
        today: "2021-01-01".into(),
    };
    Validator::new(
        Arc::new(Scripted::new()),
        policy,
        facts,
        Arc::new(StandardParams),
    )
    .err()
}

fn steps(report: &nlq_validate::Report) -> Vec<Step> {
    report.steps.iter().map(|s| s.name).collect()
}

#[tokio::test]
async fn a_good_query_passes_every_step_in_order() {
    let warehouse = Arc::new(Scripted::new());
    // Every step, as `nlq check` asks for them: the plan, and a canary whatever the size.
    let outcome = validator(warehouse.clone(), |p| {
        p.explain = true;
        p.canary_min_bytes = 0;
    })
    .run(&good_sql())
    .await;
    let report = &outcome.report;
    assert_eq!(report.verdict, Verdict::Passed, "{report:#?}");
    assert_eq!(
        steps(report),
        [
            Step::Guard,
            Step::Lint,
            Step::DryRun,
            Step::Cost,
            Step::Explain,
            Step::Schema,
            Step::Canary,
            Step::Execute,
            Step::Assertions
        ]
    );
    assert!(report.steps.iter().all(|s| s.ok));
    let calls = warehouse.calls();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    assert!(calls[0].starts_with("dry_run: SELECT"));
    assert!(calls[1].starts_with("explain: SELECT"));
    // The schema comes from the same query cut to no rows.
    assert!(
        calls[2].starts_with("query(1): SELECT") && calls[2].ends_with("GROUP BY 1 LIMIT 0"),
        "{}",
        calls[2]
    );
    // The canary reads only the range's last day.
    assert!(
        calls[3].contains("BETWEEN '20201207' AND '20201207'") && calls[3].starts_with("query(10)"),
        "{}",
        calls[3]
    );
    assert_eq!(calls[4], format!("query(10000): {}", good_sql()));
    // Billed: 5 MiB processed, but at least 10 MiB per table read.
    let cost = report.cost.as_ref().unwrap();
    assert_eq!(
        (cost.bytes_processed, cost.bytes_billed),
        (5 << 20, 20 << 20)
    );
    assert_eq!(report.columns.as_ref().map(Vec::len), Some(2));
    assert_eq!(outcome.result.unwrap().rows.len(), 1);
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["steps"][2]["name"], "dry_run");
    assert!(json["steps"][2]["elapsed_ms"].is_f64());
}

/// By default an answer costs two warehouse calls besides the run: the dry run and the
/// schema. No plan is asked for, and a small query or a one-day range gets no canary.
#[tokio::test]
async fn an_answer_skips_the_plan_and_a_canary_that_cannot_pay_off() {
    let warehouse = Arc::new(Scripted::new());
    let outcome = validator(warehouse.clone(), |_| {}).run(&good_sql()).await;
    assert!(outcome.report.passed(), "{:#?}", outcome.report);
    let calls = warehouse.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(calls[0].starts_with("dry_run: "), "{calls:#?}");
    assert!(calls[1].starts_with("query(1): "), "{calls:#?}");
    assert!(calls[2].starts_with("query(10000): "), "{calls:#?}");
    assert!(!steps(&outcome.report).contains(&Step::Explain));
    let canary = outcome
        .report
        .steps
        .iter()
        .find(|s| s.name == Step::Canary)
        .unwrap();
    assert!(
        canary.meta.skipped().unwrap().contains("less than"),
        "{:?}",
        canary.meta
    );

    // One shard: the canary would be the query.
    let mut one_day = Scripted::new();
    one_day.bytes = 5 << 30;
    one_day.tables = vec!["events_20201207".into()];
    let warehouse = Arc::new(one_day);
    let outcome = validator(warehouse.clone(), |_| {}).run(&good_sql()).await;
    assert!(outcome.report.passed(), "{:#?}", outcome.report);
    assert_eq!(warehouse.calls().len(), 3, "{:#?}", warehouse.calls());

    // A large range: the canary runs.
    let mut large = Scripted::new();
    large.bytes = 5 << 30;
    let warehouse = Arc::new(large);
    let outcome = validator(warehouse.clone(), |_| {}).run(&good_sql()).await;
    assert!(outcome.report.passed(), "{:#?}", outcome.report);
    let calls = warehouse.calls();
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert!(calls[2].starts_with("query(10): "), "{calls:#?}");
}

#[tokio::test]
async fn every_job_carries_the_callers_labels_and_its_stage() {
    let warehouse = Arc::new(Scripted::new());
    let conversation = vec![("conversation".to_owned(), "c-42".to_owned())];
    let outcome = validator(warehouse.clone(), |p| p.canary_min_bytes = 0)
        .run_labeled(&good_sql(), &conversation)
        .await;
    assert!(outcome.report.passed(), "{:#?}", outcome.report);
    let with = |stage: &str| {
        vec![
            ("conversation".to_owned(), "c-42".to_owned()),
            ("stage".to_owned(), stage.to_owned()),
        ]
    };
    assert_eq!(
        warehouse.labels(),
        [with("schema"), with("canary"), with("answer")]
    );
}

#[tokio::test]
async fn guard_and_lint_refusals_never_reach_the_warehouse() {
    for sql in [
        "DROP TABLE `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201`"
            .to_owned(),
        format!(
            "SELECT SUM(ecommerce.purchase_revenue) AS r FROM {T}, UNNEST(items) \
             WHERE _TABLE_SUFFIX = '20201201'"
        ),
    ] {
        let warehouse = Arc::new(Scripted::new());
        let report = validator(warehouse.clone(), |_| {}).check(&sql).await;
        assert_eq!(report.verdict, Verdict::Refused, "{sql}");
        assert_eq!(report.failure_class(), Some(ErrorClass::User));
        assert!(!report.steps.last().unwrap().ok);
        assert!(report.first_error().unwrap().position.is_some(), "{sql}");
        assert!(
            warehouse.calls().is_empty(),
            "{sql}: {:?}",
            warehouse.calls()
        );
    }
}

/// An analyst who knows the fan-out is what they mean may allow the lint rule; the answer
/// still says so. The guard cannot be allowed.
#[tokio::test]
async fn an_allowed_lint_rule_runs_as_a_warning_and_the_guard_never_does() {
    let fanout = format!(
        "SELECT SUM(ecommerce.purchase_revenue) AS r FROM {T}, UNNEST(items) \
         WHERE _TABLE_SUFFIX = '20201201'"
    );
    let warehouse = Arc::new(Scripted::new());
    let outcome = validator(warehouse.clone(), |p| {
        p.allow = vec!["lint.items_fanout".into()];
    })
    .run(&fanout)
    .await;
    assert!(outcome.report.passed(), "{:?}", outcome.report);
    assert!(outcome.result.is_some());
    let finding = outcome
        .report
        .findings()
        .find(|f| f.rule == "lint.items_fanout")
        .expect("the allowed rule is still reported");
    assert_eq!(finding.severity, nlq_validate::Severity::Warning);
    assert!(
        finding.message.starts_with("allowed by request"),
        "{}",
        finding.message
    );

    // Another rule's errors are not allowed by it.
    let micros = format!(
        "SELECT MAX(TIMESTAMP_SECONDS(event_timestamp)) AS t FROM {T} WHERE _TABLE_SUFFIX = '20201201'"
    );
    let report = validator(Arc::new(Scripted::new()), |p| {
        p.allow = vec!["lint.items_fanout".into()];
    })
    .check(&micros)
    .await;
    assert_eq!(
        report.first_error().map(|f| f.rule),
        Some("lint.timestamp_micros")
    );

    for rule in [
        "guard.not_a_query",
        "guard.dataset_not_allowed",
        "lint.no_such_rule",
    ] {
        let mut policy = Policy::for_dataset("p", "d");
        policy.allow = vec![rule.into()];
        let err = refusal(policy).unwrap_or_else(|| panic!("{rule} was accepted"));
        assert!(err.to_string().contains(rule), "{err}");
        assert!(err.to_string().contains("lint.items_fanout"), "{err}");
    }
}

#[tokio::test]
async fn over_the_cap_stops_after_the_dry_run_with_a_cheaper_suggestion() {
    let warehouse = Arc::new(Scripted {
        bytes: 40 << 30,
        ..Scripted::new()
    });
    let report = validator(warehouse.clone(), |p| {
        p.cost.maximum_bytes_billed = 10 << 30
    })
    .check(&good_sql())
    .await;
    assert_eq!(report.verdict, Verdict::Refused);
    assert_eq!(
        steps(&report),
        [Step::Guard, Step::Lint, Step::DryRun, Step::Cost]
    );
    let finding = report.first_error().unwrap();
    assert_eq!(finding.rule, "cost.maximum_bytes_billed");
    assert!(
        finding.message.contains("about 25% of its days"),
        "{}",
        finding.message
    );
    assert_eq!(warehouse.calls().len(), 1);
}

#[tokio::test]
async fn dry_run_only_never_reads_data_rows() {
    let warehouse = Arc::new(Scripted::new());
    let outcome = validator(warehouse.clone(), |p| p.dry_run_only = true)
        .run(&good_sql())
        .await;
    assert_eq!(outcome.report.verdict, Verdict::Passed);
    assert!(outcome.result.is_none());
    assert!(!steps(&outcome.report).contains(&Step::Canary));
    let execute = outcome.report.steps.last().unwrap();
    assert_eq!(execute.name, Step::Execute);
    assert_eq!(execute.meta.skipped(), Some("the policy is dry-run only"));
    // Only the dry run and the LIMIT 0 schema touch the warehouse.
    let calls = warehouse.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(calls[0].starts_with("dry_run: "), "{calls:#?}");
    assert!(calls[1].ends_with("LIMIT 0"), "{calls:#?}");
}

#[tokio::test]
async fn a_warehouse_error_fails_the_step_with_its_class_and_position() {
    let warehouse = Arc::new(Scripted {
        dry_run_error: Some(WarehouseError {
            class: ErrorClass::User,
            message: "Unrecognized name: devise".into(),
            position: Some(SqlPosition { line: 1, column: 8 }),
        }),
        ..Scripted::new()
    });
    let report = validator(warehouse, |_| {}).check(&good_sql()).await;
    assert_eq!(report.verdict, Verdict::Failed);
    assert_eq!(report.failure_class(), Some(ErrorClass::User));
    let finding = report.first_error().unwrap();
    assert_eq!(finding.rule, "warehouse.dry_run");
    assert_eq!(finding.position, Some(SqlPosition { line: 1, column: 8 }));
}

#[tokio::test]
async fn a_slow_warehouse_times_out_as_a_transient_failure() {
    let warehouse = Arc::new(Scripted {
        query_delay: Duration::from_secs(30),
        ..Scripted::new()
    });
    let report = validator(warehouse, |p| p.timeout = Duration::from_millis(50))
        .check(&good_sql())
        .await;
    assert_eq!(report.verdict, Verdict::Failed);
    assert_eq!(report.failure_class(), Some(ErrorClass::Transient));
    assert_eq!(report.steps.last().unwrap().name, Step::Schema);
    assert!(
        report
            .first_error()
            .unwrap()
            .message
            .contains("did not answer within 0.05 s")
    );
}

#[tokio::test]
async fn a_result_that_breaks_a_domain_fact_is_flagged() {
    let warehouse = Arc::new(Scripted {
        rows: vec![
            vec![Value::String("mobile".into()), Value::Int64(-4)],
            vec![Value::String("mobile".into()), Value::Int64(3)],
        ],
        ..Scripted::new()
    });
    let outcome = validator(warehouse, |_| {}).run(&good_sql()).await;
    let assertions = outcome.report.steps.last().unwrap();
    assert_eq!(assertions.name, Step::Assertions);
    let rules: Vec<&str> = assertions.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["assert.non_negative", "assert.duplicate_keys"]);
    // Warnings: the rows are still the answer, shown with what is wrong with them.
    assert_eq!(outcome.report.verdict, Verdict::Passed);
    assert!(outcome.result.is_some());
}

#[test]
fn a_policy_that_makes_no_sense_is_refused_at_construction() {
    let mut policy = Policy::for_dataset("p", "d");
    policy.cost.usd_per_tib = -1.0;
    let err = refusal(policy).unwrap();
    assert!(err.to_string().contains("price per TiB"), "{err}");
}

#[tokio::test]
async fn a_dry_run_naming_a_table_outside_the_allowed_datasets_stops_the_query() {
    let mut scripted = Scripted::new();
    scripted.tables = vec![
        "bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201".into(),
        "my-company.crm.customers".into(),
    ];
    let warehouse = Arc::new(scripted);
    let outcome = validator(warehouse.clone(), |_| {}).run(&good_sql()).await;
    assert_eq!(outcome.report.verdict, Verdict::Refused);
    assert_eq!(steps(&outcome.report).last(), Some(&Step::DryRun));
    let finding = outcome.report.first_error().unwrap();
    assert_eq!(finding.rule, "dry_run.table_not_allowed");
    assert!(
        finding.message.contains("my-company.crm.customers"),
        "{}",
        finding.message
    );
    assert!(outcome.result.is_none());
    assert!(warehouse.calls().iter().all(|c| c.starts_with("dry_run")));

    // Fully named tables inside the allowed dataset pass.
    let mut scripted = Scripted::new();
    scripted.tables =
        vec!["bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201".into()];
    let outcome = validator(Arc::new(scripted), |_| {}).run(&good_sql()).await;
    assert_eq!(outcome.report.verdict, Verdict::Passed);
}
