//! What a property's analysts teach nlq: verified examples (a question and the SQL that
//! answers it), synonyms, metric definitions and business notes for the LLM. One versioned
//! document holds them all; each lesson says who taught it and when.
//!
//! This module only shapes and edits the document. Checking a lesson against the data (its
//! SQL through the validator, a metric compiled into a test query) is the pipeline's, keeping
//! it is the metadata store's.

use serde::{Deserialize, Serialize};

use crate::error::{Classify, ErrorClass};

/// Version of the document's JSON shape.
pub const FORMAT_VERSION: u32 = 1;
/// Longest text a lesson may hold: a note is read into every LLM prompt.
pub const MAX_TEXT: usize = 2_000;
/// Longest SQL a lesson may hold.
pub const MAX_SQL: usize = 20_000;

/// Everything taught, in the order it was taught.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knowledge {
    pub format_version: u32,
    pub entries: Vec<Taught>,
}

impl Default for Knowledge {
    fn default() -> Self {
        Knowledge {
            format_version: FORMAT_VERSION,
            entries: Vec::new(),
        }
    }
}

/// One lesson and who taught it when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taught {
    /// `k1`, `k2`, ...: never reused within a document.
    pub id: String,
    /// The analyst (the server's caller, or the CLI's user).
    pub by: String,
    /// RFC 3339 time of the last change.
    pub at: String,
    #[serde(flatten)]
    pub lesson: Lesson,
}

/// What can be taught.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Lesson {
    /// The question, answered by this SQL from now on, with its dates moved to the dates the
    /// question means when it is asked again.
    Example {
        question: String,
        sql: String,
        /// The days the question meant when it was taught (`YYYY-MM-DD`), which the SQL's
        /// date literals spell; None when it names no time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        range: Option<(String, String)>,
    },
    /// `word` means what `means` names: a metric, a dimension, or a value as
    /// `dimension=value` ("가입" = `event_name=sign_up`).
    Synonym { word: String, means: String },
    /// A metric over the events table: `sql` is an aggregate expression over one event row
    /// (`COUNTIF(event_name = 'trial_start')`).
    Metric {
        name: String,
        sql: String,
        /// count, currency, ratio, seconds or decimal.
        format: String,
        /// Whether values add up across rows and days (event counts, revenue) or not (users,
        /// ratios): a non-additive metric is never summed into a total.
        additive: bool,
        /// The words a question names it by; its name, split at `_`, when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        words: Vec<String>,
    },
    /// Context for the LLM ("a trial converts to a subscription after 14 days").
    Note { text: String },
}

impl Lesson {
    pub fn kind(&self) -> &'static str {
        match self {
            Lesson::Example { .. } => "example",
            Lesson::Synonym { .. } => "synonym",
            Lesson::Metric { .. } => "metric",
            Lesson::Note { .. } => "note",
        }
    }

    /// The lesson trimmed, or what is wrong with its shape (emptiness and size; what it means
    /// is checked against the model and the data elsewhere).
    pub fn tidy(mut self) -> Result<Lesson, KnowledgeError> {
        let bad = |reason: String| Err(KnowledgeError::Invalid(reason));
        let text = |field: &str, value: &mut String, max: usize| {
            *value = value.trim().to_owned();
            if value.is_empty() {
                return Err(KnowledgeError::Invalid(format!("{field} is empty")));
            }
            if value.len() > max {
                return Err(KnowledgeError::Invalid(format!(
                    "{field} is {} bytes, more than the {max} allowed",
                    value.len()
                )));
            }
            Ok(())
        };
        match &mut self {
            Lesson::Example { question, sql, .. } => {
                text("question", question, MAX_TEXT)?;
                text("sql", sql, MAX_SQL)?;
            }
            Lesson::Synonym { word, means } => {
                text("word", word, 100)?;
                text("means", means, 200)?;
            }
            Lesson::Metric {
                name,
                sql,
                format,
                words,
                ..
            } => {
                text("name", name, 64)?;
                if !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    || name.starts_with(|c: char| c.is_ascii_digit())
                {
                    return bad(format!(
                        "metric name {name:?} must be lower-case letters, digits and _ (trial_starts)"
                    ));
                }
                text("sql", sql, MAX_TEXT)?;
                *format = format.trim().to_ascii_lowercase();
                if !FORMATS.contains(&format.as_str()) {
                    return bad(format!(
                        "format {format:?} is not one of {}",
                        FORMATS.join(", ")
                    ));
                }
                words.iter_mut().for_each(|w| *w = w.trim().to_owned());
                words.retain(|w| !w.is_empty());
            }
            Lesson::Note { text: note } => text("text", note, MAX_TEXT)?,
        }
        Ok(self)
    }
}

/// The formats a metric's values are shown in.
pub const FORMATS: [&str; 5] = ["count", "currency", "ratio", "seconds", "decimal"];

impl Knowledge {
    /// Reads a stored document; a newer format is refused rather than half understood.
    pub fn from_json(bytes: &[u8]) -> Result<Knowledge, KnowledgeError> {
        let knowledge: Knowledge =
            serde_json::from_slice(bytes).map_err(|e| KnowledgeError::Unreadable(e.to_string()))?;
        if knowledge.format_version != FORMAT_VERSION {
            return Err(KnowledgeError::Unreadable(format!(
                "format {} is not the supported {FORMAT_VERSION}",
                knowledge.format_version
            )));
        }
        Ok(knowledge)
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A document of strings and numbers always serialises.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    pub fn get(&self, id: &str) -> Option<&Taught> {
        self.entries.iter().find(|t| t.id == id)
    }

    /// Adds a lesson; its new id.
    pub fn add(&mut self, lesson: Lesson, by: &str, at: &str) -> String {
        let next = self
            .entries
            .iter()
            .filter_map(|t| t.id.strip_prefix('k')?.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let id = format!("k{next}");
        self.entries.push(Taught {
            id: id.clone(),
            by: by.to_owned(),
            at: at.to_owned(),
            lesson,
        });
        id
    }

    /// Replaces lesson `id` (its kind may not change: remove and add instead).
    pub fn replace(
        &mut self,
        id: &str,
        lesson: Lesson,
        by: &str,
        at: &str,
    ) -> Result<(), KnowledgeError> {
        let taught = self
            .entries
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| KnowledgeError::NotFound(id.to_owned()))?;
        if taught.lesson.kind() != lesson.kind() {
            return Err(KnowledgeError::Invalid(format!(
                "{id} is a {}, not a {}: remove it and add the {} instead",
                taught.lesson.kind(),
                lesson.kind(),
                lesson.kind()
            )));
        }
        *taught = Taught {
            id: id.to_owned(),
            by: by.to_owned(),
            at: at.to_owned(),
            lesson,
        };
        Ok(())
    }

    /// Removes lesson `id`; what it was.
    pub fn remove(&mut self, id: &str) -> Result<Taught, KnowledgeError> {
        let at = self
            .entries
            .iter()
            .position(|t| t.id == id)
            .ok_or_else(|| KnowledgeError::NotFound(id.to_owned()))?;
        Ok(self.entries.remove(at))
    }

    /// The entries of one kind, as they were taught.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Taught> + 'a {
        self.entries.iter().filter(move |t| t.lesson.kind() == kind)
    }

    /// The business notes, for the LLM's prompt.
    pub fn notes(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|t| match &t.lesson {
                Lesson::Note { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnowledgeError {
    /// The lesson is malformed or contradicts what nlq knows (a synonym already taken, SQL that
    /// does not run): the reason says which.
    #[error("{0}")]
    Invalid(String),
    #[error("no lesson {0}: list them to see the ids")]
    NotFound(String),
    /// The stored document cannot be read (corrupt, or written by a newer nlq).
    #[error("the knowledge document is unreadable: {0}")]
    Unreadable(String),
}

impl Classify for KnowledgeError {
    fn class(&self) -> ErrorClass {
        match self {
            KnowledgeError::Invalid(_) | KnowledgeError::NotFound(_) => ErrorClass::User,
            KnowledgeError::Unreadable(_) => ErrorClass::Bug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> Lesson {
        Lesson::Note { text: text.into() }
    }

    #[test]
    fn adds_replaces_and_removes_with_ids_never_reused() {
        let mut k = Knowledge::default();
        assert_eq!(k.add(note("a"), "ann", "2026-12-07T00:00:00Z"), "k1");
        assert_eq!(k.add(note("b"), "ann", "2026-12-07T00:00:00Z"), "k2");
        k.remove("k1").unwrap();
        assert_eq!(k.add(note("c"), "bo", "2026-12-07T00:00:01Z"), "k3");
        k.replace("k2", note("b2"), "bo", "2026-12-07T00:00:02Z")
            .unwrap();
        assert_eq!(k.get("k2").unwrap().by, "bo");
        let synonym = Lesson::Synonym {
            word: "가입".into(),
            means: "sign_up_events".into(),
        };
        let err = k.replace("k2", synonym, "bo", "t").unwrap_err();
        assert!(
            err.to_string().contains("k2 is a note, not a synonym"),
            "{err}"
        );
        assert!(matches!(k.remove("k1"), Err(KnowledgeError::NotFound(_))));
        assert_eq!(k.notes(), vec!["b2", "c"]);
        let back = Knowledge::from_json(&k.to_json()).unwrap();
        assert_eq!(back, k);
    }

    #[test]
    fn the_json_says_the_kind_beside_who_and_when() {
        let mut k = Knowledge::default();
        k.add(
            Lesson::Metric {
                name: "trial_starts".into(),
                sql: "COUNTIF(event_name = 'trial_start')".into(),
                format: "count".into(),
                additive: true,
                words: vec!["체험 시작".into()],
            },
            "ann",
            "2026-12-07T00:00:00Z",
        );
        let json: serde_json::Value = serde_json::from_slice(&k.to_json()).unwrap();
        let entry = &json["entries"][0];
        assert_eq!(entry["kind"], "metric");
        assert_eq!(entry["id"], "k1");
        assert_eq!(entry["by"], "ann");
        assert_eq!(entry["additive"], true);
        let newer = br#"{"format_version": 2, "entries": []}"#;
        assert!(matches!(
            Knowledge::from_json(newer),
            Err(KnowledgeError::Unreadable(_))
        ));
    }

    #[test]
    fn tidy_trims_and_refuses_malformed_lessons() {
        let ok = Lesson::Synonym {
            word: "  가입 ".into(),
            means: "sign_up_events".into(),
        }
        .tidy()
        .unwrap();
        assert_eq!(
            ok,
            Lesson::Synonym {
                word: "가입".into(),
                means: "sign_up_events".into()
            }
        );
        for (lesson, reason) in [
            (note("  "), "text is empty"),
            (
                Lesson::Metric {
                    name: "Trial Starts".into(),
                    sql: "COUNT(*)".into(),
                    format: "count".into(),
                    additive: true,
                    words: vec![],
                },
                "lower-case letters",
            ),
            (
                Lesson::Metric {
                    name: "trials".into(),
                    sql: "COUNT(*)".into(),
                    format: "percent".into(),
                    additive: true,
                    words: vec![],
                },
                "not one of count",
            ),
            (
                note(&"x".repeat(MAX_TEXT + 1)),
                "more than the 2000 allowed",
            ),
        ] {
            let err = lesson.tidy().unwrap_err();
            assert!(err.to_string().contains(reason), "{err}");
        }
    }
}
