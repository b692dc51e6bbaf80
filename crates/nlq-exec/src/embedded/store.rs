//! The embedded dataset on disk: one DuckDB database file holding one native table per daily
//! shard (fastest for DuckDB, and pruning is by table), the `events_all` view for hand-written
//! DuckDB SQL, and each shard's column sizes by BigQuery's billing rule.
//!
//! ```text
//!  <data dir>/parquet/events_YYYYMMDD.parquet   generator output (also what BigQuery loads)
//!  <data dir>/ga4.duckdb                        built here, atomically (temp file + rename)
//! ```

use std::path::{Path, PathBuf};

use duckdb::{Config, Connection};

use nlq_core::{BqType, TableSchema};

use crate::error::ExecError;

pub const DATABASE_FILE: &str = "ga4.duckdb";
/// Per shard and leaf column: the bytes BigQuery would bill to read it.
pub(crate) const COLUMN_BYTES_TABLE: &str = "_nlq_column_bytes";

/// Where the shard tables come from.
pub enum Source<'a> {
    /// A directory written by `nlq-sample`: its manifest lists the Parquet shards and their
    /// column sizes, which the generator measured while writing.
    Sample(&'a Path),
    /// Empty shard tables with these names, then a trusted SQL script that fills them
    /// (hand-built test fixtures).
    Script { tables: &'a [&'a str], sql: &'a str },
}

/// Builds the database at `path` from `source`: shard tables with exactly the GA4 schema, the
/// column-size table, the `events_all` view. Writes a temp file and renames it into place, so
/// a crash leaves either the old database or none.
pub fn build(
    path: &Path,
    source: Source<'_>,
    schema: &TableSchema,
    progress: &dyn Fn(usize, usize),
) -> Result<(), ExecError> {
    let tmp = path.with_extension("duckdb.tmp");
    let wal = PathBuf::from(format!("{}.wal", tmp.display()));
    for stale in [&tmp, &wal] {
        if stale.exists() {
            std::fs::remove_file(stale).map_err(|source| ExecError::Io {
                action: "remove",
                path: stale.clone(),
                source,
            })?;
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ExecError::Io {
            action: "create",
            path: dir.to_owned(),
            source,
        })?;
    }
    let result = build_at(&tmp, source, schema, progress).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|source| ExecError::Io {
            action: "rename into place",
            path: path.to_owned(),
            source,
        })
    });
    if result.is_err() {
        // Nothing half-built stays behind to be mistaken for a dataset.
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&wal);
    }
    result
}

fn build_at(
    tmp: &Path,
    source: Source<'_>,
    schema: &TableSchema,
    progress: &dyn Fn(usize, usize),
) -> Result<(), ExecError> {
    let config = Config::default()
        .enable_autoload_extension(false)
        .and_then(|c| c.with("autoinstall_known_extensions", "false"))
        .map_err(ExecError::engine)?;
    let conn = Connection::open_with_flags(tmp, config).map_err(ExecError::engine)?;
    create_column_bytes_table(&conn)?;
    let tables = match source {
        Source::Sample(dir) => import_sample(&conn, dir, schema, progress)?,
        Source::Script { tables, sql } => {
            let columns = create_columns(schema);
            for table in tables {
                if !is_shard_name(table) {
                    return Err(ExecError::Config(format!(
                        "`{table}` is not an events_YYYYMMDD name"
                    )));
                }
                conn.execute_batch(&format!("CREATE TABLE {table} ({columns})"))
                    .map_err(ExecError::engine)?;
            }
            conn.execute_batch(sql).map_err(ExecError::engine)?;
            let tables = shard_tables(&conn)?;
            measure_column_bytes(&conn, &tables, schema)?;
            tables
        }
    };
    if tables.is_empty() {
        return Err(ExecError::Config(
            "the source holds no events_YYYYMMDD tables".to_owned(),
        ));
    }
    check_schema(&conn, &tables, schema)?;
    create_union_view(&conn, &tables)?;
    conn.execute_batch("CHECKPOINT;")
        .map_err(ExecError::engine)?;
    drop(conn);
    Ok(())
}

/// `events_all`: every shard with its `_table_suffix`, for hand-written DuckDB SQL.
fn create_union_view(conn: &Connection, tables: &[String]) -> Result<(), ExecError> {
    let union = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT *, '{}' AS _table_suffix FROM {t}",
                &t["events_".len()..]
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.execute_batch(&format!("CREATE VIEW events_all AS {union};"))
        .map_err(ExecError::engine)
}

/// Makes `conn` (an in-memory database) answer over the sample's Parquet shards as they are:
/// one view per shard under its table name, the column sizes of the manifest, `events_all`.
/// Ready in well under a second, where the import takes minutes; each query reads slower.
pub(crate) fn parquet_views(
    conn: &Connection,
    dir: &Path,
    schema: &TableSchema,
) -> Result<Vec<String>, ExecError> {
    create_column_bytes_table(conn)?;
    let names = column_names(schema);
    let tables = each_shard(conn, dir, schema, &|_, _| {}, |table, file| {
        format!("CREATE VIEW {table} AS SELECT {names} FROM read_parquet('{file}');")
    })?;
    if tables.is_empty() {
        return Err(ExecError::Config(
            "the sample's manifest lists no shards".to_owned(),
        ));
    }
    check_schema(conn, &tables, schema)?;
    create_union_view(conn, &tables)?;
    Ok(tables)
}

fn create_column_bytes_table(conn: &Connection) -> Result<(), ExecError> {
    conn.execute_batch(&format!(
        "CREATE TABLE {COLUMN_BYTES_TABLE} (table_name VARCHAR, column_path VARCHAR, bytes BIGINT)"
    ))
    .map_err(ExecError::engine)
}

fn checked_shard_name(table: &str) -> Result<&str, ExecError> {
    if is_shard_name(table) {
        Ok(table)
    } else {
        Err(ExecError::Config(format!(
            "manifest names `{table}`, not an events_YYYYMMDD or events_intraday_YYYYMMDD table"
        )))
    }
}

/// A path as a single-quoted SQL string's contents.
pub(crate) fn sql_path(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

/// The manifest's measured size of every leaf column of one shard.
fn record_column_bytes(
    insert: &mut duckdb::Statement<'_>,
    shard: &nlq_sample::ShardManifest,
    leaves: &[String],
) -> Result<(), ExecError> {
    let table = &shard.table;
    for leaf in leaves {
        let bytes = shard.column_bytes.get(leaf).copied().ok_or_else(|| {
            ExecError::Config(format!("manifest of {table} has no size for column {leaf}"))
        })?;
        let bytes = i64::try_from(bytes)
            .map_err(|_| ExecError::Config(format!("size of {table}.{leaf} overflows")))?;
        insert
            .execute(duckdb::params![table, leaf, bytes])
            .map_err(ExecError::engine)?;
    }
    Ok(())
}

fn import_sample(
    conn: &Connection,
    dir: &Path,
    schema: &TableSchema,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<String>, ExecError> {
    let columns = create_columns(schema);
    let names = column_names(schema);
    each_shard(conn, dir, schema, progress, |table, file| {
        format!(
            "CREATE TABLE {table} ({columns}); INSERT INTO {table} SELECT {names} FROM read_parquet('{file}');"
        )
    })
}

/// For every shard of the sample's manifest: runs `sql(table, quoted Parquet path)` and records
/// the shard's column sizes. The table names, sorted.
fn each_shard(
    conn: &Connection,
    dir: &Path,
    schema: &TableSchema,
    progress: &dyn Fn(usize, usize),
    sql: impl Fn(&str, &str) -> String,
) -> Result<Vec<String>, ExecError> {
    let manifest = nlq_sample::Manifest::load(dir)?;
    let leaves = schema.leaf_paths();
    let mut insert = conn
        .prepare(&format!(
            "INSERT INTO {COLUMN_BYTES_TABLE} VALUES (?, ?, ?)"
        ))
        .map_err(ExecError::engine)?;
    let mut tables = Vec::with_capacity(manifest.shards.len());
    for (i, shard) in manifest.shards.iter().enumerate() {
        let table = checked_shard_name(&shard.table)?;
        let file = sql_path(&dir.join(&shard.file));
        conn.execute_batch(&sql(table, &file))
            .map_err(ExecError::engine)?;
        record_column_bytes(&mut insert, shard, &leaves)?;
        tables.push(table.to_owned());
        progress(i + 1, manifest.shards.len());
    }
    tables.sort();
    Ok(tables)
}

/// Prefix of the table of a day still being exported.
pub(crate) const INTRADAY_PREFIX: &str = "events_intraday_";

/// `events_YYYYMMDD`, or `events_intraday_YYYYMMDD` (which `events_*` matches on BigQuery too,
/// with the suffix `intraday_YYYYMMDD`).
pub(crate) fn is_shard_name(name: &str) -> bool {
    let day = |d: &str| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix(INTRADAY_PREFIX).is_some_and(day)
        || name.strip_prefix("events_").is_some_and(day)
}

pub(crate) fn shard_tables(conn: &Connection) -> Result<Vec<String>, ExecError> {
    let mut stmt = conn
        .prepare(
            // Tables in the built database, views over Parquet while it builds.
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name",
        )
        .map_err(ExecError::engine)?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(ExecError::engine)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(ExecError::engine)?;
    Ok(names.into_iter().filter(|n| is_shard_name(n)).collect())
}

fn duck_type(ty: &BqType) -> String {
    match ty {
        BqType::String | BqType::Json => "VARCHAR".to_owned(),
        BqType::Int64 => "BIGINT".to_owned(),
        BqType::Float64 => "DOUBLE".to_owned(),
        BqType::Numeric => "DECIMAL(38,9)".to_owned(),
        BqType::Bool => "BOOLEAN".to_owned(),
        BqType::Bytes => "BLOB".to_owned(),
        BqType::Date => "DATE".to_owned(),
        BqType::Datetime | BqType::Timestamp => "TIMESTAMP".to_owned(),
        BqType::Time => "TIME".to_owned(),
        BqType::Interval => "INTERVAL".to_owned(),
        BqType::Array(inner) => format!("{}[]", duck_type(inner)),
        BqType::Struct(fields) => format!(
            "STRUCT({})",
            fields
                .iter()
                .map(|f| format!("\"{}\" {}", f.name, duck_type(&f.ty)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Whether DuckDB's `data_type` text is how `ty` is stored (quotes and INTEGER/BIGINT aside).
pub(crate) fn same_duck_type(ty: &BqType, duck: &str) -> bool {
    normalise_duck(&duck_type(ty)) == normalise_duck(duck)
}

fn normalise_duck(t: &str) -> String {
    t.replace('"', "").replace("INTEGER", "BIGINT")
}

/// The export's columns by name: an imported shard keeps the newer columns its export had
/// after them, which the engine does not serve (the SQL checks know only the export schema).
fn column_names(schema: &TableSchema) -> String {
    schema
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn create_columns(schema: &TableSchema) -> String {
    schema
        .fields
        .iter()
        .map(|f| format!("\"{}\" {}", f.name, duck_type(&f.ty)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every shard must have exactly the export schema, or translated SQL would mean other things.
fn check_schema(
    conn: &Connection,
    tables: &[String],
    schema: &TableSchema,
) -> Result<(), ExecError> {
    let expected: Vec<(String, String)> = schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), duck_type(&f.ty).replace('"', "")))
        .collect();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
            ))
            .map_err(ExecError::engine)?;
        let actual = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(ExecError::engine)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(ExecError::engine)?;
        let same = actual.len() == expected.len()
            && actual.iter().zip(&expected).all(|((an, at), (en, et))| {
                an.eq_ignore_ascii_case(en) && normalise_duck(at) == normalise_duck(et)
            });
        if !same {
            return Err(ExecError::Config(format!(
                "table {table} does not have the GA4 export schema of its profile (fixtures/ga4/)"
            )));
        }
    }
    Ok(())
}

/// The SQL for the billed size of one leaf column: BigQuery counts 2 + UTF-8 bytes for a
/// STRING, 8 for INT64/FLOAT64, 1 for BOOL, 0 for NULL, and sums over array elements.
fn size_sql(base: &str, ty: &BqType, path: &[&str], depth: usize) -> Option<String> {
    match (ty, path.split_first()) {
        (BqType::Array(inner), _) => {
            let x = format!("x{depth}");
            let inner = size_sql(&x, inner, path, depth + 1)?;
            Some(format!(
                "coalesce(list_sum(list_transform({base}, lambda {x}: {inner})), 0)"
            ))
        }
        (BqType::Struct(fields), Some((head, rest))) => {
            let field = fields.iter().find(|f| f.name == *head)?;
            size_sql(
                &format!("({base}).\"{}\"", field.name),
                &field.ty,
                rest,
                depth,
            )
        }
        (BqType::String | BqType::Bytes | BqType::Json, None) => {
            // strlen counts UTF-8 bytes (length would count characters).
            Some(format!("coalesce(2 + strlen({base}), 0)"))
        }
        (BqType::Bool, None) => Some(format!("CASE WHEN {base} IS NULL THEN 0 ELSE 1 END")),
        (_, None) => Some(format!("CASE WHEN {base} IS NULL THEN 0 ELSE 8 END")),
        _ => None,
    }
}

/// Measures every shard's leaf column sizes with SQL (for datasets that come without a
/// manifest, such as hand-built fixtures).
fn measure_column_bytes(
    conn: &Connection,
    tables: &[String],
    schema: &TableSchema,
) -> Result<(), ExecError> {
    let leaves = schema.leaf_paths();
    let sums = leaves
        .iter()
        .map(|leaf| {
            column_size_sql(schema, leaf)
                .map(|sql| format!("CAST(coalesce(sum({sql}), 0) AS BIGINT)"))
                .ok_or_else(|| ExecError::Config(format!("cannot size column {leaf}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut insert = conn
        .prepare(&format!(
            "INSERT INTO {COLUMN_BYTES_TABLE} VALUES (?, ?, ?)"
        ))
        .map_err(ExecError::engine)?;
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT {} FROM {table}", sums.join(", ")))
            .map_err(ExecError::engine)?;
        let row: Vec<i64> = stmt
            .query_row([], |row| {
                (0..leaves.len()).map(|i| row.get::<_, i64>(i)).collect()
            })
            .map_err(ExecError::engine)?;
        for (leaf, bytes) in leaves.iter().zip(&row) {
            insert
                .execute(duckdb::params![table, leaf, bytes])
                .map_err(ExecError::engine)?;
        }
    }
    Ok(())
}

/// DuckDB SQL for the billed size of one leaf column (`event_params.value.int_value`) of one
/// row, by BigQuery's rule. Public so tests can check the generator's own measurements.
pub fn column_size_sql(schema: &TableSchema, leaf: &str) -> Option<String> {
    let parts: Vec<&str> = leaf.split('.').collect();
    let field = schema.field(parts[0])?;
    size_sql(&format!("\"{}\"", field.name), &field.ty, &parts[1..], 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_nested_leaves_through_arrays() {
        let schema = nlq_core::ga4::events_schema().unwrap();
        let field = schema.field("event_params").unwrap();
        assert_eq!(
            size_sql("\"event_params\"", &field.ty, &["value", "int_value"], 0).unwrap(),
            "coalesce(list_sum(list_transform(\"event_params\", lambda x0: CASE WHEN ((x0).\"value\").\"int_value\" IS NULL THEN 0 ELSE 8 END)), 0)"
        );
        assert!(is_shard_name("events_20201101"));
        assert!(!is_shard_name("events_all"));
        assert!(is_shard_name("events_intraday_20201101"));
        assert!(!is_shard_name("events_intraday_2020110"));
    }
}
