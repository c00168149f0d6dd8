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
