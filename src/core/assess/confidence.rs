//! Step 6, confidence: how sure the decision is, from how far the scores
//! sit from the thresholds that decided it and how much the event told.

use super::super::model::Decision;
use super::Moment;
use super::ledger::unit;
use super::risk::{Risk, unknown_content};
use super::timing::Timing;

/// Confidence before the margin and the evidence.
pub(super) const BASE: f64 = 0.4;
/// Weight of the margin (0-1) from the deciding thresholds.
pub(super) const MARGIN_WEIGHT: f64 = 0.25;
/// The margin given to a LISTEN and to a REVIEW.
pub(super) const LISTEN_MARGIN: f64 = 0.5;
pub(super) const REVIEW_MARGIN: f64 = 0.3;
/// Added for enough text, for sample posts (or an addressed author), and
/// for upstream signals (topics, an embedding, sentiment, labels).
pub(super) const TEXT_BONUS: f64 = 0.15;
pub(super) const TEXT_MIN_TOKENS: usize = 5;
pub(super) const POSTS_BONUS: f64 = 0.1;
pub(super) const UPSTREAM_BONUS: f64 = 0.1;
/// Taken off when the event says too little to judge.
pub(super) const UNKNOWN_CONTENT_PENALTY: f64 = 0.2;

pub(super) fn confidence(
    moment: &Moment<'_>,
    decision: Decision,
    declined_by_rule: bool,
    relevance: f64,
    timing: &Timing,
    risk: &Risk,
) -> f64 {
    let thresholds = moment.thresholds;
    let event = moment.event;
    let margin = match decision {
        Decision::Decline if declined_by_rule => 1.0,
        Decision::Decline => (thresholds.relevance_min - relevance) / thresholds.relevance_min,
        Decision::Listen => LISTEN_MARGIN,
        Decision::Engage => ((relevance - thresholds.relevance_engage)
            / (1.0 - thresholds.relevance_engage))
            .min((timing.score - thresholds.timing_engage) / (1.0 - thresholds.timing_engage))
            .min((thresholds.risk_engage - risk.score) / thresholds.risk_engage),
        Decision::Review => REVIEW_MARGIN,
    };
    let mut confidence = BASE + MARGIN_WEIGHT * unit(margin);
    if moment.analysed.token_count >= TEXT_MIN_TOKENS {
        confidence += TEXT_BONUS;
    }
    if !event.sample_posts.is_empty() || moment.addressed {
        confidence += POSTS_BONUS;
    }
    if !event.topics.is_empty()
        || !event.embedding.is_empty()
        || moment.analysed.sentiment_upstream
        || !event.sensitivity_labels.is_empty()
    {
        confidence += UPSTREAM_BONUS;
    }
    if unknown_content(moment) {
        confidence -= UNKNOWN_CONTENT_PENALTY;
    }
    unit(confidence)
}
