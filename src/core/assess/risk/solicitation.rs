//! Rule: solicited or not. An author who addressed the brand invited it
//! in; one who did not is in their own conversation.
//!
//! - Reads: addressed, the event's kind.
//! - Moves: a `Solicited` note when addressed (the risk itself is lowered
//!   by `ADDRESSED_RISK_FACTOR` in the risk step); else intrusiveness risk
//!   by kind, reason `Unsolicited`.
//! - Limits: an unaddressed conversation is decisive (LISTEN, in the
//!   decision step).

use super::super::super::model::{EventKind, Factor, ReasonCode};
use super::super::Moment;
use super::super::describe::kind_name;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// The contribution of the `Solicited` note.
pub(super) const SOLICITED_NOTE: f64 = -0.15;
/// Risk of entering unasked, by kind.
pub(super) const UNSOLICITED_CONVERSATION: f64 = 0.45;
pub(super) const UNSOLICITED_COMPLAINT_OR_QUESTION: f64 = 0.3;
pub(super) const UNSOLICITED_MENTION_OR_PRAISE: f64 = 0.15;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let kind = moment.event.kind;
    if moment.addressed {
        ledger.reasons.add(
            Weight::Note,
            ReasonCode::Solicited,
            Factor::Risk,
            SOLICITED_NOTE,
            "the author addressed the brand",
        );
        return;
    }
    let risk = match kind {
        EventKind::Conversation => UNSOLICITED_CONVERSATION,
        EventKind::Complaint | EventKind::Question => UNSOLICITED_COMPLAINT_OR_QUESTION,
        EventKind::BrandMention | EventKind::Praise => UNSOLICITED_MENTION_OR_PRAISE,
        _ => 0.0,
    };
    if risk > 0.0 {
        let weight = if kind == EventKind::Conversation {
            Weight::Decisive
        } else {
            Weight::Factor
        };
        ledger.risk(
            weight,
            ReasonCode::Unsolicited,
            risk,
            format!("a {} not addressed to the brand", kind_name(kind)),
        );
    }
}
