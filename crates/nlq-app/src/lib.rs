//! What the `nlq`, `nlq-server` and `nlq-metasync` binaries share: the flags for LLM providers,
//! the metadata store and query limits into typed config, the wiring of the warehouse,
//! validator and pipeline, how an error becomes an exit code, and how logs are written. Only binaries use it; the
//! libraries take typed config. It never links the web server.

pub mod config;
pub mod exit;
pub mod llm;
pub mod logging;
pub mod metadata;
pub mod setup;
pub mod telemetry;
