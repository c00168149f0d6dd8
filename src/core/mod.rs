//! The pure domain: event analysis, compiled profiles, scoring, decisions.
//!
//! Invariant: nothing here performs I/O, reads a clock or knows protobuf,
//! tokio or tonic. Time is an input (`now`); the same inputs always give the
//! same output. The build holds it: the clock, file, network and
//! environment calls listed in clippy.toml are denied here.

#![deny(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod analyse;
pub mod assess;
pub mod candidates;
pub mod compiled;
pub(crate) mod deadpan;
pub(crate) mod intrusion;
pub mod lexicon;
pub mod model;
pub(crate) mod payload;
pub(crate) mod reading;
pub mod sentiment;
pub(crate) mod spelled;
pub(crate) mod text;
pub mod validate;

pub use analyse::{AnalysedEvent, analyse, analyse_metered, analyse_owned};
pub use assess::{MODEL_VERSION, assess};
pub use compiled::CompiledProfile;
pub use validate::ValidationError;
