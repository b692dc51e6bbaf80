//! The reader's vocabulary beyond the model's own names: particles and endings, words read
//! and ignored, operator words (top N, fewest, excluding, at least, percent, compare), written
//! numbers and counters, follow-up markers, time words (`time::TimeWords`). It is data (the
//! `lexicon:` section of the model file), so a deployment extends it without touching Rust.
//!
//! Every word is normalized at load like a question, and a word that is both ignored and
//! meaningful is refused: the reader must never skip a word that changes the answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::SemanticError;
use crate::normalize::normalize;
use crate::time::TimeWords;

/// Words that ask for each bucket's change from the one before, and the bucket they mean.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OverPrevious {
    pub grain: crate::model::TimeGrain,
    #[serde(flatten)]
    pub words: Words,
}

/// Korean and English spellings of one kind of word.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    #[serde(default)]
    pub ko: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

impl Words {
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.ko.iter().chain(&self.en)
    }

    pub(crate) fn normalize(&mut self) {
        for w in self.ko.iter_mut().chain(self.en.iter_mut()) {
            *w = normalize(w);
        }
    }
}

/// Words on either side of what they act on: "excluding mobile" / "모바일 제외".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sided {
    /// Written before what they act on.
    #[serde(default)]
    pub before: Vec<String>,
    /// Written after it.
    #[serde(default)]
    pub after: Vec<String>,
    /// Words that may stand between a word written before and what it acts on ("not on
    /// mobile").
    #[serde(default)]
    pub gap: Vec<String>,
}

/// A comparison of a metric with a number (`HAVING metric op value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Cmp {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

impl Cmp {
    pub fn sql(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub op: Cmp,
    /// Written before the number: "at least 50".
    #[serde(default)]
    pub before: Vec<String>,
    /// Written after it: "50 이상", "50 or more".
    #[serde(default)]
    pub after: Vec<String>,
}

/// Largest-first and smallest-first spellings of one ordering word.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ranked {
    pub descending: Words,
    pub ascending: Words,
}

/// Words that mark a question as continuing the previous one (see `understand::follow_up`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpWords {
    /// May stand anywhere: "그럼", "instead", "only".
    pub markers: Vec<String>,
    /// Count only as the first word: "and", "그리고".
    pub leads: Vec<String>,
    /// Add what the follow-up names instead of replacing: "also", "too".
    pub also: Vec<String>,
    /// The particle "도" alone or after a case particle: "국가별로도".
    pub also_particles: Vec<String>,
    /// May mean dropping a filter or a breakdown ("그럼 전체는?"): never read.
    pub undo: Vec<String>,
    /// Before what a follow-up drops ("by country instead of device"), which is not read.
    pub instead_of: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    /// Korean particles and endings: a closed class, stripped from the end of a word not
    /// otherwise read, repeatedly, longest first.
    pub particles: Vec<String>,
    /// Words of the general language read and ignored: requests, politeness, question
    /// words, analysis words that change nothing ("트렌드", "overview").
    pub ignore: Words,
    /// A maintained English stop-word list (its source is named in the model file); the
    /// words in `meaningful` are taken out of it at load.
    pub stop_words: Vec<String>,
    /// Words that can change an answer: never ignored, whatever list has them.
    pub meaningful: Vec<String>,
    /// Words before a number of rows: "top 5", "상위 3", "bottom 2".
    pub rank: Ranked,
    /// Superlatives: the first row (or the first N with a number).
    pub superlative: Ranked,
    /// Counters after a number of rows: "5개", "3곳", "1위".
    pub counters: Vec<String>,
    /// Written numbers: "three", "세", "다섯".
    pub numbers: BTreeMap<String, u64>,
    /// "excluding mobile", "모바일 제외".
    pub exclude: Sided,
    /// "at least 50", "100달러 넘는".
    pub thresholds: Vec<Threshold>,
    /// Units after a threshold's number: "명", "달러", "$", "users".
    pub units: Vec<String>,
    /// Shares and percentages: "비율", "percent", "share".
    pub percent: Words,
    /// "대비", "vs", "compared with".
    pub compare: Words,
    /// "GA4 화면 기준", "as in the GA4 UI": users and sessions as GA4's reports estimate them.
    #[serde(default)]
    pub approx: Words,
    /// "각각", "respectively": values of one dimension on their own rows, not summed.
    #[serde(default)]
    pub each: Words,
    /// "기타", "the rest": with a top N, everything else as one more row.
    #[serde(default)]
    pub rest: Words,
    /// Words after which a second period is defined by the first: "전", "before".
    pub counts_back: Vec<String>,
    /// "how many times", "몇 번": with an event named and no metric, a count of events.
    pub count_cues: Words,
    /// Between a breakdown and what it breaks down: "국가당", "per country".
    pub per: Vec<String>,
    /// A dimension word containing one of these is a breakdown ("브랜드별", "by brand").
    pub breakdown_marks: Vec<String>,
    /// Words that may stand between a dimension word and the value it qualifies ("brand is
    /// google").
    pub qualifier_gap: Vec<String>,
    /// "누적", "cumulative": a total from the first day of data.
    pub cumulative: Words,
    /// "전주 대비 증감률", "week over week": a series by that grain with each bucket's change
    /// from the one before.
    #[serde(default)]
    pub over_previous: Vec<OverPrevious>,
    /// Metric words that, right after a value, may only say whose numbers are asked for
    /// ("desktop users' bounce rate").
    pub population: Vec<String>,
    /// Metrics offered when a question names none (names of the model's metrics).
    pub clarify_metrics: Vec<String>,
    /// Words that join two values or two operands: "and", "or", "과".
    pub joiners: Vec<String>,
    pub follow_up: FollowUpWords,
    /// Days, periods, months, ranges: what the time scanner reads.
    pub time: TimeWords,
}

impl Lexicon {
    /// Normalizes every word and checks that nothing meaningful is ignored.
    pub(crate) fn prepare(&mut self) -> Result<(), SemanticError> {
        for (name, list) in self.lists() {
            for w in list.iter_mut() {
                *w = normalize(w);
            }
            // A word that normalizes to nothing (punctuation, spaces) would match everywhere.
            if list.iter().any(String::is_empty) {
                return Err(SemanticError::Model {
                    message: format!(
                        "lexicon: `{name}` has a word that is only punctuation or spaces, which \
                         questions never contain after normalization; take it out"
                    ),
                });
            }
        }
        self.numbers = std::mem::take(&mut self.numbers)
            .into_iter()
            .map(|(k, v)| (normalize(&k), v))
            .collect();
        // Longest first: "이었어요" must be tried before "요".
        self.particles
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let meaningful = self.meaningful.clone();
        self.stop_words.retain(|w| !meaningful.contains(w));
        if let Some(w) = self.ignore.all().find(|w| meaningful.contains(w)) {
            return Err(SemanticError::Model {
                message: format!(
                    "lexicon: \"{w}\" is both ignored and meaningful; take it out of `ignore`"
                ),
            });
        }
        self.time.prepare()
    }

    /// Every word list, named by its key in the model file.
    fn lists(&mut self) -> Vec<(&'static str, &mut Vec<String>)> {
        let mut out: Vec<(&'static str, &mut Vec<String>)> = Vec::new();
        for entry in &mut self.over_previous {
            out.push(("over_previous", &mut entry.words.ko));
            out.push(("over_previous", &mut entry.words.en));
        }
        out.extend(vec![
            ("particles", &mut self.particles),
            ("ignore", &mut self.ignore.ko),
            ("ignore", &mut self.ignore.en),
            ("stop_words", &mut self.stop_words),
            ("meaningful", &mut self.meaningful),
            ("rank", &mut self.rank.descending.ko),
            ("rank", &mut self.rank.descending.en),
            ("rank", &mut self.rank.ascending.ko),
            ("rank", &mut self.rank.ascending.en),
            ("superlative", &mut self.superlative.descending.ko),
            ("superlative", &mut self.superlative.descending.en),
            ("superlative", &mut self.superlative.ascending.ko),
            ("superlative", &mut self.superlative.ascending.en),
            ("counters", &mut self.counters),
            ("exclude", &mut self.exclude.before),
            ("exclude", &mut self.exclude.after),
            ("exclude", &mut self.exclude.gap),
            ("units", &mut self.units),
            ("percent", &mut self.percent.ko),
            ("percent", &mut self.percent.en),
            ("compare", &mut self.compare.ko),
            ("compare", &mut self.compare.en),
            ("approx", &mut self.approx.ko),
            ("approx", &mut self.approx.en),
            ("each", &mut self.each.ko),
            ("each", &mut self.each.en),
            ("rest", &mut self.rest.ko),
            ("rest", &mut self.rest.en),
            ("counts_back", &mut self.counts_back),
            ("count_cues", &mut self.count_cues.ko),
            ("count_cues", &mut self.count_cues.en),
            ("per", &mut self.per),
            ("breakdown_marks", &mut self.breakdown_marks),
            ("qualifier_gap", &mut self.qualifier_gap),
            ("cumulative", &mut self.cumulative.ko),
            ("cumulative", &mut self.cumulative.en),
            ("population", &mut self.population),
            ("joiners", &mut self.joiners),
            ("follow_up", &mut self.follow_up.markers),
            ("follow_up", &mut self.follow_up.leads),
            ("follow_up", &mut self.follow_up.also),
            ("follow_up", &mut self.follow_up.also_particles),
            ("follow_up", &mut self.follow_up.undo),
            ("follow_up", &mut self.follow_up.instead_of),
        ]);
        for t in &mut self.thresholds {
            out.push(("thresholds", &mut t.before));
            out.push(("thresholds", &mut t.after));
        }
        out.extend(self.time.lists());
        out
    }

    /// A word read and ignored: it carries no analytic meaning.
    pub fn ignorable(&self, word: &str) -> bool {
        self.ignore.all().any(|w| w == word) || self.stop_words.iter().any(|w| w == word)
    }

    /// A written number ("three", "세") or digits.
    pub fn number(&self, word: &str) -> Option<u64> {
        if !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
            return word.parse().ok();
        }
        self.numbers.get(word).copied()
    }

    /// Strips particles and endings from the end of `token`, repeatedly, keeping at least one
    /// character. A word that is a particle alone becomes empty. Ignorable words are kept
    /// whole: "보여줘" must not lose its last syllable.
    pub fn strip<'t>(&self, token: &'t str) -> &'t str {
        let mut word = token;
        loop {
            if self.ignorable(word) {
                return word;
            }
            match self
                .particles
                .iter()
                .find(|p| word.len() > p.len() && word.ends_with(p.as_str()))
            {
                Some(p) => word = &word[..word.len() - p.len()],
                None => {
                    return if self.particles.iter().any(|p| p == word) {
                        ""
                    } else {
                        word
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::SemanticModel;

    #[test]
    fn endings_are_stripped_by_rule_and_ignored_words_kept_whole() {
        let model = SemanticModel::builtin().unwrap();
        let lex = &model.lexicon;
        for (token, word) in [
            ("사용자는", "사용자"),
            ("알려줄래요", "알려"),
            ("정리해주세요", "정리"),
            ("지난주꺼", "지난주"),
            ("얼마였지", "얼마"),
            ("보여줘", "보여줘"),
            ("은", ""),
            ("users", "users"),
        ] {
            assert_eq!(lex.strip(token), word, "{token}");
        }
        assert!(lex.ignorable("please") && lex.ignorable("좀") && lex.ignorable("the"));
        // Stop words that change an answer are taken out of the list at load.
        assert!(!lex.ignorable("not") && !lex.ignorable("between") && !lex.ignorable("why"));
        assert_eq!(
            (lex.number("세"), lex.number("five"), lex.number("12")),
            (Some(3), Some(5), Some(12))
        );
    }
}
