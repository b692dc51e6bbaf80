//! The time scanner's vocabulary: the `time:` section of the model file's lexicon. Phrases
//! say what they name in a small grammar (`means: calendar month 1`), parsed here at load into
//! the scanner's own expressions, so a bad entry is refused with its words before any question
//! is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Atom, Back, Cal, Expr, Named, max_day};
use crate::error::SemanticError;
use crate::lexicon::Words;
use crate::normalize::normalize;

/// Words that name a period by themselves, and what they name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Phrase {
    /// In the grammar described in the model file: `days_ago 1`, `calendar week 0`, ...
    pub means: String,
    #[serde(default)]
    pub ko: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

/// Parts of a month after "N월".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonthParts {
    /// Days 1-10.
    pub early: Vec<String>,
    /// Days 11-20.
    pub middle: Vec<String>,
    /// Day 21 to the end of the month.
    pub late: Vec<String>,
}

/// Written counts of periods.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub ko: BTreeMap<String, u64>,
    pub en: BTreeMap<String, u64>,
}

/// English units after a count.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Units {
    pub day: Vec<String>,
    pub week: Vec<String>,
    pub month: Vec<String>,
    pub year: Vec<String>,
}

/// The English names of one month.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonthNames {
    #[serde(default)]
    pub long: Vec<String>,
    /// Abbreviations, which may end with a dot.
    #[serde(default)]
    pub short: Vec<String>,
}

/// A Korean phrase as the scanner reads it.
#[derive(Debug, Clone)]
pub(super) struct KoPhrase {
    pub(super) word: String,
    pub(super) expr: Expr,
    /// Counted only before a space, the end or a particle (see `strict`).
    pub(super) strict: bool,
}

/// The time words of the lexicon; every field is a key of the model file's `time:` section,
/// where each is described.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWords {
    pub phrases: Vec<Phrase>,
    pub strict: Vec<String>,
    pub strict_after: Vec<String>,
    pub phrase_breakers: Vec<String>,
    pub unit_breakers: Vec<String>,
    pub recent: Words,
    pub preceding: Words,
    pub preceding_after: Vec<String>,
    pub ago: Words,
    pub ended: Words,
    pub now: Words,
    pub since: Vec<String>,
    pub since_after: Vec<String>,
    pub until: Vec<String>,
    pub to: Vec<String>,
    pub dashes: Vec<String>,
    pub not_range_after: Vec<String>,
    pub counts: Counts,
    pub one: Vec<String>,
    pub one_week: Vec<String>,
    pub one_month: Vec<String>,
    pub month_parts: MonthParts,
    pub halves: BTreeMap<String, u32>,
    pub units: Units,
    pub months: Vec<MonthNames>,
    pub ambiguous_months: Vec<String>,
    pub ambiguous_after: Vec<String>,
    pub ordinals: Vec<String>,
    pub year_context: Vec<String>,
    pub rank: Vec<String>,
    /// Built at load from `phrases` and `strict`.
    #[serde(skip)]
    pub(super) ko_phrases: Vec<KoPhrase>,
    #[serde(skip)]
    pub(super) en_phrases: Vec<(String, Expr)>,
    /// The phrases meaning `calendar year BACK`, with BACK: the year of a month written with
    /// them ("작년 12월", "december last year").
    #[serde(skip)]
    pub(super) ko_years: Vec<(String, u64)>,
    #[serde(skip)]
    pub(super) en_years: Vec<(String, u64)>,
    /// Every month name, its number and whether it may end with a dot.
    #[serde(skip)]
    pub(super) month_names: Vec<(String, u32, bool)>,
    /// Every unit word; None stands for days.
    #[serde(skip)]
    pub(super) unit_words: Vec<(String, Option<Cal>)>,
}

/// What `means` may say, for error messages.
const GRAMMAR: &str = "days_ago N, rolling N (N > 0), calendar UNIT BACK, last_weekend, \
                       date M-D, before UNIT, day_before, period_before or year_ago, where UNIT \
                       is week, month, quarter or year";

impl TimeWords {
    /// Every word list, named by its key in the model file: the lexicon normalizes them with
    /// its own.
    pub(crate) fn lists(&mut self) -> Vec<(&'static str, &mut Vec<String>)> {
        let mut out: Vec<(&'static str, &mut Vec<String>)> = vec![
            ("time.strict", &mut self.strict),
            ("time.strict_after", &mut self.strict_after),
            ("time.phrase_breakers", &mut self.phrase_breakers),
            ("time.unit_breakers", &mut self.unit_breakers),
            ("time.recent", &mut self.recent.ko),
            ("time.recent", &mut self.recent.en),
            ("time.preceding", &mut self.preceding.ko),
            ("time.preceding", &mut self.preceding.en),
            ("time.preceding_after", &mut self.preceding_after),
            ("time.ago", &mut self.ago.ko),
            ("time.ago", &mut self.ago.en),
            ("time.ended", &mut self.ended.ko),
            ("time.ended", &mut self.ended.en),
            ("time.now", &mut self.now.ko),
            ("time.now", &mut self.now.en),
            ("time.since", &mut self.since),
            ("time.since_after", &mut self.since_after),
            ("time.until", &mut self.until),
            ("time.to", &mut self.to),
            ("time.dashes", &mut self.dashes),
            ("time.not_range_after", &mut self.not_range_after),
            ("time.one", &mut self.one),
            ("time.one_week", &mut self.one_week),
            ("time.one_month", &mut self.one_month),
            ("time.month_parts", &mut self.month_parts.early),
            ("time.month_parts", &mut self.month_parts.middle),
            ("time.month_parts", &mut self.month_parts.late),
            ("time.units", &mut self.units.day),
            ("time.units", &mut self.units.week),
            ("time.units", &mut self.units.month),
            ("time.units", &mut self.units.year),
            ("time.ambiguous_months", &mut self.ambiguous_months),
            ("time.ambiguous_after", &mut self.ambiguous_after),
            ("time.ordinals", &mut self.ordinals),
            ("time.year_context", &mut self.year_context),
            ("time.rank", &mut self.rank),
        ];
        for p in &mut self.phrases {
            out.push(("time.phrases", &mut p.ko));
            out.push(("time.phrases", &mut p.en));
        }
        for m in &mut self.months {
            out.push(("time.months", &mut m.long));
            out.push(("time.months", &mut m.short));
        }
        out
    }

    /// After the lists are normalized: normalizes the maps, parses `means` and builds the
    /// scanner's tables.
    pub(crate) fn prepare(&mut self) -> Result<(), SemanticError> {
        for map in [&mut self.counts.ko, &mut self.counts.en] {
            *map = normalized_keys(std::mem::take(map));
        }
        self.halves = normalized_keys(std::mem::take(&mut self.halves));
        if let Some((w, first)) = self.halves.iter().find(|(_, m)| !(1..=7).contains(*m)) {
            return Err(invalid(format!(
                "halves: \"{w}\" starts in month {first}; six months from it must end in the \
                 same year"
            )));
        }

        let mut ko: Vec<(String, Expr)> = Vec::new();
        let mut en: Vec<(String, Expr)> = Vec::new();
        for p in &self.phrases {
            let expr = parse_means(&p.means).ok_or_else(|| {
                let first = p.ko.iter().chain(&p.en).next().map_or("", String::as_str);
                invalid(format!(
                    "phrases: \"{first}\" means `{}`, which is not one of {GRAMMAR}",
                    p.means
                ))
            })?;
            for (words, table) in [(&p.ko, &mut ko), (&p.en, &mut en)] {
                for w in words {
                    if let Some((_, other)) = table.iter().find(|(x, _)| x == w)
                        && *other != expr
                    {
                        return Err(invalid(format!("phrases: \"{w}\" has two meanings")));
                    }
                    table.push((w.clone(), expr));
                }
            }
        }
        if let Some(w) = self
            .strict
            .iter()
            .find(|w| !ko.iter().any(|(x, _)| x == *w))
        {
            return Err(invalid(format!(
                "strict: \"{w}\" is not a Korean phrase of `phrases`"
            )));
        }
        let years = |table: &[(String, Expr)]| -> Vec<(String, u64)> {
            table
                .iter()
                .filter_map(|(w, x)| match x {
                    Expr::One(Atom::Calendar {
                        cal: Cal::Year,
                        back,
                    }) => Some((w.clone(), *back)),
                    _ => None,
                })
                .collect()
        };
        self.ko_years = years(&ko);
        self.en_years = years(&en);
        self.ko_phrases = ko
            .into_iter()
            .map(|(word, expr)| KoPhrase {
                strict: self.strict.contains(&word),
                word,
                expr,
            })
            .collect();
        self.en_phrases = en;

        if self.months.len() != 12 {
            return Err(invalid(format!(
                "months: {} entries; there must be twelve, January first",
                self.months.len()
            )));
        }
        self.month_names = (1..)
            .zip(&self.months)
            .flat_map(|(n, m)| {
                let long = m.long.iter().map(move |w| (w.clone(), n, false));
                long.chain(m.short.iter().map(move |w| (w.clone(), n, true)))
            })
            .collect();
        let units = &self.units;
        self.unit_words = [
            (&units.day, None),
            (&units.week, Some(Cal::Week)),
            (&units.month, Some(Cal::Month)),
            (&units.year, Some(Cal::Year)),
        ]
        .into_iter()
        .flat_map(|(words, unit)| words.iter().map(move |w| (w.clone(), unit)))
        .collect();
        Ok(())
    }
}

fn invalid(message: String) -> SemanticError {
    SemanticError::Model {
        message: format!("lexicon: time: {message}"),
    }
}

fn normalized_keys<V>(map: BTreeMap<String, V>) -> BTreeMap<String, V> {
    map.into_iter().map(|(k, v)| (normalize(&k), v)).collect()
}

/// One `means` of a phrase; None when it is not in the grammar.
fn parse_means(means: &str) -> Option<Expr> {
    let cal = |unit: &str| match unit {
        "week" => Some(Cal::Week),
        "month" => Some(Cal::Month),
        "quarter" => Some(Cal::Quarter),
        "year" => Some(Cal::Year),
        _ => None,
    };
    let count = |n: &str| n.parse::<u64>().ok();
    let parts: Vec<&str> = means.split_whitespace().collect();
    Some(match parts.as_slice() {
        ["days_ago", n] => Expr::One(Atom::DayAgo(count(n)?)),
        ["rolling", n] => Expr::One(Atom::Rolling(count(n).filter(|n| *n > 0)?)),
        ["calendar", unit, back] => Expr::One(Atom::Calendar {
            cal: cal(unit)?,
            back: count(back)?,
        }),
        ["last_weekend"] => Expr::One(Atom::LastWeekend),
        ["date", month_day] => {
            let (month, day) = month_day.split_once('-')?;
            let (month, day) = (month.parse().ok()?, day.parse().ok()?);
            if !(1..=12).contains(&month) || !(1..=max_day(month)).contains(&day) {
                return None;
            }
            Expr::One(Atom::Named(Named::Date {
                year: None,
                month,
                day,
            }))
        }
        ["before", unit] => Expr::Back(Back::Period(cal(unit)?)),
        ["day_before"] => Expr::Back(Back::Day),
        ["period_before"] => Expr::Back(Back::Same),
        ["year_ago"] => Expr::Back(Back::YearAgo),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SemanticModel;

    fn with(replace: &str, by: &str) -> String {
        let text = include_str!("../../../../fixtures/semantic/ga4.yaml");
        assert!(text.contains(replace), "{replace}");
        SemanticModel::from_yaml(&text.replacen(replace, by, 1))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn means_is_parsed_into_what_the_scanner_reads() {
        let cases = [
            ("days_ago 2", Expr::One(Atom::DayAgo(2))),
            (
                "calendar quarter 1",
                Expr::One(Atom::Calendar {
                    cal: Cal::Quarter,
                    back: 1,
                }),
            ),
            ("rolling 30", Expr::One(Atom::Rolling(30))),
            (
                "date 2-29",
                Expr::One(Atom::Named(Named::Date {
                    year: None,
                    month: 2,
                    day: 29,
                })),
            ),
            ("before week", Expr::Back(Back::Period(Cal::Week))),
            ("year_ago", Expr::Back(Back::YearAgo)),
        ];
        for (means, want) in cases {
            assert_eq!(parse_means(means), Some(want), "{means}");
        }
        for bad in [
            "",
            "days_ago",
            "days_ago -1",
            "rolling 0",
            "calendar fortnight 1",
            "calendar month",
            "date 2-30",
            "date 13-1",
            "before",
            "yesterday",
            "year_ago 1",
        ] {
            assert_eq!(parse_means(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bad_time_words_are_refused_with_the_entry() {
        let m = with(
            "{means: days_ago 0, ko: [오늘",
            "{means: days_ago soon, ko: [오늘",
        );
        assert!(
            m.contains("\"오늘\" means `days_ago soon`, which is not one of days_ago N"),
            "{m}"
        );
        let m = with(
            "{means: rolling 7, en: [",
            "{means: rolling 7, en: [today, ",
        );
        assert!(m.contains("\"today\" has two meanings"), "{m}");
        let m = with("strict: [오늘,", "strict: [모레,");
        assert!(m.contains("strict: \"모레\" is not a Korean phrase"), "{m}");
        let m = with("      - {short: [may]}\n", "");
        assert!(m.contains("months: 11 entries"), "{m}");
        let m = with("halves: {상반기: 1,", "halves: {상반기: 8,");
        assert!(m.contains("\"상반기\" starts in month 8"), "{m}");
        let m = with("dashes: [\"~\",", "dashes: [\"~\", \"?\",");
        assert!(
            m.contains("`time.dashes` has a word that is only punctuation"),
            "{m}"
        );
    }
}
