//! Where answers, conversations and the usage counters live, so a restart loses nothing and
//! several server instances can share them. Two backends: `sqlite.rs`, one file, the default
//! for a single node; `postgres.rs`, one database that every replica uses.

pub mod postgres;
pub mod sqlite;

use chrono::NaiveDate;

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

/// A caller's request bucket after one request was taken from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub admitted: bool,
    /// Tokens left (fractional: the bucket refills continuously).
    pub tokens: f64,
}

/// What the limits count per caller. Each call is one atomic statement, so replicas sharing a
/// database share the counts without a lost update.
pub trait UsageStore: Send + Sync {
    /// Refills the caller's bucket at `rate` tokens a second since its last request (wall-clock
    /// seconds, so replicas agree), up to `capacity`, then takes one token when there is one.
    /// A new caller starts with a full bucket.
    fn take_token(
        &self,
        caller: &str,
        now_secs: f64,
        rate: f64,
        capacity: f64,
    ) -> Result<Bucket, ServerError>;
    /// Adds warehouse bytes billed to the caller's count for `day`.
    fn add_bytes(&self, caller: &str, day: NaiveDate, bytes: u64) -> Result<(), ServerError>;
    fn bytes_spent(&self, caller: &str, day: NaiveDate) -> Result<u64, ServerError>;
    /// Every caller's bytes billed on `day`, by caller.
    fn bytes_spent_on(&self, day: NaiveDate) -> Result<Vec<(String, u64)>, ServerError>;
}

/// Both halves, as the server uses them.
pub trait Store: AnswerStore + UsageStore {}

impl<T: AnswerStore + UsageStore> Store for T {}

/// Counts are kept as signed 64-bit integers (SQL's BIGINT).
fn to_db(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

fn from_db(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// The behaviour every backend must have, run against each of them.
#[cfg(test)]
pub(crate) mod conformance {
    use super::*;

    pub fn response(qid: &str, conversation: &str, question: &str) -> QueryResponse {
        QueryResponse {
            qid: qid.into(),
            conversation_id: conversation.into(),
            question: question.into(),
            status: nlq_core::Status::Answered,
            message: None,
            choices: vec![],
            sql: Some("SELECT 1".into()),
            plan: None,
            columns: vec![],
            rows: vec![vec![serde_json::json!(1)]],
            row_count: 1,
            summary: Some("one".into()),
            chart: None,
            cost: None,
            needs_approval: false,
            approval_reason: None,
            risk: None,
            validation: None,
            llm: None,
            timings: vec![],
            created_at: "2026-12-04T00:00:00.000Z".into(),
            caveats: vec![],
            partial_buckets: vec![],
            cached_from: None,
            verified: None,
        }
    }

    /// Saves three answers in two conversations and replaces one; `reopen` gives the store
    /// again as a restarted process would see it.
    pub fn answers_keep_their_order(store: &dyn Store, reopen: &dyn Fn() -> Box<dyn Store>) {
        store.save(&response("q1", "c1", "first")).unwrap();
        store.save(&response("q2", "c1", "second")).unwrap();
        store.save(&response("q3", "c2", "other")).unwrap();
        let mut approved = response("q1", "c1", "first");
        approved.summary = Some("ran".into());
        store.save(&approved).unwrap();

        let store = reopen();
        let turns = store.conversation("c1").unwrap().unwrap();
        let questions: Vec<&str> = turns.iter().map(|t| t.question.as_str()).collect();
        assert_eq!(questions, ["first", "second"]);
        assert_eq!(turns[0].summary.as_deref(), Some("ran"));
        assert_eq!(store.get("q3").unwrap().unwrap().conversation_id, "c2");
        assert_eq!(store.get("nope").unwrap(), None);
        assert_eq!(store.conversation("nope").unwrap(), None);
        assert!(store.has_conversation("c2").unwrap());
        assert!(!store.has_conversation("c3").unwrap());
        // An id no answer can have is unknown, not an error.
        assert_eq!(store.get("q\0").unwrap(), None);
        assert_eq!(store.conversation("c\0").unwrap(), None);
        assert_eq!(store.counts().unwrap(), (3, 2));
    }

    /// A typed answer (cost, columns) reads back as saved.
    pub fn typed_answers_read_back(store: &dyn Store) {
        let mut answer = response("t1", "tc", "users");
        answer.cost = Some(nlq_validate::cost(
            5 << 20,
            2,
            &nlq_validate::CostPolicy::default(),
        ));
        answer.columns = vec![nlq_core::Column {
            name: "users".into(),
            ty: nlq_core::BqType::Int64,
        }];
        answer.question = "지난 7일 디바이스별 방문자 수".into();
        store.save(&answer).unwrap();
        let mut back = store.get("t1").unwrap().unwrap();
        assert_eq!(back.bytes_billed(), 20 << 20);
        // A float reads back to within one unit of its last digit, not always to the same
        // bits: dollars are compared as money, everything else exactly.
        let (saved, read) = (
            answer.cost.as_ref().unwrap().usd,
            back.cost.as_ref().unwrap().usd,
        );
        assert!((saved - read).abs() <= saved * 1e-15, "{saved} vs {read}");
        back.cost.as_mut().unwrap().usd = saved;
        assert_eq!(back, answer);
    }

    /// Buckets refill with time and never above capacity; bytes add up per caller and day.
    pub fn usage_counts(store: &dyn Store) {
        let (rate, capacity) = (1.0, 3.0);
        let take = |caller: &str, now: f64| store.take_token(caller, now, rate, capacity).unwrap();
        for left in [2.0, 1.0, 0.0] {
            assert_eq!(
                take("a", 100.0),
                Bucket {
                    admitted: true,
                    tokens: left
                }
            );
        }
        let refused = take("a", 100.5);
        assert!(!refused.admitted);
        assert!((refused.tokens - 0.5).abs() < 1e-9, "{refused:?}");
        // Another caller has a bucket of its own.
        assert!(take("b", 100.5).admitted);
        // A second later there is a token again; an hour later only a full bucket.
        assert!(take("a", 101.5).admitted);
        assert_eq!(take("a", 5000.0).tokens, 2.0);
        // A replica whose clock is behind neither refills nor empties the bucket for it.
        assert_eq!(take("a", 4000.0).tokens, 1.0);

        let (today, yesterday) = (
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
        );
        assert_eq!(store.bytes_spent("a", today).unwrap(), 0);
        store.add_bytes("a", today, 60).unwrap();
        store.add_bytes("a", today, 60).unwrap();
        store.add_bytes("a", yesterday, 1 << 40).unwrap();
        store.add_bytes("b", today, 7).unwrap();
        assert_eq!(store.bytes_spent("a", today).unwrap(), 120);
        assert_eq!(store.bytes_spent("a", yesterday).unwrap(), 1 << 40);
        assert_eq!(
            store.bytes_spent_on(today).unwrap(),
            [("a".to_owned(), 120), ("b".to_owned(), 7)]
        );
    }
}
