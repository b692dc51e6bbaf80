//! What the `nlq` and `nlq-server` binaries share: the flags for LLM providers, the metadata
//! store and query limits, and the wiring of the embedded warehouse, validator and pipeline.
//! Only binaries use it; the libraries take typed config.

pub mod llm;
pub mod metadata;
pub mod setup;
