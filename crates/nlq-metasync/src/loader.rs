//! How the server and the CLI read the metadata document: loaded on first use, checked for a
//! new version once the loaded one is older than a TTL, and kept in use (with a warning) when
//! the store is down or its newest document is unusable, so a bad run of the job or a GCS
//! outage never takes the metadata away from a running server.
//!
//! ```text
//!   current() ─ fresh? ──yes──► snapshot (+ expiry warning)
//!                 │ no
//!                 ▼
//!   one task checks the store (the others keep the snapshot meanwhile)
//!     versions(): newest id unchanged ──► keep
//!     changed ──► latest() ─► from_json ─ ok ──► new snapshot
//!                                       └ err ─► keep the old one, warn (error if none)
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::document::MetadataDocument;
use crate::error::MetaSyncError;
use crate::store::{MetaStore, VersionId};

/// Where the loader gets the time, so tests move it instead of sleeping.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(Utc::now))
    }

    pub fn new(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Clock(Arc::new(now))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Defaults: check for a new version hourly, retry a failed check after a minute, warn when
/// the document is more than a day old, the system clock.
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    /// A loaded document is used this long before the store is asked for a newer one.
    pub ttl: Duration,
    /// After a failed check, the next one waits this long rather than the whole TTL, so a
    /// short outage does not pin an old version for an hour.
    pub retry: Duration,
    /// A document generated longer ago than this is served with a warning: the job that
    /// writes it has probably stopped.
    pub expiry_warning: Duration,
    pub clock: Clock,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            ttl: Duration::from_secs(60 * 60),
            retry: Duration::from_secs(60),
            expiry_warning: Duration::from_secs(24 * 60 * 60),
            clock: Clock::system(),
        }
    }
}

/// The document in use and what the caller should know about it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub document: Arc<MetadataDocument>,
    pub version: VersionId,
    /// When this version was read from the store.
    pub loaded_at: DateTime<Utc>,
    /// Why this may not be the newest document, or why it may be out of date; empty when all
    /// is well.
    pub warnings: Vec<String>,
}

/// Reads the document from a `MetaStore` and keeps the last good one. Shared by every task
/// of a server (`Arc<MetadataLoader>`); one task at a time talks to the store.
pub struct MetadataLoader {
    store: Arc<dyn MetaStore>,
    config: LoaderConfig,
    // Held only for reads and writes of plain data, never across an await.
    state: Mutex<State>,
    // Held across the store calls of a check: the one task checking, while the others are
    // served the snapshot they already have.
    checking: tokio::sync::Mutex<()>,
    /// Checks of the store that failed, since start (a metric).
    failed_checks: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct State {
    good: Option<Good>,
    /// When the store should next be asked; None until the first check.
    due: Option<DateTime<Utc>>,
    /// What the last check could not do; None once a check succeeds.
    problem: Option<String>,
    /// The newest version when it was found unusable, and why, so the next checks need not
    /// read it again while it stays the newest.
    rejected: Option<(VersionId, String)>,
}

#[derive(Clone)]
struct Good {
    document: Arc<MetadataDocument>,
    version: VersionId,
    loaded_at: DateTime<Utc>,
}

/// What a check of the store found.
enum Checked {
    /// The loaded version is still the newest.
    Unchanged,
    Loaded(Good),
    /// The newest version cannot be used.
    Rejected {
        version: VersionId,
        reason: String,
    },
    /// The store holds no document at all.
    Empty,
}

impl MetadataLoader {
    pub fn new(store: Arc<dyn MetaStore>, config: LoaderConfig) -> Self {
        MetadataLoader {
            store,
            config,
            state: Mutex::new(State::default()),
            checking: tokio::sync::Mutex::new(()),
            failed_checks: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The store this loader reads, e.g. `gs://bucket/prefix`.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// The document to use now. Loads it on first use and checks for a newer version once the
    /// TTL has passed. An error only when there is no good document to fall back on.
    pub async fn current(&self) -> Result<Snapshot, MetaSyncError> {
        if let Some(snapshot) = self.fresh() {
            return Ok(snapshot);
        }
        let gate = match self.checking.try_lock() {
            Ok(gate) => gate,
            Err(_) => {
                // Another task is asking the store: the old document is good enough until it
                // has an answer, and a caller with nothing at all waits for that answer.
                let now = self.config.clock.now();
                if let Some(snapshot) = self.state().snapshot(now, &self.config) {
                    return Ok(snapshot);
                }
                self.checking.lock().await
            }
        };
        // The task that held the gate may have just loaded what this one came for.
        if let Some(snapshot) = self.fresh() {
            return Ok(snapshot);
        }
        let result = self.check().await;
        drop(gate);
        result
    }

    /// Asks the store now, whatever the TTL says (after `nlq-metasync run`, or on an admin's
    /// request). Same fallback as `current`.
    pub async fn refresh(&self) -> Result<Snapshot, MetaSyncError> {
        let _gate = self.checking.lock().await;
        self.check().await
    }

    /// How many checks of the store have failed since the loader was made.
    pub fn failed_checks(&self) -> u64 {
        self.failed_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The document's age now, without asking the store; None before the first load.
    pub fn age(&self) -> Option<TimeDelta> {
        let now = self.config.clock.now();
        let state = self.state();
        state.good.as_ref().map(|good| good.document.age(now))
    }

    /// The snapshot when it is loaded and not yet due for a check.
    fn fresh(&self) -> Option<Snapshot> {
        let now = self.config.clock.now();
        let state = self.state();
        match state.due {
            Some(due) if now < due => state.snapshot(now, &self.config),
            _ => None,
        }
    }

    /// One check of the store; the caller holds `checking`.
    async fn check(&self) -> Result<Snapshot, MetaSyncError> {
        let (loaded, rejected) = {
            let state = self.state();
            (
                state.good.as_ref().map(|good| good.version.clone()),
                state.rejected.as_ref().map(|(version, _)| version.clone()),
            )
        };
        let checked = self.ask_store(loaded.as_ref(), rejected.as_ref()).await;
        let now = self.config.clock.now();
        let mut state = self.state();
        let failure = match checked {
            Ok(Checked::Unchanged) => None,
            Ok(Checked::Loaded(good)) => {
                state.good = Some(good);
                state.rejected = None;
                None
            }
            Ok(Checked::Rejected { version, reason }) => {
                state.rejected = Some((version.clone(), reason.clone()));
                Some(MetaSyncError::BadDocument {
                    location: self.store.location(),
                    version: version.to_string(),
                    reason,
                })
            }
            Ok(Checked::Empty) => Some(MetaSyncError::NoData(format!(
                "{} holds no metadata document: run `nlq-metasync run` to write one",
                self.store.location()
            ))),
            Err(err) => Some(err),
        };
        let wait = match failure {
            None => {
                state.problem = None;
                self.config.ttl
            }
            Some(err) => {
                self.failed_checks
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // Said when it happens, not only when the document has grown old.
                tracing::warn!(
                    store = self.store.location(),
                    "checking the metadata store failed: {err}"
                );
                if state.good.is_none() {
                    // Nothing to serve: the next caller asks the store again right away.
                    state.due = None;
                    return Err(err);
                }
                state.problem = Some(err.to_string());
                self.config.retry
            }
        };
        state.due = Some(later(now, wait));
        state
            .snapshot(now, &self.config)
            .ok_or_else(|| MetaSyncError::NoData("no metadata document is loaded".to_owned()))
    }

    async fn ask_store(
        &self,
        loaded: Option<&VersionId>,
        rejected: Option<&VersionId>,
    ) -> Result<Checked, MetaSyncError> {
        // The cheap question first, when there is something to compare: the newest id, without
        // downloading (and parsing) a document that has not changed.
        if loaded.is_some() {
            let newest = self.store.versions().await?.into_iter().next();
            if let Some(newest) = newest {
                if Some(&newest.id) == loaded {
                    return Ok(Checked::Unchanged);
                }
                if let Some((_, reason)) = self.still_rejected(&newest.id, rejected) {
                    return Ok(Checked::Rejected {
                        version: newest.id,
                        reason,
                    });
                }
            }
        }
        // `latest` follows the pointer even when writers prune under it, which a `get` of the
        // id just listed would not.
        let Some(stored) = self.store.latest().await? else {
            return Ok(Checked::Empty);
        };
        let version = stored.info.id;
        if Some(&version) == loaded {
            return Ok(Checked::Unchanged);
        }
        match MetadataDocument::from_json(&stored.document) {
            Ok(document) => Ok(Checked::Loaded(Good {
                document: Arc::new(document),
                version,
                loaded_at: self.config.clock.now(),
            })),
            Err(reason) => Ok(Checked::Rejected { version, reason }),
        }
    }

    fn still_rejected(
        &self,
        newest: &VersionId,
        rejected: Option<&VersionId>,
    ) -> Option<(VersionId, String)> {
        if Some(newest) != rejected {
            return None;
        }
        self.state().rejected.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Plain data, replaced whole: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn snapshot(&self, now: DateTime<Utc>, config: &LoaderConfig) -> Option<Snapshot> {
        let good = self.good.as_ref()?;
        let age = good.document.age(now);
        let mut warnings = Vec::new();
        if let Some(problem) = &self.problem {
            warnings.push(format!(
                "{problem}; still using the last good metadata, version {} (generated {} ago)",
                good.version,
                span(age)
            ));
        }
        if age > TimeDelta::from_std(config.expiry_warning).unwrap_or(TimeDelta::MAX) {
            warnings.push(format!(
                "the metadata is {} old; is nlq-metasync running?",
                span(age)
            ));
        }
        Some(Snapshot {
            document: good.document.clone(),
            version: good.version.clone(),
            loaded_at: good.loaded_at,
            warnings,
        })
    }
}

fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(wait)
        .ok()
        .and_then(|wait| now.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `45 minutes`, `30 hours`: hours past two, because an operator reads ages against a daily
/// schedule.
fn span(age: TimeDelta) -> String {
    let minutes = age.num_minutes().max(0);
    match minutes {
        1 => "1 minute".to_owned(),
        0..120 => format!("{minutes} minutes"),
        _ => format!("{} hours", minutes / 60),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

    use async_trait::async_trait;
    use chrono::NaiveDate;
    use nlq_core::{Classify, ErrorClass};

    use super::*;
    use crate::document::{FORMAT_VERSION, ParamCatalog, Registry, Source};
    use crate::store::{MemoryStore, Stored, VersionInfo, Written};

    const T0: &str = "2026-11-22T07:00:00Z";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn document(generated_at: &str, last_shard: &str) -> MetadataDocument {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y%m%d").unwrap();
        let last = day(last_shard);
        MetadataDocument {
            format_version: FORMAT_VERSION,
            generated_at: at(generated_at),
            source: Source {
                warehouse: "embedded".into(),
                project: "p".into(),
                dataset: "d".into(),
            },
            registry: Registry {
                shards: vec!["events_20210101".into(), format!("events_{last_shard}")],
                first_day: Some(day("20210101")),
                last_day: Some(last),
                as_of: last.succ_opt(),
                ..Registry::default()
            },
            schema: vec![],
            catalog: ParamCatalog::default(),
            examples: vec![],
            insights: vec![],
            vocabulary: vec![],
        }
    }

    /// A `MemoryStore` that can be taken down, counts what it is asked, and yields at every
    /// call so concurrent callers really interleave.
    struct Flaky {
        inner: MemoryStore,
        down: AtomicBool,
        lists: AtomicUsize,
        reads: AtomicUsize,
    }

    impl Flaky {
        fn new() -> Arc<Self> {
            Arc::new(Flaky {
                inner: MemoryStore::new(10),
                down: AtomicBool::new(false),
                lists: AtomicUsize::new(0),
                reads: AtomicUsize::new(0),
            })
        }

        async fn reachable(&self) -> Result<(), MetaSyncError> {
            tokio::task::yield_now().await;
            if self.down.load(Ordering::SeqCst) {
                return Err(MetaSyncError::Unreachable {
                    location: "memory:".into(),
                    detail: "connection refused".into(),
                });
            }
            Ok(())
        }

        async fn write(&self, bytes: &[u8]) -> VersionId {
            self.inner.put(bytes).await.unwrap().version.id
        }
    }

    #[async_trait]
    impl MetaStore for Flaky {
        fn location(&self) -> String {
            self.inner.location()
        }
        async fn put(&self, document: &[u8]) -> Result<Written, MetaSyncError> {
            self.reachable().await?;
            self.inner.put(document).await
        }
        async fn latest(&self) -> Result<Option<Stored>, MetaSyncError> {
            self.reachable().await?;
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.inner.latest().await
        }
        async fn versions(&self) -> Result<Vec<VersionInfo>, MetaSyncError> {
            self.reachable().await?;
            self.lists.fetch_add(1, Ordering::SeqCst);
            self.inner.versions().await
        }
        async fn get(&self, version: &VersionId) -> Result<Stored, MetaSyncError> {
            self.reachable().await?;
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.inner.get(version).await
        }
    }

    /// A clock the test moves by hand.
    struct Hands(Arc<AtomicI64>);

    impl Hands {
        fn advance(&self, minutes: i64) {
            self.0.fetch_add(minutes * 60, Ordering::SeqCst);
        }
    }

    fn loader(store: &Arc<Flaky>, start: &str) -> (MetadataLoader, Hands) {
        let start = at(start).timestamp();
        let seconds = Arc::new(AtomicI64::new(start));
        let read = seconds.clone();
        let clock = Clock::new(move || {
            DateTime::from_timestamp(read.load(Ordering::SeqCst), 0).unwrap_or_default()
        });
        let config = LoaderConfig {
            clock,
            ..LoaderConfig::default()
        };
        (MetadataLoader::new(store.clone(), config), Hands(seconds))
    }

    #[tokio::test]
    async fn the_first_call_loads_the_latest_version() {
        let store = Flaky::new();
        store.write(&document(T0, "20210131").to_json()).await;
        let newest = document(T0, "20210201");
        let id = store.write(&newest.to_json()).await;
        let (loader, _) = loader(&store, "2026-11-22T08:00:00Z");

        let snapshot = loader.current().await.unwrap();
        assert_eq!(snapshot.version, id);
        assert_eq!(*snapshot.document, newest);
        assert_eq!(snapshot.loaded_at, at("2026-11-22T08:00:00Z"));
        assert!(snapshot.warnings.is_empty(), "{:?}", snapshot.warnings);
        // Within the TTL the store is not asked again.
        loader.current().await.unwrap();
        assert_eq!(store.reads.load(Ordering::SeqCst), 1);
        assert_eq!(store.lists.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn after_the_ttl_a_new_version_is_picked_up_and_an_unchanged_one_not_reread() {
        let store = Flaky::new();
        let first = store.write(&document(T0, "20210131").to_json()).await;
        let (loader, clock) = loader(&store, T0);
        assert_eq!(loader.current().await.unwrap().version, first);

        let second = store.write(&document(T0, "20210201").to_json()).await;
        clock.advance(59);
        assert_eq!(loader.current().await.unwrap().version, first);
        clock.advance(2);
        let snapshot = loader.current().await.unwrap();
        assert_eq!(snapshot.version, second);
        assert_eq!(snapshot.loaded_at, at("2026-11-22T08:01:00Z"));
        assert_eq!(store.reads.load(Ordering::SeqCst), 2);

        // Nothing new: one listing, no download.
        clock.advance(61);
        assert_eq!(loader.current().await.unwrap().version, second);
        assert_eq!(store.reads.load(Ordering::SeqCst), 2);
        assert_eq!(store.lists.load(Ordering::SeqCst), 2);

        // `refresh` does not wait for the TTL.
        let third = store.write(&document(T0, "20210202").to_json()).await;
        assert_eq!(loader.refresh().await.unwrap().version, third);
    }

    #[tokio::test]
    async fn a_store_that_is_down_leaves_the_last_good_version_in_use() {
        let store = Flaky::new();
        let good = store.write(&document(T0, "20210131").to_json()).await;
        let (loader, clock) = loader(&store, T0);
        loader.current().await.unwrap();

        store.down.store(true, Ordering::SeqCst);
        clock.advance(3 * 60);
        let snapshot = loader.current().await.unwrap();
        assert_eq!(snapshot.version, good);
        let [warning] = snapshot.warnings.as_slice() else {
            panic!("{:?}", snapshot.warnings);
        };
        assert!(
            warning.contains("cannot reach GCS for memory:"),
            "{warning}"
        );
        assert!(
            warning.contains(&format!(
                "still using the last good metadata, version {good} (generated 3 hours ago)"
            )),
            "{warning}"
        );

        // Back up: the next check, a retry interval later, clears the warning.
        store.down.store(false, Ordering::SeqCst);
        clock.advance(2);
        let snapshot = loader.current().await.unwrap();
        assert_eq!(snapshot.version, good);
        assert!(snapshot.warnings.is_empty(), "{:?}", snapshot.warnings);
    }

    #[tokio::test]
    async fn a_corrupt_newest_document_is_rejected_and_the_previous_stays() {
        let store = Flaky::new();
        let good = store.write(&document(T0, "20210131").to_json()).await;
        let (loader, clock) = loader(&store, T0);
        loader.current().await.unwrap();

        let bad = store.write(b"{\"format_version\": 1, \"gen").await;
        let snapshot = loader.refresh().await.unwrap();
        assert_eq!(snapshot.version, good);
        let [warning] = snapshot.warnings.as_slice() else {
            panic!("{:?}", snapshot.warnings);
        };
        assert!(
            warning.starts_with(&format!(
                "the metadata document {bad} in memory: is unusable: it is not JSON"
            )),
            "{warning}"
        );
        assert!(warning.contains(&format!("version {good}")), "{warning}");

        // While it stays the newest it is not downloaded again, and the warning stays.
        let reads = store.reads.load(Ordering::SeqCst);
        clock.advance(2);
        let snapshot = loader.current().await.unwrap();
        assert_eq!(snapshot.version, good);
        assert_eq!(snapshot.warnings.len(), 1);
        assert_eq!(store.reads.load(Ordering::SeqCst), reads);

        // A good run of the job repairs it.
        let fixed = store.write(&document(T0, "20210201").to_json()).await;
        clock.advance(2);
        let snapshot = loader.current().await.unwrap();
        assert_eq!(snapshot.version, fixed);
        assert!(snapshot.warnings.is_empty(), "{:?}", snapshot.warnings);
    }

    #[tokio::test]
    async fn without_a_previous_version_a_bad_or_missing_document_is_an_error() {
        let store = Flaky::new();
        let (loader, _) = loader(&store, T0);
        let err = loader.current().await.unwrap_err();
        assert!(matches!(err, MetaSyncError::NoData(_)), "{err}");
        assert!(err.to_string().contains("nlq-metasync run"), "{err}");

        let mut newer = serde_json::to_value(document(T0, "20210131")).unwrap();
        newer["format_version"] = (crate::document::FORMAT_VERSION + 1).into();
        let bad = store.write(newer.to_string().as_bytes()).await;
        let err = loader.current().await.unwrap_err();
        assert!(matches!(err, MetaSyncError::BadDocument { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::User);
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "{bad} in memory: is unusable: it has format version 3"
            )),
            "{message}"
        );

        store.down.store(true, Ordering::SeqCst);
        let err = loader.current().await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Transient, "{err}");

        // Each failure is retried at the next call: there is nothing to serve meanwhile.
        store.down.store(false, Ordering::SeqCst);
        let good = store.write(&document(T0, "20210131").to_json()).await;
        assert_eq!(loader.current().await.unwrap().version, good);
    }

    #[tokio::test]
    async fn a_document_older_than_a_day_comes_with_a_warning() {
        let store = Flaky::new();
        store.write(&document(T0, "20210131").to_json()).await;
        let (loader, clock) = loader(&store, "2026-11-23T05:00:00Z");
        assert!(loader.current().await.unwrap().warnings.is_empty());
        clock.advance(90);
        assert!(loader.current().await.unwrap().warnings.is_empty());
        assert_eq!(store.lists.load(Ordering::SeqCst), 1);
        // Between checks too: the age is measured at every call.
        clock.advance(45);
        assert_eq!(
            loader.current().await.unwrap().warnings,
            ["the metadata is 24 hours old; is nlq-metasync running?"]
        );
        assert_eq!(store.lists.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_load() {
        let store = Flaky::new();
        let id = store.write(&document(T0, "20210131").to_json()).await;
        let (loader, clock) = loader(&store, T0);
        let loader = Arc::new(loader);
        let calls = |loader: &Arc<MetadataLoader>| {
            (0..16)
                .map(|_| {
                    let loader = loader.clone();
                    tokio::spawn(async move { loader.current().await })
                })
                .collect::<Vec<_>>()
        };
        for call in calls(&loader) {
            assert_eq!(call.await.unwrap().unwrap().version, id);
        }
        assert_eq!(store.reads.load(Ordering::SeqCst), 1);

        clock.advance(61);
        for call in calls(&loader) {
            assert_eq!(call.await.unwrap().unwrap().version, id);
        }
        assert_eq!(store.lists.load(Ordering::SeqCst), 1);
        assert_eq!(store.reads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn spans_read_as_an_operator_would_say_them() {
        assert_eq!(span(TimeDelta::minutes(1)), "1 minute");
        assert_eq!(span(TimeDelta::minutes(45)), "45 minutes");
        assert_eq!(span(TimeDelta::minutes(119)), "119 minutes");
        assert_eq!(span(TimeDelta::hours(30)), "30 hours");
        assert_eq!(span(TimeDelta::minutes(-5)), "0 minutes");
    }
}
