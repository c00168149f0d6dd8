//! The pure domain: event analysis, compiled profiles, scoring, decisions.
//!
//! Invariant: nothing here performs I/O, reads a clock or knows protobuf,
//! tokio or tonic. Time is an input (`now`); the same inputs always give the
//! same output.

pub mod compiled;
pub mod model;
pub mod validate;

pub use compiled::CompiledProfile;
pub use validate::ValidationError;
