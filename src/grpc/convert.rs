//! proto <-> domain conversion. Inbound conversion validates what the type
//! system of protobuf cannot (unset enums, negative durations, timestamps
//! out of range) and reports the field path; the domain validator does the
//! rest.

use std::time::Duration;

use jiff::Timestamp;

use super::pb;
use crate::core::ValidationError;
use crate::core::model as m;

type Result<T> = std::result::Result<T, ValidationError>;

fn err<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T> {
    Err(ValidationError::new(field, message))
}

// ----- scalars --------------------------------------------------------------

pub fn timestamp_in(t: &prost_types::Timestamp, field: &str) -> Result<Timestamp> {
    Timestamp::new(t.seconds, t.nanos)
        .or_else(|_| err(field, "timestamp out of range (years -9999 to 9999)"))
}

pub fn timestamp_out(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: t.subsec_nanosecond(),
    }
}

pub fn duration_in(d: &prost_types::Duration, field: &str) -> Result<Duration> {
    if d.seconds < 0 || d.nanos < 0 {
        return err(field, "must not be negative");
    }
    if !(0..1_000_000_000).contains(&d.nanos) {
        return err(field, "nanos must be 0 to 999,999,999");
    }
    Ok(Duration::new(d.seconds as u64, d.nanos as u32))
}

/// A deadline on the wire: whole seconds, rounded down (earlier, never
/// later, than the one computed), since nobody publishes to the nanosecond.
fn deadline_out(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: 0,
    }
}

/// A latency bound on the wire: whole seconds, rounded down.
fn bound_out(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: 0,
    }
}

pub fn duration_out(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    }
}

// ----- enums ----------------------------------------------------------------

/// Decodes a proto enum value; `Ok(None)` for UNSPECIFIED.
fn enum_in<P: TryFrom<i32>>(v: i32, field: &str) -> Result<Option<P>> {
    if v == 0 {
        return Ok(None);
    }
    P::try_from(v)
        .map(Some)
        .or_else(|_| err(field, format!("unknown enum value {v}")))
}

fn required<T>(v: Option<T>, field: &str) -> Result<T> {
    v.map_or_else(|| err(field, "must be set"), Ok)
}

pub fn event_kind_in(v: i32, field: &str) -> Result<m::EventKind> {
    use m::EventKind as K;
    use pb::EventKind as P;
    Ok(match required(enum_in::<P>(v, field)?, field)? {
        P::Unspecified => return err(field, "must be set"),
        P::BrandMention => K::BrandMention,
        P::DirectMessage => K::DirectMessage,
        P::Question => K::Question,
        P::Complaint => K::Complaint,
        P::Praise => K::Praise,
        P::Conversation => K::Conversation,
        P::TrendingTopic => K::TrendingTopic,
        P::News => K::News,
        P::LiveEvent => K::LiveEvent,
        P::CulturalMoment => K::CulturalMoment,
    })
}

pub fn event_kind_out(k: m::EventKind) -> pb::EventKind {
    use m::EventKind as K;
    use pb::EventKind as P;
    match k {
        K::BrandMention => P::BrandMention,
        K::DirectMessage => P::DirectMessage,
        K::Question => P::Question,
        K::Complaint => P::Complaint,
        K::Praise => P::Praise,
        K::Conversation => P::Conversation,
        K::TrendingTopic => P::TrendingTopic,
        K::News => P::News,
        K::LiveEvent => P::LiveEvent,
        K::CulturalMoment => P::CulturalMoment,
    }
}

pub fn mode_in(v: i32, field: &str) -> Result<Option<m::EngagementMode>> {
    use m::EngagementMode as M;
    use pb::EngagementMode as P;
    Ok(enum_in::<P>(v, field)?.and_then(|p| match p {
        P::Unspecified => None,
        P::None => Some(M::None),
        P::CustomerCare => Some(M::CustomerCare),
        P::Reply => Some(M::Reply),
        P::JoinConversation => Some(M::JoinConversation),
        P::Newsjack => Some(M::Newsjack),
    }))
}

pub fn mode_out(v: m::EngagementMode) -> pb::EngagementMode {
    use m::EngagementMode as M;
    use pb::EngagementMode as P;
    match v {
        M::None => P::None,
        M::CustomerCare => P::CustomerCare,
        M::Reply => P::Reply,
        M::JoinConversation => P::JoinConversation,
        M::Newsjack => P::Newsjack,
    }
}

fn appetite_in(v: i32, field: &str) -> Result<m::RiskAppetite> {
    use m::RiskAppetite as R;
    use pb::RiskAppetite as P;
    Ok(match enum_in::<P>(v, field)? {
        None | Some(P::Unspecified) | Some(P::Balanced) => R::Balanced,
        Some(P::Conservative) => R::Conservative,
        Some(P::Bold) => R::Bold,
    })
}

fn appetite_out(v: m::RiskAppetite) -> pb::RiskAppetite {
    match v {
        m::RiskAppetite::Conservative => pb::RiskAppetite::Conservative,
        m::RiskAppetite::Balanced => pb::RiskAppetite::Balanced,
        m::RiskAppetite::Bold => pb::RiskAppetite::Bold,
    }
}

const CATEGORIES: [(pb::SensitiveCategory, m::SensitiveCategory); 12] = {
    use m::SensitiveCategory as C;
    use pb::SensitiveCategory as P;
    [
        (P::Adult, C::Adult),
        (P::ArmsAmmunition, C::ArmsAmmunition),
        (P::CrimeHarmfulActs, C::CrimeHarmfulActs),
        (
            P::DeathInjuryMilitaryConflict,
            C::DeathInjuryMilitaryConflict,
        ),
        (P::OnlinePiracy, C::OnlinePiracy),
        (P::HateSpeech, C::HateSpeech),
        (P::ObscenityProfanity, C::ObscenityProfanity),
        (P::DrugsTobaccoAlcohol, C::DrugsTobaccoAlcohol),
        (P::SpamHarmful, C::SpamHarmful),
        (P::Terrorism, C::Terrorism),
        (P::DebatedSocialIssues, C::DebatedSocialIssues),
        (P::Misinformation, C::Misinformation),
    ]
};

fn category_in(v: i32, field: &str) -> Result<m::SensitiveCategory> {
    let p = required(enum_in::<pb::SensitiveCategory>(v, field)?, field)?;
    CATEGORIES
        .iter()
        .find(|(pp, _)| *pp == p)
        .map_or_else(|| err(field, "must be set"), |(_, c)| Ok(*c))
}

fn category_out(c: m::SensitiveCategory) -> pb::SensitiveCategory {
    CATEGORIES
        .iter()
        .find(|(_, cc)| *cc == c)
        .map_or(pb::SensitiveCategory::Unspecified, |(p, _)| *p)
}

fn level_in(v: i32, field: &str) -> Result<Option<m::RiskLevel>> {
    use m::RiskLevel as L;
    use pb::RiskLevel as P;
    Ok(enum_in::<P>(v, field)?.and_then(|p| match p {
        P::Unspecified => None,
        P::None => Some(L::None),
        P::Low => Some(L::Low),
        P::Medium => Some(L::Medium),
        P::High => Some(L::High),
    }))
}

fn level_out(v: m::RiskLevel) -> pb::RiskLevel {
    match v {
        m::RiskLevel::None => pb::RiskLevel::None,
        m::RiskLevel::Low => pb::RiskLevel::Low,
        m::RiskLevel::Medium => pb::RiskLevel::Medium,
        m::RiskLevel::High => pb::RiskLevel::High,
    }
}

// ----- brand profiles -------------------------------------------------------

fn weighted_in(list: &[pb::WeightedTerm]) -> Vec<m::WeightedTerm> {
    list.iter()
        .map(|w| m::WeightedTerm {
            term: w.term.clone(),
            weight: w.weight,
        })
        .collect()
}

fn weighted_out(list: &[m::WeightedTerm]) -> Vec<pb::WeightedTerm> {
    list.iter()
        .map(|w| pb::WeightedTerm {
            term: w.term.clone(),
            weight: w.weight,
        })
        .collect()
}

fn windows_in(list: &[pb::LocalWindow]) -> Vec<m::LocalWindow> {
    list.iter()
        .map(|w| m::LocalWindow {
            start_minute: w.start_minute,
            end_minute: w.end_minute,
        })
        .collect()
}

fn windows_out(list: &[m::LocalWindow]) -> Vec<pb::LocalWindow> {
    list.iter()
        .map(|w| pb::LocalWindow {
            start_minute: w.start_minute,
            end_minute: w.end_minute,
        })
        .collect()
}

/// Converts a caller's profile; field paths are relative to the profile.
/// Server-set fields (`version`, `updated_at`) are ignored.
pub fn profile_in(p: &pb::BrandProfile) -> Result<m::BrandProfile> {
    let mut tolerance = Vec::with_capacity(p.sensitivity_tolerance.len());
    for (i, t) in p.sensitivity_tolerance.iter().enumerate() {
        let f = format!("sensitivity_tolerance[{i}]");
        let category = category_in(t.category, &format!("{f}.category"))?;
        let level = match level_in(t.max_level, &format!("{f}.max_level"))? {
            Some(l) => Some(l),
            None => level_in(t.tolerance, &format!("{f}.tolerance"))?,
        };
        let max_level = required(level, &format!("{f}.max_level"))?;
        tolerance.push(m::CategoryTolerance {
            category,
            max_level,
        });
    }
    let mut latency = Vec::with_capacity(p.approval_latency.len());
    for (i, l) in p.approval_latency.iter().enumerate() {
        let f = format!("approval_latency[{i}]");
        let mode = required(mode_in(l.mode, &format!("{f}.mode"))?, &format!("{f}.mode"))?;
        let d = required(l.latency.as_ref(), &format!("{f}.latency"))?;
        latency.push(m::ModeLatency {
            mode,
            latency: duration_in(d, &format!("{f}.latency"))?,
        });
    }
    let mut half_lives = Vec::with_capacity(p.half_life_overrides.len());
    for (i, h) in p.half_life_overrides.iter().enumerate() {
        let f = format!("half_life_overrides[{i}]");
        let kind = event_kind_in(h.kind, &format!("{f}.kind"))?;
        let d = required(h.half_life.as_ref(), &format!("{f}.half_life"))?;
        half_lives.push(m::KindHalfLife {
            kind,
            half_life: duration_in(d, &format!("{f}.half_life"))?,
        });
    }
    let caps = p.frequency_caps.unwrap_or_default();
    Ok(m::BrandProfile {
        brand_id: p.brand_id.clone(),
        display_name: p.display_name.clone(),
        aliases: p.aliases.clone(),
        category: p.category.clone(),
        themes: weighted_in(&p.themes),
        topics: weighted_in(&p.topics),
        competitors: p.competitors.clone(),
        blocked_terms: p.blocked_terms.clone(),
        blocked_topics: p.blocked_topics.clone(),
        sensitivity_tolerance: tolerance,
        risk_appetite: appetite_in(p.risk_appetite, "risk_appetite")?,
        audience_time_zone: p.audience_time_zone.clone(),
        active_windows: windows_in(&p.active_windows),
        quiet_hours: windows_in(&p.quiet_hours),
        approval_latency: latency,
        half_life_overrides: half_lives,
        frequency_caps: m::FrequencyCaps {
            per_author_per_day: caps.per_author_per_day,
            per_conversation_per_day: caps.per_conversation_per_day,
            per_brand_per_hour: caps.per_brand_per_hour,
        },
        embedding: p.embedding.clone(),
    })
}

pub fn profile_out(s: &m::StoredProfile) -> pb::BrandProfile {
    let p = &s.profile;
    pb::BrandProfile {
        brand_id: p.brand_id.clone(),
        display_name: p.display_name.clone(),
        aliases: p.aliases.clone(),
        category: p.category.clone(),
        themes: weighted_out(&p.themes),
        topics: weighted_out(&p.topics),
        competitors: p.competitors.clone(),
        blocked_terms: p.blocked_terms.clone(),
        blocked_topics: p.blocked_topics.clone(),
        sensitivity_tolerance: p
            .sensitivity_tolerance
            .iter()
            .map(|t| pb::CategoryTolerance {
                category: category_out(t.category) as i32,
                max_level: level_out(t.max_level) as i32,
                tolerance: 0,
            })
            .collect(),
        risk_appetite: appetite_out(p.risk_appetite) as i32,
        audience_time_zone: p.audience_time_zone.clone(),
        active_windows: windows_out(&p.active_windows),
        quiet_hours: windows_out(&p.quiet_hours),
        approval_latency: p
            .approval_latency
            .iter()
            .map(|l| pb::ModeLatency {
                mode: mode_out(l.mode) as i32,
                latency: Some(duration_out(l.latency)),
            })
            .collect(),
        half_life_overrides: p
            .half_life_overrides
            .iter()
            .map(|h| pb::KindHalfLife {
                kind: event_kind_out(h.kind) as i32,
                half_life: Some(duration_out(h.half_life)),
            })
            .collect(),
        frequency_caps: Some(pb::FrequencyCaps {
            per_author_per_day: p.frequency_caps.per_author_per_day,
            per_conversation_per_day: p.frequency_caps.per_conversation_per_day,
            per_brand_per_hour: p.frequency_caps.per_brand_per_hour,
        }),
        embedding: p.embedding.clone(),
        version: s.version,
        updated_at: Some(timestamp_out(s.updated_at)),
    }
}

// ----- events and assessments ------------------------------------------------

/// Converts an event; field paths are relative to the event.
pub fn event_in(e: &pb::Event) -> Result<m::Event> {
    event_from(e.clone())
}

/// [`event_in`] of an event the caller no longer needs: its strings move
/// into the domain event instead of being copied.
pub fn event_from(e: pb::Event) -> Result<m::Event> {
    let kind = event_kind_in(e.kind, "kind")?;
    let occurred_at = timestamp_in(
        required(e.occurred_at.as_ref(), "occurred_at")?,
        "occurred_at",
    )?;
    let observed_at = e
        .observed_at
        .as_ref()
        .map(|t| timestamp_in(t, "observed_at"))
        .transpose()?;
    let velocity = match e.velocity {
        None => None,
        Some(v) => Some(m::Velocity {
            mentions_per_minute: v.mentions_per_minute,
            history_per_minute: v.history_per_minute,
            window: match &v.window {
                Some(w) => duration_in(w, "velocity.window")?,
                None => Duration::from_secs(300),
            },
        }),
    };
    let event = m::Event {
        id: e.id,
        kind,
        text: e.text,
        language: e.language,
        hashtags: e.hashtags,
        topics: e
            .topics
            .into_iter()
            .map(|t| m::Topic {
                label: t.label,
                confidence: t.confidence,
            })
            .collect(),
        entities: e.entities,
        occurred_at,
        observed_at,
        channel: e.channel,
        author: e.author.map(|a| m::Author {
            id: a.id,
            follower_count: a.follower_count,
            verified: a.verified,
            follows_brand: a.follows_brand,
            bot_likelihood: a.bot_likelihood,
            display_name: a.display_name,
        }),
        addressed_to_brand: e.addressed_to_brand,
        conversation_id: e.conversation_id,
        audience_time_zone: e.audience_time_zone,
        audience_region: e.audience_region,
        velocity,
        sentiment: e.sentiment,
        sensitivity_labels: e.sensitivity_labels,
        sample_posts: e.sample_posts,
        embedding: e.embedding,
    };
    crate::core::validate::validate_event(&event)?;
    Ok(event)
}

fn decision_out(d: m::Decision) -> pb::Decision {
    match d {
        m::Decision::Engage => pb::Decision::Engage,
        m::Decision::Review => pb::Decision::Review,
        m::Decision::Listen => pb::Decision::Listen,
        m::Decision::Decline => pb::Decision::Decline,
    }
}

pub fn decision_in(v: i32, field: &str) -> Result<Option<m::Decision>> {
    use pb::Decision as P;
    Ok(enum_in::<P>(v, field)?.and_then(|p| match p {
        P::Unspecified => None,
        P::Engage => Some(m::Decision::Engage),
        P::Review => Some(m::Decision::Review),
        P::Listen => Some(m::Decision::Listen),
        P::Decline => Some(m::Decision::Decline),
    }))
}

fn factor_out(f: m::Factor) -> pb::Factor {
    match f {
        m::Factor::Relevance => pb::Factor::Relevance,
        m::Factor::Timing => pb::Factor::Timing,
        m::Factor::Risk => pb::Factor::Risk,
        m::Factor::Decision => pb::Factor::Decision,
    }
}

fn reason_code_out(c: m::ReasonCode) -> pb::ReasonCode {
    use m::ReasonCode as R;
    use pb::ReasonCode as P;
    match c {
        R::DirectMention => P::DirectMention,
        R::ThemeMatch => P::ThemeMatch,
        R::TopicMatch => P::TopicMatch,
        R::EmbeddingSimilarity => P::EmbeddingSimilarity,
        R::OffPlatform => P::OffPlatform,
        R::Fresh => P::Fresh,
        R::Stale => P::Stale,
        R::StaleAfterReview => P::StaleAfterReview,
        R::TrendRising => P::TrendRising,
        R::TrendFading => P::TrendFading,
        R::ActiveWindow => P::ActiveWindow,
        R::QuietHours => P::QuietHours,
        R::Solicited => P::Solicited,
        R::Unsolicited => P::Unsolicited,
        R::SensitiveContext => P::SensitiveContext,
        R::FloorCategory => P::FloorCategory,
        R::TragedyAnniversary => P::TragedyAnniversary,
        R::GriefOrOutrage => P::GriefOrOutrage,
        R::CompetitorConversation => P::CompetitorConversation,
        R::LowAuthenticity => P::LowAuthenticity,
        R::FrequencyCap => P::FrequencyCap,
        R::BlockedTerm => P::BlockedTerm,
        R::BlockedTopic => P::BlockedTopic,
        R::BlackoutActive => P::BlackoutActive,
        R::LowConfidence => P::LowConfidence,
        R::BrandCrisis => P::BrandCrisis,
        R::ValuesMoment => P::ValuesMoment,
        R::EchoTrap => P::EchoTrap,
        R::HighReach => P::HighReach,
        R::EntityCollision => P::EntityCollision,
        R::NegativeSentiment => P::NegativeSentiment,
        R::PileOn => P::PileOn,
        R::CrowdWarnsBrands => P::CrowdWarnsBrands,
    }
}

/// How much of an assessment goes on the wire (`view` of the scoring
/// requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Full,
    Compact,
}

pub fn view_in(v: i32, field: &str) -> Result<View> {
    use pb::AssessmentView as P;
    Ok(match enum_in::<P>(v, field)? {
        None | Some(P::Unspecified) | Some(P::Full) => View::Full,
        Some(P::Compact) => View::Compact,
    })
}

/// The wire form of an assessment; `decision_id` and `request_id` are the
/// server's and the caller's, everything else comes from the core.
/// Takes the assessment by value: its strings move into the message
/// instead of being copied (a ScoreBatch answer builds thousands).
/// COMPACT is what a bulk caller acts on, without the text that explains it
/// (reason details) or what it can know otherwise (versions, the instant
/// it asked for); its numbers are FULL's.
pub fn assessment_out(
    a: m::Assessment,
    decision_id: String,
    request_id: String,
    view: View,
) -> pb::Assessment {
    let full = view == View::Full;
    // FULL sets every score, so JSON shows a 0; COMPACT leaves a score of
    // 0 unset, as proto3 would without `optional`: nine bytes each, and
    // bulk callers read an unset score as 0.
    let score = |v: f64| (full || v != 0.0).then_some(v);
    pb::Assessment {
        decision_id,
        request_id,
        event_id: a.event_id,
        brand_id: a.brand_id,
        relevance: score(a.relevance),
        timing: score(a.timing),
        intrusiveness_risk: score(a.intrusiveness_risk),
        opportunity: score(a.opportunity),
        decision: decision_out(a.decision) as i32,
        recommended_mode: mode_out(a.recommended_mode) as i32,
        respond_by: a.respond_by.map(deadline_out),
        max_review_latency: a.max_review_latency.map(bound_out),
        confidence: score(a.confidence),
        reasons: a
            .reasons
            .into_iter()
            .map(|r| pb::Reason {
                code: reason_code_out(r.code) as i32,
                factor: factor_out(r.factor) as i32,
                contribution: r.contribution,
                detail: if full {
                    r.detail.into_string()
                } else {
                    String::new()
                },
            })
            .collect(),
        profile_version: if full { a.profile_version } else { 0 },
        model_version: if full { a.model_version } else { String::new() },
        assessed_at: full.then(|| timestamp_out(a.assessed_at)),
        decision_logged: false,
    }
}

// ----- guardrails -------------------------------------------------------------

fn scope_in(v: i32, field: &str) -> Result<m::BlackoutScope> {
    use pb::BlackoutScope as P;
    match required(enum_in::<P>(v, field)?, field)? {
        P::Unspecified => err(field, "must be set"),
        P::Global => Ok(m::BlackoutScope::Global),
        P::Brand => Ok(m::BlackoutScope::Brand),
        P::Topic => Ok(m::BlackoutScope::Topic),
        P::Region => Ok(m::BlackoutScope::Region),
    }
}

fn scope_out(s: m::BlackoutScope) -> pb::BlackoutScope {
    match s {
        m::BlackoutScope::Global => pb::BlackoutScope::Global,
        m::BlackoutScope::Brand => pb::BlackoutScope::Brand,
        m::BlackoutScope::Topic => pb::BlackoutScope::Topic,
        m::BlackoutScope::Region => pb::BlackoutScope::Region,
    }
}

/// Converts and validates a new blackout; paths relative to the blackout.
/// `id` and `created_at` are the server's.
pub fn blackout_in(b: &pb::Blackout, id: String, created_at: Timestamp) -> Result<m::Blackout> {
    use crate::core::validate::validate_brand_id;
    let scope = scope_in(b.scope, "scope")?;
    let starts_at = b
        .starts_at
        .as_ref()
        .map(|t| timestamp_in(t, "starts_at"))
        .transpose()?;
    let ends_at = b
        .ends_at
        .as_ref()
        .map(|t| timestamp_in(t, "ends_at"))
        .transpose()?;
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e <= s
    {
        return err("ends_at", "must be after starts_at");
    }
    if b.reason.trim().is_empty() {
        return err(
            "reason",
            "must not be empty: say why, it is shown in every declined assessment",
        );
    }
    if b.reason.chars().count() > 500 {
        return err("reason", "must be at most 500 characters");
    }
    if !b.brand_id.is_empty() {
        validate_brand_id(&b.brand_id, "brand_id")?;
    }
    let terms: Vec<String> = b.terms.iter().map(|t| t.trim().to_string()).collect();
    if terms.len() > 100 {
        return err("terms", "must have at most 100 entries");
    }
    for (i, t) in terms.iter().enumerate() {
        if t.is_empty() || t.chars().count() > 200 {
            return err(format!("terms[{i}]"), "must be 1 to 200 characters");
        }
    }
    let region = b.region.trim().to_string();
    if region.chars().count() > 64 {
        return err("region", "must be at most 64 characters");
    }
    match scope {
        m::BlackoutScope::Global => {
            if !b.brand_id.is_empty() {
                return err(
                    "brand_id",
                    "must be empty for BLACKOUT_SCOPE_GLOBAL (use BLACKOUT_SCOPE_BRAND)",
                );
            }
        }
        m::BlackoutScope::Brand => {
            if b.brand_id.is_empty() {
                return err("brand_id", "must be set for BLACKOUT_SCOPE_BRAND");
            }
        }
        m::BlackoutScope::Topic => {
            if terms.is_empty() {
                return err(
                    "terms",
                    "must name at least one term for BLACKOUT_SCOPE_TOPIC",
                );
            }
        }
        m::BlackoutScope::Region => {
            if region.is_empty() {
                return err("region", "must be set for BLACKOUT_SCOPE_REGION");
            }
        }
    }
    Ok(m::Blackout {
        id,
        scope,
        brand_id: b.brand_id.clone(),
        terms,
        region,
        starts_at,
        ends_at,
        reason: b.reason.trim().to_string(),
        created_at,
    })
}

pub fn blackout_out(b: &m::Blackout) -> pb::Blackout {
    pb::Blackout {
        id: b.id.clone(),
        scope: scope_out(b.scope) as i32,
        brand_id: b.brand_id.clone(),
        terms: b.terms.clone(),
        region: b.region.clone(),
        starts_at: b.starts_at.map(timestamp_out),
        ends_at: b.ends_at.map(timestamp_out),
        reason: b.reason.clone(),
        created_at: Some(timestamp_out(b.created_at)),
    }
}

fn outcome_in(v: i32, field: &str) -> Result<m::EngagementOutcome> {
    use pb::EngagementOutcome as P;
    Ok(match enum_in::<P>(v, field)? {
        None | Some(P::Unspecified) => m::EngagementOutcome::Unknown,
        Some(P::Positive) => m::EngagementOutcome::Positive,
        Some(P::Neutral) => m::EngagementOutcome::Neutral,
        Some(P::Backlash) => m::EngagementOutcome::Backlash,
    })
}

fn outcome_out(o: m::EngagementOutcome) -> pb::EngagementOutcome {
    match o {
        m::EngagementOutcome::Unknown => pb::EngagementOutcome::Unspecified,
        m::EngagementOutcome::Positive => pb::EngagementOutcome::Positive,
        m::EngagementOutcome::Neutral => pb::EngagementOutcome::Neutral,
        m::EngagementOutcome::Backlash => pb::EngagementOutcome::Backlash,
    }
}

/// Converts and validates an engagement; `at` defaults to `now`.
pub fn engagement_in(e: &pb::Engagement, id: String, now: Timestamp) -> Result<m::Engagement> {
    crate::core::validate::validate_brand_id(&e.brand_id, "brand_id")?;
    for (field, v) in [
        ("author_id", &e.author_id),
        ("conversation_id", &e.conversation_id),
        ("event_id", &e.event_id),
    ] {
        if v.chars().count() > 200 {
            return err(field, "must be at most 200 characters");
        }
    }
    Ok(m::Engagement {
        id,
        brand_id: e.brand_id.clone(),
        author_id: e.author_id.clone(),
        conversation_id: e.conversation_id.clone(),
        event_id: e.event_id.clone(),
        mode: mode_in(e.mode, "mode")?,
        at: e
            .at
            .as_ref()
            .map(|t| timestamp_in(t, "at"))
            .transpose()?
            .unwrap_or(now),
        outcome: outcome_in(e.outcome, "outcome")?,
    })
}

pub fn engagement_out(e: &m::Engagement) -> pb::Engagement {
    pb::Engagement {
        id: e.id.clone(),
        brand_id: e.brand_id.clone(),
        author_id: e.author_id.clone(),
        conversation_id: e.conversation_id.clone(),
        event_id: e.event_id.clone(),
        mode: e.mode.map_or(pb::EngagementMode::Unspecified, mode_out) as i32,
        at: Some(timestamp_out(e.at)),
        outcome: outcome_out(e.outcome) as i32,
    }
}

pub fn decision_record_out(r: m::DecisionRecord) -> pb::DecisionRecord {
    let mut a = assessment_out(r.assessment, r.decision_id, r.request_id, View::Full);
    a.decision_logged = true;
    pb::DecisionRecord {
        assessment: Some(a),
        decided_at: Some(timestamp_out(r.decided_at)),
        event_digest: r.event_digest,
        caller: r.caller,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_round_trips() {
        for c in m::SensitiveCategory::ALL {
            let p = category_out(c);
            assert_eq!(category_in(p as i32, "f"), Ok(c));
        }
    }

    #[test]
    fn every_kind_round_trips() {
        for k in m::EventKind::ALL {
            assert_eq!(event_kind_in(event_kind_out(k) as i32, "f"), Ok(k));
        }
    }

    #[test]
    fn unset_and_unknown_enums_name_the_field() {
        assert_eq!(
            event_kind_in(0, "event.kind").unwrap_err().field,
            "event.kind"
        );
        assert_eq!(
            event_kind_in(99, "event.kind").unwrap_err().field,
            "event.kind"
        );
    }

    #[test]
    fn tolerance_alias_is_accepted() {
        let p = pb::BrandProfile {
            brand_id: "b".into(),
            sensitivity_tolerance: vec![pb::CategoryTolerance {
                category: pb::SensitiveCategory::Adult as i32,
                max_level: 0,
                tolerance: pb::RiskLevel::Low as i32,
            }],
            ..Default::default()
        };
        let d = profile_in(&p).unwrap();
        assert_eq!(d.sensitivity_tolerance[0].max_level, m::RiskLevel::Low);
    }

    #[test]
    fn negative_durations_are_rejected() {
        let d = prost_types::Duration {
            seconds: -1,
            nanos: 0,
        };
        assert_eq!(duration_in(&d, "x").unwrap_err().field, "x");
    }
}
