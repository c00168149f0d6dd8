//! The pure domain: event analysis, compiled profiles, scoring, decisions.
//!
//! Invariant: nothing here performs I/O, reads a clock or knows protobuf,
//! tokio or tonic. Time is an input (`now`); the same inputs always give the
//! same output.

pub mod analyse;
pub mod compiled;
pub mod lexicon;
pub mod model;
pub mod score;
pub mod sentiment;
pub(crate) mod text;
pub mod validate;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod moments;
#[cfg(test)]
mod props;
#[cfg(test)]
mod scenarios;

pub use analyse::{AnalysedEvent, analyse, analyse_metered};
pub use compiled::CompiledProfile;
pub use score::{MODEL_VERSION, assess};
pub use validate::ValidationError;
