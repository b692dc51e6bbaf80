//! Issue 19: `nlq data import` round-trips. A generated app-web property (web and app streams,
//! custom events, missing days, an intraday table) is written out the ways BigQuery exports it
//! (Parquet, Avro and newline-delimited JSON, several files per day, gzip, INT64 as strings,
//! NULLs left out), each is imported into a fresh directory, and every corpus query answers
//! the same on the import as on the original. Then the refusals: truncated, wrong schema, wrong
//! day, each leaving the earlier import whole.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow::array::RecordBatch;
use nlq_core::{QueryRequest, QueryResult};
use nlq_exec::embedded::{self, EmbeddedConfig, EmbeddedWarehouse};
use nlq_sample::{ImportConfig, Manifest, Profile, SampleConfig};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::WriterProperties;

use crate::corpus::difference;
use crate::corpus_file::{corpus, public_style};

/// A sample's shards as their batches, by table name, in date order.
type Shards = [(String, Vec<RecordBatch>)];
/// Writes shards out as export files in one format.
type Export = fn(&Path, &Shards);

/// The corpus names the public sample's dataset; imports take that name so it runs unchanged.
const DATASET: &str = "bigquery-public-data.ga4_obfuscated_sample_ecommerce";

/// The app-web sample scripts/test.sh made (`NLQ_TEST_APP_DATA_DIR`), or one made here.
fn app_web() -> &'static Path {
    static DIR: OnceLock<(Option<tempfile::TempDir>, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| match std::env::var_os("NLQ_TEST_APP_DATA_DIR") {
        Some(dir) => (None, PathBuf::from(dir)),
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let config = EmbeddedConfig::for_profile(tmp.path(), Profile::AppWeb);
            let sample = SampleConfig {
                seed: 20201101,
                scale: 0.01,
                profile: Profile::AppWeb,
            };
            embedded::prepare(&config, &sample, &|_, _, _| {}).unwrap();
            let path = tmp.path().to_owned();
            (Some(tmp), path)
        }
    })
    .1
}

/// Each shard of the sample as its batches, by table name.
fn shards(dir: &Path) -> Vec<(String, Vec<RecordBatch>)> {
    let manifest = Manifest::load(dir).unwrap();
    manifest
        .shards
        .iter()
        .map(|shard| {
            let file = File::open(dir.join(&shard.file)).unwrap();
            let batches = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .with_batch_size(1000)
                .build()
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            (shard.table.clone(), batches)
        })
        .collect()
}

/// The batches in two halves: a day exported as two files.
fn halves(batches: &[RecordBatch]) -> [Vec<RecordBatch>; 2] {
    let middle = batches.len().div_ceil(2);
    [batches[..middle].to_vec(), batches[middle..].to_vec()]
}

/// `EXPORT DATA ... format='PARQUET'` with a wildcard URI: one directory per table, GZIP.
fn export_parquet(dir: &Path, shards: &Shards) {
    let properties = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    for (table, batches) in shards {
        fs::create_dir_all(dir.join(table)).unwrap();
        for (n, half) in halves(batches).iter().enumerate() {
            let path = dir.join(table).join(format!("{n:012}.parquet"));
            let mut writer = ArrowWriter::try_new(
                File::create(path).unwrap(),
                batches[0].schema(),
                Some(properties.clone()),
            )
            .unwrap();
            for batch in half {
                writer.write(batch).unwrap();
            }
            writer.close().unwrap();
        }
    }
    fs::write(dir.join("_SUCCESS"), "").unwrap();
}

/// `bq extract --destination_format AVRO --compression DEFLATE table gs://b/table-*.avro`.
fn export_avro(dir: &Path, shards: &Shards) {
    fs::create_dir_all(dir).unwrap();
    for (table, batches) in shards {
        for (n, half) in halves(batches).iter().enumerate() {
            let path = dir.join(format!("{table}-{n:012}.avro"));
            let mut writer =
                arrow_avro::writer::WriterBuilder::new(batches[0].schema().as_ref().clone())
                    .with_compression(Some(arrow_avro::compression::CompressionCodec::Deflate))
                    .build::<_, arrow_avro::writer::format::AvroOcfFormat>(
                        File::create(path).unwrap(),
                    )
                    .unwrap();
            for batch in half {
                writer.write(batch).unwrap();
            }
            writer.finish().unwrap();
        }
    }
}

/// Newline-delimited JSON as BigQuery writes it: INT64 values as strings, NULL fields left
/// out. November's days in one gzipped file named for no table (an export of `events_*`), the
/// rest one file per table.
fn export_json(dir: &Path, shards: &Shards) {
    fs::create_dir_all(dir).unwrap();
    let mut november = flate2::write::GzEncoder::new(
        File::create(dir.join("all-events-000000000000.json.gz")).unwrap(),
        flate2::Compression::default(),
    );
    for (table, batches) in shards {
        let mut lines = Vec::new();
        let mut writer = arrow::json::LineDelimitedWriter::new(&mut lines);
        for batch in batches {
            writer.write(batch).unwrap();
        }
        writer.finish().unwrap();
        let mut out = String::new();
        for line in String::from_utf8(lines).unwrap().lines() {
            let mut row: serde_json::Value = serde_json::from_str(line).unwrap();
            ints_as_strings(&mut row);
            out.push_str(&row.to_string());
            out.push('\n');
        }
        if table.starts_with("events_202011") {
            november.write_all(out.as_bytes()).unwrap();
        } else {
            fs::write(dir.join(format!("{table}.json")), out).unwrap();
        }
    }
    november.finish().unwrap();
}

fn ints_as_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_i64() => {
            *value = serde_json::Value::String(n.to_string());
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(ints_as_strings),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(ints_as_strings),
        _ => {}
    }
}

fn import(dir: &Path, paths: &[PathBuf]) -> Result<nlq_sample::ImportReport, nlq_exec::ExecError> {
    embedded::import(
        dir,
        paths,
        &ImportConfig::parse(DATASET).unwrap(),
        &|_, _, _| {},
    )
}

fn query(warehouse: &EmbeddedWarehouse, sql: &str) -> Result<QueryResult, String> {
    warehouse
        .query_sync(&QueryRequest {
            sql: sql.to_owned(),
            max_rows: 100_000,
            labels: Vec::new(),
        })
        .map_err(|e| e.to_string())
}

#[test]
fn an_export_imported_from_parquet_avro_or_json_answers_every_corpus_query_alike() {
    let original_dir = app_web();
    let shards = shards(original_dir);
    let mut original = EmbeddedConfig::new(original_dir);
    let (project, dataset) = DATASET.split_once('.').unwrap();
    (original.project, original.dataset) = (project.to_owned(), dataset.to_owned());
    let original = EmbeddedWarehouse::open(&original).unwrap();
    let expected_tables: Vec<String> = shards.iter().map(|(t, _)| t.clone()).collect();
    assert!(expected_tables.contains(&"events_intraday_20210131".to_owned()));

    let work = tempfile::tempdir().unwrap();
    let exports: [(&str, Export); 3] = [
        ("parquet", export_parquet),
        ("avro", export_avro),
        ("json", export_json),
    ];
    for (format, export) in exports {
        let files = work.path().join(format);
        export(&files, &shards);
        let into = work.path().join(format!("{format}-data"));
        let report =
            import(&into, std::slice::from_ref(&files)).unwrap_or_else(|e| panic!("{format}: {e}"));
        let manifest = Manifest::load(&into).unwrap();
        let tables: Vec<String> = manifest.shards.iter().map(|s| s.table.clone()).collect();
        assert_eq!(tables, expected_tables, "{format}");
        assert_eq!(manifest.profile(), Profile::Export);
        assert_eq!(report.days.len(), expected_tables.len(), "{format}");
        assert!(
            report.warnings.is_empty(),
            "{format}: {:?}",
            report.warnings
        );
        let source = Manifest::load(original_dir).unwrap();
        for (ours, theirs) in manifest.shards.iter().zip(&source.shards) {
            assert_eq!(ours.rows, theirs.rows, "{format} {}", ours.table);
            // Dry runs bill the same bytes.
            assert_eq!(
                ours.column_bytes, theirs.column_bytes,
                "{format} {}",
                ours.table
            );
        }

        let imported = EmbeddedWarehouse::open(&EmbeddedConfig::new(&into)).unwrap();
        let (mut answered, mut failures) = (0, Vec::new());
        for entry in corpus().into_iter().chain(public_style()) {
            match (
                query(&original, &entry.bigquery),
                query(&imported, &entry.bigquery),
            ) {
                (Ok(a), Ok(b)) => {
                    answered += 1;
                    if let Some(diff) = difference(&b, &a, &entry, true) {
                        failures.push(format!("{}: {diff}", entry.id));
                    }
                }
                (Err(a), Err(b)) if a == b => {}
                (a, b) => failures.push(format!(
                    "{}: original {:?} vs import {:?}",
                    entry.id,
                    a.err(),
                    b.err()
                )),
            }
        }
        eprintln!("{format}: {answered} corpus queries answered alike");
        assert!(answered >= 100, "{format}: only {answered} queries ran");
        assert!(failures.is_empty(), "{format}:\n{}", failures.join("\n"));
    }
}

/// A small import to break: two days of the sample as Parquet.
fn two_days(work: &Path) -> (PathBuf, Vec<(String, Vec<RecordBatch>)>) {
    let shards: Vec<_> = shards(app_web()).into_iter().take(2).collect();
    let files = work.join("files");
    export_parquet(&files, &shards);
    (files, shards)
}

fn total_rows(dir: &Path) -> i64 {
    let warehouse = EmbeddedWarehouse::open(&EmbeddedConfig::new(dir)).unwrap();
    let result = query(
        &warehouse,
        &format!("SELECT COUNT(*) AS n FROM `{DATASET}.events_*`"),
    )
    .unwrap();
    result.rows[0][0].as_f64().unwrap() as i64
}

#[test]
fn reimporting_a_day_replaces_it() {
    let work = tempfile::tempdir().unwrap();
    let (files, shards) = two_days(work.path());
    let expected: usize = shards
        .iter()
        .flat_map(|(_, b)| b)
        .map(|b| b.num_rows())
        .sum();
    let into = work.path().join("data");
    let first = import(&into, std::slice::from_ref(&files)).unwrap();
    assert!(first.days.iter().all(|d| !d.replaced));
    assert_eq!(total_rows(&into), expected as i64);
    let again = import(&into, &[files.join(&shards[0].0)]).unwrap();
    assert_eq!(again.days.len(), 1);
    assert!(again.days[0].replaced);
    assert_eq!(
        total_rows(&into),
        expected as i64,
        "the day was added twice"
    );
    // The replaced day's old file is gone; only the manifest's files remain.
    let manifest = Manifest::load(&into).unwrap();
    let mut on_disk: Vec<String> = fs::read_dir(into.join("parquet"))
        .unwrap()
        .map(|e| format!("parquet/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = manifest.shards.iter().map(|s| s.file.clone()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn bad_files_are_refused_by_name_and_reason_and_the_earlier_import_stays() {
    let work = tempfile::tempdir().unwrap();
    let (files, shards) = two_days(work.path());
    let into = work.path().join("data");
    import(&into, std::slice::from_ref(&files)).unwrap();
    let before = fs::read(into.join("manifest.json")).unwrap();
    let rows_before = total_rows(&into);

    let first_file = files.join(&shards[0].0).join("000000000000.parquet");
    let bytes = fs::read(&first_file).unwrap();
    let bad = work.path().join("bad");
    fs::create_dir_all(&bad).unwrap();

    let truncated = bad.join(format!("{}.parquet", shards[0].0));
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    // A day's rows under another day's name.
    let wrong_day = bad.join(format!("events_{}.parquet", "20201230"));
    fs::copy(&first_file, &wrong_day).unwrap();
    // JSON rows of something that is not a GA4 export.
    let wrong_schema = bad.join("events_20201101.json");
    fs::write(&wrong_schema, "{\"order_id\": 1, \"total\": 9.5}\n").unwrap();
    let not_data = bad.join("notes.txt");
    fs::write(&not_data, "exported on monday\n").unwrap();
    let empty = bad.join("events_20201101.avro");
    fs::write(&empty, "").unwrap();
    // INT64 column holding words.
    let words = bad.join("events_20201101.ndjson");
    fs::write(
        &words,
        "{\"event_date\": \"20201101\", \"event_timestamp\": \"soon\", \"event_name\": \"x\"}\n",
    )
    .unwrap();

    for (file, reason) in [
        (&truncated, "unreadable"),
        (&wrong_day, "wrong day"),
        (
            &wrong_schema,
            "lacks column(s) event_date, event_timestamp, event_name",
        ),
        (
            &not_data,
            "not a Parquet, Avro or newline-delimited JSON file",
        ),
        (&empty, "empty"),
        (&words, "unreadable"),
    ] {
        // The bad file after a good one: the good one must not land either.
        let err = import(&into, &[files.join(&shards[1].0), file.clone()]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&file.display().to_string()) && message.contains(reason),
            "{}: {message}",
            file.display()
        );
        assert_eq!(nlq_core::Classify::class(&err), nlq_core::ErrorClass::User);
        assert_eq!(fs::read(into.join("manifest.json")).unwrap(), before);
        assert_eq!(total_rows(&into), rows_before);
        assert!(!into.join("parquet/.import-staging").exists());
    }

    // Another dataset, or a generated sample, is not imported over.
    let err = embedded::import(
        &into,
        std::slice::from_ref(&files),
        &ImportConfig::parse("other-project.analytics_1").unwrap(),
        &|_, _, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("holds an import of"), "{err}");
    let err = import(app_web(), std::slice::from_ref(&files)).unwrap_err();
    assert!(
        err.to_string().contains("generated app-web sample"),
        "{err}"
    );
}
