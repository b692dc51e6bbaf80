//! The crate's one error: the store's (every message names the location, `dir:/path` or
//! `gs://bucket/prefix`, and says what to do; none ever carries a bearer token), the
//! warehouse's during a sync, and documents that cannot be used.

use std::path::PathBuf;
use std::time::Duration;

use nlq_core::{Classify, ErrorClass};

use crate::store::VersionId;

#[derive(Debug, thiserror::Error)]
pub enum MetaSyncError {
    #[error(
        "`{location}` is not a metadata location: {reason}; expected `gs://<bucket>/<prefix>` \
         or a directory path"
    )]
    BadLocation { location: String, reason: String },
    #[error("bad metadata store options: {0}")]
    BadOptions(String),
    #[error(
        "`{text}` is not a version id: ids look like 20261122T073700.123456Z-0123456789abcdef \
         (`nlq-metasync versions` lists them)"
    )]
    BadVersionId { text: String },
    #[error(
        "version {version} is not in {location}: it was never written there or has been \
         pruned; `nlq-metasync versions` lists the versions kept"
    )]
    NoSuchVersion {
        location: String,
        version: VersionId,
    },
    /// No token could be had for GCS (no application default credentials, a key the token
    /// service refuses, the metadata server unreachable).
    #[error(
        "cannot get Google credentials for {location}: {detail}; run `gcloud auth \
         application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a service account key, \
         or give a token in NLQ_GCS_TOKEN"
    )]
    Credentials {
        location: String,
        detail: String,
        transient: bool,
    },
    /// Lost the compare-and-swap of the `latest` pointer to another writer.
    #[error(
        "another writer replaced the latest version of {location} while this one was being \
         written; this version was discarded: run again if it should become the latest"
    )]
    Conflict { location: String },
    #[error(
        "{location}/latest names version {version}, which does not exist: something other than \
         nlq-metasync changed the store; run nlq-metasync again to write a new version"
    )]
    DanglingPointer {
        location: String,
        version: VersionId,
    },
    #[error(
        "{location}/latest does not name a version (it holds `{content}`): delete it and run \
         nlq-metasync again"
    )]
    BadPointer { location: String, content: String },
    /// Writers kept replacing the version a reader was about to load.
    #[error(
        "the latest version of {location} changed {attempts} times while being read; try again"
    )]
    Unsettled { location: String, attempts: u32 },
    #[error(
        "{location}: another writer has held the lock `{}` for {waited:?}; try again when it \
         has finished", .path.display()
    )]
    LockTimeout {
        location: String,
        path: PathBuf,
        waited: Duration,
    },
    #[error("{location}: cannot {action} `{}`: {}", .path.display(), io_hint(.source))]
    Io {
        location: String,
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot reach GCS for {location} ({detail}): check the network and the GCS endpoint, \
         then try again"
    )]
    Unreachable { location: String, detail: String },
    #[error(
        "GCS answered HTTP {status} for {location} ({detail}): the service is busy or failing; \
         try again later"
    )]
    Unavailable {
        location: String,
        status: u16,
        detail: String,
    },
    #[error(
        "GCS refused access to {location} (HTTP {status}): check the bucket name and that the \
         credentials can write to it"
    )]
    AccessDenied { location: String, status: u16 },
    #[error(
        "the bucket of {location} does not exist: check the bucket name and that the \
         credentials can write to it"
    )]
    NoSuchBucket { location: String },
    #[error(
        "GCS rejected a request for {location} (HTTP {status}: {detail}); this is a bug in nlq, \
         please report it"
    )]
    Rejected {
        location: String,
        status: u16,
        detail: String,
    },
    #[error(
        "GCS sent a reply for {location} that nlq cannot read ({detail}); the endpoint may not \
         be GCS, otherwise this is a bug in nlq, please report it"
    )]
    BadReply { location: String, detail: String },
    #[error("cannot build the HTTP client for {location}: {detail}")]
    Client { location: String, detail: String },
    /// A warehouse call of the sync failed.
    #[error("{step}: {source}")]
    Warehouse {
        step: &'static str,
        #[source]
        source: nlq_core::WarehouseError,
    },
    /// The sync found nothing to describe.
    #[error("{0}")]
    NoData(String),
    /// A stored document that cannot be used; the one in use (if any) stays.
    #[error(
        "the metadata document {version} in {location} is unusable: {reason}; run nlq-metasync again to write a good one"
    )]
    BadDocument {
        location: String,
        version: String,
        reason: String,
    },
}

fn io_hint(err: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let what_to_do = match err.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "check that this user can write to the directory"
        }
        ErrorKind::NotADirectory | ErrorKind::AlreadyExists | ErrorKind::IsADirectory => {
            "the location must be a directory (or not exist yet); choose another path"
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "free some disk space and try again",
        _ => "check the path and the disk, then try again",
    };
    format!("{err}; {what_to_do}")
}

impl MetaSyncError {
    /// True when another writer won: the caller's document is fine, it simply was not the
    /// last one written.
    pub fn is_conflict(&self) -> bool {
        matches!(self, MetaSyncError::Conflict { .. })
    }
}

impl Classify for MetaSyncError {
    fn class(&self) -> ErrorClass {
        use std::io::ErrorKind;
        match self {
            MetaSyncError::BadLocation { .. }
            | MetaSyncError::BadOptions(_)
            | MetaSyncError::BadVersionId { .. }
            | MetaSyncError::NoSuchVersion { .. }
            | MetaSyncError::AccessDenied { .. }
            | MetaSyncError::NoSuchBucket { .. }
            // A pointer we cannot follow was written by something else: the store needs a
            // person (or a new run), not a retry.
            | MetaSyncError::DanglingPointer { .. }
            | MetaSyncError::BadPointer { .. } => ErrorClass::User,
            // Running again after the other writer is done succeeds.
            MetaSyncError::Conflict { .. }
            | MetaSyncError::Unsettled { .. }
            | MetaSyncError::LockTimeout { .. }
            | MetaSyncError::Unreachable { .. }
            | MetaSyncError::Unavailable { .. } => ErrorClass::Transient,
            MetaSyncError::Io { source, .. } => match source.kind() {
                ErrorKind::PermissionDenied
                | ErrorKind::ReadOnlyFilesystem
                | ErrorKind::NotADirectory
                | ErrorKind::IsADirectory
                | ErrorKind::AlreadyExists => ErrorClass::User,
                _ => ErrorClass::Transient,
            },
            MetaSyncError::Rejected { .. } | MetaSyncError::BadReply { .. } | MetaSyncError::Client { .. } => {
                ErrorClass::Bug
            }
            MetaSyncError::Warehouse { source, .. } => source.class,
            MetaSyncError::Credentials { transient, .. } => {
                if *transient {
                    ErrorClass::Transient
                } else {
                    ErrorClass::User
                }
            }
            MetaSyncError::NoData(_) | MetaSyncError::BadDocument { .. } => ErrorClass::User,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_say_where_and_what_to_do() {
        let err = MetaSyncError::Io {
            location: "dir:/srv/meta".into(),
            action: "create the directory",
            path: "/srv/meta/versions".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(err.class(), ErrorClass::User);
        let message = err.to_string();
        assert!(
            message
                .starts_with("dir:/srv/meta: cannot create the directory `/srv/meta/versions`: ")
        );
        assert!(message.ends_with("check that this user can write to the directory"));
        assert!(std::error::Error::source(&err).is_some());

        let err = MetaSyncError::Io {
            location: "dir:/srv/meta".into(),
            action: "read",
            path: "/srv/meta/latest".into(),
            source: std::io::Error::from(std::io::ErrorKind::TimedOut),
        };
        assert_eq!(err.class(), ErrorClass::Transient);
    }

    #[test]
    fn gcs_errors_are_classed_by_whose_fault() {
        let location = "gs://b/p".to_owned();
        let cases = [
            (
                MetaSyncError::AccessDenied {
                    location: location.clone(),
                    status: 403,
                },
                ErrorClass::User,
            ),
            (
                MetaSyncError::NoSuchBucket {
                    location: location.clone(),
                },
                ErrorClass::User,
            ),
            (
                MetaSyncError::Unavailable {
                    location: location.clone(),
                    status: 503,
                    detail: "backend error".into(),
                },
                ErrorClass::Transient,
            ),
            (
                MetaSyncError::Conflict {
                    location: location.clone(),
                },
                ErrorClass::Transient,
            ),
            (
                MetaSyncError::BadReply {
                    location: location.clone(),
                    detail: "no generation".into(),
                },
                ErrorClass::Bug,
            ),
        ];
        for (err, class) in cases {
            assert_eq!(err.class(), class, "{err}");
            assert!(err.to_string().contains("gs://b/p"), "{err}");
        }
    }
}
