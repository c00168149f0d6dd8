//! Rule: the brand's blocked terms and topics.
//!
//! - Reads: blocked-term and blocked-topic matches.
//! - Moves: nothing on the risk scale; reasons `BlockedTerm` and
//!   `BlockedTopic` on the decision.
//! - Limits: DECLINE.

use super::super::super::model::{Factor, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// The reason's contribution: the decision itself, not a degree of risk.
pub(super) const BLOCKED_CONTRIBUTION: f64 = -1.0;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let profile = moment.profile;
    for (i, source) in &moment.hits.blocked {
        ledger.decline = true;
        let term = profile
            .blocked_terms
            .get(*i)
            .map(String::as_str)
            .unwrap_or("");
        ledger.reasons.add(
            Weight::Decisive,
            ReasonCode::BlockedTerm,
            Factor::Decision,
            BLOCKED_CONTRIBUTION,
            format!("blocked term {term:?} in the {}", source.describe()),
        );
    }
    for (i, source) in &moment.hits.blocked_topics {
        ledger.decline = true;
        let topic = profile
            .blocked_topics
            .get(*i)
            .map(String::as_str)
            .unwrap_or("");
        ledger.reasons.add(
            Weight::Decisive,
            ReasonCode::BlockedTopic,
            Factor::Decision,
            BLOCKED_CONTRIBUTION,
            format!("blocked topic {topic:?} in the {}", source.describe()),
        );
    }
}
