//! The job's own metrics, in Prometheus text, written after every run to the file
//! `--metrics-file` names (node_exporter's textfile collector reads such files; a scheduler
//! can push it to a Pushgateway). Written to a temporary file and renamed: a collector never
//! reads half a file.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// What a run that wrote a version reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ran {
    pub shards: usize,
    pub examples: usize,
    pub warnings: usize,
    pub document_bytes: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    result: &'static str,
}

pub struct RunMetrics {
    registry: Registry,
    runs: Family<Outcome, Counter>,
    last_run: Gauge<f64, AtomicU64>,
    last_success: Gauge<f64, AtomicU64>,
    duration: Gauge<f64, AtomicU64>,
    succeeded: Gauge,
    shards: Gauge,
    examples: Gauge,
    warnings: Gauge,
    document_bytes: Gauge,
}

impl RunMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("nlq_metasync");
        let metrics = RunMetrics {
            registry: Registry::default(),
            runs: Family::default(),
            last_run: Gauge::default(),
            last_success: Gauge::default(),
            duration: Gauge::default(),
            succeeded: Gauge::default(),
            shards: Gauge::default(),
            examples: Gauge::default(),
            warnings: Gauge::default(),
            document_bytes: Gauge::default(),
        };
        registry.register("runs", "Runs by result (ok, failed)", metrics.runs.clone());
        registry.register(
            "last_run_timestamp_seconds",
            "When the last run ended (Unix time)",
            metrics.last_run.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "When the last run that wrote a version ended (Unix time)",
            metrics.last_success.clone(),
        );
        registry.register(
            "last_run_duration_seconds",
            "How long the last run took",
            metrics.duration.clone(),
        );
        registry.register(
            "last_run_success",
            "1 when the last run wrote a version, 0 when it failed",
            metrics.succeeded.clone(),
        );
        registry.register(
            "shards",
            "Shards the latest version describes",
            metrics.shards.clone(),
        );
        registry.register(
            "examples",
            "Verified examples in the latest version",
            metrics.examples.clone(),
        );
        registry.register(
            "warnings",
            "Warnings of the last run that wrote a version",
            metrics.warnings.clone(),
        );
        registry.register(
            "document_bytes",
            "Size of the latest version",
            metrics.document_bytes.clone(),
        );
        RunMetrics {
            registry,
            ..metrics
        }
    }

    pub fn record(&self, outcome: Option<Ran>, seconds: f64) {
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        self.last_run.set(now);
        self.duration.set(seconds);
        let result = if outcome.is_some() { "ok" } else { "failed" };
        self.runs.get_or_create(&Outcome { result }).inc();
        self.succeeded.set(i64::from(outcome.is_some()));
        if let Some(ran) = outcome {
            self.last_success.set(now);
            self.shards.set(ran.shards as i64);
            self.examples.set(ran.examples as i64);
            self.warnings.set(ran.warnings as i64);
            self.document_bytes
                .set(i64::try_from(ran.document_bytes).unwrap_or(i64::MAX));
        }
    }

    pub fn text(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Replaces `path` with the current figures.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let temporary = PathBuf::from(format!("{}.tmp", path.display()));
        std::fs::write(&temporary, self.text())
            .with_context(|| format!("writing the run metrics to {}", temporary.display()))?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("writing the run metrics to {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_keeps_the_last_success_figures() {
        let metrics = RunMetrics::new();
        let ran = Ran {
            shards: 92,
            examples: 40,
            warnings: 1,
            document_bytes: 2048,
        };
        metrics.record(Some(ran), 1.5);
        metrics.record(None, 0.25);
        let text = metrics.text();
        for line in [
            "nlq_metasync_runs_total{result=\"ok\"} 1",
            "nlq_metasync_runs_total{result=\"failed\"} 1",
            "nlq_metasync_last_run_success 0",
            "nlq_metasync_last_run_duration_seconds 0.25",
            "nlq_metasync_shards 92",
            "nlq_metasync_document_bytes 2048",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nlq-metasync.prom");
        metrics.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}
