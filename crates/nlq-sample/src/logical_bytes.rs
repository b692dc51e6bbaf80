//! BigQuery's logical size of each leaf column, the number on-demand queries are billed by.
//!
//! The rule: STRING = 2 + UTF-8 bytes, INT64 / FLOAT64 = 8, BOOL = 1, NULL = 0, and a STRUCT or
//! ARRAY is the sum of what it holds. So `event_params.key` adds up every key of every row.
//! Computed from the finished Arrow batches, so it measures exactly what is written.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;

use crate::error::SampleError;

/// Per leaf path (`TableSchema::leaf_paths` spelling), bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnBytes {
    totals: BTreeMap<String, u64>,
}

impl ColumnBytes {
    pub(crate) fn new(leaf_paths: &[String]) -> ColumnBytes {
        ColumnBytes {
            totals: leaf_paths.iter().map(|p| (p.clone(), 0)).collect(),
        }
    }

    pub(crate) fn add(&mut self, batch: &RecordBatch) -> Result<(), SampleError> {
        let schema = batch.schema();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let present = vec![true; column.len()];
            self.walk(field.name(), column.as_ref(), &present)?;
        }
        Ok(())
    }

    pub(crate) fn into_map(self) -> BTreeMap<String, u64> {
        self.totals
    }

    /// Adds the bytes of `array`'s values at the rows marked present (those whose enclosing
    /// structs and lists are not NULL).
    fn walk(&mut self, path: &str, array: &dyn Array, present: &[bool]) -> Result<(), SampleError> {
        let shape = |what: &str| SampleError::Shape(format!("{path} is not {what}"));
        let bytes = match array.data_type() {
            DataType::Struct(_) => {
                let s = array.as_struct_opt().ok_or_else(|| shape("a struct"))?;
                let mask: Vec<bool> = present
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| p && s.is_valid(i))
                    .collect();
                for (field, child) in s.fields().iter().zip(s.columns()) {
                    self.walk(&format!("{path}.{}", field.name()), child.as_ref(), &mask)?;
                }
                return Ok(());
            }
            DataType::List(_) => {
                let list = array.as_list_opt::<i32>().ok_or_else(|| shape("a list"))?;
                let values = list.values();
                let mut mask = vec![false; values.len()];
                let offsets = list.value_offsets();
                for (i, &p) in present.iter().enumerate() {
                    if p && list.is_valid(i) {
                        for slot in &mut mask[offsets[i] as usize..offsets[i + 1] as usize] {
                            *slot = true;
                        }
                    }
                }
                return self.walk(path, values.as_ref(), &mask);
            }
            DataType::Utf8 => {
                let strings = array
                    .as_string_opt::<i32>()
                    .ok_or_else(|| shape("a string"))?;
                (0..strings.len())
                    .filter(|&i| present[i] && strings.is_valid(i))
                    .map(|i| 2 + strings.value(i).len() as u64)
                    .sum()
            }
            DataType::Int64 | DataType::Float64 => 8 * count_present(array, present),
            DataType::Boolean => count_present(array, present),
            other => {
                return Err(SampleError::Shape(format!(
                    "{path} has type {other}, which BigQuery does not export"
                )));
            }
        };
        let total = self.totals.get_mut(path).ok_or_else(|| {
            SampleError::Shape(format!("{path} is not a leaf of the events schema"))
        })?;
        *total += bytes;
        Ok(())
    }
}

fn count_present(array: &dyn Array, present: &[bool]) -> u64 {
    (0..array.len())
        .filter(|&i| present[i] && array.is_valid(i))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, ListArray, StringArray, StructArray};
    use arrow::buffer::{NullBuffer, OffsetBuffer};
    use arrow::datatypes::{Field, Fields, Schema};

    use super::*;

    #[test]
    fn counts_by_the_billing_rule_through_nulls_structs_and_lists() {
        // s STRUCT<a STRING, b INT64> with row 1 NULL; l ARRAY<STRUCT<k STRING>> with row 2 NULL.
        let s_fields = Fields::from(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
        ]);
        let s = StructArray::try_new(
            s_fields.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("héllo"), Some("hidden"), None])) as ArrayRef,
                Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(3)])),
            ],
            Some(NullBuffer::from(vec![true, false, true])),
        )
        .unwrap();
        let k_fields = Fields::from(vec![Field::new("k", DataType::Utf8, true)]);
        let element = Arc::new(Field::new(
            "element",
            DataType::Struct(k_fields.clone()),
            true,
        ));
        let values = StructArray::try_new(
            k_fields,
            vec![Arc::new(StringArray::from(vec!["ab", "c", "dddd", "zz"])) as ArrayRef],
            None,
        )
        .unwrap();
        // Row 0: [ab, c]; row 1: []; row 2 (NULL): [dddd, zz] must not count.
        let l = ListArray::try_new(
            element.clone(),
            OffsetBuffer::new(vec![0, 2, 2, 4].into()),
            Arc::new(values),
            Some(NullBuffer::from(vec![true, true, false])),
        )
        .unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Struct(s_fields), true),
            Field::new("l", DataType::List(element), true),
        ]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(s), Arc::new(l)]).unwrap();
        let mut bytes = ColumnBytes::new(&["s.a".into(), "s.b".into(), "l.k".into()]);
        bytes.add(&batch).unwrap();
        bytes.add(&batch).unwrap();
        let map = bytes.into_map();
        assert_eq!(map["s.a"], 2 * (2 + 6)); // "héllo" is 6 UTF-8 bytes; "hidden" sits in a NULL struct
        assert_eq!(map["s.b"], 2 * 2 * 8);
        assert_eq!(map["l.k"], 2 * ((2 + 2) + (2 + 1)));
    }

    #[test]
    fn unknown_leaves_are_a_shape_error() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
        let mut bytes = ColumnBytes::new(&["y".into()]);
        assert!(matches!(bytes.add(&batch), Err(SampleError::Shape(_))));
    }
}
