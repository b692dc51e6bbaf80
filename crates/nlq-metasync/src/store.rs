//! Where metadata documents are kept: the `MetaStore` trait, version ids, and the one
//! algorithm both backends share (write the version, swap the pointer, prune).
//!
//! Layout, the same in a directory and under a GCS prefix:
//!
//! ```text
//!   versions/metadata-20261122T073700.123456Z-0123456789abcdef.json   immutable, one per put
//!   latest                                                            the id of the newest
//! ```
//!
//! A put writes its version whole under a fresh name, then replaces `latest` only if `latest`
//! still holds what the put read before writing (a compare-and-swap: a lock file locally, a
//! generation precondition on GCS). Readers follow `latest`, so they see either the old or the
//! new document, never part of one. Ids sort by time, and each id is later than the one it
//! replaces, so "the newest N" is a sort of names.

pub mod gcs;
pub mod local;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use serde::Serialize;

use crate::error::MetaSyncError;

/// Versions kept after a put when nothing else is configured.
pub const DEFAULT_KEEP: usize = 10;

/// A place that keeps the versions of the metadata document.
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// `dir:/path` or `gs://bucket/prefix`, for logs and `nlq-metasync show`.
    fn location(&self) -> String;
    /// Writes a new version whole and makes it the latest, then prunes to the newest `keep`.
    /// `MetaSyncError::Conflict` when another writer replaced the latest version meanwhile.
    async fn put(&self, document: &[u8]) -> Result<Written, MetaSyncError>;
    /// The latest version, or None when nothing was ever written.
    async fn latest(&self) -> Result<Option<Stored>, MetaSyncError>;
    /// The versions kept, newest first.
    async fn versions(&self) -> Result<Vec<VersionInfo>, MetaSyncError>;
    async fn get(&self, version: &VersionId) -> Result<Stored, MetaSyncError>;
}

/// Names a version: the writer's UTC clock to the microsecond, then 64 random bits, e.g.
/// `20261122T073700.123456Z-0123456789abcdef`. Ids sort as their times do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionId {
    // First, so the derived order is the order of the text.
    text: String,
    written_at: DateTime<Utc>,
}

const STAMP_FORMAT: &str = "%Y%m%dT%H%M%S%.6fZ";

impl VersionId {
    pub fn parse(text: &str) -> Result<VersionId, MetaSyncError> {
        let bad = || MetaSyncError::BadVersionId {
            text: text.chars().take(80).collect(),
        };
        let (stamp, suffix) = text.split_once('-').ok_or_else(bad)?;
        if suffix.len() != 16
            || !suffix
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad());
        }
        let naive = stamp
            .strip_suffix('Z')
            .and_then(|s| NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S%.6f").ok())
            .ok_or_else(bad)?;
        let written_at = naive.and_utc();
        // Only the canonical spelling: the order of names must be the order of times.
        if written_at.format(STAMP_FORMAT).to_string() != stamp {
            return Err(bad());
        }
        Ok(VersionId {
            text: text.to_owned(),
            written_at,
        })
    }

    /// A fresh id at `now`, later than `after` even when this machine's clock is behind the
    /// writer of `after`: the chain of latest versions then always sorts in order.
    pub(crate) fn next(now: DateTime<Utc>, after: Option<&VersionId>) -> VersionId {
        let mut at = now.trunc_subsecs(6);
        if let Some(previous) = after
            && at <= previous.written_at
        {
            at = previous.written_at + TimeDelta::microseconds(1);
        }
        let suffix: u64 = rand::random();
        VersionId {
            text: format!("{}-{suffix:016x}", at.format(STAMP_FORMAT)),
            written_at: at,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn written_at(&self) -> DateTime<Utc> {
        self.written_at
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for VersionId {
    type Err = MetaSyncError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        VersionId::parse(text)
    }
}

impl Serialize for VersionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub id: VersionId,
    /// Bytes of the document.
    pub size: u64,
    /// By the writer's clock (the id's time).
    pub written_at: DateTime<Utc>,
}

impl VersionInfo {
    fn new(id: VersionId, size: u64) -> Self {
        VersionInfo {
            written_at: id.written_at,
            id,
            size,
        }
    }
}

/// One version and its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub info: VersionInfo,
    pub document: Vec<u8>,
}

/// What a successful put did.
#[derive(Debug)]
pub struct Written {
    /// The new latest version.
    pub version: VersionInfo,
    /// Older versions removed to keep the newest N.
    pub pruned: Vec<VersionId>,
    /// Pruning is tidying: the new version is written and named by `latest` whatever this
    /// says, and the next put prunes what this one could not. The caller decides whether to
    /// warn.
    pub prune_error: Option<MetaSyncError>,
}

/// A metadata location: a local directory or a GCS bucket and prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    /// `prefix` has no leading or trailing `/`, and is empty for the bucket's root.
    Gcs {
        bucket: String,
        prefix: String,
    },
}

impl Location {
    /// `gs://bucket/prefix` (or `gs://bucket`), `dir:/path`, or a bare path.
    pub fn parse(text: &str) -> Result<Location, MetaSyncError> {
        let bad = |reason: &str| MetaSyncError::BadLocation {
            location: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.trim().is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some((scheme, rest)) = text.split_once("://") {
            if !scheme.eq_ignore_ascii_case("gs") {
                return Err(bad(&format!("`{scheme}://` is not supported")));
            }
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket(bucket).map_err(|reason| bad(&reason))?;
            let prefix = normalize_prefix(prefix).map_err(|reason| bad(&reason))?;
            return Ok(Location::Gcs {
                bucket: bucket.to_owned(),
                prefix,
            });
        }
        let path = text.strip_prefix("dir:").unwrap_or(text);
        if path.is_empty() {
            return Err(bad("the directory is missing after `dir:`"));
        }
        Ok(Location::Dir(PathBuf::from(path)))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(path) => write!(f, "dir:{}", path.display()),
            Location::Gcs { bucket, prefix } if prefix.is_empty() => write!(f, "gs://{bucket}"),
            Location::Gcs { bucket, prefix } => write!(f, "gs://{bucket}/{prefix}"),
        }
    }
}

/// GCS's naming rules, so a typo fails here with a reason rather than as a 400 later.
pub(crate) fn check_bucket(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("the bucket name is missing".to_owned());
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    let edges_ok = bucket.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && bucket.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=222).contains(&bucket.len()) || !bucket.chars().all(allowed) || !edges_ok {
        return Err(format!(
            "`{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, `-`, `_` and \
             `.`, starting and ending with a letter or digit)"
        ));
    }
    Ok(())
}

pub(crate) fn normalize_prefix(prefix: &str) -> Result<String, String> {
    let trimmed = prefix.trim_matches('/');
    if trimmed.split('/').any(str::is_empty) && !trimmed.is_empty() {
        return Err(format!("the prefix `{prefix}` has an empty segment (`//`)"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("the prefix contains control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Everything `open` needs besides the location. Defaults: keep 10, the public GCS endpoint,
/// anonymous, 30 s per HTTP request, 10 s to wait for a local lock.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Versions kept after each put, at least 1.
    pub keep: usize,
    /// The GCS JSON API, e.g. `http://127.0.0.1:4443` for an emulator.
    pub gcs_endpoint: String,
    /// How GCS requests authenticate (anonymous for an emulator).
    pub gcs_auth: gcs::GcsAuth,
    /// Per GCS request.
    pub timeout: Duration,
    /// How long a local put waits for another writer's pointer swap.
    pub lock_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            keep: DEFAULT_KEEP,
            gcs_endpoint: gcs::DEFAULT_ENDPOINT.to_owned(),
            gcs_auth: gcs::GcsAuth::Anonymous,
            timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// The store at `location` (`gs://bucket/prefix` or a directory). Nothing is read or created
/// until the first call.
pub fn open(location: &str, options: &StoreOptions) -> Result<Arc<dyn MetaStore>, MetaSyncError> {
    Ok(match Location::parse(location)? {
        Location::Dir(dir) => Arc::new(local::LocalStore::new(local::LocalConfig {
            dir,
            keep: options.keep,
            lock_timeout: options.lock_timeout,
        })?),
        Location::Gcs { bucket, prefix } => Arc::new(gcs::GcsStore::new(gcs::GcsConfig {
            endpoint: options.gcs_endpoint.clone(),
            bucket,
            prefix,
            auth: options.gcs_auth.clone(),
            timeout: options.timeout,
            keep: options.keep,
        })?),
    })
}

pub(crate) fn check_keep(keep: usize) -> Result<usize, MetaSyncError> {
    if keep == 0 {
        return Err(MetaSyncError::BadOptions(
            "keep must be at least 1 (the latest version is always kept)".to_owned(),
        ));
    }
    Ok(keep)
}

pub(crate) const VERSIONS_DIR: &str = "versions";
pub(crate) const POINTER: &str = "latest";

pub(crate) fn version_file_name(id: &VersionId) -> String {
    format!("metadata-{id}.json")
}

/// None for anything that is not a version (temporary files, strays).
pub(crate) fn parse_version_file_name(name: &str) -> Option<VersionId> {
    let id = name.strip_prefix("metadata-")?.strip_suffix(".json")?;
    VersionId::parse(id).ok()
}

/// The I/O a backend provides; the algorithm on top is written once, below.
#[async_trait]
pub(crate) trait Backend: Send + Sync {
    /// What the pointer swap compares against: the pointer as read before the put.
    type Seen: Send + Sync;

    fn location(&self) -> String;
    /// The id `latest` names (None when there is no pointer), and what to swap against.
    async fn read_pointer(&self) -> Result<(Option<VersionId>, Self::Seen), MetaSyncError>;
    /// Makes the version visible whole or not at all.
    async fn write_version(&self, id: &VersionId, document: &[u8]) -> Result<(), MetaSyncError>;
    /// Points `latest` at `id` if it is still as `seen`; `MetaSyncError::Conflict` otherwise.
    async fn swap_pointer(&self, seen: &Self::Seen, id: &VersionId) -> Result<(), MetaSyncError>;
    /// None when the version does not exist.
    async fn read_version(&self, id: &VersionId) -> Result<Option<Vec<u8>>, MetaSyncError>;
    /// Every version object with its size, in no particular order.
    async fn list_versions(&self) -> Result<Vec<(VersionId, u64)>, MetaSyncError>;
    /// A version already gone is not an error: two pruners may race.
    async fn delete_version(&self, id: &VersionId) -> Result<(), MetaSyncError>;
}

pub(crate) async fn put<B: Backend>(
    backend: &B,
    keep: usize,
    document: &[u8],
) -> Result<Written, MetaSyncError> {
    let (current, seen) = backend.read_pointer().await?;
    let id = VersionId::next(Utc::now(), current.as_ref());
    backend.write_version(&id, document).await?;
    match backend.swap_pointer(&seen, &id).await {
        Ok(()) => {}
        Err(err) if err.is_conflict() => {
            // Nothing names this version and nothing will; if removing it fails, it is older
            // than the next latest and the next prune removes it.
            let _ = backend.delete_version(&id).await;
            return Err(err);
        }
        // Any other failure may have come after the swap took effect (a reply lost on the
        // way back): the version may be the latest, so it stays.
        Err(err) => return Err(err),
    }
    let (pruned, prune_error) = prune(backend, &id, keep).await;
    Ok(Written {
        version: VersionInfo::new(id, document.len() as u64),
        pruned,
        prune_error,
    })
}

async fn prune<B: Backend>(
    backend: &B,
    latest: &VersionId,
    keep: usize,
) -> (Vec<VersionId>, Option<MetaSyncError>) {
    let listed = match backend.list_versions().await {
        Ok(listed) => listed,
        Err(err) => return (Vec::new(), Some(err)),
    };
    let ids = listed.into_iter().map(|(id, _)| id).collect();
    let mut pruned = Vec::new();
    let mut first_error = None;
    for id in to_prune(ids, latest, keep) {
        match backend.delete_version(&id).await {
            Ok(()) => pruned.push(id),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    (pruned, first_error)
}

/// The versions to delete once `latest` is the latest: all but the newest `keep` of those up to
/// `latest`. Versions after it belong to writers still at work (or to ones that lost and
/// left them); deleting them could pull a version from under a pointer about to name it.
fn to_prune(mut ids: Vec<VersionId>, latest: &VersionId, keep: usize) -> Vec<VersionId> {
    ids.retain(|id| id <= latest);
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.into_iter().skip(keep.max(1)).collect()
}

/// A reader gives up after this many pointers whose version vanished before it could be read.
const READ_ATTEMPTS: u32 = 5;

pub(crate) async fn latest<B: Backend>(backend: &B) -> Result<Option<Stored>, MetaSyncError> {
    let mut missing: Option<VersionId> = None;
    for _ in 0..READ_ATTEMPTS {
        let (current, _) = backend.read_pointer().await?;
        let Some(id) = current else {
            return Ok(None);
        };
        if missing.as_ref() == Some(&id) {
            return Err(MetaSyncError::DanglingPointer {
                location: backend.location(),
                version: id,
            });
        }
        match backend.read_version(&id).await? {
            Some(document) => {
                return Ok(Some(Stored {
                    info: VersionInfo::new(id, document.len() as u64),
                    document,
                }));
            }
            // Pruned after we read the pointer (writers moved on), or never there: the
            // pointer, read again, tells which.
            None => missing = Some(id),
        }
    }
    Err(MetaSyncError::Unsettled {
        location: backend.location(),
        attempts: READ_ATTEMPTS,
    })
}

pub(crate) async fn versions<B: Backend>(backend: &B) -> Result<Vec<VersionInfo>, MetaSyncError> {
    let (current, _) = backend.read_pointer().await?;
    let Some(latest) = current else {
        return Ok(Vec::new());
    };
    let mut kept: Vec<VersionInfo> = backend
        .list_versions()
        .await?
        .into_iter()
        // Later ones are not (yet) committed: see `to_prune`.
        .filter(|(id, _)| *id <= latest)
        .map(|(id, size)| VersionInfo::new(id, size))
        .collect();
    kept.sort_unstable_by(|a, b| b.id.cmp(&a.id));
    Ok(kept)
}

pub(crate) async fn get<B: Backend>(backend: &B, id: &VersionId) -> Result<Stored, MetaSyncError> {
    match backend.read_version(id).await? {
        Some(document) => Ok(Stored {
            info: VersionInfo::new(id.clone(), document.len() as u64),
            document,
        }),
        None => Err(MetaSyncError::NoSuchVersion {
            location: backend.location(),
            version: id.clone(),
        }),
    }
}

/// A `MetaStore` in memory, for tests of code that reads or writes metadata.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug)]
pub struct MemoryStore {
    keep: usize,
    state: std::sync::Mutex<MemoryState>,
}

#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
struct MemoryState {
    pointer: Option<VersionId>,
    versions: std::collections::BTreeMap<VersionId, Vec<u8>>,
}

#[cfg(any(test, feature = "testing"))]
impl MemoryStore {
    pub fn new(keep: usize) -> Self {
        MemoryStore {
            keep: keep.max(1),
            state: std::sync::Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // A panic while holding the lock leaves plain data behind; no invariant can break.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(any(test, feature = "testing"))]
#[async_trait]
impl Backend for MemoryStore {
    type Seen = Option<VersionId>;

    fn location(&self) -> String {
        "memory:".to_owned()
    }

    async fn read_pointer(&self) -> Result<(Option<VersionId>, Self::Seen), MetaSyncError> {
        let pointer = self.state().pointer.clone();
        Ok((pointer.clone(), pointer))
    }

    async fn write_version(&self, id: &VersionId, document: &[u8]) -> Result<(), MetaSyncError> {
        self.state().versions.insert(id.clone(), document.to_vec());
        Ok(())
    }

    async fn swap_pointer(&self, seen: &Self::Seen, id: &VersionId) -> Result<(), MetaSyncError> {
        let mut state = self.state();
        if state.pointer != *seen {
            return Err(MetaSyncError::Conflict {
                location: Backend::location(self),
            });
        }
        state.pointer = Some(id.clone());
        Ok(())
    }

    async fn read_version(&self, id: &VersionId) -> Result<Option<Vec<u8>>, MetaSyncError> {
        Ok(self.state().versions.get(id).cloned())
    }

    async fn list_versions(&self) -> Result<Vec<(VersionId, u64)>, MetaSyncError> {
        Ok(self
            .state()
            .versions
            .iter()
            .map(|(id, doc)| (id.clone(), doc.len() as u64))
            .collect())
    }

    async fn delete_version(&self, id: &VersionId) -> Result<(), MetaSyncError> {
        self.state().versions.remove(id);
        Ok(())
    }
}

#[cfg(any(test, feature = "testing"))]
#[async_trait]
impl MetaStore for MemoryStore {
    fn location(&self) -> String {
        Backend::location(self)
    }

    async fn put(&self, document: &[u8]) -> Result<Written, MetaSyncError> {
        put(self, self.keep, document).await
    }

    async fn latest(&self) -> Result<Option<Stored>, MetaSyncError> {
        latest(self).await
    }

    async fn versions(&self) -> Result<Vec<VersionInfo>, MetaSyncError> {
        versions(self).await
    }

    async fn get(&self, version: &VersionId) -> Result<Stored, MetaSyncError> {
        get(self, version).await
    }
}

#[cfg(test)]
mod tests {
    use nlq_core::{Classify, ErrorClass};

    use super::*;

    fn check_location(text: &str, expect: Result<&str, &str>) {
        match (Location::parse(text), expect) {
            (Ok(location), Ok(shown)) => assert_eq!(location.to_string(), shown, "{text}"),
            (Err(err), Err(reason)) => {
                assert_eq!(err.class(), ErrorClass::User, "{text}");
                let message = err.to_string();
                assert!(message.contains(reason), "{text}: {message}");
                assert!(
                    message.contains("expected `gs://<bucket>/<prefix>` or a directory path"),
                    "{text}: {message}"
                );
            }
            (got, expect) => panic!("{text}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn locations() {
        check_location("gs://nlq-meta/prod/ga4", Ok("gs://nlq-meta/prod/ga4"));
        check_location("gs://nlq-meta/prod/", Ok("gs://nlq-meta/prod"));
        check_location("gs://nlq-meta", Ok("gs://nlq-meta"));
        check_location("gs://nlq-meta/", Ok("gs://nlq-meta"));
        check_location("GS://nlq-meta/x", Ok("gs://nlq-meta/x"));
        check_location("/var/lib/nlq/meta", Ok("dir:/var/lib/nlq/meta"));
        check_location("dir:meta", Ok("dir:meta"));
        check_location("gs://", Err("the bucket name is missing"));
        check_location("gs:///prefix", Err("the bucket name is missing"));
        check_location("s3://x", Err("`s3://` is not supported"));
        check_location(
            "gs://Bad_Bucket/x",
            Err("`Bad_Bucket` is not a bucket name"),
        );
        check_location("gs://ab/x", Err("`ab` is not a bucket name"));
        check_location("gs://bucket/a//b", Err("empty segment"));
        check_location("", Err("it is empty"));
        check_location("dir:", Err("the directory is missing"));
        assert_eq!(
            Location::parse("gs://b-1/p/q").unwrap(),
            Location::Gcs {
                bucket: "b-1".into(),
                prefix: "p/q".into()
            }
        );
    }

    #[test]
    fn version_ids_round_trip_and_sort_by_time() {
        let id = VersionId::parse("20261122T073700.123456Z-0123456789abcdef").unwrap();
        assert_eq!(id.to_string(), "20261122T073700.123456Z-0123456789abcdef");
        assert_eq!(
            id.written_at().to_rfc3339(),
            "2026-11-22T07:37:00.123456+00:00"
        );
        let earlier = VersionId::parse("20261122T073659.999999Z-ffffffffffffffff").unwrap();
        assert!(earlier < id);
        assert_eq!(
            parse_version_file_name(&version_file_name(&id)),
            Some(id.clone())
        );
        assert_eq!(parse_version_file_name(".metadata-x.json.tmp"), None);
        for bad in [
            "",
            "20261122T073700.123456Z",
            "20261122T073700.123Z-0123456789abcdef",
            "20261122T073700.123456Z-0123456789ABCDEF",
            "20261122T073700.123456Z-0123",
            "20261322T073700.123456Z-0123456789abcdef",
            "../../etc/passwd",
        ] {
            let err = VersionId::parse(bad).unwrap_err();
            assert_eq!(err.class(), ErrorClass::User, "{bad}");
            assert!(err.to_string().contains("is not a version id"), "{bad}");
        }
    }

    #[test]
    fn next_ids_follow_the_previous_even_when_the_clock_is_behind() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T07:37:00.123456789Z")
            .unwrap()
            .to_utc();
        let first = VersionId::next(now, None);
        assert!(first.as_str().starts_with("20261122T073700.123456Z-"));
        assert_eq!(VersionId::parse(first.as_str()).unwrap(), first);
        let second = VersionId::next(now, Some(&first));
        assert!(second > first);
        assert!(second.as_str().starts_with("20261122T073700.123457Z-"));
        let behind = VersionId::next(now - TimeDelta::hours(1), Some(&second));
        assert!(behind > second);
    }

    #[test]
    fn pruning_keeps_the_newest_committed_and_leaves_later_ones() {
        let ids: Vec<VersionId> = (0..6)
            .map(|i| {
                VersionId::parse(&format!("2026112{i}T000000.000000Z-000000000000000{i}")).unwrap()
            })
            .collect();
        let latest = &ids[4];
        let pruned = to_prune(ids.clone(), latest, 2);
        // ids[5] is newer than the latest: a writer at work.
        assert_eq!(pruned, vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]);
        assert!(to_prune(ids.clone(), latest, 10).is_empty());
    }

    /// A backend that lets another writer finish a whole put while this one writes its version.
    struct Racing(MemoryStore);

    #[async_trait]
    impl Backend for Racing {
        type Seen = Option<VersionId>;

        fn location(&self) -> String {
            Backend::location(&self.0)
        }
        async fn read_pointer(&self) -> Result<(Option<VersionId>, Self::Seen), MetaSyncError> {
            self.0.read_pointer().await
        }
        async fn write_version(
            &self,
            id: &VersionId,
            document: &[u8],
        ) -> Result<(), MetaSyncError> {
            put(&self.0, 10, b"the other writer").await?;
            self.0.write_version(id, document).await
        }
        async fn swap_pointer(
            &self,
            seen: &Self::Seen,
            id: &VersionId,
        ) -> Result<(), MetaSyncError> {
            self.0.swap_pointer(seen, id).await
        }
        async fn read_version(&self, id: &VersionId) -> Result<Option<Vec<u8>>, MetaSyncError> {
            self.0.read_version(id).await
        }
        async fn list_versions(&self) -> Result<Vec<(VersionId, u64)>, MetaSyncError> {
            self.0.list_versions().await
        }
        async fn delete_version(&self, id: &VersionId) -> Result<(), MetaSyncError> {
            self.0.delete_version(id).await
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn the_writer_that_loses_the_swap_gets_a_conflict_and_leaves_nothing() {
        block_on(async {
            let racing = Racing(MemoryStore::new(10));
            let err = put(&racing, 10, b"mine").await.unwrap_err();
            assert!(err.is_conflict(), "{err}");
            assert_eq!(err.class(), ErrorClass::Transient);
            let latest = latest(&racing.0).await.unwrap().unwrap();
            assert_eq!(latest.document, b"the other writer");
            // The loser's version was removed, not left as an orphan.
            assert_eq!(racing.0.list_versions().await.unwrap().len(), 1);
        });
    }

    #[test]
    fn a_pointer_to_a_missing_version_is_reported() {
        block_on(async {
            let store = MemoryStore::new(3);
            let written = MetaStore::put(&store, b"{}").await.unwrap();
            store.delete_version(&written.version.id).await.unwrap();
            let err = MetaStore::latest(&store).await.unwrap_err();
            assert!(
                matches!(err, MetaSyncError::DanglingPointer { .. }),
                "{err}"
            );
            assert_eq!(err.class(), ErrorClass::User);
            // A new put repairs the store.
            MetaStore::put(&store, b"{\"v\":2}").await.unwrap();
            let latest = MetaStore::latest(&store).await.unwrap().unwrap();
            assert_eq!(latest.document, b"{\"v\":2}");
        });
    }

    #[test]
    fn puts_prune_to_keep() {
        block_on(async {
            let store = MemoryStore::new(2);
            let mut ids = Vec::new();
            for i in 0..4 {
                let written = MetaStore::put(&store, format!("{i}").as_bytes())
                    .await
                    .unwrap();
                assert!(written.prune_error.is_none());
                ids.push(written.version.id);
            }
            let kept: Vec<VersionId> = MetaStore::versions(&store)
                .await
                .unwrap()
                .into_iter()
                .map(|v| v.id)
                .collect();
            assert_eq!(kept, vec![ids[3].clone(), ids[2].clone()]);
            let err = MetaStore::get(&store, &ids[0]).await.unwrap_err();
            assert!(matches!(err, MetaSyncError::NoSuchVersion { .. }), "{err}");
        });
    }
}
