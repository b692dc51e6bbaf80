//! A property's own GA4 export, brought in from the files users get out of BigQuery
//! (`EXPORT DATA` or `bq extract` of `events_*`): Parquet, Avro or newline-delimited JSON
//! (gzipped or not), one or many files per day, into the layout `generate` writes.
//!
//! ```text
//!  read     each file, sniffed by its first bytes; columns matched to the export schema by
//!           name and cast to its types; the day from the path (events_YYYYMMDD) or the rows
//!  stage    one Parquet part per file and day, in a hidden directory
//!  write    one shard per day (all its parts), under a new name; manifest.json last
//! ```
//!
//! Nothing already imported is touched until every file has been read and checked: a bad file
//! stops the import with its name and the reason, and the previous manifest still describes
//! the previous shards. Re-importing a day replaces it. Columns the export schema does not know
//! (newer export fields) are kept in the shard after the export's own; nested fields it does not
//! know are dropped and nested fields missing from a file read as NULL, each with a warning.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, RecordBatch, StructArray, new_null_array,
};
use arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use arrow::datatypes::{DataType, FieldRef, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::Profile;
use crate::arrow_schema::arrow_schema;
use crate::error::SampleError;
use crate::logical_bytes::ColumnBytes;
use crate::manifest::{Manifest, ShardManifest};
use crate::shard::PARQUET_DIR;
use crate::writer::ParquetSink;

/// Names `Profile::Export` falls back to; an import's manifest records its own.
pub(crate) const DEFAULT_PROJECT: &str = "my-project";
pub(crate) const DEFAULT_DATASET: &str = "analytics_export";
/// The columns every row must have for the file to be a GA4 export at all.
const IDENTITY: [&str; 3] = ["event_date", "event_timestamp", "event_name"];
const STAGING_DIR: &str = ".import-staging";
const BATCH_ROWS: usize = 32_768;

/// Where the imported tables came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConfig {
    pub project: String,
    pub dataset: String,
}

impl ImportConfig {
    /// `project.dataset`, as BigQuery names it.
    pub fn parse(name: &str) -> Result<ImportConfig, SampleError> {
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        match name.split_once('.') {
            Some((project, dataset)) if valid(project) && valid(dataset) => Ok(ImportConfig {
                project: project.to_owned(),
                dataset: dataset.to_owned(),
            }),
            _ => Err(SampleError::Config(format!(
                "--dataset {name:?} is not project.dataset (letters, digits, _ and -), \
                 e.g. my-project.analytics_123456789"
            ))),
        }
    }

    fn name(&self) -> String {
        format!("{}.{}", self.project, self.dataset)
    }
}

/// One table the import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedDay {
    /// `events_YYYYMMDD` or `events_intraday_YYYYMMDD`.
    pub table: String,
    pub rows: u64,
    /// Input files with rows of this day.
    pub files: usize,
    /// Whether a table of this day was there before (and is now replaced).
    pub replaced: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub days: Vec<ImportedDay>,
    /// Data files read (hidden and `_`-prefixed files in directories are skipped).
    pub files: usize,
    /// What the import changed on the way, per file: nested fields dropped or missing, days
    /// skipped.
    pub warnings: Vec<String>,
    pub manifest: Manifest,
}

/// Imports the export files at `paths` (files, or directories searched recursively) into the
/// data directory `out`, which is empty or holds an earlier import of the same dataset.
/// `progress(done, total, stage)` follows the files read, then the days written.
pub fn import(
    paths: &[PathBuf],
    config: &ImportConfig,
    out: &Path,
    progress: &dyn Fn(u64, u64, &str),
) -> Result<ImportReport, SampleError> {
    let previous = previous_import(out, config)?;
    let files = data_files(paths)?;
    let table = Profile::Export.schema()?;
    let export = Arc::new(arrow_schema(&table)?);
    let parquet_dir = out.join(PARQUET_DIR);
    fs::create_dir_all(&parquet_dir).map_err(|e| SampleError::io(&parquet_dir, e))?;
    let staging = Staging::create(&parquet_dir.join(STAGING_DIR))?;
    let mut warnings = Vec::new();
    let mut parts: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        for (table, batches) in read_file(file, &export, &mut warnings)? {
            let list = parts.entry(table.clone()).or_default();
            let part = staging.path.join(format!("{table}.{}.parquet", list.len()));
            write_parquet(&part, &batches)?;
            list.push(part);
        }
        progress(i as u64 + 1, files.len() as u64, "reading export files");
    }
    drop_intraday_beside_daily(&mut parts, &mut warnings);
    if parts.is_empty() {
        return Err(SampleError::Import {
            path: paths.first().cloned().unwrap_or_default(),
            reason: "the files hold no rows".to_owned(),
        });
    }

    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let leaf_paths = table.leaf_paths();
    let mut shards = Vec::with_capacity(parts.len());
    let mut days = Vec::with_capacity(parts.len());
    for (i, (name, day_parts)) in parts.iter().enumerate() {
        let file = format!("{PARQUET_DIR}/{name}.{stamp:x}.parquet");
        let shard = write_shard(out, &file, name, day_parts, &export, &leaf_paths)?;
        days.push(ImportedDay {
            table: name.clone(),
            rows: shard.rows,
            files: day_parts.len(),
            replaced: previous
                .as_ref()
                .is_some_and(|m| m.shards.iter().any(|s| day_of(&s.table) == day_of(name))),
        });
        shards.push(shard);
        progress(i as u64 + 1, parts.len() as u64, "writing daily tables");
    }

    // Everything is written; only now does the dataset change, in one rename of the manifest.
    let imported: BTreeSet<String> = shards.iter().map(|s| day_of(&s.table).to_owned()).collect();
    let mut stale = Vec::new();
    if let Some(previous) = &previous {
        for shard in &previous.shards {
            if imported.contains(day_of(&shard.table)) {
                stale.push(out.join(&shard.file));
            } else {
                shards.push(shard.clone());
            }
        }
    }
    shards.sort_by(|a, b| (day_of(&a.table), &a.table).cmp(&(day_of(&b.table), &b.table)));
    let manifest = import_manifest(config, shards);
    manifest.write(out)?;
    for file in stale {
        // The manifest no longer names them; a file left behind only costs disk.
        let _ = fs::remove_file(file);
    }
    drop(staging);
    Ok(ImportReport {
        days,
        files: files.len(),
        warnings,
        manifest,
    })
}

/// The manifest already in `out`, when it is an import of the same dataset.
fn previous_import(out: &Path, config: &ImportConfig) -> Result<Option<Manifest>, SampleError> {
    if out.exists() && !out.is_dir() {
        return Err(SampleError::OutputPath {
            path: out.to_owned(),
            reason: "it exists and is not a directory".into(),
        });
    }
    let manifest = match Manifest::load(out) {
        Ok(manifest) => manifest,
        Err(SampleError::Incomplete { .. })
            if !out.join(crate::manifest::MANIFEST_FILE).exists() =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if manifest.profile() != Profile::Export {
        return Err(SampleError::OutputPath {
            path: out.to_owned(),
            reason: format!(
                "it holds a generated {} sample; import into an empty directory (--data-dir)",
                manifest.profile()
            ),
        });
    }
    if manifest.dataset.as_deref() != Some(config.name().as_str()) {
        return Err(SampleError::OutputPath {
            path: out.to_owned(),
            reason: format!(
                "it holds an import of {}; import {} into another directory",
                manifest.dataset.as_deref().unwrap_or("another dataset"),
                config.name()
            ),
        });
    }
    Ok(Some(manifest))
}

fn import_manifest(config: &ImportConfig, shards: Vec<ShardManifest>) -> Manifest {
    let first = shards.first().map(|s| day_of(&s.table).to_owned());
    let last = shards.last().map(|s| day_of(&s.table).to_owned());
    let days = match (first.as_deref(), last.as_deref()) {
        (Some(first), Some(last)) => days_between(first, last) + 1,
        _ => 0,
    };
    let mut manifest = Manifest::new(0, 0.0, 0, 0, shards);
    manifest.first_day = first.unwrap_or_default();
    manifest.days = days;
    manifest.profile = Some(Profile::Export);
    manifest.dataset = Some(config.name());
    manifest
}

/// Whole days from `YYYYMMDD` to `YYYYMMDD`.
fn days_between(first: &str, last: &str) -> u32 {
    let epoch_day = |d: &str| -> Option<i64> {
        let y = d.get(0..4)?.parse().ok()?;
        let m = d.get(4..6)?.parse().ok()?;
        let day = d.get(6..8)?.parse().ok()?;
        Some(crate::calendar::days_from_civil(y, m, day))
    };
    match (epoch_day(first), epoch_day(last)) {
        (Some(a), Some(b)) if b >= a => u32::try_from(b - a).unwrap_or(0),
        _ => 0,
    }
}

/// `YYYYMMDD` of a shard table's name.
fn day_of(table: &str) -> &str {
    &table[table.len().saturating_sub(8)..]
}

/// GA4 deletes a day's intraday table once the daily one lands; an import holding both keeps
/// the daily, or every count of that day would be doubled.
fn drop_intraday_beside_daily(
    parts: &mut BTreeMap<String, Vec<PathBuf>>,
    warnings: &mut Vec<String>,
) {
    let daily: BTreeSet<String> = parts
        .keys()
        .filter(|t| !t.starts_with(INTRADAY))
        .map(|t| day_of(t).to_owned())
        .collect();
    parts.retain(|table, _| {
        let keep = !(table.starts_with(INTRADAY) && daily.contains(day_of(table)));
        if !keep {
            warnings.push(format!(
                "{table} skipped: the daily table of the same day is imported too"
            ));
        }
        keep
    });
}

const INTRADAY: &str = "events_intraday_";

/// Removes the staging directory however the import ends.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn create(path: &Path) -> Result<Staging, SampleError> {
        // A crashed import's parts are of no use: start clean.
        if path.exists() {
            fs::remove_dir_all(path).map_err(|e| SampleError::io(path, e))?;
        }
        fs::create_dir_all(path).map_err(|e| SampleError::io(path, e))?;
        Ok(Staging {
            path: path.to_owned(),
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The data files under `paths`, sorted, so an import is the same whatever the listing order.
fn data_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SampleError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|e| SampleError::Import {
            path: path.clone(),
            reason: format!("cannot read it: {e}"),
        })?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(SampleError::Import {
            path: paths.first().cloned().unwrap_or_default(),
            reason: "no export files there (Parquet, Avro or JSON)".to_owned(),
        });
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), SampleError> {
    let entries = fs::read_dir(dir).map_err(|e| SampleError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SampleError::io(dir, e))?;
        let name = entry.file_name();
        // Markers and hidden files beside exports (_SUCCESS, .crc) are not data.
        if name.to_string_lossy().starts_with(['.', '_']) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Avro,
    Json { gzip: bool },
}

/// The format by the file's first bytes: BigQuery's extract names files as the user asks, so
/// the extension proves nothing.
fn sniff(path: &Path) -> Result<Format, SampleError> {
    let refuse = |reason: String| SampleError::Import {
        path: path.to_owned(),
        reason,
    };
    let mut head = [0u8; 4];
    let mut file = File::open(path).map_err(|e| SampleError::io(path, e))?;
    let n = read_up_to(&mut file, &mut head).map_err(|e| SampleError::io(path, e))?;
    match &head[..n] {
        [] => Err(refuse("the file is empty".to_owned())),
        b"PAR1" => Ok(Format::Parquet),
        [b'O', b'b', b'j', 1] => Ok(Format::Avro),
        [0x1f, 0x8b, ..] => Ok(Format::Json { gzip: true }),
        bytes if first_non_space(bytes) == Some(b'{') => Ok(Format::Json { gzip: false }),
        // A UTF-8 byte order mark before the first object.
        [0xef, 0xbb, 0xbf, b'{'] => Ok(Format::Json { gzip: false }),
        _ => Err(refuse(
            "not a Parquet, Avro or newline-delimited JSON file".to_owned(),
        )),
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Parquet => "Parquet",
            Format::Avro => "Avro",
            Format::Json { gzip: false } => "JSON",
            Format::Json { gzip: true } => "gzipped JSON",
        })
    }
}

fn first_non_space(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// One file's rows, conformed to the export schema, by table.
fn read_file(
    path: &Path,
    export: &SchemaRef,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, Vec<RecordBatch>)>, SampleError> {
    let refuse = |reason: String| SampleError::Import {
        path: path.to_owned(),
        reason,
    };
    let format = sniff(path)?;
    let batches = match format {
        Format::Parquet => read_parquet(path),
        Format::Avro => read_avro(path),
        Format::Json { gzip } => read_json(path, gzip, export),
    }
    .map_err(|e| refuse(format!("unreadable {format} file: {e}")))?;
    let mut notes = Notes::default();
    let mut conformed = Vec::with_capacity(batches.len());
    for batch in &batches {
        let missing: Vec<&str> = export
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|name| {
                let required = !matches!(format, Format::Json { .. }) || IDENTITY.contains(name);
                required && batch.schema().column_with_name(name).is_none()
            })
            .collect();
        if !missing.is_empty() {
            return Err(refuse(format!(
                "it lacks column(s) {} of the GA4 export schema: is it an events_ table?",
                missing.join(", ")
            )));
        }
        conformed.push(conform_batch(batch, export, &mut notes).map_err(refuse)?);
    }
    for note in notes.into_warnings() {
        warnings.push(format!("{}: {note}", path.display()));
    }
    let named = named_table(path);
    split_by_day(&conformed, named.as_deref()).map_err(refuse)
}

fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn read_avro(path: &Path) -> Result<Vec<RecordBatch>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let reader = arrow_avro::reader::ReaderBuilder::new()
        .with_batch_size(BATCH_ROWS)
        .build(BufReader::new(file))
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// JSON is read twice: once to learn which keys the file has (its extra columns' types), once
/// to decode the export's columns by the export's types. Keys absent from every row read as
/// NULL: JSON has no schema to tell a missing column from an empty one.
fn read_json(path: &Path, gzip: bool, export: &SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let open = || -> Result<Box<dyn BufRead>, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        Ok(if gzip {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        })
    };
    let (inferred, _) =
        arrow::json::reader::infer_json_schema(open()?, None).map_err(|e| e.to_string())?;
    let fields: Vec<FieldRef> = inferred
        .fields()
        .iter()
        .filter_map(|f| match export.field_with_name(f.name()) {
            Ok(known) => Some(Arc::new(known.clone())),
            // A key that is NULL in every row has no type to keep.
            Err(_) if f.data_type() == &DataType::Null => None,
            Err(_) => Some(f.clone()),
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let reader = arrow::json::ReaderBuilder::new(schema)
        .with_batch_size(BATCH_ROWS)
        .with_coerce_primitive(true)
        .build(open()?)
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// What conforming a file changed, said once per field rather than once per batch.
#[derive(Default)]
struct Notes {
    missing: BTreeSet<String>,
    dropped: BTreeSet<String>,
}

impl Notes {
    fn into_warnings(self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.missing.is_empty() {
            out.push(format!(
                "nested field(s) {} missing, read as NULL",
                self.missing.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if !self.dropped.is_empty() {
            out.push(format!(
                "nested field(s) {} unknown to the export schema, dropped",
                self.dropped.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        out
    }
}

/// The export's columns in its order and types, then the file's other top-level columns as
/// they are.
fn conform_batch(
    batch: &RecordBatch,
    export: &SchemaRef,
    notes: &mut Notes,
) -> Result<RecordBatch, String> {
    let rows = batch.num_rows();
    let mut fields: Vec<FieldRef> = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for field in export.fields() {
        let column = match batch.column_by_name(field.name()) {
            Some(column) => conform(column, field.data_type(), field.name(), notes)?,
            None => new_null_array(field.data_type(), rows),
        };
        fields.push(field.clone());
        columns.push(column);
    }
    let schema = batch.schema();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if export.field_with_name(field.name()).is_err() {
            fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

/// `array` as the export stores `target`: structs matched by field name, lists element-wise,
/// leaves cast (a value that does not fit, such as a word in an INT64 column, is an error).
fn conform(
    array: &ArrayRef,
    target: &DataType,
    path: &str,
    notes: &mut Notes,
) -> Result<ArrayRef, String> {
    if array.data_type() == target {
        return Ok(array.clone());
    }
    if array.data_type() == &DataType::Null {
        return Ok(new_null_array(target, array.len()));
    }
    let mismatch = || {
        format!(
            "column {path} is {}, the export schema has {}",
            array.data_type(),
            describe(target)
        )
    };
    match target {
        DataType::Struct(fields) => {
            let source = array.as_struct_opt().ok_or_else(mismatch)?;
            let mut children = Vec::with_capacity(fields.len());
            for field in fields {
                let child_path = format!("{path}.{}", field.name());
                children.push(match source.column_by_name(field.name()) {
                    Some(child) => conform(child, field.data_type(), &child_path, notes)?,
                    None => {
                        notes.missing.insert(child_path);
                        new_null_array(field.data_type(), array.len())
                    }
                });
            }
            for field in source.fields() {
                if !fields.iter().any(|f| f.name() == field.name()) {
                    notes.dropped.insert(format!("{path}.{}", field.name()));
                }
            }
            let nulls = source.nulls().cloned();
            Ok(Arc::new(
                StructArray::try_new(fields.clone(), children, nulls).map_err(|e| e.to_string())?,
            ))
        }
        DataType::List(element) => {
            let list = as_list(array).ok_or_else(mismatch)?;
            let values = conform(list.values(), element.data_type(), path, notes)?;
            Ok(Arc::new(
                ListArray::try_new(
                    element.clone(),
                    list.offsets().clone(),
                    values,
                    list.nulls().cloned(),
                )
                .map_err(|e| e.to_string())?,
            ))
        }
        _ => {
            let options = CastOptions {
                safe: false,
                ..CastOptions::default()
            };
            cast_with_options(array, target, &options).map_err(|e| format!("{}: {e}", mismatch()))
        }
    }
}

/// Any list layout (large offsets, Parquet's or Avro's element names) as a plain list.
fn as_list(array: &ArrayRef) -> Option<ListArray> {
    match array.data_type() {
        DataType::List(_) => array.as_list_opt::<i32>().cloned(),
        DataType::LargeList(element) | DataType::FixedSizeList(element, _) => {
            let plain = DataType::List(element.clone());
            cast_with_options(array, &plain, &CastOptions::default())
                .ok()
                .and_then(|a| a.as_list_opt::<i32>().cloned())
        }
        _ => None,
    }
}

fn describe(ty: &DataType) -> &'static str {
    match ty {
        DataType::Utf8 => "STRING",
        DataType::Int64 => "INT64",
        DataType::Float64 => "FLOAT64",
        DataType::Boolean => "BOOL",
        DataType::Struct(_) => "a STRUCT",
        DataType::List(_) => "an ARRAY",
        _ => "another type",
    }
}

/// The table a path names: `events_YYYYMMDD` or `events_intraday_YYYYMMDD` in the file's name
/// or, for exports written one directory per day, in a parent's.
fn named_table(path: &Path) -> Option<String> {
    path.iter()
        .rev()
        .filter_map(|c| c.to_str())
        .find_map(table_in)
}

fn table_in(name: &str) -> Option<String> {
    let mut rest = name;
    while let Some(at) = rest.find("events_") {
        let after = &rest[at + "events_".len()..];
        let (intraday, digits) = match after.strip_prefix("intraday_") {
            Some(digits) => (true, digits),
            None => (false, after),
        };
        let bytes = digits.as_bytes();
        if bytes.len() >= 8
            && bytes[..8].iter().all(u8::is_ascii_digit)
            && !bytes.get(8).is_some_and(u8::is_ascii_digit)
            && is_day(&digits[..8])
        {
            let prefix = if intraday { INTRADAY } else { "events_" };
            return Some(format!("{prefix}{}", &digits[..8]));
        }
        rest = after;
    }
    None
}

fn is_day(digits: &str) -> bool {
    let number =
        |range: std::ops::Range<usize>| digits.get(range).and_then(|d| d.parse::<u32>().ok());
    matches!(
        (number(0..4), number(4..6), number(6..8)),
        (Some(1970..=2999), Some(1..=12), Some(1..=31))
    )
}

/// The rows by table: all of the named table's (every row must be of its day), or, for a file
/// that names none (an export of `events_*`), one daily table per `event_date`.
fn split_by_day(
    batches: &[RecordBatch],
    named: Option<&str>,
) -> Result<Vec<(String, Vec<RecordBatch>)>, String> {
    let mut by_table: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
    for batch in batches {
        if batch.num_rows() == 0 {
            continue;
        }
        check_identity(batch)?;
        let dates = batch
            .column_by_name("event_date")
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or("event_date is not a STRING column")?;
        let days: BTreeSet<&str> = dates.iter().flatten().collect();
        if let Some(bad) = days.iter().find(|d| !(d.len() == 8 && is_day(d))) {
            return Err(format!("event_date {bad:?} is not a YYYYMMDD day"));
        }
        match named {
            Some(table) => {
                if let Some(other) = days.iter().find(|d| **d != day_of(table)) {
                    return Err(format!(
                        "it holds rows of {other} but its name says {table} (wrong day)"
                    ));
                }
                by_table
                    .entry(table.to_owned())
                    .or_default()
                    .push(batch.clone());
            }
            None => {
                for day in days {
                    let mask: BooleanArray = dates.iter().map(|d| Some(d == Some(day))).collect();
                    let rows = filter_record_batch(batch, &mask).map_err(|e| e.to_string())?;
                    by_table
                        .entry(format!("events_{day}"))
                        .or_default()
                        .push(rows);
                }
            }
        }
    }
    Ok(by_table.into_iter().collect())
}

/// Every row needs the columns that say what happened and when.
fn check_identity(batch: &RecordBatch) -> Result<(), String> {
    for name in IDENTITY {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| format!("it has no {name} column"))?;
        if column.null_count() > 0 {
            let row = (0..column.len()).find(|&i| column.is_null(i)).unwrap_or(0);
            return Err(format!("row {} has no {name}", row + 1));
        }
    }
    Ok(())
}

fn write_parquet(path: &Path, batches: &[RecordBatch]) -> Result<u64, SampleError> {
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| SampleError::Shape("a part with no batches".to_owned()))?;
    let mut sink = ParquetSink::create(path, schema)?;
    for batch in batches {
        if let Err(e) = sink.write(batch) {
            sink.abandon();
            return Err(e);
        }
    }
    sink.commit()
}

/// One day's shard from its staged parts: the export's columns, then every extra column any
/// part has (NULL in the parts without it).
fn write_shard(
    out: &Path,
    file: &str,
    table: &str,
    parts: &[PathBuf],
    export: &SchemaRef,
    leaf_paths: &[String],
) -> Result<ShardManifest, SampleError> {
    let mut batches = Vec::new();
    for part in parts {
        let read = File::open(part)
            .map_err(|e| SampleError::io(part, e))
            .and_then(|f| Ok(ParquetRecordBatchReaderBuilder::try_new(f)?.build()?))?;
        for batch in read {
            batches.push(batch?);
        }
    }
    let mut extras: Vec<FieldRef> = Vec::new();
    for batch in &batches {
        for field in batch.schema().fields().iter().skip(export.fields().len()) {
            match extras.iter().find(|f| f.name() == field.name()) {
                Some(seen) if seen.data_type() != field.data_type() => {
                    return Err(SampleError::Import {
                        path: PathBuf::from(table),
                        reason: format!(
                            "column {} is {} in one file and {} in another",
                            field.name(),
                            seen.data_type(),
                            field.data_type()
                        ),
                    });
                }
                Some(_) => {}
                None => extras.push(field.clone()),
            }
        }
    }
    let mut fields: Vec<FieldRef> = export.fields().iter().cloned().collect();
    fields.extend(extras.iter().cloned());
    let schema = Arc::new(Schema::new(fields));
    let mut bytes = ColumnBytes::new(leaf_paths);
    let mut sink = ParquetSink::create(&out.join(file), schema.clone())?;
    let mut rows = 0;
    let written = (|| {
        for batch in &batches {
            let mut columns: Vec<ArrayRef> = batch.columns()[..export.fields().len()].to_vec();
            bytes.add(&RecordBatch::try_new(export.clone(), columns.clone())?)?;
            for extra in &extras {
                columns.push(match batch.column_by_name(extra.name()) {
                    Some(column) => column.clone(),
                    None => new_null_array(extra.data_type(), batch.num_rows()),
                });
            }
            sink.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
            rows += batch.num_rows() as u64;
        }
        Ok::<(), SampleError>(())
    })();
    if let Err(e) = written {
        sink.abandon();
        return Err(e);
    }
    Ok(ShardManifest {
        table: table.to_owned(),
        file: file.to_owned(),
        rows,
        file_bytes: sink.commit()?,
        column_bytes: bytes.into_map(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_named_by_the_file_or_its_directory() {
        for (path, table) in [
            ("out/events_20201101.parquet", Some("events_20201101")),
            (
                "out/events_20201101-000000000003.avro",
                Some("events_20201101"),
            ),
            (
                "gs/events_intraday_20210131/000000000000.json.gz",
                Some("events_intraday_20210131"),
            ),
            (
                "export/events_20201101/part-0.parquet",
                Some("events_20201101"),
            ),
            ("export/all_events_*.parquet", None),
            ("out/events_2020110.parquet", None),
            ("out/events_202011011.parquet", None),
            ("out/events_20201341.parquet", None),
            ("out/events_x_events_20201102.json", Some("events_20201102")),
        ] {
            assert_eq!(named_table(Path::new(path)).as_deref(), table, "{path}");
        }
    }

    #[test]
    fn dataset_names_are_project_dot_dataset() {
        let config = ImportConfig::parse("my-proj.analytics_123").unwrap();
        assert_eq!(config.name(), "my-proj.analytics_123");
        for bad in ["analytics_123", "a.", ".b", "a.b c", "a;b.c"] {
            let err = ImportConfig::parse(bad).unwrap_err();
            assert!(err.to_string().contains("project.dataset"), "{bad}: {err}");
        }
    }

    #[test]
    fn conforms_columns_by_name_keeping_extras_and_casting_leaves() {
        use arrow::array::{BooleanArray, Int64Array, StringArray};
        use arrow::datatypes::{Field, Fields};

        let export = Arc::new(arrow_schema(&Profile::Export.schema().unwrap()).unwrap());
        let device_fields = Fields::from(vec![
            Field::new("category", DataType::Utf8, true),
            Field::new("extra_thing", DataType::Utf8, true),
            // A real export's advertising id is a UUID: STRING in the export schema.
            Field::new("advertising_id", DataType::Utf8, true),
        ]);
        let device = StructArray::try_new(
            device_fields.clone(),
            vec![
                Arc::new(StringArray::from(vec!["mobile", "desktop"])) as ArrayRef,
                Arc::new(StringArray::from(vec!["a", "b"])),
                Arc::new(StringArray::from(vec![
                    Some("cdda802e-fb9c-47ad-9866-0794d394c912"),
                    None,
                ])),
            ],
            None,
        )
        .unwrap();
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("is_active_user", DataType::Boolean, false),
                Field::new("event_timestamp", DataType::Utf8, true),
                Field::new("device", DataType::Struct(device_fields), true),
            ])),
            vec![
                Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
                Arc::new(StringArray::from(vec!["1606780800000000", "7"])),
                Arc::new(device),
            ],
        )
        .unwrap();
        let mut notes = Notes::default();
        let out = conform_batch(&batch, &export, &mut notes).unwrap();
        assert_eq!(out.num_columns(), export.fields().len() + 1);
        assert_eq!(
            out.schema().field(export.fields().len()).name(),
            "is_active_user"
        );
        let timestamps = out.column_by_name("event_timestamp").unwrap();
        assert_eq!(
            timestamps.as_primitive::<arrow::datatypes::Int64Type>(),
            &Int64Array::from(vec![1_606_780_800_000_000, 7])
        );
        assert!(out.column_by_name("event_name").unwrap().null_count() == 2);
        assert!(notes.missing.contains("device.mobile_brand_name"));
        let ids = out.column_by_name("device").unwrap().as_struct();
        let ids = ids
            .column_by_name("advertising_id")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(ids.value(0), "cdda802e-fb9c-47ad-9866-0794d394c912");
        assert!(notes.dropped.contains("device.extra_thing"));

        let words = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "event_timestamp",
                DataType::Utf8,
                true,
            )])),
            vec![Arc::new(StringArray::from(vec!["yesterday"])) as ArrayRef],
        )
        .unwrap();
        let err = conform_batch(&words, &export, &mut Notes::default()).unwrap_err();
        assert!(
            err.contains("column event_timestamp is Utf8, the export schema has INT64"),
            "{err}"
        );
    }

    #[test]
    fn counts_days_between_dates() {
        assert_eq!(days_between("20201101", "20210131"), 91);
        assert_eq!(days_between("20201231", "20210101"), 1);
        assert_eq!(days_between("20210101", "20201231"), 0);
    }
}
