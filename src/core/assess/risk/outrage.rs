//! Rule: outrage not aimed at the brand. An angry crowd is no place for a
//! brand that was not called into it.
//!
//! - Reads: outrage cues (in the event, or in two sample posts), the
//!   event's sentiment, whether the brand is addressed or named.
//! - Moves: intrusiveness risk, reason `GriefOrOutrage`.
//! - Limits: none; a factor.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const OUTRAGE_RISK: f64 = 0.35;
/// Sentiment at or below which the crowd counts as angry without a cue.
pub(super) const ANGRY_SENTIMENT: f64 = -0.5;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let aimed_at_brand = moment.addressed || moment.named_in_event;
    let sentiment = moment.analysed.sentiment;
    let angry = signals.outrage_cue.is_some() || sentiment <= ANGRY_SENTIMENT;
    if aimed_at_brand || !angry {
        return;
    }
    let detail = match signals.outrage_cue {
        Some(found) => format!(
            "outrage: {:?} in the {}",
            found.term,
            found.source.describe()
        ),
        None => format!("negative sentiment {sentiment:.2} not aimed at the brand"),
    };
    ledger.risk(
        Weight::Factor,
        ReasonCode::GriefOrOutrage,
        OUTRAGE_RISK,
        detail,
    );
}
