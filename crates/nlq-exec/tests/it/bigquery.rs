//! The BigQuery warehouse: against bqemulator on 127.0.0.1 (tables, schemas, queries with
//! nested values, paging, errors that come back as HTTP 200) next to the embedded engine on
//! the same sample; and, for what the emulator does not do (byte caps, long jobs and their
//! cancellation, real dry-run statistics), against recorded BigQuery REST replies served on
//! 127.0.0.1 that also check what the client sends.

use std::time::Duration;

use nlq_core::{ErrorClass, QueryRequest, SqlPosition, Value, Warehouse, label};
use nlq_exec::bigquery::{BigQueryConfig, BigQueryWarehouse, Credentials};
use nlq_testkit::replay::{Reply, Server};
use serde_json::{Value as Json, json};

use crate::support::sample;

const DATASET: &str = "bigquery-public-data.ga4_obfuscated_sample_ecommerce";

fn emulator() -> Option<String> {
    nlq_testkit::emulator::bqemulator()
}

fn config(endpoint: &str) -> BigQueryConfig {
    let mut config = BigQueryConfig::new("nlq-test", DATASET).unwrap();
    config.endpoint = Some(endpoint.to_owned());
    config.credentials = Credentials::Anonymous;
    config
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn metadata_matches_the_embedded_sample() {
    let Some(url) = emulator() else { return };
    let rt = runtime();
    let bq = rt
        .block_on(BigQueryWarehouse::connect(config(&url)))
        .unwrap();
    let embedded = sample();
    let tables = rt.block_on(bq.list_tables()).unwrap();
    assert_eq!(tables, embedded.catalog().tables);
    let theirs = rt.block_on(bq.table_schema("events_20210101")).unwrap();
    let ours = rt
        .block_on(embedded.table_schema("events_20210101"))
        .unwrap();
    assert_eq!(theirs, ours);
    let err = rt.block_on(bq.table_schema("events_19990101")).unwrap_err();
    assert_eq!(err.class, ErrorClass::User, "{err}");
}

#[test]
fn queries_return_typed_nested_values_and_page() {
    let Some(url) = emulator() else { return };
    let rt = runtime();
    let sql = format!(
        "SELECT event_name, COUNT(*) AS events FROM `{DATASET}.events_20210101` \
         GROUP BY event_name ORDER BY event_name"
    );
    let mut small_pages = config(&url);
    small_pages.page_size = 3;
    let bq = rt
        .block_on(BigQueryWarehouse::connect(small_pages))
        .unwrap();
    let theirs = rt.block_on(bq.query(&QueryRequest::new(&sql))).unwrap();
    let ours = sample().query_sync(&QueryRequest::new(&sql)).unwrap();
    assert!(theirs.rows.len() > 3, "more rows than one page");
    assert_eq!(theirs.columns, ours.columns);
    assert_eq!(theirs.rows, ours.rows);
    assert!(!theirs.truncated);

    let capped = rt
        .block_on(bq.query(&QueryRequest {
            sql: sql.clone(),
            max_rows: 2,
            labels: Vec::new(),
        }))
        .unwrap();
    assert_eq!(capped.rows.len(), 2);
    assert!(capped.truncated);

    let nested = format!(
        "SELECT event_params FROM `{DATASET}.events_20210101` \
         WHERE event_name = 'page_view' ORDER BY event_timestamp, user_pseudo_id LIMIT 1"
    );
    let result = rt.block_on(bq.query(&QueryRequest::new(&nested))).unwrap();
    let Value::Array(params) = &result.rows[0][0] else {
        panic!("{:?}", result.rows[0][0]);
    };
    assert!(params.iter().any(|p| matches!(p, Value::Struct(fields)
        if fields[0] == ("key".to_owned(), Value::String("ga_session_id".into())))));
}

#[test]
fn errors_in_a_200_reply_are_failures_with_a_class() {
    let Some(url) = emulator() else { return };
    let rt = runtime();
    let bq = rt
        .block_on(BigQueryWarehouse::connect(config(&url)))
        .unwrap();
    let sql = format!("SELECT no_such_column FROM `{DATASET}.events_20210101`");
    let err = rt.block_on(bq.query(&QueryRequest::new(&sql))).unwrap_err();
    assert_eq!(err.class, ErrorClass::User, "{err}");
    // bqemulator's dry run always reports 0 bytes and no referenced tables
    // (docs/emulators.md); the recorded exchange below covers real statistics.
    let ok = format!("SELECT COUNT(*) FROM `{DATASET}.events_20210101`");
    let dry = rt.block_on(bq.dry_run(&ok)).unwrap();
    assert_eq!(dry.bytes_processed, 0);
}

/// Serves `replies` in order on 127.0.0.1 (nlq-testkit's replay server), one connection each.
fn serve(replies: Vec<(u16, Json)>) -> (String, Server) {
    let server = Server::start(
        replies
            .into_iter()
            .map(|(status, body)| Reply::json(status, &body))
            .collect(),
    );
    (server.base.clone(), server)
}

/// The requests served so far as HTTP text: request line, headers, a blank line, the body.
fn raw(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| {
            let query = r
                .query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            let target = if query.is_empty() {
                r.path.clone()
            } else {
                format!("{}?{query}", r.path)
            };
            let headers: String = r
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\r\n"))
                .collect();
            format!(
                "{} {target} HTTP/1.1\r\n{headers}\r\n{}",
                r.method,
                r.body_text()
            )
        })
        .collect()
}

#[test]
fn the_byte_cap_and_labels_reach_bigquery_and_its_refusal_is_the_users() {
    // Recorded from BigQuery's documented error shape for maximumBytesBilled.
    let (base, seen) = serve(vec![(
        400,
        json!({"error": {"code": 400, "message": "Query exceeded limit for bytes billed: 10485760. 20971520 or higher required.",
               "errors": [{"message": "Query exceeded limit for bytes billed: 10485760. 20971520 or higher required.", "domain": "global", "reason": "bytesBilledLimitExceeded"}],
               "status": "INVALID_ARGUMENT"}}),
    )]);
    let rt = runtime();
    let mut cfg = config(&base);
    cfg.maximum_bytes_billed = Some(10 * 1024 * 1024);
    cfg.labels = vec![("team".into(), "Growth".into())];
    cfg.location = Some("US".into());
    let bq = rt.block_on(BigQueryWarehouse::connect(cfg)).unwrap();
    let request = QueryRequest::new("SELECT 1")
        .with_label(label::CONVERSATION, "C-7f3a")
        .with_label(label::STAGE, "answer");
    let err = rt.block_on(bq.query(&request)).unwrap_err();
    assert_eq!(err.class, ErrorClass::User);
    assert!(err.message.contains("byte cap"), "{err}");
    let sent = raw(&seen).join("\n");
    assert!(
        sent.starts_with("POST /bigquery/v2/projects/nlq-test/queries"),
        "{sent}"
    );
    let body: Json = serde_json::from_str(&sent[sent.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["maximumBytesBilled"], "10485760");
    assert_eq!(body["useLegacySql"], false);
    // Per job: the conversation and the stage, written as BigQuery accepts label values.
    assert_eq!(
        body["labels"],
        json!({"app": "nlq", "team": "growth", "conversation": "c-7f3a", "stage": "answer"})
    );
    assert_eq!(body["location"], "US");
}

/// A job BigQuery accepts and then reports still running for `polls` polls.
fn never_finishing(job_id: &str, polls: usize) -> Vec<(u16, Json)> {
    let running = json!({"kind": "bigquery#queryResponse", "jobComplete": false,
                         "jobReference": {"projectId": "nlq-test", "jobId": job_id, "location": "US"}});
    let still = json!({"kind": "bigquery#getQueryResultsResponse", "jobComplete": false,
                       "jobReference": {"projectId": "nlq-test", "jobId": job_id}});
    std::iter::once((200, running))
        .chain(std::iter::repeat_n((200, still), polls))
        .collect()
}

#[test]
fn a_job_past_its_timeout_is_cancelled() {
    // Every poll finds the job still running; whatever comes after the deadline is the cancel.
    let (base, seen) = serve(never_finishing("job_slow", 30));
    let rt = runtime();
    let mut cfg = config(&base);
    cfg.timeout = Duration::from_millis(300);
    let bq = rt.block_on(BigQueryWarehouse::connect(cfg)).unwrap();
    let outcome = rt.block_on(bq.query(&QueryRequest::new("SELECT 1")));
    let err = match outcome {
        Ok(result) => panic!("{result:?} after {:?}", raw(&seen)),
        Err(err) => err,
    };
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(err.message.contains("cancelled"), "{err}");
    let sent = raw(&seen);
    assert!(
        sent.last()
            .unwrap()
            .starts_with("POST /bigquery/v2/projects/nlq-test/jobs/job_slow/cancel"),
        "{sent:?}"
    );
    // Polls back off instead of spinning: a handful within the 300 ms, not hundreds.
    let polls = sent.iter().filter(|r| r.starts_with("GET ")).count();
    assert!((1..=6).contains(&polls), "{polls} polls");
}

#[test]
fn a_real_dry_run_reports_bytes_and_tables_and_refuses_other_statements() {
    let job = |kind: &str| {
        json!({"kind": "bigquery#job", "status": {"state": "DONE"},
               "statistics": {"totalBytesProcessed": "73400320",
                 "query": {"totalBytesProcessed": "73400320", "statementType": kind,
                   "referencedTables": [
                     {"projectId": "bigquery-public-data", "datasetId": "ga4_obfuscated_sample_ecommerce", "tableId": "events_20210102"},
                     {"projectId": "bigquery-public-data", "datasetId": "ga4_obfuscated_sample_ecommerce", "tableId": "events_20210101"}]}}})
    };
    let (base, seen) = serve(vec![(200, job("SELECT")), (200, job("DELETE"))]);
    let rt = runtime();
    let bq = rt
        .block_on(BigQueryWarehouse::connect(config(&base)))
        .unwrap();
    let dry = rt.block_on(bq.dry_run("SELECT 1")).unwrap();
    assert_eq!(dry.bytes_processed, 73_400_320);
    assert_eq!(
        dry.tables,
        [
            "bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210101",
            "bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210102"
        ]
    );
    let err = rt
        .block_on(bq.dry_run("DELETE FROM t WHERE true"))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::User);
    assert!(err.message.contains("only SELECT"), "{err}");
    let sent = raw(&seen);
    assert!(
        sent[0].starts_with("POST /bigquery/v2/projects/nlq-test/jobs"),
        "{}",
        sent[0]
    );
    let body: Json =
        serde_json::from_str(&sent[0][sent[0].find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["configuration"]["dryRun"], true);
}

/// BigQuery's error replies, in the shape its REST API documents (`error.errors[].reason`),
/// for the failures the emulator never produces.
fn error_reply(code: u16, status: &str, reason: &str, message: &str) -> (u16, Json) {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status,
               "errors": [{"message": message, "domain": "global", "reason": reason}]}}),
    )
}

#[test]
fn job_errors_become_clear_messages_with_their_class() {
    let cases = [
        (
            error_reply(
                403,
                "PERMISSION_DENIED",
                "quotaExceeded",
                "Quota exceeded: Your project exceeded quota for free query bytes scanned.",
            ),
            ErrorClass::User,
            "quota is used up",
        ),
        (
            error_reply(
                403,
                "PERMISSION_DENIED",
                "quotaExceeded",
                "Custom quota exceeded: Your usage exceeded the custom quota for QueryUsagePerDay.",
            ),
            ErrorClass::User,
            "quota is used up",
        ),
        (
            error_reply(
                403,
                "PERMISSION_DENIED",
                "quotaExceeded",
                "Quota exceeded: Your project and region exceeded quota for max number of jobs that can be queued per project.",
            ),
            ErrorClass::Transient,
            "try again later",
        ),
        (
            error_reply(
                403,
                "PERMISSION_DENIED",
                "rateLimitExceeded",
                "Exceeded rate limits: too many concurrent queries for this project_and_region.",
            ),
            ErrorClass::Transient,
            "try again later",
        ),
        (
            error_reply(
                403,
                "PERMISSION_DENIED",
                "accessDenied",
                "Access Denied: Project nlq-test: User does not have bigquery.jobs.create permission in project nlq-test.",
            ),
            ErrorClass::User,
            "check the billing project",
        ),
        (
            error_reply(
                404,
                "NOT_FOUND",
                "notFound",
                "Not found: Table bigquery-public-data:ga4_obfuscated_sample_ecommerce.events_19990101 was not found in location US",
            ),
            ErrorClass::User,
            "not found in BigQuery",
        ),
        (
            error_reply(
                400,
                "INVALID_ARGUMENT",
                "invalidQuery",
                "Syntax error: Unexpected keyword FROM at [1:8]",
            ),
            ErrorClass::User,
            "refused the query",
        ),
    ];
    let (base, seen) = serve(cases.iter().map(|(reply, _, _)| reply.clone()).collect());
    let rt = runtime();
    let bq = rt
        .block_on(BigQueryWarehouse::connect(config(&base)))
        .unwrap();
    for ((_, reply), class, advice) in &cases {
        let err = rt
            .block_on(bq.query(&QueryRequest::new("SELECT FROM x")))
            .unwrap_err();
        let reason = &reply["error"]["errors"][0]["reason"];
        assert_eq!(err.class, *class, "{reason}: {err}");
        assert!(err.message.contains(advice), "{reason}: {err}");
        // The user sees BigQuery's own words too.
        let said = reply["error"]["message"].as_str().unwrap();
        assert!(err.message.contains(said), "{reason}: {err}");
    }
    assert_eq!(raw(&seen).len(), cases.len());
    let position = {
        let (base, _) = serve(vec![cases.last().unwrap().0.clone()]);
        let bq = rt
            .block_on(BigQueryWarehouse::connect(config(&base)))
            .unwrap();
        rt.block_on(bq.query(&QueryRequest::new("SELECT FROM x")))
            .unwrap_err()
            .position
    };
    assert_eq!(position, Some(SqlPosition { line: 1, column: 8 }));
}

#[test]
fn a_key_file_client_outlives_the_runtime_that_built_it() {
    // The CLI builds the warehouse on one short-lived runtime and queries on another, and the
    // server queries from each worker's runtime. Google's token cache used to live on the
    // first runtime, and its next token request panicked once that runtime was gone.
    let done = json!({"kind": "bigquery#queryResponse", "jobComplete": true,
                      "jobReference": {"projectId": "nlq-test", "jobId": "job_1"},
                      "schema": {"fields": [{"name": "one", "type": "INTEGER", "mode": "NULLABLE"}]},
                      "rows": [{"f": [{"v": "1"}]}], "totalRows": "1"});
    let (base, seen) = serve(vec![(200, done.clone()), (200, done)]);
    let mut cfg = config(&base);
    cfg.credentials = Credentials::KeyFile(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/bigquery/test-service-account.json"
        )
        .into(),
    );
    let bq = runtime().block_on(BigQueryWarehouse::connect(cfg)).unwrap();
    for _ in 0..2 {
        let result = runtime()
            .block_on(bq.query(&QueryRequest::new("SELECT 1 AS one")))
            .unwrap();
        assert_eq!(result.rows, [[Value::Int64(1)]]);
    }
    for request in raw(&seen).iter() {
        let token = request
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("authorization: bearer ")
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("no bearer token in {request}"));
        assert_eq!(token.split('.').count(), 3, "a signed JWT: {token}");
    }
}

#[test]
fn a_caller_that_stops_waiting_cancels_the_job() {
    // The server's client went away, or a timeout above the warehouse fired: the job must
    // not go on running, and billing, with nobody waiting for it.
    let (base, seen) = serve(never_finishing("job_left", 60));
    let rt = runtime();
    let mut cfg = config(&base);
    cfg.timeout = Duration::from_secs(30);
    let bq = rt.block_on(BigQueryWarehouse::connect(cfg)).unwrap();
    let gave_up = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_millis(200),
            bq.query(&QueryRequest::new("SELECT 1")),
        )
        .await
    });
    assert!(gave_up.is_err(), "the caller's timeout fired first");
    let cancelled = |sent: &Vec<String>| {
        sent.iter()
            .any(|r| r.starts_with("POST /bigquery/v2/projects/nlq-test/jobs/job_left/cancel"))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !cancelled(&raw(&seen)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Polls back off to at most a second apart; a poll still going would show by now.
    std::thread::sleep(Duration::from_millis(1500));
    let sent = raw(&seen);
    assert!(cancelled(&sent), "{sent:#?}");
    // And polling stopped: nothing after the cancel.
    assert!(cancelled(&vec![sent.last().unwrap().clone()]), "{sent:#?}");
}
