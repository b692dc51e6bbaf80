//! The warehouse a sync reads (the embedded sample or BigQuery, as `nlq` opens them), and the
//! validator that re-checks the verified examples on it.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use nlq_app::setup::{OpenOptions, Opened, WarehouseArgs};
use nlq_metasync::sync::ExampleCheck;
use nlq_validate::{Policy, Validator};

pub struct Settings {
    pub data_dir: PathBuf,
    pub as_of: Option<String>,
    /// BigQuery refuses a catalog query billing more than this itself.
    pub max_bytes: u64,
    /// A BigQuery job still running after this long is cancelled.
    pub timeout: Duration,
}

/// Opens the warehouse. It blocks (the embedded engine's files, BigQuery's set-up on a runtime
/// of its own), so an async caller runs it on the blocking pool.
pub fn open(args: &WarehouseArgs, settings: &Settings) -> anyhow::Result<(Opened, Validator)> {
    let opened = args.open(OpenOptions {
        data_dir: &settings.data_dir,
        as_of: settings.as_of.clone(),
        // MetaSync writes the document; it never reads one.
        metadata: None,
        prepare: false,
        build_in_background: false,
        maximum_bytes_billed: settings.max_bytes,
        timeout: settings.timeout,
    })?;
    let validator = opened.validator(example_policy(&opened.project, &opened.dataset))?;
    Ok((opened, validator))
}

/// The examples are checked, not answered: the dry run and the `LIMIT 0` schema step say
/// whether they still fit the data, at no cost. No canary and no plan.
fn example_policy(project: &str, dataset: &str) -> Policy {
    let mut policy = Policy::for_dataset(project, dataset);
    policy.dry_run_only = true;
    policy.explain = false;
    policy
}

/// `ExampleCheck` through the validation pipeline every query passes.
pub struct ValidatorCheck<'a>(pub &'a Validator);

#[async_trait]
impl ExampleCheck for ValidatorCheck<'_> {
    async fn check(&self, sql: &str) -> Result<u64, String> {
        let report = self.0.check(sql).await;
        if report.passed() {
            return Ok(report.cost.map_or(0, |cost| cost.bytes_processed));
        }
        Err(report.first_error().map_or_else(
            || "it did not pass validation".to_owned(),
            |finding| finding.message.clone(),
        ))
    }
}
