//! The warehouse a sync reads, and the validator that re-checks the verified examples on it.
//! One arm per warehouse: BigQuery joins the embedded engine as another `WarehouseKind`.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use clap::ValueEnum;
use nlq_core::Warehouse;
use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_metasync::sync::ExampleCheck;
use nlq_validate::{DatasetFacts, Policy, StandardParams, Validator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WarehouseKind {
    /// DuckDB over the GA4 sample in --data-dir.
    Embedded,
}

/// What the embedded-or-other choice comes down to.
pub struct Opened {
    pub warehouse: Arc<dyn Warehouse>,
    pub project: String,
    pub dataset: String,
    pub validator: Validator,
}

pub struct Settings<'a> {
    pub data_dir: &'a Path,
    pub as_of: Option<String>,
}

pub fn open(kind: WarehouseKind, settings: Settings<'_>) -> anyhow::Result<Opened> {
    match kind {
        WarehouseKind::Embedded => {
            let mut config = EmbeddedConfig::new(settings.data_dir);
            config.as_of = settings.as_of;
            // Never `prepare`: a scheduled job that found no data should say so, not spend
            // minutes generating a sample nobody asked for.
            let warehouse = Arc::new(EmbeddedWarehouse::open(&config)?);
            let facts = DatasetFacts {
                tables: warehouse.catalog().tables.clone(),
                today: warehouse.catalog().current_date.clone(),
            };
            let validator = Validator::new(
                warehouse.clone(),
                example_policy(&config.project, &config.dataset),
                facts,
                Arc::new(StandardParams),
            )?;
            Ok(Opened {
                warehouse,
                project: config.project,
                dataset: config.dataset,
                validator,
            })
        }
    }
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
