//! Stage two: one analysed event against one compiled profile. Cheap by
//! design: the heavy text work happened in `analyse` and `compile`.
//!
//! The steps run in order, each in its own file: relevance, timing, risk
//! (one file per rule under `risk/`), the decision, the response window
//! and confidence. They write their reasons to one `Ledger`; the answer's
//! reasons are that ledger sorted, most decisive first.

mod confidence;
mod decision;
mod describe;
mod hits;
mod ledger;
mod relevance;
mod response;
mod risk;
mod timing;

#[cfg(test)]
mod tests;

use jiff::Timestamp;

use super::analyse::AnalysedEvent;
use super::compiled::{CompiledProfile, Thresholds};
use super::model::{
    Assessment, BrandProfile, Decision, EngagementMode, Event, EventKind, Guardrails,
};
use hits::Hits;
use ledger::{Ledger, unit};

pub use response::MAX_RESPONSE_HORIZON_SECS;

pub const MODEL_VERSION: &str = "kairos-v1.3";

/// What every step reads: the event, the brand, the guardrails, `now`, and
/// the facts about who spoke to whom and which brand terms occur.
pub(super) struct Moment<'a> {
    analysed: &'a AnalysedEvent,
    event: &'a Event,
    compiled: &'a CompiledProfile,
    profile: &'a BrandProfile,
    thresholds: Thresholds,
    guardrails: &'a Guardrails<'a>,
    now: Timestamp,
    /// The author addressed the brand (or wrote to it directly).
    addressed: bool,
    /// The mode an answer would take, before the decision.
    mode: EngagementMode,
    /// `mode` is customer care.
    care: bool,
    hits: Hits,
    /// The brand is named in the event's text or hashtags.
    named_in_event: bool,
}

impl Moment<'_> {
    /// A story with entities at its centre.
    fn is_story(&self) -> bool {
        relevance::is_story(self.event.kind)
    }
}

/// Scores one analysed event for one brand as of `now`.
pub fn assess(
    analysed: &AnalysedEvent,
    compiled: &CompiledProfile,
    guardrails: &Guardrails<'_>,
    now: Timestamp,
) -> Assessment {
    let event = &analysed.event;
    let addressed = event.addressed_to_brand || event.kind == EventKind::DirectMessage;
    let mode = mode_for(event.kind, addressed);
    let hits = hits::collect(analysed, compiled);
    let moment = Moment {
        analysed,
        event,
        compiled,
        profile: &compiled.stored.profile,
        thresholds: compiled.thresholds,
        guardrails,
        now,
        addressed,
        mode,
        care: mode == EngagementMode::CustomerCare,
        named_in_event: !hits.names.is_empty(),
        hits,
    };
    let mut ledger = Ledger::new();

    let relevance = relevance::assess(&moment, &mut ledger);
    let relevance_score = relevance.score;
    let timing = timing::assess(&moment, &mut ledger);
    let risk = risk::assess(&moment, relevance, &timing, &mut ledger);
    let decision = decision::decide(&moment, relevance_score, &timing, &risk, &mut ledger);
    let response = response::window(&moment, decision, &timing, &ledger.reasons);
    let confidence = confidence::confidence(
        &moment,
        decision,
        ledger.decline,
        relevance_score,
        &timing,
        &risk,
    );

    let (recommended_mode, opportunity) = match decision {
        Decision::Decline => (EngagementMode::None, 0.0),
        Decision::Listen => (
            EngagementMode::None,
            unit(relevance_score * timing.score * (1.0 - risk.score)),
        ),
        Decision::Engage | Decision::Review => (
            mode,
            unit(relevance_score * timing.score * (1.0 - risk.score)),
        ),
    };
    Assessment {
        event_id: event.id.clone(),
        brand_id: moment.profile.brand_id.clone(),
        relevance: relevance_score,
        timing: timing.score,
        intrusiveness_risk: risk.score,
        opportunity,
        decision,
        recommended_mode,
        respond_by: response.respond_by,
        max_review_latency: response.max_review_latency,
        confidence,
        reasons: ledger.reasons.into_sorted(),
        profile_version: compiled.version(),
        model_version: MODEL_VERSION.to_string(),
        assessed_at: now,
    }
}

/// Candidate mode from who spoke to whom, before the decision.
fn mode_for(kind: EventKind, addressed: bool) -> EngagementMode {
    match kind {
        EventKind::DirectMessage => EngagementMode::CustomerCare,
        EventKind::Complaint | EventKind::Question if addressed => EngagementMode::CustomerCare,
        EventKind::Complaint | EventKind::Question => EngagementMode::Reply,
        EventKind::BrandMention | EventKind::Praise => EngagementMode::Reply,
        EventKind::Conversation => EngagementMode::JoinConversation,
        EventKind::TrendingTopic
        | EventKind::News
        | EventKind::LiveEvent
        | EventKind::CulturalMoment => EngagementMode::Newsjack,
    }
}
