//! The API in-process over the generated sample: every route, good and bad input.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{test, web};
use serde_json::{Value as Json, json};

use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_pipeline::Pipeline;
use nlq_semantic::SemanticModel;
use nlq_server::{ServerConfig, Service, SqliteStore};
use nlq_testkit::warehouse::{Recording, Scripted};
use nlq_validate::{DatasetFacts, Policy, StandardParams, Validator};

fn service_with(config: ServerConfig, store: Arc<SqliteStore>) -> Option<web::Data<Service>> {
    service_over(config, store, |warehouse| warehouse)
}

/// A service over the sample's warehouse as `wrap` makes it (slow, recording ...).
fn service_over(
    config: ServerConfig,
    store: Arc<SqliteStore>,
    wrap: impl FnOnce(Arc<dyn nlq_core::Warehouse>) -> Arc<dyn nlq_core::Warehouse>,
) -> Option<web::Data<Service>> {
    let dir = std::env::var("NLQ_TEST_DATA_DIR").ok()?;
    let embedded = EmbeddedConfig::new(&dir);
    let opened = Arc::new(EmbeddedWarehouse::open(&embedded).unwrap());
    let facts = DatasetFacts {
        tables: opened.catalog().tables.clone(),
        today: opened.catalog().current_date.clone(),
    };
    let warehouse = wrap(opened);
    let validator = Validator::new(
        warehouse.clone(),
        Policy::for_dataset(&embedded.project, &embedded.dataset),
        facts.clone(),
        Arc::new(StandardParams),
    )
    .unwrap();
    let model = Arc::new(SemanticModel::builtin().unwrap());
    let pipeline = Pipeline::new(model, validator, &facts)
        .unwrap()
        .with_approval_bytes(config.approval_bytes);
    Some(web::Data::new(Service::new(
        Arc::new(pipeline),
        warehouse,
        store,
        None,
        config,
    )))
}

fn service(config: ServerConfig) -> Option<web::Data<Service>> {
    service_with(config, Arc::new(SqliteStore::in_memory().unwrap()))
}

#[actix_web::test]
async fn health_and_readiness() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Json = test::read_body_json(response).await;
    assert_eq!(body, json!({"status": "ok"}));
    let body: Json =
        test::call_and_read_body_json(&app, test::TestRequest::get().uri("/readyz").to_request())
            .await;
    assert_eq!(body["status"], "ready");
}

/// Issue 20: a probe every second must not call the warehouse every second, and an open route
/// must not show the warehouse's error text (the admin status does).
#[actix_web::test]
async fn readiness_is_cached_and_its_errors_are_for_the_admin() {
    let Some(real) = service(ServerConfig::default()) else {
        return;
    };
    let down = Arc::new(Scripted {
        list_error: Some(nlq_core::WarehouseError {
            class: nlq_core::ErrorClass::Transient,
            message: "connect to bigquery.googleapis.com:443: refused (internal host 10.1.2.3)"
                .into(),
            position: None,
        }),
        ..Scripted::new()
    });
    let config = ServerConfig {
        admin_token: Some("admin-secret".into()),
        ..ServerConfig::default()
    };
    let service = web::Data::new(Service::new(
        real.pipeline(),
        down.clone(),
        Arc::new(SqliteStore::in_memory().unwrap()),
        None,
        config,
    ));
    let app = test::init_service(nlq_server::app(service)).await;
    for _ in 0..3 {
        let (status, body) = call(&app, test::TestRequest::get().uri("/readyz")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            json!({"status": "not_ready", "warehouse": "unreachable", "metadata": "none"})
        );
    }
    let list_calls = down.calls().iter().filter(|c| *c == "list_tables").count();
    assert_eq!(
        list_calls, 1,
        "three probes within the cache time, one warehouse call"
    );
    let (status, body) = call(
        &app,
        test::TestRequest::get()
            .uri("/admin/status")
            .insert_header(("authorization", "Bearer admin-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["readiness"]["warehouse_error"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{body}"
    );
}

async fn call<S, B>(app: &S, request: test::TestRequest) -> (StatusCode, Json)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let bytes = test::read_body(response).await;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn post(uri: &str, body: Json) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}

fn error_code(body: &Json) -> &str {
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("r_")),
        "{body}"
    );
    body["error"]["code"].as_str().unwrap()
}

#[actix_web::test]
async fn a_question_is_answered_stored_and_read_back_with_its_chart() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let (status, answer) = call(
        &app,
        post(
            "/api/query",
            json!({"question": "지난 7일 디바이스별 방문자 수"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "answered");
    assert_eq!(answer["needs_approval"], false);
    assert_eq!(answer["columns"][0]["name"], "device_category");
    assert!(answer["row_count"].as_u64().unwrap() >= 2);
    assert_eq!(answer["chart"]["mark"]["type"], "bar");
    assert!(answer["cost"]["bytes_billed"].as_u64().unwrap() > 0);
    let qid = answer["qid"].as_str().unwrap();
    assert_eq!(answer["cached_from"], Json::Null);

    // The same first question again: the stored answer under new ids, nothing run.
    let (_, cached) = call(
        &app,
        post(
            "/api/query",
            json!({"question": "지난 7일 디바이스별 방문자 수"}),
        ),
    )
    .await;
    assert_eq!(cached["cached_from"], answer["qid"]);
    assert_ne!(cached["qid"], answer["qid"]);
    assert_eq!(cached["rows"], answer["rows"]);
    let (status, again) = call(
        &app,
        test::TestRequest::get().uri(&format!("/api/query/{qid}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, answer);

    // A follow-up in the same conversation; the conversation lists both.
    let conversation = answer["conversation_id"].as_str().unwrap();
    let (status, next) = call(
        &app,
        post(
            "/api/query",
            json!({"question": "지난 7일 국가별 방문자 수", "conversation_id": conversation}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_eq!(next["conversation_id"], conversation);
    let (_, listed) = call(
        &app,
        test::TestRequest::get().uri(&format!("/api/conversations/{conversation}")),
    )
    .await;
    let turns = listed["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);

    // "Then only mobile?": the last plan (by country, last 7 days) with a device filter.
    let (status, mobile) = call(
        &app,
        post(
            "/api/query",
            json!({"question": "그럼 모바일만?", "conversation_id": conversation}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mobile}");
    assert_eq!(mobile["status"], "answered", "{mobile}");
    assert_eq!(mobile["plan"]["dimensions"], json!(["country"]), "{mobile}");
    assert_eq!(
        mobile["plan"]["filters"][0]["values"],
        json!(["mobile"]),
        "{mobile}"
    );
    assert_eq!(mobile["plan"]["range"], next["plan"]["range"]);
    assert_eq!(turns[0]["rows"], json!([]), "listings leave the rows out");
    let (_, listed) = call(
        &app,
        test::TestRequest::get().uri(&format!("/api/conversations/{conversation}")),
    )
    .await;
    assert_eq!(listed["turns"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn a_costly_answer_waits_for_approval_and_runs_when_acknowledged() {
    let config = ServerConfig {
        approval_bytes: 0,
        ..ServerConfig::default()
    };
    let Some(service) = service(config) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let (status, waiting) = call(
        &app,
        post(
            "/api/query",
            json!({"question": "지난 7일 디바이스별 방문자 수"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(waiting["status"], "needs_approval");
    assert_eq!(waiting["needs_approval"], true);
    assert_eq!(waiting["rows"], json!([]));
    assert!(
        waiting["approval_reason"]
            .as_str()
            .unwrap()
            .contains("approval threshold")
    );
    let qid = waiting["qid"].as_str().unwrap();

    let (status, body) = call(&app, post("/api/query/run", json!({"qid": qid}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "approval_required");

    let (status, ran) = call(
        &app,
        post("/api/query/run", json!({"qid": qid, "user_ack": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["status"], "answered");
    assert_eq!(ran["qid"], qid);
    assert!(ran["row_count"].as_u64().unwrap() >= 2);
    // The semantic summary: the plan survived the store.
    assert!(
        ran["summary"].as_str().unwrap().starts_with("지난 7일"),
        "{ran}"
    );

    // Raw SQL: approval applies too; an accepted run gets a new qid.
    let sql = "SELECT COUNT(*) AS events FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210101`";
    let (status, body) = call(&app, post("/api/query/run", json!({"sql": sql}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), "approval_required");
    let (status, ran) = call(
        &app,
        post("/api/query/run", json!({"sql": sql, "user_ack": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(
        ran["rows"][0][0].as_i64().map(|n| n > 0),
        Some(true),
        "{ran}"
    );
}

/// An analyst's own SQL that a lint rule refuses runs when the request allows that rule, and
/// the answer keeps the finding on record; a guard rule can never be allowed.
#[actix_web::test]
async fn a_lint_rule_the_request_allows_runs_and_stays_on_record() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    // An order-level sum after UNNEST(items): counted once per item.
    let sql = "SELECT SUM(ecommerce.purchase_revenue) AS revenue FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210101`, UNNEST(items) AS item";
    let (status, refused) = call(
        &app,
        post("/api/query/run", json!({"sql": sql, "user_ack": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["status"], "refused", "{refused}");

    let (status, ran) = call(
        &app,
        post(
            "/api/query/run",
            json!({"sql": sql, "user_ack": true, "allow": ["lint.items_fanout"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["status"], "answered", "{ran}");
    assert!(
        ran["validation"]
            .to_string()
            .contains("allowed by request (lint.items_fanout)"),
        "{ran}"
    );

    let (status, body) = call(
        &app,
        post(
            "/api/query/run",
            json!({"sql": sql, "user_ack": true, "allow": ["guard.not_a_query"]}),
        ),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "rule_not_allowable"),
        "{body}"
    );
}

#[actix_web::test]
async fn oneshot_plans_without_running() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let (status, plan) = call(
        &app,
        post(
            "/api/query/oneshot",
            json!({"question": "top 10 products by revenue in December"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    for key in ["qid", "sql", "plan", "cost", "risk", "needs_approval"] {
        assert!(plan.get(key).is_some(), "{key}: {plan}");
    }
    assert_eq!(plan["needs_approval"], false);
    assert!(
        plan["sql"].as_str().unwrap().contains("item_revenue"),
        "{plan}"
    );
    // Running it needs no approval under the default threshold.
    let (status, ran) = call(&app, post("/api/query/run", json!({"qid": plan["qid"]}))).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["status"], "answered");
}

#[actix_web::test]
async fn the_stream_sends_each_stage_then_done() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let request = test::TestRequest::get()
        .uri("/api/query/stream?question=%EC%A7%80%EB%82%9C%207%EC%9D%BC%20%EB%94%94%EB%B0%94%EC%9D%B4%EC%8A%A4%EB%B3%84%20%EB%B0%A9%EB%AC%B8%EC%9E%90%20%EC%88%98")
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let text = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    let first = |kind: &str| {
        kinds
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_else(|| panic!("{kind} missing: {kinds:?}"))
    };
    assert!(first("plan") < first("sql"));
    assert!(first("sql") < first("validation"));
    assert!(first("validation") < first("cost"));
    assert!(first("cost") < first("rows"));
    assert!(first("rows") < first("chart"));
    assert_eq!(kinds.last(), Some(&"done"));
    assert!(
        kinds.iter().filter(|k| **k == "validation").count() >= 5,
        "{kinds:?}"
    );
    let done = text.rsplit("data: ").next().unwrap().trim();
    let done: Json = serde_json::from_str(done).unwrap();
    assert_eq!(done["status"], "answered");
}

#[actix_web::test]
async fn bad_input_gets_the_right_4xx_and_a_clear_message() {
    let config = ServerConfig {
        limits: nlq_server::Limits {
            max_question_chars: 50,
            max_body_bytes: 2_000,
            ..nlq_server::Limits::default()
        },
        ..ServerConfig::default()
    };
    let Some(service) = service(config) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let malformed = test::TestRequest::post()
        .uri("/api/query")
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"question\": ");
    let (status, body) = call(&app, malformed).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "bad_json"),
        "{body}"
    );

    let (status, body) = call(&app, post("/api/query", json!({"questio": "x"}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "bad_field"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("questio")
    );

    let (status, body) = call(&app, post("/api/query", json!({"question": "  "}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "empty_question")
    );

    let long = "방문자 ".repeat(30);
    let (status, body) = call(&app, post("/api/query", json!({"question": long}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "question_too_long")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 50")
    );

    let huge = "x".repeat(3_000);
    let (status, body) = call(&app, post("/api/query", json!({"question": huge}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );

    let (status, body) = call(&app, test::TestRequest::get().uri("/api/query/q_0000")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "unknown_qid")
    );

    let (status, body) = call(
        &app,
        post(
            "/api/query",
            json!({"question": "방문자 수", "conversation_id": "c_nope"}),
        ),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "unknown_conversation")
    );

    let (status, body) = call(&app, post("/api/query/run", json!({}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "qid_or_sql")
    );

    let (status, body) = call(&app, test::TestRequest::get().uri("/api/nothing")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let response = test::call_service(
        &app,
        test::TestRequest::delete().uri("/api/query").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers().get("allow").unwrap(), "POST");

    let (status, body) = call(&app, test::TestRequest::get().uri("/api/query/stream")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "bad_query"),
        "{body}"
    );

    // The guard refuses writes whatever the route: an answer saying so, nothing run.
    let (status, body) = call(
        &app,
        post("/api/query/run", json!({"sql": "DROP TABLE `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210101`", "user_ack": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "refused");
}

#[actix_web::test]
async fn keys_tokens_and_rate_limits() {
    let config = ServerConfig {
        api_keys: vec!["key-alpha-1111".into()],
        admin_token: Some("admin-secret".into()),
        limits: nlq_server::Limits {
            requests_per_minute: 3,
            ..nlq_server::Limits::default()
        },
        ..ServerConfig::default()
    };
    let Some(service) = service(config) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let demo = || test::TestRequest::get().uri("/api/demo/questions");
    let (status, body) = call(&app, demo()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, body) = call(
        &app,
        demo().insert_header(("authorization", "Bearer wrong")),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert!(!body.to_string().contains("key-alpha"), "{body}");
    // Open routes stay open.
    let (status, _) = call(&app, test::TestRequest::get().uri("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, spec) = call(&app, test::TestRequest::get().uri("/api/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        spec["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );

    let with_key = || demo().insert_header(("authorization", "Bearer key-alpha-1111"));
    for _ in 0..3 {
        let (status, body) = call(&app, with_key()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body["questions"].as_array().unwrap().is_empty());
    }
    let response = test::call_service(&app, with_key().to_request()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body: Json = test::read_body_json(response).await;
    assert_eq!(error_code(&body), "rate_limited");

    // Admin: its own token, never an API key.
    let status_of = |token: &str| {
        test::TestRequest::get()
            .uri("/admin/status")
            .insert_header(("authorization", format!("Bearer {token}")))
    };
    let (status, body) = call(&app, status_of("key-alpha-1111")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, body) = call(&app, status_of("admin-secret")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["authentication"], true);
    assert!(body["uptime_secs"].is_u64());
    let (status, body) = call(
        &app,
        test::TestRequest::post()
            .uri("/admin/metadata/sync")
            .insert_header(("authorization", "Bearer admin-secret")),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "conflict")
    );
}

/// Issue 20: `/metrics` shows what was served, in Prometheus text, and a stream that is still
/// working sends keep-alive comments.
#[actix_web::test]
async fn metrics_show_requests_answers_costs_refusals_and_cache_hits() {
    let config = ServerConfig {
        limits: nlq_server::Limits {
            requests_per_minute: 4,
            stream_keep_alive: std::time::Duration::from_millis(1),
            ..nlq_server::Limits::default()
        },
        ..ServerConfig::default()
    };
    // Queries as slow as a remote warehouse's, so the stream has time to keep alive.
    let slow = |warehouse| -> Arc<dyn nlq_core::Warehouse> {
        Arc::new(Recording::slow(
            warehouse,
            std::time::Duration::from_millis(30),
        ))
    };
    let Some(service) = service_over(config, Arc::new(SqliteStore::in_memory().unwrap()), slow)
    else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let question = json!({"question": "지난 7일 디바이스별 방문자 수"});
    for _ in 0..2 {
        let (status, body) = call(&app, post("/api/query", question.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let stream = test::TestRequest::get()
        .uri("/api/query/stream?question=last%2030%20days%20revenue%20by%20country")
        .to_request();
    let text = String::from_utf8(
        test::read_body(test::call_service(&app, stream).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("\n: keep-alive\n") || text.starts_with(": keep-alive\n"));
    assert!(text.contains("event: done"), "{text}");
    // The fourth request of the minute passes, the fifth is refused.
    let (status, _) = call(&app, test::TestRequest::get().uri("/api/demo/questions")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&app, test::TestRequest::get().uri("/api/demo/questions")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    // Scrapes are not rate limited.
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} missing in\n{text}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        value(r#"nlq_http_requests_total{route="/api/query",method="POST",status="200"}"#),
        2.0
    );
    assert_eq!(
        value(r#"nlq_answers_total{status="answered",path="semantic"}"#),
        2.0
    );
    assert_eq!(
        value(r#"nlq_answers_total{status="answered",path="cache"}"#),
        1.0
    );
    assert_eq!(value("nlq_answer_cache_hits_total"), 1.0);
    assert_eq!(value(r#"nlq_refusals_total{reason="rate"}"#), 1.0);
    assert!(
        value(r#"nlq_billed_bytes_total{warehouse="embedded"}"#) >= 2.0 * 10.0 * 1024.0 * 1024.0
    );
    assert!(value(r#"nlq_warehouse_usd_total{warehouse="embedded"}"#) > 0.0);
    // Two answers ran, each timed in every stage it went through.
    assert_eq!(
        value(r#"nlq_stage_duration_seconds_count{stage="execute"}"#),
        2.0
    );
    assert_eq!(
        value(r#"nlq_http_request_duration_seconds_count{route="/api/query"}"#),
        2.0
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}

/// A metadata document in the export's shape, over the test sample's tables, whose catalog
/// holds `events` (name, count, parameters), and the vocabulary MetaSync proposes from it.
fn document(warehouse: &EmbeddedWarehouse, events: &[(&str, u64, Json)]) -> Vec<u8> {
    let shards: Vec<&String> = warehouse
        .catalog()
        .tables
        .iter()
        .filter(|t| !t.contains("intraday"))
        .collect();
    let day = |t: &str| {
        let d = &t["events_".len()..];
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
    };
    let (first, last) = (day(shards[0]), day(shards[shards.len() - 1]));
    let events: serde_json::Map<String, Json> = events
        .iter()
        .map(|(name, count, params)| {
            (
                (*name).to_owned(),
                json!({"count": count, "event_params": params, "user_properties": [], "items": null}),
            )
        })
        .collect();
    let mut doc = json!({
        "format_version": 1,
        "generated_at": chrono::Utc::now().to_rfc3339(),
        "source": {"warehouse": "embedded", "project": "bigquery-public-data",
                   "dataset": "ga4_obfuscated_sample_ecommerce"},
        "registry": {"shards": shards, "intraday": [], "other": [], "first_day": first,
                     "last_day": last, "as_of": warehouse.catalog().current_date,
                     "missing_days": [], "drift": []},
        "schema": [],
        "catalog": {"sampled_tables": [], "bytes_processed": 0, "events": events},
        "examples": [],
        "insights": []
    });
    // Read as version 1, the vocabulary is proposed from the catalog; written back as it is.
    let read = nlq_metasync::MetadataDocument::from_json(doc.to_string().as_bytes()).unwrap();
    doc = serde_json::to_value(&read).unwrap();
    doc["format_version"] = nlq_metasync::document::FORMAT_VERSION.into();
    doc.to_string().into_bytes()
}

/// What the server binary's rebuild does, over the sample: the built-in model with the
/// document's vocabulary (when there is one) and the taught lessons. Counts its calls.
fn rebuild_over(
    warehouse: Arc<EmbeddedWarehouse>,
    built: Arc<std::sync::atomic::AtomicUsize>,
) -> nlq_server::service::Rebuild {
    Arc::new(move |inputs: nlq_server::service::Inputs| {
        built.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let facts = DatasetFacts {
            tables: warehouse.catalog().tables.clone(),
            today: warehouse.catalog().current_date.clone(),
        };
        let model = SemanticModel::builtin().unwrap();
        let model = match &inputs.document {
            Some(document) => nlq_pipeline::metadata::model_with_values(model, document)
                .map_err(|e| e.to_string())?,
            None => model,
        };
        let validator = Validator::new(
            warehouse.clone(),
            Policy::for_dataset("bigquery-public-data", "ga4_obfuscated_sample_ecommerce"),
            facts.clone(),
            Arc::new(StandardParams),
        )
        .map_err(|e| e.to_string())?;
        let (pipeline, skipped) = Pipeline::new(Arc::new(model), validator, &facts)
            .map_err(|e| e.to_string())?
            .with_knowledge(&inputs.knowledge);
        assert!(skipped.is_empty(), "{skipped:?}");
        Ok(pipeline)
    })
}

/// A service over the sample (admin token `admin-secret`) whose pipeline is rebuilt as the
/// server binary's is (`rebuild_over`), following `loader` when there is one.
fn rebuilding(
    warehouse: Arc<EmbeddedWarehouse>,
    loader: Option<Arc<nlq_metasync::MetadataLoader>>,
    built: Arc<std::sync::atomic::AtomicUsize>,
) -> Option<Service> {
    let config = ServerConfig {
        admin_token: Some("admin-secret".into()),
        ..ServerConfig::default()
    };
    let plain = service(config.clone())?;
    let rebuild = rebuild_over(warehouse.clone(), built);
    Some(
        Service::new(
            plain.pipeline(),
            warehouse,
            Arc::new(SqliteStore::in_memory().unwrap()),
            loader,
            config,
        )
        .with_rebuild(rebuild),
    )
}

/// Issue 19: a newer metadata version (nlq-metasync ran) changes the next answer with no
/// restart: the pipeline is rebuilt over it and swapped in between two questions.
#[actix_web::test]
async fn a_new_metadata_version_teaches_the_next_question_without_a_restart() {
    let Ok(dir) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let warehouse = Arc::new(EmbeddedWarehouse::open(&EmbeddedConfig::new(&dir)).unwrap());
    let store = Arc::new(nlq_metasync::MemoryStore::new(5));
    use nlq_metasync::MetaStore;
    store
        .put(&document(&warehouse, &[("page_view", 100, json!([]))]))
        .await
        .unwrap();
    let loader = Arc::new(nlq_metasync::MetadataLoader::new(
        store.clone(),
        nlq_metasync::LoaderConfig::default(),
    ));
    let built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let Some(service) = rebuilding(warehouse.clone(), Some(loader), built.clone()) else {
        return;
    };
    let service = web::Data::new(service);
    let app = test::init_service(nlq_server::app(service)).await;
    let ask = || {
        post(
            "/api/query",
            json!({"question": "shipping_tier별 add_shipping_info 수"}),
        )
    };
    let (status, body) = call(&app, ask()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "needs_llm", "{body}");
    assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 1);

    let tier = json!([{"key": "shipping_tier", "rows": 29, "string_value": 29, "int_value": 0,
        "float_value": 0, "double_value": 0, "null_rate": 0.0, "distinct": 2,
        "top_values": [["FedEx Ground", 20], ["UPS 2nd Day Air", 9]]}]);
    store
        .put(&document(
            &warehouse,
            &[
                ("page_view", 100, json!([])),
                ("add_shipping_info", 29, tier),
            ],
        ))
        .await
        .unwrap();
    let (status, body) = call(
        &app,
        test::TestRequest::post()
            .uri("/admin/metadata/sync")
            .insert_header(("authorization", "Bearer admin-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(&app, ask()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "answered", "{body}");
    assert_eq!(body["columns"][0]["name"], "shipping_tier", "{body}");
    assert_eq!(
        body["columns"][1]["name"], "add_shipping_info_count",
        "{body}"
    );
    assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn the_customer_flow_graph_and_its_segments() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    let (status, segments) = call(
        &app,
        test::TestRequest::get().uri("/api/network/customer-flow/segments"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(segments["segments"].as_array().unwrap().len(), 4);
    let (status, graph) = call(
        &app,
        post(
            "/api/network/customer-flow",
            json!({"segment": "purchasers", "start": "2021-01-01", "end": "2021-01-07", "min_edge_count": 2, "limit": 20}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{graph}");
    let links = graph["links"].as_array().unwrap();
    assert!(!links.is_empty() && links.len() <= 20);
    assert!(links.iter().all(|l| l["count"].as_u64().unwrap() >= 2));
    let nodes: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(nodes.contains(&"purchase"), "{nodes:?}");
    assert!(
        links
            .iter()
            .all(|l| nodes.contains(&l["source"].as_str().unwrap()))
    );

    let (status, body) = call(
        &app,
        post(
            "/api/network/customer-flow",
            json!({"segment": "vips", "start": "2021-01-01", "end": "2021-01-07"}),
        ),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "unknown_segment")
    );
}

#[actix_web::test]
async fn answers_and_conversations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("answers.sqlite");
    let (qid, conversation) = {
        let Some(service) = service_with(
            ServerConfig::default(),
            Arc::new(SqliteStore::open(&path).unwrap()),
        ) else {
            return;
        };
        let app = test::init_service(nlq_server::app(service)).await;
        let (_, answer) = call(
            &app,
            post("/api/query", json!({"question": "어제 방문자 수"})),
        )
        .await;
        (
            answer["qid"].as_str().unwrap().to_owned(),
            answer["conversation_id"].as_str().unwrap().to_owned(),
        )
    };
    let service = service_with(
        ServerConfig::default(),
        Arc::new(SqliteStore::open(&path).unwrap()),
    )
    .unwrap();
    let app = test::init_service(nlq_server::app(service)).await;
    let (status, answer) = call(
        &app,
        test::TestRequest::get().uri(&format!("/api/query/{qid}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["status"], "answered");
    let (status, listed) = call(
        &app,
        test::TestRequest::get().uri(&format!("/api/conversations/{conversation}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["turns"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn the_page_and_its_files_are_served() {
    let Some(service) = service(ServerConfig::default()) else {
        return;
    };
    let app = test::init_service(nlq_server::app(service)).await;
    for (uri, kind) in [
        ("/", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
        ("/static/vendor/vega-lite.min.js", "text/javascript"),
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let content_type = response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(content_type.starts_with(kind), "{uri}: {content_type}");
        // Issue 20: no inline script, no frames, no other origins.
        let csp = response
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(
            response.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
    }
    let (status, body) = call(&app, test::TestRequest::get().uri("/static/../Cargo.toml")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

/// Issue 19: what an analyst teaches (a metric, a synonym, a verified example) changes the
/// next answer with no restart, teaching needs the admin token, and SQL that writes, reads
/// another dataset or does not run is refused with the reason.
#[actix_web::test]
async fn taught_lessons_change_the_next_answer_without_a_restart() {
    let Ok(dir) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let warehouse = Arc::new(EmbeddedWarehouse::open(&EmbeddedConfig::new(&dir)).unwrap());
    let built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let knowledge = Arc::new(nlq_pipeline::knowledge::KnowledgeBase::new(
        Arc::new(nlq_metasync::MemoryStore::new(10)),
        std::time::Duration::from_secs(60),
    ));
    let Some(service) = rebuilding(warehouse.clone(), None, built) else {
        return;
    };
    let service = web::Data::new(service.with_knowledge(knowledge));
    let app = test::init_service(nlq_server::app(service)).await;
    let ask = |question: &str| post("/api/query", json!({ "question": question }));
    let teach = |body: Json| {
        post("/api/knowledge", body).insert_header(("authorization", "Bearer admin-secret"))
    };

    let (status, body) = call(&app, ask("지난 30일 프로모 클릭 수")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["status"], "answered", "{body}");

    let metric = json!({"kind": "metric", "name": "promo_clicks",
        "sql": "COUNTIF(event_name = 'select_promotion')", "format": "count",
        "additive": true, "words": ["프로모 클릭", "promo clicks"], "by": "ann"});
    // Teaching needs the admin token, not an API key or nothing.
    let (status, body) = call(&app, post("/api/knowledge", metric.clone())).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, body) = call(&app, teach(metric)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], "k1");
    assert_eq!(body["by"], "ann");

    let (status, body) = call(&app, ask("지난 30일 프로모 클릭 수")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "answered", "{body}");
    assert_eq!(body["columns"][0]["name"], "promo_clicks", "{body}");
    let clicks = body["rows"][0][0].clone();

    let (status, body) = call(
        &app,
        teach(json!({"kind": "synonym", "word": "배너 클릭", "means": "promo_clicks"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let synonym = body["id"].as_str().unwrap().to_owned();
    let (_, body) = call(&app, ask("지난 30일 배너 클릭 수")).await;
    assert_eq!(body["status"], "answered", "{body}");
    assert_eq!(body["rows"][0][0], clicks, "{body}");

    // Refusals, each with its reason.
    for (lesson, reason) in [
        (
            json!({"kind": "synonym", "word": "매출", "means": "promo_clicks"}),
            "already means",
        ),
        (
            json!({"kind": "synonym", "word": "zzz", "means": "nothing_here"}),
            "names no metric",
        ),
        (
            json!({"kind": "metric", "name": "broken", "sql": "COUNTIF(no_such_column = 1)",
                "format": "count", "additive": true}),
            "a query with it is refused",
        ),
        (
            json!({"kind": "example", "question": "지워줘",
                "sql": "DELETE FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201` WHERE TRUE"}),
            "the SQL is refused",
        ),
        (
            json!({"kind": "example", "question": "다른 데이터",
                "sql": "SELECT COUNT(*) AS n FROM `other-project.crm.customers`"}),
            "the SQL is refused",
        ),
        (
            json!({"kind": "example", "question": "없는 열",
                "sql": "SELECT no_such_column FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201`"}),
            "the SQL",
        ),
    ] {
        let (status, body) = call(&app, teach(lesson.clone())).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "lesson_refused"),
            "{lesson}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{lesson}: {message}");
    }

    // "Save as verified": an answer's SQL answers its question from then on.
    let question = "지난 7일 기기별 사용자 수";
    let (_, answered) = call(&app, ask(question)).await;
    assert_eq!(answered["status"], "answered", "{answered}");
    assert!(answered.get("verified").is_none(), "{answered}");
    let (status, body) = call(
        &app,
        post("/api/knowledge/verified", json!({"qid": answered["qid"]}))
            .insert_header(("authorization", "Bearer admin-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let example = body["id"].as_str().unwrap().to_owned();
    let (_, again) = call(&app, ask(question)).await;
    assert_eq!(again["status"], "answered", "{again}");
    assert_eq!(again["verified"], example.as_str(), "{again}");
    assert_eq!(again["rows"], answered["rows"], "{again}");

    // The list shows the lessons with who and when, and the model's entries by origin.
    let (status, body) = call(&app, test::TestRequest::get().uri("/api/knowledge")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lessons = body["lessons"].as_array().unwrap();
    assert_eq!(lessons.len(), 3, "{body}");
    assert!(
        lessons
            .iter()
            .all(|l| l["by"].is_string() && l["at"].is_string())
    );
    let model = body["model"].as_array().unwrap();
    assert!(
        model
            .iter()
            .any(|m| m["name"] == "promo_clicks" && m["origin"] == "taught")
    );
    assert!(
        model
            .iter()
            .any(|m| m["name"] == "revenue" && m["origin"] == "model")
    );

    // Removing the synonym takes the word away again.
    let (status, body) = call(
        &app,
        test::TestRequest::delete()
            .uri(&format!("/api/knowledge/{synonym}"))
            .insert_header(("authorization", "Bearer admin-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = call(&app, ask("지난 30일 배너 클릭 수")).await;
    assert_ne!(body["status"], "answered", "{body}");
    let (status, body) = call(
        &app,
        test::TestRequest::delete()
            .uri(&format!("/api/knowledge/{synonym}"))
            .insert_header(("authorization", "Bearer admin-secret")),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );
}
