//! Prompt templates: the files of `fixtures/prompts/`, each a small front matter naming the
//! prompt, its version and its variables, then a body with `{{variable}}` placeholders.
//!
//! ```text
//! ---
//! name: classify
//! version: 1
//! description: one line saying what the prompt is for
//! variables:
//!   question: the user's question, as typed
//!   context: the conversation so far
//! ---
//! body ... {{question}} ... {{context}} ...
//! ```
//!
//! Parsing checks the file whole: every header field present, every placeholder declared,
//! every declared variable used, every `{{` closed. Rendering is one pass over the parsed
//! body, so a value that itself contains `{{...}}` (a user's question) is pasted as text and
//! never expanded. The prompt's `name@version` goes with every answer it produced.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::LlmError;

/// Writes the SQL for a question the semantic engine passed on.
pub const GENERATE_SQL: &str = "generate_sql";
/// Second opinion on a risky draft, possibly by another model.
pub const REVIEW_SQL: &str = "review_sql";
/// Fixes a draft the validator refused, given its findings.
pub const REPAIR_SQL: &str = "repair_sql";
/// Data question, help, out of scope, or a request to change data.
pub const CLASSIFY: &str = "classify";
/// A short answer in the question's language from a few rows of the result.
pub const SUMMARIZE: &str = "summarize";
/// The GA4 rules: rendered once and passed as `ga4_rules` to the three SQL prompts.
pub const GA4_RULES: &str = "ga4_rules";

/// The prompts shipped with nlq, by file.
const BUILTIN: &[(&str, &str)] = &[
    (
        "generate_sql.md",
        include_str!("../../../fixtures/prompts/generate_sql.md"),
    ),
    (
        "review_sql.md",
        include_str!("../../../fixtures/prompts/review_sql.md"),
    ),
    (
        "repair_sql.md",
        include_str!("../../../fixtures/prompts/repair_sql.md"),
    ),
    (
        "classify.md",
        include_str!("../../../fixtures/prompts/classify.md"),
    ),
    (
        "summarize.md",
        include_str!("../../../fixtures/prompts/summarize.md"),
    ),
    (
        "ga4_rules.md",
        include_str!("../../../fixtures/prompts/ga4_rules.md"),
    ),
];

/// A declared variable of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// What the caller must put there (the header's text after the name).
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    /// Index into `variables`.
    Var(usize),
}

/// A parsed, checked prompt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTemplate {
    name: String,
    version: u32,
    description: String,
    variables: Vec<Variable>,
    segments: Vec<Segment>,
}

/// A template with every variable filled: the text to send, and which prompt it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPrompt {
    pub name: String,
    pub version: u32,
    pub text: String,
}

impl RenderedPrompt {
    /// `name@version`, as recorded with an answer.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

impl PromptTemplate {
    /// Parses a prompt file; see the module documentation for its shape.
    pub fn parse(text: &str) -> Result<Self, LlmError> {
        let header = Header::parse(text)?;
        let (segments, used) = parse_body(&header, text)?;
        if let Some(unused) = header.variables.iter().zip(&used).find(|(_, used)| !**used) {
            return Err(LlmError::UnusedVariable {
                prompt: header.name,
                variable: unused.0.name.clone(),
            });
        }
        Ok(PromptTemplate {
            name: header.name,
            version: header.version,
            description: header.description,
            variables: header.variables,
            segments,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The declared variables, in header order.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// Fills every placeholder. Every declared variable needs a value (an empty one is a
    /// value), and a value for a variable the template does not declare is refused too: it
    /// means the caller and the file disagree about what the prompt says.
    pub fn render(&self, values: &BTreeMap<&str, String>) -> Result<RenderedPrompt, LlmError> {
        if let Some(missing) = self
            .variables
            .iter()
            .find(|v| !values.contains_key(v.name.as_str()))
        {
            return Err(LlmError::MissingVariable {
                prompt: self.name.clone(),
                variable: missing.name.clone(),
            });
        }
        if let Some(extra) = values
            .keys()
            .find(|k| !self.variables.iter().any(|v| v.name == **k))
        {
            return Err(LlmError::UnknownVariable {
                prompt: self.name.clone(),
                variable: (*extra).to_string(),
            });
        }
        let mut text = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => text.push_str(t),
                Segment::Var(i) => {
                    let name = self.variables[*i].name.as_str();
                    text.push_str(values.get(name).map_or("", String::as_str));
                }
            }
        }
        Ok(RenderedPrompt {
            name: self.name.clone(),
            version: self.version,
            text,
        })
    }
}

/// The front matter, read.
struct Header {
    name: String,
    version: u32,
    description: String,
    variables: Vec<Variable>,
    /// Byte offset where the body starts, and its line number (1-based).
    body_start: usize,
    body_line: usize,
}

impl Header {
    fn parse(text: &str) -> Result<Header, LlmError> {
        let bad = |line: usize, message: String| LlmError::Header { line, message };
        let mut lines = LineIter::new(text);
        match lines.next() {
            Some((_, "---")) => {}
            _ => return Err(bad(1, "a prompt file starts with a `---` line".into())),
        }
        let mut name = None;
        let mut version = None;
        let mut description = None;
        let mut variables: Option<Vec<Variable>> = None;
        let mut in_variables = false;
        loop {
            let Some((number, line)) = lines.next() else {
                return Err(bad(
                    lines.number,
                    "the header is never closed by a `---` line".into(),
                ));
            };
            if line == "---" {
                break;
            }
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                let Some(list) = variables.as_mut().filter(|_| in_variables) else {
                    return Err(bad(number, "an indented line outside `variables:`".into()));
                };
                let (var, about) = line.trim().split_once(':').unwrap_or((line.trim(), ""));
                let var = var.trim();
                if !is_identifier(var) {
                    return Err(bad(
                        number,
                        format!("`{var}` is not a variable name (lower case, digits, `_`)"),
                    ));
                }
                if list.iter().any(|v| v.name == var) {
                    return Err(bad(number, format!("variable `{var}` is declared twice")));
                }
                list.push(Variable {
                    name: var.to_string(),
                    description: about.trim().to_string(),
                });
                continue;
            }
            in_variables = false;
            let Some((key, value)) = line.split_once(':') else {
                return Err(bad(
                    number,
                    format!("expected `key: value`, found `{line}`"),
                ));
            };
            let value = value.trim();
            let twice = || bad(number, format!("`{key}` is given twice"));
            match key {
                "name" => {
                    if name.is_some() {
                        return Err(twice());
                    }
                    if !is_identifier(value) {
                        return Err(bad(number, format!("`{value}` is not a prompt name")));
                    }
                    name = Some(value.to_string());
                }
                "version" => {
                    if version.is_some() {
                        return Err(twice());
                    }
                    match value.parse::<u32>() {
                        Ok(v) if v >= 1 => version = Some(v),
                        _ => {
                            return Err(bad(
                                number,
                                format!("version `{value}` is not a whole number from 1"),
                            ));
                        }
                    }
                }
                "description" => {
                    if description.is_some() {
                        return Err(twice());
                    }
                    description = Some(value.to_string());
                }
                "variables" => {
                    if variables.is_some() {
                        return Err(twice());
                    }
                    if !value.is_empty() {
                        return Err(bad(
                            number,
                            "variables are listed on the following indented lines".into(),
                        ));
                    }
                    variables = Some(Vec::new());
                    in_variables = true;
                }
                other => return Err(bad(number, format!("unknown header field `{other}`"))),
            }
        }
        Ok(Header {
            name: name.ok_or(LlmError::MissingField { field: "name" })?,
            version: version.ok_or(LlmError::MissingField { field: "version" })?,
            description: description.unwrap_or_default(),
            variables: variables.ok_or(LlmError::MissingField { field: "variables" })?,
            body_start: lines.offset,
            body_line: lines.number + 1,
        })
    }
}

/// Lines with their 1-based numbers and the byte offset after the last one returned; `\r\n`
/// endings are accepted.
struct LineIter<'t> {
    text: &'t str,
    offset: usize,
    number: usize,
}

impl<'t> LineIter<'t> {
    fn new(text: &'t str) -> Self {
        LineIter {
            text,
            offset: 0,
            number: 0,
        }
    }
}

impl<'t> Iterator for LineIter<'t> {
    type Item = (usize, &'t str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.text[self.offset..];
        if rest.is_empty() {
            return None;
        }
        let (line, len) = match rest.find('\n') {
            Some(end) => (&rest[..end], end + 1),
            None => (rest, rest.len()),
        };
        self.offset += len;
        self.number += 1;
        Some((self.number, line.strip_suffix('\r').unwrap_or(line)))
    }
}

/// The body as text and variable segments, and which declared variables it uses. Blank lines
/// around the body are dropped; the text ends with one newline.
fn parse_body(header: &Header, text: &str) -> Result<(Vec<Segment>, Vec<bool>), LlmError> {
    let raw = &text[header.body_start..];
    let leading = raw.len() - raw.trim_start_matches(['\n', '\r']).len();
    let line_of =
        |offset: usize| header.body_line + raw[..offset].bytes().filter(|b| *b == b'\n').count();
    let body = raw[leading..].trim_end();
    let mut segments = Vec::new();
    let mut used = vec![false; header.variables.len()];
    let mut rest = body;
    let mut at = leading; // offset of `rest` inside `raw`
    while let Some(open) = rest.find("{{") {
        let inner_start = open + 2;
        let close = rest[inner_start..].find("}}").map(|c| inner_start + c);
        let reopen = rest[inner_start..].find("{{").map(|c| inner_start + c);
        let close = match (close, reopen) {
            (Some(close), Some(reopen)) if reopen < close => None,
            (close, _) => close,
        };
        let Some(close) = close else {
            return Err(LlmError::UnclosedPlaceholder {
                prompt: header.name.clone(),
                line: line_of(at + open),
            });
        };
        let inner = rest[inner_start..close].trim();
        if !is_identifier(inner) {
            return Err(LlmError::BadPlaceholder {
                prompt: header.name.clone(),
                line: line_of(at + open),
                text: rest[inner_start..close].to_string(),
            });
        }
        let Some(index) = header.variables.iter().position(|v| v.name == inner) else {
            return Err(LlmError::UndeclaredPlaceholder {
                prompt: header.name.clone(),
                line: line_of(at + open),
                variable: inner.to_string(),
            });
        };
        used[index] = true;
        if open > 0 {
            segments.push(Segment::Text(rest[..open].to_string()));
        }
        segments.push(Segment::Var(index));
        rest = &rest[close + 2..];
        at += close + 2;
    }
    segments.push(Segment::Text(format!("{rest}\n")));
    Ok((segments, used))
}

/// `[a-z][a-z0-9_]*`: names of prompts and variables.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The prompts by name.
#[derive(Debug, Clone)]
pub struct PromptSet {
    templates: BTreeMap<String, PromptTemplate>,
}

impl PromptSet {
    /// The prompts shipped with nlq (`fixtures/prompts/`), each checked, each named like its
    /// file.
    pub fn builtin() -> Result<Self, LlmError> {
        let mut templates = Vec::new();
        for (file, text) in BUILTIN {
            let in_file = |source: LlmError| LlmError::InFile {
                file: (*file).to_string(),
                source: Box::new(source),
            };
            let template = PromptTemplate::parse(text).map_err(in_file)?;
            if file.strip_suffix(".md") != Some(template.name()) {
                return Err(in_file(LlmError::MisnamedFile {
                    name: template.name().to_string(),
                }));
            }
            templates.push(template);
        }
        Self::from_templates(templates)
    }

    /// A set of already parsed templates; two with the same name are refused.
    pub fn from_templates(
        templates: impl IntoIterator<Item = PromptTemplate>,
    ) -> Result<Self, LlmError> {
        let mut map = BTreeMap::new();
        for template in templates {
            let name = template.name().to_string();
            if map.insert(name.clone(), template).is_some() {
                return Err(LlmError::DuplicatePrompt { name });
            }
        }
        Ok(PromptSet { templates: map })
    }

    pub fn get(&self, name: &str) -> Result<&PromptTemplate, LlmError> {
        self.templates
            .get(name)
            .ok_or_else(|| LlmError::UnknownPrompt {
                name: name.to_string(),
            })
    }

    pub fn render(
        &self,
        name: &str,
        values: &BTreeMap<&str, String>,
    ) -> Result<RenderedPrompt, LlmError> {
        self.get(name)?.render(values)
    }

    /// The templates by name.
    pub fn iter(&self) -> impl Iterator<Item = &PromptTemplate> {
        self.templates.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---\nname: greet\nversion: 2\ndescription: says hello\nvariables:\n  who: the person\n  lang: the language\n---\n\nHello {{who}}, in {{ lang }}. {\"json\": {\"stays\": 1}}\n";

    fn vars(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_string())).collect()
    }

    #[track_caller]
    fn check_err(text: &str, expect: &str) {
        match PromptTemplate::parse(text) {
            Ok(_) => panic!("parsed, expected: {expect}"),
            Err(err) => assert_eq!(err.to_string(), expect),
        }
    }

    fn with_body(variables: &str, body: &str) -> String {
        format!("---\nname: t\nversion: 1\nvariables:\n{variables}---\n{body}")
    }

    #[test]
    fn parses_header_and_renders_in_one_pass() {
        let t = PromptTemplate::parse(GOOD).unwrap();
        assert_eq!(t.id(), "greet@2");
        assert_eq!(t.description(), "says hello");
        let names: Vec<&str> = t.variables().iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["who", "lang"]);
        assert_eq!(t.variables()[0].description, "the person");
        // A value holding a placeholder is pasted, never expanded.
        let out = t
            .render(&vars(&[("who", "{{lang}}"), ("lang", "Korean")]))
            .unwrap();
        assert_eq!(
            out.text,
            "Hello {{lang}}, in Korean. {\"json\": {\"stays\": 1}}\n"
        );
        assert_eq!((out.name.as_str(), out.version), ("greet", 2));
        assert_eq!(out.id(), "greet@2");
        // Empty values are values.
        let out = t.render(&vars(&[("who", ""), ("lang", "")])).unwrap();
        assert_eq!(out.text, "Hello , in . {\"json\": {\"stays\": 1}}\n");
    }

    #[test]
    fn crlf_files_and_comments_in_the_header_are_read() {
        let text = "---\r\nname: t\r\n# a comment\r\nversion: 1\r\nvariables:\r\n  a: x\r\n---\r\nA={{a}}\r\n";
        let t = PromptTemplate::parse(text).unwrap();
        assert_eq!(t.render(&vars(&[("a", "1")])).unwrap().text, "A=1\n");
    }

    #[test]
    fn header_problems_are_named() {
        check_err(
            "name: t\n",
            "prompt header, line 1: a prompt file starts with a `---` line",
        );
        check_err(
            "---\nname: t\nversion: 1\nvariables:\n",
            "prompt header, line 4: the header is never closed by a `---` line",
        );
        check_err(
            "---\nversion: 1\nvariables:\n---\nx\n",
            "prompt header: `name` is missing",
        );
        check_err(
            "---\nname: t\nvariables:\n---\nx\n",
            "prompt header: `version` is missing",
        );
        check_err(
            "---\nname: t\nversion: 1\n---\nx\n",
            "prompt header: `variables` is missing",
        );
        check_err(
            "---\nname: t\nversion: one\nvariables:\n---\nx\n",
            "prompt header, line 3: version `one` is not a whole number from 1",
        );
        check_err(
            "---\nname: t\nversion: 1\nauthor: me\nvariables:\n---\nx\n",
            "prompt header, line 4: unknown header field `author`",
        );
        check_err(
            "---\nname: t\nname: u\nversion: 1\nvariables:\n---\nx\n",
            "prompt header, line 3: `name` is given twice",
        );
        check_err(
            "---\nname: Bad Name\nversion: 1\nvariables:\n---\nx\n",
            "prompt header, line 2: `Bad Name` is not a prompt name",
        );
        check_err(
            "---\nname: t\nversion: 1\nvariables: a, b\n---\nx\n",
            "prompt header, line 4: variables are listed on the following indented lines",
        );
        check_err(
            &with_body("  a: x\n  a: y\n", "{{a}}"),
            "prompt header, line 6: variable `a` is declared twice",
        );
        check_err(
            &with_body("  A-b: x\n", "x"),
            "prompt header, line 5: `A-b` is not a variable name (lower case, digits, `_`)",
        );
        check_err(
            "---\nname: t\n  a: x\nversion: 1\nvariables:\n---\nx\n",
            "prompt header, line 3: an indented line outside `variables:`",
        );
    }

    #[test]
    fn body_problems_are_named_with_their_line() {
        // With one variable, the body starts on line 7.
        check_err(
            &with_body("  a: x\n", "ok {{a}}\n\nsee {{b}}\n"),
            "prompt t, line 9: `{{b}}` is not declared in the header",
        );
        check_err(
            &with_body("  a: x\n  b: y\n", "{{a}}\n"),
            "prompt t: variable `b` is declared but never used",
        );
        check_err(
            &with_body("  a: x\n", "{{a}}\nthen {{a\n"),
            "prompt t, line 8: `{{` is never closed",
        );
        check_err(
            &with_body("  a: x\n", "{{a {{a}}\n"),
            "prompt t, line 7: `{{` is never closed",
        );
        check_err(
            &with_body("  a: x\n", "{{a}} {{a b}}\n"),
            "prompt t, line 7: `{{a b}}` is not a variable name",
        );
        check_err(
            &with_body("  a: x\n", "{{a}} {{}}\n"),
            "prompt t, line 7: `{{}}` is not a variable name",
        );
    }

    #[test]
    fn rendering_refuses_missing_and_unknown_variables() {
        let t = PromptTemplate::parse(GOOD).unwrap();
        let err = t.render(&vars(&[("who", "x")])).unwrap_err();
        assert_eq!(
            err,
            LlmError::MissingVariable {
                prompt: "greet".into(),
                variable: "lang".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "prompt greet: no value for variable `lang`"
        );
        let err = t
            .render(&vars(&[("who", "x"), ("lang", "y"), ("tone", "z")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "prompt greet: `tone` is not a variable of this prompt"
        );
    }

    #[test]
    fn a_set_refuses_duplicates_and_unknown_names() {
        let t = PromptTemplate::parse(GOOD).unwrap();
        let err = PromptSet::from_templates([t.clone(), t.clone()]).unwrap_err();
        assert_eq!(err.to_string(), "two prompts are named `greet`");
        let set = PromptSet::from_templates([t]).unwrap();
        assert_eq!(
            set.render("nope", &BTreeMap::new())
                .unwrap_err()
                .to_string(),
            "no prompt named `nope`"
        );
    }
}
