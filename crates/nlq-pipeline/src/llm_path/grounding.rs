//! The facts the prompts are grounded in: the model's definitions, the schema's columns, the
//! conversation, a result table without identifying columns.

use std::collections::HashSet;

use nlq_core::QueryResult;
use nlq_semantic::{Lang, SemanticModel};

use crate::answer::Context;
use crate::risk;

/// Columns never sent to a model: they identify people.
pub(crate) const IDENTIFIER_COLUMNS: [&str; 2] = ["user_pseudo_id", "user_id"];

/// The facts the prompts are grounded in.
pub(crate) struct Grounding<'a> {
    pub model: &'a SemanticModel,
    pub as_of: String,
    pub first_suffix: String,
    pub last_suffix: String,
    pub context: Option<&'a Context>,
    /// What the semantic engine read before handing the question on ("no number named; it
    /// would offer ...", "does not know the words ..."): a hint for the SQL prompts, never a
    /// verified plan.
    pub hint: Option<String>,
}

/// The model's definitions, those whose words the question uses first (trimming cuts from the
/// end).
pub(crate) fn definitions(model: &SemanticModel, question: &str) -> Vec<String> {
    let q = question.to_lowercase();
    let mentioned = |ko: &[String], en: &[String]| {
        ko.iter()
            .chain(en)
            .any(|w| !w.is_empty() && q.contains(&w.to_lowercase()))
    };
    let mut lines: Vec<(bool, String)> = model
        .metrics
        .iter()
        .map(|m| {
            (
                mentioned(&m.ko, &m.en),
                format!("metric {}: {}  -- {}", m.name, m.sql, m.en.join(", ")),
            )
        })
        .chain(model.dimensions.iter().map(|d| {
            (
                mentioned(&d.ko, &d.en),
                format!(
                    "dimension {}: {}  -- {}",
                    d.name,
                    model.definition(d),
                    d.en.join(", ")
                ),
            )
        }))
        .collect();
    // Stable: within each group the model's order stays.
    lines.sort_by_key(|(hit, _)| !*hit);
    lines.into_iter().map(|(_, line)| line).collect()
}

/// The export's columns, those the examples and definitions use first; returns them with the
/// count of used ones (never trimmed).
pub(crate) fn schema_columns(
    examples: &[String],
    definitions: &[String],
) -> Result<(Vec<String>, usize), String> {
    let schema = nlq_core::ga4::events_schema().map_err(|e| e.to_string())?;
    let used: HashSet<String> = examples
        .iter()
        .chain(definitions)
        .flat_map(|text| risk::shape(text))
        .collect();
    let (mut first, rest): (Vec<_>, Vec<_>) = schema
        .fields
        .iter()
        .partition(|f| used.contains(&f.name.to_ascii_lowercase()));
    let needed = first.len();
    first.extend(rest);
    Ok((
        first
            .iter()
            .map(|f| format!("{} {}", f.name, f.ty))
            .collect(),
        needed,
    ))
}

/// The conversation, then the semantic engine's partial reading when it handed the question on.
pub(crate) fn with_hint(context: String, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!(
            "{context}\n\nThe deterministic semantic engine's partial reading of the question \
             (a hint, not a verified plan): {hint}"
        ),
        None => context,
    }
}

/// The conversation's recent turns, oldest first, for the prompts.
pub(crate) fn context(context: Option<&Context>) -> String {
    context.map_or_else(|| "(none)".to_owned(), |c| c.render(Lang::En))
}

/// The first `max` rows as a Markdown-like table, without identifier columns.
pub(crate) fn rows_table(result: &QueryResult, max: usize) -> String {
    let keep: Vec<usize> = result
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !is_identifier(&c.name))
        .map(|(i, _)| i)
        .collect();
    if keep.is_empty() {
        return "(only identifier columns, which are not shown)".to_owned();
    }
    let header: Vec<&str> = keep
        .iter()
        .map(|&i| result.columns[i].name.as_str())
        .collect();
    let mut lines = vec![format!("| {} |", header.join(" | "))];
    for row in result.rows.iter().take(max) {
        let cells: Vec<String> = keep
            .iter()
            .map(|&i| row.get(i).map(ToString::to_string).unwrap_or_default())
            .collect();
        lines.push(format!("| {} |", cells.join(" | ")));
    }
    lines.join("\n")
}

pub(crate) fn is_identifier(column: &str) -> bool {
    let c = column.to_ascii_lowercase();
    IDENTIFIER_COLUMNS
        .iter()
        .any(|id| c == *id || c.ends_with(&format!("_{id}")) || c.ends_with(&format!(".{id}")))
}
