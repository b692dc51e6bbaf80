//! What the `nlq`, `nlq-server` and `nlq-metasync` binaries share: the flags for LLM providers,
//! the metadata store and query limits into typed config, the wiring of the warehouse,
//! validator and pipeline, and how an error becomes an exit code. Only binaries use it; the
//! libraries take typed config. It never links the web server.

pub mod config;
pub mod exit;
pub mod llm;
pub mod metadata;
pub mod setup;
