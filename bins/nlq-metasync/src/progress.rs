//! The sync's progress: steps and warnings become log lines, the work of a step advances a
//! bar. The bar shows on a terminal only, and log lines are printed around it, never through it.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use nlq_app::logging::{Sink, stderr_sink};
use nlq_metasync::sync::SyncEvent;

#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new() -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Progress { bar }
    }

    /// Where the log lines go: stderr, with the bar lifted while a line is written.
    pub fn sink(&self) -> Sink {
        let bar = self.bar.clone();
        let stderr = stderr_sink();
        Arc::new(move |line: &str| bar.suspend(|| stderr(line)))
    }

    pub fn sync_event(&self, event: &SyncEvent) {
        match event {
            SyncEvent::Step { name, total } => {
                self.bar.reset();
                self.bar.set_length(*total as u64);
                self.bar.set_message(*name);
                tracing::info!(step = *name, total = *total, "step");
            }
            SyncEvent::Advance => self.bar.inc(1),
            SyncEvent::Warning(message) => tracing::warn!("{message}"),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
