//! Rule: echo traps. A request to repeat user text, or a person's entry to
//! the brand's own campaign tag: automated answers to these are how user
//! text ends up printed in the brand's voice.
//!
//! - Reads: echo cues; the brand's campaign tag and the event's kind.
//! - Moves: intrusiveness risk, reason `EchoTrap`.
//! - Limits: at most REVIEW.

use super::super::super::model::{EventKind, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const ECHO_RISK: f64 = 0.5;
pub(super) const CAMPAIGN_ENTRY_RISK: f64 = 0.4;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let campaign_entry = signals.campaign_tag.filter(|_| {
        matches!(
            moment.event.kind,
            EventKind::BrandMention | EventKind::Praise | EventKind::Question
        )
    });
    if let Some(found) = moment.analysed.echo.first() {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::EchoTrap,
            ECHO_RISK,
            format!(
                "asks the brand to repeat user text: {:?} in the {}",
                found.term,
                found.source.describe()
            ),
        );
    } else if let Some(tag) = campaign_entry {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::EchoTrap,
            CAMPAIGN_ENTRY_RISK,
            format!("an entry to the brand's campaign {tag}: a person answers entries"),
        );
    }
}
