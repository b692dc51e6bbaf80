//! The store in a local directory.

use std::path::Path;
use std::sync::Arc;

use nlq_core::{Classify, ErrorClass};
use nlq_metasync::{LocalConfig, LocalStore, MetaStore, MetaSyncError, StoreOptions, open};

fn store(dir: &Path, keep: usize) -> Arc<dyn MetaStore> {
    Arc::new(
        LocalStore::new(LocalConfig {
            keep,
            ..LocalConfig::new(dir)
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn empty() {
    let tmp = tempfile::tempdir().unwrap();
    super::check_empty(&*store(tmp.path(), 10)).await;
    // A directory not created yet is a store nothing was written to.
    super::check_empty(&*store(&tmp.path().join("not/yet"), 10)).await;
}

#[tokio::test]
async fn round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    super::check_round_trip(&*store(&tmp.path().join("meta"), 10)).await;
}

#[tokio::test]
async fn keeps_the_newest() {
    let tmp = tempfile::tempdir().unwrap();
    super::check_keeps_the_newest(&*store(tmp.path(), 3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    super::check_racing_writers([store(dir, 10), store(dir, 10)], store(dir, 10), 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reader_racing_a_writer() {
    let tmp = tempfile::tempdir().unwrap();
    super::check_reader_racing_a_writer(store(tmp.path(), 2), store(tmp.path(), 2)).await;
}

#[tokio::test]
async fn open_parses_the_location() {
    let tmp = tempfile::tempdir().unwrap();
    let location = format!("dir:{}", tmp.path().display());
    let store = open(&location, &StoreOptions::default()).unwrap();
    assert_eq!(store.location(), location);
    store.put(b"{}").await.unwrap();
    let plain = open(tmp.path().to_str().unwrap(), &StoreOptions::default()).unwrap();
    assert_eq!(plain.latest().await.unwrap().unwrap().document, b"{}");

    let err = open("s3://bucket/x", &StoreOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.class(), ErrorClass::User);
    assert!(
        err.to_string()
            .contains("expected `gs://<bucket>/<prefix>` or a directory path")
    );
    let err = open(
        tmp.path().to_str().unwrap(),
        &StoreOptions {
            keep: 0,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("keep must be at least 1"), "{err}");
}

#[tokio::test]
async fn a_pointer_to_a_missing_version_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path(), 10);
    store.put(b"{}").await.unwrap();
    std::fs::write(
        tmp.path().join("latest"),
        "20261122T073700.123456Z-0123456789abcdef\n",
    )
    .unwrap();
    let err = store.latest().await.unwrap_err();
    assert!(
        matches!(err, MetaSyncError::DanglingPointer { .. }),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::User);
    let message = err.to_string();
    assert!(message.contains(&store.location()), "{message}");
    assert!(
        message.contains("20261122T073700.123456Z-0123456789abcdef"),
        "{message}"
    );
    assert!(message.contains("run nlq-metasync again"), "{message}");
    // A new version repairs it.
    store.put(b"{\"fixed\":true}").await.unwrap();
    assert_eq!(
        store.latest().await.unwrap().unwrap().document,
        b"{\"fixed\":true}"
    );
}

#[tokio::test]
async fn a_pointer_that_names_nothing_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path(), 10);
    std::fs::write(tmp.path().join("latest"), "{half a doc").unwrap();
    let err = store.latest().await.unwrap_err();
    assert!(matches!(err, MetaSyncError::BadPointer { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::User);
    assert!(
        err.to_string()
            .contains("delete it and run nlq-metasync again"),
        "{err}"
    );
    assert!(
        store
            .put(b"{}")
            .await
            .unwrap_err()
            .to_string()
            .contains("{half a doc")
    );
}

#[tokio::test]
async fn a_file_where_the_directory_should_be_is_the_users_to_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("meta");
    std::fs::write(&file, "not a directory").unwrap();
    let store = store(&file, 10);
    let err = store.put(b"{}").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::User, "{err}");
    assert!(err.to_string().contains(&store.location()), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn strays_and_unfinished_files_are_not_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path(), 10);
    let written = store.put(b"{}").await.unwrap();
    let versions = tmp.path().join("versions");
    std::fs::write(
        versions.join(".metadata-20991122T073700.123456Z-0123456789abcdef.json.tmp"),
        "{",
    )
    .unwrap();
    std::fs::write(versions.join("README"), "hello").unwrap();
    let kept: Vec<_> = store
        .versions()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(kept, vec![written.version.id]);
}
