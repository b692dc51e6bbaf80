//! What analysts taught (`nlq_core::knowledge`), applied to the model: a taught metric joins
//! the metrics, a synonym joins the words of what it means. The same checks serve teaching
//! (a refusal says why) and loading (a lesson the model can no longer take, say a word the
//! model file has since claimed, is skipped and reported, never fatal).

use nlq_core::knowledge::Lesson;

use crate::error::SemanticError;
use crate::model::{
    FilterValue, Format, Grain, Metric, Origin, SemanticModel, Term, ValueSet, check_expr, invalid,
    is_column_name,
};
use crate::normalize::{is_syllable, normalize};

impl SemanticModel {
    /// The model with one more lesson, or why it cannot take it. Examples and notes do not
    /// change the model: they are returned unchanged.
    pub fn with_lesson(mut self, lesson: &Lesson) -> Result<Self, SemanticError> {
        match lesson {
            Lesson::Metric {
                name,
                sql,
                format,
                words,
                ..
            } => {
                if !is_column_name(name) {
                    return Err(invalid(format!(
                        "metric name `{name}` must start with a-z and hold only a-z, 0-9 and _"
                    )));
                }
                if let Some(term) = self.term_named(name) {
                    return Err(invalid(format!(
                        "`{name}` is already the name of {}",
                        self.describe(term)
                    )));
                }
                check_expr(name, sql)?;
                let words = if words.is_empty() {
                    vec![name.replace('_', " ")]
                } else {
                    words.clone()
                };
                for word in &words {
                    self.free_word(word)?;
                }
                let (ko, en) = by_language(words);
                self.metrics.push(Metric {
                    name: name.clone(),
                    sql: sql.clone(),
                    format: parse_format(format)?,
                    grain: Grain::Event,
                    events: Vec::new(),
                    per_item: None,
                    segment: None,
                    approx: None,
                    ko,
                    en,
                    origin: Origin::Taught,
                });
            }
            Lesson::Synonym { word, means } => {
                self.free_word(word)?;
                let korean = word.chars().any(is_syllable);
                let words = match self.meaning(means)? {
                    Term::Metric(i) => {
                        let m = &mut self.metrics[i];
                        if korean { &mut m.ko } else { &mut m.en }
                    }
                    Term::Dimension(i) => {
                        let d = &mut self.dimensions[i];
                        if korean { &mut d.ko } else { &mut d.en }
                    }
                    Term::Value(set, value) => {
                        let v = &mut self.values[set].values[value];
                        if korean { &mut v.ko } else { &mut v.en }
                    }
                };
                words.push(word.clone());
            }
            Lesson::Example { .. } | Lesson::Note { .. } => return Ok(self),
        }
        self.index()?;
        Ok(self)
    }

    /// The model with every lesson it can take, in the order taught; the others with why.
    pub fn with_lessons<'a>(
        self,
        lessons: impl IntoIterator<Item = (&'a str, &'a Lesson)>,
    ) -> (Self, Vec<String>) {
        let mut model = self;
        let mut skipped = Vec::new();
        for (id, lesson) in lessons {
            match model.clone().with_lesson(lesson) {
                Ok(taught) => model = taught,
                Err(err) => skipped.push(format!("{id} ({}) is not used: {err}", lesson.kind())),
            }
        }
        (model, skipped)
    }

    fn term_named(&self, name: &str) -> Option<Term> {
        self.metrics
            .iter()
            .position(|m| m.name == name)
            .map(Term::Metric)
            .or_else(|| {
                self.dimensions
                    .iter()
                    .position(|d| d.name == name)
                    .map(Term::Dimension)
            })
    }

    fn describe(&self, term: Term) -> String {
        self.term_name(term)
    }

    /// A word no term of the model has yet: one word names one thing.
    fn free_word(&self, word: &str) -> Result<(), SemanticError> {
        let key = normalize(word);
        if key.is_empty() {
            return Err(invalid(format!("{word:?} has no letters to match")));
        }
        match self.words().iter().find(|(w, _)| *w == key) {
            Some((_, terms)) => {
                let meanings: Vec<String> = terms.iter().map(|t| self.describe(*t)).collect();
                Err(invalid(format!(
                    "“{word}” already means {}: one word names one thing",
                    meanings.join(" and ")
                )))
            }
            None => Ok(()),
        }
    }

    /// What a synonym's `means` names: a metric, a dimension, `dimension=value`, or a value
    /// of exactly one dimension.
    fn meaning(&mut self, means: &str) -> Result<Term, SemanticError> {
        if let Some(term) = self.term_named(means) {
            return Ok(term);
        }
        if let Some((dimension, value)) = means.split_once('=') {
            let (dimension, value) = (dimension.trim(), value.trim());
            if self.dimension(dimension).is_none() {
                return Err(invalid(format!(
                    "`{dimension}` is not a dimension (in `{means}`)"
                )));
            }
            if let Some(term) = self.value_of(dimension, value) {
                return Ok(term);
            }
            // A value no set names yet (one the data has but no word was given for).
            let set = match self
                .values
                .iter()
                .position(|s| s.dimension == dimension && !s.literal)
            {
                Some(set) => set,
                None => {
                    self.values.push(ValueSet {
                        dimension: dimension.to_owned(),
                        literal: false,
                        values: Vec::new(),
                    });
                    self.values.len() - 1
                }
            };
            self.values[set].values.push(FilterValue {
                value: value.to_owned(),
                ko: Vec::new(),
                en: Vec::new(),
            });
            return Ok(Term::Value(set, self.values[set].values.len() - 1));
        }
        let matches: Vec<Term> = self
            .values
            .iter()
            .enumerate()
            .flat_map(|(s, set)| {
                set.values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.value == means)
                    .map(move |(v, _)| Term::Value(s, v))
            })
            .collect();
        let dimensions: std::collections::BTreeSet<&str> = matches
            .iter()
            .filter_map(|t| match t {
                Term::Value(s, _) => Some(self.values[*s].dimension.as_str()),
                _ => None,
            })
            .collect();
        match (matches.first(), dimensions.len()) {
            (Some(term), 1) => Ok(*term),
            (Some(_), _) => Err(invalid(format!(
                "`{means}` is a value of {}: say which, as dimension=value",
                dimensions.into_iter().collect::<Vec<_>>().join(" and ")
            ))),
            (None, _) => Err(invalid(format!(
                "`{means}` names no metric, dimension or value: use a name from the list, or \
                 dimension=value"
            ))),
        }
    }

    fn value_of(&self, dimension: &str, value: &str) -> Option<Term> {
        self.values.iter().enumerate().find_map(|(s, set)| {
            (set.dimension == dimension)
                .then(|| set.values.iter().position(|v| v.value == value))
                .flatten()
                .map(|v| Term::Value(s, v))
        })
    }
}

fn parse_format(format: &str) -> Result<Format, SemanticError> {
    Ok(match format {
        "count" => Format::Count,
        "currency" => Format::Currency,
        "ratio" => Format::Ratio,
        "seconds" => Format::Seconds,
        "decimal" => Format::Decimal,
        other => return Err(invalid(format!("format `{other}` is not known"))),
    })
}

/// Korean words and the others.
fn by_language(words: Vec<String>) -> (Vec<String>, Vec<String>) {
    words.into_iter().partition(|w| w.chars().any(is_syllable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> SemanticModel {
        SemanticModel::builtin().unwrap()
    }

    fn metric(name: &str, words: &[&str]) -> Lesson {
        Lesson::Metric {
            name: name.into(),
            sql: "COUNTIF(event_name = 'add_to_wishlist')".into(),
            format: "count".into(),
            additive: true,
            words: words.iter().map(|w| (*w).to_owned()).collect(),
        }
    }

    #[test]
    fn a_taught_metric_and_its_synonym_become_words() {
        let taught = model()
            .with_lesson(&metric("wishlist_adds", &["위시리스트 추가"]))
            .unwrap()
            .with_lesson(&Lesson::Synonym {
                word: "찜".into(),
                means: "wishlist_adds".into(),
            })
            .unwrap();
        let m = taught.metric("wishlist_adds").unwrap();
        assert_eq!(m.origin, Origin::Taught);
        assert_eq!(m.ko, vec!["위시리스트 추가", "찜"]);
        assert!(taught.words().iter().any(|(w, _)| w == "찜"));
    }

    #[test]
    fn collisions_and_unknown_meanings_are_refused_with_the_reason() {
        let base = model();
        let taken = base
            .words()
            .iter()
            .find(|(w, _)| w.len() > 3)
            .unwrap()
            .0
            .clone();
        for (lesson, reason) in [
            (
                Lesson::Synonym {
                    word: taken.clone(),
                    means: "revenue".into(),
                },
                "already means",
            ),
            (
                Lesson::Synonym {
                    word: "gizmo".into(),
                    means: "no_such_thing".into(),
                },
                "names no metric, dimension or value",
            ),
            (
                Lesson::Synonym {
                    word: "gizmo".into(),
                    means: "nope=1".into(),
                },
                "is not a dimension",
            ),
            (
                metric("revenue", &[]),
                "already the name of metric `revenue`",
            ),
            (metric("wishlist_adds", &[&taken]), "already means"),
            (
                Lesson::Metric {
                    name: "broken".into(),
                    sql: "COUNT(".into(),
                    format: "count".into(),
                    additive: true,
                    words: vec![],
                },
                "does not parse",
            ),
        ] {
            let err = base.clone().with_lesson(&lesson).unwrap_err();
            assert!(err.to_string().contains(reason), "{lesson:?}: {err}");
        }
        let dimension = &base.dimensions[0].name;
        let value = Lesson::Synonym {
            word: "zork".into(),
            means: format!("{dimension}=zork-value"),
        };
        let taught = base.clone().with_lesson(&value).unwrap();
        assert!(taught.words().iter().any(|(w, _)| w == "zork"));
        let (kept, skipped) = base.with_lessons([("k1", &value), ("k2", &value)]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(
            skipped[0].starts_with("k2 (synonym) is not used"),
            "{skipped:?}"
        );
        assert!(kept.words().iter().any(|(w, _)| w == "zork"));
    }
}
