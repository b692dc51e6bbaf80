//! The store in a local directory, for one machine (a developer's, or a server with its own
//! disk): versions and the pointer are files, written beside their final name and renamed into
//! place, so a reader opens either the old file or the new one, never one being written.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{
    Backend, Location, MetaStore, POINTER, Stored, VERSIONS_DIR, VersionId, VersionInfo, Written,
};
use crate::error::MetaSyncError;

/// Where and how. Defaults: keep 10, wait up to 10 s for another writer's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// Created on the first put.
    pub dir: PathBuf,
    /// Versions kept after each put, at least 1.
    pub keep: usize,
    /// How long a put waits while another writer swaps the pointer (a few milliseconds each).
    pub lock_timeout: Duration,
}

impl LocalConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalConfig {
            dir: dir.into(),
            keep: super::DEFAULT_KEEP,
            lock_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: Dir,
    keep: usize,
}

/// What a blocking task needs, cheap to move into one.
#[derive(Debug, Clone)]
struct Dir {
    root: PathBuf,
    location: String,
    lock_timeout: Duration,
}

impl LocalStore {
    pub fn new(config: LocalConfig) -> Result<Self, MetaSyncError> {
        let keep = super::check_keep(config.keep)?;
        Ok(LocalStore {
            dir: Dir {
                location: Location::Dir(config.dir.clone()).to_string(),
                root: config.dir,
                lock_timeout: config.lock_timeout,
            },
            keep,
        })
    }

    /// File system calls block; they run on tokio's blocking pool, off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        task: impl FnOnce(Dir) -> Result<T, MetaSyncError> + Send + 'static,
    ) -> Result<T, MetaSyncError> {
        let dir = self.dir.clone();
        match tokio::task::spawn_blocking(move || task(dir)).await {
            Ok(result) => result,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // Only when the runtime shuts down under us.
            Err(err) => Err(self.dir.io(
                "finish a file operation on",
                &self.dir.root,
                std::io::Error::other(err.to_string()),
            )),
        }
    }
}

impl Dir {
    fn io(&self, action: &'static str, path: &Path, source: std::io::Error) -> MetaSyncError {
        MetaSyncError::Io {
            location: self.location.clone(),
            action,
            path: path.to_owned(),
            source,
        }
    }

    fn versions(&self) -> PathBuf {
        self.root.join(VERSIONS_DIR)
    }

    fn version_path(&self, id: &VersionId) -> PathBuf {
        self.versions().join(super::version_file_name(id))
    }

    fn read_pointer(&self) -> Result<Option<VersionId>, MetaSyncError> {
        let path = self.root.join(POINTER);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(self.io("read the pointer", &path, err)),
        };
        let text = String::from_utf8_lossy(&bytes);
        VersionId::parse(text.trim())
            .map(Some)
            .map_err(|_| MetaSyncError::BadPointer {
                location: self.location.clone(),
                content: text.trim().chars().take(80).collect(),
            })
    }

    fn write_version(&self, id: &VersionId, document: &[u8]) -> Result<(), MetaSyncError> {
        let versions = self.versions();
        fs::create_dir_all(&versions)
            .map_err(|err| self.io("create the directory", &versions, err))?;
        let name = super::version_file_name(id);
        self.write_whole(&versions, &format!(".{name}.tmp"), &name, document)
    }

    /// Writes `bytes` to `temp` in `dir`, flushes it to disk, then renames it to `name`: the
    /// rename is atomic within a directory, so `name` holds the old bytes or all the new ones.
    fn write_whole(
        &self,
        dir: &Path,
        temp: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), MetaSyncError> {
        let temp = dir.join(temp);
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(bytes)?;
                file.sync_all()
            });
        if let Err(err) = written {
            let _ = fs::remove_file(&temp);
            return Err(self.io("write", &temp, err));
        }
        let path = dir.join(name);
        if let Err(err) = fs::rename(&temp, &path) {
            let _ = fs::remove_file(&temp);
            return Err(self.io("rename a file to", &path, err));
        }
        // The rename itself reaches the disk only with its directory.
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|err| self.io("flush the directory", dir, err))
    }

    /// The compare-and-swap of the pointer, under an advisory lock (`flock`) on `latest.lock`.
    /// Why a kernel lock rather than a lock file made with `create_new`: the kernel drops the
    /// lock when its holder exits or crashes, so there is no stale-lock timeout to guess and no
    /// moment where two writers both judge a lock stale and both go ahead. The price: network
    /// file systems may not share such locks between machines, so this store is for one
    /// machine; several machines share a GCS location instead.
    fn swap_pointer(&self, seen: &Option<VersionId>, id: &VersionId) -> Result<(), MetaSyncError> {
        let lock_path = self.root.join("latest.lock");
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|err| self.io("open the lock", &lock_path, err))?;
        let started = Instant::now();
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < self.lock_timeout => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(MetaSyncError::LockTimeout {
                        location: self.location.clone(),
                        path: lock_path,
                        waited: self.lock_timeout,
                    });
                }
                Err(TryLockError::Error(err)) => {
                    return Err(self.io("lock", &lock_path, err));
                }
            }
        }
        if self.read_pointer()? != *seen {
            return Err(MetaSyncError::Conflict {
                location: self.location.clone(),
            });
        }
        let text = format!("{id}\n");
        self.write_whole(
            &self.root,
            &format!(".{POINTER}-{id}.tmp"),
            POINTER,
            text.as_bytes(),
        )
        // Closing `lock` (dropping it) releases the lock.
    }

    fn read_version(&self, id: &VersionId) -> Result<Option<Vec<u8>>, MetaSyncError> {
        let path = self.version_path(id);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(self.io("read", &path, err)),
        }
    }

    fn list_versions(&self) -> Result<Vec<(VersionId, u64)>, MetaSyncError> {
        let versions = self.versions();
        let entries = match fs::read_dir(&versions) {
            Ok(entries) => entries,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(self.io("list", &versions, err)),
        };
        let mut listed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|err| self.io("list", &versions, err))?;
            let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(super::parse_version_file_name)
            else {
                continue;
            };
            match entry.metadata() {
                Ok(metadata) => listed.push((id, metadata.len())),
                // Pruned by another writer since the listing.
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                Err(err) => return Err(self.io("read the size of", &entry.path(), err)),
            }
        }
        Ok(listed)
    }

    fn delete_version(&self, id: &VersionId) -> Result<(), MetaSyncError> {
        let path = self.version_path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
            Err(err) => Err(self.io("delete", &path, err)),
        }
    }
}

#[async_trait]
impl Backend for LocalStore {
    type Seen = Option<VersionId>;

    fn location(&self) -> String {
        self.dir.location.clone()
    }

    async fn read_pointer(&self) -> Result<(Option<VersionId>, Self::Seen), MetaSyncError> {
        let pointer = self.blocking(|dir| dir.read_pointer()).await?;
        Ok((pointer.clone(), pointer))
    }

    async fn write_version(&self, id: &VersionId, document: &[u8]) -> Result<(), MetaSyncError> {
        let (id, document) = (id.clone(), document.to_vec());
        self.blocking(move |dir| dir.write_version(&id, &document))
            .await
    }

    async fn swap_pointer(&self, seen: &Self::Seen, id: &VersionId) -> Result<(), MetaSyncError> {
        let (seen, id) = (seen.clone(), id.clone());
        self.blocking(move |dir| dir.swap_pointer(&seen, &id)).await
    }

    async fn read_version(&self, id: &VersionId) -> Result<Option<Vec<u8>>, MetaSyncError> {
        let id = id.clone();
        self.blocking(move |dir| dir.read_version(&id)).await
    }

    async fn list_versions(&self) -> Result<Vec<(VersionId, u64)>, MetaSyncError> {
        self.blocking(|dir| dir.list_versions()).await
    }

    async fn delete_version(&self, id: &VersionId) -> Result<(), MetaSyncError> {
        let id = id.clone();
        self.blocking(move |dir| dir.delete_version(&id)).await
    }
}

#[async_trait]
impl MetaStore for LocalStore {
    fn location(&self) -> String {
        self.dir.location.clone()
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
