//! Kairos: scores (event, brand) pairs for relevance, timing and
//! intrusiveness risk, and tells a brand whether to engage with a moment.
//! See ARCHITECTURE.md for the module map.

#![forbid(unsafe_code)]

pub mod access;
pub mod app;
pub mod cache;
pub mod candidates;
pub mod cli;
pub mod config;
pub mod core;
pub mod error;
pub mod follow;
pub mod grpc;
pub mod guardrails;
pub mod ids;
pub mod metrics;
pub mod net;
pub mod scoring;
pub mod store;
/// The load generator's inputs (`kairos bench`, the benchmarks, tests).
#[cfg(feature = "loadgen")]
pub mod synthetic;
pub mod telemetry;
pub mod tls;
