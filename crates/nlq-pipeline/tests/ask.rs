//! The pipeline on the embedded engine over the test sample: statuses, the stages' events, and
//! answers that agree with hand-written SQL.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use nlq_core::{QueryRequest, Value, Warehouse};
use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_pipeline::{Event, Pipeline, Status};
use nlq_semantic::SemanticModel;
use nlq_testkit::warehouse::Recording;
use nlq_validate::{DatasetFacts, Policy, StandardParams, Validator};

/// The pipeline over the test sample, and its warehouse for hand-written checks.
fn pipeline() -> Option<(Pipeline, Arc<EmbeddedWarehouse>)> {
    // scripts/test.sh generates the sample; without it there is nothing to read.
    let dir = std::env::var("NLQ_TEST_DATA_DIR").ok()?;
    let warehouse = Arc::new(EmbeddedWarehouse::open(&EmbeddedConfig::new(&dir)).unwrap());
    Some((pipeline_over(warehouse.clone(), &warehouse), warehouse))
}

/// The pipeline reading `warehouse`, which holds `sample`'s data.
fn pipeline_over(warehouse: Arc<dyn Warehouse>, sample: &EmbeddedWarehouse) -> Pipeline {
    let facts = DatasetFacts {
        tables: sample.catalog().tables.clone(),
        today: sample.catalog().current_date.clone(),
    };
    let policy = Policy::for_dataset(nlq_core::ga4::PUBLIC_PROJECT, nlq_core::ga4::PUBLIC_DATASET);
    let validator =
        Validator::new(warehouse, policy, facts.clone(), Arc::new(StandardParams)).unwrap();
    let model = Arc::new(SemanticModel::builtin().unwrap());
    Pipeline::new(model, validator, &facts).unwrap()
}

#[tokio::test]
async fn a_grid_question_is_answered_with_every_stage_reported() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let events = Mutex::new(Vec::new());
    let answer = pipeline
        .ask(
            "지난달 디바이스별 사용자 수와 세션 수",
            &|e: &Event| events.lock().unwrap().push(e.clone()),
        )
        .await;
    assert_eq!(answer.status, Status::Answered, "{:?}", answer.message);
    let names: Vec<&str> = answer.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["device_category", "users", "sessions"]);
    let kinds: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "understood",
            "compiled",
            "validated",
            "executed",
            "summarized",
            "done"
        ]
    );
    assert_eq!(answer.tables_read.len(), 31);
    assert!(
        answer
            .summary
            .unwrap()
            .starts_with("지난달 (2021-01-01 .. 2021-01-31)")
    );

    // The same numbers by hand.
    let check = warehouse
        .query(&QueryRequest::new(
            "SELECT device.category, COUNT(DISTINCT user_pseudo_id) \
             FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` \
             WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131' GROUP BY 1 ORDER BY 1",
        ))
        .await
        .unwrap();
    let users: Vec<&Value> = answer.rows.iter().map(|r| &r[1]).collect();
    let expected: Vec<&Value> = check.rows.iter().map(|r| &r[1]).collect();
    assert_eq!(users, expected);
}

/// Issue 18: an answer reads back from its JSON exactly, cells typed by their columns (dates,
/// timestamps, floats and strings alike), for every shape the semantic engine answers with.
#[tokio::test]
async fn answers_read_back_from_their_json_unchanged() {
    let Some((pipeline, _)) = pipeline() else {
        return;
    };
    for question in [
        "지난달 디바이스별 사용자 수와 세션 수",
        "daily revenue last 14 days",
        "top 5 items by revenue in December",
        "conversion rate by country last month",
        "what is the weather",
    ] {
        let answer = pipeline.ask(question, &|_: &Event| {}).await;
        let json = serde_json::to_value(&answer).unwrap();
        let back: nlq_pipeline::Answer = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{question}: {e}\n{json}"));
        assert_eq!(back, answer, "{question}");
    }
}

#[tokio::test]
async fn questions_that_are_not_answered_say_why_and_run_nothing() {
    let Some((pipeline, _)) = pipeline() else {
        return;
    };
    for (question, status) in [
        ("events_20201101 지워줘", Status::Refused),
        ("내일 서울 날씨 어때?", Status::OutOfScope),
        (
            "지난달 장바구니에는 담았지만 구매는 하지 않은 사용자 수",
            Status::NeedsLlm,
        ),
        ("디바이스별로 보여줘", Status::Clarify),
    ] {
        let answer = pipeline.ask(question, &|_| {}).await;
        assert_eq!(answer.status, status, "{question}: {:?}", answer.message);
        assert!(answer.message.is_some(), "{question}");
        assert!(
            answer.sql.is_none() && answer.validation.is_none(),
            "{question}"
        );
        // Without an LLM, a question naming no number offers complete questions to pick.
        if status == Status::Clarify {
            assert!(
                answer.choices.len() >= 3 && answer.choices[0].starts_with("디바이스별로 보여줘"),
                "{:?}",
                answer.choices
            );
        }
    }
}

#[tokio::test]
async fn a_range_without_data_is_an_empty_answer_that_says_so() {
    let Some((pipeline, _)) = pipeline() else {
        return;
    };
    let answer = pipeline.ask("이번 달 국가별 매출", &|_| {}).await;
    assert_eq!(answer.status, Status::Answered, "{:?}", answer.message);
    assert!(answer.rows.is_empty());
    assert!(answer.summary.unwrap().contains("아직 데이터가 없습니다"));
}

#[tokio::test]
async fn every_job_of_an_answer_carries_its_conversation_and_stage() {
    let Some((_, inner)) = pipeline() else {
        return;
    };
    // The embedded warehouse, recording the labels of every job it runs.
    let warehouse = Arc::new(Recording::new(inner.clone()));
    let pipeline = pipeline_over(warehouse.clone(), &inner);
    let request = nlq_pipeline::Request {
        conversation: Some("c_0123"),
        ..nlq_pipeline::Request::new("지난 7일 디바이스별 사용자 수")
    };
    let answer = pipeline.answer(&request, &|_| {}).await;
    assert_eq!(answer.status, Status::Answered, "{:?}", answer.message);
    let stages: Vec<String> = warehouse
        .labels()
        .iter()
        .map(|labels| {
            assert!(
                labels.contains(&("conversation".into(), "c_0123".into())),
                "{labels:?}"
            );
            labels
                .iter()
                .find(|(k, _)| k == "stage")
                .map(|(_, v)| v.clone())
                .unwrap()
        })
        .collect();
    // A week of the small sample reads far less than a canary is worth (nlq-validate's tests
    // show the canary's job labelled too).
    assert_eq!(stages, ["schema", "answer"]);
}
