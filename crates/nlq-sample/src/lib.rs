//! nlq-sample: a synthetic GA4 e-commerce export shaped like BigQuery's public
//! `ga4_obfuscated_sample_ecommerce` (the Google Merchandise Store, 2020-11-01 .. 2021-01-31),
//! so nlq's SQL can run offline against the same tables, columns and kinds of values.
//!
//! ```text
//!   catalog     products, listings, promotions, the site's pages (fixed for every seed)
//!   audience    geo, device and traffic-source tables with the sample's shares
//!   calendar    the 92 UTC days, weekday / season / hour-of-day rhythm
//!   population  users and their sessions (cheap, sequential, seeded per user)
//!   journey     the pages a session visits and when
//!   events      one session's event stream (seeded per session)
//!   writer      Arrow batches and atomic Parquet files
//!   logical_bytes  BigQuery's billing size of every leaf column
//!   shard       one day = one Parquet file; days run in parallel
//!   manifest    manifest.json, written last: its presence marks a complete sample
//!   import      a property's own export files (Parquet, Avro, JSON) into the same layout
//! ```
//!
//! Output layout: `<out>/parquet/events_YYYYMMDD.parquet` (92 files) and `<out>/manifest.json`.
//! `Profile::AppWeb` (`app_web.rs`) generates another property instead: web and app streams,
//! custom events and user properties, missing days and an intraday table.
//! The same seed and scale give the same files byte for byte, whatever the thread count.

mod app_web;
mod arrow_schema;
mod audience;
mod calendar;
mod catalog;
mod error;
mod events;
mod import;
mod journey;
mod logical_bytes;
mod manifest;
mod population;
mod profile;
mod random;
mod shard;
mod writer;

use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

pub use arrow_schema::events_arrow_schema;
pub use calendar::{DAYS, FIRST_DAY};
pub use error::SampleError;
pub use import::{ImportConfig, ImportReport, ImportedDay, import};
pub use manifest::{Manifest, ShardManifest};
pub use profile::Profile;

use catalog::Catalog;
use population::{Population, USERS_AT_FULL_SCALE};
pub use shard::PARQUET_DIR;
use shard::{ShardContext, write_shard};

/// What to generate. `scale` multiplies the number of users: 1.0 is about the public sample
/// (270k users, 360k sessions, 4.3M events); tests use 0.001 .. 0.01.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleConfig {
    pub seed: u64,
    pub scale: f64,
    pub profile: Profile,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            seed: 20_201_101,
            scale: 1.0,
            profile: Profile::PublicSample,
        }
    }
}

/// Largest accepted scale: 20x the public sample already needs several GB of memory.
const MAX_SCALE: f64 = 20.0;

impl SampleConfig {
    fn users(&self) -> Result<usize, SampleError> {
        self.users_of(USERS_AT_FULL_SCALE)
    }

    /// Users at this scale of a profile with `full` users at scale 1.
    fn users_of(&self, full: f64) -> Result<usize, SampleError> {
        if !self.scale.is_finite() || self.scale <= 0.0 || self.scale > MAX_SCALE {
            return Err(SampleError::Config(format!(
                "scale must be a number above 0 and at most {MAX_SCALE} (1.0 = the size of the public sample), got {}",
                self.scale
            )));
        }
        Ok((full * self.scale).round().max(1.0) as usize)
    }
}

/// Reported after each finished day, from the worker that finished it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done_days: usize,
    pub total_days: usize,
    pub rows_written: u64,
}

/// Generates the sample into `out` (created if needed) and returns its manifest.
///
/// A previous manifest in `out` is removed first, and the new one is written only after every
/// shard is in place, so an interrupted run leaves a directory `Manifest::load` refuses.
pub fn generate(
    config: &SampleConfig,
    out: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Manifest, SampleError> {
    match config.profile {
        Profile::AppWeb => return app_web::generate(config, out, progress),
        Profile::Export => {
            return Err(SampleError::Config(
                "the export profile is what `nlq data import` writes; it cannot be generated"
                    .to_owned(),
            ));
        }
        Profile::PublicSample => {}
    }
    let users = config.users()?;
    prepare_output(out)?;
    let schema = events_arrow_schema()?;
    let leaf_paths = nlq_core::ga4::events_schema()?.leaf_paths();
    let catalog = Catalog::new();
    let population = Population::simulate(config.seed, users, &catalog);
    let ctx = ShardContext {
        catalog: &catalog,
        population: &population,
        schema,
        leaf_paths: &leaf_paths,
        out,
    };
    let shards = write_days(progress, |day| write_shard(&ctx, day).map(Some))?;
    let manifest = Manifest::new(
        config.seed,
        config.scale,
        population.users.len() as u64,
        population.sessions.len() as u64,
        shards,
    );
    manifest.write(out)?;
    Ok(manifest)
}

pub(crate) fn prepare_output(out: &Path) -> Result<(), SampleError> {
    if out.exists() && !out.is_dir() {
        return Err(SampleError::OutputPath {
            path: out.to_owned(),
            reason: "it exists and is not a directory".into(),
        });
    }
    let parquet = out.join(PARQUET_DIR);
    fs::create_dir_all(&parquet).map_err(|e| SampleError::io(&parquet, e))?;
    let manifest = out.join(manifest::MANIFEST_FILE);
    match fs::remove_file(&manifest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SampleError::io(manifest, e)),
    }
}

/// Runs `write(day)` for every day of the window on all cores and returns the shards in date
/// order (a day whose `write` gives None has no table). Each day depends only on what was
/// simulated before, so the threads share nothing but a day counter and the results.
pub(crate) fn write_days(
    progress: &(dyn Fn(Progress) + Sync),
    write: impl Fn(u32) -> Result<Option<ShardManifest>, SampleError> + Sync,
) -> Result<Vec<ShardManifest>, SampleError> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, DAYS as usize);
    let next_day = AtomicU32::new(0);
    let failed = AtomicBool::new(false);
    struct Done {
        shards: Vec<Option<ShardManifest>>,
        days: usize,
        rows: u64,
        error: Option<SampleError>,
    }
    let done = Mutex::new(Done {
        shards: vec![None; DAYS as usize],
        days: 0,
        rows: 0,
        error: None,
    });
    let panicked = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let day = next_day.fetch_add(1, Ordering::Relaxed);
                        if day >= DAYS || failed.load(Ordering::Relaxed) {
                            return;
                        }
                        let result = write(day);
                        let mut done = done
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        match result {
                            Ok(shard) => {
                                done.days += 1;
                                done.rows += shard.as_ref().map_or(0, |s| s.rows);
                                done.shards[day as usize] = shard;
                                progress(Progress {
                                    done_days: done.days,
                                    total_days: DAYS as usize,
                                    rows_written: done.rows,
                                });
                            }
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                done.error.get_or_insert(e);
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join()).any(|r| r.is_err())
    });
    let done = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(error) = done.error {
        return Err(error);
    }
    if panicked || done.days != DAYS as usize {
        return Err(SampleError::WorkerPanicked);
    }
    Ok(done.shards.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use nlq_core::{Classify, ErrorClass};

    use super::*;

    #[test]
    fn rejects_scales_out_of_range() {
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY, 20.5] {
            let err = SampleConfig {
                seed: 1,
                scale,
                ..SampleConfig::default()
            }
            .users()
            .unwrap_err();
            assert_eq!(err.class(), ErrorClass::User, "{scale}");
            assert!(err.to_string().contains("scale"), "{err}");
        }
        assert_eq!(
            SampleConfig {
                seed: 1,
                scale: 1.0,
                ..SampleConfig::default()
            }
            .users()
            .unwrap(),
            270_000
        );
        assert_eq!(
            SampleConfig {
                seed: 1,
                scale: 1e-9,
                ..SampleConfig::default()
            }
            .users()
            .unwrap(),
            1
        );
    }

    #[test]
    fn refuses_a_file_as_output_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = generate(
            &SampleConfig {
                seed: 1,
                scale: 0.001,
                ..SampleConfig::default()
            },
            &file,
            &|_| {},
        )
        .unwrap_err();
        assert!(matches!(err, SampleError::OutputPath { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::User);
    }
}
