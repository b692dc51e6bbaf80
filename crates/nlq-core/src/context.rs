//! The conversation a question belongs to, as every stage sees it: its id, its earlier turns
//! (question, plan, SQL, a short digest of the result) and how many of them count. The
//! follow-up reader takes the last plan, the LLM prompts the rendered window, the server
//! builds it from its store; the window size is one setting, not a number in each of them.
//!
//! Generic over the plan type: the plan belongs to the semantic engine, above this crate.

use serde::{Deserialize, Serialize};

/// Turns a question sees by default: follow-ups refer to the recent ones, and every turn costs
/// prompt tokens.
pub const DEFAULT_WINDOW: usize = 3;

/// One earlier question of the conversation and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn<P> {
    pub question: String,
    /// The semantic engine's plan, when it understood the question.
    pub plan: Option<P>,
    pub sql: Option<String>,
    /// The answer in a sentence (its summary), or why there was none.
    pub digest: Option<String>,
}

/// The language a question is asked in, and answers and prompts are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// Korean when the question has any Hangul.
    pub fn of(question: &str) -> Lang {
        if question.chars().any(|c| {
            ('\u{AC00}'..='\u{D7A3}').contains(&c) || ('\u{3131}'..='\u{318E}').contains(&c)
        }) {
            Lang::Ko
        } else {
            Lang::En
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextBlock<P> {
    pub conversation_id: Option<String>,
    /// Oldest first; may hold more than the window (the window is what stages see).
    pub turns: Vec<Turn<P>>,
    pub window: usize,
}

impl<P> Default for ContextBlock<P> {
    fn default() -> Self {
        ContextBlock::new(None, DEFAULT_WINDOW)
    }
}

impl<P> ContextBlock<P> {
    pub fn new(conversation_id: Option<String>, window: usize) -> Self {
        ContextBlock {
            conversation_id,
            turns: Vec::new(),
            window,
        }
    }

    /// The same conversation with these turns (oldest first).
    pub fn with_turns(mut self, turns: impl IntoIterator<Item = Turn<P>>) -> Self {
        self.turns.extend(turns);
        self
    }

    pub fn push(&mut self, turn: Turn<P>) {
        self.turns.push(turn);
    }

    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// The last `n` turns, oldest first.
    pub fn last(&self, n: usize) -> &[Turn<P>] {
        &self.turns[self.turns.len().saturating_sub(n)..]
    }

    /// The turns the block's window lets a stage see.
    pub fn recent(&self) -> &[Turn<P>] {
        self.last(self.window)
    }

    /// The plan of the latest turn that had one: what a follow-up ("그럼 모바일만?") changes.
    pub fn last_plan(&self) -> Option<&P> {
        self.turns.iter().rev().find_map(|t| t.plan.as_ref())
    }

    /// The window as prompt text, oldest first; `(none)` when there is nothing before.
    pub fn render(&self, lang: Lang) -> String {
        let (question, sql, answer, none) = match lang {
            Lang::En => ("Question", "SQL", "Answer", "(none)"),
            Lang::Ko => ("질문", "SQL", "답", "(없음)"),
        };
        let recent = self.recent();
        if recent.is_empty() {
            return none.to_owned();
        }
        recent
            .iter()
            .map(|t| {
                let mut block = format!("{question}: {}", t.question);
                if let Some(text) = &t.sql {
                    block.push_str(&format!("\n{sql}:\n{}", text.trim()));
                }
                if let Some(digest) = &t.digest {
                    block.push_str(&format!("\n{answer}: {digest}"));
                }
                block
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(question: &str, plan: Option<u32>) -> Turn<u32> {
        Turn {
            question: question.to_owned(),
            plan,
            sql: Some(format!("SELECT '{question}'")),
            digest: Some(format!("{question} done")),
        }
    }

    #[test]
    fn the_window_keeps_the_recent_turns() {
        let block = ContextBlock::new(Some("c1".into()), 2).with_turns([
            turn("a", Some(1)),
            turn("b", Some(2)),
            turn("c", None),
        ]);
        let questions: Vec<&str> = block.recent().iter().map(|t| t.question.as_str()).collect();
        assert_eq!(questions, ["b", "c"]);
        assert_eq!(block.last(10).len(), 3);
        // The last turn had no plan: a follow-up builds on the one before.
        assert_eq!(block.last_plan(), Some(&2));
        let text = block.render(Lang::En);
        assert!(!text.contains("Question: a"), "{text}");
        assert!(
            text.starts_with("Question: b\nSQL:\nSELECT 'b'\nAnswer: b done"),
            "{text}"
        );
        assert!(block.render(Lang::Ko).contains("질문: c"));
    }

    #[test]
    fn an_empty_block_renders_as_none() {
        let block: ContextBlock<()> = ContextBlock::default();
        assert_eq!(block.render(Lang::En), "(none)");
        assert_eq!(block.window, DEFAULT_WINDOW);
        assert!(block.last_plan().is_none());
    }
}
