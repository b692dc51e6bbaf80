//! Scoring one question: was the answer right, and if wrong, was it wrong with confidence?
//!
//! | kind               | status                  | correct            | wrong-confident     |
//! |--------------------|-------------------------|--------------------|---------------------|
//! | semantic / complex | answered                | iff result matched | iff it did not      |
//! | semantic / complex | out_of_scope / refused  | no                 | no (a miss)         |
//! | out_of_scope       | out_of_scope / refused  | iff no SQL ran     | no                  |
//! | out_of_scope       | answered                | no                 | yes                 |
//! | any                | needs_llm / clarify     | no                 | no (handed on)      |
//! | any                | error                   | no                 | no                  |

use serde::{Deserialize, Serialize};

use crate::compare::Comparison;
use crate::question::{Kind, Question};

/// What nlq did with a question: the pipeline's own status.
pub use nlq_core::Status;

/// The scored result of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub id: String,
    pub kind: Kind,
    pub lang: String,
    pub status: Status,
    pub correct: bool,
    /// Presented an answer, and it was wrong.
    pub wrong_confident: bool,
    pub detail: String,
    /// The SQL nlq produced, if any.
    pub sql: Option<String>,
    pub elapsed_ms: f64,
}

impl Outcome {
    /// Scores `question` (see [`score`]) and records the outcome.
    pub fn new(
        question: &Question,
        status: Status,
        sql: Option<String>,
        sql_ran: bool,
        comparison: Option<&Comparison>,
        elapsed_ms: f64,
    ) -> Outcome {
        let (correct, wrong_confident, detail) = score(question, status, sql_ran, comparison);
        Outcome {
            id: question.id.clone(),
            kind: question.kind,
            lang: question.lang.clone(),
            status,
            correct,
            wrong_confident,
            detail,
            sql,
            elapsed_ms,
        }
    }
}

/// Scores one question: `(correct, wrong_confident, detail)`.
///
/// `sql_ran` says whether any SQL of nlq's ran on the warehouse; `comparison` is the answer's
/// result compared with the gold result, when both ran. An answered in-scope question without
/// a comparison (its result or the gold's is missing) is neither correct nor wrong-confident.
pub fn score(
    question: &Question,
    status: Status,
    sql_ran: bool,
    comparison: Option<&Comparison>,
) -> (bool, bool, String) {
    match (question.kind, status) {
        (_, Status::NeedsLlm) => (false, false, "handed on: needs an LLM".into()),
        (_, Status::Clarify) => (false, false, "asked for clarification".into()),
        (_, Status::Error) => (false, false, "failed with an error".into()),
        // The evaluation sets no approval threshold and asks for no plans: not seen there.
        (_, Status::NeedsApproval | Status::Planned) => (
            false,
            false,
            "stopped before running (approval or plan only)".into(),
        ),

        (Kind::Semantic | Kind::Complex, Status::Answered) => match comparison {
            Some(c) if c.matched => (true, false, c.reason.clone()),
            Some(c) => (false, true, format!("wrong answer: {}", c.reason)),
            None => (
                false,
                false,
                "answered, but there is no result comparison".into(),
            ),
        },
        (Kind::Semantic | Kind::Complex, Status::OutOfScope | Status::Refused) => (
            false,
            false,
            format!("declined ({status}) an answerable question"),
        ),

        (Kind::OutOfScope, Status::OutOfScope | Status::Refused) if sql_ran => {
            (false, false, format!("declined ({status}), but SQL ran"))
        }
        (Kind::OutOfScope, Status::OutOfScope | Status::Refused) => {
            (true, false, format!("declined ({status}), no SQL ran"))
        }
        (Kind::OutOfScope, Status::Answered) => (
            false,
            true,
            "answered a question it should have declined".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(kind: Kind) -> Question {
        Question {
            id: "q".into(),
            question: "?".into(),
            lang: "en".into(),
            kind,
            gold_sql: (kind != Kind::OutOfScope).then(|| "SELECT 1".into()),
            as_of: None,
            order_matters: false,
            notes: None,
        }
    }

    fn comparison(matched: bool) -> Comparison {
        Comparison {
            matched,
            reason: if matched {
                "matched (a -> #0 a)"
            } else {
                "row count differs"
            }
            .into(),
            mapping: vec![matched.then_some(0)],
        }
    }

    /// (correct, wrong_confident) for every (kind, status), with the SQL having run and, for
    /// answers, a comparison that matched / did not.
    #[test]
    fn score_table_for_every_kind_and_status() {
        let hit = comparison(true);
        let miss = comparison(false);
        for kind in [Kind::Semantic, Kind::Complex] {
            let q = question(kind);
            let cases = [
                (Status::Answered, Some(&hit), (true, false)),
                (Status::Answered, Some(&miss), (false, true)),
                (Status::Answered, None, (false, false)),
                (Status::OutOfScope, None, (false, false)),
                (Status::Refused, None, (false, false)),
                (Status::NeedsLlm, None, (false, false)),
                (Status::Clarify, None, (false, false)),
                (Status::Error, None, (false, false)),
            ];
            for (status, c, expected) in cases {
                for sql_ran in [false, true] {
                    let (correct, wrong, _) = score(&q, status, sql_ran, c);
                    assert_eq!((correct, wrong), expected, "{kind} {status} ran={sql_ran}");
                }
            }
        }
        let q = question(Kind::OutOfScope);
        let cases = [
            (Status::Answered, false, (false, true)),
            (Status::Answered, true, (false, true)),
            (Status::OutOfScope, false, (true, false)),
            (Status::OutOfScope, true, (false, false)),
            (Status::Refused, false, (true, false)),
            (Status::Refused, true, (false, false)),
            (Status::NeedsLlm, false, (false, false)),
            (Status::Clarify, false, (false, false)),
            (Status::Error, false, (false, false)),
            (Status::Error, true, (false, false)),
        ];
        for (status, sql_ran, expected) in cases {
            // A stray comparison never makes an out-of-scope answer right.
            for c in [None, Some(&hit)] {
                let (correct, wrong, _) = score(&q, status, sql_ran, c);
                assert_eq!(
                    (correct, wrong),
                    expected,
                    "out_of_scope {status} ran={sql_ran}"
                );
            }
        }
    }

    #[test]
    fn details_say_why() {
        let q = question(Kind::Semantic);
        assert_eq!(
            score(&q, Status::Answered, true, Some(&comparison(true))).2,
            "matched (a -> #0 a)"
        );
        assert_eq!(
            score(&q, Status::Answered, true, Some(&comparison(false))).2,
            "wrong answer: row count differs"
        );
        assert_eq!(
            score(&q, Status::Refused, false, None).2,
            "declined (refused) an answerable question"
        );
        let q = question(Kind::OutOfScope);
        assert_eq!(
            score(&q, Status::OutOfScope, true, None).2,
            "declined (out_of_scope), but SQL ran"
        );
        assert_eq!(
            score(&q, Status::Refused, false, None).2,
            "declined (refused), no SQL ran"
        );
    }

    #[test]
    fn outcome_records_the_question_and_the_score() {
        let mut q = question(Kind::Complex);
        q.lang = "ko".into();
        let o = Outcome::new(
            &q,
            Status::Answered,
            Some("SELECT 2".into()),
            true,
            Some(&comparison(false)),
            12.5,
        );
        assert_eq!(o.id, "q");
        assert_eq!(o.kind, Kind::Complex);
        assert_eq!(o.lang, "ko");
        assert!(!o.correct);
        assert!(o.wrong_confident);
        assert_eq!(o.sql.as_deref(), Some("SELECT 2"));
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["status"], "answered");
        assert_eq!(json["kind"], "complex");
        assert_eq!(json["elapsed_ms"], 12.5);
        let back: Outcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn statuses_serialize_snake_case() {
        let names: Vec<String> = Status::ALL
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"answered\"",
                "\"out_of_scope\"",
                "\"refused\"",
                "\"needs_llm\"",
                "\"clarify\"",
                "\"error\"",
                "\"needs_approval\"",
                "\"planned\""
            ]
        );
        for s in Status::ALL {
            assert_eq!(format!("\"{s}\""), serde_json::to_string(&s).unwrap());
        }
    }
}
