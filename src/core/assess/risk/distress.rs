//! Rule: a person in distress (self-harm, danger, a cry for help).
//!
//! - Reads: distress cues.
//! - Moves: intrusiveness risk, reason `GriefOrOutrage`.
//! - Limits: at most REVIEW. A person must answer; silence and a canned
//!   reply both fail them.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const DISTRESS_RISK: f64 = 0.5;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    if let Some(found) = moment.analysed.distress.first() {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::GriefOrOutrage,
            DISTRESS_RISK,
            format!(
                "a person in distress: {:?} in the {}; a person must answer",
                found.term,
                found.source.describe()
            ),
        );
    }
}
