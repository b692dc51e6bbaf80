//! The server's typed configuration; only the binary reads files and `NLQ_*` variables.

use std::time::Duration;

/// Everything the app needs to know besides its adapters.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bearer tokens that may call `/api/*`; empty: no authentication (loopback only).
    pub api_keys: Vec<String>,
    /// The token for `/admin/*`; None: the admin routes answer 403.
    pub admin_token: Option<String>,
    /// Queries billing more than this wait for the user's approval.
    pub approval_bytes: u64,
    pub limits: Limits,
    /// Origins allowed to call the API from a browser; empty: same origin only.
    pub cors_origins: Vec<String>,
}

/// What one caller may use.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests per minute per key (per client address without keys).
    pub requests_per_minute: u32,
    /// Bytes billed per key per UTC day.
    pub daily_bytes: u64,
    /// JSON bodies larger than this are refused.
    pub max_body_bytes: usize,
    /// Questions longer than this (in characters) are refused.
    pub max_question_chars: usize,
    /// Rows an answer carries.
    pub max_rows: usize,
    /// A stream that has not finished after this long ends with an error event.
    pub stream_timeout: Duration,
    /// A stream still working sends a comment line this often, so proxies keep it open.
    pub stream_keep_alive: Duration,
    /// A first question asked again within this long gets the stored answer (zero: never).
    pub answer_cache_ttl: Duration,
    /// Earlier answers of the conversation a question sees as context (its LLM prompt); a
    /// follow-up changes the last plan whatever its age.
    pub context_turns: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            requests_per_minute: 120,
            daily_bytes: 100 * (1 << 30),
            max_body_bytes: 64 * 1024,
            max_question_chars: 1_000,
            max_rows: 10_000,
            stream_timeout: Duration::from_secs(300),
            stream_keep_alive: Duration::from_secs(15),
            answer_cache_ttl: Duration::from_secs(300),
            context_turns: nlq_core::context::DEFAULT_WINDOW,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            api_keys: Vec::new(),
            admin_token: None,
            approval_bytes: 1 << 30,
            limits: Limits::default(),
            cors_origins: Vec::new(),
        }
    }
}
