//! The sync job: reads the warehouse's metadata (tables, schemas) and samples a few recent
//! shards for the parameter catalog, re-checks the verified examples, and returns the
//! document. Cheap by design: metadata calls, narrow column reads with a byte cap checked by
//! a dry run first, never `SELECT *`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{Duration as Days, NaiveDate, Utc};

use nlq_core::{QueryRequest, TableSchema, Value, Warehouse, WarehouseError, label};

use crate::MetaSyncError;
use crate::document::{
    Drift, Example, FORMAT_VERSION, Insight, ItemStats, KeyStats, MetadataDocument, ParamCatalog,
    Registry, SchemaColumn, Source, shard_day,
};

/// What to sync and how much it may read.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    pub project: String,
    pub dataset: String,
    /// The catalog samples this many of the newest shards.
    pub sample_shards: usize,
    /// The catalog's queries are refused above this many bytes (by their dry run).
    pub max_bytes: u64,
    /// Top values kept per key.
    pub top_values: usize,
    /// Top values kept per descriptive column (product names, cities ...): enough for the
    /// values analysts name.
    pub column_values: usize,
    /// Verified examples (question, SQL) to re-check and cache.
    pub examples: Vec<(String, String)>,
}

impl SyncConfig {
    pub fn new(project: impl Into<String>, dataset: impl Into<String>) -> Self {
        SyncConfig {
            project: project.into(),
            dataset: dataset.into(),
            sample_shards: 7,
            max_bytes: 1 << 30,
            top_values: 5,
            column_values: 500,
            examples: vec![],
        }
    }
}

/// Checks an example's SQL against the current data before it is cached (guard, dry run);
/// the binary wires the validator. Ok: the bytes it would read.
#[async_trait]
pub trait ExampleCheck: Send + Sync {
    async fn check(&self, sql: &str) -> Result<u64, String>;
}

/// Progress of a sync, for logs and a progress bar.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// A step started; `total` units of work (tables, queries, examples) follow.
    Step { name: &'static str, total: usize },
    /// One unit of the current step is done.
    Advance,
    /// Something worth a warning that does not stop the sync.
    Warning(String),
}

/// The document and what the sync read to make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Synced {
    pub document: MetadataDocument,
    pub warnings: Vec<String>,
}

/// Reads the warehouse's metadata and samples the newest shards into a document.
pub async fn sync(
    warehouse: &dyn Warehouse,
    config: &SyncConfig,
    examples: Option<&dyn ExampleCheck>,
    events: &(dyn Fn(&SyncEvent) + Send + Sync),
) -> Result<Synced, MetaSyncError> {
    let mut warnings = Vec::new();
    let mut warn = |message: String| {
        events(&SyncEvent::Warning(message.clone()));
        warnings.push(message);
    };

    events(&SyncEvent::Step {
        name: "tables",
        total: 1,
    });
    let tables = warehouse
        .list_tables()
        .await
        .map_err(|source| MetaSyncError::Warehouse {
            step: "listing the dataset's tables",
            source,
        })?;
    events(&SyncEvent::Advance);
    let mut registry = registry(&tables);
    let (Some(first), Some(last)) = (registry.first_day, registry.last_day) else {
        return Err(MetaSyncError::NoData(format!(
            "{}.{} has no events_YYYYMMDD tables: check the project and dataset names",
            config.project, config.dataset
        )));
    };
    if !registry.missing_days.is_empty() {
        warn(format!(
            "{} day(s) between {first} and {last} have no table, e.g. {}",
            registry.missing_days.len(),
            registry.missing_days[0]
        ));
    }

    events(&SyncEvent::Step {
        name: "schemas",
        total: registry.shards.len(),
    });
    let mut schemas = Vec::with_capacity(registry.shards.len());
    for table in &registry.shards {
        let schema =
            warehouse
                .table_schema(table)
                .await
                .map_err(|source| MetaSyncError::Warehouse {
                    step: "reading a shard's schema",
                    source,
                })?;
        schemas.push(schema);
        events(&SyncEvent::Advance);
    }
    let shared = most_common(&schemas);
    for (table, schema) in registry.shards.iter().zip(&schemas) {
        if let Some(drift) = drift(table, &shared, schema) {
            registry.drift.push(drift);
        }
    }
    if !registry.drift.is_empty() {
        warn(format!(
            "{} shard(s) differ from the shared schema: {}",
            registry.drift.len(),
            registry
                .drift
                .iter()
                .map(|d| d.table.as_str())
                .take(5)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let sampled: Vec<String> = registry
        .shards
        .iter()
        .rev()
        .take(config.sample_shards.max(1))
        .rev()
        .cloned()
        .collect();
    let catalog = catalog(warehouse, config, &shared, &sampled, events).await?;

    let mut cached = Vec::new();
    match examples {
        Some(checker) => {
            events(&SyncEvent::Step {
                name: "examples",
                total: config.examples.len(),
            });
            for (question, sql) in &config.examples {
                match checker.check(sql).await {
                    Ok(bytes_processed) => cached.push(Example {
                        question: question.clone(),
                        sql: sql.clone(),
                        origin: "golden".into(),
                        bytes_processed,
                    }),
                    Err(why) => warn(format!(
                        "the example \"{question}\" no longer passes validation and is left out: {why}"
                    )),
                }
                events(&SyncEvent::Advance);
            }
        }
        None if !config.examples.is_empty() => warn(
            "no example checker: examples are cached only after validation, so none are".into(),
        ),
        None => {}
    }

    let insights = insights(&registry, &catalog);
    let vocabulary = crate::vocabulary::propose(&catalog);
    let document = MetadataDocument {
        format_version: FORMAT_VERSION,
        generated_at: Utc::now(),
        source: Source {
            warehouse: warehouse.name().to_owned(),
            project: config.project.clone(),
            dataset: config.dataset.clone(),
        },
        registry,
        schema: shared
            .fields
            .iter()
            .map(|f| SchemaColumn {
                name: f.name.clone(),
                ty: f.ty.to_string(),
            })
            .collect(),
        catalog,
        examples: cached,
        insights,
        vocabulary,
    };
    Ok(Synced { document, warnings })
}

/// Sorts the dataset's tables into shards, intraday tables and the rest, and dates them.
fn registry(tables: &[String]) -> Registry {
    let mut registry = Registry::default();
    for table in tables {
        if shard_day(table).is_some() {
            registry.shards.push(table.clone());
        } else if table
            .strip_prefix("events_intraday_")
            .is_some_and(|d| shard_day(&format!("events_{d}")).is_some())
        {
            registry.intraday.push(table.clone());
        } else {
            registry.other.push(table.clone());
        }
    }
    registry.shards.sort();
    registry.shards.dedup();
    registry.intraday.sort();
    registry.other.sort();
    let days: Vec<NaiveDate> = registry
        .shards
        .iter()
        .filter_map(|t| shard_day(t))
        .collect();
    registry.first_day = days.first().copied();
    registry.last_day = days.last().copied();
    registry.as_of = registry.last_day.map(|d| d + Days::days(1));
    if let (Some(first), Some(last)) = (registry.first_day, registry.last_day) {
        let present: std::collections::HashSet<NaiveDate> = days.iter().copied().collect();
        registry.missing_days = first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| !present.contains(d))
            .collect();
    }
    registry
}

/// The schema most shards have (the newest wins a tie: it is what new data looks like).
fn most_common(schemas: &[TableSchema]) -> TableSchema {
    let mut best: Option<(&TableSchema, usize)> = None;
    for candidate in schemas.iter().rev() {
        let count = schemas.iter().filter(|s| *s == candidate).count();
        if best.is_none_or(|(_, n)| count > n) {
            best = Some((candidate, count));
        }
    }
    best.map(|(s, _)| s.clone())
        .unwrap_or(TableSchema { fields: vec![] })
}

fn drift(table: &str, shared: &TableSchema, schema: &TableSchema) -> Option<Drift> {
    if schema == shared {
        return None;
    }
    let added = schema
        .fields
        .iter()
        .filter(|f| shared.field(&f.name).is_none())
        .map(|f| SchemaColumn {
            name: f.name.clone(),
            ty: f.ty.to_string(),
        })
        .collect();
    let missing = shared
        .fields
        .iter()
        .filter(|f| schema.field(&f.name).is_none())
        .map(|f| f.name.clone())
        .collect();
    let changed = shared
        .fields
        .iter()
        .filter_map(|f| {
            let other = schema.field(&f.name)?;
            (other.ty != f.ty).then(|| (f.name.clone(), f.ty.to_string(), other.ty.to_string()))
        })
        .collect();
    Some(Drift {
        table: table.to_owned(),
        added,
        missing,
        changed,
    })
}

/// Runs one catalog query after its dry run says it fits the byte cap.
async fn read(
    warehouse: &dyn Warehouse,
    config: &SyncConfig,
    step: &'static str,
    sql: String,
) -> Result<nlq_core::QueryResult, MetaSyncError> {
    let wrap = |source: WarehouseError| MetaSyncError::Warehouse { step, source };
    let estimate = warehouse.dry_run(&sql).await.map_err(wrap)?;
    if estimate.bytes_processed > config.max_bytes {
        return Err(MetaSyncError::NoData(format!(
            "{step} would read {} bytes, over the cap of {}: sample fewer shards (--sample-shards) or raise the cap (--max-bytes)",
            estimate.bytes_processed, config.max_bytes
        )));
    }
    let mut request = QueryRequest::new(sql).with_label(label::STAGE, "metasync");
    request.max_rows = 1_000_000;
    warehouse.query(&request).await.map_err(wrap)
}

/// Descriptive text columns whose values questions name; `items.` paths are read per item.
const VALUE_COLUMNS: &[&str] = &[
    "geo.continent",
    "geo.country",
    "geo.region",
    "geo.city",
    "device.category",
    "device.operating_system",
    "device.mobile_brand_name",
    "device.web_info.browser",
    "traffic_source.source",
    "traffic_source.medium",
    "traffic_source.name",
    "platform",
    "items.item_name",
    "items.item_category",
    "items.item_brand",
];

/// A value's text in whichever field holds it, whatever the fields' types.
const VALUE_TEXT: &str = "COALESCE(CAST(p.value.string_value AS STRING), \
    CAST(p.value.int_value AS STRING), CAST(p.value.double_value AS STRING), \
    CAST(p.value.float_value AS STRING))";

async fn catalog(
    warehouse: &dyn Warehouse,
    config: &SyncConfig,
    schema: &TableSchema,
    sampled: &[String],
    events: &(dyn Fn(&SyncEvent) + Send + Sync),
) -> Result<ParamCatalog, MetaSyncError> {
    let (Some(low), Some(high)) = (sampled.first(), sampled.last()) else {
        return Ok(ParamCatalog::default());
    };
    let table = format!("`{}.{}.events_*`", config.project, config.dataset);
    let range = format!(
        "_TABLE_SUFFIX BETWEEN '{}' AND '{}'",
        &low["events_".len()..],
        &high["events_".len()..]
    );
    let arrays: Vec<&str> = ["event_params", "user_properties"]
        .into_iter()
        .filter(|a| schema.field(a).is_some())
        .collect();
    let item_fields: Vec<String> = schema
        .field("items")
        .and_then(|f| match &f.ty {
            nlq_core::BqType::Array(inner) => inner.struct_fields().map(|fs| {
                fs.iter()
                    .filter(|f| {
                        !matches!(
                            f.ty,
                            nlq_core::BqType::Array(_) | nlq_core::BqType::Struct(_)
                        )
                    })
                    .map(|f| f.name.clone())
                    .collect()
            }),
            _ => None,
        })
        .unwrap_or_default();
    // Only the columns this property has, as text.
    let value_columns: Vec<&str> = VALUE_COLUMNS
        .iter()
        .copied()
        .filter(|path| {
            let parts: Vec<&str> = path.split('.').collect();
            let ty = match parts.as_slice() {
                ["items", rest @ ..] => schema.field("items").and_then(|f| match &f.ty {
                    nlq_core::BqType::Array(inner) => inner.at_path(rest),
                    _ => None,
                }),
                [first, rest @ ..] => schema.field(first).and_then(|f| f.ty.at_path(rest)),
                [] => None,
            };
            matches!(ty, Some(nlq_core::BqType::String))
        })
        .collect();
    events(&SyncEvent::Step {
        name: "catalog",
        total: 1
            + 2 * arrays.len()
            + usize::from(!item_fields.is_empty())
            + usize::from(!value_columns.is_empty()),
    });

    let mut catalog = ParamCatalog {
        sampled_tables: sampled.to_vec(),
        ..ParamCatalog::default()
    };
    let counts = read(
        warehouse,
        config,
        "counting events",
        format!("SELECT event_name, COUNT(*) AS n FROM {table} WHERE {range} GROUP BY event_name"),
    )
    .await?;
    catalog.bytes_processed += counts.bytes_processed;
    for row in &counts.rows {
        if let (Some(name), Some(n)) = (text(&row[0]), count(&row[1])) {
            catalog.events.entry(name).or_default().count = n;
        }
    }
    events(&SyncEvent::Advance);

    for array in arrays {
        // COUNT(x) counts the rows where x is set. The distinct count is exact: it bills the
        // same bytes as APPROX_COUNT_DISTINCT over the few sampled shards. (bqemulator 1.4.0
        // drops the RECORD columns of `events_*` when COUNTIF or APPROX_COUNT_DISTINCT
        // appears, so neither would run there.)
        let stats = read(
            warehouse,
            config,
            "sampling parameter keys",
            format!(
                "SELECT e.event_name AS event_name, CAST(p.key AS STRING) AS key, COUNT(*) AS n, \
                 COUNT(p.value.string_value) AS s, COUNT(p.value.int_value) AS i, \
                 COUNT(p.value.float_value) AS f, COUNT(p.value.double_value) AS d, \
                 COUNT(*) - COUNT({VALUE_TEXT}) AS nulls, \
                 COUNT(DISTINCT {VALUE_TEXT}) AS distinct_values \
                 FROM {table} AS e, UNNEST(e.{array}) AS p WHERE {range} \
                 GROUP BY event_name, key"
            ),
        )
        .await?;
        catalog.bytes_processed += stats.bytes_processed;
        events(&SyncEvent::Advance);
        let top = read(
            warehouse,
            config,
            "sampling top values",
            format!(
                "SELECT event_name, key, value, n FROM (\
                 SELECT event_name, key, value, n, ROW_NUMBER() OVER (\
                 PARTITION BY event_name, key ORDER BY n DESC, value) AS place FROM (\
                 SELECT e.event_name AS event_name, CAST(p.key AS STRING) AS key, \
                 {VALUE_TEXT} AS value, COUNT(*) AS n \
                 FROM {table} AS e, UNNEST(e.{array}) AS p WHERE {range} \
                 GROUP BY event_name, key, value) AS v WHERE value IS NOT NULL) AS ranked \
                 WHERE place <= {}",
                config.top_values.max(1)
            ),
        )
        .await?;
        catalog.bytes_processed += top.bytes_processed;
        events(&SyncEvent::Advance);
        let mut tops: BTreeMap<(String, String), Vec<(String, u64)>> = BTreeMap::new();
        for row in &top.rows {
            if let (Some(e), Some(k), Some(v), Some(n)) =
                (text(&row[0]), text(&row[1]), text(&row[2]), count(&row[3]))
            {
                tops.entry((e, k)).or_default().push((v, n));
            }
        }
        for row in &stats.rows {
            let (Some(event), Some(key), Some(rows)) =
                (text(&row[0]), text(&row[1]), count(&row[2]))
            else {
                continue;
            };
            let mut values = tops
                .remove(&(event.clone(), key.clone()))
                .unwrap_or_default();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let stats = KeyStats {
                key,
                rows,
                string_value: count(&row[3]).unwrap_or(0),
                int_value: count(&row[4]).unwrap_or(0),
                float_value: count(&row[5]).unwrap_or(0),
                double_value: count(&row[6]).unwrap_or(0),
                null_rate: count(&row[7]).unwrap_or(0) as f64 / rows.max(1) as f64,
                distinct: count(&row[8]).unwrap_or(0),
                top_values: values,
            };
            let entry = catalog.events.entry(event).or_default();
            if array == "event_params" {
                entry.event_params.push(stats);
            } else {
                entry.user_properties.push(stats);
            }
        }
    }
    for entry in catalog.events.values_mut() {
        entry.event_params.sort_by(|a, b| a.key.cmp(&b.key));
        entry.user_properties.sort_by(|a, b| a.key.cmp(&b.key));
    }

    if !item_fields.is_empty() {
        let filled: Vec<String> = item_fields
            .iter()
            .map(|f| format!("COUNT(i.{f}) AS {f}"))
            .collect();
        let items = read(
            warehouse,
            config,
            "sampling item fields",
            format!(
                "SELECT e.event_name AS event_name, COUNT(*) AS n, {} \
                 FROM {table} AS e, UNNEST(e.items) AS i WHERE {range} GROUP BY event_name",
                filled.join(", ")
            ),
        )
        .await?;
        catalog.bytes_processed += items.bytes_processed;
        for row in &items.rows {
            let (Some(event), Some(n)) = (text(&row[0]), count(&row[1])) else {
                continue;
            };
            let filled = item_fields
                .iter()
                .zip(&row[2..])
                .map(|(f, v)| (f.clone(), count(v).unwrap_or(0) as f64 / n.max(1) as f64))
                .collect();
            catalog.events.entry(event).or_default().items = Some(ItemStats { items: n, filled });
        }
        events(&SyncEvent::Advance);
    }

    if !value_columns.is_empty() {
        // One grouping per column in one query: the sampled shards are read once.
        let per_column: Vec<String> = value_columns
            .iter()
            .map(|path| match path.strip_prefix("items.") {
                Some(field) => format!(
                    "SELECT '{path}' AS col, CAST(i.{field} AS STRING) AS value, COUNT(*) AS n \
                     FROM {table} AS e, UNNEST(e.items) AS i WHERE {range} GROUP BY value"
                ),
                None => format!(
                    "SELECT '{path}' AS col, CAST(e.{path} AS STRING) AS value, COUNT(*) AS n \
                     FROM {table} AS e WHERE {range} GROUP BY value"
                ),
            })
            .collect();
        let top = read(
            warehouse,
            config,
            "sampling column values",
            format!(
                "SELECT col, value, n FROM (SELECT col, value, n, ROW_NUMBER() OVER (\
                 PARTITION BY col ORDER BY n DESC, value) AS place FROM ({}) AS v \
                 WHERE value IS NOT NULL AND value != '' AND value != '(not set)') AS ranked \
                 WHERE place <= {}",
                per_column.join(" UNION ALL "),
                config.column_values.max(1)
            ),
        )
        .await?;
        catalog.bytes_processed += top.bytes_processed;
        for row in &top.rows {
            if let (Some(col), Some(value), Some(n)) =
                (text(&row[0]), text(&row[1]), count(&row[2]))
            {
                catalog.columns.entry(col).or_default().push((value, n));
            }
        }
        for values in catalog.columns.values_mut() {
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        events(&SyncEvent::Advance);
    }
    Ok(catalog)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn count(value: &Value) -> Option<u64> {
    value.as_f64().filter(|n| *n >= 0.0).map(|n| n as u64)
}

/// Facts a prompt should carry, derived from the registry and the catalog.
fn insights(registry: &Registry, catalog: &ParamCatalog) -> Vec<Insight> {
    let mut insights = Vec::new();
    if let (Some(first), Some(last)) = (registry.first_day, registry.last_day) {
        insights.push(Insight {
            text: format!(
                "daily tables cover {first} .. {last} ({} days, {} missing)",
                registry.shards.len(),
                registry.missing_days.len()
            ),
            origin: "registry".into(),
        });
    }
    if !registry.intraday.is_empty() {
        insights.push(Insight {
            text: format!(
                "intraday tables hold today's partial data ({}); events_* also matches them",
                registry.intraday.join(", ")
            ),
            origin: "registry".into(),
        });
    }
    for (event, entry) in &catalog.events {
        // Keys most events of this name carry, with the field their values are in.
        let common: Vec<String> = entry
            .event_params
            .iter()
            .filter(|k| entry.count > 0 && k.rows * 2 >= entry.count)
            .filter_map(|k| k.main_type().map(|t| format!("{} ({t})", k.key)))
            .collect();
        if !common.is_empty() {
            insights.push(Insight {
                text: format!("`{event}` events carry {}", common.join(", ")),
                origin: "catalog".into(),
            });
        }
    }
    insights
}
