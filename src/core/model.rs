//! Domain types shared by every layer. Plain data: no protobuf, no I/O.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What happened, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    BrandMention,
    DirectMessage,
    Question,
    Complaint,
    Praise,
    Conversation,
    TrendingTopic,
    News,
    LiveEvent,
    CulturalMoment,
}

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::BrandMention,
        EventKind::DirectMessage,
        EventKind::Question,
        EventKind::Complaint,
        EventKind::Praise,
        EventKind::Conversation,
        EventKind::TrendingTopic,
        EventKind::News,
        EventKind::LiveEvent,
        EventKind::CulturalMoment,
    ];
}

/// How a brand would engage with a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementMode {
    None,
    CustomerCare,
    Reply,
    JoinConversation,
    Newsjack,
}

/// The answer for one (event, brand) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Engage,
    Review,
    Listen,
    Decline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskAppetite {
    Conservative,
    #[default]
    Balanced,
    Bold,
}

/// GARM brand-safety categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveCategory {
    Adult,
    ArmsAmmunition,
    CrimeHarmfulActs,
    DeathInjuryMilitaryConflict,
    OnlinePiracy,
    HateSpeech,
    ObscenityProfanity,
    DrugsTobaccoAlcohol,
    SpamHarmful,
    Terrorism,
    DebatedSocialIssues,
    Misinformation,
}

impl SensitiveCategory {
    pub const ALL: [SensitiveCategory; 12] = [
        SensitiveCategory::Adult,
        SensitiveCategory::ArmsAmmunition,
        SensitiveCategory::CrimeHarmfulActs,
        SensitiveCategory::DeathInjuryMilitaryConflict,
        SensitiveCategory::OnlinePiracy,
        SensitiveCategory::HateSpeech,
        SensitiveCategory::ObscenityProfanity,
        SensitiveCategory::DrugsTobaccoAlcohol,
        SensitiveCategory::SpamHarmful,
        SensitiveCategory::Terrorism,
        SensitiveCategory::DebatedSocialIssues,
        SensitiveCategory::Misinformation,
    ];
}

/// The highest level of a category a brand accepts (`None`: nothing of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    None,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedTerm {
    pub term: String,
    pub weight: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTolerance {
    pub category: SensitiveCategory,
    pub max_level: RiskLevel,
}

/// Minutes after local midnight; `end < start` wraps past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalWindow {
    pub start_minute: u32,
    pub end_minute: u32,
}

impl LocalWindow {
    /// Whether `minute` (0..1440) of the local day falls in the window.
    pub fn contains(&self, minute: u32) -> bool {
        if self.start_minute < self.end_minute {
            (self.start_minute..self.end_minute).contains(&minute)
        } else {
            minute >= self.start_minute || minute < self.end_minute
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeLatency {
    pub mode: EngagementMode,
    pub latency: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindHalfLife {
    pub kind: EventKind,
    pub half_life: Duration,
}

/// 0 means no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FrequencyCaps {
    pub per_author_per_day: u32,
    pub per_conversation_per_day: u32,
    pub per_brand_per_hour: u32,
}

/// A brand profile as written by a caller (without server-set fields).
/// Stored as JSON that leaves out every empty or default field (the store
/// keeps a profile at about the size of what the caller gave), and reads
/// a missing field as its default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandProfile {
    pub brand_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub category: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<WeightedTerm>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<WeightedTerm>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub competitors: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_terms: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_topics: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensitivity_tolerance: Vec<CategoryTolerance>,
    #[serde(skip_serializing_if = "is_default")]
    pub risk_appetite: RiskAppetite,
    /// IANA name; empty means UTC.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub audience_time_zone: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active_windows: Vec<LocalWindow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quiet_hours: Vec<LocalWindow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approval_latency: Vec<ModeLatency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub half_life_overrides: Vec<KindHalfLife>,
    #[serde(skip_serializing_if = "is_default")]
    pub frequency_caps: FrequencyCaps,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embedding: Vec<f32>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A profile as stored: the caller's profile plus the server-set fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredProfile {
    pub profile: BrandProfile,
    pub version: i64,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub label: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Author {
    pub id: String,
    pub follower_count: u64,
    pub verified: bool,
    pub follows_brand: bool,
    pub bot_likelihood: f64,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Velocity {
    pub mentions_per_minute: f64,
    /// Oldest first.
    pub history_per_minute: Vec<f64>,
    /// Width of each history window (default 5 minutes).
    pub window: Duration,
}

/// An event, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub kind: EventKind,
    pub text: String,
    pub language: String,
    pub hashtags: Vec<String>,
    pub topics: Vec<Topic>,
    pub entities: Vec<String>,
    pub occurred_at: Timestamp,
    pub observed_at: Option<Timestamp>,
    pub channel: String,
    pub author: Option<Author>,
    pub addressed_to_brand: bool,
    pub conversation_id: String,
    /// IANA name; empty means the brand's audience time zone.
    pub audience_time_zone: String,
    pub audience_region: String,
    pub velocity: Option<Velocity>,
    pub sentiment: Option<f64>,
    pub sensitivity_labels: Vec<String>,
    pub sample_posts: Vec<String>,
    pub embedding: Vec<f32>,
}

/// Stable, machine-readable reason codes (see docs/SCORING.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    DirectMention,
    ThemeMatch,
    TopicMatch,
    EmbeddingSimilarity,
    OffPlatform,
    Fresh,
    Stale,
    StaleAfterReview,
    TrendRising,
    TrendFading,
    ActiveWindow,
    QuietHours,
    Solicited,
    Unsolicited,
    SensitiveContext,
    FloorCategory,
    TragedyAnniversary,
    GriefOrOutrage,
    CompetitorConversation,
    LowAuthenticity,
    FrequencyCap,
    BlockedTerm,
    BlockedTopic,
    BlackoutActive,
    LowConfidence,
    BrandCrisis,
    ValuesMoment,
    EchoTrap,
    HighReach,
    EntityCollision,
    NegativeSentiment,
    PileOn,
    CrowdWarnsBrands,
}

/// The factor a reason moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Relevance,
    Timing,
    Risk,
    Decision,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub factor: Factor,
    /// Signed contribution to the factor.
    pub contribution: f64,
    /// Names the evidence: the matched term, category, local hour, age.
    pub detail: Detail,
}

/// A reason's text, read as a `str`. Most are written per assessment; the
/// commonest, a profile theme found in the event's text, reads the same in
/// every assessment of that profile, so the compiled profile writes it once
/// and the assessments share it instead of each allocating a copy.
#[derive(Clone)]
pub enum Detail {
    Owned(String),
    Shared(Arc<str>),
}

impl Detail {
    pub fn as_str(&self) -> &str {
        match self {
            Detail::Owned(s) => s,
            Detail::Shared(s) => s,
        }
    }

    /// The text as an owned `String`, without a copy when it already is one.
    pub fn into_string(self) -> String {
        match self {
            Detail::Owned(s) => s,
            Detail::Shared(s) => s.as_ref().to_owned(),
        }
    }
}

impl std::ops::Deref for Detail {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Detail {
    fn from(s: String) -> Self {
        Detail::Owned(s)
    }
}

impl From<&str> for Detail {
    fn from(s: &str) -> Self {
        Detail::Owned(s.to_owned())
    }
}

/// Equal when the texts are, however each is held.
impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Detail {}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As the text itself: a reason prints as it did when this was a `String`.
impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Detail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Detail {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Detail::Owned)
    }
}

/// The pure part of an assessment: everything but the server-generated
/// `decision_id` and the echoed `request_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub event_id: String,
    pub brand_id: String,
    pub relevance: f64,
    pub timing: f64,
    pub intrusiveness_risk: f64,
    pub opportunity: f64,
    pub decision: Decision,
    pub recommended_mode: EngagementMode,
    pub respond_by: Option<Timestamp>,
    pub max_review_latency: Option<Duration>,
    pub confidence: f64,
    pub reasons: Vec<Reason>,
    pub profile_version: i64,
    pub model_version: String,
    pub assessed_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlackoutScope {
    Global,
    Brand,
    Topic,
    Region,
}

/// A crisis pause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blackout {
    pub id: String,
    pub scope: BlackoutScope,
    /// Required for `Brand`; narrows `Topic` and `Region` when non-empty.
    pub brand_id: String,
    /// For `Topic`: words and phrases matched like blocked terms.
    pub terms: Vec<String>,
    /// For `Region`: matched case-insensitively against `audience_region`.
    pub region: String,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub reason: String,
    pub created_at: Timestamp,
}

impl Blackout {
    /// Whether the blackout is in force at `now` (`ends_at` exclusive).
    /// Without `starts_at` it has no lower bound: a crisis switch pauses
    /// every request scored after it is created, whatever that request's
    /// `now` (a caller whose clock or queue lags behind must not slip past it).
    pub fn is_active_at(&self, now: Timestamp) -> bool {
        self.starts_at.is_none_or(|s| s <= now) && self.ends_at.is_none_or(|e| now < e)
    }
}

/// How often the brand already engaged, counted by the caller of the core
/// according to CONTRACT.md (per calendar day in the audience time zone,
/// last 60 minutes for the brand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngagementCounts {
    pub author_today: u32,
    pub conversation_today: u32,
    pub brand_last_hour: u32,
}

/// Guardrail state an assessment depends on, gathered by the service.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guardrails<'a> {
    /// Blackouts active at `now` (the core still checks scope and match).
    pub blackouts: &'a [Blackout],
    pub counts: EngagementCounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementOutcome {
    Unknown,
    Positive,
    Neutral,
    Backlash,
}

/// What a brand actually did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Engagement {
    pub id: String,
    pub brand_id: String,
    pub author_id: String,
    pub conversation_id: String,
    pub event_id: String,
    pub mode: Option<EngagementMode>,
    pub at: Timestamp,
    pub outcome: EngagementOutcome,
}

/// One entry of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision_id: String,
    pub request_id: String,
    pub assessment: Assessment,
    /// Server clock when the decision was made.
    pub decided_at: Timestamp,
    /// Hex SHA-256 of the event as received.
    pub event_digest: String,
    /// Name of the API key the request was made with ("" without keys).
    #[serde(default)]
    pub caller: String,
}
