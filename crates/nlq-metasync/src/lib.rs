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
//! writers racing for `latest`, exactly one wins and the other gets `MetaSyncError::Conflict`.
//! The store treats documents as opaque bytes.
//!
//! `sync` builds the document (`document`) from any `nlq_core::Warehouse`: the table registry,
//! the shared schema and the shards that drift from it, the parameter catalog sampled from the
//! newest shards with narrow, dry-run-capped queries, and the golden examples that still pass
//! validation. `loader` is the readers' side: TTL refresh, the last good version kept while the
//! store is down or the newest document is corrupt, and warnings an operator can act on.

pub mod document;
pub mod error;
pub mod loader;
pub mod store;
pub mod sync;
pub mod vocabulary;

pub use document::MetadataDocument;
pub use error::MetaSyncError;
pub use loader::{Clock, LoaderConfig, MetadataLoader, Snapshot};
#[cfg(any(test, feature = "testing"))]
pub use store::MemoryStore;
pub use store::gcs::{BearerToken, GcsAuth, GcsConfig, GcsStore};
pub use store::local::{LocalConfig, LocalStore};
pub use store::{Location, MetaStore, StoreOptions, Stored, VersionId, VersionInfo, Written, open};
