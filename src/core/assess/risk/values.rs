//! Rule: a values moment or a debated social issue. Whether a brand speaks
//! on one is a decision for people who own its values, never automation.
//!
//! - Reads: values cues; a debated-social-issue detection of medium or
//!   higher.
//! - Moves: intrusiveness risk, reason `ValuesMoment`.
//! - Limits: at most REVIEW.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const VALUES_RISK: f64 = 0.35;
pub(super) const DEBATED_RISK: f64 = 0.2;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    if let Some(found) = moment.analysed.values.first() {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::ValuesMoment,
            VALUES_RISK,
            format!(
                "values moment: {:?} in the {}",
                found.term,
                found.source.describe()
            ),
        );
    } else if let Some(found) = signals.debated {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::ValuesMoment,
            DEBATED_RISK,
            format!(
                "debated issue: {:?} in the {}",
                found.term,
                found.source.describe()
            ),
        );
    }
}
