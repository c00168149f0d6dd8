//! Input validation for brand profiles. Every error names the offending
//! field with its path (`themes[3].weight`), so callers can fix it.

use std::collections::HashSet;
use std::time::Duration;

use super::model::{BrandProfile, LocalWindow, WeightedTerm};

/// One invalid field. `field` is a path relative to the validated value;
/// the gRPC edge prefixes it with the request field (`profile.`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error with `prefix.` in front of the field path.
    pub fn within(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.field = if self.field.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", self.field)
            };
        }
        self
    }
}

pub const MAX_BRAND_ID_LEN: usize = 128;
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_TERM_LEN: usize = 200;
pub const MAX_ALIASES: usize = 100;
pub const MAX_THEMES: usize = 1000;
pub const MAX_TOPICS: usize = 1000;
pub const MAX_COMPETITORS: usize = 200;
pub const MAX_BLOCKED: usize = 1000;
pub const MAX_WINDOWS: usize = 48;
pub const MAX_EMBEDDING: usize = 4096;
pub const MAX_TIME_ZONE_LEN: usize = 64;
/// Longest approval latency or half-life a profile may state.
pub const MAX_PROFILE_DURATION: Duration = Duration::from_secs(90 * 24 * 3600);

/// `[a-z0-9][a-z0-9._-]{0,127}`.
pub fn validate_brand_id(id: &str, field: &str) -> Result<(), ValidationError> {
    if id.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if id.len() > MAX_BRAND_ID_LEN {
        return Err(ValidationError::new(
            field,
            format!(
                "must be at most {MAX_BRAND_ID_LEN} characters, got {}",
                id.len()
            ),
        ));
    }
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !first_ok || !rest_ok {
        return Err(ValidationError::new(
            field,
            "must match [a-z0-9][a-z0-9._-]{0,127}",
        ));
    }
    Ok(())
}

/// Case-folded, whitespace-collapsed form used to detect duplicates.
fn fold(s: &str) -> String {
    s.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    // A character is at least a byte: most values need no count.
    if value.len() <= max {
        return Ok(());
    }
    let n = value.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters, got {n}"),
        ));
    }
    Ok(())
}

fn check_count<T>(field: &str, list: &[T], max: usize) -> Result<(), ValidationError> {
    if list.len() > max {
        return Err(ValidationError::new(
            field,
            format!("must have at most {max} entries, got {}", list.len()),
        ));
    }
    Ok(())
}

/// Non-empty, bounded, unique (after case folding) strings.
fn check_terms(field: &str, list: &[String], max: usize) -> Result<(), ValidationError> {
    check_count(field, list, max)?;
    let mut seen = HashSet::with_capacity(list.len());
    for (i, term) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if term.trim().is_empty() {
            return Err(ValidationError::new(f, "must not be blank"));
        }
        check_len(&f, term, MAX_TERM_LEN)?;
        if !seen.insert(fold(term)) {
            return Err(ValidationError::new(f, format!("duplicate entry {term:?}")));
        }
    }
    Ok(())
}

fn check_weighted(field: &str, list: &[WeightedTerm], max: usize) -> Result<(), ValidationError> {
    check_count(field, list, max)?;
    let mut seen = HashSet::with_capacity(list.len());
    for (i, wt) in list.iter().enumerate() {
        if wt.term.trim().is_empty() {
            return Err(ValidationError::new(
                format!("{field}[{i}].term"),
                "must not be blank",
            ));
        }
        check_len(&format!("{field}[{i}].term"), &wt.term, MAX_TERM_LEN)?;
        if !seen.insert(fold(&wt.term)) {
            return Err(ValidationError::new(
                format!("{field}[{i}].term"),
                format!("duplicate term {:?}", wt.term),
            ));
        }
        if !(wt.weight > 0.0 && wt.weight <= 1.0) {
            return Err(ValidationError::new(
                format!("{field}[{i}].weight"),
                format!("must be in (0, 1], got {}", shown(wt.weight)),
            ));
        }
    }
    Ok(())
}

fn check_windows(field: &str, list: &[LocalWindow]) -> Result<(), ValidationError> {
    check_count(field, list, MAX_WINDOWS)?;
    for (i, w) in list.iter().enumerate() {
        if w.start_minute > 1439 {
            return Err(ValidationError::new(
                format!("{field}[{i}].start_minute"),
                format!("must be 0 to 1439, got {}", w.start_minute),
            ));
        }
        if w.end_minute == 0 || w.end_minute > 1440 {
            return Err(ValidationError::new(
                format!("{field}[{i}].end_minute"),
                format!("must be 1 to 1440, got {}", w.end_minute),
            ));
        }
        if w.start_minute == w.end_minute {
            return Err(ValidationError::new(
                format!("{field}[{i}]"),
                "start_minute and end_minute must differ",
            ));
        }
    }
    Ok(())
}

/// Whether `name` is an IANA time zone this build knows.
pub fn check_time_zone(field: &str, name: &str) -> Result<(), ValidationError> {
    if name.is_empty() {
        return Ok(());
    }
    // The longest IANA name is 32 bytes; the limit also keeps the error
    // message (which quotes the name) short.
    if name.len() > MAX_TIME_ZONE_LEN {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_TIME_ZONE_LEN} bytes"),
        ));
    }
    if is_listed_zone(name) {
        return Ok(());
    }
    jiff::tz::TimeZone::get(name)
        .map(|_| ())
        .map_err(|_| ValidationError::new(field, format!("unknown IANA time zone {name:?}")))
}

/// The bundled database's zone names, lower-cased.
static LISTED_ZONES: std::sync::LazyLock<HashSet<String>> = std::sync::LazyLock::new(|| {
    jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_ascii_lowercase())
        .collect()
});

/// Whether `name` (at most [`MAX_TIME_ZONE_LEN`] bytes) is one of the
/// database's names, in any case, as `TimeZone::get` reads it. A set
/// lookup, where `TimeZone::get` takes the database's lock and a reference
/// to the zone, both shared by every worker: the second lookup of the
/// zone in every Score. A name not listed is still looked up.
fn is_listed_zone(name: &str) -> bool {
    let mut buf = [0u8; MAX_TIME_ZONE_LEN];
    let Some(lower) = buf.get_mut(..name.len()) else {
        return false;
    };
    for (d, c) in lower.iter_mut().zip(name.bytes()) {
        *d = c.to_ascii_lowercase();
    }
    std::str::from_utf8(lower).is_ok_and(|l| LISTED_ZONES.contains(l))
}

fn check_duration(field: &str, d: Duration, allow_zero: bool) -> Result<(), ValidationError> {
    if d > MAX_PROFILE_DURATION {
        return Err(ValidationError::new(field, "must be at most 90 days"));
    }
    if !allow_zero && d.is_zero() {
        return Err(ValidationError::new(field, "must be positive"));
    }
    Ok(())
}

/// Validates a profile as a caller wrote it. Field paths are relative to
/// the profile (`themes[0].weight`).
pub fn validate_profile(p: &BrandProfile) -> Result<(), ValidationError> {
    validate_brand_id(&p.brand_id, "brand_id")?;
    check_len("display_name", &p.display_name, MAX_NAME_LEN)?;
    check_len("category", &p.category, MAX_NAME_LEN)?;
    check_terms("aliases", &p.aliases, MAX_ALIASES)?;
    check_weighted("themes", &p.themes, MAX_THEMES)?;
    check_weighted("topics", &p.topics, MAX_TOPICS)?;
    check_terms("competitors", &p.competitors, MAX_COMPETITORS)?;
    check_terms("blocked_terms", &p.blocked_terms, MAX_BLOCKED)?;
    check_terms("blocked_topics", &p.blocked_topics, MAX_BLOCKED)?;

    let mut cats = HashSet::new();
    for (i, t) in p.sensitivity_tolerance.iter().enumerate() {
        if !cats.insert(t.category) {
            return Err(ValidationError::new(
                format!("sensitivity_tolerance[{i}].category"),
                format!("category {:?} appears more than once", t.category),
            ));
        }
    }

    check_time_zone("audience_time_zone", &p.audience_time_zone)?;
    check_windows("active_windows", &p.active_windows)?;
    check_windows("quiet_hours", &p.quiet_hours)?;

    let mut modes = HashSet::new();
    for (i, m) in p.approval_latency.iter().enumerate() {
        if m.mode == super::model::EngagementMode::None {
            return Err(ValidationError::new(
                format!("approval_latency[{i}].mode"),
                "must not be ENGAGEMENT_MODE_NONE",
            ));
        }
        if !modes.insert(m.mode) {
            return Err(ValidationError::new(
                format!("approval_latency[{i}].mode"),
                "mode appears more than once",
            ));
        }
        check_duration(&format!("approval_latency[{i}].latency"), m.latency, true)?;
    }

    let mut kinds = HashSet::new();
    for (i, h) in p.half_life_overrides.iter().enumerate() {
        if !kinds.insert(h.kind) {
            return Err(ValidationError::new(
                format!("half_life_overrides[{i}].kind"),
                "kind appears more than once",
            ));
        }
        check_duration(
            &format!("half_life_overrides[{i}].half_life"),
            h.half_life,
            false,
        )?;
    }

    check_count("embedding", &p.embedding, MAX_EMBEDDING)?;
    if let Some(i) = p.embedding.iter().position(|v| !v.is_finite()) {
        return Err(ValidationError::new(
            format!("embedding[{i}]"),
            "must be finite",
        ));
    }
    Ok(())
}

pub const MAX_EVENT_TEXT: usize = 20_000;
pub const MAX_EVENT_LIST: usize = 200;
pub const MAX_SAMPLE_POST: usize = 5_000;
pub const MAX_VELOCITY_HISTORY: usize = 1_000;

/// A number as a reader wants it in a message: as written when it is of a
/// readable size, in scientific notation otherwise (f64::MAX as written has
/// 309 digits).
fn shown(v: f64) -> String {
    if v.is_finite() && (v == 0.0 || (1e-6..1e9).contains(&v.abs())) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

fn check_unit(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if !(v.is_finite() && v >= lo && v <= hi) {
        return Err(ValidationError::new(
            field,
            format!("must be in [{lo}, {hi}], got {}", shown(v)),
        ));
    }
    Ok(())
}

fn check_strings(
    field: &str,
    list: &[String],
    max_items: usize,
    max_len: usize,
) -> Result<(), ValidationError> {
    check_count(field, list, max_items)?;
    for (i, s) in list.iter().enumerate() {
        named(check_len(field, s, max_len), || format!("{field}[{i}]"))?;
    }
    Ok(())
}

/// `result` with its field renamed by `name`: an indexed field name is
/// only written out for the item that fails, not for every item checked.
fn named(
    result: Result<(), ValidationError>,
    name: impl FnOnce() -> String,
) -> Result<(), ValidationError> {
    result.map_err(|e| ValidationError { field: name(), ..e })
}

/// Validates an event. Required fields (`kind`, `occurred_at`) are enforced
/// by the type; this checks the rest. Paths are relative to the event.
pub fn validate_event(e: &super::model::Event) -> Result<(), ValidationError> {
    if e.id.trim().is_empty() {
        return Err(ValidationError::new("id", "must not be empty"));
    }
    check_len("id", &e.id, MAX_NAME_LEN)?;
    check_len("text", &e.text, MAX_EVENT_TEXT)?;
    check_len("language", &e.language, 35)?;
    check_strings("hashtags", &e.hashtags, MAX_EVENT_LIST, MAX_TERM_LEN)?;
    check_count("topics", &e.topics, MAX_EVENT_LIST)?;
    for (i, t) in e.topics.iter().enumerate() {
        named(check_len("", &t.label, MAX_TERM_LEN), || {
            format!("topics[{i}].label")
        })?;
        named(check_unit("", t.confidence, 0.0, 1.0), || {
            format!("topics[{i}].confidence")
        })?;
    }
    check_strings("entities", &e.entities, MAX_EVENT_LIST, MAX_TERM_LEN)?;
    check_len("channel", &e.channel, MAX_NAME_LEN)?;
    if let Some(a) = &e.author {
        check_len("author.id", &a.id, MAX_NAME_LEN)?;
        check_len("author.display_name", &a.display_name, MAX_NAME_LEN)?;
        check_unit("author.bot_likelihood", a.bot_likelihood, 0.0, 1.0)?;
    }
    check_len("conversation_id", &e.conversation_id, MAX_NAME_LEN)?;
    check_time_zone("audience_time_zone", &e.audience_time_zone)?;
    check_len("audience_region", &e.audience_region, MAX_NAME_LEN)?;
    if let Some(v) = &e.velocity {
        check_unit(
            "velocity.mentions_per_minute",
            v.mentions_per_minute,
            0.0,
            f64::MAX,
        )?;
        check_count(
            "velocity.history_per_minute",
            &v.history_per_minute,
            MAX_VELOCITY_HISTORY,
        )?;
        for (i, h) in v.history_per_minute.iter().enumerate() {
            named(check_unit("", *h, 0.0, f64::MAX), || {
                format!("velocity.history_per_minute[{i}]")
            })?;
        }
        if v.window.is_zero() {
            return Err(ValidationError::new("velocity.window", "must be positive"));
        }
    }
    if let Some(s) = e.sentiment {
        check_unit("sentiment", s, -1.0, 1.0)?;
    }
    check_strings(
        "sensitivity_labels",
        &e.sensitivity_labels,
        MAX_EVENT_LIST,
        MAX_TERM_LEN,
    )?;
    check_strings(
        "sample_posts",
        &e.sample_posts,
        MAX_EVENT_LIST,
        MAX_SAMPLE_POST,
    )?;
    check_count("embedding", &e.embedding, MAX_EMBEDDING)?;
    if let Some(i) = e.embedding.iter().position(|v| !v.is_finite()) {
        return Err(ValidationError::new(
            format!("embedding[{i}]"),
            "must be finite",
        ));
    }
    Ok(())
}

/// How far in the future of `now` an event may say it happened: clocks of
/// upstream pipelines drift, but an event later than this is a bug or a
/// forgery, and scoring it as brand new would make it look fresh forever.
pub const MAX_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Refuses an event whose `occurred_at` is later than `now` plus
/// [`MAX_CLOCK_SKEW`]. Paths are relative to the event.
pub fn validate_event_time(
    e: &super::model::Event,
    now: jiff::Timestamp,
) -> Result<(), ValidationError> {
    let skew = jiff::SignedDuration::try_from(MAX_CLOCK_SKEW).unwrap_or(jiff::SignedDuration::ZERO);
    let latest = now.checked_add(skew).unwrap_or(jiff::Timestamp::MAX);
    if e.occurred_at > latest {
        return Err(ValidationError::new(
            "occurred_at",
            format!(
                "is {} s after now ({now}); at most {} s of clock skew is allowed",
                e.occurred_at.duration_since(now).as_secs(),
                MAX_CLOCK_SKEW.as_secs()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::*;

    fn valid() -> BrandProfile {
        BrandProfile {
            brand_id: "acme-cookies".into(),
            display_name: "Acme Cookies".into(),
            themes: vec![WeightedTerm {
                term: "dunk".into(),
                weight: 1.0,
            }],
            audience_time_zone: "America/New_York".into(),
            active_windows: vec![LocalWindow {
                start_minute: 900,
                end_minute: 1110,
            }],
            ..Default::default()
        }
    }

    fn field_of(p: &BrandProfile) -> Option<String> {
        validate_profile(p).err().map(|e| e.field)
    }

    #[test]
    fn accepts_a_valid_profile() {
        assert_eq!(validate_profile(&valid()), Ok(()));
    }

    #[test]
    fn each_invalid_input_names_its_field() {
        type Edit = fn(&mut BrandProfile);
        let cases: &[(&str, Edit)] = &[
            ("brand_id", |p| p.brand_id.clear()),
            ("brand_id", |p| p.brand_id = "Upper".into()),
            ("brand_id", |p| p.brand_id = "-lead".into()),
            ("brand_id", |p| p.brand_id = "a".repeat(129)),
            ("brand_id", |p| p.brand_id = "a b".into()),
            ("display_name", |p| p.display_name = "x".repeat(201)),
            ("themes[0].weight", |p| p.themes[0].weight = 0.0),
            ("themes[0].weight", |p| p.themes[0].weight = 1.5),
            ("themes[0].weight", |p| p.themes[0].weight = f64::NAN),
            ("themes[1].term", |p| {
                p.themes.push(WeightedTerm {
                    term: " DUNK ".into(),
                    weight: 0.5,
                })
            }),
            ("themes[0].term", |p| p.themes[0].term = "  ".into()),
            ("themes", |p| {
                p.themes = (0..1001)
                    .map(|i| WeightedTerm {
                        term: format!("t{i}"),
                        weight: 0.5,
                    })
                    .collect()
            }),
            ("aliases[1]", |p| {
                p.aliases = vec!["Acme".into(), "acme".into()]
            }),
            ("audience_time_zone", |p| {
                p.audience_time_zone = "Mars/Olympus".into()
            }),
            ("active_windows[0].start_minute", |p| {
                p.active_windows[0].start_minute = 1440
            }),
            ("active_windows[0].end_minute", |p| {
                p.active_windows[0].end_minute = 0
            }),
            ("active_windows[0]", |p| {
                p.active_windows[0].end_minute = 900
            }),
            ("quiet_hours[0].end_minute", |p| {
                p.quiet_hours = vec![LocalWindow {
                    start_minute: 0,
                    end_minute: 1441,
                }]
            }),
            ("approval_latency[1].mode", |p| {
                let m = ModeLatency {
                    mode: EngagementMode::Reply,
                    latency: Duration::from_secs(60),
                };
                p.approval_latency = vec![m, m]
            }),
            ("half_life_overrides[0].half_life", |p| {
                p.half_life_overrides = vec![KindHalfLife {
                    kind: EventKind::News,
                    half_life: Duration::ZERO,
                }]
            }),
            ("embedding[1]", |p| p.embedding = vec![0.1, f32::INFINITY]),
            ("sensitivity_tolerance[1].category", |p| {
                let t = CategoryTolerance {
                    category: SensitiveCategory::Adult,
                    max_level: RiskLevel::None,
                };
                p.sensitivity_tolerance = vec![t, t]
            }),
        ];
        for (want, edit) in cases {
            let mut p = valid();
            edit(&mut p);
            assert_eq!(field_of(&p).as_deref(), Some(*want), "case {want}");
        }
    }

    #[test]
    fn windows_wrap_past_midnight() {
        let w = LocalWindow {
            start_minute: 1320,
            end_minute: 360,
        };
        assert!(w.contains(1380) && w.contains(0) && w.contains(359));
        assert!(!w.contains(360) && !w.contains(720));
    }

    #[test]
    fn time_zones_are_known_in_any_case_and_unknown_ones_named() {
        for ok in [
            "America/New_York",
            "america/NEW_YORK",
            "UTC",
            "utc",
            "US/Eastern",
            "Etc/GMT+5",
        ] {
            assert!(check_time_zone("tz", ok).is_ok(), "{ok}");
        }
        for bad in [
            "Mars/Olympus",
            "America/New_York ",
            "Ameri\u{e7}a/New_York",
            "/",
        ] {
            let err = check_time_zone("tz", bad).unwrap_err();
            assert_eq!(err.field, "tz", "{bad}");
            assert!(err.message.contains("unknown IANA time zone"), "{bad}");
        }
        assert!(is_listed_zone("europe/paris") && !is_listed_zone(""));
    }
}
