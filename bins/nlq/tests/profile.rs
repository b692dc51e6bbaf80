//! Issue 19: a property shaped unlike the public sample (`nlq data generate --profile app-web`)
//! is answered from what one MetaSync run learns of it, with no LLM and no model file edit.
//! scripts/test.sh generates the app-web test sample and sets NLQ_TEST_APP_DATA_DIR.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use nlq_core::Warehouse;
use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_metasync::StoreOptions;
use nlq_metasync::sync::{SyncConfig, sync};

/// Runs `nlq` with `args` and no LLM, metadata store or as-of date from the environment; its
/// standard output, after checking it succeeded.
fn nlq(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args(args)
        .env_remove("NLQ_METADATA_STORE")
        .env_remove("NLQ_AS_OF")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("NLQ_LLM_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "nlq {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What `nlq-metasync run` does, into a store in `dir`: the document the CLI then reads.
fn metasync(data: &str, dir: &Path) -> String {
    let config = EmbeddedConfig::new(data);
    let warehouse = EmbeddedWarehouse::open(&config).unwrap();
    let location = format!("dir:{}", dir.display());
    let store = nlq_metasync::open(&location, &StoreOptions::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let synced = sync(
            &warehouse,
            &SyncConfig::new(&config.project, &config.dataset),
            None,
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!(warehouse.name(), "embedded");
        store.put(&synced.document.to_json()).await.unwrap();
    });
    location
}

#[test]
fn the_app_web_question_set_is_answered_from_one_metasync_run() {
    let Ok(data) = std::env::var("NLQ_TEST_APP_DATA_DIR") else {
        eprintln!("skipped: NLQ_TEST_APP_DATA_DIR is not set (scripts/test.sh sets it)");
        return;
    };
    let meta = tempfile::tempdir().unwrap();
    let location = metasync(&data, meta.path());
    let questions =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/questions/app_web.jsonl");
    let stdout = nlq(&[
        "--data-dir",
        &data,
        "--metadata",
        &location,
        "eval",
        "--json",
        questions.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let overall = &report["summary"]["overall"];
    let (total, correct) = (
        overall["total"].as_u64().unwrap(),
        overall["correct"].as_u64().unwrap(),
    );
    let failed: Vec<String> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["correct"] != true)
        .map(|o| format!("{} {}: {}", o["id"], o["status"], o["detail"]))
        .collect();
    assert!(total >= 30, "{report}");
    // The bar: at least 90% right, none wrong; the rest handed on.
    assert!(correct * 10 >= total * 9, "{correct}/{total}: {failed:#?}");
    assert_eq!(report["summary"]["wrong_confident"], 0, "{failed:#?}");
}

/// The profile's shape: named user properties, web and app streams, days missing and the
/// newest day only as an intraday table that `events_*` reads with the suffix `intraday_...`.
#[test]
fn the_app_web_sample_is_shaped_unlike_the_public_one() {
    let Ok(data) = std::env::var("NLQ_TEST_APP_DATA_DIR") else {
        return;
    };
    let sql = |query: &str| nlq(&["--data-dir", &data, "sql", "--format", "csv", query]);
    let t = "`nlq-sample-app.analytics_284713650.events_*`";
    assert_eq!(
        sql(&format!(
            "SELECT DISTINCT platform FROM {t} WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131' ORDER BY platform"
        )),
        "platform\nANDROID\nIOS\nWEB\n"
    );
    assert_eq!(
        sql(&format!(
            "SELECT DISTINCT up.key FROM {t}, UNNEST(user_properties) AS up WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20201107' ORDER BY 1"
        )),
        "key\nlogged_in\nmembership_tier\npreferred_language\n"
    );
    assert_eq!(
        sql(&format!(
            "SELECT COUNT(DISTINCT _TABLE_SUFFIX) AS days FROM {t} WHERE _TABLE_SUFFIX BETWEEN '20201214' AND '20201217'"
        )),
        "days\n2\n"
    );
    assert_eq!(
        sql(&format!(
            "SELECT DISTINCT _TABLE_SUFFIX AS suffix FROM {t} WHERE _TABLE_SUFFIX LIKE 'intraday%'"
        )),
        "suffix\nintraday_20210131\n"
    );
    // Issue 21: an answer over those days says what is missing, in the question's language.
    let ask = |question: &str| nlq(&["--data-dir", &data, "ask", question]);
    let december = ask("12월 세션 수");
    assert!(
        december.contains("note: 기간 중 2일은") && december.contains("2020-12-15, 2020-12-16"),
        "{december}"
    );
    let january = ask("sessions in January");
    assert!(
        january.contains("note: 1 day(s) in the range have no exported table"),
        "{january}"
    );
    assert!(
        january.contains("note: 2021-01-31 is still being exported"),
        "{january}"
    );
    let apps = sql(&format!(
        "SELECT COUNTIF(app_info.id IS NOT NULL) = COUNTIF(platform != 'WEB') AS apps_have_app_info FROM {t} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201207'"
    ));
    assert_eq!(apps, "apps_have_app_info\ntrue\n");
}

/// `nlq data import`: the app-web sample's own shards are an export (one Parquet file per
/// table); imported under another name, `nlq sql` counts the same rows there.
#[test]
fn data_import_brings_an_export_in_under_its_dataset_name() {
    let Ok(data) = std::env::var("NLQ_TEST_APP_DATA_DIR") else {
        eprintln!("skipped: NLQ_TEST_APP_DATA_DIR is not set (scripts/test.sh sets it)");
        return;
    };
    let into = tempfile::tempdir().unwrap();
    let into = into.path().to_str().unwrap();
    let shards = Path::new(&data).join("parquet");
    nlq(&[
        "--data-dir",
        into,
        "data",
        "import",
        shards.to_str().unwrap(),
        "--dataset",
        "my-project.analytics_123",
    ]);
    let count = |dir: &str, table: &str| -> u64 {
        let out = nlq(&[
            "--data-dir",
            dir,
            "sql",
            &format!("SELECT COUNT(*) AS n FROM `{table}.events_*`"),
            "--format",
            "json",
        ]);
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        out["rows"][0][0].as_u64().unwrap()
    };
    let original = count(&data, "nlq-sample-app.analytics_284713650");
    assert!(original > 0);
    assert_eq!(count(into, "my-project.analytics_123"), original);

    let refused = Command::new(env!("CARGO_BIN_EXE_nlq"))
        .args([
            "--data-dir",
            into,
            "data",
            "import",
            shards.to_str().unwrap(),
        ])
        .args(["--dataset", "analytics_123"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("project.dataset"), "{stderr}");
}
