//! Operators around the model's words, read with the lexicon: thresholds ("at least 50
//! users", "매출이 100달러 넘는"), "per"/"당" before or after a breakdown, exclusions
//! ("excluding mobile", "모바일 제외"), dimension words that qualify a value ("Google
//! 브랜드"), top N in every spelling ("top3", "상위10개", "3개국", "which 3 cities", "세 개"),
//! superlatives both ways ("가장 적은", "fewest"), percent, compare, count and cumulative words.
//!
//! An operator word that cannot be attached to what it acts on is left unread, so the
//! question is handed on instead of answered without it; operators read but in conflict
//! ("top 3 ... top 5") are `doubts`, handed on with their reason.

use std::ops::Range;

use super::{Hit, Reader, Top, bounded, overlaps, read_words};
use crate::lexicon::Cmp;
use crate::model::Term;

/// A threshold as read, before the plan binds it to a metric.
#[derive(Debug, Clone)]
pub(super) struct Threshold {
    /// The metric it names (its index in the model), or None when it names none ("countries
    /// with at least 50").
    pub metric: Option<usize>,
    pub op: Cmp,
    pub value: f64,
    /// Written with "%" or "퍼센트".
    pub percent: bool,
    pub words: String,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Operators {
    pub top: Option<Top>,
    pub percent: bool,
    pub compare: bool,
    /// "나머지는 기타로", "and the rest": the rows after the top N as one row.
    pub rest: bool,
    /// "각각", "respectively": values named together each on its own row.
    pub each: bool,
    /// "GA4 화면 기준": counted as GA4's reports count.
    pub approx: bool,
    pub thresholds: Vec<Threshold>,
    /// "몇 번", "how many times".
    pub count_cue: bool,
    /// "누적", "cumulative".
    pub cumulative: bool,
    /// Why operators that were read cannot be answered faithfully: handed on.
    pub doubts: Vec<String>,
    /// Phrases read and ignored.
    pub ignored: Vec<String>,
}

/// A number in the text: digits (with "$", thousands groups, decimals) or a written number.
#[derive(Debug, Clone)]
struct Number {
    span: Range<usize>,
    value: f64,
    /// Digits, not a written word.
    digits: bool,
}

impl Reader<'_> {
    pub(super) fn operators(
        &self,
        text: &str,
        used: &mut Vec<Range<usize>>,
        hits: &mut [Hit],
    ) -> Operators {
        let lex = self.lexicon();
        let mut ops = Operators {
            thresholds: self.thresholds(text, used, hits),
            ..Operators::default()
        };
        self.per(text, used, hits);
        self.exclusions(text, used, hits);
        self.qualifiers(text, hits);
        self.populations(text, hits);
        ops.top = self.top(text, used, hits, &mut ops.doubts);
        ops.percent = !read_words(text, used, lex.percent.all()).is_empty();
        ops.compare = !read_words(text, used, lex.compare.all()).is_empty();
        ops.rest = !read_words(text, used, lex.rest.all()).is_empty();
        ops.each = !read_words(text, used, lex.each.all()).is_empty();
        ops.approx = !read_words(text, used, lex.approx.all()).is_empty();
        ops.count_cue = !read_words(text, used, lex.count_cues.all()).is_empty();
        ops.cumulative = !read_words(text, used, lex.cumulative.all()).is_empty();
        // Ignored phrases of several words ("몇 초", "how many seconds"), after every operator
        // had its chance; single ignored words are set aside with the leftovers.
        for span in read_words(text, used, lex.ignore.all().filter(|w| w.contains(' '))) {
            ops.ignored.push(text[span].to_owned());
        }
        ops
    }

    /// Only spaces, particles and `also` words between two offsets.
    fn joined(&self, text: &str, from: usize, to: usize, also: &[&str]) -> bool {
        self.joined_by(text, from, to, |w| also.contains(&w))
    }

    /// Only spaces, particles and words `also` accepts between two offsets.
    fn joined_by(&self, text: &str, from: usize, to: usize, also: impl Fn(&str) -> bool) -> bool {
        if from > to {
            return false;
        }
        let lex = self.lexicon();
        text[from..to].split(' ').all(|piece| {
            let word = lex.strip(piece);
            piece.is_empty() || word.is_empty() || also(piece) || also(word)
        })
    }

    /// A Korean word written after what it acts on begins a word, or is glued to it.
    fn attached_after(&self, text: &str, end: usize, at: usize) -> bool {
        self.joined(text, end, at, &[])
            && (at == 0 || text[..at].ends_with(' ') || !text[end..at].contains(' '))
    }

    /// A number starting at `at`.
    fn number_at(&self, text: &str, at: usize) -> Option<Number> {
        let rest = &text[at..];
        let body = rest.strip_prefix('$').unwrap_or(rest);
        let skip = rest.len() - body.len();
        let digits = body.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let mut end = at + skip + digits;
            let mut literal: String = body[..digits].to_owned();
            // "1,000" is "1 000" after normalization: groups of exactly three digits.
            if digits <= 3 {
                while text[end..].starts_with(' ')
                    && text[end + 1..]
                        .bytes()
                        .take_while(u8::is_ascii_digit)
                        .count()
                        == 3
                    && !text[end + 4..].starts_with(|c: char| c.is_ascii_digit())
                {
                    literal.push_str(&text[end + 1..end + 4]);
                    end += 4;
                }
            }
            if text[end..].starts_with('.') {
                let n = text[end + 1..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                if n > 0 {
                    literal.push_str(&text[end..end + 1 + n]);
                    end += 1 + n;
                }
            }
            return literal.parse().ok().map(|value| Number {
                span: at..end,
                value,
                digits: true,
            });
        }
        let lex = self.lexicon();
        lex.numbers
            .iter()
            .filter(|(word, _)| text[at..].starts_with(word.as_str()))
            .map(|(word, value)| (at..at + word.len(), *value))
            .filter(|(span, _)| bounded(text, span) && (at == 0 || text[..at].ends_with(' ')))
            .max_by_key(|(span, _)| span.len())
            .map(|(span, value)| Number {
                span,
                value: value as f64,
                digits: false,
            })
    }

    /// A unit after a number ("명", "달러", " users", "%"), optional: the offset after it and
    /// whether it was a percent sign.
    fn unit_after(&self, text: &str, at: usize, used: &[Range<usize>]) -> (usize, bool) {
        match word_after(text, at, used, &self.lexicon().units) {
            Some((end, unit)) => (end, self.lexicon().percent.all().any(|w| w == unit)),
            None => (at, false),
        }
    }

    /// The metric hits right before `at` (particles or up to two ignorable words between)
    /// and right after it.
    fn metric_near(
        &self,
        text: &str,
        hits: &[Hit],
        at: Range<usize>,
    ) -> (Option<usize>, Option<usize>) {
        let lex = self.lexicon();
        let metric = |h: &Hit| match h.term {
            Term::Metric(i) => Some(i),
            _ => None,
        };
        let before = hits
            .iter()
            .filter(|h| h.span.end <= at.start)
            .filter(|h| {
                let gap = &text[h.span.end..at.start];
                gap.split(' ').filter(|p| !p.is_empty()).count() <= 2
                    && self.joined_by(text, h.span.end, at.start, |w| lex.ignorable(w))
            })
            .max_by_key(|h| h.span.end)
            .and_then(metric);
        let after = hits
            .iter()
            .filter(|h| h.span.start >= at.end && self.joined(text, at.end, h.span.start, &[]))
            .min_by_key(|h| h.span.start)
            .and_then(metric);
        (before, after)
    }

    fn thresholds(&self, text: &str, used: &mut Vec<Range<usize>>, hits: &[Hit]) -> Vec<Threshold> {
        let lex = self.lexicon();
        let mut out = Vec::new();
        for t in &lex.thresholds {
            // "at least 50 users", "more than $100"
            for word in sorted(&t.before) {
                for span in occurrences(text, word, used) {
                    let at = span.end + usize::from(text[span.end..].starts_with(' '));
                    let Some(n) = self.number_at(text, at).filter(|n| n.digits) else {
                        continue;
                    };
                    if overlaps(used, &n.span) {
                        continue;
                    }
                    let (end, percent) = self.unit_after(text, n.span.end, used);
                    // "at least 50 users", else "revenue over 100".
                    let (before, after) = self.metric_near(text, hits, span.start..end);
                    let metric = after.or(before);
                    used.push(span.start..end);
                    out.push(Threshold {
                        metric,
                        op: t.op,
                        value: n.value,
                        percent,
                        words: text[span.start..end].to_owned(),
                    });
                }
            }
            // "100달러 넘는", "1000 이상", "50 or more"
            for word in sorted(&t.after) {
                for span in occurrences(text, word, used) {
                    let before = text[..span.start].trim_end();
                    let token_start = before.rfind(' ').map_or(0, |i| i + 1);
                    let Some(n) = self
                        .number_at(text, token_start)
                        .filter(|n| n.digits && !overlaps(used, &n.span))
                    else {
                        continue;
                    };
                    let (end, percent) = self.unit_after(text, n.span.end, used);
                    if !self.joined(text, end, span.start, &[]) {
                        continue;
                    }
                    // "매출이 100달러 넘는": the subject comes first.
                    let (before, after) = self.metric_near(text, hits, n.span.start..span.end);
                    let metric = before.or(after);
                    used.push(n.span.start..span.end);
                    out.push(Threshold {
                        metric,
                        op: t.op,
                        value: n.value,
                        percent,
                        words: text[n.span.start..span.end].to_owned(),
                    });
                }
            }
        }
        out
    }

    /// "국가당 세션", "sessions per country": the word between a number and its breakdown.
    fn per(&self, text: &str, used: &mut Vec<Range<usize>>, hits: &[Hit]) {
        let lex = self.lexicon();
        let dimension = |h: &&Hit| matches!(h.term, Term::Dimension(_));
        for word in sorted(&lex.per) {
            for span in occurrences(text, word, used) {
                let glued_after = hits
                    .iter()
                    .filter(dimension)
                    .any(|h| h.span.end == span.start);
                let before = hits.iter().filter(dimension).any(|h| {
                    h.span.start >= span.end && self.joined(text, span.end, h.span.start, &[])
                });
                if glued_after || before {
                    used.push(span);
                }
            }
        }
    }

    fn exclusions(&self, text: &str, used: &mut Vec<Range<usize>>, hits: &mut [Hit]) {
        let lex = self.lexicon();
        let joiners: Vec<&str> = lex.joiners.iter().map(String::as_str).collect();
        let gap: Vec<&str> = lex.exclude.gap.iter().map(String::as_str).collect();
        let is_value = |h: &Hit| h.readings.iter().all(|t| matches!(t, Term::Value(..)));
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by_key(|&i| hits[i].span.start);
        for word in sorted(&lex.exclude.before) {
            for span in occurrences(text, word, used) {
                let first = order.iter().position(|&i| {
                    is_value(&hits[i])
                        && hits[i].span.start >= span.end
                        && self.joined(text, span.end, hits[i].span.start, &gap)
                });
                let Some(mut k) = first else { continue };
                used.push(span);
                hits[order[k]].exclude = true;
                while k + 1 < order.len()
                    && is_value(&hits[order[k + 1]])
                    && self.joined(
                        text,
                        hits[order[k]].span.end,
                        hits[order[k + 1]].span.start,
                        &joiners,
                    )
                {
                    k += 1;
                    hits[order[k]].exclude = true;
                }
            }
        }
        for word in sorted(&lex.exclude.after) {
            for span in occurrences(text, word, used) {
                let last = order.iter().rposition(|&i| {
                    is_value(&hits[i])
                        && hits[i].span.end <= span.start
                        && self.attached_after(text, hits[i].span.end, span.start)
                });
                let Some(mut k) = last else { continue };
                used.push(span);
                hits[order[k]].exclude = true;
                while k > 0
                    && is_value(&hits[order[k - 1]])
                    && self.joined(
                        text,
                        hits[order[k - 1]].span.end,
                        hits[order[k]].span.start,
                        &joiners,
                    )
                {
                    k -= 1;
                    hits[order[k]].exclude = true;
                }
            }
        }
    }

    /// A dimension word without a breakdown mark next to a value of its dimension names
    /// which dimension the value is: "Google 브랜드", "brand google", "source google".
    fn qualifiers(&self, text: &str, hits: &mut [Hit]) {
        let model = self.model;
        let lex = self.lexicon();
        let glue: Vec<&str> = lex.qualifier_gap.iter().map(String::as_str).collect();
        for d in 0..hits.len() {
            let Term::Dimension(dim) = hits[d].term else {
                continue;
            };
            let word = &text[hits[d].span.clone()];
            if lex
                .breakdown_marks
                .iter()
                .any(|m| word.contains(m.as_str()))
            {
                continue;
            }
            let name = &model.dimensions[dim].name;
            let next_to = |h: &Hit| {
                let (a, b) = if h.span.end <= hits[d].span.start {
                    (h.span.end, hits[d].span.start)
                } else {
                    (hits[d].span.end, h.span.start)
                };
                a <= b && self.joined(text, a, b, &glue)
            };
            let found = (0..hits.len()).find_map(|v| {
                if v == d || !next_to(&hits[v]) {
                    return None;
                }
                hits[v]
                    .readings
                    .iter()
                    .copied()
                    .find(|t| match t {
                        Term::Value(s, _) => &model.values[*s].dimension == name,
                        _ => false,
                    })
                    .map(|t| (v, t))
            });
            if let Some((v, reading)) = found {
                hits[v].term = reading;
                hits[v].readings = vec![reading];
                hits[d].qualifier = true;
            }
        }
    }

    /// "bounce rate for desktop users", "모바일 사용자의 이탈률": a population word right after
    /// a value says whose numbers they are when another number is asked for; "desktop users
    /// and bounce rate" (joined) asks for both.
    fn populations(&self, text: &str, hits: &mut [Hit]) {
        let lex = self.lexicon();
        let joiners: Vec<&str> = lex.joiners.iter().map(String::as_str).collect();
        let is_metric = |h: &Hit| matches!(h.term, Term::Metric(_)) && !h.qualifier;
        for m in 0..hits.len() {
            if !is_metric(&hits[m])
                || !lex
                    .population
                    .iter()
                    .any(|w| *w == text[hits[m].span.clone()])
            {
                continue;
            }
            let span = hits[m].span.clone();
            let after_value = hits.iter().any(|h| {
                matches!(h.term, Term::Value(..))
                    && h.span.end <= span.start
                    && self.joined(text, h.span.end, span.start, &[])
            });
            // What follows in the same word and the next word: a joiner keeps it a number.
            let rest = &text[span.end..];
            let (glued, next) = match rest.find(' ') {
                Some(i) => (&rest[..i], rest[i + 1..].split(' ').next().unwrap_or("")),
                None => (rest, ""),
            };
            let joiner = |w: &str| {
                !w.is_empty() && (joiners.contains(&w) || joiners.contains(&lex.strip(w)))
            };
            let joined_on = joiner(glued) || joiner(next);
            let other = hits.iter().enumerate().any(|(i, h)| i != m && is_metric(h));
            if after_value && !joined_on && other {
                hits[m].qualifier = true;
            }
        }
    }

    fn top(
        &self,
        text: &str,
        used: &mut Vec<Range<usize>>,
        hits: &[Hit],
        doubts: &mut Vec<String>,
    ) -> Option<Top> {
        let lex = self.lexicon();
        let mut found: Vec<(u64, Option<bool>)> = Vec::new();
        let counter_after =
            |used: &[Range<usize>], at| word_after(text, at, used, &lex.counters).map(|(e, _)| e);
        // "top 5", "top3", "상위10개", "하위 3", "top three"
        for (words, descending) in [(&lex.rank.descending, true), (&lex.rank.ascending, false)] {
            for word in sorted_all(words.all()) {
                for span in starts(text, word, used) {
                    let at = span.end + usize::from(text[span.end..].starts_with(' '));
                    let Some(n) = self
                        .number_at(text, at)
                        .filter(|n| !overlaps(used, &n.span))
                    else {
                        continue;
                    };
                    let end = counter_after(used, n.span.end).unwrap_or(n.span.end);
                    if !bounded(text, &(span.start..end)) {
                        continue;
                    }
                    used.push(span.start..end);
                    found.push((n.value as u64, Some(descending)));
                }
            }
        }
        // "5개", "3 곳", "1위", "세 개": a number that begins a word (Hangul may come before
        // digits: "상품5개").
        let mut at = 0;
        while at < text.len() {
            let begins = text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '.' && c != '$');
            if begins
                && let Some(n) = self
                    .number_at(text, at)
                    .filter(|n| !overlaps(used, &n.span))
                && let Some(end) = counter_after(used, n.span.end)
            {
                used.push(n.span.start..end);
                found.push((n.value as u64, None));
                at = end;
                continue;
            }
            at += text[at..].chars().next().map_or(1, char::len_utf8);
        }
        // "5 countries", "which 3 cities", "3개국": a number before a breakdown.
        for h in hits {
            if !matches!(h.term, Term::Dimension(_)) {
                continue;
            }
            let before = text[..h.span.start].trim_end();
            let token_start = before.rfind(' ').map_or(0, |i| i + 1);
            if let Some(n) = self.number_at(text, token_start).filter(|n| {
                !overlaps(used, &n.span) && self.joined(text, n.span.end, h.span.start, &[])
            }) {
                used.push(n.span.clone());
                found.push((n.value as u64, None));
            }
        }
        // "가장 많은", "fewest": the direction, and the first row when no number is given.
        let mut direction = None;
        for (words, descending) in [
            (&lex.superlative.descending, true),
            (&lex.superlative.ascending, false),
        ] {
            if !read_words(text, used, words.all()).is_empty() {
                if direction.is_some_and(|d| d != descending) {
                    doubts.push("both largest and smallest first".to_owned());
                }
                direction = Some(descending);
            }
        }
        let mut ns: Vec<u64> = found.iter().map(|(n, _)| *n).filter(|&n| n > 0).collect();
        ns.dedup();
        if found.iter().any(|(n, _)| *n == 0) || ns.len() > 1 {
            doubts.push(format!(
                "several numbers of rows ({})",
                found
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return None;
        }
        // "lowest revenue countries": a superlative over a plural breakdown without a number
        // asks for several rows, how many is not said.
        let plural = hits.iter().any(|h| {
            let word = &text[h.span.clone()];
            matches!(h.term, Term::Dimension(_))
                && word.ends_with('s')
                && word.starts_with(|c: char| c.is_ascii_alphabetic())
        });
        if ns.is_empty() && direction.is_some() && plural {
            doubts.push("a superlative over several rows without their number".to_owned());
            return None;
        }
        let ranked = found.iter().find_map(|(_, d)| *d);
        let descending = direction.or(ranked).unwrap_or(true);
        match (ns.first(), direction) {
            (Some(&n), _) => Some(Top { n, descending }),
            (None, Some(_)) => Some(Top { n: 1, descending }),
            (None, None) => None,
        }
    }
}

/// The longest of `words` right after `at` (glued, or after one space) and not yet read: the
/// offset after it, and the word.
fn word_after<'w>(
    text: &str,
    at: usize,
    used: &[Range<usize>],
    words: &'w [String],
) -> Option<(usize, &'w str)> {
    for gap in ["", " "] {
        if !text[at..].starts_with(gap) {
            continue;
        }
        let from = at + gap.len();
        if let Some(word) = words
            .iter()
            .map(|w| (w.as_str(), from..from + w.len()))
            .filter(|(w, span)| text[from..].starts_with(w) && !overlaps(used, span))
            .filter(|(_, span)| bounded(text, span))
            .max_by_key(|(w, _)| w.len())
        {
            return Some((word.1.end, word.0));
        }
    }
    None
}

fn sorted(words: &[String]) -> Vec<&str> {
    sorted_all(words.iter())
}

fn sorted_all<'w>(words: impl Iterator<Item = &'w String>) -> Vec<&'w str> {
    let mut out: Vec<&str> = words
        .map(String::as_str)
        .filter(|w| !w.is_empty())
        .collect();
    out.sort_by_key(|w| std::cmp::Reverse(w.len()));
    out
}

/// Unread, bounded occurrences of `word`.
fn occurrences(text: &str, word: &str, used: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(word) {
        let span = from + at..from + at + word.len();
        from = span.end;
        if !overlaps(used, &span) && bounded(text, &span) {
            out.push(span);
        }
    }
    out
}

/// Unread occurrences of `word` that begin a word; a number may be glued after ("top3").
fn starts(text: &str, word: &str, used: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(word) {
        let span = from + at..from + at + word.len();
        from = span.end;
        // A Latin word begins after a non-letter; a Korean one may follow a Korean word
        // ("사용자수상위5개").
        let latin = word.starts_with(|c: char| c.is_ascii_alphanumeric());
        let begins = text[..span.start].chars().next_back().is_none_or(|c| {
            if latin {
                !c.is_alphanumeric()
            } else {
                !c.is_ascii_alphanumeric()
            }
        });
        let after_ok = text[span.end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphabetic());
        if begins && after_ok && !overlaps(used, &span) {
            out.push(span);
        }
    }
    out
}
