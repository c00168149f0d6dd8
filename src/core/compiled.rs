//! A brand profile compiled into the form the scoring core needs. Built
//! once per profile version and kept in the cache.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::analyse::{push_debug_str, push_fixed};
use super::lexicon::Level;
use super::model::{
    BrandProfile, EngagementMode, EventKind, LocalWindow, RiskAppetite, RiskLevel,
    SensitiveCategory, StoredProfile,
};
use super::text::{Form, GluedSet, PhraseSet, pattern_tokens, split_hashtag, words};

/// What a profile pattern stands for (indices into the stored lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Term {
    /// The display name or an alias.
    Name(usize),
    Theme(usize),
    Topic(usize),
    Competitor(usize),
    Blocked(usize),
    BlockedTopic(usize),
}

/// Decision thresholds derived from the risk appetite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Below this relevance: DECLINE (off platform).
    pub relevance_min: f64,
    /// ENGAGE needs relevance, timing at least these and risk at most.
    pub relevance_engage: f64,
    pub timing_engage: f64,
    pub risk_engage: f64,
    /// Timing below this: LISTEN (stale).
    pub timing_min: f64,
    /// Risk at or above this: LISTEN (too risky).
    pub risk_listen: f64,
}

impl Thresholds {
    pub fn for_appetite(a: RiskAppetite) -> Self {
        match a {
            RiskAppetite::Conservative => Self {
                relevance_min: 0.3,
                relevance_engage: 0.5,
                timing_engage: 0.5,
                risk_engage: 0.2,
                timing_min: 0.2,
                risk_listen: 0.6,
            },
            RiskAppetite::Balanced => Self {
                relevance_min: 0.25,
                relevance_engage: 0.4,
                timing_engage: 0.4,
                risk_engage: 0.3,
                timing_min: 0.15,
                risk_listen: 0.7,
            },
            RiskAppetite::Bold => Self {
                relevance_min: 0.2,
                relevance_engage: 0.35,
                timing_engage: 0.3,
                risk_engage: 0.4,
                timing_min: 0.1,
                risk_listen: 0.8,
            },
        }
    }
}

/// Default approval latency per mode, when the profile states none.
pub fn default_latency(mode: EngagementMode) -> Duration {
    let min = match mode {
        EngagementMode::CustomerCare => 5,
        EngagementMode::Reply => 15,
        EngagementMode::JoinConversation => 30,
        EngagementMode::Newsjack => 60,
        EngagementMode::None => 0,
    };
    Duration::from_secs(min * 60)
}

/// Default response half-life per event kind.
pub fn default_half_life(kind: EventKind) -> Duration {
    let min = match kind {
        EventKind::DirectMessage => 60,
        EventKind::Question | EventKind::Complaint => 30,
        EventKind::BrandMention | EventKind::Praise => 120,
        EventKind::Conversation => 60,
        EventKind::TrendingTopic => 180,
        EventKind::News => 120,
        EventKind::LiveEvent => 15,
        EventKind::CulturalMoment => 360,
    };
    Duration::from_secs(min * 60)
}

/// Default tolerance per appetite for categories the profile leaves unset.
pub fn default_tolerance(a: RiskAppetite) -> RiskLevel {
    match a {
        RiskAppetite::Conservative => RiskLevel::None,
        RiskAppetite::Balanced => RiskLevel::Low,
        RiskAppetite::Bold => RiskLevel::Medium,
    }
}

/// Quiet hours assumed when the profile lists none: 00:00–06:00 local.
pub const DEFAULT_QUIET: LocalWindow = LocalWindow {
    start_minute: 0,
    end_minute: 360,
};

/// Whether content at `level` exceeds what `tolerance` accepts.
pub fn exceeds(level: Level, tolerance: RiskLevel) -> bool {
    let t = match tolerance {
        RiskLevel::None => 0,
        RiskLevel::Low => 1,
        RiskLevel::Medium => 2,
        RiskLevel::High => 3,
    };
    let l = match level {
        Level::Low => 1,
        Level::Medium => 2,
        Level::High => 3,
        Level::Floor => 4,
    };
    l > t
}

#[derive(Debug)]
pub struct CompiledProfile {
    pub stored: StoredProfile,
    pub(crate) english: PhraseSet,
    pub(crate) raw: PhraseSet,
    pub(crate) terms: Vec<Term>,
    /// Names and themes without spaces, for one-case hashtags.
    pub(crate) glued: GluedSet,
    pub(crate) glued_terms: Vec<Term>,
    pub(crate) names: Vec<String>,
    /// `theme "term" (weight 0.80) in the text` per theme, and the same
    /// for topics (`affinity`): the reason for a match in the event's text,
    /// shared by every assessment; a match elsewhere puts its own place
    /// after the part before "text".
    pub(crate) theme_details: Vec<Arc<str>>,
    pub(crate) topic_details: Vec<Arc<str>>,
    pub(crate) tz: TimeZone,
    pub(crate) offsets: Offsets,
    pub(crate) quiet: Vec<LocalWindow>,
    pub thresholds: Thresholds,
    pub(crate) tolerance: [RiskLevel; 12],
    pub(crate) latency: [Duration; 5],
    pub(crate) half_life: [Duration; 10],
    pub(crate) embedding_norm: f64,
}

/// The UTC offsets of a zone over a few years, so that the local time of a
/// moment is a search of a short table: past a zone's last listed
/// transition (that is, today) jiff works out the year's daylight-saving
/// dates from the zone's rule on every call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Offsets {
    /// `(second, offset)`: from that Unix second on, until the next entry,
    /// local time is UTC plus `offset` seconds. Ascending.
    spans: Vec<(i64, i32)>,
    /// The table covers `spans[0].0 .. until`.
    until: i64,
}

impl Offsets {
    /// From a year before `around` to three years after it. A profile is
    /// compiled anew when it changes, so `around` is its last update, and
    /// the moments it is scored for are mostly near that or later.
    pub(crate) fn new(tz: &TimeZone, around: Timestamp) -> Self {
        const YEAR: i64 = 366 * 86_400;
        let at = around.as_second();
        let (from, until) = (at.saturating_sub(YEAR), at.saturating_add(3 * YEAR));
        let Ok(start) = Timestamp::from_second(from) else {
            return Self::default();
        };
        let mut spans = vec![(from, tz.to_offset(start).seconds())];
        for t in tz.following(start) {
            let second = t.timestamp().as_second();
            if second >= until {
                break;
            }
            if second > from {
                spans.push((second, t.offset().seconds()));
            }
        }
        Self { spans, until }
    }

    /// The offset at Unix second `second`, if the table covers it.
    pub(crate) fn get(&self, second: i64) -> Option<i32> {
        if second >= self.until {
            return None;
        }
        let i = self.spans.partition_point(|s| s.0 <= second);
        i.checked_sub(1)
            .and_then(|i| self.spans.get(i))
            .map(|s| s.1)
    }
}

pub(crate) fn mode_index(m: EngagementMode) -> usize {
    match m {
        EngagementMode::None => 0,
        EngagementMode::CustomerCare => 1,
        EngagementMode::Reply => 2,
        EngagementMode::JoinConversation => 3,
        EngagementMode::Newsjack => 4,
    }
}

pub(crate) fn kind_index(k: EventKind) -> usize {
    EventKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

impl CompiledProfile {
    /// Compiles a validated, stored profile. Infallible: everything that
    /// could fail was rejected when the profile was written, and anything
    /// odd that slips through degrades (unknown zone → UTC) instead.
    pub fn compile(stored: StoredProfile) -> Self {
        let p = &stored.profile;
        let names = brand_names(p);
        let list = term_list(p, &names);

        let raw: Vec<Vec<String>> = list.iter().map(|(t, _)| words(t)).collect();
        let english: Vec<Vec<String>> = list
            .iter()
            .map(|(t, _)| pattern_tokens(t, Form::English))
            .collect();
        let terms: Vec<Term> = list.iter().map(|(_, k)| *k).collect();

        let (glued_pats, glued_terms) = glued_forms(&list, &raw);
        let glued = GluedSet::new(&glued_pats);

        let tz = if p.audience_time_zone.is_empty() {
            TimeZone::UTC
        } else {
            TimeZone::get(&p.audience_time_zone).unwrap_or(TimeZone::UTC)
        };
        let offsets = Offsets::new(&tz, stored.updated_at);
        let quiet = if p.quiet_hours.is_empty() {
            vec![DEFAULT_QUIET]
        } else {
            p.quiet_hours.clone()
        };
        let tolerance = tolerances(p);
        let latency = latencies(p);
        let half_life = half_lives(p);
        let embedding_norm = p
            .embedding
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum::<f64>()
            .sqrt();
        let thresholds = Thresholds::for_appetite(p.risk_appetite);

        let (theme_details, topic_details) = match_details(p);

        Self {
            theme_details,
            topic_details,
            english: PhraseSet::new(&english),
            raw: PhraseSet::new(&raw),
            terms,
            glued,
            glued_terms,
            names,
            tz,
            offsets,
            quiet,
            thresholds,
            tolerance,
            latency,
            half_life,
            embedding_norm,
            stored,
        }
    }

    pub fn brand_id(&self) -> &str {
        &self.stored.profile.brand_id
    }

    pub fn version(&self) -> i64 {
        self.stored.version
    }

    pub(crate) fn matcher(&self, form: Form) -> &PhraseSet {
        match form {
            Form::English => &self.english,
            Form::Raw => &self.raw,
        }
    }

    pub(crate) fn term_text(&self, t: Term) -> &str {
        let p = &self.stored.profile;
        let s = match t {
            Term::Name(i) => self.names.get(i),
            Term::Theme(i) => p.themes.get(i).map(|x| &x.term),
            Term::Topic(i) => p.topics.get(i).map(|x| &x.term),
            Term::Competitor(i) => p.competitors.get(i),
            Term::Blocked(i) => p.blocked_terms.get(i),
            Term::BlockedTopic(i) => p.blocked_topics.get(i),
        };
        s.map(String::as_str).unwrap_or("")
    }

    pub(crate) fn tolerance(&self, c: SensitiveCategory) -> RiskLevel {
        let i = super::lexicon::category_index(c);
        self.tolerance.get(i).copied().unwrap_or(RiskLevel::None)
    }

    pub(crate) fn latency(&self, m: EngagementMode) -> Duration {
        self.latency.get(mode_index(m)).copied().unwrap_or_default()
    }

    pub(crate) fn half_life(&self, k: EventKind) -> Duration {
        self.half_life
            .get(kind_index(k))
            .copied()
            .unwrap_or(Duration::from_secs(3600))
    }
}

/// The brand's names: its display name, then each alias not already there
/// (any case).
pub(crate) fn brand_names(p: &BrandProfile) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if !p.display_name.trim().is_empty() {
        names.push(p.display_name.clone());
    }
    for a in &p.aliases {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(a)) {
            names.push(a.clone());
        }
    }
    names
}

/// Every term of the profile with what it is, in the order the matcher
/// reports them: names (and the words a camel-case name splits into),
/// themes, topics, competitors, blocked terms, blocked topics.
pub(crate) fn term_list(p: &BrandProfile, names: &[String]) -> Vec<(String, Term)> {
    let mut list: Vec<(String, Term)> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        list.push((n.clone(), Term::Name(i)));
        // "BurgerCo" also as the words a camel-case hashtag splits into.
        let split = split_hashtag(&n.replace(' ', "")).words.join(" ");
        if split.contains(' ') && !split.eq_ignore_ascii_case(n) {
            list.push((split, Term::Name(i)));
        }
    }
    list.extend(
        p.themes
            .iter()
            .enumerate()
            .map(|(i, t)| (t.term.clone(), Term::Theme(i))),
    );
    list.extend(
        p.topics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.term.clone(), Term::Topic(i))),
    );
    list.extend(
        p.competitors
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), Term::Competitor(i))),
    );
    list.extend(
        p.blocked_terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), Term::Blocked(i))),
    );
    list.extend(
        p.blocked_topics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), Term::BlockedTopic(i))),
    );
    list
}

/// One-case hashtags (#oreodunk) cannot be split by a dictionary that does
/// not know the brand's words; the glued forms are checked against each
/// tag's plausible split positions instead.
pub(crate) fn glued_forms(
    list: &[(String, Term)],
    raw: &[Vec<String>],
) -> (Vec<String>, Vec<Term>) {
    let mut glued_pats = Vec::new();
    let mut glued_terms = Vec::new();
    for ((_, k), ws) in list.iter().zip(raw) {
        let g: String = ws.concat();
        if g.len() >= 3 && g.is_ascii() {
            glued_pats.push(g);
            glued_terms.push(*k);
        }
    }
    (glued_pats, glued_terms)
}

/// Tolerance per category: the appetite's default, then the profile's.
fn tolerances(p: &BrandProfile) -> [RiskLevel; 12] {
    let mut tolerance = [default_tolerance(p.risk_appetite); 12];
    for t in &p.sensitivity_tolerance {
        if let Some(i) = SensitiveCategory::ALL.iter().position(|c| *c == t.category) {
            tolerance[i] = t.max_level;
        }
    }
    tolerance
}

/// Approval latency per mode: the defaults, then the profile's.
fn latencies(p: &BrandProfile) -> [Duration; 5] {
    let mut latency = [Duration::ZERO; 5];
    for m in [
        EngagementMode::CustomerCare,
        EngagementMode::Reply,
        EngagementMode::JoinConversation,
        EngagementMode::Newsjack,
    ] {
        latency[mode_index(m)] = default_latency(m);
    }
    for m in &p.approval_latency {
        latency[mode_index(m.mode)] = m.latency;
    }
    latency
}

/// Half-life per event kind: the defaults, then the profile's (a zero
/// override keeps the default).
fn half_lives(p: &BrandProfile) -> [Duration; 10] {
    let mut half_life = [Duration::ZERO; 10];
    for k in EventKind::ALL {
        half_life[kind_index(k)] = default_half_life(k);
    }
    for h in &p.half_life_overrides {
        if !h.half_life.is_zero() {
            half_life[kind_index(h.kind)] = h.half_life;
        }
    }
    half_life
}

/// The reasons' text for a theme or topic found in the event's text,
/// written once per profile and shared by every assessment.
fn match_details(p: &BrandProfile) -> (Vec<Arc<str>>, Vec<Arc<str>>) {
    let detail = |what: &str, t: &str, label: &str, w: f64| {
        let mut d = String::with_capacity(what.len() + t.len() + label.len() + 20);
        d.push_str(what);
        push_debug_str(&mut d, t);
        d.push_str(" (");
        d.push_str(label);
        d.push(' ');
        push_fixed(&mut d, w, 2);
        d.push_str(") in the text");
        Arc::<str>::from(d)
    };
    let theme_details = p
        .themes
        .iter()
        .map(|t| detail("theme ", &t.term, "weight", t.weight))
        .collect();
    let topic_details = p
        .topics
        .iter()
        .map(|t| detail("topic ", &t.term, "affinity", t.weight))
        .collect();
    (theme_details, topic_details)
}
