//! Where answers and conversations live, so a restart loses nothing. A trait, so several
//! server instances can share a database later; `sqlite.rs` is the embedded default.

pub mod sqlite;

use crate::answer::QueryResponse;
use crate::error::ServerError;

pub trait AnswerStore: Send + Sync {
    /// Inserts or replaces the answer with this qid; its conversation is created when new.
    fn save(&self, response: &QueryResponse) -> Result<(), ServerError>;
    fn get(&self, qid: &str) -> Result<Option<QueryResponse>, ServerError>;
    /// The conversation's answers, oldest first; None when the conversation is unknown.
    fn conversation(&self, id: &str) -> Result<Option<Vec<QueryResponse>>, ServerError>;
    /// Whether the conversation exists, without reading its answers.
    fn has_conversation(&self, id: &str) -> Result<bool, ServerError>;
    /// (answers, conversations) kept.
    fn counts(&self) -> Result<(u64, u64), ServerError>;
}
