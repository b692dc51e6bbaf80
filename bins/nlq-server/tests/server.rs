//! nlq-server as users run it: the binary on a loopback port, the chat page driven in headless
//! Chromium, and schemathesis against the served OpenAPI spec. scripts/test.sh installs
//! Chromium, playwright-core and schemathesis and sets NLQ_REQUIRE_BROWSER=1 and
//! NLQ_SCHEMATHESIS; without them these tests say they skipped.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nlq-server, stopped when dropped; its stderr (the log) is kept in a file and
/// printed when a test fails.
struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("nlq-server's log:\n{}", self.log());
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(base: &str, path: &str) -> Option<String> {
    let address = base.strip_prefix("http://")?;
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

/// One request with a JSON body; the status code and the body.
fn post(base: &str, path: &str, body: &str) -> (u16, String) {
    let (status, _, body) = post_with_head(base, path, body);
    (status, body)
}

fn post_with_head(base: &str, path: &str, body: &str) -> (u16, String, String) {
    send(base, "POST", path, "", body)
}

/// One request; `headers` are whole lines, each ending in CRLF.
fn send(base: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String, String) {
    let address = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         {headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

fn start(data: &str, args: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{}", free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_nlq-server"));
    if !args.contains(&"--database-url") {
        command.arg("--db").arg(dir.path().join("answers.sqlite"));
    }
    let child = command
        .args(["--bind", base.strip_prefix("http://").unwrap()])
        .args(["--data-dir", data])
        // What a test teaches stays with the test, never in the shared sample.
        .arg("--knowledge")
        .arg(format!("dir:{}", dir.path().join("knowledge").display()))
        .args(args)
        .env_remove("NLQ_API_KEYS")
        .env_remove("NLQ_DATABASE_URL")
        .env_remove("NLQ_METADATA_STORE")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("NLQ_LLM_BASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let server = Server { child, base, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if get(&server.base, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nlq-server did not answer /healthz within 60 s");
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where test artifacts (screenshots) are kept after the run.
fn artifacts() -> PathBuf {
    let dir = std::env::var_os("NLQ_ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/test-artifacts"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn required(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|v| v == "1")
}

#[test]
fn without_api_keys_the_server_refuses_a_public_address() {
    let out = Command::new(env!("CARGO_BIN_EXE_nlq-server"))
        .args(["--bind", "0.0.0.0:0"])
        .env_remove("NLQ_API_KEYS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("set NLQ_API_KEYS, or bind to 127.0.0.1"),
        "{err}"
    );
}

/// Issue 20: one JSON access log line per request, with Cloud Logging's keys, the request id
/// the caller was given, and the answer's status, bytes billed and LLM cost; and /metrics.
#[test]
fn json_access_log_lines_and_metrics_of_a_running_server() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let mut server = start(&data, &["--log-format", "json", "--answer-cache-secs", "0"]);
    let (status, head, _) = post_with_head(
        &server.base,
        "/api/query",
        r#"{"question": "지난 7일 디바이스별 방문자 수"}"#,
    );
    assert_eq!(status, 200);
    let request_id = head
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_owned();
    let metrics = get(&server.base, "/metrics").unwrap();
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    for family in [
        "nlq_http_requests_total{",
        "nlq_http_request_duration_seconds_bucket{",
        "nlq_answers_total{status=\"answered\",path=\"semantic\"} 1",
        "nlq_stage_duration_seconds_bucket{",
        "nlq_billed_bytes_total{warehouse=\"embedded\"}",
        "nlq_warehouse_usd_total{",
        "nlq_answer_cache_hits_total 0",
    ] {
        assert!(metrics.contains(family), "{family} not in\n{metrics}");
    }
    server.stop();
    let log = server.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["message"] == "request" && l["httpRequest"]["requestUrl"] == "/api/query")
        .unwrap_or_else(|| panic!("no access line for /api/query in\n{log}"));
    assert_eq!(access["severity"], "INFO");
    assert_eq!(access["request_id"], request_id.as_str());
    assert_eq!(access["httpRequest"]["requestMethod"], "POST");
    assert_eq!(access["httpRequest"]["status"], 200);
    assert!(
        access["httpRequest"]["latency"]
            .as_str()
            .unwrap()
            .ends_with('s')
    );
    assert_eq!(access["route"], "/api/query");
    assert_eq!(access["answer_status"], "answered");
    assert_eq!(access["answer_path"], "semantic");
    assert!(access["bytes_billed"].as_u64().unwrap() > 0, "{access}");
    assert_eq!(access["llm_usd"], 0.0);
    assert!(access["qid"].as_str().unwrap().starts_with("q_"));
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .unwrap()
            .starts_with("nlq-server listening")),
        "{log}"
    );
}

/// The browser tests' directory, when Chromium and playwright-core are there (scripts/test.sh
/// installs them and requires them with NLQ_REQUIRE_BROWSER=1).
fn browser() -> Option<PathBuf> {
    let browser = workspace().join("crates/nlq-server/tests/browser");
    let ready = browser.join("node_modules/playwright-core").is_dir()
        && Path::new(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .exists();
    if !ready {
        assert!(
            !required("NLQ_REQUIRE_BROWSER"),
            "Chromium or playwright-core is missing: scripts/test.sh installs them"
        );
        eprintln!("skipped: no Chromium or playwright-core (scripts/test.sh installs them)");
        return None;
    }
    Some(browser)
}

/// Runs a browser script against `server` with `env`; it must pass every check and leave
/// `screenshot` in the artifacts directory.
fn run_browser_script(script: &str, server: &Server, env: &[(&str, &str)], screenshot: &str) {
    let Some(browser) = browser() else {
        return;
    };
    let shots = artifacts();
    let out = Command::new("node")
        .arg(script)
        .current_dir(&browser)
        .env("BASE_URL", &server.base)
        .env("SCREENSHOT_DIR", &shots)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    assert!(log.contains("0 failed"), "{log}");
    assert!(shots.join(screenshot).is_file());
    eprintln!("{log}screenshot: {}", shots.join(screenshot).display());
}

#[test]
fn the_chat_page_works_in_headless_chromium() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    if browser().is_none() {
        return;
    }
    // Every query needs approval here, so the test walks the approval flow; with an API key,
    // so the page's streams authenticate with a header.
    let server = start(
        &data,
        &["--approval-bytes", "0", "--api-keys", "browser-key-1"],
    );
    run_browser_script(
        "chat.mjs",
        &server,
        &[("API_KEY", "browser-key-1")],
        "chat.png",
    );
}

/// Issue 19: the Knowledge tab teaches, refuses with the reason, lists and removes; "Save as
/// verified" turns an answer into an example the next identical question is answered from.
#[test]
fn the_knowledge_tab_works_in_headless_chromium() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    if browser().is_none() {
        return;
    }
    // start() gives the server a knowledge store of its own, so nothing taught here stays.
    let server = start(&data, &["--admin-token", "browser-admin-1"]);
    run_browser_script(
        "knowledge.mjs",
        &server,
        &[("ADMIN_TOKEN", "browser-admin-1")],
        "knowledge.png",
    );
}

#[test]
fn schemathesis_finds_no_server_error_and_no_spec_mismatch() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let Ok(schemathesis) = std::env::var("NLQ_SCHEMATHESIS") else {
        eprintln!("skipped: NLQ_SCHEMATHESIS is not set (scripts/test.sh installs it)");
        return;
    };
    let server = start(
        &data,
        &[
            "--api-keys",
            "st-key",
            "--admin-token",
            "st-admin",
            "--requests-per-minute",
            "1000000",
        ],
    );
    // Every check but positive_data_acceptance: the spec cannot say that `end` must not be
    // before `start`, or that a question needs a word the engine reads, and those 400s are
    // right. The admin routes and teaching get the admin token through a second run.
    let run = |filter: &[&str], token: &str| {
        Command::new(&schemathesis)
            .arg("run")
            .arg(format!("{}/api/openapi.json", server.base))
            .args([
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
            ])
            .args([
                "--max-examples",
                "30",
                "--request-timeout",
                "60",
                "--seed",
                "20261204",
            ])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(filter)
            .output()
            .unwrap()
    };
    for out in [
        run(
            &["--exclude-path-regex", "^/(admin|api/knowledge)"],
            "st-key",
        ),
        // Teaching checks a lesson against the data (a synonym must name something that
        // exists, a metric must compile), which no schema can say, and lesson and answer ids
        // come from earlier calls: those two warnings are expected there; every other one,
        // and every check, still fails the run.
        run(
            &[
                "--include-path-regex",
                "^/(admin|api/knowledge)",
                "--warnings",
                "missing_auth,base_url_mismatch,missing_deserializer,unused_openapi_auth,\
                 unsupported_regex,method_not_allowed,unmatched_filter,unresolvable_reference",
            ],
            "st-admin",
        ),
    ] {
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{log}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(log.contains("No issues found"), "{log}");
    }
}

#[test]
fn the_server_answers_from_bigquery_as_from_the_embedded_engine() {
    let (Ok(data), Ok(url)) = (
        std::env::var("NLQ_TEST_DATA_DIR"),
        std::env::var("NLQ_BQEMU_URL"),
    ) else {
        assert!(
            !required("NLQ_REQUIRE_BQEMU"),
            "NLQ_REQUIRE_BQEMU is set but NLQ_BQEMU_URL or NLQ_TEST_DATA_DIR is not"
        );
        eprintln!(
            "skipped: NLQ_BQEMU_URL and NLQ_TEST_DATA_DIR are not set (scripts/test.sh sets them)"
        );
        return;
    };
    let ask = r#"{"question": "지난 7일 디바이스별 방문자 수"}"#;
    let embedded = start(&data, &[]);
    let (status, body) = post(&embedded.base, "/api/query", ask);
    assert_eq!(status, 200, "{body}");
    let ours: serde_json::Value = serde_json::from_str(&body).unwrap();
    drop(embedded);

    let bigquery = start(
        &data,
        &[
            "--warehouse",
            "bigquery",
            "--project",
            "nlq-test",
            "--bq-endpoint",
            &url,
            "--credentials",
            "none",
            "--admin-token",
            "admin-secret",
        ],
    );
    let ready = get(&bigquery.base, "/readyz").unwrap();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let (status, body) = post(&bigquery.base, "/api/query", ask);
    assert_eq!(status, 200, "{body}");
    let theirs: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(theirs["status"], "answered", "{theirs}");
    assert_eq!(theirs["sql"], ours["sql"]);
    assert_eq!(theirs["rows"], ours["rows"]);
    assert!(theirs["row_count"].as_u64().unwrap() > 0);
    // A follow-up in the same conversation runs on BigQuery too.
    let follow_up = format!(
        r#"{{"question": "그럼 모바일만?", "conversation_id": "{}"}}"#,
        theirs["conversation_id"].as_str().unwrap()
    );
    let (status, body) = post(&bigquery.base, "/api/query", &follow_up);
    assert_eq!(status, 200, "{body}");
    let narrowed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(narrowed["status"], "answered", "{narrowed}");
    assert!(
        narrowed["sql"].as_str().unwrap().contains("'mobile'"),
        "{narrowed}"
    );
}

/// Issue 20: with `--otlp-endpoint`, the request spans reach an OpenTelemetry collector as
/// OTLP over HTTP/protobuf, named after the service.
#[test]
fn traces_reach_an_otlp_collector() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let collector = nlq_testkit::replay::Server::always(nlq_testkit::replay::Reply {
        status: 200,
        headers: vec![("content-type".into(), "application/x-protobuf".into())],
        body: Vec::new(),
        delay: Duration::ZERO,
        chunk: None,
        expect: None,
    });
    let server = start(&data, &["--otlp-endpoint", &collector.base]);
    // The caller's trace (W3C Trace Context): the request's span continues it.
    let (trace, parent) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let (status, _, body) = send(
        &server.base,
        "POST",
        "/api/query",
        &format!("traceparent: 00-{trace}-{parent}-01\r\n"),
        r#"{"question": "지난 7일 기기별 사용자 수"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let bytes = |hex: &str| -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    };
    let contains = |body: &[u8], needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    // The batch goes out every 5 seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let exports: Vec<_> = collector
            .requests()
            .into_iter()
            .filter(|r| r.path == "/v1/traces")
            .collect();
        if let Some(export) = exports.iter().find(|r| contains(&r.body, b"/api/query")) {
            assert_eq!(export.method, "POST");
            assert_eq!(
                export.header("content-type"),
                Some("application/x-protobuf")
            );
            assert!(contains(&export.body, b"nlq-server"), "no service name");
            // Protobuf carries ids as raw bytes: the caller's trace id and its span as parent.
            assert!(
                contains(&export.body, &bytes(trace)),
                "not the caller's trace"
            );
            assert!(contains(&export.body, &bytes(parent)), "no parent span id");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no span of the request reached the collector ({} exports)",
            exports.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A new database on the tests' PostgreSQL server (scripts/postgres.sh), by psql; its URL.
fn fresh_database(server: &str) -> String {
    let name = format!(
        "nlq_replicas_{}_{}",
        std::process::id(),
        Instant::now().elapsed().subsec_nanos()
    );
    let out = Command::new("psql")
        .args([server, "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// Issue 20: two server processes on one PostgreSQL database act as one service. A follow-up
/// asked on the second replica continues the conversation the first began; the bytes both
/// billed are counted once, together; and a replica started again still knows them, so the
/// daily budget holds across replicas and restarts.
#[test]
fn two_replicas_on_one_postgres_database_share_conversations_and_budgets() {
    let (Ok(data), Ok(server)) = (
        std::env::var("NLQ_TEST_DATA_DIR"),
        std::env::var("NLQ_TEST_DATABASE_URL"),
    ) else {
        assert!(
            !required("NLQ_REQUIRE_POSTGRES"),
            "NLQ_REQUIRE_POSTGRES is set but NLQ_TEST_DATABASE_URL or NLQ_TEST_DATA_DIR is not"
        );
        eprintln!("skipped: NLQ_TEST_DATABASE_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let database = fresh_database(&server);
    let replica = |daily: &str| {
        start(
            &data,
            &[
                "--database-url",
                &database,
                "--admin-token",
                "replica-admin",
                "--daily-bytes",
                daily,
            ],
        )
    };
    let first = replica("10GiB");
    let mut second = replica("10GiB");

    let (status, body) = post(
        &first.base,
        "/api/query",
        r#"{"question": "지난 7일 디바이스별 방문자 수"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let asked: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(asked["status"], "answered", "{asked}");
    let conversation = asked["conversation_id"].as_str().unwrap();

    let follow_up =
        format!(r#"{{"question": "그럼 모바일만?", "conversation_id": "{conversation}"}}"#);
    let (status, body) = post(&second.base, "/api/query", &follow_up);
    assert_eq!(status, 200, "{body}");
    let narrowed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(narrowed["status"], "answered", "{narrowed}");
    assert_eq!(narrowed["conversation_id"], conversation);
    let sql = narrowed["sql"].as_str().unwrap();
    assert!(
        sql.contains("'mobile'") && sql.contains("device.category"),
        "{sql}"
    );
    // The first replica reads the whole conversation, the second's turn included.
    let turns = get(&first.base, &format!("/api/conversations/{conversation}")).unwrap();
    assert!(turns.starts_with("HTTP/1.1 200"), "{turns}");
    assert!(turns.contains("그럼 모바일만?"), "{turns}");

    let billed = |answer: &serde_json::Value| answer["cost"]["bytes_billed"].as_u64().unwrap();
    let total = billed(&asked) + billed(&narrowed);
    assert!(
        billed(&asked) > 0 && billed(&narrowed) > 0,
        "{asked} {narrowed}"
    );
    let spent = |base: &str| -> serde_json::Value {
        let (status, _, body) = send(
            base,
            "GET",
            "/admin/status",
            "Authorization: Bearer replica-admin\r\n",
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["spent_today"].clone()
    };
    let both = serde_json::json!([{"caller": "address 127.0.0.1", "bytes_billed": total}]);
    assert_eq!(spent(&first.base), both);
    assert_eq!(spent(&second.base), both);

    // Started again with a budget the two have used up between them, the second replica
    // refuses the next query; the first, with room left, still answers.
    second.stop();
    let second = replica(&total.to_string());
    assert_eq!(spent(&second.base), both);
    let (status, body) = post(
        &second.base,
        "/api/query",
        r#"{"question": "지난 7일 방문자 수"}"#,
    );
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("budget_exhausted"), "{body}");
    let (status, body) = post(
        &first.base,
        "/api/query",
        r#"{"question": "지난 7일 방문자 수"}"#,
    );
    assert_eq!(status, 200, "{body}");
}
