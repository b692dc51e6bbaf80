//! What the MetaSync document tells a pipeline: the registry's tables and as-of date (the
//! dataset facts the validator and the semantic engine's date bounds use), the parameter
//! catalog (which value field each key really uses, for the lint), and the facts about the
//! data the LLM's prompts carry.
//!
//! This is where `nlq-metasync`'s document meets `nlq-validate`'s traits: neither adapter crate
//! knows the other.

use std::collections::{HashMap, HashSet};

use nlq_metasync::MetadataDocument;
use nlq_metasync::document::KeyStats;
use nlq_metasync::vocabulary::{EntryKind, Proposal};
use nlq_validate::{DatasetFacts, ParamCatalog, ParamScope, StandardParams, ValueField};
use sqlparser::dialect::BigQueryDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::PipelineError;

/// The dataset's tables and "today" as the registry records them; the as-of date is the day
/// after the newest complete shard.
pub fn dataset_facts(document: &MetadataDocument) -> Result<DatasetFacts, PipelineError> {
    let registry = &document.registry;
    let Some(as_of) = registry.as_of else {
        return Err(PipelineError::NoData);
    };
    let tables = registry
        .shards
        .iter()
        .chain(&registry.intraday)
        .chain(&registry.other)
        .cloned()
        .collect();
    Ok(DatasetFacts {
        tables,
        today: as_of.to_string(),
    })
}

/// The semantic model taught the property's own vocabulary: its event names (sign_up,
/// generate_lead ...) as values, the entries MetaSync proposed from the catalog (each event's
/// count and users, its parameters and user properties as dimensions or totals and averages),
/// and the most frequent values of each dimension read from a column or parameter the catalog
/// sampled (product names, categories, cities, plan types), so a question that names them is
/// read as a filter. What the model already knows keeps its word.
pub fn model_with_values(
    model: nlq_semantic::SemanticModel,
    document: &MetadataDocument,
) -> Result<nlq_semantic::SemanticModel, nlq_semantic::SemanticError> {
    let events = (
        "event_name".to_owned(),
        document.catalog.events.keys().cloned().collect(),
    );
    let model = model.with_value_sets([events])?;
    let (metrics, dimensions) = entries(&document.vocabulary);
    let (model, added) = model.with_entries(metrics, dimensions)?;
    let mut sets: Vec<(String, Vec<String>)> = model
        .dimensions
        .iter()
        .filter(|d| d.time.is_none())
        .filter_map(|d| {
            let values = document.catalog.columns.get(&catalog_column(&d.sql))?;
            Some((
                d.name.clone(),
                values.iter().map(|(v, _)| v.clone()).collect(),
            ))
        })
        .collect();
    for proposal in &document.vocabulary {
        if proposal.kind == EntryKind::Dimension && added.contains(&proposal.name) {
            let words = proposal
                .values
                .iter()
                .filter(|v| is_value_word(v))
                .cloned()
                .collect();
            sets.push((proposal.name.clone(), words));
        }
    }
    model.with_value_sets(sets)
}

/// A value that is a word of its own: not a number ("top 3", "3 days") and not one letter.
fn is_value_word(value: &str) -> bool {
    value.trim().chars().count() >= 2 && value.trim().parse::<f64>().is_err()
}

/// The proposals as the model's metrics and dimensions (a proposal with a format the model
/// does not know is left out).
fn entries(
    proposals: &[Proposal],
) -> (
    Vec<nlq_semantic::model::Metric>,
    Vec<nlq_semantic::model::Dimension>,
) {
    use nlq_semantic::model::{Dimension, Format, Grain, Metric, Origin};
    let mut metrics = Vec::new();
    let mut dimensions = Vec::new();
    for p in proposals {
        match p.kind {
            EntryKind::Metric => {
                let format = p
                    .format
                    .as_deref()
                    .and_then(|f| serde_json::from_value::<Format>(f.into()).ok());
                let Some(format) = format else { continue };
                metrics.push(Metric {
                    name: p.name.clone(),
                    sql: p.sql.clone(),
                    format,
                    grain: Grain::Event,
                    events: p.events.clone(),
                    per_item: None,
                    segment: None,
                    approx: None,
                    ko: p.ko.clone(),
                    en: p.en.clone(),
                    origin: Origin::Catalog,
                });
            }
            EntryKind::Dimension => dimensions.push(Dimension {
                name: p.name.clone(),
                sql: p.sql.clone(),
                grain: Grain::Event,
                time: None,
                group: None,
                ko: p.ko.clone(),
                en: p.en.clone(),
                only_present: true,
                events: p.events.clone(),
                origin: Origin::Catalog,
                session: None,
                user: None,
                rules: None,
                sessions: Vec::new(),
            }),
        }
    }
    (metrics, dimensions)
}

/// The catalog's name for the column a dimension reads: the model unnests `items` as `item`.
fn catalog_column(sql: &str) -> String {
    match sql.strip_prefix("item.") {
        Some(field) => format!("items.{field}"),
        None => sql.to_owned(),
    }
}

/// The value fields each parameter key was seen with in the sampled shards. Keys the sample
/// never saw fall back to the parameters Google documents (`StandardParams`), and keys neither
/// knows are unknown: the lint never reports them.
#[derive(Debug, Clone, Default)]
pub struct CatalogParams {
    /// (scope, event name, key) -> fields.
    by_event: HashMap<(ParamScope, String, String), Vec<ValueField>>,
    /// (scope, key) -> fields over every event.
    any_event: HashMap<(ParamScope, String), Vec<ValueField>>,
}

impl CatalogParams {
    pub fn new(document: &MetadataDocument) -> Self {
        let mut catalog = CatalogParams::default();
        for (event, entry) in &document.catalog.events {
            for (scope, keys) in [
                (ParamScope::EventParams, &entry.event_params),
                (ParamScope::UserProperties, &entry.user_properties),
            ] {
                for stats in keys {
                    let fields = fields_of(stats);
                    if fields.is_empty() {
                        // Seen only without a value: says nothing about where values go.
                        continue;
                    }
                    let all = catalog
                        .any_event
                        .entry((scope, stats.key.clone()))
                        .or_default();
                    for field in &fields {
                        if !all.contains(field) {
                            all.push(*field);
                        }
                    }
                    // The same order whichever event came first.
                    all.sort_by_key(|f| FIELDS.iter().position(|g| g == f));
                    catalog
                        .by_event
                        .insert((scope, event.clone(), stats.key.clone()), fields);
                }
            }
        }
        catalog
    }
}

/// The value fields in the export's column order.
const FIELDS: [ValueField; 4] = [
    ValueField::String,
    ValueField::Int,
    ValueField::Float,
    ValueField::Double,
];

fn fields_of(stats: &KeyStats) -> Vec<ValueField> {
    [
        (ValueField::String, stats.string_value),
        (ValueField::Int, stats.int_value),
        (ValueField::Float, stats.float_value),
        (ValueField::Double, stats.double_value),
    ]
    .into_iter()
    .filter(|(_, rows)| *rows > 0)
    .map(|(field, _)| field)
    .collect()
}

impl ParamCatalog for CatalogParams {
    fn value_fields(
        &self,
        scope: ParamScope,
        event_name: Option<&str>,
        key: &str,
    ) -> Option<Vec<ValueField>> {
        if let Some(event) = event_name
            && let Some(fields) = self
                .by_event
                .get(&(scope, event.to_owned(), key.to_owned()))
        {
            return Some(fields.clone());
        }
        // Another event's statistics still say where this key's values go: tagging sets a key
        // the same way on every event.
        if let Some(fields) = self.any_event.get(&(scope, key.to_owned())) {
            return Some(fields.clone());
        }
        StandardParams.value_fields(scope, event_name, key)
    }
}

/// Lines about the data for the LLM's prompts, from the document: the facts MetaSync derived
/// (date coverage, intraday tables, and any an LLM wrote and validation kept), then one line
/// per event with its parameters, the events `relevant` names first (trimming cuts from the
/// end), then by how common they are.
pub(crate) fn data_facts(document: &MetadataDocument, relevant: &HashSet<String>) -> Vec<String> {
    let mut lines: Vec<String> = document
        .insights
        .iter()
        // The catalog's own per-event insights are said better by the lines below.
        .filter(|i| i.origin != "catalog")
        .map(|i| i.text.clone())
        .collect();
    let catalog = &document.catalog;
    let mut events: Vec<(&String, &nlq_metasync::document::EventCatalog)> =
        catalog.events.iter().collect();
    events.sort_by_key(|(name, entry)| {
        (
            !relevant.contains(&name.to_ascii_lowercase()),
            std::cmp::Reverse(entry.count),
        )
    });
    let sampled = match (
        catalog.sampled_tables.last(),
        catalog.sampled_tables.first(),
    ) {
        (Some(oldest), Some(newest)) if oldest != newest => format!(" in {oldest}..{newest}"),
        (Some(only), _) => format!(" in {only}"),
        _ => String::new(),
    };
    for (name, entry) in events {
        let mut line = format!("event `{name}` ({} events{sampled})", entry.count);
        for (label, keys) in [
            ("event_params", &entry.event_params),
            ("user_properties", &entry.user_properties),
        ] {
            let described: Vec<String> = keys
                .iter()
                // Keys on under 1% of the events are noise for a prompt.
                .filter(|k| k.rows * 100 >= entry.count)
                .filter_map(describe_key)
                .collect();
            if !described.is_empty() {
                line.push_str(&format!("; {label}: {}", described.join(", ")));
            }
        }
        if let Some(items) = &entry.items {
            let filled: Vec<&str> = items
                .filled
                .iter()
                .filter(|(_, share)| **share >= 0.5)
                .map(|(field, _)| field.as_str())
                .collect();
            if !filled.is_empty() {
                line.push_str(&format!("; items set: {}", filled.join(", ")));
            }
        }
        lines.push(line);
    }
    lines
}

/// `key value_field`, with its values when there are few (`payment_type string_value: 'Credit
/// Card', 'PayPal'`): a filter needs the exact spelling.
fn describe_key(stats: &KeyStats) -> Option<String> {
    let field = stats.main_type()?;
    let mut text = format!("{} {field}", stats.key);
    if stats.distinct <= 8 && !stats.top_values.is_empty() {
        let values: Vec<String> = stats
            .top_values
            .iter()
            .take(5)
            .map(|(v, _)| format!("'{}'", v.replace('\'', "\\'")))
            .collect();
        text.push_str(&format!(" ({})", values.join(", ")));
    }
    Some(text)
}

/// The verified examples of the document, as the retrieval index takes them.
pub(crate) fn examples(document: &MetadataDocument) -> Vec<nlq_semantic::model::Golden> {
    document
        .examples
        .iter()
        .map(|e| nlq_semantic::model::Golden {
            question: e.question.clone(),
            sql: e.sql.clone(),
        })
        .collect()
}

/// The catalog's events a question or its retrieved examples speak of: named in the question
/// (`purchase`, `add_to_cart`) or compared with in an example's SQL (`event_name =
/// 'purchase'`, read from the SQL's tokens).
pub(crate) fn relevant_events(
    document: &MetadataDocument,
    question: &str,
    example_sql: &[&str],
) -> HashSet<String> {
    let question = question.to_lowercase();
    let mut words: HashSet<String> = HashSet::new();
    for sql in example_sql {
        let tokens = Tokenizer::new(&BigQueryDialect {}, sql)
            .tokenize()
            .unwrap_or_default();
        words.extend(tokens.into_iter().filter_map(|t| match t {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => {
                Some(s.to_ascii_lowercase())
            }
            _ => None,
        }));
    }
    document
        .catalog
        .events
        .keys()
        .map(|name| name.to_ascii_lowercase())
        .filter(|name| question.contains(name.as_str()) || words.contains(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use nlq_metasync::document::{EventCatalog, Insight, ParamCatalog as Catalog, Registry};

    fn stats(key: &str, string: u64, int: u64, double: u64) -> KeyStats {
        KeyStats {
            key: key.into(),
            rows: string + int + double,
            string_value: string,
            int_value: int,
            float_value: 0,
            double_value: double,
            null_rate: 0.0,
            distinct: 3,
            top_values: vec![("a".into(), 2), ("b'c".into(), 1)],
        }
    }

    fn document() -> MetadataDocument {
        let mut events = BTreeMap::new();
        events.insert(
            "purchase".to_owned(),
            EventCatalog {
                count: 100,
                event_params: vec![
                    stats("value", 0, 10, 90),
                    stats("custom_tier", 0, 100, 0),
                    stats("rare", 0, 0, 0),
                ],
                user_properties: vec![],
                items: None,
            },
        );
        events.insert(
            "page_view".to_owned(),
            EventCatalog {
                count: 1000,
                event_params: vec![stats("custom_tier", 1000, 0, 0)],
                user_properties: vec![],
                items: None,
            },
        );
        let json = serde_json::json!({
            "format_version": nlq_metasync::document::FORMAT_VERSION,
            "generated_at": "2026-11-22T07:00:00Z",
            "source": {"warehouse": "embedded", "project": "p", "dataset": "d"},
            "registry": Registry {
                shards: vec!["events_20210101".into(), "events_20210102".into()],
                intraday: vec!["events_intraday_20210103".into()],
                first_day: chrono::NaiveDate::from_ymd_opt(2021, 1, 1),
                last_day: chrono::NaiveDate::from_ymd_opt(2021, 1, 2),
                as_of: chrono::NaiveDate::from_ymd_opt(2021, 1, 3),
                ..Registry::default()
            },
            "schema": [],
            "catalog": Catalog {
                sampled_tables: vec!["events_20210102".into(), "events_20210101".into()],
                bytes_processed: 1,
                events,
                columns: BTreeMap::from([
                    ("items.item_name".to_owned(), vec![("Cloud Nine Enamel Mug".to_owned(), 3)]),
                    ("geo.city".to_owned(), vec![("Gwangmyeong".to_owned(), 2)]),
                ]),
            },
            "examples": [],
            "insights": [
                Insight { text: "daily tables cover 2021-01-01 .. 2021-01-02".into(), origin: "registry".into() },
                Insight { text: "`purchase` events carry value".into(), origin: "catalog".into() },
            ],
        });
        MetadataDocument::from_json(json.to_string().as_bytes()).unwrap()
    }

    /// A product and a city only the property's data knows are read as filters.
    #[test]
    fn the_catalogs_values_teach_the_reader_the_propertys_names() {
        let model = nlq_semantic::SemanticModel::builtin().unwrap();
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2021, 1, d).unwrap();
        let data = nlq_semantic::DateRange {
            start: day(1),
            end: day(2),
        };
        let filters = |model: &nlq_semantic::SemanticModel, question: &str| {
            let reader = nlq_semantic::Reader::new(model, day(3), data);
            match reader.understand(question) {
                nlq_semantic::Understanding::Data { plan } => plan
                    .filters
                    .iter()
                    .map(|f| (f.dimension.clone(), f.values.clone()))
                    .collect::<Vec<_>>(),
                other => panic!("{question}: {other:?}"),
            }
        };
        let taught = model_with_values(model.clone(), &document()).unwrap();
        assert_eq!(
            filters(&taught, "cloud nine enamel mug 매출"),
            [(
                "item_name".to_owned(),
                vec!["Cloud Nine Enamel Mug".to_owned()]
            )]
        );
        assert_eq!(
            filters(&taught, "revenue in Gwangmyeong"),
            [("city".to_owned(), vec!["Gwangmyeong".to_owned()])]
        );
        // Untaught, the model does not know them.
        let reader = nlq_semantic::Reader::new(&model, day(3), data);
        assert!(!matches!(
            reader.understand("revenue in Gwangmyeong"),
            nlq_semantic::Understanding::Data { plan } if !plan.filters.is_empty()
        ));
    }

    /// Issue 19: the property's own events, parameters and user properties are words, with
    /// no model file edit; a breakdown is over the events that carry what it reads.
    #[test]
    fn catalog_entries_answer_questions_about_custom_events() {
        let mut doc = document();
        let key = |key: &str, strings: u64, ints: u64, doubles: u64, top: &[&str]| {
            KeyStats::sample(key, strings, ints, doubles, 3, top)
        };
        doc.catalog.events.insert(
            "subscribe".into(),
            EventCatalog {
                count: 40,
                event_params: vec![
                    key("plan_type", 40, 0, 0, &["basic", "premium"]),
                    key("price", 0, 0, 40, &[]),
                ],
                user_properties: vec![key("membership_tier", 40, 0, 0, &["free", "pro"])],
                items: None,
            },
        );
        doc.vocabulary = nlq_metasync::vocabulary::propose(&doc.catalog);
        let model =
            model_with_values(nlq_semantic::SemanticModel::builtin().unwrap(), &doc).unwrap();
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2021, 1, d).unwrap();
        let data = nlq_semantic::DateRange {
            start: day(1),
            end: day(2),
        };
        let reader = nlq_semantic::Reader::new(&model, day(3), data);
        let plan = |question: &str| match reader.understand(question) {
            nlq_semantic::Understanding::Data { plan } => plan,
            other => panic!("{question}: {other:?}"),
        };
        for (question, metrics, dimensions) in [
            (
                "plan_type별 subscribe 수",
                vec!["subscribe_count"],
                vec!["plan_type"],
            ),
            (
                "subscribe events by plan type",
                vec!["subscribe_count"],
                vec!["plan_type"],
            ),
            ("구독 한 사용자 수", vec!["subscribe_users"], vec![]),
            (
                "average price by plan_type",
                vec!["avg_price"],
                vec!["plan_type"],
            ),
            (
                "플랜 유형별 총 가격",
                vec!["total_price"],
                vec!["plan_type"],
            ),
            (
                "users by membership_tier",
                vec!["users"],
                vec!["membership_tier"],
            ),
        ] {
            let plan = plan(question);
            assert_eq!(plan.metrics, metrics, "{question}");
            assert_eq!(plan.dimensions, dimensions, "{question}");
        }
        let premium = plan("premium subscribe 수");
        assert_eq!(premium.filters[0].dimension, "plan_type");
        // A parameter's value alone does not say which events are meant.
        assert!(matches!(
            reader.understand("premium page views"),
            nlq_semantic::Understanding::NeedsLlm { reason } if reason.contains("plan_type")
        ));
        let sql = nlq_semantic::compile(&model, &plan("plan_type별 subscribe 수")).unwrap();
        assert!(
            sql.contains("COUNTIF(event_name = 'subscribe') AS subscribe_count"),
            "{sql}"
        );
        assert!(sql.contains("AND event_name IN ('subscribe')"), "{sql}");
        assert!(
            sql.contains("WHERE ep.key = 'plan_type') IS NOT NULL"),
            "{sql}"
        );
        // A model file's rules: hidden entries are not read, renamed ones answer by the new name.
        let mut ruled = nlq_semantic::SemanticModel::builtin().unwrap();
        ruled.catalog.hide.push("avg_price".into());
        ruled
            .catalog
            .rename
            .insert("plan_type".into(), "subscription_plan".into());
        let ruled = model_with_values(ruled, &doc).unwrap();
        assert!(ruled.metric("avg_price").is_none());
        assert!(ruled.dimension("subscription_plan").is_some());
    }

    #[test]
    fn facts_come_from_the_registry() {
        let facts = dataset_facts(&document()).unwrap();
        assert_eq!(facts.today, "2021-01-03");
        assert_eq!(
            facts.tables,
            [
                "events_20210101",
                "events_20210102",
                "events_intraday_20210103"
            ]
        );
        let mut empty = document();
        empty.registry = Registry::default();
        assert_eq!(dataset_facts(&empty), Err(PipelineError::NoData));
    }

    #[test]
    fn the_catalog_answers_per_event_then_for_any_event_then_as_google_documents() {
        let params = CatalogParams::new(&document());
        let fields = |event, key| params.value_fields(ParamScope::EventParams, event, key);
        use ValueField::{Double, Int, String};
        assert_eq!(fields(Some("purchase"), "value"), Some(vec![Int, Double]));
        // Per event: the same key lives in different fields on different events.
        assert_eq!(fields(Some("purchase"), "custom_tier"), Some(vec![Int]));
        assert_eq!(fields(Some("page_view"), "custom_tier"), Some(vec![String]));
        assert_eq!(fields(None, "custom_tier"), Some(vec![String, Int]));
        // Not sampled: Google's documented field; seen only empty or unheard of: unknown.
        assert_eq!(fields(None, "page_location"), Some(vec![String]));
        assert_eq!(fields(Some("purchase"), "rare"), None);
        assert_eq!(fields(None, "nobody_sends_this"), None);
        assert_eq!(
            params.value_fields(ParamScope::UserProperties, None, "value"),
            None
        );
    }

    #[test]
    fn facts_for_prompts_put_the_relevant_events_first() {
        let doc = document();
        let none = data_facts(&doc, &HashSet::new());
        assert_eq!(none[0], "daily tables cover 2021-01-01 .. 2021-01-02");
        assert!(
            none[1]
                .starts_with("event `page_view` (1000 events in events_20210101..events_20210102)")
        );
        let relevant = HashSet::from(["purchase".to_owned()]);
        let lines = data_facts(&doc, &relevant);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(
            lines[1],
            "event `purchase` (100 events in events_20210101..events_20210102); event_params: \
             value double_value ('a', 'b\\'c'), custom_tier int_value ('a', 'b\\'c')"
        );

        let sql = "SELECT COUNT(*) FROM t WHERE event_name = 'purchase'";
        assert_eq!(
            relevant_events(&doc, "page_view 수", &[]),
            HashSet::from(["page_view".to_owned()])
        );
        assert_eq!(relevant_events(&doc, "매출", &[sql]), relevant);
    }
}
