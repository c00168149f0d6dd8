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
//! - Limits: at most REVIEW; DECLINE when the request carries a code, or
//!   hate, terror, adult or obscene content of high level or worse in its
//!   own words (the brand would print it).

use super::super::super::analyse::{Detection, Source};
use super::super::super::lexicon::Level;
use super::super::super::model::{EventKind, ReasonCode, SensitiveCategory};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const ECHO_RISK: f64 = 0.5;
/// An echo request carrying coded hate: never published.
pub(super) const CODED_ECHO_RISK: f64 = 1.0;
pub(super) const CAMPAIGN_ENTRY_RISK: f64 = 0.4;

/// Content no brand prints in its own voice, in the request's own words.
fn unprintable(found: &Detection) -> bool {
    found.level >= Level::High
        && !matches!(found.source, Source::Sample(_))
        && matches!(
            found.category,
            SensitiveCategory::HateSpeech
                | SensitiveCategory::Terrorism
                | SensitiveCategory::Adult
                | SensitiveCategory::ObscenityProfanity
        )
}

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let campaign_entry = signals.campaign_tag.filter(|_| {
        matches!(
            moment.event.kind,
            EventKind::BrandMention | EventKind::Praise | EventKind::Question
        )
    });
    let analysed = moment.analysed;
    let carried = analysed
        .codes
        .first()
        .map(|code| (code.term, code.source))
        .or_else(|| {
            analysed
                .sensitive
                .iter()
                .find(|d| unprintable(d))
                .map(|d| (d.term.as_str(), d.source))
        });
    if let (Some(found), Some((term, source))) = (analysed.echo.first(), carried) {
        ledger.decline = true;
        ledger.risk(
            Weight::Decisive,
            ReasonCode::EchoTrap,
            CODED_ECHO_RISK,
            format!(
                "asks the brand to repeat user text ({:?} in the {}) carrying hate or worse: {:?} in the {}",
                found.term,
                found.source.describe(),
                term,
                source.describe()
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
