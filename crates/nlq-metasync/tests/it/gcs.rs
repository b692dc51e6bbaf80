//! The store under a GCS prefix: the shared checks against fake-gcs-server (started by
//! scripts/test.sh, URL in NLQ_GCS_EMU_URL), and the failures against servers on 127.0.0.1
//! that are closed or answer badly.

use std::sync::Arc;

use nlq_core::{Classify, ErrorClass};
use nlq_metasync::{BearerToken, GcsAuth, MetaStore, MetaSyncError, StoreOptions, open};
use nlq_testkit::replay::{Reply, Server};

/// The emulator's URL, or None (with a note) when the test should be skipped.
fn emulator(test: &str) -> Option<String> {
    let url = nlq_testkit::emulator::gcs();
    if url.is_none() {
        eprintln!("{test} skipped");
    }
    url
}

/// A bucket of its own, so tests never see each other's objects.
async fn fresh_bucket(url: &str, tag: &str) -> String {
    let bucket = format!("nlq-{tag}-{:08x}", rand::random::<u32>());
    let response = reqwest::Client::new()
        .post(format!("{url}/storage/v1/b?project=test"))
        .json(&serde_json::json!({ "name": bucket }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "creating bucket {bucket}: {}",
        response.status()
    );
    bucket
}

fn store(url: &str, location: &str, keep: usize) -> Arc<dyn MetaStore> {
    open(
        location,
        &StoreOptions {
            gcs_endpoint: url.to_owned(),
            keep,
            gcs_auth: GcsAuth::Token(BearerToken::new("ya29.never-shown")),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Writes an object as another program might, bypassing the store.
async fn put_raw(url: &str, bucket: &str, name: &str, body: &str) {
    let response = reqwest::Client::new()
        .post(format!("{url}/upload/storage/v1/b/{bucket}/o"))
        .query(&[("uploadType", "media"), ("name", name)])
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn empty() {
    let Some(url) = emulator("gcs::empty") else {
        return;
    };
    let bucket = fresh_bucket(&url, "empty").await;
    super::check_empty(&*store(&url, &format!("gs://{bucket}/meta"), 10)).await;
}

#[tokio::test]
async fn round_trip() {
    let Some(url) = emulator("gcs::round_trip") else {
        return;
    };
    let bucket = fresh_bucket(&url, "round-trip").await;
    super::check_round_trip(&*store(&url, &format!("gs://{bucket}/prod/ga4"), 10)).await;
    // At the bucket's root too.
    let bucket = fresh_bucket(&url, "root").await;
    let root = store(&url, &format!("gs://{bucket}"), 10);
    assert_eq!(root.location(), format!("gs://{bucket}"));
    super::check_round_trip(&*root).await;
}

#[tokio::test]
async fn keeps_the_newest() {
    let Some(url) = emulator("gcs::keeps_the_newest") else {
        return;
    };
    let bucket = fresh_bucket(&url, "keep").await;
    super::check_keeps_the_newest(&*store(&url, &format!("gs://{bucket}/meta"), 3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers() {
    let Some(url) = emulator("gcs::racing_writers") else {
        return;
    };
    let bucket = fresh_bucket(&url, "race").await;
    let location = format!("gs://{bucket}/meta");
    let writers = [store(&url, &location, 10), store(&url, &location, 10)];
    super::check_racing_writers(writers, store(&url, &location, 10), 40).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reader_racing_a_writer() {
    let Some(url) = emulator("gcs::reader_racing_a_writer") else {
        return;
    };
    let bucket = fresh_bucket(&url, "reader").await;
    let location = format!("gs://{bucket}/meta");
    super::check_reader_racing_a_writer(store(&url, &location, 2), store(&url, &location, 2)).await;
}

#[tokio::test]
async fn a_pointer_to_a_missing_version_is_a_clear_error() {
    let Some(url) = emulator("gcs::dangling_pointer") else {
        return;
    };
    let bucket = fresh_bucket(&url, "dangling").await;
    let store = store(&url, &format!("gs://{bucket}/meta"), 10);
    store.put(b"{}").await.unwrap();
    put_raw(
        &url,
        &bucket,
        "meta/latest",
        "20261122T073700.123456Z-0123456789abcdef\n",
    )
    .await;
    let err = store.latest().await.unwrap_err();
    assert!(
        matches!(err, MetaSyncError::DanglingPointer { .. }),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::User);
    assert!(
        err.to_string()
            .contains(&format!("gs://{bucket}/meta/latest names version")),
        "{err}"
    );

    put_raw(&url, &bucket, "meta/latest", "garbage").await;
    let err = store.latest().await.unwrap_err();
    assert!(matches!(err, MetaSyncError::BadPointer { .. }), "{err}");
}

#[tokio::test]
async fn a_missing_bucket_is_the_users_to_fix() {
    let Some(url) = emulator("gcs::missing_bucket") else {
        return;
    };
    let store = store(&url, "gs://nlq-no-such-bucket/meta", 10);
    for err in [
        store.latest().await.unwrap_err(),
        store.put(b"{}").await.unwrap_err(),
    ] {
        assert!(matches!(err, MetaSyncError::NoSuchBucket { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::User);
        let message = err.to_string();
        assert!(
            message.contains("gs://nlq-no-such-bucket/meta"),
            "{message}"
        );
        assert!(message.contains("check the bucket name and that the credentials can write to it"));
    }
}

/// These need no emulator: the server is closed, or a canned one on 127.0.0.1.

#[tokio::test]
async fn a_store_that_is_down_is_transient_and_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let store = store(&url, "gs://nlq-meta/prod", 10);
    for err in [
        store.latest().await.unwrap_err(),
        store.put(b"{}").await.unwrap_err(),
        store.versions().await.unwrap_err(),
    ] {
        assert!(matches!(err, MetaSyncError::Unreachable { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::Transient);
        let message = err.to_string();
        assert!(message.contains("gs://nlq-meta/prod"), "{message}");
        assert!(!message.contains("ya29"), "{message}");
        assert!(!format!("{err:?}").contains("ya29"));
    }
}

/// Answers every request with `reply` until the test ends (nlq-testkit's replay server).
fn canned(reply: Reply) -> String {
    Server::always(reply).base
}

/// A reply with this status (`"403 Forbidden"`) and body.
fn response(status: &str, body: &str) -> Reply {
    let code = status.split(' ').next().unwrap().parse().unwrap();
    Reply {
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
        ..Reply::json(code, &serde_json::Value::Null)
    }
}

#[tokio::test]
async fn replies_are_classed_by_whose_fault() {
    let cases = [
        (
            response(
                "403 Forbidden",
                r#"{"error":{"code":403,"message":"no access"}}"#,
            ),
            ErrorClass::User,
            "check the bucket name and that the credentials can write to it",
        ),
        (
            response("401 Unauthorized", ""),
            ErrorClass::User,
            "check the bucket name and that the credentials can write to it",
        ),
        (
            response(
                "503 Service Unavailable",
                r#"{"error":{"code":503,"message":"Backend Error"}}"#,
            ),
            ErrorClass::Transient,
            "Backend Error",
        ),
        (
            response("429 Too Many Requests", ""),
            ErrorClass::Transient,
            "try again later",
        ),
        // A download GCS would always send with its generation.
        (
            response("200 OK", "20261122T073700.123456Z-0123456789abcdef"),
            ErrorClass::Bug,
            "x-goog-generation",
        ),
    ];
    for (reply, class, says) in cases {
        let url = canned(reply);
        let err = store(&url, "gs://nlq-meta/prod", 10)
            .latest()
            .await
            .unwrap_err();
        assert_eq!(err.class(), class, "{err}");
        let message = err.to_string();
        assert!(message.contains("gs://nlq-meta/prod"), "{message}");
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("ya29"), "{message}");
    }
}

/// Credentials whose token changes the way Google's are refreshed: each call hands out the
/// next one (the auth library caches a token and replaces it before it expires).
#[derive(Debug)]
struct Rotating {
    issued: std::sync::atomic::AtomicUsize,
}

impl google_cloud_auth::credentials::CredentialsProvider for Rotating {
    async fn headers(
        &self,
        _extensions: http::Extensions,
    ) -> Result<
        google_cloud_auth::credentials::CacheableResource<http::HeaderMap>,
        google_cloud_auth::errors::CredentialsError,
    > {
        let n = self
            .issued
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer token-{n}")).unwrap(),
        );
        Ok(google_cloud_auth::credentials::CacheableResource::New {
            entity_tag: google_cloud_auth::credentials::EntityTag::new(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// What an empty store answers to `versions()`: no pointer (404), then a listing that shows
/// the bucket exists.
fn empty_store() -> [nlq_testkit::replay::Reply; 2] {
    [
        nlq_testkit::replay::Reply::json(
            404,
            &serde_json::json!({"error": {"message": "No such object"}}),
        ),
        nlq_testkit::replay::Reply::json(200, &serde_json::json!({"kind": "storage#objects"})),
    ]
}

fn replay_store(base: &str, auth: GcsAuth) -> Arc<dyn MetaStore> {
    open(
        "gs://nlq-meta/prod",
        &StoreOptions {
            gcs_endpoint: base.to_owned(),
            gcs_auth: auth,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Issue 20: the token was read once, so after an hour every refresh failed and the loader
/// kept serving the old document. Now each request asks the credentials, which refresh.
#[tokio::test]
async fn every_request_carries_the_credentials_current_token() {
    let server = nlq_testkit::replay::Server::start((0..3).flat_map(|_| empty_store()).collect());
    let credentials = google_cloud_auth::credentials::Credentials::from(Rotating {
        issued: std::sync::atomic::AtomicUsize::new(0),
    });
    let store = replay_store(&server.base, GcsAuth::Credentials(credentials));
    for _ in 0..3 {
        assert!(store.versions().await.unwrap().is_empty());
    }
    let tokens: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect();
    // Two requests per read (the pointer, then the listing that shows the bucket exists),
    // each with the token the credentials held at that moment.
    let expected: Vec<String> = (1..=6).map(|n| format!("Bearer token-{n}")).collect();
    assert_eq!(tokens, expected);
    server.verify();
}

/// A 503 or 429 from GCS is asked again; what still fails after the last try is reported as
/// transient, with the status.
#[tokio::test]
async fn transient_replies_are_retried_and_then_reported() {
    use nlq_core::Classify;
    let busy = || {
        nlq_testkit::replay::Reply::json(
            503,
            &serde_json::json!({"error": {"message": "backend busy"}}),
        )
    };
    let slow =
        nlq_testkit::replay::Reply::json(429, &serde_json::json!({"error": {"message": "rate"}}));
    let mut replies = vec![busy(), slow];
    replies.extend(empty_store());
    let server = nlq_testkit::replay::Server::start(replies);
    let store = replay_store(&server.base, GcsAuth::Anonymous);
    assert!(store.versions().await.unwrap().is_empty());
    assert_eq!(server.requests().len(), 4);
    server.verify();

    let server = nlq_testkit::replay::Server::start(vec![busy(), busy(), busy(), busy()]);
    let store = replay_store(&server.base, GcsAuth::Anonymous);
    let err = store.versions().await.unwrap_err();
    assert!(
        matches!(err, MetaSyncError::Unavailable { status: 503, .. }),
        "{err}"
    );
    assert_eq!(err.class(), nlq_core::ErrorClass::Transient);
    assert!(err.to_string().contains("backend busy"), "{err}");
    server.verify();
}
