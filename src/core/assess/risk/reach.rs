//! Rule: high reach. A reply to an unhappy customer with a large audience,
//! or on a post going viral, is read by thousands: a person writes it.
//!
//! - Reads: the mode (care or reply), the event's kind and sentiment, the
//!   author's followers and verification, the mention velocity.
//! - Moves: intrusiveness risk, reason `HighReach`.
//! - Limits: at most REVIEW.

use super::super::super::analyse::AnalysedEvent;
use super::super::super::model::{EngagementMode, EventKind, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const REACH_RISK: f64 = 0.3;
/// Sentiment at or below which the post is unhappy.
pub(super) const UNHAPPY_SENTIMENT: f64 = -0.3;
/// Followers from which an author's audience is large, and from which a
/// verified author's is.
pub(super) const LARGE_AUDIENCE: u64 = 50_000;
pub(super) const LARGE_VERIFIED_AUDIENCE: u64 = 10_000;
/// Mentions per minute from which a post is going viral.
pub(super) const VIRAL_MENTIONS_PER_MINUTE: f64 = 5.0;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let unhappy =
        moment.event.kind == EventKind::Complaint || moment.analysed.sentiment <= UNHAPPY_SENTIMENT;
    if matches!(
        moment.mode,
        EngagementMode::CustomerCare | EngagementMode::Reply
    ) && unhappy
        && let Some(why) = high_reach(moment.analysed)
    {
        ledger.review_cap = true;
        ledger.risk(Weight::Cap, ReasonCode::HighReach, REACH_RISK, why);
    }
}

/// Why a reply would reach a large audience, if it would.
fn high_reach(analysed: &AnalysedEvent) -> Option<String> {
    let event = &analysed.event;
    if let Some(author) = &event.author
        && (author.follower_count >= LARGE_AUDIENCE
            || (author.verified && author.follower_count >= LARGE_VERIFIED_AUDIENCE))
    {
        return Some(format!(
            "author has {} followers{}",
            author.follower_count,
            if author.verified { " (verified)" } else { "" }
        ));
    }
    if let Some(velocity) = &event.velocity
        && velocity.mentions_per_minute >= VIRAL_MENTIONS_PER_MINUTE
    {
        return Some(format!(
            "going viral: {:.0} mentions per minute",
            velocity.mentions_per_minute
        ));
    }
    None
}
