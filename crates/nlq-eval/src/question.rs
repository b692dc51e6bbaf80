//! The benchmark question file: JSON Lines, one question per line.
//!
//! ```text
//! {"id": "dev-001", "question": "11월 유입 소스별 신규 사용자 수 상위 3개", "lang": "ko",
//!  "kind": "semantic", "gold_sql": "SELECT ...", "as_of": "2021-02-01",
//!  "order_matters": true, "notes": "..."}
//! ```
//!
//! Parsing is strict, because a typo in a benchmark silently changes what is measured:
//! unknown fields and unknown kinds are errors, every in-scope question needs a gold query, an
//! out-of-scope one must not have one, and ids are unique.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::EvalError;

/// What a question tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Answerable from the semantic model (metrics x dimensions x time).
    Semantic,
    /// Answerable from the data, but beyond the semantic model (joins, funnels, pairs, ...).
    Complex,
    /// Not a question about the data (or a request to change it): must be declined.
    OutOfScope,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Semantic, Kind::Complex, Kind::OutOfScope];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Semantic => "semantic",
            Kind::Complex => "complex",
            Kind::OutOfScope => "out_of_scope",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One benchmark question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub question: String,
    /// Language tag, `ko` or `en` in the shipped files (any non-empty tag is accepted).
    pub lang: String,
    pub kind: Kind,
    /// The reference query; `None` exactly for out-of-scope questions.
    #[serde(default)]
    pub gold_sql: Option<String>,
    /// The day the question is asked (`YYYY-MM-DD`), which anchors relative time words.
    #[serde(default)]
    pub as_of: Option<String>,
    /// True when the row order is part of the answer (top N, time series).
    #[serde(default)]
    pub order_matters: bool,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Parses a question file (JSON Lines). Blank lines are skipped; an error names the 1-based
/// line and what is wrong with it.
pub fn parse_questions(text: &str) -> Result<Vec<Question>, EvalError> {
    let mut questions = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = if index == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        if raw.trim().is_empty() {
            continue;
        }
        let question: Question = serde_json::from_str(raw).map_err(|e| EvalError::BadLine {
            line,
            message: json_message(&e),
        })?;
        check(&question).map_err(|message| EvalError::BadLine { line, message })?;
        if let Some(&first_line) = first_line_of.get(&question.id) {
            return Err(EvalError::DuplicateId {
                id: question.id,
                line,
                first_line,
            });
        }
        first_line_of.insert(question.id.clone(), line);
        questions.push(question);
    }
    if questions.is_empty() {
        return Err(EvalError::NoQuestions);
    }
    Ok(questions)
}

/// serde_json's message without its `at line 1 column N` suffix (every line is parsed on its
/// own, so the line is always 1); the column is kept for syntax errors, where it helps.
fn json_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    if error.is_syntax() || error.is_eof() {
        format!("invalid JSON at column {}: {bare}", error.column())
    } else {
        bare.to_string()
    }
}

/// What serde cannot check: required text is not blank, the gold query agrees with the kind,
/// `as_of` is a date.
fn check(q: &Question) -> Result<(), String> {
    for (field, value) in [("id", &q.id), ("question", &q.question), ("lang", &q.lang)] {
        if value.trim().is_empty() {
            return Err(format!("`{field}` is empty"));
        }
    }
    let has_gold = q.gold_sql.as_deref().is_some_and(|s| !s.trim().is_empty());
    match q.kind {
        Kind::Semantic | Kind::Complex if !has_gold => {
            return Err(format!(
                "question `{}` is {} but has no `gold_sql`",
                q.id, q.kind
            ));
        }
        Kind::OutOfScope if q.gold_sql.is_some() => {
            return Err(format!(
                "question `{}` is out_of_scope but has a `gold_sql` (it must be absent or null)",
                q.id
            ));
        }
        _ => {}
    }
    if let Some(as_of) = &q.as_of
        && !is_date(as_of)
    {
        return Err(format!(
            "question `{}`: `as_of` must be a YYYY-MM-DD date, got {as_of:?}",
            q.id
        ));
    }
    Ok(())
}

/// `YYYY-MM-DD` with a month in 1..=12 and a day that month can have.
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        text.get(r.clone())
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
    };
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use nlq_core::{Classify, ErrorClass};

    use super::*;

    const GOOD: &str = r#"{"id": "q1", "question": "11월 매출", "lang": "ko", "kind": "semantic", "gold_sql": "SELECT 1", "as_of": "2021-02-01", "order_matters": true, "notes": "n"}"#;

    fn line_error(text: &str) -> (usize, String) {
        match parse_questions(text) {
            Err(EvalError::BadLine { line, message }) => (line, message),
            other => panic!("expected a bad line, got {other:?}"),
        }
    }

    #[test]
    fn parses_all_fields_and_skips_blank_lines() {
        let text = format!(
            "\n{GOOD}\n   \n{}\n",
            r#"{"id": "q2", "question": "poem", "lang": "en", "kind": "out_of_scope"}"#
        );
        let qs = parse_questions(&text).unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].id, "q1");
        assert_eq!(qs[0].kind, Kind::Semantic);
        assert_eq!(qs[0].gold_sql.as_deref(), Some("SELECT 1"));
        assert_eq!(qs[0].as_of.as_deref(), Some("2021-02-01"));
        assert!(qs[0].order_matters);
        assert_eq!(qs[0].notes.as_deref(), Some("n"));
        assert_eq!(qs[1].kind, Kind::OutOfScope);
        assert_eq!(qs[1].gold_sql, None);
        assert!(!qs[1].order_matters);
        assert_eq!(qs[1].as_of, None);
    }

    #[test]
    fn accepts_crlf_bom_and_null_gold() {
        let text = format!(
            "\u{feff}{GOOD}\r\n{}\r\n",
            r#"{"id": "q2", "question": "x", "lang": "en", "kind": "out_of_scope", "gold_sql": null}"#
        );
        assert_eq!(parse_questions(&text).unwrap().len(), 2);
    }

    #[test]
    fn parses_the_shipped_dev_file_format() {
        let text = r#"{"id": "dev-020", "question": "Write a short poem about our checkout funnel.", "lang": "en", "kind": "out_of_scope", "gold_sql": null, "as_of": "2021-02-01", "order_matters": false, "notes": "creative writing, not a data question"}
{"id": "dev-004", "question": "Which pairs?", "lang": "en", "kind": "complex", "gold_sql": "WITH p AS (SELECT 1)\nSELECT * FROM p", "as_of": "2021-02-01", "order_matters": true, "notes": "pairs"}"#;
        let qs = parse_questions(text).unwrap();
        assert_eq!(qs[1].kind, Kind::Complex);
        assert!(qs[1].gold_sql.as_deref().unwrap().contains('\n'));
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        let (line, message) = line_error(&format!("{GOOD}\n\n{{\"id\": \"q2\",,}}"));
        assert_eq!(line, 3);
        assert!(message.starts_with("invalid JSON at column "), "{message}");
        assert!(!message.contains("at line 1"), "{message}");
    }

    #[test]
    fn unknown_kind_is_an_error() {
        let (line, message) = line_error(
            r#"{"id": "q", "question": "x", "lang": "en", "kind": "trivia", "gold_sql": "SELECT 1"}"#,
        );
        assert_eq!(line, 1);
        assert!(message.contains("unknown variant `trivia`"), "{message}");
    }

    #[test]
    fn unknown_and_missing_fields_are_errors() {
        let (_, message) = line_error(
            r#"{"id": "q", "question": "x", "lang": "en", "kind": "semantic", "gold_sql": "S", "order_maters": true}"#,
        );
        assert!(
            message.contains("unknown field `order_maters`"),
            "{message}"
        );
        let (_, message) = line_error(r#"{"id": "q", "lang": "en", "kind": "out_of_scope"}"#);
        assert!(message.contains("missing field `question`"), "{message}");
        let (_, message) = line_error(
            r#"{"id": "q", "question": "x", "lang": "en", "kind": "out_of_scope", "order_matters": "yes"}"#,
        );
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn gold_sql_must_agree_with_kind() {
        let (line, message) = line_error(&format!(
            "{GOOD}\n{}",
            r#"{"id": "q2", "question": "x", "lang": "en", "kind": "complex", "gold_sql": "  "}"#
        ));
        assert_eq!(line, 2);
        assert!(
            message.contains("complex but has no `gold_sql`"),
            "{message}"
        );
        let (_, message) =
            line_error(r#"{"id": "q3", "question": "x", "lang": "en", "kind": "semantic"}"#);
        assert!(message.contains("no `gold_sql`"), "{message}");
        let (_, message) = line_error(
            r#"{"id": "q4", "question": "x", "lang": "en", "kind": "out_of_scope", "gold_sql": "SELECT 1"}"#,
        );
        assert!(
            message.contains("out_of_scope but has a `gold_sql`"),
            "{message}"
        );
    }

    #[test]
    fn empty_text_fields_and_bad_dates_are_errors() {
        let (_, message) =
            line_error(r#"{"id": " ", "question": "x", "lang": "en", "kind": "out_of_scope"}"#);
        assert_eq!(message, "`id` is empty");
        let (_, message) =
            line_error(r#"{"id": "q", "question": "x", "lang": "", "kind": "out_of_scope"}"#);
        assert_eq!(message, "`lang` is empty");
        for bad in [
            "2021-2-01",
            "2021-13-01",
            "2021-02-29",
            "20210201",
            "2021-02-0x",
        ] {
            let text = format!(
                r#"{{"id": "q", "question": "x", "lang": "en", "kind": "out_of_scope", "as_of": "{bad}"}}"#
            );
            let (_, message) = line_error(&text);
            assert!(
                message.contains("`as_of` must be a YYYY-MM-DD date"),
                "{bad}: {message}"
            );
        }
        assert!(is_date("2020-02-29"));
        assert!(!is_date("1900-02-29"));
        assert!(is_date("2000-02-29"));
    }

    #[test]
    fn duplicate_ids_name_both_lines() {
        let err = parse_questions(&format!("{GOOD}\n\n{GOOD}")).unwrap_err();
        assert_eq!(
            err,
            EvalError::DuplicateId {
                id: "q1".into(),
                line: 3,
                first_line: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "questions line 3: duplicate id `q1` (first used on line 1)"
        );
    }

    #[test]
    fn a_file_without_questions_is_an_error() {
        assert_eq!(parse_questions("\n  \n"), Err(EvalError::NoQuestions));
        assert_eq!(parse_questions(""), Err(EvalError::NoQuestions));
    }

    #[test]
    fn bad_question_files_are_the_users_fault() {
        let (line, message) = line_error("nope");
        let err = EvalError::BadLine { line, message };
        assert_eq!(err.class(), ErrorClass::User);
        assert!(
            err.to_string()
                .starts_with("questions line 1: invalid JSON")
        );
        assert_eq!(EvalError::NoQuestions.class(), ErrorClass::User);
    }

    #[test]
    fn kind_serializes_snake_case() {
        assert_eq!(
            serde_json::to_string(&Kind::OutOfScope).unwrap(),
            "\"out_of_scope\""
        );
        assert_eq!(Kind::OutOfScope.to_string(), "out_of_scope");
    }
}
