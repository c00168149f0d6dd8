//! Scoring orchestration between the gRPC edge and the pure core: loads
//! compiled profiles through the cache, gathers guardrail state (active
//! blackouts, engagement counts), calls the core, and hands assessments to
//! the decision log. Knows nothing of protobuf.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use jiff::Timestamp;

use crate::cache::ProfileCache;
use crate::core::model::{
    Assessment, Blackout, DecisionRecord, EngagementCounts, Event, Guardrails,
};
use crate::core::{AnalysedEvent, CompiledProfile, analyse_owned};
use crate::error::Error;
use crate::guardrails::{Blackouts, DecisionLog, EngagementIndex};
use crate::ids::IdGen;
use crate::metrics::Metrics;

pub struct Scorer {
    pub cache: Arc<ProfileCache>,
    pub analyses: Analyses,
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
        analyses: Analyses,
        blackouts: Arc<Blackouts>,
        engagements: Arc<EngagementIndex>,
        log: Arc<DecisionLog>,
        metrics: Arc<Metrics>,
        log_all: bool,
    ) -> Self {
        Self {
            cache,
            analyses,
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
        caller: &str,
        log: bool,
        digest: impl FnOnce() -> String,
    ) -> Scored {
        let decided_at = Timestamp::now();
        let decision_id = self.ids.next(decided_at);
        self.metrics
            .decided(assessment.decision, assessment.recommended_mode);
        let logged = self.should_log(log)
            && self.log.submit(DecisionRecord {
                decision_id: decision_id.clone(),
                request_id: request_id.to_string(),
                assessment: assessment.clone(),
                decided_at,
                event_digest: digest(),
                caller: caller.to_string(),
            });
        Scored {
            assessment,
            decision_id,
            logged,
        }
    }

    /// The event's analysis, from the cache of recent events when the same
    /// encoding was seen; `event` converts and validates it otherwise.
    pub fn analysis(
        &self,
        encoded: &[u8],
        event: impl FnOnce() -> Result<Event, Error>,
    ) -> Result<Arc<AnalysedEvent>, Error> {
        let (analysed, hit) = self.analyses.get_or_analyse(encoded, event)?;
        Metrics::inc(if hit {
            &self.metrics.event_analyses_reused
        } else {
            &self.metrics.event_analyses
        });
        Ok(analysed)
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

/// Analyses of recently scored events. Callers score one event against many
/// brands with one unary Score (or ScoreStream item) per brand; analysing
/// the event is most of a pair's CPU, and the analysis depends on the event
/// alone, so it is done once per distinct event. Keyed by the event's
/// canonical encoding, which every hit compares in full: a hash collision
/// costs an analysis, never a wrong answer.
pub struct Analyses {
    cache: Option<moka::sync::Cache<u64, Arc<CachedAnalysis>>>,
    hasher: RandomState,
}

struct CachedAnalysis {
    encoded: Box<[u8]>,
    analysed: Arc<AnalysedEvent>,
}

/// An analysis takes about eleven times its event's encoded size (5.3 kB
/// for the 470-byte synthetic event: token streams, hashes, findings, the
/// event itself), and the entry keeps the encoding too. Events dense in
/// short tokens (`#a #a …`) take more, about 30 bytes a token, so the
/// weigher charges whichever is larger, and the byte budget bounds memory
/// whatever the events are.
fn weight(encoded_len: usize, tokens: usize) -> u32 {
    let by_size = encoded_len.saturating_mul(12);
    let by_tokens = tokens.saturating_mul(BYTES_PER_TOKEN);
    u32::try_from(by_size.max(by_tokens).saturating_add(1024)).unwrap_or(u32::MAX)
}

/// Memory of one token of an analysis's streams (BENCHMARKS.md, "Work
/// budgets"), with the event's own copy of the text on top.
const BYTES_PER_TOKEN: usize = 32;

impl Analyses {
    /// A cache of at most `budget_bytes` of analyses; 0 turns it off.
    pub fn new(budget_bytes: u64) -> Self {
        let cache = (budget_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(budget_bytes)
                .weigher(|_: &u64, v: &Arc<CachedAnalysis>| {
                    weight(v.encoded.len(), v.analysed.stream_tokens())
                })
                .build()
        });
        Self {
            cache,
            hasher: RandomState::new(),
        }
    }

    /// Whether analyses are kept (`--event-cache-mb` above 0).
    pub fn caches(&self) -> bool {
        self.cache.is_some()
    }

    /// The analysis of the event whose canonical encoding is `encoded`;
    /// `event` converts and validates it on a miss. Returns whether it was
    /// a hit, for the metrics.
    pub fn get_or_analyse<E>(
        &self,
        encoded: &[u8],
        event: impl FnOnce() -> Result<Event, E>,
    ) -> Result<(Arc<AnalysedEvent>, bool), E> {
        let Some(cache) = &self.cache else {
            return Ok((Arc::new(analyse_owned(event()?)), false));
        };
        let key = self.hasher.hash_one(encoded);
        if let Some(hit) = cache.get(&key)
            && *hit.encoded == *encoded
        {
            return Ok((hit.analysed.clone(), true));
        }
        let analysed = Arc::new(analyse_owned(event()?));
        cache.insert(
            key,
            Arc::new(CachedAnalysis {
                encoded: encoded.into(),
                analysed: analysed.clone(),
            }),
        );
        Ok((analysed, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    #[test]
    fn analyses_are_reused_only_for_identical_encodings() {
        let cache = Analyses::new(1 << 20);
        let mut calls = 0;
        let mut get = |bytes: &[u8], text: &str| {
            cache
                .get_or_analyse(bytes, || {
                    calls += 1;
                    let mut e = synthetic::event(0);
                    e.text = text.to_string();
                    Ok::<_, ()>(e)
                })
                .unwrap()
        };
        let (a, hit_a) = get(b"one", "first text");
        let (b, hit_b) = get(b"one", "ignored: served from the cache");
        let (c, hit_c) = get(b"two", "second text");
        assert!(!hit_a && hit_b && !hit_c);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.event.text, "second text");
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_zero_budget_analyses_every_time() {
        let cache = Analyses::new(0);
        for _ in 0..2 {
            let (_, hit) = cache
                .get_or_analyse(b"same", || Ok::<_, ()>(synthetic::event(0)))
                .unwrap();
            assert!(!hit);
        }
    }

    #[test]
    fn validation_errors_are_not_cached() {
        let cache = Analyses::new(1 << 20);
        let first = cache.get_or_analyse(b"bad", || Err::<Event, _>("invalid"));
        assert_eq!(first.err(), Some("invalid"));
        let (_, hit) = cache
            .get_or_analyse(b"bad", || Ok::<_, ()>(synthetic::event(0)))
            .unwrap();
        assert!(!hit);
    }
}
