//! Stage two: one analysed event against one compiled profile. Cheap by
//! design: the heavy text work happened in `analyse` and `compile`.

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::analyse::{AnalysedEvent, Source, TrendPhase, push_debug_str, push_fixed};
use super::compiled::{CompiledProfile, Offsets, Term, exceeds};
use super::lexicon::{Level, category_name};
use super::model::{
    Assessment, BlackoutScope, Decision, Detail, EngagementMode, EventKind, Factor, Guardrails,
    LocalWindow, Reason, ReasonCode, SensitiveCategory,
};
use super::text::{Form, pattern};

pub const MODEL_VERSION: &str = "kairos-v1.2";

/// How much one reason matters when ordering: what decided first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Weight {
    Note = 0,
    Factor = 1,
    Cap = 2,
    Decisive = 3,
}

struct Reasons(Vec<(Weight, Reason)>);

impl Reasons {
    fn add(
        &mut self,
        w: Weight,
        code: ReasonCode,
        factor: Factor,
        contribution: f64,
        detail: impl Into<Detail>,
    ) {
        let contribution = if contribution.is_finite() {
            contribution
        } else {
            0.0
        };
        self.0.push((
            w,
            Reason {
                code,
                factor,
                contribution,
                detail: detail.into(),
            },
        ));
    }

    fn promote(&mut self, code: ReasonCode, w: Weight) {
        for (weight, r) in &mut self.0 {
            if r.code == code && *weight < w {
                *weight = w;
            }
        }
    }

    fn has(&self, code: ReasonCode) -> bool {
        self.0.iter().any(|(_, r)| r.code == code)
    }
}

fn unit(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// 1 − Π(1 − eᵢ): more evidence approaches 1 and never passes it. Kept
/// as the running product, so no list of the parts is needed.
struct Saturate(f64);

impl Saturate {
    fn new() -> Self {
        Self(1.0)
    }

    fn push(&mut self, e: f64) {
        self.0 *= 1.0 - unit(e);
    }

    fn value(&self) -> f64 {
        unit(1.0 - self.0)
    }
}

fn fmt_duration(secs: f64) -> String {
    let mut out = String::with_capacity(8);
    push_duration(&mut out, secs);
    out
}

fn push_duration(out: &mut String, secs: f64) {
    let s = secs.max(0.0);
    if s >= 2.0 * 86_400.0 {
        push_fixed(out, s / 86_400.0, 1);
        out.push('d');
    } else if s >= 3_600.0 {
        push_fixed(out, s / 3_600.0, 1);
        out.push('h');
    } else {
        push_fixed(out, s / 60.0, 0);
        out.push('m');
    }
}

fn fmt_minute(m: u32) -> String {
    let mut out = String::with_capacity(5);
    push_minute(&mut out, m);
    out
}

fn push_minute(out: &mut String, m: u32) {
    let (h, m) = ((m / 60) % 24, m % 60);
    for d in [h / 10, h % 10] {
        out.push(char::from(b'0' + d as u8));
    }
    out.push(':');
    for d in [m / 10 % 10, m % 10] {
        out.push(char::from(b'0' + d as u8));
    }
}

fn add(ts: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|sd| ts.checked_add(sd).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Latest `respond_by`, and longest `max_review_latency`, after `now`: 30 days.
pub const MAX_RESPONSE_HORIZON_SECS: f64 = 30.0 * 86_400.0;

fn add_secs(ts: Timestamp, secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() {
        return None;
    }
    let sd = SignedDuration::try_from_secs_f64(secs).ok()?;
    ts.checked_add(sd).ok()
}

fn secs_between(a: Timestamp, b: Timestamp) -> f64 {
    b.duration_since(a).as_secs_f64()
}

/// Minute of the local day at `ts` in `tz`; `table` holds the offsets of
/// `tz` for some years, where it has them.
fn minute_of_day(ts: Timestamp, tz: &TimeZone, table: Option<&Offsets>) -> u32 {
    // Whole seconds rounded down, as civil time counts them.
    let second = ts.as_second() - i64::from(ts.subsec_nanosecond() < 0);
    let offset = table
        .and_then(|t| t.get(second))
        .unwrap_or_else(|| tz.to_offset(ts).seconds());
    (second.saturating_add(i64::from(offset)).rem_euclid(86_400) / 60) as u32
}

/// `{:?}` of a mode, without the formatter.
fn mode_name(m: EngagementMode) -> &'static str {
    match m {
        EngagementMode::None => "None",
        EngagementMode::CustomerCare => "CustomerCare",
        EngagementMode::Reply => "Reply",
        EngagementMode::JoinConversation => "JoinConversation",
        EngagementMode::Newsjack => "Newsjack",
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

#[derive(Default)]
struct Hits {
    /// (term, source) for names in text/hashtags.
    names: Vec<(Term, Source)>,
    /// Sample posts naming the brand.
    name_posts: Vec<usize>,
    /// Best source factor per theme index.
    themes: Vec<(usize, Source)>,
    topics: Vec<(usize, f64, Source)>,
    competitors: Vec<(usize, Source)>,
    blocked: Vec<(usize, Source)>,
    blocked_topics: Vec<(usize, Source)>,
}

fn collect_hits(ev: &AnalysedEvent, p: &CompiledProfile) -> Hits {
    let mut h = Hits::default();
    let m = p.matcher(ev.form);
    let (t0, t1) = ev.hashtag_segments;
    let on = |h: &mut Hits, term: Term, src: Source, conf: f64| match term {
        Term::Name(_) => match src {
            Source::Sample(i) => {
                if !h.name_posts.contains(&i) {
                    h.name_posts.push(i)
                }
            }
            _ => h.names.push((term, src)),
        },
        Term::Theme(i) => {
            if let Some(e) = h.themes.iter_mut().find(|(j, _)| *j == i) {
                if matches!(e.1, Source::Sample(_)) && !matches!(src, Source::Sample(_)) {
                    e.1 = src;
                }
            } else {
                // Themes come in numbers when they come at all: one
                // allocation instead of growing through 4 and 8.
                if h.themes.is_empty() {
                    h.themes.reserve(16);
                }
                h.themes.push((i, src))
            }
        }
        Term::Topic(i) => h.topics.push((i, conf, src)),
        Term::Competitor(i) => h.competitors.push((i, src)),
        Term::Blocked(i) => h.blocked.push((i, src)),
        Term::BlockedTopic(i) => h.blocked_topics.push((i, src)),
    };
    m.for_each(&ev.main, |idx, k| {
        let seg = ev.main.toks.get(k).map_or(0, |t| t.seg as usize);
        let src = if (t0..t1).contains(&seg) {
            Source::Hashtag
        } else {
            Source::Text
        };
        if let Some(t) = p.terms.get(idx) {
            on(&mut h, *t, src, 1.0);
        }
    });
    m.for_each(&ev.samples, |idx, k| {
        let seg = ev.samples.toks.get(k).map_or(0, |t| t.seg as usize);
        if let Some(t) = p.terms.get(idx) {
            on(&mut h, *t, Source::Sample(seg), 1.0);
        }
    });
    m.for_each(&ev.topics, |idx, k| {
        let seg = ev.topics.toks.get(k).map_or(0, |t| t.seg as usize);
        let conf = ev
            .event
            .topics
            .get(seg)
            .map(|t| t.confidence)
            .unwrap_or(0.0);
        if let Some(t) = p.terms.get(idx) {
            match t {
                Term::Topic(_) | Term::BlockedTopic(_) => on(&mut h, *t, Source::Label, conf),
                _ => {}
            }
        }
    });
    if !p.glued.is_empty() {
        for g in &ev.glued {
            p.glued.for_each(g, 1, |id| {
                if let Some(t) = p.glued_terms.get(id) {
                    on(&mut h, *t, Source::Hashtag, 1.0);
                }
            });
        }
    }
    h
}

/// Window factor: 1 in an active window, 0.6 outside the brand's active
/// windows, 0.85 when it states none, 0.2 in quiet hours.
fn window_factor(p: &CompiledProfile, minute: u32) -> (f64, Option<LocalWindow>, bool) {
    if let Some(q) = p.quiet.iter().find(|w| w.contains(minute)) {
        return (0.2, Some(*q), true);
    }
    let active = &p.stored.profile.active_windows;
    if active.is_empty() {
        return (0.85, None, false);
    }
    match active.iter().find(|w| w.contains(minute)) {
        Some(w) => (1.0, Some(*w), false),
        None => (0.6, None, false),
    }
}

/// The lowest window factor between the moment and publication: a moment
/// that would have to wait through quiet hours has gone cold by morning.
/// Taking the minimum over a growing interval keeps timing non-increasing
/// in `now`.
fn worst_window(
    p: &CompiledProfile,
    start_min: u32,
    span_min: f64,
) -> (f64, u32, Option<LocalWindow>, bool) {
    let mut best = window_factor(p, start_min);
    let mut at = start_min;
    let span = if span_min.is_finite() {
        span_min.max(0.0)
    } else {
        f64::MAX
    };
    let bounds = p
        .quiet
        .iter()
        .chain(p.stored.profile.active_windows.iter())
        .flat_map(|w| [w.start_minute % 1440, w.end_minute % 1440]);
    for b in bounds {
        let offset = (b + 1440 - start_min) % 1440;
        if f64::from(offset) <= span {
            let f = window_factor(p, b);
            if f.0 < best.0 {
                best = f;
                at = b;
            }
        }
    }
    (best.0, at, best.1, best.2)
}

/// Scores one analysed event for one brand as of `now`.
pub fn assess(
    ev: &AnalysedEvent,
    p: &CompiledProfile,
    g: &Guardrails<'_>,
    now: Timestamp,
) -> Assessment {
    let e = &ev.event;
    let prof = &p.stored.profile;
    let th = p.thresholds;
    // The list becomes the answer's in place, so its capacity is what every
    // kept assessment (thousands in a ScoreBatch) carries. Twenty covers the
    // usual 5-12 reasons, and 20 weighted reasons are exactly 24 bare ones:
    // a size that is not a whole number of bare reasons would be
    // reallocated by the in-place collect.
    let mut rs = Reasons(Vec::with_capacity(20));
    let addressed = e.addressed_to_brand || e.kind == EventKind::DirectMessage;
    let mode = mode_for(e.kind, addressed);
    let care = mode == EngagementMode::CustomerCare;
    let hits = collect_hits(ev, p);
    let named_in_event = !hits.names.is_empty();

    // ---- relevance
    let mut evidence = Saturate::new();
    let mut entity_collision = None;
    // The brand's name is also an entity of the story: either the story is
    // about the brand, or a namesake is at its centre. Decided below.
    let mut name_collision: Option<String> = None;
    if addressed {
        evidence.push(0.95);
        rs.add(
            Weight::Factor,
            ReasonCode::DirectMention,
            Factor::Relevance,
            0.95,
            "addressed to the brand",
        );
    } else if let Some((t, src)) = hits.names.first() {
        let name = p.term_text(*t);
        let collides = matches!(
            e.kind,
            EventKind::News
                | EventKind::TrendingTopic
                | EventKind::LiveEvent
                | EventKind::CulturalMoment
        ) && e.entities.iter().any(|x| names_same(x, name));
        if collides {
            name_collision = Some(name.to_string());
        }
        evidence.push(0.85);
        rs.add(
            Weight::Factor,
            ReasonCode::DirectMention,
            Factor::Relevance,
            0.85,
            format!("names the brand as {name:?} in the {}", src.describe()),
        );
    } else if !hits.name_posts.is_empty() {
        let v = (0.3 + 0.1 * hits.name_posts.len() as f64).min(0.6);
        evidence.push(v);
        rs.add(
            Weight::Factor,
            ReasonCode::DirectMention,
            Factor::Relevance,
            v,
            format!(
                "sample posts name the brand ({} of {})",
                hits.name_posts.len(),
                e.sample_posts.len()
            ),
        );
    }
    let story = matches!(
        e.kind,
        EventKind::News
            | EventKind::TrendingTopic
            | EventKind::LiveEvent
            | EventKind::CulturalMoment
    );
    for (i, src) in &hits.themes {
        let Some(t) = prof.themes.get(*i) else {
            continue;
        };
        // A theme that is also a named entity of the story (a product named
        // like the town at the centre of the news) is a coincidence of
        // names, not a fit.
        if story && entity_collision.is_none() && e.entities.iter().any(|x| names_same(x, &t.term))
        {
            entity_collision = Some(t.term.clone());
        }
        let f = if matches!(src, Source::Sample(_)) {
            0.35
        } else {
            0.75
        };
        let v = f * unit(t.weight);
        evidence.push(v);
        let detail = matched_detail(&p.theme_details, *i, *src);
        rs.add(
            Weight::Factor,
            ReasonCode::ThemeMatch,
            Factor::Relevance,
            v,
            detail,
        );
    }
    // The brand's own platform named in the story's text or tags (its
    // product, its slogan) shows the story is about the brand, not a
    // namesake; a theme that is itself the colliding entity shows nothing.
    let corroborated = hits.themes.iter().any(|(i, src)| {
        !matches!(src, Source::Sample(_))
            && prof
                .themes
                .get(*i)
                .is_some_and(|t| !e.entities.iter().any(|x| names_same(x, &t.term)))
    });
    if entity_collision.is_none() && !corroborated {
        entity_collision = name_collision;
    }
    let mut seen_topics: Vec<usize> = Vec::new();
    for (i, conf, src) in &hits.topics {
        if seen_topics.contains(i) {
            continue;
        }
        seen_topics.push(*i);
        let Some(t) = prof.topics.get(*i) else {
            continue;
        };
        let v = match src {
            Source::Label => 0.8 * unit(t.weight) * unit(*conf),
            Source::Sample(_) => 0.25 * unit(t.weight),
            // A profile topic named outright in the event is nearly as
            // good as an upstream classifier saying so.
            _ => 0.6 * unit(t.weight),
        };
        evidence.push(v);
        let detail = matched_detail(&p.topic_details, *i, *src);
        rs.add(
            Weight::Factor,
            ReasonCode::TopicMatch,
            Factor::Relevance,
            v,
            detail,
        );
    }
    if !e.embedding.is_empty()
        && e.embedding.len() == prof.embedding.len()
        && p.embedding_norm > 0.0
    {
        let (dot, n2) =
            e.embedding
                .iter()
                .zip(&prof.embedding)
                .fold((0.0, 0.0), |(d, n), (a, b)| {
                    (
                        d + f64::from(*a) * f64::from(*b),
                        n + f64::from(*a) * f64::from(*a),
                    )
                });
        let cos = dot / (n2.sqrt() * p.embedding_norm);
        if cos.is_finite() && cos > 0.0 {
            let v = 0.9 * cos * cos;
            evidence.push(v);
            rs.add(
                Weight::Factor,
                ReasonCode::EmbeddingSimilarity,
                Factor::Relevance,
                v,
                format!("embedding cosine {cos:.2}"),
            );
        }
    }
    let relevance = evidence.value();

    // ---- timing
    let latency = p.latency(mode);
    let publish = add(now, latency);
    // Resolved once in `analyse`: an empty or unknown zone is the brand's.
    let tz = ev.audience_tz.as_ref().unwrap_or(&p.tz);
    // The profile's table is for its own zone: the event's zone is that one
    // when the event names none or the same (comparing the names is
    // cheaper than comparing the zones).
    let table = (ev.audience_tz.is_none() || e.audience_time_zone == prof.audience_time_zone)
        .then_some(&p.offsets);
    let zone_name = if !e.audience_time_zone.is_empty() {
        e.audience_time_zone.as_str()
    } else if !prof.audience_time_zone.is_empty() {
        prof.audience_time_zone.as_str()
    } else {
        "UTC"
    };
    let base_half = p.half_life(e.kind).as_secs_f64().max(1.0);
    let half = match ev.trend {
        TrendPhase::Rising(_) => base_half * 1.5,
        TrendPhase::Fading(_) => base_half * 0.5,
        _ => base_half,
    };
    let age_pub = secs_between(e.occurred_at, publish).max(0.0);
    let age_now = secs_between(e.occurred_at, now).max(0.0);
    // 0.5^x written as 2^-x: optimised builds turn powf(0.5, x) into
    // exp2(-x), which can differ from pow in the last bit, so debug test
    // runs and the release binary would not give identical assessments.
    let fresh = |age: f64| unit((-(age / half)).exp2());
    let fresh_pub = fresh(age_pub);
    let start = if e.occurred_at < publish {
        e.occurred_at
    } else {
        publish
    };
    let start_min = minute_of_day(start, tz, table);
    let publish_min = minute_of_day(publish, tz, table);
    let span_min = secs_between(start, publish) / 60.0;
    let (wf, wf_at, window, in_quiet) = if care {
        (1.0, publish_min, None, false)
    } else {
        worst_window(p, start_min, span_min)
    };
    let timing = unit(fresh_pub * wf);
    match ev.trend {
        TrendPhase::Rising(r) => rs.add(
            Weight::Note,
            ReasonCode::TrendRising,
            Factor::Timing,
            0.1,
            {
                let mut d = String::with_capacity(40);
                d.push_str("velocity rising ×");
                push_fixed(&mut d, r, 1);
                d.push_str("; half-life ");
                push_duration(&mut d, half);
                d
            },
        ),
        TrendPhase::Fading(r) => rs.add(
            Weight::Factor,
            ReasonCode::TrendFading,
            Factor::Timing,
            -0.2,
            format!(
                "velocity fading to {:.0}% of recent; half-life {}",
                r * 100.0,
                fmt_duration(half)
            ),
        ),
        _ => {}
    }
    let fresh_detail = {
        let mut d = String::with_capacity(64);
        d.push_str("age at publish ");
        push_duration(&mut d, age_pub);
        d.push_str(" (half-life ");
        push_duration(&mut d, half);
        d.push_str(", ");
        d.push_str(mode_name(mode));
        d.push_str(" approval ");
        push_duration(&mut d, latency.as_secs_f64());
        d.push(')');
        d
    };
    let stale = timing < th.timing_min && !(in_quiet && fresh_pub >= th.timing_min);
    // A moment that is stale anyway is explained by its age, not the clock.
    let quiet = in_quiet && !stale;
    let fresh_without_review = unit(fresh(age_now) * wf) >= th.timing_min;
    if stale && fresh_without_review && !quiet {
        rs.add(
            Weight::Decisive,
            ReasonCode::StaleAfterReview,
            Factor::Timing,
            -(1.0 - timing),
            format!("{fresh_detail}: the moment passes during review"),
        );
    } else if stale && !quiet {
        rs.add(
            Weight::Decisive,
            ReasonCode::Stale,
            Factor::Timing,
            -(1.0 - timing),
            fresh_detail,
        );
    } else if fresh_pub >= 0.5 {
        rs.add(
            Weight::Note,
            ReasonCode::Fresh,
            Factor::Timing,
            fresh_pub,
            fresh_detail,
        );
    } else {
        rs.add(
            Weight::Factor,
            ReasonCode::Stale,
            Factor::Timing,
            -(1.0 - fresh_pub),
            fresh_detail,
        );
    }
    if quiet {
        let w = window
            .map(|w| {
                format!(
                    " (quiet {}–{})",
                    fmt_minute(w.start_minute),
                    fmt_minute(w.end_minute)
                )
            })
            .unwrap_or_default();
        rs.add(
            Weight::Decisive,
            ReasonCode::QuietHours,
            Factor::Timing,
            -0.8,
            format!("audience local time {} {zone_name}{w}", fmt_minute(wf_at)),
        );
    } else if let Some(w) = window.filter(|_| !in_quiet) {
        rs.add(
            Weight::Note,
            ReasonCode::ActiveWindow,
            Factor::Timing,
            0.15,
            {
                let mut d = String::with_capacity(48 + zone_name.len());
                d.push_str("publishes ");
                push_minute(&mut d, publish_min);
                d.push(' ');
                d.push_str(zone_name);
                d.push_str(", in active window ");
                push_minute(&mut d, w.start_minute);
                d.push('–');
                push_minute(&mut d, w.end_minute);
                d
            },
        );
    }

    // ---- risk
    let mut risks = Saturate::new();
    let mut hard = false;
    let mut review_cap = false;
    let mut listen_cap = false;
    let mut risk = |rs: &mut Reasons, w: Weight, code, r: f64, detail: String| {
        risks.push(r);
        rs.add(w, code, Factor::Risk, r, detail);
    };

    // A customer writing to the brand about something grave (a death in the
    // family, an abusive outburst) is not a public moment to stay out of:
    // silence abandons them, an auto-reply is tone-deaf, so a person
    // answers. Floor content still declines: it must never be repeated.
    let solicited_care = care && addressed;
    // Sensitive context by GARM category, against the brand's tolerance.
    let mut death_like = false;
    for d in &ev.sensitive {
        let tol = p.tolerance(d.category);
        let mut detail = String::with_capacity(96 + d.term.len());
        detail.push_str(category_name(d.category));
        detail.push_str(" (");
        detail.push_str(d.level.name());
        detail.push_str(") from ");
        push_debug_str(&mut detail, &d.term);
        detail.push_str(" in the ");
        d.source.push_describe(&mut detail);
        if matches!(
            d.category,
            SensitiveCategory::DeathInjuryMilitaryConflict | SensitiveCategory::Terrorism
        ) && d.level >= Level::Medium
        {
            death_like = true;
        }
        if d.level == Level::Floor {
            hard = true;
            risk(
                &mut rs,
                Weight::Decisive,
                ReasonCode::FloorCategory,
                1.0,
                detail,
            );
        } else if exceeds(d.level, tol) {
            let r = match d.level {
                Level::Low => 0.25,
                Level::Medium => 0.5,
                _ => 0.85,
            };
            let grave = d.level == Level::High;
            let w = if grave && solicited_care {
                Weight::Cap
            } else if grave {
                Weight::Decisive
            } else {
                Weight::Factor
            };
            if grave && solicited_care {
                review_cap = true;
            } else {
                hard |= grave;
            }
            risk(&mut rs, w, ReasonCode::SensitiveContext, r, detail);
        } else {
            risk(&mut rs, Weight::Note, ReasonCode::SensitiveContext, 0.05, {
                detail.push_str(", within the brand's tolerance");
                detail
            });
        }
    }
    if let Some((name, f)) = &ev.anniversary {
        hard = true;
        risk(
            &mut rs,
            Weight::Decisive,
            ReasonCode::TragedyAnniversary,
            0.95,
            format!(
                "anniversary of the {name}: {:?} in the {}",
                f.term,
                f.source.describe()
            ),
        );
    } else if death_like && let Some(f) = ev.remembrance.first() {
        hard = true;
        risk(
            &mut rs,
            Weight::Decisive,
            ReasonCode::TragedyAnniversary,
            0.9,
            format!(
                "remembrance of a tragedy: {:?} in the {}",
                f.term,
                f.source.describe()
            ),
        );
    }
    // Grief: decisive when strong, repeated, or about death.
    let sample_grief = ev
        .grief
        .iter()
        .filter(|(f, _)| matches!(f.source, Source::Sample(_)))
        .count();
    let counts = |strong: bool, src: Source| {
        strong && (!matches!(src, Source::Sample(_)) || sample_grief >= 2)
    };
    let (grief_w, grief_hard) = if solicited_care {
        (Weight::Cap, false)
    } else {
        (Weight::Decisive, true)
    };
    if let Some((f, _)) = ev.grief.iter().find(|(f, s)| counts(*s, f.source)) {
        hard |= grief_hard;
        review_cap = true;
        risk(
            &mut rs,
            grief_w,
            ReasonCode::GriefOrOutrage,
            0.9,
            format!("grief: {:?} in the {}", f.term, f.source.describe()),
        );
    } else if let Some((f, _)) = ev.grief.first() {
        // One weak cue in one post among many ("I'm dying at his face")
        // is noise, as a lone dark post is for the categories.
        let noise = ev.grief.len() == 1
            && !death_like
            && matches!(f.source, Source::Sample(_))
            && e.sample_posts.len() >= 5;
        if noise {
        } else if ev.grief.len() >= 2 || death_like {
            hard |= grief_hard;
            review_cap = true;
            risk(
                &mut rs,
                grief_w,
                ReasonCode::GriefOrOutrage,
                0.9,
                format!("grief: {:?} and {} more cue(s)", f.term, ev.grief.len() - 1),
            );
        } else {
            risk(
                &mut rs,
                Weight::Factor,
                ReasonCode::GriefOrOutrage,
                0.4,
                format!(
                    "possible grief: {:?} in the {}",
                    f.term,
                    f.source.describe()
                ),
            );
        }
    }
    if let Some(f) = ev.distress.first() {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::GriefOrOutrage,
            0.5,
            format!(
                "a person in distress: {:?} in the {}; a person must answer",
                f.term,
                f.source.describe()
            ),
        );
    }
    // Outrage not aimed at the brand.
    let aimed_at_brand = addressed || named_in_event;
    let outrage_cue = ev
        .outrage
        .iter()
        .find(|f| !matches!(f.source, Source::Sample(_)))
        .or_else(|| {
            let posts = ev
                .outrage
                .iter()
                .filter(|f| matches!(f.source, Source::Sample(_)))
                .count();
            if posts >= 2 { ev.outrage.first() } else { None }
        });
    if !aimed_at_brand && (outrage_cue.is_some() || ev.sentiment <= -0.5) {
        let detail = match outrage_cue {
            Some(f) => format!("outrage: {:?} in the {}", f.term, f.source.describe()),
            None => format!(
                "negative sentiment {:.2} not aimed at the brand",
                ev.sentiment
            ),
        };
        risk(
            &mut rs,
            Weight::Factor,
            ReasonCode::GriefOrOutrage,
            0.35,
            detail,
        );
    }
    // Criticism of the brand that was not addressed to it.
    if !addressed
        && named_in_event
        && (ev.sentiment <= -0.3 || e.kind == EventKind::Complaint || outrage_cue.is_some())
    {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::NegativeSentiment,
            0.3,
            format!(
                "criticism of the brand not addressed to it (sentiment {:.2})",
                ev.sentiment
            ),
        );
    }
    // A mention or praise addressed to the brand that tells of a bad
    // experience ("wow thanks, day three living at the airport") is a
    // complaint in sarcastic clothing: a cheerful reply in the brand's
    // voice is the classic blunder, so a person answers.
    if addressed
        && matches!(e.kind, EventKind::BrandMention | EventKind::Praise)
        && let Some(f) = ev
            .complaint
            .iter()
            .find(|f| matches!(f.source, Source::Text | Source::Hashtag))
    {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::NegativeSentiment,
            0.3,
            format!(
                "a complaint addressed to the brand as a mention: {:?} in the {}",
                f.term,
                f.source.describe()
            ),
        );
    }
    // The brand's own crisis: many negative posts about it.
    let hashtag_named = hits.names.iter().any(|(_, s)| *s == Source::Hashtag);
    let about_brand: Vec<usize> = if hashtag_named {
        (0..ev.sample_sentiments.len()).collect()
    } else {
        hits.name_posts.clone()
    };
    // Sarcasm and bad-experience stories read neutral to a sentiment
    // score; the complaint cues count them as negative.
    let negative = about_brand
        .iter()
        .filter(|i| {
            let src = Source::Sample(**i);
            ev.sample_sentiments.get(**i).is_some_and(|s| *s <= -0.3)
                || ev.outrage.iter().any(|f| f.source == src)
                || ev.complaint.iter().any(|f| f.source == src)
        })
        .count();
    let crowd = matches!(
        e.kind,
        EventKind::TrendingTopic
            | EventKind::News
            | EventKind::BrandMention
            | EventKind::Conversation
            | EventKind::CulturalMoment
    );
    // A single sour post among a handful is noise, not a crisis.
    let incident = ev
        .incident
        .iter()
        .find(|f| !matches!(f.source, Source::Sample(_)))
        .or_else(|| {
            ev.incident.iter().find(|f| match f.source {
                Source::Sample(i) => about_brand.contains(&i),
                _ => false,
            })
        });
    let crisis = if about_brand.len() >= 3
        && negative >= 2
        && negative as f64 >= 0.3 * about_brand.len() as f64
    {
        Some(format!(
            "{negative} of {} posts about the brand are negative",
            about_brand.len()
        ))
    } else if let Some(f) = incident.filter(|_| crowd && !addressed && named_in_event) {
        Some(format!(
            "an incident involving the brand: {:?} in the {}",
            f.term,
            f.source.describe()
        ))
    } else if crowd
        && !addressed
        && named_in_event
        && ev.sample_sentiments.is_empty()
        && ev.sentiment <= -0.3
        && matches!(e.kind, EventKind::TrendingTopic | EventKind::News)
    {
        Some(format!(
            "negative {:?} about the brand (sentiment {:.2})",
            e.kind, ev.sentiment
        ))
    } else {
        None
    };
    // The brand's own campaign hashtag (an alias written with '#') trending:
    // people are answering the campaign, and whether they praise it or turn
    // it against the brand lives only in their posts. Without a clear
    // positive majority under it, a person reads it first.
    let campaign_tag = hits.names.iter().find_map(|(t, _)| match t {
        Term::Name(i) => p.names.get(*i).filter(|n| n.trim_start().starts_with('#')),
        _ => None,
    });
    let crisis = crisis.or_else(|| {
        let tag = campaign_tag?;
        if addressed || !matches!(e.kind, EventKind::TrendingTopic | EventKind::News) {
            return None;
        }
        let posts = ev.sample_sentiments.len();
        let positive = ev.sample_sentiments.iter().filter(|s| **s >= 0.3).count();
        (positive * 2 <= posts || posts == 0).then(|| {
            format!("the brand's own campaign tag {tag} is trending; {positive} of {posts} posts under it are positive")
        })
    });
    let in_crisis = crisis.is_some();
    if let Some(detail) = crisis {
        review_cap = true;
        risk(&mut rs, Weight::Cap, ReasonCode::BrandCrisis, 0.5, detail);
    }
    // Unsolicited entry.
    if addressed {
        rs.add(
            Weight::Note,
            ReasonCode::Solicited,
            Factor::Risk,
            -0.15,
            "the author addressed the brand",
        );
    } else {
        let r = match e.kind {
            EventKind::Conversation => 0.45,
            EventKind::Complaint | EventKind::Question => 0.3,
            EventKind::BrandMention | EventKind::Praise => 0.15,
            _ => 0.0,
        };
        if r > 0.0 {
            let w = if e.kind == EventKind::Conversation {
                Weight::Decisive
            } else {
                Weight::Factor
            };
            risk(
                &mut rs,
                w,
                ReasonCode::Unsolicited,
                r,
                format!("{:?} not addressed to the brand", e.kind),
            );
        }
    }
    if !named_in_event
        && !addressed
        && let Some((i, src)) = hits.competitors.first()
    {
        // A person talking to or about a competitor is in someone else's
        // conversation; a trend or story that names one is only grey.
        let personal = matches!(
            e.kind,
            EventKind::Complaint
                | EventKind::Question
                | EventKind::Praise
                | EventKind::BrandMention
                | EventKind::Conversation
        );
        if personal {
            listen_cap = true;
        } else {
            review_cap = true;
        }
        risk(
            &mut rs,
            if personal {
                Weight::Decisive
            } else {
                Weight::Cap
            },
            ReasonCode::CompetitorConversation,
            0.3,
            format!(
                "competitor {:?} in the {}",
                prof.competitors.get(*i).map(String::as_str).unwrap_or(""),
                src.describe()
            ),
        );
    }
    if let Some(a) = &e.author {
        let b = unit(a.bot_likelihood);
        if b >= 0.5 {
            review_cap = true;
            risk(
                &mut rs,
                Weight::Cap,
                ReasonCode::LowAuthenticity,
                0.6 * b,
                format!("author bot likelihood {b:.2}"),
            );
        }
    }
    let caps = prof.frequency_caps;
    let c = g.counts;
    for (count, cap, what) in [
        (c.author_today, caps.per_author_per_day, "author today"),
        (
            c.conversation_today,
            caps.per_conversation_per_day,
            "conversation today",
        ),
        (
            c.brand_last_hour,
            caps.per_brand_per_hour,
            "brand in the last hour",
        ),
    ] {
        if cap > 0 && count >= cap {
            if care {
                review_cap = true
            } else {
                listen_cap = true
            }
            risk(
                &mut rs,
                Weight::Cap,
                ReasonCode::FrequencyCap,
                0.3,
                format!("{count} engagements with this {what} (cap {cap})"),
            );
        }
    }
    if matches!(mode, EngagementMode::CustomerCare | EngagementMode::Reply)
        && (e.kind == EventKind::Complaint || ev.sentiment <= -0.3)
        && let Some(why) = high_reach(ev)
    {
        review_cap = true;
        risk(&mut rs, Weight::Cap, ReasonCode::HighReach, 0.3, why);
    }
    let debated = ev
        .sensitive
        .iter()
        .find(|d| d.category == SensitiveCategory::DebatedSocialIssues && d.level >= Level::Medium);
    if let Some(f) = ev.values.first() {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::ValuesMoment,
            0.35,
            format!("values moment: {:?} in the {}", f.term, f.source.describe()),
        );
    } else if let Some(d) = debated {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::ValuesMoment,
            0.2,
            format!("debated issue: {:?} in the {}", d.term, d.source.describe()),
        );
    }
    // A person's post under the brand's own campaign tag is an entry to
    // the campaign: automated answers to entries are how user text ends up
    // printed in the brand's voice.
    let campaign_entry = campaign_tag.filter(|_| {
        matches!(
            e.kind,
            EventKind::BrandMention | EventKind::Praise | EventKind::Question
        )
    });
    if let Some(f) = ev.echo.first() {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::EchoTrap,
            0.5,
            format!(
                "asks the brand to repeat user text: {:?} in the {}",
                f.term,
                f.source.describe()
            ),
        );
    } else if let Some(tag) = campaign_entry {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::EchoTrap,
            0.4,
            format!("an entry to the brand's campaign {tag}: a person answers entries"),
        );
    }
    if let Some(name) = &entity_collision {
        review_cap = true;
        risk(
            &mut rs,
            Weight::Cap,
            ReasonCode::EntityCollision,
            0.3,
            format!("{name:?} is also a named entity of this story"),
        );
    }

    // Blocked terms and topics, blackouts.
    for (i, src) in &hits.blocked {
        hard = true;
        let t = prof.blocked_terms.get(*i).map(String::as_str).unwrap_or("");
        rs.add(
            Weight::Decisive,
            ReasonCode::BlockedTerm,
            Factor::Decision,
            -1.0,
            format!("blocked term {t:?} in the {}", src.describe()),
        );
    }
    for (i, src) in &hits.blocked_topics {
        hard = true;
        let t = prof
            .blocked_topics
            .get(*i)
            .map(String::as_str)
            .unwrap_or("");
        rs.add(
            Weight::Decisive,
            ReasonCode::BlockedTopic,
            Factor::Decision,
            -1.0,
            format!("blocked topic {t:?} in the {}", src.describe()),
        );
    }
    for b in g.blackouts {
        let brand_ok = b.brand_id.is_empty() || b.brand_id == prof.brand_id;
        let applies = match b.scope {
            BlackoutScope::Global => true,
            BlackoutScope::Brand => b.brand_id == prof.brand_id,
            BlackoutScope::Region => {
                brand_ok
                    && !b.region.trim().is_empty()
                    && b.region
                        .trim()
                        .eq_ignore_ascii_case(e.audience_region.trim())
            }
            BlackoutScope::Topic => {
                brand_ok && b.terms.iter().any(|t| blackout_term_matches(ev, t))
            }
        };
        if applies {
            hard = true;
            rs.add(
                Weight::Decisive,
                ReasonCode::BlackoutActive,
                Factor::Decision,
                -1.0,
                format!("blackout {} ({:?}): {}", b.id, b.scope, b.reason),
            );
        }
    }

    if quiet {
        risks.push(0.2);
    }
    let mut risk_v = risks.value();
    if addressed {
        risk_v *= 0.85;
    }
    let risk_v = unit(risk_v);

    // ---- confidence inputs
    let low_conf = e.kind == EventKind::TrendingTopic
        && e.sample_posts.is_empty()
        && ev.token_count < 5
        && !addressed;
    if low_conf {
        review_cap = true;
        rs.add(
            Weight::Cap,
            ReasonCode::LowConfidence,
            Factor::Decision,
            -0.2,
            "trend without sample posts or text: what is said under it is unknown",
        );
    }

    // ---- decision
    // A values day is a person's call even for a brand with no link to it:
    // the infamous posts came from brands that thought they had none.
    let values_day = e.kind == EventKind::CulturalMoment && !ev.values.is_empty();
    let decision = if hard {
        Decision::Decline
    } else if relevance < th.relevance_min && !values_day {
        rs.add(
            Weight::Decisive,
            ReasonCode::OffPlatform,
            Factor::Relevance,
            -(th.relevance_min - relevance),
            format!(
                "relevance {relevance:.2} below {:.2}: nothing of the brand's platform",
                th.relevance_min
            ),
        );
        Decision::Decline
    } else if stale
        || (quiet && !care)
        // A brand crisis and a customer's grave message both need a
        // person, not silence: they stay at REVIEW however high the risk.
        || (risk_v >= th.risk_listen && !in_crisis && !solicited_care)
        || listen_cap
        || (e.kind == EventKind::Conversation && !addressed)
    {
        if risk_v >= th.risk_listen && !in_crisis && !solicited_care {
            // The risk reasons themselves explain a LISTEN for risk.
            for (w, r) in &mut rs.0 {
                if r.factor == Factor::Risk && r.contribution >= 0.3 && *w < Weight::Decisive {
                    *w = Weight::Decisive;
                }
            }
        }
        Decision::Listen
    } else if relevance >= th.relevance_engage
        && timing >= th.timing_engage
        && risk_v <= th.risk_engage
        && !review_cap
    {
        Decision::Engage
    } else {
        Decision::Review
    };
    if decision == Decision::Listen && listen_cap {
        rs.promote(ReasonCode::FrequencyCap, Weight::Decisive);
    }
    if decision != Decision::Decline
        && !rs.has(ReasonCode::OffPlatform)
        && relevance < th.relevance_engage
    {
        rs.add(
            Weight::Factor,
            ReasonCode::OffPlatform,
            Factor::Relevance,
            -(th.relevance_engage - relevance),
            format!(
                "relevance {relevance:.2} below {:.2} needed to engage",
                th.relevance_engage
            ),
        );
    }

    // ---- respond_by and max_review_latency from the same curve
    let solve = |tau: f64| -> Option<Timestamp> {
        if wf <= tau || tau <= 0.0 {
            return None;
        }
        add_secs(e.occurred_at, half * (wf / tau).log2())
    };
    let stale_after_review = rs.has(ReasonCode::StaleAfterReview);
    let deadline = match decision {
        Decision::Engage => solve(th.timing_engage),
        Decision::Review => solve(th.timing_min),
        Decision::Listen if stale_after_review => {
            solve(th.timing_engage).or_else(|| solve(th.timing_min))
        }
        _ => None,
    };
    // A very long half-life or a far-future solution is capped: no answer
    // promises a window longer than the horizon.
    let horizon = add_secs(now, MAX_RESPONSE_HORIZON_SECS);
    let deadline = deadline.map(|d| match horizon {
        Some(h) if d > h => h,
        _ => d,
    });
    let respond_by = match decision {
        Decision::Engage | Decision::Review => deadline.filter(|d| *d >= now),
        _ => None,
    };
    let max_review_latency = deadline.and_then(|d| {
        let s = secs_between(now, d);
        (s > 0.0).then(|| Duration::from_secs_f64(s.min(1e12)))
    });

    let recommended_mode = match decision {
        Decision::Engage | Decision::Review => mode,
        _ => EngagementMode::None,
    };
    let opportunity = if decision == Decision::Decline {
        0.0
    } else {
        unit(relevance * timing * (1.0 - risk_v))
    };
    let margin = match decision {
        Decision::Decline if hard => 1.0,
        Decision::Decline => (th.relevance_min - relevance) / th.relevance_min,
        Decision::Listen => 0.5,
        Decision::Engage => ((relevance - th.relevance_engage) / (1.0 - th.relevance_engage))
            .min((timing - th.timing_engage) / (1.0 - th.timing_engage))
            .min((th.risk_engage - risk_v) / th.risk_engage),
        Decision::Review => 0.3,
    };
    let mut confidence = 0.4 + 0.25 * unit(margin);
    if ev.token_count >= 5 {
        confidence += 0.15;
    }
    if !e.sample_posts.is_empty() || addressed {
        confidence += 0.1;
    }
    if !e.topics.is_empty()
        || !e.embedding.is_empty()
        || ev.sentiment_upstream
        || !e.sensitivity_labels.is_empty()
    {
        confidence += 0.1;
    }
    if low_conf {
        confidence -= 0.2;
    }

    // Stable: equal keys keep the order the reasons were found in. The
    // list is short, and sorting it in place then dropping the weights
    // reuses its allocation for the answer.
    rs.0.sort_by(|(wa, a), (wb, b)| {
        wb.cmp(wa).then(
            b.contribution
                .abs()
                .partial_cmp(&a.contribution.abs())
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    let reasons: Vec<Reason> = rs.0.into_iter().map(|(_, r)| r).collect();

    Assessment {
        event_id: e.id.clone(),
        brand_id: prof.brand_id.clone(),
        relevance,
        timing,
        intrusiveness_risk: risk_v,
        opportunity,
        decision,
        recommended_mode,
        respond_by,
        max_review_latency,
        confidence: unit(confidence),
        reasons,
        profile_version: p.version(),
        model_version: MODEL_VERSION.to_string(),
        assessed_at: now,
    }
}

/// Whether an entity and a brand term name the same thing: equal, or the
/// entity's first part before a comma ("Aurora, Colorado" → Aurora).
/// A match's reason text. The compiled profile holds each term's text as
/// found in the event's text, shared as it is; found elsewhere, the part
/// before "text" leads a new one.
fn matched_detail(in_text: &[Arc<str>], i: usize, src: Source) -> Detail {
    let shared = in_text.get(i);
    if src == Source::Text
        && let Some(d) = shared
    {
        return Detail::Shared(Arc::clone(d));
    }
    let prefix = shared.and_then(|d| d.strip_suffix("text")).unwrap_or("");
    let mut detail = String::with_capacity(prefix.len() + 16);
    detail.push_str(prefix);
    src.push_describe(&mut detail);
    Detail::Owned(detail)
}

fn names_same(entity: &str, term: &str) -> bool {
    let t = term.trim();
    let e = entity.trim();
    !t.is_empty()
        && (e.eq_ignore_ascii_case(t)
            || e.split(',')
                .next()
                .is_some_and(|head| head.trim().eq_ignore_ascii_case(t)))
}

/// Why a reply would reach a large audience, if it would.
fn high_reach(ev: &AnalysedEvent) -> Option<String> {
    let e = &ev.event;
    if let Some(a) = &e.author
        && (a.follower_count >= 50_000 || (a.verified && a.follower_count >= 10_000))
    {
        return Some(format!(
            "author has {} followers{}",
            a.follower_count,
            if a.verified { " (verified)" } else { "" }
        ));
    }
    if let Some(v) = &e.velocity
        && v.mentions_per_minute >= 5.0
    {
        return Some(format!(
            "going viral: {:.0} mentions per minute",
            v.mentions_per_minute
        ));
    }
    None
}

fn blackout_term_matches(ev: &AnalysedEvent, term: &str) -> bool {
    let form = ev.form;
    let p = pattern(term, form);
    if p.is_empty() {
        return false;
    }
    let p = if form == Form::Raw {
        p
    } else {
        pattern(term, Form::English)
    };
    ev.main.contains_pattern(&p)
        || ev.samples.contains_pattern(&p)
        || ev.topics.contains_pattern(&p)
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use jiff::{SignedDuration, Timestamp};

    use super::{Offsets, minute_of_day};

    /// The minute jiff's civil time gives.
    fn civil_minute(ts: Timestamp, tz: &TimeZone) -> u32 {
        let z = tz.to_datetime(ts);
        (z.hour() as u32) * 60 + z.minute() as u32
    }

    /// The table agrees with the zone's rules at and around every
    /// transition it holds, across its years and outside them, and for
    /// moments before 1970 with fractions of a second.
    #[test]
    fn local_minutes_from_the_offset_table_are_the_zones_own() {
        let around = Timestamp::from_second(1_770_150_000).unwrap();
        let zones = [
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "America/Sao_Paulo",
            "Pacific/Chatham",
            "Africa/Casablanca",
            "UTC",
        ];
        for name in zones {
            let tz = TimeZone::get(name).unwrap();
            let table = Offsets::new(&tz, around);
            let mut probes: Vec<i64> = Vec::new();
            let mut t = around.as_second() - 2 * 366 * 86_400;
            while t < around.as_second() + 5 * 366 * 86_400 {
                probes.push(t);
                t += 6 * 86_400 + 3_607;
            }
            for tr in tz
                .following(Timestamp::from_second(probes[0]).unwrap())
                .take(20)
            {
                let s = tr.timestamp().as_second();
                probes.extend([s - 61, s - 1, s, s + 1, s + 59]);
            }
            for s in probes {
                for nanos in [0, 1, 999_999_999] {
                    let ts = Timestamp::new(s, nanos).unwrap();
                    let want = civil_minute(ts, &tz);
                    assert_eq!(minute_of_day(ts, &tz, Some(&table)), want, "{name} {ts}");
                    assert_eq!(minute_of_day(ts, &tz, None), want, "{name} {ts}");
                }
            }
            assert!(table.get(around.as_second()).is_some(), "{name}");
        }
        let tz = TimeZone::get("America/New_York").unwrap();
        let early = Offsets::new(&tz, Timestamp::UNIX_EPOCH);
        for s in [-86_400 * 200 - 1, -1, 0, 86_400 * 100 + 7] {
            let ts = Timestamp::from_second(s)
                .unwrap()
                .checked_add(SignedDuration::from_millis(-250))
                .unwrap();
            assert_eq!(
                minute_of_day(ts, &tz, Some(&early)),
                civil_minute(ts, &tz),
                "{ts}"
            );
        }
    }
}
