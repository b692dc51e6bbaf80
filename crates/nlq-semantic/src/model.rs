//! The semantic model (`fixtures/semantic/ga4.yaml`): metrics, dimensions, filterable values,
//! intent words and golden queries. Loading checks it whole: unknown fields, duplicate names,
//! a word naming two things, references that do not resolve, SQL that does not parse. Metric
//! and dimension SQL is expanded once here, so the compiler only pastes checked expressions.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlparser::dialect::BigQueryDialect;
use sqlparser::parser::Parser;

use crate::classify::{ChannelRules, PageTypes};
use crate::error::SemanticError;
use crate::lexicon::{Lexicon, Words};
use crate::normalize::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// One row per event.
    #[default]
    Event,
    /// One row per item of an event: needs `CROSS JOIN UNNEST(items) AS item`.
    Item,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Count,
    Currency,
    Ratio,
    Seconds,
    Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeGrain {
    Date,
    Week,
    Month,
    Hour,
}

/// Where an entry of the model came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The model file.
    #[default]
    Model,
    /// Proposed by MetaSync from the property's parameter catalog.
    Catalog,
    /// Taught by an analyst (`nlq teach`, the Knowledge tab).
    Taught,
}

impl Origin {
    fn is_model(&self) -> bool {
        *self == Origin::Model
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub name: String,
    /// Expanded SQL (references resolved) after loading.
    pub sql: String,
    pub format: Format,
    #[serde(default)]
    pub grain: Grain,
    /// Item metrics read only these events' items; an event metric with events reads only
    /// those events (a query of such metrics only is bounded to them).
    #[serde(default)]
    pub events: Vec<String>,
    /// The item metric this one means when the question breaks it down by item.
    #[serde(default)]
    pub per_item: Option<String>,
    /// How GA4's reports count it, where they estimate (HyperLogLog++ for users and sessions):
    /// the SQL of approx mode, expanded like `sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approx: Option<String>,
    /// A count of one segment's members ("new users": the users whose value of
    /// new_vs_returning is new): compared with another value of that dimension ("신규 방문자와
    /// 재방문자 비교"), the word names the segment, and the count is `of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    #[serde(default)]
    pub ko: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
    #[serde(default, skip_serializing_if = "Origin::is_model")]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub dimension: String,
    pub value: String,
    /// The metric that counts the segment's members.
    pub of: String,
}

impl Metric {
    /// Whether its values add up across rows (sums and event counts; distinct counts and
    /// ratios do not): totals and shares of a breakdown are only said of these.
    pub fn adds_up(&self) -> bool {
        self.sql.starts_with("SUM(") || self.sql.starts_with("COUNTIF(") || self.sql == "COUNT(*)"
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub name: String,
    /// Empty for a session-scoped or rule-defined dimension: loading writes it.
    #[serde(default)]
    pub sql: String,
    #[serde(default)]
    pub grain: Grain,
    /// Time dimensions are ordered by time.
    #[serde(default)]
    pub time: Option<TimeGrain>,
    /// Dimensions that describe the same thing (traffic, device, geo, item, page): a value
    /// that could belong to several dimensions goes with the group of the filters beside it.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub ko: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
    /// Rows without a value are left out: an event parameter or user property only some
    /// events carry, where a breakdown by it means "of the events that have it".
    #[serde(default)]
    pub only_present: bool,
    /// The only events that carry it (a custom event parameter); empty: any event. A value of
    /// it alone does not say which events a question means (see the reader).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Origin::is_model")]
    pub origin: Origin,
    /// Session-scoped (GA4's session source, landing page): one value per session, given to
    /// each of its events. Its `sql` becomes `session_facts.<name>`, a column the compiler
    /// computes once per session and joins to the events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionValue>,
    /// User-scoped (purchasers and non-purchasers): one value per user over the range's events,
    /// computed like a session's (`user_facts.<name>`, joined on `user_pseudo_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<SessionValue>,
    /// Defined by one of the model's rule sets instead of `sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RuleSet>,
    /// The session-scoped dimensions its SQL reads (itself, or a channel group's inputs);
    /// found when the model loads.
    #[serde(skip)]
    pub sessions: Vec<String>,
}

impl Dimension {
    /// Computed over all of a session's or a user's events and joined to each event: a filter
    /// on it is not a filter on the events (shapes that do not write the join refuse it).
    pub fn joined(&self) -> bool {
        !self.sessions.is_empty() || self.user.is_some()
    }
}

/// The value of a session-scoped (or user-scoped) dimension: the first non-null value of
/// `first` among the session's (user's) events in time order, `default` when none has one.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionValue {
    pub first: String,
    #[serde(default)]
    pub default: Option<String>,
}

/// The rule sets of the model file a dimension can be defined by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// GA4's default channel group (`channels`).
    Channels,
    /// The URL classifier (`page_types`).
    PageTypes,
}

/// The table alias the compiler gives the per-session values (see compile.rs).
pub const SESSION_FACTS: &str = "session_facts";

/// The table alias of the per-user values.
pub const USER_FACTS: &str = "user_facts";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilterValue {
    /// The value as stored in the data.
    pub value: String,
    #[serde(default)]
    pub ko: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSet {
    pub dimension: String,
    /// The stored value itself is also a word for it.
    #[serde(default)]
    pub literal: bool,
    pub values: Vec<FilterValue>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Intents {
    pub change_data: Words,
    pub out_of_scope: Words,
    pub help: Words,
    /// Greetings and chat: out of scope, but only when nothing else of the question is read
    /// ("hi, users by device" is a data question).
    #[serde(default)]
    pub small_talk: Words,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Golden {
    pub question: String,
    pub sql: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticModel {
    pub version: u32,
    /// `project.dataset.events_*`.
    pub table: String,
    pub fragments: BTreeMap<String, String>,
    pub metrics: Vec<Metric>,
    pub dimensions: Vec<Dimension>,
    pub values: Vec<ValueSet>,
    pub intents: Intents,
    /// The reader's vocabulary beyond the names above.
    pub lexicon: Lexicon,
    pub golden: Vec<Golden>,
    /// What the model file says of the entries MetaSync proposes from the catalog.
    #[serde(default)]
    pub catalog: CatalogRules,
    /// GA4's default channel group rules (a `rules: channels` dimension reads them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<ChannelRules>,
    /// Funnel words and default steps (`funnel.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel: Option<crate::funnel::FunnelWords>,
    /// Cohort retention: its words and the event that starts a cohort.
    #[serde(default)]
    pub cohorts: Option<crate::cohort::CohortWords>,
    /// Products bought together: its words.
    #[serde(default)]
    pub bought_together: Option<crate::together::TogetherWords>,
    /// The page-type classifier (a `rules: page_types` dimension reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_types: Option<PageTypes>,
    /// The `session_key` fragment, expanded: how an event finds its session's values. Set at
    /// load when a dimension is session-scoped.
    #[serde(skip)]
    pub session_key: Option<String>,
    /// Every normalized word and what it names, longest first: built once at load. A word
    /// names one metric or dimension, or values of several dimensions ("google": a source and
    /// a brand), which the reader tells apart by the words around it.
    #[serde(skip)]
    words: Vec<(String, Vec<Term>)>,
    /// For each word of `words`, the word without spaces when it is Korean (two syllables or
    /// more): Korean words match whatever their spacing.
    #[serde(skip)]
    squeezed: Vec<Option<String>>,
}

/// The model file's say over catalog entries: hide some, give others another name. An entry
/// the file defines itself (same name) is the file's, and the proposal is dropped.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogRules {
    #[serde(default)]
    pub hide: Vec<String>,
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
}

/// What a word in a question names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Term {
    Metric(usize),
    Dimension(usize),
    /// (value set, value)
    Value(usize, usize),
}

impl SemanticModel {
    /// The model shipped with nlq.
    pub fn builtin() -> Result<Self, SemanticError> {
        Self::from_yaml(include_str!("../../../fixtures/semantic/ga4.yaml"))
    }

    /// The model over another GA4 export: its `events_*`, and the golden examples rewritten
    /// (through the AST) to read that dataset's tables instead of the model's own.
    pub fn for_dataset(mut self, project: &str, dataset: &str) -> Result<Self, SemanticError> {
        let parts: Vec<&str> = self.table.split('.').collect();
        let [from_project, from_dataset, _] = parts.as_slice() else {
            return Err(invalid(format!(
                "the table {:?} is not `project.dataset.events_*`",
                self.table
            )));
        };
        let from = (from_project.to_string(), from_dataset.to_string());
        if (from.0.as_str(), from.1.as_str()) == (project, dataset) {
            return Ok(self);
        }
        for golden in &mut self.golden {
            golden.sql = nlq_sql::retarget(&golden.sql, (&from.0, &from.1), (project, dataset))
                .map_err(|err| {
                    invalid(format!(
                        "the golden SQL of \"{}\" cannot be moved to {project}.{dataset}: {err}",
                        golden.question
                    ))
                })?;
        }
        self.table = format!("{project}.{dataset}.events_*");
        Ok(self)
    }

    /// Parses and checks a model; SQL references are expanded.
    pub fn from_yaml(text: &str) -> Result<Self, SemanticError> {
        let mut model: SemanticModel =
            serde_norway::from_str(text).map_err(|err| SemanticError::Model {
                message: err.to_string(),
            })?;
        if model.version != 1 {
            return Err(invalid(format!(
                "version {} is not supported; this nlq reads version 1",
                model.version
            )));
        }
        model.check_names()?;
        model.expand()?;
        model.derive()?;
        model.check_sql()?;
        model.index()?;
        model.lexicon.prepare()?;
        if let Some(name) = model
            .lexicon
            .clarify_metrics
            .iter()
            .find(|name| model.metric(name).is_none())
        {
            return Err(invalid(format!(
                "lexicon: clarify_metrics names `{name}`, which is not a metric"
            )));
        }
        // Intent words are compared with normalized questions: normalize them once.
        for words in [
            &mut model.intents.change_data,
            &mut model.intents.out_of_scope,
            &mut model.intents.help,
            &mut model.intents.small_talk,
        ] {
            words.normalize();
        }
        if let Some(funnel) = &mut model.funnel {
            funnel.words.normalize();
            funnel.open.normalize();
        }
        Ok(model)
    }

    /// The words of the model, longest first (see `index_words`).
    pub fn words(&self) -> &[(String, Vec<Term>)] {
        &self.words
    }

    /// The words with, for Korean ones, their spelling without spaces.
    pub(crate) fn words_squeezed(
        &self,
    ) -> impl Iterator<Item = (&(String, Vec<Term>), Option<&str>)> {
        self.words
            .iter()
            .zip(self.squeezed.iter().map(Option::as_deref))
    }

    pub(crate) fn index(&mut self) -> Result<(), SemanticError> {
        self.words = self.index_words()?;
        self.squeezed = self
            .words
            .iter()
            .map(|(word, _)| {
                let squeezed: String = word.chars().filter(|c| *c != ' ').collect();
                let korean = squeezed.chars().any(crate::normalize::is_syllable);
                (korean && squeezed.chars().count() >= 2).then_some(squeezed)
            })
            .collect();
        Ok(())
    }

    /// The model with more values of `dimension` matched as written (a MetaSync catalog's
    /// event names, say). A value already known, or whose word already names a metric, a
    /// dimension or a value of the same dimension, is skipped: the model's own words win.
    pub fn with_values(
        self,
        dimension: &str,
        values: impl IntoIterator<Item = String>,
    ) -> Result<Self, SemanticError> {
        self.with_value_sets([(dimension.to_owned(), values.into_iter().collect())])
    }

    /// `with_values` for several dimensions in order, indexing the words once: a value whose
    /// word is already taken (by the model, an earlier dimension or an earlier value) is
    /// skipped.
    pub fn with_value_sets(
        mut self,
        sets: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Result<Self, SemanticError> {
        let mut known: HashSet<String> = self.words.iter().map(|(w, _)| w.clone()).collect();
        for (dimension, values) in sets {
            if self.dimension(&dimension).is_none() {
                return Err(invalid(format!(
                    "values for `{dimension}`, which is not a dimension"
                )));
            }
            let set = match self
                .values
                .iter()
                .position(|s| s.dimension == dimension && s.literal)
            {
                Some(set) => set,
                None => {
                    self.values.push(ValueSet {
                        dimension: dimension.clone(),
                        literal: true,
                        values: Vec::new(),
                    });
                    self.values.len() - 1
                }
            };
            let set = &mut self.values[set];
            for value in values {
                // A value whose word is taken (by the model, or by a value that differs only
                // in case or spacing) is skipped: one word names one value of a dimension.
                let word = normalize(&value);
                if word.is_empty() || !known.insert(word) {
                    continue;
                }
                set.values.push(FilterValue {
                    value,
                    ko: Vec::new(),
                    en: Vec::new(),
                });
            }
        }
        self.index()?;
        Ok(self)
    }

    /// The model with more metrics and dimensions (MetaSync's proposals from the catalog):
    /// the file's `catalog` rules hide or rename them first; an entry whose name the model
    /// already has is dropped (the file wins), and so is each word already taken, then any
    /// entry left without a word. Each entry's SQL must parse as an expression. Returns the
    /// names added.
    pub fn with_entries(
        mut self,
        metrics: Vec<Metric>,
        dimensions: Vec<Dimension>,
    ) -> Result<(Self, Vec<String>), SemanticError> {
        let mut known: HashSet<String> = self.words.iter().map(|(w, _)| w.clone()).collect();
        let mut names: HashSet<String> = self
            .metrics
            .iter()
            .map(|m| m.name.clone())
            .chain(self.dimensions.iter().map(|d| d.name.clone()))
            .collect();
        let rules = self.catalog.clone();
        let mut added = Vec::new();
        // Keeps an entry's free words and says whether it is to be added.
        let mut admit = |name: &mut String,
                         ko: &mut Vec<String>,
                         en: &mut Vec<String>,
                         sql: &str|
         -> Result<bool, SemanticError> {
            if rules.hide.contains(name) {
                return Ok(false);
            }
            if let Some(renamed) = rules.rename.get(name.as_str()) {
                *name = renamed.clone();
            }
            if !is_column_name(name) {
                return Err(invalid(format!(
                    "the catalog entry `{name}` needs a name of a-z, 0-9 and _"
                )));
            }
            if names.contains(name.as_str()) {
                return Ok(false);
            }
            for words in [&mut *ko, &mut *en] {
                words.retain(|w| {
                    let word = normalize(w);
                    !word.is_empty() && !known.contains(&word)
                });
            }
            if ko.is_empty() && en.is_empty() {
                return Ok(false);
            }
            check_expr(name, sql)?;
            known.extend(ko.iter().chain(en.iter()).map(|w| normalize(w)));
            names.insert(name.clone());
            added.push(name.clone());
            Ok(true)
        };
        for mut m in metrics {
            if admit(&mut m.name, &mut m.ko, &mut m.en, &m.sql)? {
                self.metrics.push(m);
            }
        }
        for mut d in dimensions {
            if admit(&mut d.name, &mut d.ko, &mut d.en, &d.sql)? {
                self.dimensions.push(d);
            }
        }
        self.index()?;
        Ok((self, added))
    }

    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    pub fn dimension(&self, name: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.name == name)
    }

    fn check_names(&self) -> Result<(), SemanticError> {
        let mut seen = HashMap::new();
        for name in self
            .metrics
            .iter()
            .map(|m| &m.name)
            .chain(self.dimensions.iter().map(|d| &d.name))
        {
            if seen.insert(name.as_str(), ()).is_some() {
                return Err(invalid(format!("`{name}` is defined twice")));
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(invalid(format!(
                    "`{name}`: names are snake_case (they become column names)"
                )));
            }
        }
        for set in &self.values {
            if self.dimension(&set.dimension).is_none() {
                return Err(invalid(format!(
                    "values for `{}`, which is not a dimension",
                    set.dimension
                )));
            }
        }
        for metric in &self.metrics {
            if let Some(item) = &metric.per_item
                && self.metric(item).is_none_or(|m| m.grain != Grain::Item)
            {
                return Err(invalid(format!(
                    "`{}`: per_item `{item}` is not an item metric",
                    metric.name
                )));
            }
            if let Some(segment) = &metric.segment {
                let value = self.values.iter().any(|set| {
                    set.dimension == segment.dimension
                        && set.values.iter().any(|v| v.value == segment.value)
                });
                if !value || self.metric(&segment.of).is_none() {
                    return Err(invalid(format!(
                        "`{}`: segment needs a value `{}` of `{}` in `values:` and a metric `{}`",
                        metric.name, segment.value, segment.dimension, segment.of
                    )));
                }
            }
            if metric.grain == Grain::Item && metric.events.is_empty() {
                return Err(invalid(format!(
                    "item metric `{}` names no `events` to read items from",
                    metric.name
                )));
            }
        }
        Ok(())
    }

    /// Replaces `{name}` references: fragments as written, metrics in parentheses.
    fn expand(&mut self) -> Result<(), SemanticError> {
        let raw_metrics: HashMap<String, String> = self
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.sql.clone()))
            .collect();
        let expander = Expander {
            fragments: &self.fragments,
            metrics: &raw_metrics,
        };
        for metric in &mut self.metrics {
            metric.sql =
                expander.expand(&metric.sql, &mut vec![format!("metric {}", metric.name)])?;
            if let Some(approx) = &mut metric.approx {
                *approx = expander.expand(approx, &mut vec![format!("metric {}", metric.name)])?;
            }
        }
        for dimension in &mut self.dimensions {
            let stack = || vec![format!("dimension {}", dimension.name)];
            dimension.sql = expander.expand(&dimension.sql, &mut stack())?;
            if let Some(session) = dimension.session.as_mut().or(dimension.user.as_mut()) {
                session.first = expander.expand(&session.first, &mut stack())?;
                if let Some(default) = &mut session.default {
                    *default = expander.expand(default, &mut stack())?;
                }
            }
        }
        if let Some(pages) = &mut self.page_types {
            pages.path = expander.expand(&pages.path, &mut vec!["page_types path".into()])?;
        }
        // Session-scoped dimensions and funnels of sessions find sessions by this key.
        match self.fragments.get("session_key") {
            Some(key) => {
                self.session_key =
                    Some(expander.expand(key, &mut vec!["fragment session_key".into()])?);
            }
            None if self.dimensions.iter().any(|d| d.session.is_some()) => {
                return Err(invalid(
                    "session-scoped dimensions need a `session_key` fragment".into(),
                ));
            }
            None => {}
        }
        Ok(())
    }

    /// Writes the SQL of session-scoped and rule-defined dimensions, and what each reads of
    /// the session values. Runs after `expand`, so rule patterns are never read as `{name}`.
    fn derive(&mut self) -> Result<(), SemanticError> {
        for d in &mut self.dimensions {
            let written = !d.sql.trim().is_empty();
            let how = usize::from(written)
                + usize::from(d.session.is_some())
                + usize::from(d.user.is_some())
                + usize::from(d.rules.is_some());
            if how != 1 {
                return Err(invalid(format!(
                    "dimension `{}` needs exactly one of `sql`, `session`, `user` and `rules`",
                    d.name
                )));
            }
            if d.session.is_some() {
                d.sql = format!("{SESSION_FACTS}.{}", d.name);
            }
            if d.user.is_some() {
                d.sql = format!("{USER_FACTS}.{}", d.name);
            }
        }
        for i in 0..self.dimensions.len() {
            let sql = match self.dimensions[i].rules {
                None => continue,
                Some(RuleSet::Channels) => {
                    let rules = self.channels.as_ref().ok_or_else(|| {
                        invalid(format!(
                            "dimension `{}` reads the `channels` rules, which the model does not have",
                            self.dimensions[i].name
                        ))
                    })?;
                    rules.check()?;
                    let input = |name: &str| {
                        self.dimension(name)
                            .filter(|d| d.rules.is_none())
                            .map(|d| d.sql.clone())
                            .ok_or_else(|| {
                                invalid(format!(
                                    "channels: `{name}` is not a dimension the rules can read"
                                ))
                            })
                    };
                    rules.sql(
                        &input(&rules.source)?,
                        &input(&rules.medium)?,
                        &input(&rules.campaign)?,
                    )
                }
                Some(RuleSet::PageTypes) => {
                    let pages = self.page_types.as_ref().ok_or_else(|| {
                        invalid(format!(
                            "dimension `{}` reads the `page_types` rules, which the model does not have",
                            self.dimensions[i].name
                        ))
                    })?;
                    pages.check()?;
                    pages.sql(&pages.path)
                }
            };
            self.dimensions[i].sql = sql;
        }
        let session_names: HashSet<String> = self
            .dimensions
            .iter()
            .filter(|d| d.session.is_some())
            .map(|d| d.name.clone())
            .collect();
        for d in &mut self.dimensions {
            d.sessions = session_columns(&d.name, &d.sql)?;
            if let Some(unknown) = d.sessions.iter().find(|s| !session_names.contains(*s)) {
                return Err(invalid(format!(
                    "dimension `{}` reads `{SESSION_FACTS}.{unknown}`, which is not a session-scoped dimension",
                    d.name
                )));
            }
        }
        Ok(())
    }

    fn check_sql(&self) -> Result<(), SemanticError> {
        let parse = check_expr;
        for metric in &self.metrics {
            parse(&metric.name, &metric.sql)?;
            if let Some(approx) = &metric.approx {
                parse(&metric.name, approx)?;
            }
        }
        for dimension in &self.dimensions {
            parse(&dimension.name, &dimension.sql)?;
        }
        for golden in &self.golden {
            nlq_sql::parse_query(&golden.sql).map_err(|err| {
                invalid(format!(
                    "the golden SQL of \"{}\" is not one query: {err}",
                    golden.question
                ))
            })?;
        }
        Ok(())
    }

    /// Every normalized word and what it names. A word naming two things is an error (the
    /// engine could not tell which one a question means), except values of different
    /// dimensions: the words next to them decide, or the reader asks back.
    fn index_words(&self) -> Result<Vec<(String, Vec<Term>)>, SemanticError> {
        let mut words: HashMap<String, Vec<Term>> = HashMap::new();
        let mut add = |word: &str, term: Term, owner: &str| -> Result<(), SemanticError> {
            let key = normalize(word);
            if key.is_empty() {
                return Err(invalid(format!("an empty word for `{owner}`")));
            }
            let terms = words.entry(key).or_default();
            if terms.contains(&term) {
                return Ok(());
            }
            let clash = terms.iter().find(|&&previous| match (previous, term) {
                (Term::Value(s1, _), Term::Value(s2, _)) => {
                    self.values[s1].dimension == self.values[s2].dimension
                }
                _ => true,
            });
            if let Some(&previous) = clash {
                return Err(invalid(format!(
                    "the word \"{word}\" names both {} and `{owner}`",
                    self.term_name(previous)
                )));
            }
            terms.push(term);
            Ok(())
        };
        for (i, m) in self.metrics.iter().enumerate() {
            for word in m.ko.iter().chain(&m.en) {
                add(word, Term::Metric(i), &m.name)?;
            }
        }
        for (i, d) in self.dimensions.iter().enumerate() {
            for word in d.ko.iter().chain(&d.en) {
                add(word, Term::Dimension(i), &d.name)?;
            }
        }
        for (s, set) in self.values.iter().enumerate() {
            for (v, value) in set.values.iter().enumerate() {
                let owner = format!("{} = {}", set.dimension, value.value);
                if set.literal {
                    add(&value.value, Term::Value(s, v), &owner)?;
                }
                for word in value.ko.iter().chain(&value.en) {
                    add(word, Term::Value(s, v), &owner)?;
                }
            }
        }
        let mut out: Vec<(String, Vec<Term>)> = words.into_iter().collect();
        // Longest first, so "참여 세션" is found before "세션".
        out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// A dimension's definition as a prompt shows it: its SQL, or for a session-scoped or
    /// rule-defined one how it is computed (its compiled SQL reads the `session_facts` CTE,
    /// and the channel rules alone are thousands of tokens).
    pub fn definition(&self, d: &Dimension) -> String {
        // Session- and user-scoped values are computed alike, per session or per user.
        let first = |value: &SessionValue, per: &str, whose: &str| {
            let default = value
                .default
                .as_deref()
                .map_or(String::new(), |v| format!(", else {v}"));
            format!(
                "per {per}: the first non-null {} among the {whose} by event_timestamp{default}",
                value.first
            )
        };
        if let Some(value) = &d.user {
            return first(value, "user (user_pseudo_id)", "user's events in the range");
        }
        if let Some(value) = &d.session {
            let key = self.session_key.as_deref().unwrap_or("the session");
            return first(value, &format!("session ({key})"), "session's events");
        }
        match (d.rules, &self.channels, &self.page_types) {
            (Some(RuleSet::Channels), Some(rules), _) => format!(
                "GA4's default channel group of the session's {}, {} and {}: {}",
                rules.source,
                rules.medium,
                rules.campaign,
                rules.group_names().collect::<Vec<_>>().join(", ")
            ),
            (Some(RuleSet::PageTypes), _, Some(pages)) => {
                let rules: Vec<String> = pages
                    .rules
                    .iter()
                    .map(|r| format!("{} if it matches r'{}'", r.page_type, r.matches))
                    .collect();
                format!(
                    "the first that holds of LOWER({}): {}; else '{}'",
                    pages.path,
                    rules.join("; "),
                    pages.fallback
                )
            }
            _ => d.sql.clone(),
        }
    }

    pub fn term_name(&self, term: Term) -> String {
        match term {
            Term::Metric(i) => format!("metric `{}`", self.metrics[i].name),
            Term::Dimension(i) => format!("dimension `{}`", self.dimensions[i].name),
            Term::Value(s, v) => format!(
                "`{} = {}`",
                self.values[s].dimension, self.values[s].values[v].value
            ),
        }
    }
}

/// The name in a "kind name" stack entry.
fn owner(entry: &str) -> &str {
    entry.split_once(' ').map_or(entry, |(_, name)| name)
}

/// The `session_facts.<name>` columns an expression reads, in order, once each.
fn session_columns(owner: &str, sql: &str) -> Result<Vec<String>, SemanticError> {
    use sqlparser::ast::{Expr, Visit, Visitor};
    use std::ops::ControlFlow;

    struct Columns(Vec<String>);
    impl Visitor for Columns {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = expr
                && let [table, column] = parts.as_slice()
                && table.value.eq_ignore_ascii_case(SESSION_FACTS)
                && !self.0.contains(&column.value)
            {
                self.0.push(column.value.clone());
            }
            ControlFlow::Continue(())
        }
    }
    if !sql.contains(SESSION_FACTS) {
        return Ok(Vec::new());
    }
    let expr = Parser::new(&BigQueryDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|err| invalid(format!("the SQL of `{owner}` does not parse: {err}")))?;
    let mut columns = Columns(Vec::new());
    let _ = expr.visit(&mut columns);
    Ok(columns.0)
}

pub(crate) fn check_expr(owner: &str, sql: &str) -> Result<(), SemanticError> {
    Parser::new(&BigQueryDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|err| invalid(format!("the SQL of `{owner}` does not parse: {err}")))
        .map(|_| ())
}

/// Names become column aliases.
pub(crate) fn is_column_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(crate) fn invalid(message: String) -> SemanticError {
    SemanticError::Model { message }
}

struct Expander<'a> {
    fragments: &'a BTreeMap<String, String>,
    metrics: &'a HashMap<String, String>,
}

impl Expander<'_> {
    /// `stack` holds the names being expanded, to report a cycle instead of recursing forever.
    fn expand(&self, sql: &str, stack: &mut Vec<String>) -> Result<String, SemanticError> {
        let mut out = String::with_capacity(sql.len());
        let mut rest = sql;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                invalid(format!(
                    "unclosed `{{` in the SQL of `{}`",
                    owner(&stack[0])
                ))
            })?;
            let name = &after[..close];
            // Stack entries are "kind name": a dimension may use a fragment of its own name.
            let (key, body) = if let Some(fragment) = self.fragments.get(name) {
                (format!("fragment {name}"), fragment)
            } else if let Some(metric) = self.metrics.get(name) {
                (format!("metric {name}"), metric)
            } else {
                return Err(invalid(format!(
                    "`{{{name}}}` in the SQL of `{}` is neither a fragment nor a metric",
                    owner(&stack[0])
                )));
            };
            if stack.contains(&key) {
                return Err(invalid(format!(
                    "`{}` refers to itself through {}",
                    owner(&stack[0]),
                    stack
                        .iter()
                        .map(|s| owner(s))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                )));
            }
            stack.push(key);
            let inner = self.expand(body, stack)?;
            let expanded = if self.fragments.contains_key(name) {
                inner
            } else {
                format!("({inner})")
            };
            stack.pop();
            out.push_str(&expanded);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_model_loads_and_expands() {
        let model = SemanticModel::builtin().unwrap();
        let rate = model.metric("engagement_rate").unwrap();
        assert!(
            rate.sql
                .starts_with("SAFE_DIVIDE((COUNT(DISTINCT IF((SELECT ep.value.string_value"),
            "{}",
            rate.sql
        );
        assert!(!rate.sql.contains('{'));
        assert_eq!(
            model.dimension("week").unwrap().sql,
            "DATE_TRUNC(PARSE_DATE('%Y%m%d', event_date), WEEK(MONDAY))"
        );
        assert!(model.words().len() > 300);
    }

    #[test]
    fn another_dataset_gets_the_table_and_the_golden_examples() {
        let builtin = SemanticModel::builtin().unwrap();
        let same = builtin
            .clone()
            .for_dataset("bigquery-public-data", "ga4_obfuscated_sample_ecommerce")
            .unwrap();
        assert_eq!(same.golden[0].sql, builtin.golden[0].sql, "left as written");
        let moved = builtin.for_dataset("my-co", "analytics_123").unwrap();
        assert_eq!(moved.table, "my-co.analytics_123.events_*");
        for golden in &moved.golden {
            assert!(
                golden.sql.contains("`my-co.analytics_123.events_*`")
                    && !golden.sql.contains("bigquery-public-data"),
                "{}",
                golden.sql
            );
        }
    }

    fn with(replace: &str, by: &str) -> Result<SemanticModel, SemanticError> {
        let text = include_str!("../../../fixtures/semantic/ga4.yaml");
        assert!(text.contains(replace), "{replace}");
        SemanticModel::from_yaml(&text.replacen(replace, by, 1))
    }

    fn message(result: Result<SemanticModel, SemanticError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    /// Real catalogs hold values that differ only in case or spacing ("Google Tee", "google
    /// tee"): one word, so the first is kept and the model still loads.
    #[test]
    fn catalog_values_that_read_as_one_word_are_kept_once() {
        let model = SemanticModel::builtin()
            .unwrap()
            .with_values(
                "item_name",
                ["Cloud Mug", "cloud mug", "CLOUD  MUG"].map(String::from),
            )
            .unwrap();
        let set = model
            .values
            .iter()
            .find(|s| s.dimension == "item_name" && s.literal)
            .unwrap();
        let mugs: Vec<&str> = set
            .values
            .iter()
            .map(|v| v.value.as_str())
            .filter(|v| v.eq_ignore_ascii_case("cloud mug") || v.starts_with("CLOUD"))
            .collect();
        assert_eq!(mugs, ["Cloud Mug"]);
    }

    #[test]
    fn catalog_values_extend_a_dimension_without_taking_model_words() {
        let model = SemanticModel::builtin()
            .unwrap()
            .with_values(
                "event_name",
                ["sign_up", "generate_lead", "scroll", "sessions"].map(String::from),
            )
            .unwrap();
        let names = |word: &str| {
            model
                .words()
                .iter()
                .find(|(w, _)| w == word)
                .map(|(_, terms)| {
                    terms
                        .iter()
                        .map(|t| model.term_name(*t))
                        .collect::<Vec<_>>()
                })
        };
        assert_eq!(
            names("sign_up"),
            Some(vec!["`event_name = sign_up`".to_owned()])
        );
        assert_eq!(
            names("sessions"),
            Some(vec!["metric `sessions`".to_owned()])
        );
        assert!(
            SemanticModel::builtin()
                .unwrap()
                .with_values("colour", ["red".to_owned()])
                .is_err()
        );
    }

    #[test]
    fn bad_models_are_refused_with_what_is_wrong() {
        let m = message(with(
            "    format: count\n",
            "    format: count\n    colour: red\n",
        ));
        assert!(
            m.contains("unknown field `colour`") && m.contains("line"),
            "{m}"
        );
        let m = message(with("[참여율,", "[세션,"));
        assert!(m.contains("\"세션\" names both"), "{m}");
        let m = message(with(
            "SAFE_DIVIDE({engaged_sessions}, {sessions})",
            "SAFE_DIVIDE({engaged}, {sessions})",
        ));
        assert!(
            m.contains("`{engaged}` in the SQL of `engagement_rate`"),
            "{m}"
        );
        let m = message(with("\"1 - {engagement_rate}\"", "\"1 - {bounce_rate}\""));
        assert!(m.contains("refers to itself"), "{m}");
        let m = message(with(
            "\"COUNTIF(event_name = 'page_view')\"",
            "\"COUNTIF(event_name = \"",
        ));
        assert!(m.contains("the SQL of `page_views` does not parse"), "{m}");
        let m = message(with("  - name: users\n", "  - name: events\n"));
        assert!(m.contains("`events` is defined twice"), "{m}");
        let m = message(with("joiners: [and, or,", "joiners: [and, \",\", or,"));
        assert!(
            m.contains("`joiners` has a word that is only punctuation"),
            "{m}"
        );
        let m = message(with("  ignore:\n    ko: [", "  ignore:\n    ko: [only, "));
        assert!(m.contains("\"only\" is both ignored and meaningful"), "{m}");
    }
}
