//! One integration-test binary (faster to link): every test starts the real
//! server on 127.0.0.1:0 and talks to it over gRPC.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budget;
mod candidates;
mod cli;
mod durability;
mod envelope;
mod eval;
mod export_safety;
mod fuzz_core;
mod fuzz_wire;
mod grpcurl;
mod guardrails;
mod helpers;
mod import_crash;
mod lifecycle;
mod pg;
mod production;
mod profiles;
mod readme;
mod replicas;
mod scoring;
mod security;
mod store_suite;
mod traces;
