//! The answer store in one SQLite file. Writes are single statements in WAL mode, so a crash
//! leaves every committed answer readable and never half of one.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::AnswerStore;
use crate::answer::QueryResponse;
use crate::error::ServerError;

/// The shape of the stored answers (`PRAGMA user_version`): a `QueryResponse` as JSON, read
/// back into its types. Files from before versioning (0) hold the same shape.
const FORMAT_VERSION: i64 = 1;

pub struct SqliteStore {
    // One connection: the writes are tiny, and SQLite serializes writers anyway.
    connection: Mutex<Connection>,
}

fn store_error(err: impl std::fmt::Display) -> ServerError {
    ServerError::Store(err.to_string())
}

impl SqliteStore {
    /// Opens (creating when missing) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, ServerError> {
        let connection = Connection::open(path)
            .map_err(|e| ServerError::Store(format!("opening {}: {e}", path.display())))?;
        Self::init(connection)
    }

    /// A store that lives as long as the process: for tests.
    pub fn in_memory() -> Result<Self, ServerError> {
        Self::init(Connection::open_in_memory().map_err(store_error)?)
    }

    fn init(connection: Connection) -> Result<Self, ServerError> {
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS conversations (
                     id TEXT PRIMARY KEY,
                     created_at TEXT NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS answers (
                     qid TEXT PRIMARY KEY,
                     conversation_id TEXT NOT NULL REFERENCES conversations(id),
                     seq INTEGER NOT NULL,
                     created_at TEXT NOT NULL,
                     response TEXT NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS answers_by_conversation
                     ON answers (conversation_id, seq);",
            )
            .map_err(store_error)?;
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(store_error)?;
        if version > FORMAT_VERSION {
            return Err(ServerError::Store(format!(
                "the answer store was written by a newer nlq (format {version}, this one reads up to {FORMAT_VERSION}): upgrade nlq-server or point --db at another file"
            )));
        }
        if version < FORMAT_VERSION {
            connection
                .execute_batch(&format!("PRAGMA user_version = {FORMAT_VERSION};"))
                .map_err(store_error)?;
        }
        Ok(SqliteStore {
            connection: Mutex::new(connection),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, ServerError> {
        let connection = self
            .connection
            .lock()
            .map_err(|_| ServerError::Store("a writer panicked".into()))?;
        f(&connection).map_err(store_error)
    }
}

fn parse(text: String) -> Result<QueryResponse, ServerError> {
    serde_json::from_str(&text).map_err(|e| ServerError::Store(format!("a stored answer: {e}")))
}

impl AnswerStore for SqliteStore {
    fn save(&self, response: &QueryResponse) -> Result<(), ServerError> {
        let text = serde_json::to_string(response).map_err(store_error)?;
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO conversations (id, created_at) VALUES (?1, ?2)",
                params![response.conversation_id, response.created_at],
            )?;
            // A replaced answer (an approved run) keeps its place in the conversation.
            c.execute(
                "INSERT INTO answers (qid, conversation_id, seq, created_at, response)
                 VALUES (?1, ?2,
                         (SELECT COALESCE(MAX(seq), 0) + 1 FROM answers WHERE conversation_id = ?2),
                         ?3, ?4)
                 ON CONFLICT (qid) DO UPDATE SET response = excluded.response",
                params![
                    response.qid,
                    response.conversation_id,
                    response.created_at,
                    text
                ],
            )?;
            Ok(())
        })
    }

    fn get(&self, qid: &str) -> Result<Option<QueryResponse>, ServerError> {
        let text: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT response FROM answers WHERE qid = ?1",
                params![qid],
                |row| row.get(0),
            )
            .optional()
        })?;
        text.map(parse).transpose()
    }

    fn conversation(&self, id: &str) -> Result<Option<Vec<QueryResponse>>, ServerError> {
        if !self.has_conversation(id)? {
            return Ok(None);
        }
        let texts: Vec<String> = self.with(|c| {
            let mut statement =
                c.prepare("SELECT response FROM answers WHERE conversation_id = ?1 ORDER BY seq")?;
            statement
                .query_map(params![id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })?;
        texts
            .into_iter()
            .map(parse)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    fn has_conversation(&self, id: &str) -> Result<bool, ServerError> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM conversations WHERE id = ?1",
                params![id],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
        })
    }

    fn counts(&self) -> Result<(u64, u64), ServerError> {
        self.with(|c| {
            let answers: i64 = c.query_row("SELECT COUNT(*) FROM answers", [], |r| r.get(0))?;
            let conversations: i64 =
                c.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))?;
            Ok((answers.max(0) as u64, conversations.max(0) as u64))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(qid: &str, conversation: &str, question: &str) -> QueryResponse {
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
            cached_from: None,
            verified: None,
        }
    }

    #[test]
    fn a_store_from_a_newer_format_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nlq.sqlite");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99;")
            .unwrap();
        let err = SqliteStore::open(&path).err().unwrap().to_string();
        assert!(err.contains("newer nlq"), "{err}");
    }

    #[test]
    fn typed_answers_read_back_as_saved() {
        let store = SqliteStore::in_memory().unwrap();
        let mut answer = response("q1", "c1", "users");
        answer.cost = Some(nlq_validate::cost(
            5 << 20,
            2,
            &nlq_validate::CostPolicy::default(),
        ));
        answer.columns = vec![nlq_core::Column {
            name: "users".into(),
            ty: nlq_core::BqType::Int64,
        }];
        store.save(&answer).unwrap();
        let mut back = store.get("q1").unwrap().unwrap();
        assert_eq!(back.bytes_billed(), 20 << 20);
        // serde_json reads a float back to within one unit of its last digit, not always to
        // the same bits: dollars are compared as money, everything else exactly.
        let (saved, read) = (
            answer.cost.as_ref().unwrap().usd,
            back.cost.as_ref().unwrap().usd,
        );
        assert!((saved - read).abs() <= saved * 1e-15, "{saved} vs {read}");
        back.cost.as_mut().unwrap().usd = saved;
        assert_eq!(back, answer);
    }

    #[test]
    fn answers_survive_reopening_in_order_and_a_replaced_one_keeps_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nlq.sqlite");
        {
            let store = SqliteStore::open(&path).unwrap();
            store.save(&response("q1", "c1", "first")).unwrap();
            store.save(&response("q2", "c1", "second")).unwrap();
            store.save(&response("q3", "c2", "other")).unwrap();
            let mut approved = response("q1", "c1", "first");
            approved.summary = Some("ran".into());
            store.save(&approved).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let turns = store.conversation("c1").unwrap().unwrap();
        let questions: Vec<&str> = turns.iter().map(|t| t.question.as_str()).collect();
        assert_eq!(questions, ["first", "second"]);
        assert_eq!(turns[0].summary.as_deref(), Some("ran"));
        assert_eq!(store.get("q3").unwrap().unwrap().conversation_id, "c2");
        assert_eq!(store.get("nope").unwrap(), None);
        assert_eq!(store.conversation("nope").unwrap(), None);
        assert_eq!(store.counts().unwrap(), (3, 2));
    }
}
