//! Facts about the GA4 BigQuery export that every crate shares.

use crate::schema::{SchemaError, TableSchema};

/// The public dataset nlq's SQL is written for; the embedded sample serves the same name.
pub const PUBLIC_PROJECT: &str = "bigquery-public-data";
pub const PUBLIC_DATASET: &str = "ga4_obfuscated_sample_ecommerce";

/// Prefix of the daily shards (`events_YYYYMMDD`) and of the wildcard table (`events_*`).
pub const EVENTS_PREFIX: &str = "events_";

/// The export schema of one daily shard, as BigQuery's DDL column list.
pub const EVENTS_SCHEMA_DDL: &str = include_str!("../../../fixtures/ga4/events_schema.ddl");

/// The events schema parsed from [`EVENTS_SCHEMA_DDL`].
pub fn events_schema() -> Result<TableSchema, SchemaError> {
    TableSchema::parse_ddl_columns(EVENTS_SCHEMA_DDL)
}

/// The schema of a property's own export: as [`EVENTS_SCHEMA_DDL`], with `user_properties`
/// keyed by name and typed as Google documents it (the public sample obfuscates them), and
/// `stream_id`, the storage flags and the device ids as STRING (INT64 in the public sample).
pub const EXPORT_SCHEMA_DDL: &str = include_str!("../../../fixtures/ga4/events_schema_export.ddl");

/// The schema parsed from [`EXPORT_SCHEMA_DDL`].
pub fn export_events_schema() -> Result<TableSchema, SchemaError> {
    TableSchema::parse_ddl_columns(EXPORT_SCHEMA_DDL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::BqType;

    #[test]
    fn a_propertys_export_names_its_user_properties() {
        let public = events_schema().unwrap();
        let export = export_events_schema().unwrap();
        assert_eq!(public.fields.len(), export.fields.len());
        let differ = ["user_properties", "privacy_info", "device", "stream_id"];
        for (a, b) in public.fields.iter().zip(&export.fields) {
            assert_eq!(a.name, b.name);
            assert_eq!(
                a.ty == b.ty,
                !differ.contains(&a.name.as_str()),
                "{}",
                a.name
            );
        }
        assert_eq!(export.field("stream_id").unwrap().ty, BqType::String);
        let device = export.field("device").unwrap().ty.to_string();
        for leaf in [
            "mobile_os_hardware_model STRING",
            "vendor_id STRING",
            "advertising_id STRING",
        ] {
            assert!(device.contains(leaf), "{device}");
        }
        assert!(
            export
                .field("user_properties")
                .unwrap()
                .ty
                .to_string()
                .starts_with("ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING")
        );
    }

    #[test]
    fn events_schema_has_the_23_export_columns() {
        let s = events_schema().unwrap();
        assert_eq!(s.fields.len(), 23);
        assert_eq!(s.fields[0].name, "event_date");
        assert_eq!(s.fields[22].name, "items");
        let up = s.field("user_properties").unwrap();
        // The odd one: INT64 keys and values in the public sample.
        assert_eq!(
            up.ty.to_string(),
            "ARRAY<STRUCT<key INT64, value STRUCT<string_value INT64, int_value INT64, float_value INT64, double_value INT64, set_timestamp_micros INT64>>>"
        );
        let items = s.field("items").unwrap();
        match &items.ty {
            BqType::Array(inner) => match inner.as_ref() {
                BqType::Struct(fields) => assert_eq!(fields.len(), 26),
                other => panic!("items element is {other}"),
            },
            other => panic!("items is {other}"),
        }
        assert_eq!(s.leaf_paths().len(), 94);
    }
}
