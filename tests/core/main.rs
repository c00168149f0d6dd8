//! Tests of the scoring core through the library's public API: the
//! decision-quality corpora (read the way `kairos eval` reads them), the
//! golden file that pins every assessment byte for byte, the scenarios of
//! the contract, and properties over generated events.

mod codes;
mod corpus;
mod deadpan;
mod golden;
mod languages;
mod pileons;
mod props;
mod scenarios;
