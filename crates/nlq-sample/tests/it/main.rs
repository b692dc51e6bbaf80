//! End-to-end checks of generated samples: files, schema, determinism, the GA4 invariants the
//! semantic layer relies on, and the manifest's byte accounting. Small scales keep them fast.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::Path;
use std::sync::Mutex;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use nlq_core::{Classify, ErrorClass};
use nlq_sample::{
    DAYS, FIRST_DAY, Manifest, Progress, SampleConfig, SampleError, events_arrow_schema, generate,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tempfile::TempDir;

fn sample(seed: u64, scale: f64) -> (TempDir, Manifest) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(
        &SampleConfig {
            seed,
            scale,
            ..SampleConfig::default()
        },
        dir.path(),
        &|_| {},
    )
    .unwrap();
    (dir, manifest)
}

fn batches(dir: &Path, file: &str) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(dir.join(file)).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(|b| b.unwrap()).collect()
}

/// One event row, with what the checks need.
#[derive(Debug)]
struct Row {
    table: String,
    date: String,
    timestamp: i64,
    name: String,
    user: String,
    params: Vec<(String, Option<String>, Option<i64>)>,
    device_category: String,
    transaction_id: Option<String>,
    revenue: Option<f64>,
    shipping: Option<f64>,
    tax: Option<f64>,
    item_names: Vec<String>,
    item_revenues: Vec<Option<f64>>,
    hostname: Option<String>,
}

impl Row {
    fn int(&self, key: &str) -> Option<i64> {
        self.params.iter().find(|p| p.0 == key).and_then(|p| p.2)
    }

    fn string(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.0 == key)
            .and_then(|p| p.1.as_deref())
    }

    fn session(&self) -> (String, i64) {
        (
            self.user.clone(),
            self.int("ga_session_id")
                .expect("every event has ga_session_id"),
        )
    }
}

fn rows(dir: &Path, manifest: &Manifest) -> Vec<Row> {
    let mut out = Vec::new();
    for shard in &manifest.shards {
        for batch in batches(dir, &shard.file) {
            let col = |name: &str| batch.column_by_name(name).unwrap().clone();
            let dates = col("event_date");
            let dates = dates.as_string::<i32>();
            let timestamps = col("event_timestamp");
            let timestamps = timestamps.as_primitive::<Int64Type>();
            let names = col("event_name");
            let names = names.as_string::<i32>();
            let users = col("user_pseudo_id");
            let users = users.as_string::<i32>();
            let params = col("event_params");
            let params = params.as_list::<i32>();
            let elements = params.values().as_struct();
            let keys = elements.column_by_name("key").unwrap().as_string::<i32>();
            let values = elements.column_by_name("value").unwrap().as_struct();
            let strings = values
                .column_by_name("string_value")
                .unwrap()
                .as_string::<i32>();
            let ints = values
                .column_by_name("int_value")
                .unwrap()
                .as_primitive::<Int64Type>();
            let device = col("device");
            let category = device
                .as_struct()
                .column_by_name("category")
                .unwrap()
                .as_string::<i32>()
                .clone();
            let ecommerce = col("ecommerce");
            let ecommerce = ecommerce.as_struct();
            let transaction = ecommerce
                .column_by_name("transaction_id")
                .unwrap()
                .as_string::<i32>();
            let float = |name: &str| {
                ecommerce
                    .column_by_name(name)
                    .unwrap()
                    .as_primitive::<Float64Type>()
                    .clone()
            };
            let (revenue, shipping, tax) = (
                float("purchase_revenue"),
                float("shipping_value"),
                float("tax_value"),
            );
            let items = col("items");
            let items = items.as_list::<i32>();
            let item_values = items.values().as_struct();
            let item_names = item_values
                .column_by_name("item_name")
                .unwrap()
                .as_string::<i32>();
            let item_revenue = item_values
                .column_by_name("item_revenue")
                .unwrap()
                .as_primitive::<Float64Type>();
            let dims = col("event_dimensions");
            let dims = dims.as_struct();
            let hostnames = dims.column_by_name("hostname").unwrap().as_string::<i32>();
            let opt_f =
                |a: &arrow::array::Float64Array, i: usize| a.is_valid(i).then(|| a.value(i));
            for r in 0..batch.num_rows() {
                let (p0, p1) = (
                    params.value_offsets()[r] as usize,
                    params.value_offsets()[r + 1] as usize,
                );
                let (i0, i1) = (
                    items.value_offsets()[r] as usize,
                    items.value_offsets()[r + 1] as usize,
                );
                out.push(Row {
                    table: shard.table.clone(),
                    date: dates.value(r).to_owned(),
                    timestamp: timestamps.value(r),
                    name: names.value(r).to_owned(),
                    user: users.value(r).to_owned(),
                    params: (p0..p1)
                        .map(|j| {
                            (
                                keys.value(j).to_owned(),
                                strings.is_valid(j).then(|| strings.value(j).to_owned()),
                                ints.is_valid(j).then(|| ints.value(j)),
                            )
                        })
                        .collect(),
                    device_category: category.value(r).to_owned(),
                    transaction_id: transaction
                        .is_valid(r)
                        .then(|| transaction.value(r).to_owned()),
                    revenue: opt_f(&revenue, r),
                    shipping: opt_f(&shipping, r),
                    tax: opt_f(&tax, r),
                    item_names: (i0..i1).map(|j| item_names.value(j).to_owned()).collect(),
                    item_revenues: (i0..i1).map(|j| opt_f(item_revenue, j)).collect(),
                    hostname: (dims.is_valid(r) && hostnames.is_valid(r))
                        .then(|| hostnames.value(r).to_owned()),
                });
            }
        }
    }
    out
}

#[test]
fn writes_92_daily_shards_and_a_manifest() {
    let (dir, manifest) = sample(1, 0.003);
    assert_eq!(manifest.shards.len(), DAYS as usize);
    assert_eq!(manifest.shards[0].table, format!("events_{FIRST_DAY}"));
    assert_eq!(manifest.shards[91].table, "events_20210131");
    assert_eq!(manifest.users, 810);
    assert!(manifest.sessions > manifest.users);
    for shard in &manifest.shards {
        let path = dir.path().join(&shard.file);
        assert_eq!(shard.file, format!("parquet/{}.parquet", shard.table));
        assert_eq!(fs::metadata(&path).unwrap().len(), shard.file_bytes);
        let read: usize = batches(dir.path(), &shard.file)
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(read as u64, shard.rows, "{}", shard.table);
    }
    assert_eq!(
        manifest.rows,
        manifest.shards.iter().map(|s| s.rows).sum::<u64>()
    );
    assert_eq!(Manifest::load(dir.path()).unwrap(), manifest);
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("parquet"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn parquet_schema_is_the_events_schema() {
    let (dir, manifest) = sample(2, 0.001);
    let expected = events_arrow_schema().unwrap();
    assert_eq!(expected.fields().len(), 23);
    for shard in [&manifest.shards[0], &manifest.shards[45]] {
        let builder = ParquetRecordBatchReaderBuilder::try_new(
            File::open(dir.path().join(&shard.file)).unwrap(),
        )
        .unwrap();
        assert_eq!(
            builder.schema().fields(),
            expected.fields(),
            "{}",
            shard.table
        );
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let (a_dir, a) = sample(42, 0.002);
    let (b_dir, b) = sample(42, 0.002);
    assert_eq!(a, b);
    for shard in &a.shards {
        let fa = fs::read(a_dir.path().join(&shard.file)).unwrap();
        let fb = fs::read(b_dir.path().join(&shard.file)).unwrap();
        assert!(fa == fb, "{} differs between runs", shard.table);
    }
    let (c_dir, c) = sample(43, 0.002);
    assert_ne!(a.rows, c.rows);
    let differing = a
        .shards
        .iter()
        .filter(|s| {
            fs::read(a_dir.path().join(&s.file)).unwrap()
                != fs::read(c_dir.path().join(&s.file)).unwrap()
        })
        .count();
    assert!(differing > 80, "only {differing} shards differ");
}

#[test]
fn sessions_follow_ga4_rules() {
    let (dir, manifest) = sample(3, 0.004);
    let rows = rows(dir.path(), &manifest);
    let mut starts: HashMap<(String, i64), usize> = HashMap::new();
    let mut first_visits: HashMap<(String, i64), usize> = HashMap::new();
    let mut numbers: HashMap<(String, i64), i64> = HashMap::new();
    let mut last_time: HashMap<(String, i64), i64> = HashMap::new();
    for row in &rows {
        assert_eq!(format!("events_{}", row.date), row.table);
        let day_start = day_start(&row.date);
        assert!(
            (day_start..day_start + 86_400_000_000).contains(&row.timestamp),
            "{row:?}"
        );
        let key = row.session();
        if let Some(previous) = last_time.insert(key.clone(), row.timestamp) {
            assert!(
                previous <= row.timestamp,
                "events of a session go forward in time"
            );
        }
        let number = row.int("ga_session_number").unwrap();
        assert_eq!(*numbers.entry(key.clone()).or_insert(number), number);
        assert!(
            row.string("page_location")
                .unwrap()
                .starts_with("https://shop.googlemerchandisestore.com/")
        );
        match row.name.as_str() {
            "session_start" => *starts.entry(key).or_default() += 1,
            "first_visit" => *first_visits.entry(key).or_default() += 1,
            _ => {}
        }
    }
    assert_eq!(
        starts.len(),
        numbers.len(),
        "every session has a session_start"
    );
    assert!(
        starts.values().all(|&n| n == 1),
        "exactly one session_start per session"
    );
    for (key, number) in &numbers {
        let visits = first_visits.get(key).copied().unwrap_or(0);
        assert_eq!(visits, usize::from(*number == 1), "{key:?} number {number}");
    }
    let users: HashSet<&str> = rows.iter().map(|r| r.user.as_str()).collect();
    assert_eq!(users.len() as u64, manifest.users);
    assert_eq!(numbers.len() as u64, manifest.sessions);
    // Most users are new in the window; some were known before it.
    let new_users = first_visits.len() as f64 / users.len() as f64;
    assert!((0.85..0.97).contains(&new_users), "{new_users}");
    // session_engaged is mostly a string; a few rows carry the integer 1.
    let flags: Vec<&(String, Option<String>, Option<i64>)> = rows
        .iter()
        .flat_map(|r| &r.params)
        .filter(|p| p.0 == "session_engaged")
        .collect();
    let ints = flags.iter().filter(|p| p.2 == Some(1)).count() as f64 / flags.len() as f64;
    assert!((0.005..0.03).contains(&ints), "int share {ints}");
    assert!(flags.iter().all(|p| p.1.is_some() != p.2.is_some()));
}

fn day_start(date: &str) -> i64 {
    let day = (0..DAYS as i64).find(|d| nth_date(*d) == date).unwrap();
    (1_604_188_800 + day * 86_400) * 1_000_000
}

/// YYYYMMDD of day `d` after 2020-11-01 (November 30 days, December 31, January 31).
fn nth_date(d: i64) -> String {
    match d {
        0..=29 => format!("202011{:02}", d + 1),
        30..=60 => format!("202012{:02}", d - 29),
        _ => format!("202101{:02}", d - 60),
    }
}

#[test]
fn purchases_have_unique_ids_and_add_up() {
    let (dir, manifest) = sample(4, 0.01);
    let rows = rows(dir.path(), &manifest);
    let purchases: Vec<&Row> = rows.iter().filter(|r| r.name == "purchase").collect();
    let sessions: HashSet<(String, i64)> = rows.iter().map(Row::session).collect();
    let rate = purchases.len() as f64 / sessions.len() as f64;
    assert!(
        (0.012..0.035).contains(&rate),
        "purchases per session {rate}"
    );
    let ids: HashSet<&str> = purchases
        .iter()
        .map(|r| r.transaction_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids.len(), purchases.len(), "transaction ids are unique");
    for p in &purchases {
        let items: f64 = p.item_revenues.iter().map(|r| r.unwrap()).sum();
        let expected = items + p.shipping.unwrap() + p.tax.unwrap();
        assert!((p.revenue.unwrap() - expected).abs() < 0.005, "{p:?}");
        assert!(!p.item_names.is_empty());
    }
    for row in rows.iter().filter(|r| r.name != "purchase") {
        assert!(row.transaction_id.is_none() && row.revenue.is_none());
        assert!(
            row.item_revenues.iter().all(Option::is_none),
            "item_revenue is for purchases only"
        );
    }
    let carts = rows.iter().filter(|r| r.name == "add_to_cart").count();
    assert!(carts > purchases.len(), "more carts than orders");
}

#[test]
fn device_shares_match_the_public_sample() {
    let (dir, manifest) = sample(5, 0.01);
    let rows = rows(dir.path(), &manifest);
    let mut by_user: HashMap<&str, &str> = HashMap::new();
    for row in &rows {
        by_user.insert(&row.user, &row.device_category);
    }
    let share = |category: &str| {
        by_user.values().filter(|c| **c == category).count() as f64 / by_user.len() as f64
    };
    assert!(
        (share("desktop") - 0.58).abs() < 0.035,
        "desktop {}",
        share("desktop")
    );
    assert!(
        (share("mobile") - 0.40).abs() < 0.035,
        "mobile {}",
        share("mobile")
    );
    assert!(
        share("tablet") > 0.005 && share("tablet") < 0.04,
        "tablet {}",
        share("tablet")
    );
}

#[test]
fn column_bytes_match_a_recomputation() {
    let (dir, manifest) = sample(6, 0.003);
    let leaf_paths = nlq_core::ga4::events_schema().unwrap().leaf_paths();
    let rows = rows(dir.path(), &manifest);
    for shard in &manifest.shards {
        let keys: Vec<&String> = shard.column_bytes.keys().collect();
        let mut expected_keys: Vec<&String> = leaf_paths.iter().collect();
        expected_keys.sort();
        assert_eq!(keys, expected_keys, "one entry per leaf column");
    }
    let shard = manifest.shards.iter().max_by_key(|s| s.rows).unwrap();
    let day: Vec<&Row> = rows.iter().filter(|r| r.table == shard.table).collect();
    let text = |s: &str| 2 + s.len() as u64;
    let bytes = |path: &str| shard.column_bytes[path];
    let n = day.len() as u64;
    assert_eq!(bytes("event_date"), n * 10);
    assert_eq!(bytes("event_timestamp"), n * 8);
    assert_eq!(
        bytes("event_name"),
        day.iter().map(|r| text(&r.name)).sum::<u64>()
    );
    assert_eq!(
        bytes("user_pseudo_id"),
        day.iter().map(|r| text(&r.user)).sum::<u64>()
    );
    let params = || day.iter().flat_map(|r| &r.params);
    assert_eq!(
        bytes("event_params.key"),
        params().map(|p| text(&p.0)).sum::<u64>()
    );
    assert_eq!(
        bytes("event_params.value.string_value"),
        params()
            .filter_map(|p| p.1.as_deref())
            .map(text)
            .sum::<u64>()
    );
    assert_eq!(
        bytes("event_params.value.int_value"),
        8 * params().filter(|p| p.2.is_some()).count() as u64
    );
    assert_eq!(bytes("event_params.value.double_value"), 0);
    assert_eq!(
        bytes("items.item_name"),
        day.iter()
            .flat_map(|r| &r.item_names)
            .map(|s| text(s))
            .sum::<u64>()
    );
    let purchases = day.iter().filter(|r| r.revenue.is_some()).count() as u64;
    assert_eq!(bytes("ecommerce.purchase_revenue"), 8 * purchases);
    assert_eq!(
        bytes("event_dimensions.hostname"),
        day.iter()
            .filter_map(|r| r.hostname.as_deref())
            .map(text)
            .sum::<u64>()
    );
    assert_eq!(bytes("privacy_info.uses_transient_token"), n * text("No"));
    assert_eq!(bytes("user_id"), 0);
    assert_eq!(bytes("app_info.id"), 0);
    assert_eq!(bytes("user_properties.key"), 0);
    assert_eq!(bytes("stream_id"), n * 8);
}

#[test]
fn reports_progress_and_replaces_a_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = SampleConfig {
        seed: 7,
        scale: 0.001,
        ..SampleConfig::default()
    };
    let seen = Mutex::new(Vec::new());
    let first = generate(&config, dir.path(), &|p: Progress| {
        seen.lock().unwrap().push(p)
    })
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), DAYS as usize);
    assert!(
        seen.windows(2)
            .all(|w| w[0].done_days < w[1].done_days && w[0].rows_written <= w[1].rows_written)
    );
    let last = seen[seen.len() - 1];
    assert_eq!(
        (last.done_days, last.total_days, last.rows_written),
        (92, 92, first.rows)
    );

    // A second run into the same directory gives the same sample; without the manifest the
    // directory does not count as a sample.
    let second = generate(&config, dir.path(), &|_| {}).unwrap();
    assert_eq!(first, second);
    fs::remove_file(dir.path().join("manifest.json")).unwrap();
    let err = Manifest::load(dir.path()).unwrap_err();
    assert!(matches!(err, SampleError::Incomplete { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::User);
}

#[test]
fn invalid_scales_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    for scale in [0.0, -0.5, f64::NAN, 21.0] {
        let err = generate(
            &SampleConfig {
                seed: 1,
                scale,
                ..SampleConfig::default()
            },
            dir.path(),
            &|_| {},
        )
        .unwrap_err();
        assert!(matches!(err, SampleError::Config(_)), "{err}");
        assert_eq!(err.class(), ErrorClass::User);
    }
    assert!(!dir.path().join("manifest.json").exists());
}
