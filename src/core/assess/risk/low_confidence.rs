//! Rule: nothing to judge. A trend without sample posts and with barely any
//! text, or an event written in a script the lexicons cannot read (Hangul,
//! Han, Cyrillic, ...): what is said is unknown, so a person reads it.
//!
//! - Reads: the event's kind, sample posts, token count, addressed, and
//!   whether most of its letters are outside the Latin script.
//! - Moves: nothing on the risk scale; reason `LowConfidence` on the
//!   decision; for a trend with nothing to judge, the confidence step also
//!   lowers confidence.
//! - Limits: at most REVIEW.

use super::super::super::model::{EventKind, Factor, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// Fewer tokens than this is barely any text.
pub(super) const FEW_TOKENS: usize = 5;
pub(super) const LOW_CONFIDENCE_FACTOR: f64 = -0.2;

/// Whether the rule applies: also read by the confidence step.
pub(in super::super) fn unknown_content(moment: &Moment<'_>) -> bool {
    moment.event.kind == EventKind::TrendingTopic
        && moment.event.sample_posts.is_empty()
        && moment.analysed.token_count < FEW_TOKENS
        && !moment.addressed
}

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    if moment.analysed.foreign_script {
        ledger.review_cap = true;
        ledger.reasons.add(
            Weight::Cap,
            ReasonCode::LowConfidence,
            Factor::Decision,
            LOW_CONFIDENCE_FACTOR,
            "written in a script the lexicons cannot read: what it says is unknown",
        );
    } else if unknown_content(moment) {
        ledger.review_cap = true;
        ledger.reasons.add(
            Weight::Cap,
            ReasonCode::LowConfidence,
            Factor::Decision,
            LOW_CONFIDENCE_FACTOR,
            "trend without sample posts or text: what is said under it is unknown",
        );
    }
}
