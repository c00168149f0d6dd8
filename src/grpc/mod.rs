//! The gRPC adapter: the only module that knows protobuf types and
//! `tonic::Status`. Converts proto <-> domain, maps errors once, and holds
//! one service implementation per file.

pub mod auth;
pub mod convert;
pub mod envelope;
pub mod guardrails;
pub mod health;
pub mod profiles;
pub mod scoring;
pub mod status;

/// Code generated from `proto/kairos/v1`.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("kairos.v1");

    /// Encoded descriptors of every kairos.v1 file, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kairos_descriptor");
}

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use crate::error::Error;

/// Runs one RPC inside a span carrying the method, brand, status code and
/// latency. Event text is never recorded.
///
/// The span and the completion line are DEBUG: at the default INFO filter
/// the fmt subscriber would otherwise format and store the span's fields on
/// every call, a measurable share of a Score (see BENCHMARKS.md). Failures
/// that are the server's fault are logged at WARN with method and brand
/// whatever the filter, so the on-call engineer sees them with context.
pub(crate) async fn observe<T>(
    metrics: &crate::metrics::Metrics,
    method: &'static str,
    brand_id: &str,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<tonic::Response<T>, tonic::Status> {
    let span = tracing::debug_span!(
        "rpc",
        method,
        brand_id,
        code = tracing::field::Empty,
        latency_us = tracing::field::Empty
    );
    let start = Instant::now();
    // `work` is instrumented as it is, not inside another async block: a
    // future that moves its argument into a local is laid out with both,
    // and every wrapper would double the size of a Score call's future,
    // which is copied each time it moves.
    let result = work
        .instrument(span.clone())
        .await
        .map(tonic::Response::new)
        .map_err(tonic::Status::from);
    let code = match &result {
        Ok(_) => tonic::Code::Ok,
        Err(s) => s.code(),
    };
    let took = start.elapsed();
    metrics.rpc(method, code, took);
    let latency_us = took.as_micros() as u64;
    if server_fault(code) {
        tracing::warn!(method, brand_id, ?code, latency_us, "rpc failed");
    }
    if !span.is_disabled() {
        span.record("code", tracing::field::debug(code));
        span.record("latency_us", latency_us);
        span.in_scope(|| tracing::debug!(?code, latency_us, "rpc finished"));
    }
    result
}

/// Codes that say the server, not the caller, is at fault.
fn server_fault(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Internal
            | tonic::Code::Unavailable
            | tonic::Code::Unknown
            | tonic::Code::DataLoss
            | tonic::Code::Unimplemented
    )
}
