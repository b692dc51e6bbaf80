//! The metadata document: what the server and the CLI need to know about the warehouse,
//! as one JSON value with a format version. Readers reject a document they cannot trust
//! (another format version, a registry that contradicts itself) rather than half-use it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Bumped whenever a reader of the previous version would misread a new document.
/// 2 added `vocabulary`; a version 1 document still reads (its vocabulary is proposed from its
/// catalog when it is loaded).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataDocument {
    pub format_version: u32,
    pub generated_at: DateTime<Utc>,
    pub source: Source,
    pub registry: Registry,
    /// The columns most shards share (`name` and BigQuery type), as `table_schema` saw them.
    pub schema: Vec<SchemaColumn>,
    pub catalog: ParamCatalog,
    pub examples: Vec<Example>,
    pub insights: Vec<Insight>,
    /// Model entries proposed from the catalog (`vocabulary::propose`).
    #[serde(default)]
    pub vocabulary: Vec<crate::vocabulary::Proposal>,
}

/// Where the metadata came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `embedded`, `bigquery`.
    pub warehouse: String,
    pub project: String,
    pub dataset: String,
}

/// The dataset's tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Daily `events_YYYYMMDD` tables, sorted.
    pub shards: Vec<String>,
    /// `events_intraday_YYYYMMDD` tables, sorted: today's partial data.
    pub intraday: Vec<String>,
    /// Any other table of the dataset.
    pub other: Vec<String>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// The day after the last complete shard: what "today" means for relative dates.
    pub as_of: Option<NaiveDate>,
    /// Days between the first and last shard without a table.
    pub missing_days: Vec<NaiveDate>,
    /// Shards whose schema differs from the shared one.
    pub drift: Vec<Drift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

/// How one shard's columns differ from the shared schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    pub table: String,
    pub added: Vec<SchemaColumn>,
    pub missing: Vec<String>,
    /// (column, shared type, this shard's type)
    pub changed: Vec<(String, String, String)>,
}

/// What keys events carry, with what values, sampled from recent shards.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamCatalog {
    pub sampled_tables: Vec<String>,
    /// What sampling read, as the warehouse billed it.
    pub bytes_processed: u64,
    /// Event name -> what its events carry.
    pub events: BTreeMap<String, EventCatalog>,
    /// The most frequent values of the property's descriptive text columns (`geo.country`,
    /// `items.item_name`, `traffic_source.source` ...), most frequent first, with their counts:
    /// the values a question names ("Google 티셔츠 매출").
    #[serde(default)]
    pub columns: BTreeMap<String, Vec<(String, u64)>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCatalog {
    /// Events of this name in the sampled shards.
    pub count: u64,
    pub event_params: Vec<KeyStats>,
    pub user_properties: Vec<KeyStats>,
    /// Item fields that are set on this event's items (share of items), when it has items.
    pub items: Option<ItemStats>,
}

/// One key of `event_params` or `user_properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyStats {
    pub key: String,
    /// Rows carrying the key.
    pub rows: u64,
    /// Rows with each value field set.
    pub string_value: u64,
    pub int_value: u64,
    pub float_value: u64,
    pub double_value: u64,
    /// Share of rows with no value field set.
    pub null_rate: f64,
    /// Distinct values.
    pub distinct: u64,
    /// The most frequent values, as text, with their rows.
    pub top_values: Vec<(String, u64)>,
}

impl KeyStats {
    /// A key seen `strings`, `ints` and `doubles` times with each value type, `distinct`
    /// values, `top` the most frequent (once each): the tests' catalogs.
    #[cfg(any(test, feature = "testing"))]
    pub fn sample(
        key: &str,
        strings: u64,
        ints: u64,
        doubles: u64,
        distinct: u64,
        top: &[&str],
    ) -> KeyStats {
        KeyStats {
            key: key.into(),
            rows: strings + ints + doubles,
            string_value: strings,
            int_value: ints,
            float_value: 0,
            double_value: doubles,
            null_rate: 0.0,
            distinct,
            top_values: top.iter().map(|v| ((*v).to_owned(), 1)).collect(),
        }
    }

    /// The value field most rows use: `string_value`, `int_value`, `float_value`,
    /// `double_value`, or None when no row has a value.
    pub fn main_type(&self) -> Option<&'static str> {
        [
            ("string_value", self.string_value),
            ("int_value", self.int_value),
            ("float_value", self.float_value),
            ("double_value", self.double_value),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map(|(name, _)| name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemStats {
    pub items: u64,
    /// Item field -> share of items with it set.
    pub filled: BTreeMap<String, f64>,
}

/// A verified question and its SQL, for the LLM's prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub question: String,
    pub sql: String,
    /// `golden` (shipped with the semantic model) or `generated` (by an LLM, then checked).
    pub origin: String,
    /// What its dry run said it would read on the current data.
    pub bytes_processed: u64,
}

/// A fact about the data worth telling the LLM ("purchase events carry transaction_id").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insight {
    pub text: String,
    /// `catalog` (derived from statistics) or `llm`.
    pub origin: String,
}

impl MetadataDocument {
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain data structures cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads and checks a stored document; the error says what is wrong with it.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        // The version first, so a newer document says so instead of failing on a new field.
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<u32>,
        }
        let version: Version =
            serde_json::from_slice(bytes).map_err(|e| format!("it is not JSON: {e}"))?;
        match version.format_version {
            Some(1 | FORMAT_VERSION) => {}
            Some(other) => {
                return Err(format!(
                    "it has format version {other} and this nlq reads version {FORMAT_VERSION}; \
                     run the matching nlq-metasync"
                ));
            }
            None => return Err("it has no format_version".into()),
        }
        let mut doc: MetadataDocument = serde_json::from_slice(bytes)
            .map_err(|e| format!("it does not fit the format: {e}"))?;
        if doc.format_version == 1 {
            doc.vocabulary = crate::vocabulary::propose(&doc.catalog);
        }
        doc.check()?;
        Ok(doc)
    }

    fn check(&self) -> Result<(), String> {
        let r = &self.registry;
        if !r.shards.windows(2).all(|w| w[0] < w[1]) {
            return Err("its shards are not sorted and unique".into());
        }
        let days: Vec<NaiveDate> = r.shards.iter().filter_map(|t| shard_day(t)).collect();
        if days.len() != r.shards.len() {
            return Err("a shard is not named events_YYYYMMDD".into());
        }
        if r.first_day != days.first().copied() || r.last_day != days.last().copied() {
            return Err("its first and last days do not match its shards".into());
        }
        if let (Some(last), Some(as_of)) = (r.last_day, r.as_of)
            && as_of <= last
        {
            return Err(format!(
                "its as-of date {as_of} is not after its last day {last}"
            ));
        }
        Ok(())
    }

    /// How old the document is at `now`.
    pub fn age(&self, now: DateTime<Utc>) -> chrono::Duration {
        now - self.generated_at
    }
}

/// The day of `events_YYYYMMDD` (and only of that shape).
pub fn shard_day(table: &str) -> Option<NaiveDate> {
    let digits = table.strip_prefix("events_")?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> MetadataDocument {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        MetadataDocument {
            format_version: FORMAT_VERSION,
            generated_at: DateTime::parse_from_rfc3339("2026-11-22T07:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            source: Source {
                warehouse: "embedded".into(),
                project: "p".into(),
                dataset: "d".into(),
            },
            registry: Registry {
                shards: vec!["events_20210101".into(), "events_20210103".into()],
                first_day: day("2021-01-01"),
                last_day: day("2021-01-03"),
                as_of: day("2021-01-04"),
                missing_days: vec![day("2021-01-02").unwrap()],
                ..Registry::default()
            },
            schema: vec![],
            catalog: ParamCatalog::default(),
            examples: vec![],
            insights: vec![],
            vocabulary: vec![],
        }
    }

    #[test]
    fn round_trips_and_rejects_what_it_cannot_trust() {
        let doc = sample();
        assert_eq!(MetadataDocument::from_json(&doc.to_json()).unwrap(), doc);

        let mut newer = serde_json::to_value(&doc).unwrap();
        newer["format_version"] = (FORMAT_VERSION + 1).into();
        newer["something_new"] = true.into();
        let err = MetadataDocument::from_json(newer.to_string().as_bytes()).unwrap_err();
        assert!(err.starts_with("it has format version 3"), "{err}");

        // Version 1 had no vocabulary: it is proposed from the catalog as the document loads.
        let mut older = serde_json::to_value(&doc).unwrap();
        older["format_version"] = 1.into();
        older.as_object_mut().unwrap().remove("vocabulary");
        let read = MetadataDocument::from_json(older.to_string().as_bytes()).unwrap();
        assert_eq!(read.vocabulary, crate::vocabulary::propose(&doc.catalog));

        let err = MetadataDocument::from_json(b"{\"format_version\": 1, \"gen").unwrap_err();
        assert!(err.starts_with("it is not JSON"), "{err}");

        let mut bad = doc.clone();
        bad.registry.as_of = bad.registry.last_day;
        let err = MetadataDocument::from_json(&bad.to_json()).unwrap_err();
        assert!(err.contains("is not after its last day"), "{err}");

        let mut bad = doc;
        bad.registry.shards.reverse();
        assert!(MetadataDocument::from_json(&bad.to_json()).is_err());
    }

    #[test]
    fn the_main_value_type_is_the_most_used() {
        let stats = KeyStats {
            key: "ga_session_id".into(),
            rows: 10,
            string_value: 1,
            int_value: 9,
            float_value: 0,
            double_value: 0,
            null_rate: 0.0,
            distinct: 5,
            top_values: vec![],
        };
        assert_eq!(stats.main_type(), Some("int_value"));
        assert_eq!(
            shard_day("events_20210131"),
            NaiveDate::from_ymd_opt(2021, 1, 31)
        );
        assert_eq!(shard_day("events_intraday_20210131"), None);
        assert_eq!(shard_day("events_20211331"), None);
    }
}
