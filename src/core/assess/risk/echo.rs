//! Rule: echo traps. A request to repeat, say, print or end a reply with
//! user text, or a person's entry to the brand's own campaign tag:
//! automated answers to these are how user text ends up printed in the
//! brand's voice. What the request carries can be coded hate (a number,
//! initials or a slogan of the hate-symbol references, spelled as words or
//! split across the request, or the author's own name when the request is
//! to print it).
//!
//! - Reads: echo cues; codes in the text, hashtags and author; the brand's
//!   campaign tag and the event's kind.
//! - Moves: intrusiveness risk, reason `EchoTrap`.
//! - Limits: at most REVIEW; DECLINE when the request carries a code.

use super::super::super::model::{EventKind, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const ECHO_RISK: f64 = 0.5;
/// An echo request carrying coded hate: never published.
pub(super) const CODED_ECHO_RISK: f64 = 1.0;
pub(super) const CAMPAIGN_ENTRY_RISK: f64 = 0.4;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let campaign_entry = signals.campaign_tag.filter(|_| {
        matches!(
            moment.event.kind,
            EventKind::BrandMention | EventKind::Praise | EventKind::Question
        )
    });
    let analysed = moment.analysed;
    if let (Some(found), Some(code)) = (analysed.echo.first(), analysed.codes.first()) {
        ledger.decline = true;
        ledger.risk(
            Weight::Decisive,
            ReasonCode::EchoTrap,
            CODED_ECHO_RISK,
            format!(
                "asks the brand to repeat user text ({:?} in the {}) carrying coded hate: {:?} in the {}",
                found.term,
                found.source.describe(),
                code.term,
                code.source.describe()
            ),
        );
    } else if let Some(found) = analysed.echo.first() {
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
