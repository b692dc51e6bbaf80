//! Traces to an OpenTelemetry collector, behind `--otlp-endpoint` (`NLQ_OTLP_ENDPOINT`): every
//! `tracing` span of nlq (a request, a question, a MetaSync run) becomes an OTLP span sent over
//! HTTP/protobuf to `<endpoint>/v1/traces`, in batches from a background thread, so a slow or
//! absent collector never slows an answer. The batch still queued is sent when the process
//! ends (`flush`, which `exit` calls).

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The provider in use, kept so the queued spans can be flushed at exit.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// A tracer exporting to `endpoint` (`http://collector:4318`), its spans named after
/// `service`; the provider is kept for [`flush`].
pub(crate) fn tracer(
    endpoint: &str,
    service: &'static str,
) -> Result<opentelemetry_sdk::trace::Tracer, String> {
    let base = endpoint.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "--otlp-endpoint {endpoint:?} is not an http(s) URL such as http://otel-collector:4318"
        ));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{base}/v1/traces"))
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("the OTLP exporter for {endpoint} cannot start: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let tracer = provider.tracer("nlq");
    let _ = PROVIDER.set(provider);
    Ok(tracer)
}

/// Sends the spans still queued; a collector that does not answer is given up on, quietly.
pub fn flush() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
        let _ = provider.shutdown();
    }
}

/// Makes the caller's span (a W3C `traceparent` header's value) the parent of `span`, so the
/// server's spans join the trace of the service that called it. A header that does not parse
/// leaves the span a root; without `--otlp-endpoint` nothing is exported either way.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    let carrier =
        std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(context);
}
