//! `manifest.json`: what a finished run wrote, and how big each column is by BigQuery's rule.
//!
//! It is written last, atomically, so its presence means the run completed. The per-leaf byte
//! counts let the embedded engine answer dry runs with the bytes BigQuery would bill for the
//! same query, without reading the data.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::SampleError;

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub seed: u64,
    pub scale: f64,
    /// `YYYYMMDD` of the first shard.
    pub first_day: String,
    pub days: u32,
    /// Users and sessions simulated; every one of them has events in the window.
    pub users: u64,
    pub sessions: u64,
    /// Rows over all shards.
    pub rows: u64,
    /// One per day that has a table, in date order.
    pub shards: Vec<ShardManifest>,
    /// The profile generated; absent for the public sample (so its manifest is as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::Profile>,
    /// `project.dataset` the tables were exported from; set by `nlq data import`, absent for a
    /// generated sample (its profile names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
}

impl Manifest {
    /// The profile the sample imitates.
    pub fn profile(&self) -> crate::Profile {
        self.profile.unwrap_or_default()
    }

    /// The `(project, dataset)` queries name: an import's own, or the profile's.
    pub fn dataset_name(&self) -> (String, String) {
        let profile = self.profile();
        self.dataset
            .as_deref()
            .and_then(|name| name.split_once('.'))
            .map(|(p, d)| (p.to_owned(), d.to_owned()))
            .unwrap_or_else(|| (profile.project().to_owned(), profile.dataset().to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// `events_YYYYMMDD`, or `events_intraday_YYYYMMDD` for a day still being exported.
    pub table: String,
    /// Path of the Parquet file, relative to the sample directory.
    pub file: String,
    pub rows: u64,
    /// Size of the Parquet file on disk.
    pub file_bytes: u64,
    /// BigQuery logical bytes per leaf column path (`event_params.value.int_value`), summed
    /// over all rows and array elements of the shard.
    pub column_bytes: BTreeMap<String, u64>,
}

impl ShardManifest {
    /// Logical bytes of the whole shard: what `SELECT *` over it would bill.
    pub fn logical_bytes(&self) -> u64 {
        self.column_bytes.values().sum()
    }
}

impl Manifest {
    /// Reads the manifest of a finished run; a directory without one holds no usable sample.
    pub fn load(dir: &Path) -> Result<Manifest, SampleError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(SampleError::Incomplete {
                    path: dir.to_owned(),
                    reason: format!("{MANIFEST_FILE} is missing (generation never finished here)"),
                });
            }
            Err(e) => return Err(SampleError::io(path, e)),
        };
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| SampleError::Incomplete {
                path: path.clone(),
                reason: format!("unreadable manifest: {e}"),
            })?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(SampleError::Incomplete {
                path,
                reason: format!(
                    "manifest format {} is not the supported {FORMAT_VERSION}: regenerate the sample",
                    manifest.format_version
                ),
            });
        }
        Ok(manifest)
    }

    /// The shard of a table (`events_20201101`).
    pub fn shard(&self, table: &str) -> Option<&ShardManifest> {
        self.shards.iter().find(|s| s.table == table)
    }

    pub(crate) fn new(
        seed: u64,
        scale: f64,
        users: u64,
        sessions: u64,
        shards: Vec<ShardManifest>,
    ) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            seed,
            scale,
            first_day: crate::calendar::FIRST_DAY.to_owned(),
            days: crate::calendar::DAYS,
            users,
            sessions,
            rows: shards.iter().map(|s| s.rows).sum(),
            shards,
            profile: None,
            dataset: None,
        }
    }

    /// Writes `manifest.json` through a temporary file and a rename.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), SampleError> {
        let path = dir.join(MANIFEST_FILE);
        let temporary = dir.join(format!(".{MANIFEST_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| SampleError::Shape(format!("manifest does not serialise: {e}")))?;
        fs::write(&temporary, text).map_err(|e| SampleError::io(&temporary, e))?;
        fs::rename(&temporary, &path).map_err(|e| SampleError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use nlq_core::{Classify, ErrorClass};

    use super::*;

    #[test]
    fn round_trips_and_finds_shards() {
        let dir = tempfile::tempdir().unwrap();
        let shard = ShardManifest {
            table: "events_20201101".into(),
            file: "parquet/events_20201101.parquet".into(),
            rows: 3,
            file_bytes: 100,
            column_bytes: BTreeMap::from([
                ("event_date".into(), 30),
                ("event_timestamp".into(), 24),
            ]),
        };
        let manifest = Manifest::new(1, 0.5, 2, 2, vec![shard]);
        manifest.write(dir.path()).unwrap();
        let loaded = Manifest::load(dir.path()).unwrap();
        assert_eq!(loaded, manifest);
        assert_eq!(loaded.rows, 3);
        assert_eq!(loaded.shard("events_20201101").unwrap().logical_bytes(), 54);
        assert!(loaded.shard("events_20201102").is_none());
    }

    #[test]
    fn a_directory_without_manifest_is_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::load(dir.path()).unwrap_err();
        assert!(matches!(err, SampleError::Incomplete { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::User);
        fs::write(dir.path().join(MANIFEST_FILE), "{").unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(SampleError::Incomplete { .. })
        ));
    }
}
