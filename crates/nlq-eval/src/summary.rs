//! Accuracy over a run: overall, by kind, by language, by both; wrong-confident answers; the
//! status counts. Serializes to JSON and renders as a plain-text report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::question::Kind;
use crate::score::{Outcome, Status};

/// Longest detail shown on a report line.
const MAX_DETAIL_CHARS: usize = 100;

/// Counts over a group of questions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub total: usize,
    pub correct: usize,
    pub wrong_confident: usize,
    /// `correct / total`, 0 for an empty group.
    pub accuracy: f64,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        self.total += 1;
        self.correct += usize::from(outcome.correct);
        self.wrong_confident += usize::from(outcome.wrong_confident);
        self.accuracy = self.correct as f64 / self.total as f64;
    }
}

/// A [`Tally`] of the questions of one kind in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindLangTally {
    pub kind: Kind,
    pub lang: String,
    #[serde(flatten)]
    pub tally: Tally,
}

/// The summary of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub overall: Tally,
    /// Only the kinds that occur.
    pub by_kind: BTreeMap<Kind, Tally>,
    /// Only the languages that occur.
    pub by_lang: BTreeMap<String, Tally>,
    /// Sorted by kind, then language; only the pairs that occur.
    pub by_kind_lang: Vec<KindLangTally>,
    pub wrong_confident: usize,
    /// Every status, with 0 for those that did not occur.
    pub by_status: BTreeMap<Status, usize>,
}

impl Summary {
    pub fn from_outcomes(outcomes: &[Outcome]) -> Summary {
        let mut overall = Tally::default();
        let mut by_kind: BTreeMap<Kind, Tally> = BTreeMap::new();
        let mut by_lang: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_kind_lang: BTreeMap<(Kind, String), Tally> = BTreeMap::new();
        let mut by_status: BTreeMap<Status, usize> = Status::ALL.iter().map(|&s| (s, 0)).collect();
        for o in outcomes {
            overall.add(o);
            by_kind.entry(o.kind).or_default().add(o);
            by_lang.entry(o.lang.clone()).or_default().add(o);
            by_kind_lang
                .entry((o.kind, o.lang.clone()))
                .or_default()
                .add(o);
            *by_status.entry(o.status).or_default() += 1;
        }
        Summary {
            overall,
            by_kind,
            by_lang,
            by_kind_lang: by_kind_lang
                .into_iter()
                .map(|((kind, lang), tally)| KindLangTally { kind, lang, tally })
                .collect(),
            wrong_confident: overall.wrong_confident,
            by_status,
        }
    }
}

/// A plain-text report: one line per question, then the accuracy lines.
///
/// ```text
/// id       kind          lang  status    ok  detail
/// dev-001  semantic      ko    answered  ✓   matched (source -> #0 source, new_users -> #1 n)
/// dev-020  out_of_scope  en    answered  ✗!  answered a question it should have declined
///
/// overall          38/40   95.0%
/// semantic         24/24  100.0%
/// ...
/// semantic/ko      12/12  100.0%
/// wrong-confident (✗!): 1
/// status: answered 39, refused 1
/// ```
///
/// `✗!` marks a wrong-confident answer.
pub fn render_table(outcomes: &[Outcome], summary: &Summary) -> String {
    let width = |header: &str, cells: &mut dyn Iterator<Item = usize>| {
        cells.fold(header.chars().count(), usize::max)
    };
    let id_w = width("id", &mut outcomes.iter().map(|o| o.id.chars().count()));
    let kind_w = width("kind", &mut outcomes.iter().map(|o| o.kind.as_str().len()));
    let lang_w = width("lang", &mut outcomes.iter().map(|o| o.lang.chars().count()));
    let status_w = width(
        "status",
        &mut outcomes.iter().map(|o| o.status.as_str().len()),
    );

    let mut out = String::new();
    let mut line = |id: &str, kind: &str, lang: &str, status: &str, ok: &str, detail: &str| {
        let cells = [
            padded(id, id_w),
            padded(kind, kind_w),
            padded(lang, lang_w),
            padded(status, status_w),
            padded(ok, 2),
            detail.to_string(),
        ];
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    };
    line("id", "kind", "lang", "status", "ok", "detail");
    for o in outcomes {
        let ok = if o.correct {
            "✓"
        } else if o.wrong_confident {
            "✗!"
        } else {
            "✗"
        };
        line(
            &o.id,
            o.kind.as_str(),
            &o.lang,
            o.status.as_str(),
            ok,
            &short(&o.detail),
        );
    }

    let mut tallies: Vec<(String, &Tally)> = vec![("overall".into(), &summary.overall)];
    tallies.extend(summary.by_kind.iter().map(|(k, t)| (k.to_string(), t)));
    tallies.extend(summary.by_lang.iter().map(|(l, t)| (l.clone(), t)));
    tallies.extend(
        summary
            .by_kind_lang
            .iter()
            .map(|g| (format!("{}/{}", g.kind, g.lang), &g.tally)),
    );
    let counts: Vec<String> = tallies
        .iter()
        .map(|(_, t)| format!("{}/{}", t.correct, t.total))
        .collect();
    let label_w = tallies
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    let count_w = counts.iter().map(String::len).max().unwrap_or(0);
    out.push('\n');
    for ((label, tally), count) in tallies.iter().zip(&counts) {
        let percent = format!("{:.1}%", tally.accuracy * 100.0);
        let _ = writeln!(
            out,
            "{}  {count:>count_w$}  {percent:>6}",
            padded(label, label_w)
        );
    }
    let _ = writeln!(out, "wrong-confident (✗!): {}", summary.wrong_confident);
    let statuses: Vec<String> = summary
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    let _ = writeln!(out, "status: {}", statuses.join(", "));
    out
}

/// `cell` padded with spaces to `width` characters.
fn padded(cell: &str, width: usize) -> String {
    let n = width.saturating_sub(cell.chars().count());
    format!("{cell}{}", " ".repeat(n))
}

/// The detail on one line, cut to [`MAX_DETAIL_CHARS`].
fn short(detail: &str) -> String {
    let one_line = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_DETAIL_CHARS {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX_DETAIL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, kind: Kind, lang: &str, status: Status, correct: bool) -> Outcome {
        Outcome {
            id: id.into(),
            kind,
            lang: lang.into(),
            status,
            correct,
            wrong_confident: !correct && status == Status::Answered,
            detail: if correct { "ok" } else { "not ok" }.into(),
            sql: None,
            elapsed_ms: 1.0,
        }
    }

    fn run() -> Vec<Outcome> {
        vec![
            outcome("s1", Kind::Semantic, "ko", Status::Answered, true),
            outcome("s2", Kind::Semantic, "ko", Status::Answered, true),
            outcome("s3", Kind::Semantic, "en", Status::Answered, false),
            outcome("s4", Kind::Semantic, "en", Status::NeedsLlm, false),
            outcome("c1", Kind::Complex, "en", Status::Answered, true),
            outcome("c2", Kind::Complex, "ko", Status::Error, false),
            outcome("o1", Kind::OutOfScope, "ko", Status::Refused, true),
            outcome("o2", Kind::OutOfScope, "en", Status::Answered, false),
        ]
    }

    #[test]
    fn accuracy_overall_and_by_group() {
        let s = Summary::from_outcomes(&run());
        assert_eq!(
            s.overall,
            Tally {
                total: 8,
                correct: 4,
                wrong_confident: 2,
                accuracy: 0.5
            }
        );
        assert_eq!(s.wrong_confident, 2);
        let sem = s.by_kind[&Kind::Semantic];
        assert_eq!((sem.total, sem.correct, sem.accuracy), (4, 2, 0.5));
        let cx = s.by_kind[&Kind::Complex];
        assert_eq!((cx.total, cx.correct, cx.accuracy), (2, 1, 0.5));
        let oos = s.by_kind[&Kind::OutOfScope];
        assert_eq!((oos.total, oos.correct, oos.wrong_confident), (2, 1, 1));
        let ko = &s.by_lang["ko"];
        assert_eq!((ko.total, ko.correct, ko.accuracy), (4, 3, 0.75));
        let en = &s.by_lang["en"];
        assert_eq!((en.total, en.correct, en.accuracy), (4, 1, 0.25));
        let groups: Vec<(Kind, &str, usize, usize)> = s
            .by_kind_lang
            .iter()
            .map(|g| (g.kind, g.lang.as_str(), g.tally.correct, g.tally.total))
            .collect();
        assert_eq!(
            groups,
            [
                (Kind::Semantic, "en", 0, 2),
                (Kind::Semantic, "ko", 2, 2),
                (Kind::Complex, "en", 1, 1),
                (Kind::Complex, "ko", 0, 1),
                (Kind::OutOfScope, "en", 0, 1),
                (Kind::OutOfScope, "ko", 1, 1),
            ]
        );
        assert_eq!(s.by_status[&Status::Answered], 5);
        assert_eq!(s.by_status[&Status::Refused], 1);
        assert_eq!(s.by_status[&Status::NeedsLlm], 1);
        assert_eq!(s.by_status[&Status::Error], 1);
        assert_eq!(s.by_status[&Status::Clarify], 0);
        assert_eq!(s.by_status.len(), Status::ALL.len());
    }

    #[test]
    fn empty_run_has_zero_accuracy() {
        let s = Summary::from_outcomes(&[]);
        assert_eq!(s.overall, Tally::default());
        assert!(s.by_kind.is_empty());
        assert!(s.by_kind_lang.is_empty());
        let text = render_table(&[], &s);
        assert!(text.contains("overall"));
        assert!(text.contains("overall  0/0    0.0%"), "{text}");
    }

    #[test]
    fn summary_serializes_to_json_and_back() {
        let s = Summary::from_outcomes(&run());
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["overall"]["accuracy"], 0.5);
        assert_eq!(json["by_kind"]["out_of_scope"]["total"], 2);
        assert_eq!(json["by_lang"]["ko"]["correct"], 3);
        assert_eq!(json["by_kind_lang"][0]["kind"], "semantic");
        assert_eq!(json["by_kind_lang"][0]["lang"], "en");
        assert_eq!(json["by_kind_lang"][0]["total"], 2);
        assert_eq!(json["by_status"]["needs_llm"], 1);
        assert_eq!(json["wrong_confident"], 2);
        let back: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn table_lists_questions_then_accuracy() {
        let mut outcomes = run();
        outcomes[0].detail = "matched\n(source -> #0 source)".into();
        outcomes[1].detail = "x".repeat(300);
        let s = Summary::from_outcomes(&outcomes);
        let text = render_table(&outcomes, &s);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id  kind          lang  status     ok  detail");
        assert_eq!(
            lines[1],
            "s1  semantic      ko    answered   ✓   matched (source -> #0 source)"
        );
        assert!(lines[2].ends_with('…'));
        let detail = lines[2].trim_start_matches(|c| c != 'x');
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS);
        assert_eq!(lines[3], "s3  semantic      en    answered   ✗!  not ok");
        assert_eq!(lines[4], "s4  semantic      en    needs_llm  ✗   not ok");
        assert_eq!(lines[9], "");
        let report = &lines[10..];
        assert_eq!(report[0], "overall          4/8   50.0%");
        assert_eq!(report[1], "semantic         2/4   50.0%");
        assert_eq!(report[3], "out_of_scope     1/2   50.0%");
        assert_eq!(report[4], "en               1/4   25.0%");
        assert_eq!(report[5], "ko               3/4   75.0%");
        assert_eq!(report[6], "semantic/en      0/2    0.0%");
        assert_eq!(report[7], "semantic/ko      2/2  100.0%");
        assert_eq!(report[12], "wrong-confident (✗!): 2");
        assert_eq!(
            report[13],
            "status: answered 5, refused 1, needs_llm 1, error 1"
        );
        assert_eq!(report.len(), 14);
    }
}
