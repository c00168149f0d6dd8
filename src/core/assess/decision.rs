//! Step 4, the decision, from the three scores, the profile's thresholds
//! (set by its risk appetite) and the limits the risk rules set. In order:
//!
//! 1. DECLINE when a rule forced it, or relevance is below
//!    `relevance_min` (off platform; a values day is still shown to people).
//! 2. LISTEN when stale, in quiet hours (not for care), too risky
//!    (`risk_listen`; not for moments that stay with people, such as the
//!    brand's own crisis or a pile-on, nor a customer's grave message),
//!    capped at LISTEN, or an unaddressed conversation.
//! 3. ENGAGE when relevance, timing and risk all clear their ENGAGE
//!    thresholds and no rule capped at REVIEW.
//! 4. REVIEW otherwise.

use super::super::model::{Decision, EventKind, Factor, ReasonCode};
use super::Moment;
use super::ledger::{Ledger, Weight};
use super::risk::Risk;
use super::timing::Timing;

/// Risk reasons from this contribution up explain a LISTEN for risk.
pub(super) const EXPLAINS_LISTEN: f64 = 0.3;

pub(super) fn decide(
    moment: &Moment<'_>,
    relevance: f64,
    timing: &Timing,
    risk: &Risk,
    ledger: &mut Ledger,
) -> Decision {
    let thresholds = moment.thresholds;
    // A values day is a person's call even for a brand with no link to it:
    // the infamous posts came from brands that thought they had none.
    let values_day =
        moment.event.kind == EventKind::CulturalMoment && !moment.analysed.values.is_empty();
    let too_risky =
        risk.score >= thresholds.risk_listen && !ledger.with_people && !risk.solicited_care;
    let decision = if ledger.decline {
        Decision::Decline
    } else if relevance < thresholds.relevance_min && !values_day {
        ledger.reasons.add(
            Weight::Decisive,
            ReasonCode::OffPlatform,
            Factor::Relevance,
            -(thresholds.relevance_min - relevance),
            format!(
                "relevance {relevance:.2} below {:.2}: nothing of the brand's platform",
                thresholds.relevance_min
            ),
        );
        Decision::Decline
    } else if timing.stale
        || (timing.quiet && !moment.care)
        || too_risky
        || ledger.listen_cap
        || (moment.event.kind == EventKind::Conversation && !moment.addressed)
    {
        if too_risky {
            // The risk reasons themselves explain a LISTEN for risk.
            for (weight, reason) in &mut ledger.reasons.0 {
                if reason.factor == Factor::Risk
                    && reason.contribution >= EXPLAINS_LISTEN
                    && *weight < Weight::Decisive
                {
                    *weight = Weight::Decisive;
                }
            }
        }
        Decision::Listen
    } else if relevance >= thresholds.relevance_engage
        && timing.score >= thresholds.timing_engage
        && risk.score <= thresholds.risk_engage
        && !ledger.review_cap
    {
        Decision::Engage
    } else {
        Decision::Review
    };
    if decision == Decision::Listen && ledger.listen_cap {
        ledger
            .reasons
            .promote(ReasonCode::FrequencyCap, Weight::Decisive);
    }
    if decision != Decision::Decline
        && !ledger.reasons.has(ReasonCode::OffPlatform)
        && relevance < thresholds.relevance_engage
    {
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::OffPlatform,
            Factor::Relevance,
            -(thresholds.relevance_engage - relevance),
            format!(
                "relevance {relevance:.2} below {:.2} needed to engage",
                thresholds.relevance_engage
            ),
        );
    }
    decision
}
