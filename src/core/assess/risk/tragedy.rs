//! Rule: a tragedy's anniversary or remembrance.
//!
//! - Reads: the anniversary the analysis matched to the event's local date,
//!   remembrance cues, and whether the event speaks of death or terror.
//! - Moves: intrusiveness risk, reason `TragedyAnniversary`.
//! - Limits: DECLINE. No brand marks a tragedy in its own voice.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// Risk of a known tragedy's anniversary.
pub(super) const ANNIVERSARY_RISK: f64 = 0.95;
/// Risk of remembrance words beside death or terror.
pub(super) const REMEMBRANCE_RISK: f64 = 0.9;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let analysed = moment.analysed;
    if let Some((name, found)) = &analysed.anniversary {
        ledger.decline = true;
        ledger.risk(
            Weight::Decisive,
            ReasonCode::TragedyAnniversary,
            ANNIVERSARY_RISK,
            format!(
                "anniversary of the {name}: {:?} in the {}",
                found.term,
                found.source.describe()
            ),
        );
    } else if signals.death_like
        && let Some(found) = analysed.remembrance.first()
    {
        ledger.decline = true;
        ledger.risk(
            Weight::Decisive,
            ReasonCode::TragedyAnniversary,
            REMEMBRANCE_RISK,
            format!(
                "remembrance of a tragedy: {:?} in the {}",
                found.term,
                found.source.describe()
            ),
        );
    }
}
