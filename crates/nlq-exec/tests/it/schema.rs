//! `table_schema`: what a stored shard holds, in BigQuery's types, from metadata alone.

use nlq_core::Warehouse;
use nlq_exec::embedded::{self, EmbeddedConfig, EmbeddedWarehouse, Source};

use crate::support;

#[tokio::test]
async fn a_shard_as_built_has_the_export_schema() {
    let schema = support::tiny()
        .table_schema("events_20201231")
        .await
        .unwrap();
    assert_eq!(schema, nlq_core::ga4::events_schema().unwrap());
    let err = support::tiny()
        .table_schema("events_19990101")
        .await
        .unwrap_err();
    assert_eq!(err.class, nlq_core::ErrorClass::User);
    assert!(
        err.message.contains("no table `events_19990101`"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_shard_changed_after_the_build_shows_its_own_columns() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbeddedConfig::new(dir.path());
    let schema = nlq_core::ga4::events_schema().unwrap();
    embedded::build(
        &config.database_path(),
        Source::Script {
            tables: &["events_20201230", "events_20201231", "events_20210101"],
            sql: include_str!("../fixtures/tiny.sql"),
        },
        &schema,
        &|_, _| {},
    )
    .unwrap();
    // What an export does when GA4 adds a column and changes a type on one day.
    {
        let conn = duckdb::Connection::open(config.database_path()).unwrap();
        conn.execute_batch(
            "ALTER TABLE events_20210101 ADD COLUMN is_active_user BOOLEAN; \
             ALTER TABLE events_20210101 ALTER stream_id TYPE VARCHAR;",
        )
        .unwrap();
    }
    let warehouse = EmbeddedWarehouse::open(&config).unwrap();
    let drifted = warehouse.table_schema("events_20210101").await.unwrap();
    assert_eq!(drifted.fields.len(), schema.fields.len() + 1);
    assert_eq!(
        drifted.field("is_active_user").unwrap().ty.to_string(),
        "BOOL"
    );
    assert_eq!(drifted.field("stream_id").unwrap().ty.to_string(), "STRING");
    assert_eq!(schema.field("stream_id").unwrap().ty.to_string(), "INT64");
    assert_eq!(
        warehouse.table_schema("events_20201231").await.unwrap(),
        schema
    );
}
