//! Rule: a pile-on on a private person. A moment (usually a playful trend)
//! whose text or posts show a crowd harassing someone who never chose to
//! be public (their address or employer posted, old posts dug up, calls to
//! get them fired, or the crowd's own "leave her alone") is a grey moment:
//! a brand's joke joins the pile however on-brand it is.
//!
//! - Reads: pile-on cues in the text, hashtags and sample posts.
//! - Moves: intrusiveness risk, reason `PileOn`.
//! - Limits: at most REVIEW.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const PILE_ON_RISK: f64 = 0.4;
/// Distinct cues needed: one phrase ("too far", "main character") can be a
/// figure of speech; two show the crowd at work.
pub(super) const PILE_ON_MIN_CUES: usize = 2;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let cues = &moment.analysed.pile_on;
    let mut distinct: Vec<&str> = cues.iter().map(|f| f.term).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < PILE_ON_MIN_CUES {
        return;
    }
    let Some(first) = cues.first() else {
        return;
    };
    ledger.review_cap = true;
    ledger.risk(
        Weight::Cap,
        ReasonCode::PileOn,
        PILE_ON_RISK,
        format!(
            "a crowd piling on a private person: {:?} in the {} and {} more cue(s)",
            first.term,
            first.source.describe(),
            distinct.len() - 1
        ),
    );
}
