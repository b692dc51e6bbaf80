//! A token budget for prompts: context is trimmed by priority (examples first, then schema,
//! then the glossary of definitions) until the prompt fits, and what was cut is reported.
//!
//! Counting is an estimate, not a tokenizer: a tokenizer per provider and model would be a
//! large dependency for a limit that only needs to be safe. The estimate leans high.

use serde::Serialize;

/// About four bytes of ASCII per token; one token per other character (Hangul, CJK, emoji),
/// which is what BPE vocabularies give Korean text or more.
pub fn estimate_tokens(text: &str) -> usize {
    let (ascii, other) = text.chars().fold((0usize, 0usize), |(a, o), c| {
        if c.is_ascii() { (a + 1, o) } else { (a, o + 1) }
    });
    ascii.div_ceil(4) + other
}

/// Part of a prompt that may be shortened: a list of items, most important first; trimming
/// drops items from the end, never below `min_items`.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: &'static str,
    pub items: Vec<String>,
    pub min_items: usize,
}

impl Section {
    pub fn new(name: &'static str, items: Vec<String>, min_items: usize) -> Self {
        Section {
            name,
            items,
            min_items,
        }
    }

    fn tokens(&self) -> usize {
        self.items.iter().map(|i| estimate_tokens(i) + 1).sum()
    }
}

/// What trimming did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Trimmed {
    /// The estimated tokens of the prompt after trimming.
    pub tokens: usize,
    /// (section, items dropped), in the order they were trimmed.
    pub dropped: Vec<(String, usize)>,
    /// False when even the fully trimmed prompt is over the budget; it is sent anyway and the
    /// provider decides, since refusing here would only hide the question.
    pub fits: bool,
}

/// Trims `sections` (given in trim order: the first is cut first) until `fixed_tokens` (the
/// template and everything not trimmable) plus the sections fit in `max_tokens`.
pub fn fit(fixed_tokens: usize, sections: &mut [Section], max_tokens: usize) -> Trimmed {
    let mut total = fixed_tokens + sections.iter().map(Section::tokens).sum::<usize>();
    let mut dropped = Vec::new();
    for section in sections.iter_mut() {
        let mut count = 0;
        while total > max_tokens && section.items.len() > section.min_items {
            if let Some(item) = section.items.pop() {
                total -= estimate_tokens(&item) + 1;
                count += 1;
            }
        }
        if count > 0 {
            dropped.push((section.name.to_owned(), count));
        }
    }
    Trimmed {
        tokens: total,
        dropped,
        fits: total <= max_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_ascii_by_bytes_and_hangul_by_characters() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("SELECT 1"), 2);
        assert_eq!(estimate_tokens("방문자 수"), 5);
    }

    fn items(n: usize, each: &str) -> Vec<String> {
        (0..n).map(|i| format!("{each}{i}")).collect()
    }

    #[test]
    fn trims_examples_first_then_schema_then_glossary_down_to_their_floors() {
        // 40 ASCII characters: 10 tokens, 11 with the separator.
        let block = "x".repeat(38);
        let mut sections = [
            Section::new("examples", items(3, &block), 0),
            Section::new("schema", items(4, &block), 2),
            Section::new("glossary", items(2, &block), 1),
        ];
        // 100 fixed + 9 items x 11 = 199; a budget of 160 drops the 3 examples and 1 column.
        let trimmed = fit(100, &mut sections, 160);
        assert_eq!(
            trimmed.dropped,
            [("examples".to_owned(), 3), ("schema".to_owned(), 1)]
        );
        assert_eq!((trimmed.tokens, trimmed.fits), (155, true));
        assert_eq!(sections[1].items, items(3, &block));

        // A budget nothing can meet: every section at its floor, and said so.
        let trimmed = fit(100, &mut sections, 10);
        assert_eq!(
            trimmed.dropped,
            [("schema".to_owned(), 1), ("glossary".to_owned(), 1)]
        );
        assert!(!trimmed.fits);
        assert_eq!((sections[1].items.len(), sections[2].items.len()), (2, 1));
    }

    #[test]
    fn a_prompt_within_budget_is_untouched() {
        let mut sections = [Section::new("examples", items(3, "q"), 0)];
        let trimmed = fit(10, &mut sections, 1000);
        assert!(trimmed.fits && trimmed.dropped.is_empty());
        assert_eq!(sections[0].items.len(), 3);
    }
}
