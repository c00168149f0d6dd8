//! File formats of the client commands: brand profiles and events in YAML
//! or JSON, with the field names of the proto (snake_case, camelCase also
//! accepted, as grpcurl prints them), enum values by name with or without
//! their prefix (`RISK_APPETITE_BOLD`, `BOLD`, `bold`), durations as
//! `"600s"`, `"10m"`, `"3h"`, `"2d"` or a number of seconds, and
//! timestamps in RFC 3339.

use std::path::Path;

use serde::Deserialize;

use crate::grpc::pb;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

/// A duration as people write it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DurationText {
    Seconds(f64),
    Text(String),
}

fn duration(d: &DurationText) -> Result<prost_types::Duration, String> {
    let secs = match d {
        DurationText::Seconds(s) => *s,
        DurationText::Text(t) => {
            let t = t.trim();
            let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
            let (num, unit) = t.split_at(split);
            let n: f64 = num.trim().parse().map_err(|_| {
                format!("bad duration {t:?} (use e.g. \"600s\", \"10m\", \"3h\", \"2d\")")
            })?;
            n * match unit {
                "" | "s" => 1.0,
                "ms" => 0.001,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                "d" => 86_400.0,
                _ => return Err(format!("unknown duration unit {unit:?} in {t:?}")),
            }
        }
    };
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(format!(
            "duration must be a non-negative number of seconds, got {secs}"
        ));
    }
    Ok(prost_types::Duration {
        seconds: secs.trunc() as i64,
        nanos: ((secs.fract()) * 1e9).round() as i32,
    })
}

pub fn timestamp(t: &str) -> Result<prost_types::Timestamp, String> {
    let ts: jiff::Timestamp = t
        .trim()
        .parse()
        .map_err(|e| format!("bad timestamp {t:?} (RFC 3339, e.g. 2026-02-03T20:38:00Z): {e}"))?;
    Ok(prost_types::Timestamp {
        seconds: ts.as_second(),
        nanos: ts.subsec_nanosecond(),
    })
}

/// Resolves an enum name, with or without its prefix, any case.
fn enum_value(prefix: &str, name: &str, lookup: fn(&str) -> Option<i32>) -> Result<i32, String> {
    let upper = name.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    lookup(&upper)
        .or_else(|| lookup(&format!("{prefix}_{upper}")))
        .ok_or_else(|| format!("unknown value {name:?} for {prefix}"))
}

macro_rules! enum_parser {
    ($fn:ident, $ty:ty, $prefix:literal) => {
        fn $fn(name: &str) -> Result<i32, String> {
            enum_value($prefix, name, |s| <$ty>::from_str_name(s).map(|v| v as i32))
        }
    };
}
enum_parser!(kind, pb::EventKind, "EVENT_KIND");
enum_parser!(mode, pb::EngagementMode, "ENGAGEMENT_MODE");
enum_parser!(appetite, pb::RiskAppetite, "RISK_APPETITE");
enum_parser!(category, pb::SensitiveCategory, "SENSITIVE_CATEGORY");
enum_parser!(level, pb::RiskLevel, "RISK_LEVEL");

/// A decision by name (`engage`, `DECISION_ENGAGE`, ...).
pub fn decision(name: &str) -> Result<i32, String> {
    enum_value("DECISION", name, |s| {
        pb::Decision::from_str_name(s).map(|v| v as i32)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightedTermFile {
    term: String,
    #[serde(default = "one")]
    weight: f64,
}

fn one() -> f64 {
    1.0
}

/// A theme may be written as a bare string (weight 1) or {term, weight}.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TermOrWeighted {
    Bare(String),
    Weighted(WeightedTermFile),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToleranceFile {
    category: String,
    #[serde(alias = "maxLevel", alias = "tolerance")]
    max_level: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFile {
    #[serde(alias = "startMinute")]
    start_minute: u32,
    #[serde(alias = "endMinute")]
    end_minute: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyFile {
    mode: String,
    latency: DurationText,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HalfLifeFile {
    kind: String,
    #[serde(alias = "halfLife")]
    half_life: DurationText,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CapsFile {
    #[serde(default, alias = "perAuthorPerDay")]
    per_author_per_day: u32,
    #[serde(default, alias = "perConversationPerDay")]
    per_conversation_per_day: u32,
    #[serde(default, alias = "perBrandPerHour")]
    per_brand_per_hour: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(alias = "brandId")]
    brand_id: String,
    #[serde(default, alias = "displayName")]
    display_name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    category: String,
    #[serde(default)]
    themes: Vec<TermOrWeighted>,
    #[serde(default)]
    topics: Vec<TermOrWeighted>,
    #[serde(default)]
    competitors: Vec<String>,
    #[serde(default, alias = "blockedTerms")]
    blocked_terms: Vec<String>,
    #[serde(default, alias = "blockedTopics")]
    blocked_topics: Vec<String>,
    #[serde(default, alias = "sensitivityTolerance")]
    sensitivity_tolerance: Vec<ToleranceFile>,
    #[serde(default, alias = "riskAppetite")]
    risk_appetite: Option<String>,
    #[serde(default, alias = "audienceTimeZone")]
    audience_time_zone: String,
    #[serde(default, alias = "activeWindows")]
    active_windows: Vec<WindowFile>,
    #[serde(default, alias = "quietHours")]
    quiet_hours: Vec<WindowFile>,
    #[serde(default, alias = "approvalLatency")]
    approval_latency: Vec<LatencyFile>,
    #[serde(default, alias = "halfLifeOverrides")]
    half_life_overrides: Vec<HalfLifeFile>,
    #[serde(default, alias = "frequencyCaps")]
    frequency_caps: Option<CapsFile>,
    #[serde(default)]
    embedding: Vec<f32>,
    /// Server-set; accepted so `GetBrandProfile` output can be re-imported.
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default, alias = "updatedAt")]
    updated_at: Option<serde_json::Value>,
}

fn terms(list: Vec<TermOrWeighted>) -> Vec<pb::WeightedTerm> {
    list.into_iter()
        .map(|t| match t {
            TermOrWeighted::Bare(term) => pb::WeightedTerm { term, weight: 1.0 },
            TermOrWeighted::Weighted(w) => pb::WeightedTerm {
                term: w.term,
                weight: w.weight,
            },
        })
        .collect()
}

fn windows(list: Vec<WindowFile>) -> Vec<pb::LocalWindow> {
    list.into_iter()
        .map(|w| pb::LocalWindow {
            start_minute: w.start_minute,
            end_minute: w.end_minute,
        })
        .collect()
}

impl ProfileFile {
    fn into_pb(self) -> Result<pb::BrandProfile, String> {
        let _ = (self.version, self.updated_at);
        let caps = self.frequency_caps.unwrap_or_default();
        Ok(pb::BrandProfile {
            brand_id: self.brand_id,
            display_name: self.display_name,
            aliases: self.aliases,
            category: self.category,
            themes: terms(self.themes),
            topics: terms(self.topics),
            competitors: self.competitors,
            blocked_terms: self.blocked_terms,
            blocked_topics: self.blocked_topics,
            sensitivity_tolerance: self
                .sensitivity_tolerance
                .iter()
                .map(|t| {
                    Ok(pb::CategoryTolerance {
                        category: category(&t.category)?,
                        max_level: level(&t.max_level)?,
                        tolerance: 0,
                    })
                })
                .collect::<Result<_, String>>()?,
            risk_appetite: self
                .risk_appetite
                .as_deref()
                .map(appetite)
                .transpose()?
                .unwrap_or(0),
            audience_time_zone: self.audience_time_zone,
            active_windows: windows(self.active_windows),
            quiet_hours: windows(self.quiet_hours),
            approval_latency: self
                .approval_latency
                .iter()
                .map(|l| {
                    Ok(pb::ModeLatency {
                        mode: mode(&l.mode)?,
                        latency: Some(duration(&l.latency)?),
                    })
                })
                .collect::<Result<_, String>>()?,
            half_life_overrides: self
                .half_life_overrides
                .iter()
                .map(|h| {
                    Ok(pb::KindHalfLife {
                        kind: kind(&h.kind)?,
                        half_life: Some(duration(&h.half_life)?),
                    })
                })
                .collect::<Result<_, String>>()?,
            frequency_caps: Some(pb::FrequencyCaps {
                per_author_per_day: caps.per_author_per_day,
                per_conversation_per_day: caps.per_conversation_per_day,
                per_brand_per_hour: caps.per_brand_per_hour,
            }),
            embedding: self.embedding,
            version: 0,
            updated_at: None,
        })
    }
}

pub(crate) fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })
}

pub(crate) fn parse_value(path: &Path, text: &str) -> Result<serde_json::Value, FileError> {
    let p = || path.display().to_string();
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(text).map_err(|e| FileError::Parse {
            path: p(),
            message: e.to_string(),
        })
    } else {
        // YAML is a superset of JSON: other extensions parse as YAML.
        serde_yaml_ng::from_str(text).map_err(|e| FileError::Parse {
            path: p(),
            message: e.to_string(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    label: String,
    #[serde(default = "one")]
    confidence: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorFile {
    #[serde(default)]
    id: String,
    #[serde(default, alias = "followerCount")]
    follower_count: u64,
    #[serde(default)]
    verified: bool,
    #[serde(default, alias = "followsBrand")]
    follows_brand: bool,
    #[serde(default, alias = "botLikelihood")]
    bot_likelihood: f64,
    #[serde(default, alias = "displayName")]
    display_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VelocityFile {
    #[serde(default, alias = "mentionsPerMinute")]
    mentions_per_minute: f64,
    #[serde(default, alias = "historyPerMinute")]
    history_per_minute: Vec<f64>,
    #[serde(default)]
    window: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    id: String,
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    topics: Vec<TopicFile>,
    #[serde(default)]
    entities: Vec<String>,
    #[serde(alias = "occurredAt")]
    occurred_at: String,
    #[serde(default, alias = "observedAt")]
    observed_at: Option<String>,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    author: Option<AuthorFile>,
    #[serde(default, alias = "addressedToBrand")]
    addressed_to_brand: bool,
    #[serde(default, alias = "conversationId")]
    conversation_id: String,
    #[serde(default, alias = "audienceTimeZone")]
    audience_time_zone: String,
    #[serde(default, alias = "audienceRegion")]
    audience_region: String,
    #[serde(default)]
    velocity: Option<VelocityFile>,
    #[serde(default)]
    sentiment: Option<f64>,
    #[serde(default, alias = "sensitivityLabels")]
    sensitivity_labels: Vec<String>,
    #[serde(default, alias = "samplePosts")]
    sample_posts: Vec<String>,
    #[serde(default)]
    embedding: Vec<f32>,
}

/// Reads one event.
pub fn read_event(path: &Path) -> Result<pb::Event, FileError> {
    let text = read(path)?;
    let value = parse_value(path, &text)?;
    event_from_value(value).map_err(|message| FileError::Parse {
        path: path.display().to_string(),
        message,
    })
}

/// One profile of a parsed file.
pub(crate) fn profile_from_value(value: serde_json::Value) -> Result<pb::BrandProfile, String> {
    serde_json::from_value::<ProfileFile>(value)
        .map_err(|e| without_field_list(e.to_string()))
        .and_then(ProfileFile::into_pb)
}

/// The start of a line for a message: at most 60 characters.
pub(crate) fn excerpt(line: &str) -> String {
    let mut out: String = line.chars().take(60).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// Serde names every known field after an unknown one; the unknown one is
/// what the reader needs.
fn without_field_list(mut message: String) -> String {
    if let Some(i) = message.find(", expected one of") {
        message.truncate(i);
    }
    message
}

/// One event of a parsed file.
pub(crate) fn event_from_value(value: serde_json::Value) -> Result<pb::Event, String> {
    let e: EventFile = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let author = e.author.map(|a| pb::Author {
        id: a.id,
        follower_count: a.follower_count,
        verified: a.verified,
        follows_brand: a.follows_brand,
        bot_likelihood: a.bot_likelihood,
        display_name: a.display_name,
    });
    let velocity = match e.velocity {
        None => None,
        Some(v) => Some(pb::Velocity {
            mentions_per_minute: v.mentions_per_minute,
            history_per_minute: v.history_per_minute,
            window: v.window.as_ref().map(duration).transpose()?,
        }),
    };
    Ok(pb::Event {
        id: e.id,
        kind: kind(&e.kind)?,
        text: e.text,
        language: e.language,
        hashtags: e.hashtags,
        topics: e
            .topics
            .into_iter()
            .map(|t| pb::Topic {
                label: t.label,
                confidence: t.confidence,
            })
            .collect(),
        entities: e.entities,
        occurred_at: Some(timestamp(&e.occurred_at)?),
        observed_at: e.observed_at.as_deref().map(timestamp).transpose()?,
        channel: e.channel,
        author,
        addressed_to_brand: e.addressed_to_brand,
        conversation_id: e.conversation_id,
        audience_time_zone: e.audience_time_zone,
        audience_region: e.audience_region,
        velocity,
        sentiment: e.sentiment,
        sensitivity_labels: e.sensitivity_labels,
        sample_posts: e.sample_posts,
        embedding: e.embedding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_human_units() {
        let s = |t: &str| duration(&DurationText::Text(t.into())).map(|d| d.seconds);
        assert_eq!(s("600s"), Ok(600));
        assert_eq!(s("10m"), Ok(600));
        assert_eq!(s("3h"), Ok(10_800));
        assert_eq!(s("21d"), Ok(1_814_400));
        assert!(s("10 parsecs").is_err());
        assert!(s("-5s").is_err());
    }

    #[test]
    fn enum_names_with_or_without_prefix() {
        assert_eq!(appetite("bold"), Ok(pb::RiskAppetite::Bold as i32));
        assert_eq!(
            appetite("RISK_APPETITE_BOLD"),
            Ok(pb::RiskAppetite::Bold as i32)
        );
        assert_eq!(
            mode("customer-care"),
            Ok(pb::EngagementMode::CustomerCare as i32)
        );
        assert!(kind("whatever").is_err());
    }
}
