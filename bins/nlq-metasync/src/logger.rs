//! Structured logs on stderr, one line per event: `text` for people at a terminal, `json` for
//! log collectors (Cloud Logging reads `level` as the severity and `msg` as the message). The
//! progress bar, on a terminal only, is fed by the sync's events.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use chrono::{SecondsFormat, Utc};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use nlq_metasync::sync::SyncEvent;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Text for a person watching, JSON for whatever collects a scheduled job's stderr.
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

pub struct Logger {
    format: LogFormat,
    /// Hidden unless stderr is a terminal; log lines are printed around it, never through it.
    bar: ProgressBar,
    // One line at a time: the sync's events may come from any task.
    out: Mutex<()>,
}

impl Logger {
    pub fn new(format: LogFormat) -> Self {
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
        Logger {
            format,
            bar,
            out: Mutex::new(()),
        }
    }

    pub fn info(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Info, msg, fields);
    }

    pub fn warn(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Warn, msg, fields);
    }

    pub fn error(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Error, msg, fields);
    }

    pub fn log(&self, level: Level, msg: &str, fields: &[(&str, Value)]) {
        let line = render(
            self.format,
            &Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            level,
            msg,
            fields,
        );
        let _one_at_a_time = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.bar.suspend(|| {
            // Nowhere left to report a failure to write to stderr.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        });
    }

    /// What the sync reports: steps and warnings as log lines, progress on the bar.
    pub fn sync_event(&self, event: &SyncEvent) {
        match event {
            SyncEvent::Step { name, total } => {
                self.bar.reset();
                self.bar.set_length(*total as u64);
                self.bar.set_message(*name);
                self.info(
                    "step",
                    &[("step", (*name).into()), ("total", (*total).into())],
                );
            }
            SyncEvent::Advance => self.bar.inc(1),
            SyncEvent::Warning(message) => self.warn(message, &[]),
        }
    }

    pub fn finish_progress(&self) {
        self.bar.finish_and_clear();
    }
}

/// `2026-11-22T07:37:00.123Z WARN msg key=value` or one JSON object.
fn render(
    format: LogFormat,
    ts: &str,
    level: Level,
    msg: &str,
    fields: &[(&str, Value)],
) -> String {
    match format {
        LogFormat::Json => {
            // By hand, so `ts`, `level` and `msg` lead the line for a person reading it raw.
            let text = |s: &str| Value::from(s).to_string();
            let mut line = format!(
                "{{\"ts\":{},\"level\":{},\"msg\":{}",
                text(ts),
                text(level.as_str()),
                text(msg)
            );
            for (key, value) in fields {
                line.push_str(&format!(",{}:{value}", text(key)));
            }
            line.push('}');
            line
        }
        LogFormat::Text => {
            let mut line = format!("{ts} {:5} {msg}", level.as_str().to_ascii_uppercase());
            for (key, value) in fields {
                match value {
                    Value::String(text) if !text.contains(char::is_whitespace) => {
                        line.push_str(&format!(" {key}={text}"));
                    }
                    other => line.push_str(&format!(" {key}={other}")),
                }
            }
            line
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_in_both_formats() {
        let fields = [
            ("version", json!("20261122T073700.123456Z-0123456789abcdef")),
            ("pruned", json!(["a", "b"])),
            ("note", json!("two words")),
        ];
        let line = render(
            LogFormat::Json,
            "2026-11-22T07:37:00.000Z",
            Level::Warn,
            "wrote",
            &fields,
        );
        assert!(
            line.starts_with(r#"{"ts":"2026-11-22T07:37:00.000Z","level":"warn","msg":"wrote","#)
        );
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            value,
            json!({"ts": "2026-11-22T07:37:00.000Z", "level": "warn", "msg": "wrote",
                "version": "20261122T073700.123456Z-0123456789abcdef", "pruned": ["a", "b"],
                "note": "two words"})
        );
        assert_eq!(
            render(
                LogFormat::Text,
                "2026-11-22T07:37:00.000Z",
                Level::Info,
                "wrote",
                &fields
            ),
            "2026-11-22T07:37:00.000Z INFO  wrote \
             version=20261122T073700.123456Z-0123456789abcdef pruned=[\"a\",\"b\"] \
             note=\"two words\""
        );
    }
}
