//! nlq-core: the types every other nlq crate speaks, and nothing that touches the world.
//!
//! ```text
//!   schema  (BigQuery types, the GA4 events schema)
//!   result  (QueryResult: typed columns + rows + bytes billed)
//!   warehouse (the Warehouse trait: embedded engine, BigQuery)
//!   llm     (the LlmProvider trait: OpenAI, Anthropic, Gemini, vLLM)
//!   error   (ErrorClass: whose fault an error is)
//!   knowledge (what analysts teach: examples, synonyms, metrics, notes)
//! ```
//!
//! Invariant: no I/O, no async runtime. Adapter crates implement the traits defined here.

pub mod context;
pub mod error;
pub mod ga4;
pub mod knowledge;
pub mod llm;
pub mod result;
pub mod schema;
pub mod status;
pub mod warehouse;

pub use context::{ContextBlock, Lang};
pub use error::{Classify, ErrorClass};
pub use llm::{ChatMessage, ChatRequest, ChatResponse, LlmProvider, ProviderError, Role, Usage};
pub use result::{Column, QueryResult, Value};
pub use schema::{BqType, Field, SchemaError, TableSchema};
pub use status::Status;
pub use warehouse::{DryRun, QueryRequest, SqlPosition, Warehouse, WarehouseError, label};
