//! One day's shard: the events of every session that touches the day, cut at the UTC day
//! boundary, streamed into Parquet batch by batch.

use std::path::Path;

use arrow::datatypes::SchemaRef;

use crate::calendar::{date_suffix, day_start_micros, table_name};
use crate::catalog::Catalog;
use crate::error::SampleError;
use crate::events::session_events;
use crate::logical_bytes::ColumnBytes;
use crate::manifest::ShardManifest;
use crate::population::Population;
use crate::writer::{ParquetSink, RowBuilder};

/// Directory of the shards inside the output directory.
pub const PARQUET_DIR: &str = "parquet";
/// Rows per Arrow batch: bounds memory whatever the scale.
const BATCH_ROWS: usize = 32_768;

/// What every day needs, shared by the worker threads.
pub(crate) struct ShardContext<'a> {
    pub catalog: &'a Catalog,
    pub population: &'a Population,
    pub schema: SchemaRef,
    pub leaf_paths: &'a [String],
    pub out: &'a Path,
}

pub(crate) fn write_shard(ctx: &ShardContext<'_>, day: u32) -> Result<ShardManifest, SampleError> {
    let table = table_name(day);
    let file = format!("{PARQUET_DIR}/{table}.parquet");
    let mut sink = ParquetSink::create(&ctx.out.join(&file), ctx.schema.clone())?;
    match fill(ctx, day, &mut sink) {
        Ok((rows, column_bytes)) => {
            let file_bytes = sink.commit()?;
            Ok(ShardManifest {
                table,
                file,
                rows,
                file_bytes,
                column_bytes: column_bytes.into_map(),
            })
        }
        Err(e) => {
            sink.abandon();
            Err(e)
        }
    }
}

fn fill(
    ctx: &ShardContext<'_>,
    day: u32,
    sink: &mut ParquetSink,
) -> Result<(u64, ColumnBytes), SampleError> {
    let (start, end) = (day_start_micros(day), day_start_micros(day + 1));
    let event_date = date_suffix(day);
    let mut rows = RowBuilder::new(ctx.schema.clone());
    let mut bytes = ColumnBytes::new(ctx.leaf_paths);
    let mut total = 0u64;
    let mut flush = |rows: &mut RowBuilder, total: &mut u64| -> Result<(), SampleError> {
        *total += rows.len() as u64;
        let batch = rows.finish()?;
        bytes.add(&batch)?;
        sink.write(&batch)
    };
    for plan in ctx.population.sessions_touching(start, end) {
        let user = &ctx.population.users[plan.user];
        for event in session_events(ctx.catalog, user, plan) {
            if (start..end).contains(&event.timestamp) {
                rows.push(&event_date, user, &event);
            }
        }
        if rows.len() >= BATCH_ROWS {
            flush(&mut rows, &mut total)?;
        }
    }
    if rows.len() > 0 {
        flush(&mut rows, &mut total)?;
    }
    Ok((total, bytes))
}
