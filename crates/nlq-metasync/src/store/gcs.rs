//! The store under a GCS bucket prefix, over the JSON API. The compare-and-swap is GCS's own:
//! versions are created with `ifGenerationMatch=0` (only if absent), and the pointer is
//! replaced with `ifGenerationMatch=<generation read before>`; GCS answers 412 to the loser.
//!
//! Uploads are multipart (metadata + bytes) rather than `uploadType=media`: both take the
//! precondition on GCS, but fake-gcs-server, which the tests run, checks it on multipart only;
//! multipart also sets `Cache-Control: no-cache` on the pointer, so no cache serves a stale one.
//!
//! Every request asks its credentials for headers (Google's auth library hands out a cached
//! token and refreshes it before it expires, so a long-running server never serves a stale
//! document for want of a token), and is sent again, up to `ATTEMPTS` times with a growing
//! pause, when the connection fails or GCS answers 408, 429 or 5xx.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Deserialize;

use super::{
    Backend, Location, MetaStore, POINTER, Stored, VERSIONS_DIR, VersionId, VersionInfo, Written,
};
use crate::error::MetaSyncError;

pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";
/// Tries per request, the first included.
const ATTEMPTS: u32 = 4;
/// The pause before the second try; it doubles for each one after.
const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// How requests to GCS authenticate.
#[derive(Debug, Clone, Default)]
pub enum GcsAuth {
    /// No Authorization header: an emulator, or a public bucket.
    #[default]
    Anonymous,
    /// A token the caller keeps fresh (tests, or a token minted elsewhere).
    Token(BearerToken),
    /// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the
    /// metadata server of GCE/GKE/Cloud Run with workload identity), found when the store is
    /// opened and refreshed by Google's auth library.
    ApplicationDefault,
    /// Credentials built elsewhere (a service account key, a custom provider).
    Credentials(google_cloud_auth::credentials::Credentials),
}

/// An OAuth2 access token. Its `Debug` never shows it, and nothing here formats it into a
/// message.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    pub fn new(token: impl Into<String>) -> Self {
        BearerToken(token.into())
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(***)")
    }
}

/// Where and how. Every field but the bucket has a default: the public endpoint, the bucket's
/// root, anonymous, 30 s per request, keep 10.
#[derive(Debug, Clone)]
pub struct GcsConfig {
    /// The JSON API's base URL; `http://127.0.0.1:<port>` for an emulator.
    pub endpoint: String,
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    /// None for an emulator or a public bucket. Tokens expire (an hour for the metadata
    /// server's): a long-lived reader must be rebuilt with a fresh one.
    pub auth: GcsAuth,
    /// Per request.
    pub timeout: Duration,
    /// Versions kept after each put, at least 1.
    pub keep: usize,
}

impl GcsConfig {
    pub fn new(bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        GcsConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            bucket: bucket.into(),
            prefix: prefix.into(),
            auth: GcsAuth::Anonymous,
            timeout: Duration::from_secs(30),
            keep: super::DEFAULT_KEEP,
        }
    }
}

#[derive(Debug, Clone)]
pub struct GcsStore {
    client: reqwest::Client,
    endpoint: Url,
    bucket: String,
    prefix: String,
    auth: Auth,
    location: String,
    keep: usize,
}

/// `GcsAuth` resolved: what each request does for its Authorization header.
#[derive(Debug, Clone)]
enum Auth {
    None,
    Token(BearerToken),
    Google(google_cloud_auth::credentials::Credentials),
}

/// The generation of an object that does not exist, as preconditions spell it.
const ABSENT: i64 = 0;

impl GcsStore {
    pub fn new(config: GcsConfig) -> Result<Self, MetaSyncError> {
        let keep = super::check_keep(config.keep)?;
        let prefix = super::normalize_prefix(&config.prefix).map_err(MetaSyncError::BadOptions)?;
        super::check_bucket(&config.bucket).map_err(MetaSyncError::BadOptions)?;
        let location = Location::Gcs {
            bucket: config.bucket.clone(),
            prefix: prefix.clone(),
        }
        .to_string();
        let endpoint = Url::parse(&config.endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base())
            .ok_or_else(|| {
                MetaSyncError::BadOptions(format!(
                    "the GCS endpoint `{}` is not an http(s) URL such as {DEFAULT_ENDPOINT}",
                    config.endpoint
                ))
            })?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|err| MetaSyncError::Client {
                location: location.clone(),
                detail: chain(&err),
            })?;
        let auth = match config.auth {
            GcsAuth::Anonymous => Auth::None,
            GcsAuth::Token(token) => Auth::Token(token),
            GcsAuth::Credentials(credentials) => Auth::Google(credentials),
            GcsAuth::ApplicationDefault => Auth::Google(
                google_cloud_auth::credentials::Builder::default()
                    .build()
                    .map_err(|err| MetaSyncError::Credentials {
                        location: location.clone(),
                        detail: err.to_string(),
                        transient: false,
                    })?,
            ),
        };
        Ok(GcsStore {
            client,
            endpoint,
            bucket: config.bucket,
            prefix,
            auth,
            location,
            keep,
        })
    }

    fn object_name(&self, relative: &str) -> String {
        if self.prefix.is_empty() {
            relative.to_owned()
        } else {
            format!("{}/{relative}", self.prefix)
        }
    }

    fn version_name(&self, id: &VersionId) -> String {
        self.object_name(&format!("{VERSIONS_DIR}/{}", super::version_file_name(id)))
    }

    /// The endpoint plus `segments`, each percent-encoded whole (an object name's `/` too, as
    /// the API wants).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.endpoint.clone();
        // `new` checked that the endpoint can be a base, so this always applies.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn object_url(&self, name: &str) -> Url {
        self.url(&["storage", "v1", "b", &self.bucket, "o", name])
    }

    /// The request with its Authorization header, fetched now: a token about to expire has
    /// already been replaced by the auth library.
    async fn authorize(&self, request: RequestBuilder) -> Result<RequestBuilder, MetaSyncError> {
        use google_cloud_auth::credentials::CacheableResource;
        match &self.auth {
            Auth::None => Ok(request),
            Auth::Token(token) => Ok(request.bearer_auth(&token.0)),
            Auth::Google(credentials) => match credentials.headers(http::Extensions::new()).await {
                Ok(CacheableResource::New { data, .. }) => Ok(request.headers(data)),
                // Only a caller that sends an entity tag hears "not modified"; this one sends none.
                Ok(CacheableResource::NotModified) => Err(MetaSyncError::Credentials {
                    location: self.location.clone(),
                    detail: "the credentials returned no headers".to_owned(),
                    transient: false,
                }),
                Err(err) => Err(MetaSyncError::Credentials {
                    location: self.location.clone(),
                    detail: err.to_string(),
                    transient: err.is_transient(),
                }),
            },
        }
    }

    /// Sends the request, again after a failed connection or a 408, 429 or 5xx reply (every
    /// request here is safe to repeat: reads, and writes guarded by a generation
    /// precondition). The last reply or error stands.
    async fn send(&self, request: RequestBuilder) -> Result<Response, MetaSyncError> {
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            let Some(this) = request.try_clone() else {
                return Err(MetaSyncError::Client {
                    location: self.location.clone(),
                    detail: "a request with a streamed body cannot be repeated".to_owned(),
                });
            };
            match self.authorize(this).await?.send().await {
                Ok(response) if !last && retryable(response.status()) => {
                    tracing::debug!(status = %response.status(), attempt, "GCS: trying again");
                }
                Ok(response) => return Ok(response),
                Err(err) if !last && (err.is_connect() || err.is_timeout()) => {
                    tracing::debug!(attempt, "GCS: trying again after {}", chain(&err));
                }
                Err(err) => {
                    return Err(MetaSyncError::Unreachable {
                        location: self.location.clone(),
                        detail: chain(&err),
                    });
                }
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        unreachable!("the last attempt always returns")
    }

    async fn body(&self, response: Response) -> Result<Vec<u8>, MetaSyncError> {
        response
            .bytes()
            .await
            .map(|bytes| bytes.to_vec())
            .map_err(|err| MetaSyncError::Unreachable {
                location: self.location.clone(),
                detail: chain(&err),
            })
    }

    /// The error for a reply that is not a success, by whose fault it is.
    async fn failure(&self, response: Response) -> MetaSyncError {
        let status = response.status();
        let detail = error_detail(&response.bytes().await.unwrap_or_default());
        let location = self.location.clone();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => MetaSyncError::AccessDenied {
                location,
                status: status.as_u16(),
            },
            StatusCode::NOT_FOUND => MetaSyncError::NoSuchBucket { location },
            StatusCode::PRECONDITION_FAILED => MetaSyncError::Conflict { location },
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => {
                MetaSyncError::Unavailable {
                    location,
                    status: status.as_u16(),
                    detail,
                }
            }
            _ if status.is_server_error() => MetaSyncError::Unavailable {
                location,
                status: status.as_u16(),
                detail,
            },
            _ => MetaSyncError::Rejected {
                location,
                status: status.as_u16(),
                detail,
            },
        }
    }

    fn bad_reply(&self, detail: impl Into<String>) -> MetaSyncError {
        MetaSyncError::BadReply {
            location: self.location.clone(),
            detail: detail.into(),
        }
    }

    /// Creates or replaces `name` if its generation is still `if_generation` (`ABSENT`: only if
    /// it does not exist).
    async fn upload(
        &self,
        name: &str,
        if_generation: i64,
        content_type: &str,
        cache_control: Option<&str>,
        data: &[u8],
    ) -> Result<(), MetaSyncError> {
        let mut metadata = serde_json::json!({ "name": name, "contentType": content_type });
        if let Some(cache_control) = cache_control {
            metadata["cacheControl"] = cache_control.into();
        }
        let (boundary, body) = multipart_related(&metadata, content_type, data);
        let url = self.url(&["upload", "storage", "v1", "b", &self.bucket, "o"]);
        let request = self
            .client
            .post(url)
            .query(&[
                ("uploadType", "multipart"),
                ("ifGenerationMatch", &if_generation.to_string()),
            ])
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/related; boundary={boundary}"),
            )
            .body(body);
        let response = self.send(request).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.failure(response).await)
        }
    }

    /// The object's bytes and generation, or None when it does not exist.
    async fn download(&self, name: &str) -> Result<Option<(Vec<u8>, i64)>, MetaSyncError> {
        let request = self
            .client
            .get(self.object_url(name))
            .query(&[("alt", "media")]);
        let response = self.send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        let generation = response
            .headers()
            .get("x-goog-generation")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<i64>().ok());
        let bytes = self.body(response).await?;
        let generation =
            generation.ok_or_else(|| self.bad_reply("a download without x-goog-generation"))?;
        Ok(Some((bytes, generation)))
    }

    /// A missing object and a missing bucket both answer 404; only the bucket is an error.
    /// Asked by listing rather than by reading the bucket: readers often hold only
    /// `roles/storage.objectViewer`, which may list objects but not read bucket metadata.
    async fn check_bucket_exists(&self) -> Result<(), MetaSyncError> {
        let pointer = self.object_name(POINTER);
        let request = self
            .client
            .get(self.url(&["storage", "v1", "b", &self.bucket, "o"]))
            .query(&[("prefix", pointer.as_str()), ("maxResults", "1")]);
        let response = self.send(request).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.failure(response).await)
        }
    }
}

/// A `multipart/related` body (JSON metadata, then the bytes) and its boundary, which must not
/// occur in the bytes.
fn multipart_related(
    metadata: &serde_json::Value,
    content_type: &str,
    data: &[u8],
) -> (String, Vec<u8>) {
    let boundary = loop {
        let candidate = format!("nlq-boundary-{:032x}", rand::random::<u128>());
        if !data
            .windows(candidate.len())
            .any(|window| window == candidate.as_bytes())
        {
            break candidate;
        }
    };
    let mut body = Vec::with_capacity(data.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n\
             --{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// GCS's own message when the body is its JSON error, else the start of the body.
fn error_detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Reply {
        error: Error,
    }
    #[derive(Deserialize)]
    struct Error {
        message: String,
    }
    match serde_json::from_slice::<Reply>(body) {
        Ok(reply) => reply.error.message,
        Err(_) => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

/// Replies worth asking again: GCS's own advice for its JSON API.
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// The error and its causes on one line (reqwest says "error sending request" and puts the
/// "connection refused" in its source). Requests carry the token in a header, never in the
/// URL, so nothing here can show it.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectList {
    #[serde(default)]
    items: Vec<ObjectItem>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct ObjectItem {
    name: String,
    /// A decimal string, as the API spells 64-bit numbers.
    size: String,
}

#[async_trait]
impl Backend for GcsStore {
    type Seen = i64;

    fn location(&self) -> String {
        self.location.clone()
    }

    async fn read_pointer(&self) -> Result<(Option<VersionId>, Self::Seen), MetaSyncError> {
        let Some((bytes, generation)) = self.download(&self.object_name(POINTER)).await? else {
            self.check_bucket_exists().await?;
            return Ok((None, ABSENT));
        };
        let text = String::from_utf8_lossy(&bytes);
        let id = VersionId::parse(text.trim()).map_err(|_| MetaSyncError::BadPointer {
            location: self.location.clone(),
            content: text.trim().chars().take(80).collect(),
        })?;
        Ok((Some(id), generation))
    }

    async fn write_version(&self, id: &VersionId, document: &[u8]) -> Result<(), MetaSyncError> {
        self.upload(
            &self.version_name(id),
            ABSENT,
            "application/json",
            None,
            document,
        )
        .await
    }

    async fn swap_pointer(&self, seen: &Self::Seen, id: &VersionId) -> Result<(), MetaSyncError> {
        self.upload(
            &self.object_name(POINTER),
            *seen,
            "text/plain; charset=utf-8",
            Some("no-cache, max-age=0"),
            format!("{id}\n").as_bytes(),
        )
        .await
    }

    async fn read_version(&self, id: &VersionId) -> Result<Option<Vec<u8>>, MetaSyncError> {
        Ok(self
            .download(&self.version_name(id))
            .await?
            .map(|(bytes, _)| bytes))
    }

    async fn list_versions(&self) -> Result<Vec<(VersionId, u64)>, MetaSyncError> {
        let directory = self.object_name(&format!("{VERSIONS_DIR}/"));
        let prefix = format!("{directory}metadata-");
        let mut listed = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut request = self
                .client
                .get(self.url(&["storage", "v1", "b", &self.bucket, "o"]))
                .query(&[
                    ("prefix", prefix.as_str()),
                    ("fields", "items(name,size),nextPageToken"),
                ]);
            if let Some(token) = &page_token {
                request = request.query(&[("pageToken", token.as_str())]);
            }
            let response = self.send(request).await?;
            if !response.status().is_success() {
                return Err(self.failure(response).await);
            }
            let body = self.body(response).await?;
            let page: ObjectList = serde_json::from_slice(&body)
                .map_err(|err| self.bad_reply(format!("an object list that is not JSON: {err}")))?;
            for item in page.items {
                let Some(id) = item
                    .name
                    .strip_prefix(&directory)
                    .and_then(super::parse_version_file_name)
                else {
                    continue;
                };
                let size = item.size.parse::<u64>().map_err(|_| {
                    self.bad_reply(format!("the size `{}` of {}", item.size, item.name))
                })?;
                listed.push((id, size));
            }
            match page.next_page_token {
                Some(token) if !token.is_empty() => page_token = Some(token),
                _ => return Ok(listed),
            }
        }
    }

    async fn delete_version(&self, id: &VersionId) -> Result<(), MetaSyncError> {
        let request = self
            .client
            .request(Method::DELETE, self.object_url(&self.version_name(id)));
        let response = self.send(request).await?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(self.failure(response).await)
        }
    }
}

#[async_trait]
impl MetaStore for GcsStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    async fn put(&self, document: &[u8]) -> Result<Written, MetaSyncError> {
        super::put(self, self.keep, document).await
    }

    async fn latest(&self) -> Result<Option<Stored>, MetaSyncError> {
        super::latest(self).await
    }

    async fn versions(&self) -> Result<Vec<VersionInfo>, MetaSyncError> {
        super::versions(self).await
    }

    async fn get(&self, version: &VersionId) -> Result<Stored, MetaSyncError> {
        super::get(self, version).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcs(endpoint: &str, prefix: &str) -> GcsStore {
        GcsStore::new(GcsConfig {
            endpoint: endpoint.into(),
            ..GcsConfig::new("nlq-meta", prefix)
        })
        .unwrap()
    }

    #[test]
    fn object_names_are_one_encoded_path_segment() {
        let store = gcs("http://127.0.0.1:4443/", "prod/ga4");
        let id = VersionId::parse("20261122T073700.123456Z-0123456789abcdef").unwrap();
        assert_eq!(
            store.object_url(&store.version_name(&id)).as_str(),
            "http://127.0.0.1:4443/storage/v1/b/nlq-meta/o/prod%2Fga4%2Fversions%2Fmetadata-20261122T073700.123456Z-0123456789abcdef.json"
        );
        let root = gcs("https://storage.googleapis.com", "");
        assert_eq!(
            root.object_url(&root.object_name(POINTER)).as_str(),
            "https://storage.googleapis.com/storage/v1/b/nlq-meta/o/latest"
        );
        assert_eq!(root.location, "gs://nlq-meta");
    }

    #[test]
    fn bad_configs_say_what_is_expected() {
        for (endpoint, bucket, expect) in [
            (
                "storage.googleapis.com",
                "nlq-meta",
                "is not an http(s) URL",
            ),
            (
                "https://storage.googleapis.com",
                "",
                "the bucket name is missing",
            ),
        ] {
            let err = GcsStore::new(GcsConfig {
                endpoint: endpoint.into(),
                ..GcsConfig::new(bucket, "")
            })
            .unwrap_err();
            assert!(err.to_string().contains(expect), "{err}");
        }
    }

    #[test]
    fn tokens_never_show() {
        let config = GcsConfig {
            auth: GcsAuth::Token(BearerToken::new("ya29.secret")),
            ..GcsConfig::new("nlq-meta", "p")
        };
        assert!(!format!("{config:?}").contains("ya29"));
        let store = GcsStore::new(config).unwrap();
        assert!(!format!("{store:?}").contains("ya29"));
    }

    #[test]
    fn multipart_bodies_frame_the_bytes() {
        let (boundary, body) = multipart_related(
            &serde_json::json!({"name": "p/latest"}),
            "text/plain",
            b"abc",
        );
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.ends_with(&format!("\r\n\r\nabc\r\n--{boundary}--\r\n")));
        assert!(text.contains(r#"{"name":"p/latest"}"#));
    }

    #[test]
    fn error_details_prefer_the_api_message() {
        assert_eq!(
            error_detail(br#"{"error":{"code":503,"message":"Backend Error"}}"#),
            "Backend Error"
        );
        assert_eq!(error_detail(b"Not Found"), "Not Found");
    }
}
