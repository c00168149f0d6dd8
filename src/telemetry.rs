//! The tracing subscriber, and with `--otlp-endpoint` the export of the
//! per-RPC spans over OTLP/gRPC. Filter logs with `RUST_LOG` (default
//! `info`); per-RPC completion lines appear at `kairos=debug`.
//!
//! Traces are off by default and then cost nothing: the per-RPC spans are
//! at DEBUG, which the default filter disables. With an endpoint, a second
//! layer (with its own filter, so logs stay at `RUST_LOG`) turns every
//! `kairos` span into an OpenTelemetry span, batched and exported from the
//! server's tokio runtime (the tonic exporter needs one), with the
//! resource `service.name=kairos` and `service.version`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// How often batched spans are sent.
const EXPORT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether spans are exported (the envelope then reads `traceparent`).
static EXPORTING: AtomicBool = AtomicBool::new(false);

pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up trace export to {endpoint} (--otlp-endpoint)")]
pub struct TelemetryError {
    endpoint: String,
    #[source]
    source: opentelemetry_otlp::ExporterBuildError,
}

/// Flushes and stops trace export when dropped at exit.
#[derive(Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still batched.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "trace export did not shut down cleanly");
        }
    }
}

/// Installs the global subscriber without trace export; a second call
/// (tests) is a no-op.
pub fn init(format: LogFormat) {
    let _ = init_with(format, None);
}

/// Installs the global subscriber, exporting spans to `otlp` when given.
/// Must run inside the tokio runtime.
pub fn init_with(format: LogFormat, otlp: Option<&str>) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    let (otel, provider) = match otlp {
        None => (None, None),
        Some(endpoint) => {
            let provider = tracer_provider(endpoint)?;
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("kairos"))
                // One span per RPC: the envelope's, which covers the whole
                // call (the handler's own span would double the cost).
                .with_filter(
                    Targets::new().with_target("kairos::grpc::envelope", tracing::Level::DEBUG),
                );
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            (Some(layer), Some(provider))
        }
    };
    let installed = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otel)
        .try_init()
        .is_ok();
    if installed && let Some(endpoint) = otlp {
        EXPORTING.store(true, Ordering::Relaxed);
        tracing::info!(endpoint, "exporting per-RPC spans over OTLP/gRPC");
    }
    Ok(Telemetry { provider })
}

fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|source| TelemetryError {
            endpoint: endpoint.to_string(),
            source,
        })?;
    // This processor's first export waits two of its intervals (it skips a
    // first tick it believes immediate): 1 s keeps spans within about 2 s.
    let batches =
        opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_scheduled_delay(EXPORT_INTERVAL)
                .build(),
        )
        .build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("kairos")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batches)
        .with_resource(resource)
        .build())
}

/// Reads a W3C `traceparent` (and `tracestate`) from request headers.
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The caller's trace context from its headers (empty when it sent none).
pub fn parent_from(headers: &http::HeaderMap) -> opentelemetry::Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}
