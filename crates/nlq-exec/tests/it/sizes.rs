//! Billed bytes: the generator measures every shard's column sizes while writing (BigQuery's
//! rule: STRING 2 + UTF-8 bytes, INT64/FLOAT64 8, NULL 0, summed over array elements). An
//! independent measurement in SQL over the imported tables must agree exactly.

use std::collections::BTreeMap;

use nlq_core::Value;
use nlq_exec::embedded::column_size_sql;

use crate::support::sample;

#[test]
fn generator_sizes_match_an_sql_measurement() {
    let warehouse = sample();
    let schema = nlq_core::ga4::events_schema().unwrap();
    let leaves = schema.leaf_paths();
    for table in ["events_20201101", "events_20201215", "events_20210131"] {
        let stored: BTreeMap<String, i64> = warehouse
            .query_native(
                &format!(
                    "SELECT column_path, bytes FROM _nlq_column_bytes WHERE table_name = '{table}'"
                ),
                1000,
            )
            .unwrap()
            .rows
            .into_iter()
            .map(|row| match (&row[0], &row[1]) {
                (Value::String(path), Value::Int64(bytes)) => (path.clone(), *bytes),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(stored.len(), leaves.len(), "{table}");
        let sums: Vec<String> = leaves
            .iter()
            .map(|leaf| {
                format!(
                    "CAST(coalesce(sum({}), 0) AS BIGINT)",
                    column_size_sql(&schema, leaf).unwrap()
                )
            })
            .collect();
        let measured = warehouse
            .query_native(&format!("SELECT {} FROM {table}", sums.join(", ")), 1)
            .unwrap();
        for (leaf, value) in leaves.iter().zip(&measured.rows[0]) {
            assert_eq!(
                Some(value),
                stored.get(leaf).map(|b| Value::Int64(*b)).as_ref(),
                "{table}.{leaf}"
            );
        }
        assert!(
            stored["user_pseudo_id"] > 0 && stored["event_params.key"] > 0,
            "{table}: {stored:?}"
        );
    }
}
