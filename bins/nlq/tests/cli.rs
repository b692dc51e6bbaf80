//! The `nlq` binary end to end: output formats, exit codes and error messages.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use nlq_testkit::replay::{Reply, Server};

fn nlq(args: &[&str]) -> Option<Output> {
    // The test script generates a small sample; without it this test has nothing to read.
    let data = std::env::var("NLQ_TEST_DATA_DIR").ok()?;
    Some(
        Command::new(env!("CARGO_BIN_EXE_nlq"))
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .output()
            .unwrap(),
    )
}

const DAILY: &str = "SELECT PARSE_DATE('%Y%m%d', event_date) AS day, COUNT(*) AS events \
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` \
    WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201203' GROUP BY day ORDER BY day";

#[test]
fn json_output_has_the_documented_shape() {
    let Some(out) = nlq(&["sql", DAILY, "--format", "json"]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["columns"],
        serde_json::json!([{"name": "day", "type": "DATE"}, {"name": "events", "type": "INT64"}])
    );
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], "2020-12-01");
    assert!(rows[0][1].as_i64().unwrap() > 0);
    assert!(json["bytes_processed"].as_u64().unwrap() > 0);
    assert!(json["elapsed_ms"].is_u64());
    assert_eq!(json["tables_read"].as_array().unwrap().len(), 3);
}

#[test]
fn csv_and_table_output() {
    let Some(out) = nlq(&["sql", DAILY, "--format", "csv"]) else {
        return;
    };
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "day,events");
    assert!(lines[1].starts_with("2020-12-01,"), "{text}");
    assert_eq!(lines.len(), 4);
    let out = nlq(&["sql", DAILY]).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("3 rows") && text.contains("processed") && text.contains("3 tables"),
        "{text}"
    );
}

#[test]
fn bad_sql_exits_2_with_the_position() {
    let Some(out) = nlq(&[
        "sql",
        "SELECT event_name FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE (",
    ]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("syntax error") && err.contains("line 1, column"),
        "{err}"
    );
    let out = nlq(&[
        "sql",
        "SELECT 1 FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.orders`",
    ])
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "unknown table `bigquery-public-data.ga4_obfuscated_sample_ecommerce.orders`"
        )
    );
}

#[test]
fn a_data_dir_that_is_a_file_is_a_clear_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .arg("--data-dir")
        .arg(file.path())
        .args(["sql", "SELECT 1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.contains(&file.path().display().to_string()),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn generate_refuses_to_overwrite_without_force() {
    let Some(data) = std::env::var("NLQ_TEST_DATA_DIR").ok() else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args(["data", "generate", "--out", &data])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}

#[test]
fn as_of_sets_current_date() {
    let Some(out) = nlq(&[
        "--as-of",
        "2020-12-25",
        "sql",
        "SELECT CURRENT_DATE() AS today",
        "--format",
        "csv",
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "today\n2020-12-25\n"
    );
}

#[test]
fn sql_can_come_from_standard_input() {
    use std::io::Write;
    let Some(data) = std::env::var("NLQ_TEST_DATA_DIR").ok() else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args(["--data-dir", &data, "sql", "-", "--format", "csv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"SELECT COUNT(DISTINCT event_date) AS days\nFROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "days\n92\n");
}

#[test]
fn the_guard_refuses_before_anything_runs() {
    // No data directory is touched: the guard decides first.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never-created");
    for (sql, reason) in [
        (
            "DROP TABLE `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201101`",
            "DROP is not a query",
        ),
        ("SELECT getenv('HOME')", "getenv"),
        (
            "SELECT * FROM `other.dataset.table`",
            "outside the allowed datasets",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
            .arg("--data-dir")
            .arg(&missing)
            .args(["sql", sql])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sql}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: refused: ") && err.contains(reason),
            "{sql}: {err}"
        );
        assert!(
            !missing.exists(),
            "{sql}: the sample was built before the guard ran"
        );
    }
}

#[test]
fn check_reports_every_step_bytes_and_cost() {
    let Some(out) = nlq(&["check", DAILY, "--currency", "KRW:1400"]) else {
        return;
    };
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "guard", "lint", "dry run", "cost", "explain", "schema", "canary",
    ] {
        assert!(text.contains(&format!("│ {step} ")), "{step}: {text}");
    }
    assert!(text.contains("day DATE, events INT64"), "{text}");
    assert!(text.contains("rows on 20201203"), "{text}");
    // Three shards: BigQuery's 10 MiB minimum per table referenced.
    assert!(
        text.contains("30.0 MiB billed") && text.contains(" KRW"),
        "{text}"
    );
    assert!(text.contains("verdict: passed"), "{text}");
}

#[test]
fn check_json_is_the_report() {
    let Some(out) = nlq(&["check", DAILY, "--format", "json"]) else {
        return;
    };
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "guard", "lint", "dry_run", "cost", "explain", "schema", "canary"
        ]
    );
    assert_eq!(json["verdict"], "passed");
    assert_eq!(json["cost"]["bytes_billed"], 30 << 20);
    assert!(
        json["steps"][2]["meta"]["bytes_processed"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(json["columns"][1]["name"], "events");
}

#[test]
fn over_the_cap_is_refused_with_a_suggestion_and_exit_2() {
    let Some(out) = nlq(&["check", DAILY, "--max-bytes-billed", "20MiB"]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("verdict: refused"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("error: refused: the query would bill 30.0 MiB")
            && err.contains("narrow the _TABLE_SUFFIX range"),
        "{err}"
    );
    // The same policy stops `nlq sql` before it runs.
    let out = nlq(&["sql", DAILY, "--max-bytes-billed", "20MiB"]).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn lint_warnings_are_shown_and_do_not_block() {
    let sql = "SELECT * FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201` LIMIT 2";
    let Some(out) = nlq(&["sql", sql, "--format", "csv"]) else {
        return;
    };
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("warning [lint.select_star] at line 1, column 8"),
        "{err}"
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 3);
}

#[test]
fn dry_run_validates_without_running() {
    let Some(out) = nlq(&["sql", DAILY, "--dry-run"]) else {
        return;
    };
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("skipped: the policy is dry-run only"),
        "{text}"
    );
    assert!(!text.contains("canary"), "{text}");
}

#[test]
fn ask_answers_in_the_documented_json_shape() {
    let Some(out) = nlq(&["ask", "지난 7일 디바이스별 방문자 수", "--format", "json"])
    else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "status",
        "sql",
        "columns",
        "rows",
        "summary",
        "plan",
        "validation",
        "cost",
        "timings",
    ] {
        assert!(json.get(key).is_some(), "{key} missing: {json}");
    }
    assert_eq!(json["status"], "answered");
    assert_eq!(json["columns"][0]["name"], "device_category");
    assert_eq!(json["columns"][1]["name"], "users");
    assert_eq!(json["plan"]["range"]["start"], "2021-01-25");
    assert_eq!(json["validation"]["verdict"], "passed");
    let sql = json["sql"].as_str().unwrap();
    assert!(sql.contains("BETWEEN '20210125' AND '20210131'"), "{sql}");
}

/// A semantic model file of the built-in shape, with one edit, in a temporary folder.
fn model_file(name: &str, replace: &str, by: &str) -> std::path::PathBuf {
    let text = include_str!("../../../fixtures/semantic/ga4.yaml");
    assert!(text.contains(replace), "{replace}");
    let dir = std::env::temp_dir().join(format!("nlq-model-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.yaml");
    std::fs::write(&path, text.replacen(replace, by, 1)).unwrap();
    path
}

#[test]
fn a_semantic_model_file_extends_the_words_and_a_broken_one_is_refused() {
    // A word the built-in model does not know, taught by a deployment's own file.
    let question = "지난 7일 디바이스별 손님 수";
    let Some(builtin) = nlq(&["ask", question, "--format", "json"]) else {
        return;
    };
    let json: serde_json::Value = serde_json::from_slice(&builtin.stdout).unwrap();
    assert_eq!(json["status"], "needs_llm", "{json}");
    let extended = model_file(
        "extended",
        "[사용자 수, 사용자수,",
        "[손님 수, 사용자 수, 사용자수,",
    );
    let path = extended.to_str().unwrap();
    let out = nlq(&[
        "--semantic-model",
        path,
        "ask",
        question,
        "--format",
        "json",
    ])
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "answered", "{json}");
    assert_eq!(json["plan"]["metrics"][0], "users");

    let broken = model_file(
        "broken",
        "    format: count\n",
        "    format: count\n    colour: red\n",
    );
    let path = broken.to_str().unwrap();
    let out = nlq(&["--semantic-model", path, "ask", question]).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(path) && stderr.contains("colour") && stderr.contains("line"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing answered with a half-loaded model"
    );
    let missing = nlq(&[
        "--semantic-model",
        "/nonexistent/model.yaml",
        "ask",
        question,
    ])
    .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot be read"));
    for dir in [extended, broken] {
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }
}

#[test]
fn a_share_of_sessions_adds_up_to_one_hundred_percent() {
    let Some(out) = nlq(&["ask", "각 국가가 차지하는 세션 비율", "--format", "json"])
    else {
        return;
    };
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "answered", "{json}");
    assert_eq!(json["columns"][2]["name"], "sessions_share_pct", "{json}");
    let rows = json["rows"].as_array().unwrap();
    assert!(rows.len() > 1, "{json}");
    let total: f64 = rows.iter().map(|r| r[2].as_f64().unwrap()).sum();
    assert!((total - 100.0).abs() < 1e-6, "shares add up to {total}");
    let sessions: f64 = rows.iter().map(|r| r[1].as_f64().unwrap()).sum();
    let first = rows[0][1].as_f64().unwrap() / sessions * 100.0;
    assert!(
        (rows[0][2].as_f64().unwrap() - first).abs() < 1e-6,
        "{json}"
    );
}

#[test]
fn ask_refuses_politely_without_running_anything() {
    let Some(out) = nlq(&["ask", "events_20201101 테이블 삭제해줘"]) else {
        return;
    };
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("[refused] \"삭제\": nlq only reads data"),
        "{text}"
    );
    assert!(!text.contains("SELECT"), "{text}");
}

#[test]
fn eval_on_the_dev_set_meets_the_targets() {
    let dev = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/questions/dev.jsonl"
    );
    let Some(out) = nlq(&["eval", dev, "--json"]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &json["summary"];
    let accuracy = |kind: &str| summary["by_kind"][kind]["accuracy"].as_f64().unwrap();
    assert!(accuracy("semantic") >= 0.95, "{summary}");
    assert!(accuracy("out_of_scope") >= 0.95, "{summary}");
    assert_eq!(summary["wrong_confident"], 0, "{summary}");
}

#[test]
fn eval_names_the_line_of_a_bad_question_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.jsonl");
    std::fs::write(&file, "{\"id\": \"a\", \"question\": \"x\", \"lang\": \"en\", \"kind\": \"semantic\", \"gold_sql\": \"SELECT 1\"}\n{not json}\n").unwrap();
    let Some(out) = nlq(&["eval", file.to_str().unwrap()]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 2"), "{err}");
}

/// Serves recorded exchanges on 127.0.0.1 (nlq-testkit's replay server), one connection each,
/// in order: a JSON body, or `sse` events streamed as OpenAI does.
fn serve(exchanges: &[serde_json::Value]) -> Server {
    Server::start(
        exchanges
            .iter()
            .map(|recorded| {
                let response = &recorded["response"];
                match response["sse"].as_array() {
                    Some(events) => Reply {
                        headers: vec![("content-type".into(), "text/event-stream".into())],
                        body: events
                            .iter()
                            .map(|e| format!("data: {e}\n\n"))
                            .chain(["data: [DONE]\n\n".to_owned()])
                            .collect::<String>()
                            .into_bytes(),
                        ..Reply::json(200, &serde_json::Value::Null)
                    },
                    None => Reply::json(200, &response["body"]),
                }
            })
            .collect(),
    )
}

#[test]
fn a_question_the_engine_hands_on_is_answered_by_the_llm_end_to_end() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let recorded: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/openai_ask.json")).unwrap();
    let exchanges = recorded["exchanges"].as_array().unwrap().clone();
    let server = serve(&exchanges);
    let base = server.base.clone();
    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args([
            "--data-dir",
            &data,
            "ask",
            "지난달 장바구니에는 담았지만 구매는 하지 않은 사용자 수",
            "--format",
            "json",
        ])
        .env("OPENAI_API_KEY", "sk-test-cli")
        .env("NLQ_LLM_BASE_URL", format!("{base}/v1"))
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("NLQ_LLM_PROVIDER")
        .env_remove("NLQ_LLM_FALLBACK")
        .env_remove("NLQ_LLM_REVIEWER")
        .output()
        .unwrap();
    let sent = server.requests();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What we sent: each recorded request's path, key and body, in order.
    assert_eq!(sent.len(), exchanges.len(), "{sent:?}");
    for (request, exchange) in sent.iter().zip(&exchanges) {
        let expect = &exchange["request"];
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", expect["path"].as_str().unwrap())
        );
        assert_eq!(request.header("authorization"), Some("Bearer sk-test-cli"));
        let body = request.body_text();
        for piece in expect["body_contains"].as_array().unwrap() {
            let piece = piece.as_str().unwrap();
            assert!(body.contains(piece), "{piece} not in the request");
        }
        for piece in expect["body_lacks"].as_array().into_iter().flatten() {
            let piece = piece.as_str().unwrap();
            assert!(!body.contains(piece), "{piece} in the request");
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "answered", "{json}");
    let calls = json["llm"]["calls"].as_array().unwrap();
    let prompts: Vec<&str> = calls
        .iter()
        .map(|c| c["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(prompts, ["classify@1", "generate_sql@2", "summarize@1"]);
    assert_eq!(calls[1]["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(json["llm"]["input_tokens"], 512 + 5120 + 300);
    // gpt-4o-mini: $0.15 in, $0.60 out per million tokens.
    let usd = json["llm"]["cost_usd"].as_f64().unwrap();
    let expected = (5932.0 * 0.15 + 160.0 * 0.60) / 1e6;
    assert!((usd - expected).abs() < 1e-12, "{usd}");
    assert_eq!(
        json["summary"],
        "2021년 1월에 장바구니에 담고 구매하지 않은 사용자 수입니다."
    );
    assert_eq!(json["validation"]["verdict"], "passed");
    assert_eq!(json["columns"][0]["name"], "users");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sk-test-cli"));
}

#[test]
fn without_a_key_the_same_question_says_it_needs_an_llm() {
    let Ok(data) = std::env::var("NLQ_TEST_DATA_DIR") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args([
            "--data-dir",
            &data,
            "ask",
            "지난달 장바구니에는 담았지만 구매는 하지 않은 사용자 수",
            "--format",
            "json",
        ])
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("NLQ_LLM_BASE_URL")
        .env_remove("NLQ_LLM_PROVIDER")
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "needs_llm");
    assert!(json["sql"].is_null());
}

#[test]
fn ask_answers_from_bigquery_as_from_the_embedded_engine() {
    let Ok(url) = std::env::var("NLQ_BQEMU_URL") else {
        return;
    };
    let question = "지난 7일 디바이스별 방문자 수";
    let Some(embedded) = nlq(&["ask", question, "--format", "json"]) else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args(["--warehouse", "bigquery", "--project", "nlq-test"])
        .args(["--bq-endpoint", &url, "--credentials", "none"])
        .args(["ask", question, "--format", "json"])
        .env_remove("NLQ_METADATA_STORE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: serde_json::Value = serde_json::from_slice(&embedded.stdout).unwrap();
    assert_eq!(theirs["status"], "answered", "{theirs}");
    assert_eq!(theirs["sql"], ours["sql"]);
    assert_eq!(theirs["rows"], ours["rows"]);
    let steps: Vec<&str> = theirs["validation"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        steps.contains(&"dry_run") && steps.contains(&"execute"),
        "{steps:?}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args(["--warehouse", "bigquery", "ask", question])
        .env_remove("NLQ_BQ_PROJECT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the user's to fix");
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --project"));
}

#[test]
fn sql_and_check_run_on_bigquery_through_the_same_validation() {
    let Ok(url) = std::env::var("NLQ_BQEMU_URL") else {
        return;
    };
    let bigquery = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nlq"))
            .args(["--warehouse", "bigquery", "--project", "nlq-test"])
            .args(["--bq-endpoint", &url, "--credentials", "none"])
            .args(args)
            .env_remove("NLQ_METADATA_STORE")
            .output()
            .unwrap()
    };
    let Some(embedded) = nlq(&["sql", DAILY, "--format", "csv"]) else {
        return;
    };
    let out = bigquery(&["sql", DAILY, "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, embedded.stdout);

    // BigQuery runs the query as written: --explain shows its dry run.
    let out = bigquery(&["sql", DAILY, "--explain"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.starts_with("BigQuery dry run:"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = bigquery(&["check", DAILY, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "passed");

    // The guard refuses before BigQuery is asked anything.
    let out = bigquery(&[
        "sql",
        "DELETE FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201` WHERE true",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 19: `nlq teach` checks a lesson against the data, keeps it in the knowledge store,
/// and the next `ask` reads it; a lesson whose SQL writes is refused (exit 2) with the reason.
#[test]
fn taught_metrics_answer_the_next_question_and_writes_are_refused() {
    let store = tempfile::tempdir().unwrap();
    let knowledge = format!("dir:{}", store.path().display());
    let with = |args: &[&str]| -> Option<Output> {
        let mut all = vec!["--knowledge", knowledge.as_str()];
        all.extend_from_slice(args);
        nlq(&all)
    };
    let Some(taught) = with(&[
        "teach",
        "--by",
        "ann",
        "metric",
        "promo_clicks",
        "COUNTIF(event_name = 'select_promotion')",
        "--word",
        "프로모 클릭",
    ]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&taught.stdout);
    assert!(
        taught.status.success(),
        "{}",
        String::from_utf8_lossy(&taught.stderr)
    );
    assert!(stdout.starts_with("taught k1: promo_clicks = "), "{stdout}");

    let asked = with(&["ask", "지난 30일 프로모 클릭 수", "--format", "json"]).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&asked.stdout).unwrap();
    assert_eq!(answer["status"], "answered", "{answer}");
    assert_eq!(answer["columns"][0]["name"], "promo_clicks", "{answer}");

    let refused = with(&[
        "teach",
        "example",
        "지워줘",
        "DELETE FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201201` WHERE TRUE",
    ])
    .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("the SQL is refused"), "{stderr}");

    let listed = with(&["teach", "list", "--json"]).unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["entries"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["entries"][0]["by"], "ann");
    let removed = with(&["teach", "remove", "k1"]).unwrap();
    assert!(removed.status.success());
    let asked = with(&["ask", "지난 30일 프로모 클릭 수", "--format", "json"]).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&asked.stdout).unwrap();
    assert_ne!(answer["status"], "answered", "{answer}");
}
