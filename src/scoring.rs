//! Scoring orchestration between the gRPC edge and the pure core: loads
//! compiled profiles through the cache, gathers guardrail state (active
//! blackouts, engagement counts), calls the core, and hands assessments to
//! the decision log. Knows nothing of protobuf.

use std::sync::Arc;

use jiff::Timestamp;

use crate::cache::ProfileCache;
use crate::core::model::{
    Assessment, Blackout, DecisionRecord, EngagementCounts, Event, Guardrails,
};
use crate::core::{AnalysedEvent, CompiledProfile};
use crate::error::Error;
use crate::guardrails::{Blackouts, DecisionLog, EngagementIndex};
use crate::ids::IdGen;
use crate::metrics::Metrics;

pub struct Scorer {
    pub cache: Arc<ProfileCache>,
    pub blackouts: Arc<Blackouts>,
    pub engagements: Arc<EngagementIndex>,
    pub log: Arc<DecisionLog>,
    pub metrics: Arc<Metrics>,
    ids: IdGen,
    log_all: bool,
}

/// An assessment with its server-side identity.
#[derive(Debug, Clone)]
pub struct Scored {
    pub assessment: Assessment,
    pub decision_id: String,
    pub logged: bool,
}

impl Scorer {
    pub fn new(
        cache: Arc<ProfileCache>,
        blackouts: Arc<Blackouts>,
        engagements: Arc<EngagementIndex>,
        log: Arc<DecisionLog>,
        metrics: Arc<Metrics>,
        log_all: bool,
    ) -> Self {
        Self {
            cache,
            blackouts,
            engagements,
            log,
            metrics,
            ids: IdGen::new("d"),
            log_all,
        }
    }

    /// Whether an assessment made with `requested` should be logged.
    pub fn should_log(&self, requested: bool) -> bool {
        requested || self.log_all
    }

    pub async fn profile(&self, brand_id: &str) -> Result<Arc<CompiledProfile>, Error> {
        Ok(self.cache.get(brand_id).await?)
    }

    /// Blackouts in force at `now`; read once per request.
    pub fn active_blackouts(&self, now: Timestamp) -> Vec<Blackout> {
        self.blackouts.active_at(now)
    }

    /// Engagement counts for this event's author and conversation with the
    /// brand; skipped (zero) when the profile sets no caps.
    pub async fn counts(
        &self,
        profile: &CompiledProfile,
        event: &Event,
        now: Timestamp,
    ) -> Result<EngagementCounts, Error> {
        let caps = profile.stored.profile.frequency_caps;
        if caps.per_author_per_day == 0
            && caps.per_conversation_per_day == 0
            && caps.per_brand_per_hour == 0
        {
            return Ok(EngagementCounts::default());
        }
        let author = event.author.as_ref().map_or("", |a| a.id.as_str());
        self.engagements
            .counts(
                profile.brand_id(),
                author,
                &event.conversation_id,
                now,
                &profile.tz,
            )
            .await
            .map_err(Error::from)
    }

    /// The pure assessment (no I/O).
    pub fn assess(
        &self,
        analysed: &AnalysedEvent,
        profile: &CompiledProfile,
        blackouts: &[Blackout],
        counts: EngagementCounts,
        now: Timestamp,
    ) -> Assessment {
        Metrics::inc(&self.metrics.assessments);
        crate::core::assess(analysed, profile, &Guardrails { blackouts, counts }, now)
    }

    /// Gives the assessment its id and, when asked, queues it for the log.
    /// `digest` is only called when the record is logged.
    pub fn finish(
        &self,
        assessment: Assessment,
        request_id: &str,
        log: bool,
        digest: impl FnOnce() -> String,
    ) -> Scored {
        let decided_at = Timestamp::now();
        let decision_id = self.ids.next(decided_at);
        let logged = self.should_log(log)
            && self.log.submit(DecisionRecord {
                decision_id: decision_id.clone(),
                request_id: request_id.to_string(),
                assessment: assessment.clone(),
                decided_at,
                event_digest: digest(),
            });
        Scored {
            assessment,
            decision_id,
            logged,
        }
    }

    /// One event, one brand: profile, guardrail state and the core.
    pub async fn assess_one(
        &self,
        event: &Event,
        analysed: &AnalysedEvent,
        brand_id: &str,
        now: Timestamp,
    ) -> Result<Assessment, Error> {
        let profile = self.profile(brand_id).await?;
        let counts = self.counts(&profile, event, now).await?;
        let blackouts = self.active_blackouts(now);
        Ok(self.assess(analysed, &profile, &blackouts, counts, now))
    }
}
