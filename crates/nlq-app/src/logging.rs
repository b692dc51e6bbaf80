//! One way the three binaries log: the libraries emit `tracing` events; this subscriber writes
//! each as one line on stderr, as text for a person at a terminal or as a JSON object whose
//! keys Cloud Logging reads (`severity`, `message`, `httpRequest`,
//! `logging.googleapis.com/trace`), with the fields of the spans the event happened in (the
//! server's request span gives every line of a request its `request_id`).
//!
//! Field names are the convention: `http.<key>` fields gather into `httpRequest` (Cloud
//! Logging's `requestMethod`, `requestUrl`, `status`, `latency`, ...), `trace` becomes the
//! trace key, everything else stays a top-level key.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use clap::ValueEnum;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
    /// The CLI's own: `warning: message`, no time, for the person who ran the command.
    #[value(skip)]
    Brief,
}

impl LogFormat {
    /// Text for a person watching, JSON for whatever collects a service's or a job's stderr.
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }
}

/// The flags every binary takes for its logs.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log lines on stderr: text or json [default: text on a terminal, json otherwise].
    #[arg(long, global = true, value_enum, env = "NLQ_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// The least severe of nlq's events written: error, warn, info, debug or trace (other
    /// crates' events only from warn).
    #[arg(long, global = true, env = "NLQ_LOG_LEVEL", default_value = "info", value_parser = parse_level)]
    pub log_level: LevelFilter,
    /// Also send traces (every request and question as spans) to this OpenTelemetry
    /// collector, over OTLP/HTTP: e.g. http://otel-collector:4318.
    #[arg(long, global = true, env = "NLQ_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

impl LogArgs {
    /// Installs the subscriber; `default` is the format when none was asked for, `service`
    /// names the process's traces. Fails only on an unusable `--otlp-endpoint`.
    pub fn init(
        &self,
        service: &'static str,
        default: LogFormat,
        sink: Sink,
    ) -> Result<(), String> {
        let tracer = match self.otlp_endpoint.as_deref().map(str::trim) {
            Some(endpoint) if !endpoint.is_empty() => {
                Some(crate::telemetry::tracer(endpoint, service)?)
            }
            _ => None,
        };
        install(
            self.log_format.unwrap_or(default),
            self.log_level,
            sink,
            tracer,
        );
        Ok(())
    }
}

/// Where finished lines go. The metadata job passes one that prints around its progress bar.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

pub fn stderr_sink() -> Sink {
    Arc::new(|line: &str| {
        // Nowhere left to report a failure to write to stderr.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    })
}

/// Parses `NLQ_LOG_LEVEL`-style text: error, warn, info, debug, trace or off.
pub fn parse_level(text: &str) -> Result<LevelFilter, String> {
    text.parse::<LevelFilter>().map_err(|_| {
        format!("log level {text:?} is not one of off, error, warn, info, debug, trace")
    })
}

/// Installs the process-wide subscriber: nlq's own events from `level` up, other crates'
/// (actix, reqwest, hyper) only when they warn. Called once, first thing in a main; a second
/// call leaves the first in place.
pub fn init(format: LogFormat, level: LevelFilter, sink: Sink) {
    install(format, level, sink, None);
}

/// `init`, with nlq's spans also going to `tracer` (OTLP) when there is one.
fn install(
    format: LogFormat,
    level: LevelFilter,
    sink: Sink,
    tracer: Option<opentelemetry_sdk::trace::Tracer>,
) {
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target("nlq", level);
    // Only nlq's own spans are traced: the HTTP clients' would be noise, and costly.
    let traces = tracer.map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(Targets::new().with_target("nlq", level))
    });
    let subscriber = tracing_subscriber::registry()
        .with(Lines::new(format, sink).with_filter(filter))
        .with(traces);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The layer that writes lines (public so tests can install it for one scope).
pub struct Lines {
    format: LogFormat,
    sink: Sink,
}

impl Lines {
    pub fn new(format: LogFormat, sink: Sink) -> Self {
        Lines { format, sink }
    }
}

/// A span's fields, kept on the span for the events inside it.
struct SpanFields(Map<String, Value>);

impl<S> Layer<S> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(SpanFields(kept)) => kept.extend(fields.0),
            None => extensions.insert(SpanFields(fields.0)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        // Outermost span first, so an inner span or the event itself wins a shared key.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(kept)) = span.extensions().get::<SpanFields>() {
                    fields.extend(kept.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let mut own = Fields::default();
        event.record(&mut own);
        fields.extend(own.0);
        let time = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let line = render(self.format, &time, *event.metadata().level(), fields);
        (self.sink)(&line);
    }
}

#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%x` fields arrive here too, their Debug being the Display text.
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

/// Cloud Logging's names for the levels.
fn severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// `2026-11-22T07:37:00.123Z WARN  message key=value` or one JSON object.
fn render(format: LogFormat, time: &str, level: Level, mut fields: Map<String, Value>) -> String {
    let message = match fields.remove("message") {
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    match format {
        LogFormat::Json => {
            let mut rest = Map::new();
            let mut http = Map::new();
            for (key, value) in fields {
                if let Some(key) = key.strip_prefix("http.") {
                    http.insert(key.to_owned(), value);
                } else if key == "trace" {
                    rest.insert("logging.googleapis.com/trace".into(), value);
                } else {
                    rest.insert(key, value);
                }
            }
            if !http.is_empty() {
                rest.insert("httpRequest".into(), Value::Object(http));
            }
            // By hand, so time, severity and message lead the line for a person reading it raw.
            let text = |s: &str| Value::from(s).to_string();
            let mut line = format!(
                "{{\"time\":{},\"severity\":{},\"message\":{}",
                text(time),
                text(severity(level)),
                text(&message)
            );
            for (key, value) in rest {
                line.push_str(&format!(",{}:{value}", text(&key)));
            }
            line.push('}');
            line
        }
        LogFormat::Text | LogFormat::Brief => {
            let mut line = match (format, level) {
                (LogFormat::Text, _) => format!("{time} {:5} {message}", level.as_str()),
                (_, Level::ERROR) => format!("error: {message}"),
                (_, Level::WARN) => format!("warning: {message}"),
                _ => message,
            };
            if format == LogFormat::Brief {
                // The fields are for machines; the sentence is for the person.
                return line;
            }
            for (key, value) in fields {
                let key = key.strip_prefix("http.").unwrap_or(&key);
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
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    fn capture(format: LogFormat, body: impl FnOnce()) -> Vec<String> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = lines.clone();
        let sink: Sink = Arc::new(move |line: &str| kept.lock().unwrap().push(line.to_owned()));
        let subscriber = tracing_subscriber::registry().with(Lines::new(format, sink));
        tracing::subscriber::with_default(subscriber, body);
        lines.lock().unwrap().clone()
    }

    #[test]
    fn json_lines_carry_cloud_logging_keys_and_span_fields() {
        let lines = capture(LogFormat::Json, || {
            let span = tracing::info_span!("request", request_id = "r_1");
            let _in = span.enter();
            tracing::warn!(
                http.requestMethod = "POST",
                http.status = 200u64,
                trace = "t1",
                bytes_billed = 10u64,
                note = %"two words",
                "request"
            );
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with(r#"{"time":"#), "{}", lines[0]);
        let mut line: Value = serde_json::from_str(&lines[0]).unwrap();
        assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");
        line.as_object_mut().unwrap().remove("time");
        assert_eq!(
            line,
            json!({"severity": "WARNING", "message": "request", "request_id": "r_1",
                "httpRequest": {"requestMethod": "POST", "status": 200},
                "logging.googleapis.com/trace": "t1", "bytes_billed": 10, "note": "two words"})
        );
    }

    #[test]
    fn text_lines_read_as_a_sentence_with_its_fields() {
        let lines = capture(LogFormat::Text, || {
            tracing::info!(version = "v1", note = "two words", "wrote");
        });
        let (time, rest) = lines[0].split_once(' ').unwrap();
        assert!(time.ends_with('Z'));
        assert_eq!(rest, "INFO  wrote note=\"two words\" version=v1");
    }

    #[test]
    fn brief_lines_are_for_the_person_who_ran_the_command() {
        let lines = capture(LogFormat::Brief, || {
            tracing::warn!("not using the metadata");
            tracing::info!(days = 3u64, "built");
        });
        assert_eq!(lines, ["warning: not using the metadata", "built"]);
    }

    #[test]
    fn levels_are_named_and_refused_with_the_choices() {
        assert_eq!(parse_level("debug"), Ok(LevelFilter::DEBUG));
        assert!(parse_level("loud").unwrap_err().contains("trace"));
    }
}
