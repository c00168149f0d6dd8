//! Rule: an author that is likely a bot. Answering automation amplifies
//! it, and bot-driven trends are often coordinated bait.
//!
//! - Reads: the author's bot likelihood (from upstream).
//! - Moves: intrusiveness risk by `BOT_RISK_PER_LIKELIHOOD × likelihood`,
//!   reason `LowAuthenticity`.
//! - Limits: at most REVIEW.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight, unit};
use super::Signals;

/// Bot likelihood from which the rule applies.
pub(super) const BOT_LIKELIHOOD_MIN: f64 = 0.5;
pub(super) const BOT_RISK_PER_LIKELIHOOD: f64 = 0.6;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let Some(author) = &moment.event.author else {
        return;
    };
    let likelihood = unit(author.bot_likelihood);
    if likelihood >= BOT_LIKELIHOOD_MIN {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::LowAuthenticity,
            BOT_RISK_PER_LIKELIHOOD * likelihood,
            format!("author bot likelihood {likelihood:.2}"),
        );
    }
}
