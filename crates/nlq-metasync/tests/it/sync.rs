//! The sync job: on the generated sample through the embedded engine (hand-checked values and
//! cross-checks by independent queries), and over a scripted warehouse for what the sample
//! does not have (drift, intraday and other tables, missing days, a byte cap).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use nlq_core::{QueryRequest, TableSchema, Warehouse};
use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_metasync::sync::{ExampleCheck, SyncConfig, SyncEvent, sync};
use nlq_testkit::warehouse::Scripted;

fn sample() -> Option<(EmbeddedConfig, EmbeddedWarehouse)> {
    let dir = std::env::var("NLQ_TEST_DATA_DIR").ok()?;
    let config = EmbeddedConfig::new(&dir);
    let warehouse = EmbeddedWarehouse::open(&config).unwrap();
    Some((config, warehouse))
}

struct Accepts;

#[async_trait]
impl ExampleCheck for Accepts {
    async fn check(&self, sql: &str) -> Result<u64, String> {
        if sql.contains("nope") {
            Err("unknown column nope".into())
        } else {
            Ok(1234)
        }
    }
}

async fn one(warehouse: &EmbeddedWarehouse, sql: &str) -> f64 {
    let result = warehouse.query(&QueryRequest::new(sql)).await.unwrap();
    result.rows[0][0].as_f64().unwrap()
}

#[tokio::test]
async fn the_sample_registry_and_catalog_match_hand_checked_values() {
    let Some((config, warehouse)) = sample() else {
        eprintln!("skipped: NLQ_TEST_DATA_DIR is not set (scripts/test.sh sets it)");
        return;
    };
    let mut sync_config = SyncConfig::new(&config.project, &config.dataset);
    sync_config.sample_shards = 7;
    sync_config.examples = vec![
        ("ok".into(), "SELECT 1".into()),
        ("broken".into(), "SELECT nope".into()),
    ];
    let steps = Mutex::new(Vec::new());
    let synced = sync(&warehouse, &sync_config, Some(&Accepts), &|e| {
        if let SyncEvent::Step { name, .. } = e {
            steps.lock().unwrap().push(*name);
        }
    })
    .await
    .unwrap();
    let doc = &synced.document;
    assert_eq!(
        *steps.lock().unwrap(),
        ["tables", "schemas", "catalog", "examples"]
    );

    // The sample: 92 daily shards, 2020-11-01 .. 2021-01-31, nothing missing, one schema.
    let r = &doc.registry;
    assert_eq!(r.shards.len(), 92);
    assert_eq!(r.first_day.unwrap().to_string(), "2020-11-01");
    assert_eq!(r.last_day.unwrap().to_string(), "2021-01-31");
    assert_eq!(r.as_of.unwrap().to_string(), "2021-02-01");
    assert!(r.missing_days.is_empty() && r.drift.is_empty() && r.intraday.is_empty());
    assert_eq!(doc.schema.len(), 23);
    assert_eq!(doc.schema[0].name, "event_date");

    // The catalog read the 7 newest shards, and its counts agree with direct queries.
    let c = &doc.catalog;
    assert_eq!(c.sampled_tables.first().unwrap(), "events_20210125");
    assert_eq!(c.sampled_tables.len(), 7);
    assert!(c.bytes_processed > 0);
    let table = format!("`{}.{}.events_*`", config.project, config.dataset);
    let range = "_TABLE_SUFFIX BETWEEN '20210125' AND '20210131'";
    let page_views = one(
        &warehouse,
        &format!("SELECT COUNTIF(event_name = 'page_view') FROM {table} WHERE {range}"),
    )
    .await;
    let pv = &c.events["page_view"];
    assert_eq!(pv.count as f64, page_views);
    // GA4: every page_view carries ga_session_id as an integer and page_location as text.
    let session = pv
        .event_params
        .iter()
        .find(|k| k.key == "ga_session_id")
        .unwrap();
    assert_eq!(session.main_type(), Some("int_value"));
    assert_eq!(session.rows, pv.count);
    assert_eq!(session.null_rate, 0.0);
    let location = pv
        .event_params
        .iter()
        .find(|k| k.key == "page_location")
        .unwrap();
    assert_eq!(location.main_type(), Some("string_value"));
    assert!(location.distinct > 1 && location.top_values.len() <= 5);
    let (top, n) = &location.top_values[0];
    let direct = one(
        &warehouse,
        &format!(
            "SELECT COUNT(*) FROM {table} AS e, UNNEST(e.event_params) AS p WHERE {range} \
             AND e.event_name = 'page_view' AND p.key = 'page_location' \
             AND p.value.string_value = '{}'",
            top.replace('\'', "\\'")
        ),
    )
    .await;
    assert_eq!(*n as f64, direct);
    // Purchases carry items with ids and names.
    let items = c.events["purchase"].items.as_ref().unwrap();
    assert!(items.items > 0);
    assert_eq!(items.filled["item_name"], 1.0);

    // Descriptive columns: the values questions name, most frequent first, counted right.
    for column in [
        "geo.country",
        "items.item_name",
        "items.item_category",
        "traffic_source.source",
    ] {
        let values = &c.columns[column];
        assert!(!values.is_empty(), "{column}");
        assert!(
            values.windows(2).all(|w| w[0].1 >= w[1].1),
            "{column}: {values:?}"
        );
    }
    let (country, n) = &c.columns["geo.country"][0];
    let direct = one(
        &warehouse,
        &format!(
            "SELECT COUNT(*) FROM {table} WHERE {range} AND geo.country = '{}'",
            country.replace('\'', "\\'")
        ),
    )
    .await;
    assert_eq!(*n as f64, direct, "{country}");
    let (item, n) = &c.columns["items.item_name"][0];
    let direct = one(
        &warehouse,
        &format!(
            "SELECT COUNT(*) FROM {table} AS e, UNNEST(e.items) AS i WHERE {range} AND i.item_name = '{}'",
            item.replace('\'', "\\'")
        ),
    )
    .await;
    assert_eq!(*n as f64, direct, "{item}");

    // Examples: only what validates is cached, with its bytes; the other is a warning.
    assert_eq!(doc.examples.len(), 1);
    assert_eq!(
        (
            doc.examples[0].question.as_str(),
            doc.examples[0].bytes_processed
        ),
        ("ok", 1234)
    );
    assert!(
        synced
            .warnings
            .iter()
            .any(|w| w.contains("\"broken\"") && w.contains("nope"))
    );
    assert!(
        doc.insights
            .iter()
            .any(|i| i.text.starts_with("`page_view` events carry"))
    );

    // The document round-trips through its own reader.
    let read = nlq_metasync::MetadataDocument::from_json(&doc.to_json()).unwrap();
    assert_eq!(&read, doc);
}

/// The GA4 schema with one table drifted: `app_info` gone, `is_active_user` new, the first
/// column a DATE.
fn drifted_schema(table: &str, drifted: &str) -> TableSchema {
    let mut schema = nlq_core::ga4::events_schema().unwrap();
    if table == drifted {
        schema.fields.retain(|f| f.name != "app_info");
        schema.fields.push(nlq_core::Field {
            name: "is_active_user".into(),
            ty: nlq_core::BqType::Bool,
        });
        schema.fields[0].ty = nlq_core::BqType::Date;
    }
    schema
}

/// Tables and schemas from a script (nlq-testkit); every query answers with no rows.
fn scripted_tables(tables: Vec<String>, drifted: &str, bytes: u64) -> Scripted {
    let drifted = drifted.to_owned();
    Scripted {
        listed: tables,
        tables: vec![],
        bytes,
        columns: vec![],
        rows: vec![],
        schema: Some(Box::new(move |table| drifted_schema(table, &drifted))),
        ..Scripted::default()
    }
}

/// The SQL of every query it ran; each must be labelled as MetaSync's, for whoever reads the
/// bill.
fn metasync_queries(warehouse: &Scripted) -> Vec<String> {
    warehouse
        .requests()
        .into_iter()
        .map(|request| {
            assert_eq!(
                request.labels,
                [("stage".to_owned(), "metasync".to_owned())],
                "{}",
                request.sql
            );
            request.sql
        })
        .collect()
}

fn scripted(bytes: u64) -> Arc<Scripted> {
    Arc::new(scripted_tables(
        [
            "events_20210103",
            "events_20210101",
            "events_20210104",
            "events_intraday_20210105",
            "pseudonymous_users_20210104",
        ]
        .map(String::from)
        .to_vec(),
        "events_20210104",
        bytes,
    ))
}

#[tokio::test]
async fn drift_intraday_other_tables_and_missing_days_are_reported() {
    let warehouse = scripted(1000);
    let warnings = Mutex::new(Vec::new());
    let synced = sync(warehouse.as_ref(), &SyncConfig::new("p", "d"), None, &|e| {
        if let SyncEvent::Warning(w) = e {
            warnings.lock().unwrap().push(w.clone());
        }
    })
    .await
    .unwrap();
    let r = &synced.document.registry;
    assert_eq!(
        r.shards,
        ["events_20210101", "events_20210103", "events_20210104"]
    );
    assert_eq!(r.intraday, ["events_intraday_20210105"]);
    assert_eq!(r.other, ["pseudonymous_users_20210104"]);
    assert_eq!(r.missing_days.len(), 1);
    assert_eq!(r.as_of.unwrap().to_string(), "2021-01-05");
    // Two shards share the export schema; the third differs in three ways, each named.
    assert_eq!(r.drift.len(), 1);
    let drift = &r.drift[0];
    assert_eq!(drift.table, "events_20210104");
    assert_eq!(drift.added[0].name, "is_active_user");
    assert_eq!(drift.missing, ["app_info"]);
    assert_eq!(
        drift.changed,
        [(
            "event_date".to_owned(),
            "STRING".to_owned(),
            "DATE".to_owned()
        )]
    );
    let warnings = warnings.lock().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("1 shard(s) differ") && w.contains("events_20210104"))
    );
    assert!(warnings.iter().any(|w| w.contains("have no table")));
    // The catalog read only narrow columns of the sampled days: never SELECT *.
    let queries = metasync_queries(&warehouse);
    assert!(!queries.is_empty());
    for sql in queries.iter() {
        assert!(
            sql.contains("_TABLE_SUFFIX BETWEEN '20210101' AND '20210104'"),
            "{sql}"
        );
        let statement =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::BigQueryDialect {}, sql)
                .unwrap();
        assert!(!statement[0].to_string().contains("SELECT *"), "{sql}");
    }
    assert_eq!(
        synced.document.catalog.bytes_processed,
        1000 * queries.len() as u64
    );
}

#[tokio::test]
async fn a_catalog_over_the_byte_cap_is_refused_before_it_runs() {
    let warehouse = scripted(10 << 30);
    let err = sync(
        warehouse.as_ref(),
        &SyncConfig::new("p", "d"),
        None,
        &|_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("over the cap"), "{err}");
    assert!(metasync_queries(&warehouse).is_empty());

    let empty = scripted_tables(vec!["other".into()], "", 0);
    let err = sync(&empty, &SyncConfig::new("p", "d"), None, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "p.d has no events_YYYYMMDD tables: check the project and dataset names"
    );
}
