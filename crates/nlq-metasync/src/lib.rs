//! nlq-metasync: the MetaSync job, which writes what the server and the CLI need to know about
//! the warehouse as one versioned JSON document, and the store that keeps those versions.
//!
//! ```text
//!   MetaSync job ─► document (JSON bytes) ─► MetaStore::put ─► versions/metadata-<id>.json
//!                                                           └► latest  (names the newest id)
//!   server, CLI  ◄─ MetaStore::latest ◄──────────────────────────┘
//! ```
//!
//! The store (`store`, one module per backend: `store/local.rs`, `store/gcs.rs`) keeps the
//! newest N versions in a local directory or under a GCS prefix. Its invariants: a version is
//! written whole before anything names it, so a reader never sees half a document; of two
//! writers racing for `latest`, exactly one wins and the other gets `StoreError::Conflict`.
//! The store treats documents as opaque bytes.

pub mod error;
pub mod store;

pub use error::StoreError;
#[cfg(any(test, feature = "testing"))]
pub use store::MemoryStore;
pub use store::gcs::{BearerToken, GcsConfig, GcsStore};
pub use store::local::{LocalConfig, LocalStore};
pub use store::{Location, MetaStore, StoreOptions, Stored, VersionId, VersionInfo, Written, open};
