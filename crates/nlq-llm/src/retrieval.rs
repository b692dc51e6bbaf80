//! Retrieval of the verified (golden) queries most similar to a question: the examples the SQL
//! prompts carry. `ExampleIndex` is the seam a vector store can replace; `LexicalIndex` needs
//! no network and no model.
//!
//! ```text
//!  text ─► normalize (nlq-semantic: NFKC, case, spacing)
//!       ─► surface tokens, every word weighing about one:
//!            Latin words (plurals folded, stop words dropped), numbers,
//!            a number with its Korean counter ("7일", "12월"),
//!            Hangul runs as character bigrams ("사용자는" → 사용 용자 자는, a third each)
//!       ─► glossary phrases found in the text (longest first; Latin words whole, Hangul with
//!            any particle): each adds one token for what it names, so "방문자 수" and
//!            "사용자 수" both carry `users`; the spelling inside a phrase weighs a quarter
//!  score: BM25 (k1 = 1.2, b = 0.75) of the question's weighted tokens against each example's
//!         question; ties keep the examples' order
//! ```
//!
//! What lexical matching cannot do: it knows no synonym the glossary does not list ("지난" and
//! "최근" share nothing), and it reads no meaning into word order or numbers. The glossary built
//! from the semantic model covers the model's words; time words it does not cover.

use std::collections::HashMap;

use nlq_semantic::SemanticModel;
use nlq_semantic::model::Golden;
use nlq_semantic::normalize::normalize;
use serde::Serialize;

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalization.
const B: f64 = 0.75;
/// Weight of a glossary concept: one more word, the thing the phrase names.
const CONCEPT_WEIGHT: f64 = 1.0;
/// Weight of the spelled tokens inside a glossary phrase. Its meaning is carried by the concept;
/// its spelling still counts a little, so a partial spelling ("디바이스" for "디바이스별") is
/// not lost, but an example that repeats the words of a phrase naming something else does not
/// outrank one that names the same thing in other words.
const SPELLING_WEIGHT: f64 = 0.25;
/// Marks concept tokens: never part of a surface token, which holds letters and digits only.
const CONCEPT_MARK: char = '#';

/// Latin words that say nothing about what is asked.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "at", "be", "been", "by", "can", "could", "did", "do", "does", "each",
    "for", "from", "get", "give", "how", "i", "in", "is", "it", "its", "list", "many", "me",
    "much", "my", "of", "on", "or", "our", "per", "please", "show", "tell", "that", "the", "there",
    "to", "was", "we", "were", "what", "which", "who", "with", "would", "you",
];

/// Hangul tokens that say nothing about what is asked: request endings ("보여줘", "알려주세요",
/// "어떻게 되나요"), "얼마나", "몇", "및".
const HANGUL_STOP: &[&str] = &[
    "보여", "여줘", "알려", "려줘", "해줘", "주세", "세요", "얼마", "마나", "어떻", "떻게", "되나",
    "나요", "니까", "몇", "및", "좀",
];

/// Ranks verified examples by similarity to a question.
pub trait ExampleIndex: Send + Sync {
    /// At most `k` examples that share something with the question, best first; equal scores
    /// keep the order the examples were given in. An example sharing nothing is never returned,
    /// so the result may be shorter than `k` (and is empty for an empty index).
    fn top_k(&self, question: &str, k: usize) -> Vec<Scored<'_>>;
}

/// One retrieved example.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored<'a> {
    pub question: &'a str,
    pub sql: &'a str,
    /// BM25 score: larger is more similar; comparable only within one index.
    pub score: f64,
}

/// A word or phrase and what it names: `("방문자 수", "metric users")`. Entries naming the same
/// thing make their texts synonyms for retrieval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlossaryEntry {
    pub text: String,
    pub names: String,
}

impl GlossaryEntry {
    pub fn new(text: impl Into<String>, names: impl Into<String>) -> Self {
        GlossaryEntry {
            text: text.into(),
            names: names.into(),
        }
    }

    /// Every word of the semantic model (metrics, dimensions, filter values; Korean and
    /// English), each naming its term.
    pub fn from_model(model: &SemanticModel) -> Vec<GlossaryEntry> {
        model
            .words()
            .iter()
            .flat_map(|(word, terms)| {
                terms
                    .iter()
                    .map(|term| GlossaryEntry::new(word.clone(), model.term_name(*term)))
            })
            .collect()
    }
}

/// BM25 over normalized words, Hangul bigrams and glossary concepts; built once, then read
/// only (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct LexicalIndex {
    examples: Vec<Golden>,
    glossary: Glossary,
    /// Token → term id.
    terms: HashMap<String, usize>,
    /// Per term: (example, idf × saturated term frequency), examples ascending.
    postings: Vec<Vec<(usize, f64)>>,
}

impl LexicalIndex {
    /// Indexes the examples' questions (not their SQL). The glossary may be empty.
    pub fn new(examples: &[Golden], glossary: &[GlossaryEntry]) -> Self {
        let glossary = Glossary::new(glossary);
        let mut terms: HashMap<String, usize> = HashMap::new();
        // Per example: (term, occurrences), and its length in words (the sum of its weights).
        let mut docs: Vec<(Vec<(usize, u32)>, f64)> = Vec::with_capacity(examples.len());
        for example in examples {
            let tokens = glossary.tokens(&example.question);
            let mut counts: Vec<(usize, u32)> = Vec::new();
            for (token, _) in &tokens {
                let next = terms.len();
                let id = *terms.entry(token.clone()).or_insert(next);
                match counts.iter_mut().find(|(t, _)| *t == id) {
                    Some((_, tf)) => *tf += 1,
                    None => counts.push((id, 1)),
                }
            }
            docs.push((counts, tokens.iter().map(|(_, w)| w).sum::<f64>()));
        }
        let n = examples.len() as f64;
        let total: f64 = docs.iter().map(|(_, len)| len).sum();
        let avg_len = if total > 0.0 { total / n } else { 1.0 };
        let mut df = vec![0usize; terms.len()];
        for (counts, _) in &docs {
            for (id, _) in counts {
                df[*id] += 1;
            }
        }
        let idf: Vec<f64> = df
            .iter()
            .map(|&d| (1.0 + (n - d as f64 + 0.5) / (d as f64 + 0.5)).ln())
            .collect();
        let mut postings = vec![Vec::new(); terms.len()];
        for (doc, (counts, len)) in docs.iter().enumerate() {
            let norm = K1 * (1.0 - B + B * len / avg_len);
            for &(id, tf) in counts {
                let tf = f64::from(tf);
                postings[id].push((doc, idf[id] * tf * (K1 + 1.0) / (tf + norm)));
            }
        }
        LexicalIndex {
            examples: examples.to_vec(),
            glossary,
            terms,
            postings,
        }
    }

    /// The model's golden queries, with the model's words as the glossary.
    pub fn from_model(model: &SemanticModel) -> Self {
        Self::new(&model.golden, &GlossaryEntry::from_model(model))
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The glossary entries found in the question, in the order they appear.
    pub fn glossary_matches(&self, question: &str) -> Vec<&GlossaryEntry> {
        self.glossary
            .find(&normalize(question))
            .into_iter()
            .map(|(_, _, entry)| &self.glossary.entries[entry])
            .collect()
    }
}

impl ExampleIndex for LexicalIndex {
    fn top_k(&self, question: &str, k: usize) -> Vec<Scored<'_>> {
        if k == 0 || self.examples.is_empty() {
            return Vec::new();
        }
        // Query terms once each, in the order they first appear, so every run adds the same
        // numbers in the same order and equal examples get bit-equal scores.
        let mut query: Vec<(&str, f64)> = Vec::new();
        let tokens = self.glossary.tokens(question);
        for (token, weight) in &tokens {
            match query.iter_mut().find(|(t, _)| *t == token.as_str()) {
                Some((_, w)) => *w += weight,
                None => query.push((token.as_str(), *weight)),
            }
        }
        let mut scores = vec![0.0f64; self.examples.len()];
        for (token, weight) in query {
            if let Some(&id) = self.terms.get(token) {
                for &(doc, part) in &self.postings[id] {
                    scores[doc] += weight * part;
                }
            }
        }
        let mut hits: Vec<(f64, usize)> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, score)| *score > 0.0)
            .map(|(doc, score)| (score, doc))
            .collect();
        let order =
            |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1));
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, order);
            hits.truncate(k);
        }
        hits.sort_unstable_by(order);
        hits.into_iter()
            .map(|(score, doc)| Scored {
                question: &self.examples[doc].question,
                sql: &self.examples[doc].sql,
                score,
            })
            .collect()
    }
}

/// Glossary entries with their normalized texts, longest first, and a concept token per entry.
#[derive(Debug, Clone)]
struct Glossary {
    entries: Vec<GlossaryEntry>,
    /// (normalized text, entry): longest first, then by text, then in the order given.
    order: Vec<(String, usize)>,
    /// The concept token of each entry: the mark and what it names.
    concept: Vec<String>,
}

impl Glossary {
    fn new(entries: &[GlossaryEntry]) -> Self {
        let mut order: Vec<(String, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (normalize(&e.text), i))
            .filter(|(text, _)| !text.is_empty())
            .collect();
        order.sort_by(|a, b| {
            b.0.len()
                .cmp(&a.0.len())
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        });
        let concept = entries
            .iter()
            .map(|e| format!("{CONCEPT_MARK}{}", normalize(&e.names)))
            .collect();
        Glossary {
            entries: entries.to_vec(),
            order,
            concept,
        }
    }

    /// The entries found in a normalized text, in text order, with their byte spans: longest
    /// first, never overlapping, Latin words whole ("os" is not in "across"), Hangul with
    /// whatever particle follows or precedes it ("방문자는").
    fn find(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for (needle, entry) in &self.order {
            let mut from = 0;
            while let Some(at) = text[from..].find(needle.as_str()) {
                let (start, end) = (from + at, from + at + needle.len());
                from = end;
                let overlaps = found.iter().any(|&(s, e, _)| s < end && start < e);
                if !overlaps && bounded(text, start, end) {
                    found.push((start, end, *entry));
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// The weighted tokens of a text: its surface tokens, those inside a glossary phrase
    /// weighed down, then one concept per phrase.
    fn tokens(&self, text: &str) -> Vec<(String, f64)> {
        let text = normalize(text);
        let phrases = self.find(&text);
        let mut out: Vec<(String, f64)> = surface_tokens(&text)
            .into_iter()
            .map(|t| {
                let inside = phrases.iter().any(|&(s, e, _)| s < t.end && t.start < e);
                let weight = if inside {
                    t.weight * SPELLING_WEIGHT
                } else {
                    t.weight
                };
                (t.text, weight)
            })
            .collect();
        for (_, _, entry) in phrases {
            out.push((self.concept[entry].clone(), CONCEPT_WEIGHT));
        }
        out
    }
}

/// A Latin letter or digit must not continue past either edge of a match; Hangul edges may
/// (particles attach to words).
fn bounded(text: &str, start: usize, end: usize) -> bool {
    let latin = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let matched = &text[start..end];
    let glued_before = matched.chars().next().is_some_and(latin)
        && text[..start].chars().next_back().is_some_and(latin);
    let glued_after = matched.chars().next_back().is_some_and(latin)
        && text[end..].chars().next().is_some_and(latin);
    !(glued_before || glued_after)
}

fn is_hangul(c: char) -> bool {
    matches!(c,
        '\u{AC00}'..='\u{D7A3}'   // syllables
        | '\u{1100}'..='\u{11FF}' // jamo
        | '\u{3130}'..='\u{318F}' // compatibility jamo
        | '\u{A960}'..='\u{A97F}' // jamo extended A
        | '\u{D7B0}'..='\u{D7FF}' // jamo extended B
    )
}

/// A surface token: its text, its weight (every word of a question weighs about one,
/// whatever its length and script), and the bytes of the text it came from.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    weight: f64,
    start: usize,
    end: usize,
}

/// The surface tokens of a normalized text, in order:
/// - a Latin word is one token, its plural folded, unless it is a stop word; a number is one;
/// - a number followed by Hangul is one token with its counter ("7일", "12월", "3개월" → "3개");
///   the rest of that Hangul run is read as a run of its own when it has two syllables or more
///   (one is a particle: "12월에");
/// - a Hangul run of one syllable is that syllable; a longer one is its character bigrams,
///   sharing one word's weight ("사용자는" → 사용 용자 자는, a third each).
fn surface_tokens(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let c = chars[i].1;
        if is_hangul(c) {
            while i < chars.len() && is_hangul(chars[i].1) {
                i += 1;
            }
            let run = &chars[start..i];
            if let [(at, one)] = run {
                push_hangul(&mut out, one.to_string(), 1.0, *at, byte(i));
            } else {
                let weight = 1.0 / (run.len() - 1) as f64;
                for (k, pair) in run.windows(2).enumerate() {
                    let text: String = pair.iter().map(|(_, c)| c).collect();
                    push_hangul(&mut out, text, weight, pair[0].0, byte(start + k + 2));
                }
            }
        } else if c.is_alphanumeric() {
            while i < chars.len() && chars[i].1.is_alphanumeric() && !is_hangul(chars[i].1) {
                i += 1;
            }
            let word: String = chars[start..i].iter().map(|(_, c)| c).collect();
            if let Some(&(_, counter)) = chars.get(i).filter(|(_, c)| is_hangul(*c))
                && word.bytes().all(|b| b.is_ascii_digit())
            {
                out.push(Token {
                    text: format!("{word}{counter}"),
                    weight: 1.0,
                    start: byte(start),
                    end: byte(i + 1),
                });
                i += 1;
                let rest = chars[i..].iter().take_while(|(_, c)| is_hangul(*c)).count();
                if rest == 1 {
                    i += 1;
                }
            } else if !STOP_WORDS.contains(&word.as_str()) {
                out.push(Token {
                    text: fold_plural(word),
                    weight: 1.0,
                    start: byte(start),
                    end: byte(i),
                });
            }
        } else {
            i += 1;
        }
    }
    out
}

fn push_hangul(out: &mut Vec<Token>, text: String, weight: f64, start: usize, end: usize) {
    if !HANGUL_STOP.contains(&text.as_str()) {
        out.push(Token {
            text,
            weight,
            start,
            end,
        });
    }
}

/// English plurals to their singular, for words of four letters or more: "categories" →
/// "category", "sessions" → "session", "boxes" → "box"; "status", "analysis", "class" stay.
fn fold_plural(word: String) -> String {
    if word.len() < 4 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word;
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_string();
        }
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word;
    }
    match word.strip_suffix('s') {
        Some(stem) => stem.to_string(),
        None => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens as `text` (weight one) or `text weight`, weights to two decimals.
    #[track_caller]
    fn check(text: &str, expect: &[&str]) {
        let got: Vec<String> = surface_tokens(&normalize(text))
            .into_iter()
            .map(|t| {
                if (t.weight - 1.0).abs() < 1e-9 {
                    t.text
                } else {
                    format!("{} {:.2}", t.text, t.weight)
                }
            })
            .collect();
        assert_eq!(got, expect, "tokens of {text:?}");
    }

    #[test]
    fn surface_tokens_of_both_languages() {
        check("사용자는", &["사용 0.33", "용자 0.33", "자는 0.33"]);
        check("사용자 수", &["사용 0.50", "용자 0.50", "수"]);
        check(
            "지난 7일 방문자 몇 명",
            &["지난", "7일", "방문 0.50", "문자 0.50", "명"],
        );
        check("2020년 12월에 3개월", &["2020년", "12월", "3개"]);
        check("7일간 12월부터", &["7일", "12월", "부터"]);
        check("매출 좀 보여줘", &["매출"]);
        check(
            "Show me the Sessions by Device Categories",
            &["session", "device", "category"],
        );
        check("add_to_cart events", &["add", "cart", "event"]);
        check("Ｔｏｐ １０ products", &["top", "10", "product"]);
        check(
            "ga4 status analysis boxes",
            &["ga4", "status", "analysis", "box"],
        );
        check("?!", &[]);
    }

    #[test]
    fn tokens_know_where_they_come_from() {
        let text = normalize("os별로 7일");
        let spans: Vec<&str> = surface_tokens(&text)
            .iter()
            .map(|t| &text[t.start..t.end])
            .collect();
        assert_eq!(spans, ["os", "별로", "7일"]);
    }

    #[test]
    fn plural_folding_keeps_short_words_and_latin_only() {
        for (word, folded) in [
            ("users", "user"),
            ("categories", "category"),
            ("classes", "class"),
            ("searches", "search"),
            ("os", "os"),
            ("ads", "ads"),
            ("bus", "bus"),
            ("cafés", "cafés"),
        ] {
            assert_eq!(fold_plural(word.to_string()), folded, "{word}");
        }
    }

    #[test]
    fn glossary_matches_longest_first_whole_latin_words_and_hangul_with_particles() {
        let glossary = Glossary::new(&[
            GlossaryEntry::new("세션", "metric sessions"),
            GlossaryEntry::new("참여 세션", "metric engaged_sessions"),
            GlossaryEntry::new("OS", "dimension operating_system"),
            GlossaryEntry::new("사용자", "metric users"),
        ]);
        let names = |text: &str| -> Vec<&str> {
            glossary
                .find(&normalize(text))
                .into_iter()
                .map(|(_, _, e)| glossary.entries[e].names.as_str())
                .collect()
        };
        assert_eq!(
            names("참여 세션과 세션"),
            ["metric engaged_sessions", "metric sessions"]
        );
        assert_eq!(names("across os"), ["dimension operating_system"]);
        assert_eq!(
            names("사용자는 OS별로"),
            ["metric users", "dimension operating_system"]
        );
        assert!(names("across chaos").is_empty());
    }

    #[test]
    fn spelling_inside_a_phrase_weighs_less_and_the_concept_is_added() {
        let glossary = Glossary::new(&[GlossaryEntry::new("기기별", "dimension device")]);
        let tokens = glossary.tokens("기기별로 매출");
        let shown: Vec<String> = tokens.iter().map(|(t, w)| format!("{t} {w:.3}")).collect();
        // "기기별로": three bigrams of a third each; the two inside "기기별" weigh a quarter of
        // that, and so does "별로", which crosses the phrase's edge.
        assert_eq!(
            shown,
            [
                "기기 0.083",
                "기별 0.083",
                "별로 0.083",
                "매출 1.000",
                "#dimension device 1.000"
            ]
        );
    }
}
