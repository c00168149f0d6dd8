//! Rules: criticism of the brand that a person should read first.
//!
//! 1. Criticism of the brand not addressed to it: the brand is named in a
//!    negative post, a complaint or an angry one, but nobody asked it in.
//! 2. A complaint in a mention's clothing: a mention or praise addressed to
//!    the brand that tells of a bad experience ("wow thanks, day three
//!    living at the airport"). A cheerful reply in the brand's voice is the
//!    classic blunder.
//!
//! - Reads: addressed/named, the event's kind and sentiment, outrage and
//!   complaint cues.
//! - Moves: intrusiveness risk, reason `NegativeSentiment`.
//! - Limits: at most REVIEW.

use super::super::super::analyse::Source;
use super::super::super::model::{EventKind, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const CRITICISM_RISK: f64 = 0.3;
/// Sentiment at or below which a post naming the brand criticises it.
pub(super) const CRITICAL_SENTIMENT: f64 = -0.3;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    unaddressed_criticism(moment, signals, ledger);
    complaint_as_mention(moment, ledger);
}

fn unaddressed_criticism(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let sentiment = moment.analysed.sentiment;
    let critical = sentiment <= CRITICAL_SENTIMENT
        || moment.event.kind == EventKind::Complaint
        || signals.outrage_cue.is_some();
    if !moment.addressed && moment.named_in_event && critical {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::NegativeSentiment,
            CRITICISM_RISK,
            format!("criticism of the brand not addressed to it (sentiment {sentiment:.2})"),
        );
    }
}

fn complaint_as_mention(moment: &Moment<'_>, ledger: &mut Ledger) {
    if moment.addressed
        && matches!(
            moment.event.kind,
            EventKind::BrandMention | EventKind::Praise
        )
        && let Some(found) = moment
            .analysed
            .complaint
            .iter()
            .find(|f| matches!(f.source, Source::Text | Source::Hashtag))
    {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::NegativeSentiment,
            CRITICISM_RISK,
            format!(
                "a complaint addressed to the brand as a mention: {:?} in the {}",
                found.term,
                found.source.describe()
            ),
        );
    }
}
