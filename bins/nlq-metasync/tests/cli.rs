//! The `nlq-metasync` binary end to end: a run into a directory and into the GCS emulator, then
//! `show`; the exit codes a scheduler acts on.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

/// The test script generates a small sample; without it a run has nothing to read.
fn sample(test: &str) -> Option<String> {
    let dir = std::env::var("NLQ_TEST_DATA_DIR").ok();
    if dir.is_none() {
        eprintln!("{test} skipped: NLQ_TEST_DATA_DIR is not set (scripts/test.sh sets it)");
    }
    dir
}

fn metasync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nlq-metasync"))
        .args(args)
        // Only what each test passes: nothing from the caller's environment.
        .env_remove("NLQ_METADATA_STORE")
        .env_remove("NLQ_GCS_ENDPOINT")
        .env_remove("NLQ_GCS_TOKEN")
        .env_remove("NLQ_METASYNC_EVERY")
        .env_remove("NLQ_LOG_FORMAT")
        .env_remove("NLQ_WAREHOUSE")
        .env_remove("NLQ_BQ_PROJECT")
        .env_remove("NLQ_BQ_DATASET")
        .env_remove("NLQ_BQ_ENDPOINT")
        .env_remove("NLQ_BQ_CREDENTIALS")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs once into `store`, then checks `show --json` and `show`.
fn run_then_show(data: &str, store: &str, extra: &[&str]) {
    let common = [&["--data-dir", data, "--store", store][..], extra].concat();
    let metrics_dir = tempfile::tempdir().unwrap();
    let metrics_file = metrics_dir.path().join("nlq-metasync.prom");
    let out = metasync(
        &[
            &common[..],
            &["run", "--sample-shards", "2", "--metrics-file"],
            &[metrics_file.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Not a terminal: JSON lines, the last one naming the version written.
    let logs = stderr(&out);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let wrote = lines
        .iter()
        .find(|line| line["message"] == "wrote a new version")
        .unwrap_or_else(|| panic!("{logs}"));
    assert_eq!(wrote["severity"], "INFO");
    assert!(wrote["time"].as_str().unwrap().ends_with('Z'), "{wrote}");
    let version = wrote["version"].as_str().unwrap().to_owned();

    let out = metasync(&[&common[..], &["show", "--json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shards = document["registry"]["shards"].as_array().unwrap();
    assert!(!shards.is_empty(), "{document}");
    // The run's own metrics, for a textfile collector.
    let metrics = std::fs::read_to_string(&metrics_file).unwrap();
    for line in [
        "nlq_metasync_last_run_success 1".to_owned(),
        "nlq_metasync_runs_total{result=\"ok\"} 1".to_owned(),
        format!("nlq_metasync_shards {}", shards.len()),
    ] {
        assert!(metrics.contains(&line), "{line} not in\n{metrics}");
    }
    assert!(document["registry"]["as_of"].is_string(), "{document}");

    let out = metasync(&[&common[..], &["show"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&version), "{text}");
    assert!(text.contains(&format!("{} shards", shards.len())), "{text}");

    let out = metasync(&[&common[..], &["versions", "--json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let versions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(versions[0]["id"], version.as_str());
}

/// Golden examples bqemulator 1.4.0 cannot run, by the bug that stops them
/// (docs/emulators.md): through `events_*`, RECORD columns vanish when CONCAT or
/// FORMAT_DATE appears.
const EXAMPLES_BQEMULATOR_CANNOT_RUN: [(&str, &str); 2] = [
    (
        "지난달 일별 세션 수",
        "events_* loses RECORD columns with CONCAT",
    ),
    (
        "Revenue and purchases from South Korea by month",
        "events_* loses RECORD columns with FORMAT_DATE",
    ),
];

/// The latest document in a directory store.
fn latest(store: &str) -> serde_json::Value {
    let out = metasync(&["--store", store, "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_run_on_bigquery_describes_the_data_as_one_on_the_embedded_engine() {
    let Some(data) = sample("a_run_on_bigquery_describes_the_data_as_one_on_the_embedded_engine")
    else {
        return;
    };
    let Ok(url) = std::env::var("NLQ_BQEMU_URL") else {
        assert!(
            std::env::var_os("NLQ_REQUIRE_BQEMU").is_none(),
            "NLQ_REQUIRE_BQEMU is set but NLQ_BQEMU_URL is not"
        );
        eprintln!("skipped: NLQ_BQEMU_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (embedded, bigquery) = (dir.path().join("embedded"), dir.path().join("bigquery"));
    let (embedded, bigquery) = (embedded.to_str().unwrap(), bigquery.to_str().unwrap());
    let out = metasync(&["--data-dir", &data, "--store", embedded, "run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The emulator, reached without credentials, billed to a test project.
    let on_emulator = |extra: &[&str]| {
        let flags = [
            "--store",
            bigquery,
            "--warehouse",
            "bigquery",
            "--project",
            "nlq-test",
            "--bq-endpoint",
            &url,
            "--credentials",
            "none",
        ];
        metasync(&[&flags[..], extra, &["run"]].concat())
    };
    let out_bigquery = on_emulator(&[]);
    assert_eq!(
        out_bigquery.status.code(),
        Some(0),
        "{}",
        stderr(&out_bigquery)
    );
    let (ours, theirs) = (latest(embedded), latest(bigquery));
    assert_eq!(theirs["source"]["warehouse"], "bigquery");
    assert_eq!(theirs["source"]["project"], "bigquery-public-data");
    // Tables, schemas and drift come from metadata calls: the same on both.
    assert_eq!(theirs["registry"], ours["registry"]);
    assert_eq!(theirs["schema"], ours["schema"]);
    // The catalog's queries ran on BigQuery: the same events, counts, keys and distinct
    // values.
    let counts = |doc: &serde_json::Value| {
        doc["catalog"]["events"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, event)| {
                let keys: Vec<(String, u64, u64)> = event["event_params"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| {
                        (
                            k["key"].as_str().unwrap().to_owned(),
                            k["rows"].as_u64().unwrap(),
                            k["distinct"].as_u64().unwrap(),
                        )
                    })
                    .collect();
                (name.clone(), event["count"].as_u64().unwrap(), keys)
            })
            .collect::<Vec<_>>()
    };
    assert!(!counts(&theirs).is_empty(), "{theirs}");
    assert_eq!(counts(&theirs), counts(&ours));
    // Every example checks on BigQuery but those a recorded bqemulator bug stops, and those
    // are left out with the emulator's error as the reason.
    let questions = |doc: &serde_json::Value| {
        doc["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["question"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let logs: Vec<String> = stderr(&out_bigquery)
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            line["message"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut expected = questions(&ours);
    for (question, bug) in EXAMPLES_BQEMULATOR_CANNOT_RUN {
        assert!(
            logs.iter().any(|msg| msg.starts_with(&format!(
                "the example \"{question}\" no longer passes validation"
            ))),
            "recorded bqemulator divergence `{bug}` did not show for {question:?}: {logs:#?}"
        );
        expected.retain(|q| q != question);
    }
    assert_eq!(questions(&theirs), expected);

    // Without a project a BigQuery run is refused as the user's to fix.
    let out = metasync(&["--store", bigquery, "--warehouse", "bigquery", "run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("needs --project"), "{}", stderr(&out));

    // A dataset that does not exist is the user's to fix too, said by BigQuery.
    let out = on_emulator(&["--dataset", "bigquery-public-data.no_such_dataset"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn run_into_a_directory_then_show() {
    let Some(data) = sample("run_into_a_directory_then_show") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("meta");
    run_then_show(&data, store.to_str().unwrap(), &[]);
}

#[test]
fn an_unsupported_location_is_the_users_to_fix() {
    let out = metasync(&["--store", "s3://x", "--log-format", "text", "show"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`s3://` is not supported")
            && err.contains("expected `gs://<bucket>/<prefix>` or a directory path"),
        "{err}"
    );
}

#[test]
fn bad_flags_exit_2() {
    let out = metasync(&["run", "--every", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a duration"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_empty_store_has_nothing_to_show() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let out = metasync(&["--store", store, "show"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nlq-metasync run"),
        "{}",
        stderr(&out)
    );
    let out = metasync(&["--store", store, "versions", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "[]");
}

#[test]
fn an_unreachable_store_is_transient() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    // The store is checked before the warehouse is opened, so no sample is needed.
    let out = metasync(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--store",
        "gs://nlq-meta/prod",
        "--gcs-endpoint",
        &format!("http://127.0.0.1:{port}"),
        "run",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot reach GCS for gs://nlq-meta/prod"),
        "{err}"
    );
    assert!(err.contains("\"class\":\"transient\""), "{err}");
}

#[test]
fn run_into_the_gcs_emulator_then_show() {
    let Some(data) = sample("run_into_the_gcs_emulator_then_show") else {
        return;
    };
    let Ok(url) = std::env::var("NLQ_GCS_EMU_URL") else {
        eprintln!(
            "run_into_the_gcs_emulator_then_show skipped: NLQ_GCS_EMU_URL is not set \
             (scripts/test.sh sets it)"
        );
        return;
    };
    // A bucket of its own, so tests never see each other's objects.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let bucket = format!("nlq-cli-{}-{nanos:08x}", std::process::id());
    let response = reqwest::blocking::Client::new()
        .post(format!("{url}/storage/v1/b?project=test"))
        .json(&serde_json::json!({ "name": bucket }))
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "creating bucket {bucket}: {}",
        response.status()
    );
    run_then_show(
        &data,
        &format!("gs://{bucket}/meta"),
        &["--gcs-endpoint", &url],
    );
}

/// Issue 20: with no token and the real GCS endpoint, the store uses Google's application
/// default credentials; where there are none, the command says how to get some (exit 2).
#[test]
fn a_gcs_store_without_credentials_says_how_to_get_them() {
    let out = Command::new(env!("CARGO_BIN_EXE_nlq-metasync"))
        .args(["--store", "gs://nlq-meta/prod", "versions"])
        .env_remove("NLQ_METADATA_STORE")
        .env_remove("NLQ_GCS_ENDPOINT")
        .env_remove("NLQ_GCS_TOKEN")
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            "/nonexistent/nlq-test-key.json",
        )
        .output()
        .unwrap();
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot get Google credentials for gs://nlq-meta/prod"),
        "{stderr}"
    );
    assert!(stderr.contains("NLQ_GCS_TOKEN"), "{stderr}");
}
