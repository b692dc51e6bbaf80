//! The store in one SQLite file. Writes are single statements in WAL mode, so a crash leaves
//! every committed answer readable and never half of one.

use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use super::{AnswerStore, Bucket, UsageStore, from_db, to_db};
use crate::answer::QueryResponse;
use crate::error::ServerError;

/// The schema's steps, in order; `PRAGMA user_version` counts those applied. Stored answers are
/// a `QueryResponse` as JSON, read back into its types. Step 1 is idempotent because files
/// from before versioning (0) already hold its tables.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS conversations (
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
     CREATE INDEX IF NOT EXISTS answers_by_conversation ON answers (conversation_id, seq);",
    // Usage counters: budgets survive a restart.
    "CREATE TABLE rate_buckets (
         caller TEXT PRIMARY KEY,
         tokens REAL NOT NULL,
         at REAL NOT NULL,
         admitted INTEGER NOT NULL
     );
     CREATE TABLE bytes_spent (
         caller TEXT NOT NULL,
         day TEXT NOT NULL,
         bytes INTEGER NOT NULL,
         PRIMARY KEY (caller, day)
     );",
];

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

    fn init(mut connection: Connection) -> Result<Self, ServerError> {
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(store_error)?;
        migrate(&mut connection)?;
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

/// Applies the steps the file has not had yet, each with its version in one transaction, so
/// an interrupted upgrade leaves the file at the last whole step.
fn migrate(connection: &mut Connection) -> Result<(), ServerError> {
    let known = MIGRATIONS.len() as i64;
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(store_error)?;
    if version > known {
        return Err(ServerError::Store(format!(
            "the answer store was written by a newer nlq (schema {version}, this one knows up to {known}): upgrade nlq-server or point --db at another file"
        )));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction = connection.transaction().map_err(store_error)?;
        transaction
            .execute_batch(&format!("{sql}\nPRAGMA user_version = {};", step + 1))
            .map_err(|e| ServerError::Store(format!("schema step {}: {e}", step + 1)))?;
        transaction.commit().map_err(store_error)?;
    }
    Ok(())
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
            Ok((from_db(answers), from_db(conversations)))
        })
    }
}

impl UsageStore for SqliteStore {
    fn take_token(
        &self,
        caller: &str,
        now_secs: f64,
        rate: f64,
        capacity: f64,
    ) -> Result<Bucket, ServerError> {
        // In an upsert's SET, bare column names are the row as it was.
        self.with(|c| {
            c.query_row(
                "INSERT INTO rate_buckets (caller, tokens, at, admitted)
                 VALUES (?1, ?4 - 1, ?2, 1)
                 ON CONFLICT (caller) DO UPDATE SET
                     tokens = MIN(?4, tokens + MAX(?2 - at, 0) * ?3)
                         - (MIN(?4, tokens + MAX(?2 - at, 0) * ?3) >= 1),
                     admitted = MIN(?4, tokens + MAX(?2 - at, 0) * ?3) >= 1,
                     at = MAX(?2, at)
                 RETURNING admitted, tokens",
                params![caller, now_secs, rate, capacity],
                |row| {
                    Ok(Bucket {
                        admitted: row.get(0)?,
                        tokens: row.get(1)?,
                    })
                },
            )
        })
    }

    fn add_bytes(&self, caller: &str, day: NaiveDate, bytes: u64) -> Result<(), ServerError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO bytes_spent (caller, day, bytes) VALUES (?1, ?2, ?3)
                 ON CONFLICT (caller, day) DO UPDATE SET bytes = bytes + excluded.bytes",
                params![caller, day.to_string(), to_db(bytes)],
            )
            .map(drop)
        })
    }

    fn bytes_spent(&self, caller: &str, day: NaiveDate) -> Result<u64, ServerError> {
        let bytes: Option<i64> = self.with(|c| {
            c.query_row(
                "SELECT bytes FROM bytes_spent WHERE caller = ?1 AND day = ?2",
                params![caller, day.to_string()],
                |row| row.get(0),
            )
            .optional()
        })?;
        Ok(bytes.map(from_db).unwrap_or(0))
    }

    fn bytes_spent_on(&self, day: NaiveDate) -> Result<Vec<(String, u64)>, ServerError> {
        self.with(|c| {
            let mut statement =
                c.prepare("SELECT caller, bytes FROM bytes_spent WHERE day = ?1 ORDER BY caller")?;
            statement
                .query_map(params![day.to_string()], |row| {
                    Ok((row.get::<_, String>(0)?, from_db(row.get(1)?)))
                })?
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

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
    fn a_file_of_the_first_format_gains_the_usage_tables_and_keeps_its_answers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nlq.sqlite");
        {
            let connection = Connection::open(&path).unwrap();
            connection
                .execute_batch(&format!("{}\nPRAGMA user_version = 1;", MIGRATIONS[0]))
                .unwrap();
            connection
                .execute_batch(
                    "INSERT INTO conversations VALUES ('c1', 'now');
                     INSERT INTO answers VALUES ('q1', 'c1', 1, 'now', '{}');",
                )
                .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.counts().unwrap(), (1, 1));
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        store.add_bytes("a", day, 5).unwrap();
        assert_eq!(store.bytes_spent("a", day).unwrap(), 5);
        let version: i64 = store
            .with(|c| c.query_row("PRAGMA user_version", [], |row| row.get(0)))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn typed_answers_read_back_as_saved() {
        conformance::typed_answers_read_back(&SqliteStore::in_memory().unwrap());
    }

    #[test]
    fn answers_survive_reopening_in_order_and_a_replaced_one_keeps_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nlq.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        conformance::answers_keep_their_order(&store, &|| {
            Box::new(SqliteStore::open(&path).unwrap())
        });
    }

    #[test]
    fn usage_counts_refill_and_add_up() {
        conformance::usage_counts(&SqliteStore::in_memory().unwrap());
    }
}
