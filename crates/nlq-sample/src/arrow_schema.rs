//! The Arrow form of the GA4 events schema, derived from the BigQuery DDL in nlq-core so the
//! shards, the engine that reads them and BigQuery all agree on one definition.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use nlq_core::{BqType, TableSchema};

use crate::error::SampleError;

/// Name of a list's element field: the Parquet spec's 3-level list layout uses `element`.
pub(crate) const LIST_ELEMENT: &str = "element";

/// The Arrow schema of every `events_YYYYMMDD` shard: the 23 export columns, all nullable,
/// REPEATED fields as lists of structs.
pub fn events_arrow_schema() -> Result<SchemaRef, SampleError> {
    let table = nlq_core::ga4::events_schema()?;
    Ok(Arc::new(arrow_schema(&table)?))
}

pub(crate) fn arrow_schema(table: &TableSchema) -> Result<Schema, SampleError> {
    let fields: Result<Vec<Field>, SampleError> = table
        .fields
        .iter()
        .map(|f| Ok(Field::new(&f.name, arrow_type(&f.ty)?, true)))
        .collect();
    Ok(Schema::new(fields?))
}

fn arrow_type(ty: &BqType) -> Result<DataType, SampleError> {
    Ok(match ty {
        BqType::String => DataType::Utf8,
        BqType::Int64 => DataType::Int64,
        BqType::Float64 => DataType::Float64,
        BqType::Bool => DataType::Boolean,
        BqType::Struct(fields) => {
            let fields: Result<Vec<Field>, SampleError> = fields
                .iter()
                .map(|f| Ok(Field::new(&f.name, arrow_type(&f.ty)?, true)))
                .collect();
            DataType::Struct(Fields::from(fields?))
        }
        BqType::Array(inner) => {
            DataType::List(Arc::new(Field::new(LIST_ELEMENT, arrow_type(inner)?, true)))
        }
        other => {
            return Err(SampleError::Shape(format!(
                "the generator has no Arrow type for BigQuery {other}"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_23_export_columns() {
        let schema = events_arrow_schema().unwrap();
        assert_eq!(schema.fields().len(), 23);
        let params = schema.field_with_name("event_params").unwrap();
        let DataType::List(element) = params.data_type() else {
            panic!("{params:?}")
        };
        assert_eq!(element.name(), LIST_ELEMENT);
        let DataType::Struct(fields) = element.data_type() else {
            panic!("{element:?}")
        };
        assert_eq!(fields[0].name(), "key");
        let up = schema.field_with_name("user_properties").unwrap();
        let DataType::List(element) = up.data_type() else {
            panic!()
        };
        let DataType::Struct(fields) = element.data_type() else {
            panic!()
        };
        assert_eq!(
            fields[0].data_type(),
            &DataType::Int64,
            "user_properties.key is INT64 in the sample"
        );
        assert!(schema.fields().iter().all(|f| f.is_nullable()));
    }

    #[test]
    fn refuses_types_it_cannot_write() {
        let table = TableSchema::parse_ddl_columns("(a NUMERIC)").unwrap();
        assert!(matches!(arrow_schema(&table), Err(SampleError::Shape(_))));
    }
}
