//! Rule: a pile-on on a private person. A moment (usually a playful trend)
//! whose text or posts show a crowd harassing someone who never chose to
//! be public (their address or employer posted, old posts dug up, calls to
//! get them fired, or the crowd's own "leave her alone") is a grey moment:
//! a brand's joke joins the pile however on-brand it is.
//!
//! - Reads: pile-on cues (acts and talk) in the text, hashtags and sample
//!   posts.
//! - Moves: intrusiveness risk, reason `PileOn`.
//! - Limits: at most REVIEW, and never LISTEN for risk: it stays with
//!   people (`Ledger::with_people`).

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const PILE_ON_RISK: f64 = 0.4;
/// Distinct talk cues needed without an act: one phrase ("too far", "main
/// character") can be a figure of speech; two show the crowd at work. One
/// act (an address posted, a person tracked down) is enough.
pub(super) const PILE_ON_MIN_TALK: usize = 2;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let cues = &moment.analysed.pile_on;
    let act = cues.iter().find(|(_, act)| *act).map(|(found, _)| found);
    let mut distinct: Vec<&str> = cues.iter().map(|(f, _)| f.term).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let shown = match act {
        Some(found) => found,
        None if distinct.len() >= PILE_ON_MIN_TALK => match cues.first() {
            Some((found, _)) => found,
            None => return,
        },
        None => return,
    };
    ledger.review_cap = true;
    ledger.with_people = true;
    ledger.risk(
        Weight::Cap,
        ReasonCode::PileOn,
        PILE_ON_RISK,
        format!(
            "a crowd piling on a private person: {:?} in the {} and {} more cue(s)",
            shown.term,
            shown.source.describe(),
            distinct.len() - 1
        ),
    );
}
