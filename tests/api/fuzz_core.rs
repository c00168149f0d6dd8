//! Property fuzzing of the scoring core (issue 9), apart from CI:
//! `scripts/fuzz.sh`, or
//! `cargo test --release --test api -- --ignored fuzz_core --nocapture`.
//!
//! Every case is an arbitrary event (any Unicode, glued tags, lexicon terms,
//! empty and oversized lists, NaN and infinite numbers, the first and last
//! instants jiff knows), an arbitrary small profile, blackouts, counts and
//! a `now`. Validation must not panic on any of them; analysis must not
//! panic, must keep its scores in range and its work within
//! `analyse::work_bound`; whatever passes validation is assessed against
//! the fuzzed profile (when it validates) and fixed compiled ones, and
//! every score must be finite and in `[0, 1]`.
//!
//! Environment: `KAIROS_FUZZ_CASES` (default 1,000,000),
//! `KAIROS_FUZZ_SEED` (default fixed, so a run is reproducible; a failure
//! names its seed and chunk), `KAIROS_FUZZ_SECONDS` (default 3,600: the
//! run stops at the first chunk boundary past it and says so).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use kairos::core::analyse::{input_bytes, work_bound};
use kairos::core::model::{
    Author, Blackout, BlackoutScope, BrandProfile, CategoryTolerance, EngagementCounts,
    EngagementMode, Event, EventKind, FrequencyCaps, Guardrails, KindHalfLife, LocalWindow,
    ModeLatency, RiskAppetite, RiskLevel, SensitiveCategory, StoredProfile, Topic, Velocity,
    WeightedTerm,
};
use kairos::core::validate::{validate_event, validate_event_time, validate_profile};
use kairos::core::{AnalysedEvent, CompiledProfile, analyse_metered, assess};
use kairos::synthetic;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// What the run exercised, for its closing line.
static VALID_EVENTS: AtomicU64 = AtomicU64::new(0);
static ASSESSMENTS: AtomicU64 = AtomicU64::new(0);

const DEFAULT_CASES: u64 = 1_000_000;
/// The default seed: the same cases on every run unless one is asked for.
const DEFAULT_SEED: u64 = 0x6b61_6972_6f73;
const DEFAULT_SECONDS: u64 = 3_600;
/// Cases per runner: the time limit is checked between chunks, and each
/// chunk has its own seed, derived from the run's.
const CHUNK: u64 = 10_000;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.replace('_', "").parse(),
            };
            parsed.unwrap_or_else(|e| panic!("{name}={v:?}: {e}"))
        }
        Err(_) => default,
    }
}

/// Words and fragments that reach the interesting paths: lexicon terms and
/// idioms, negations and boosters, hashtags glued and camel-cased, URLs,
/// stars, case-changing and combining characters, other scripts.
const PIECES: &[&str] = &[
    "dead",
    "killing it",
    "rip",
    "massacre",
    "shooting",
    "f***ing",
    "sh*t",
    "not",
    "very",
    "good",
    "bad",
    "but",
    "least",
    "no",
    "kind of",
    "!",
    "???",
    "#",
    "@",
    "#dunkinthedark",
    "#susanalbumparty",
    "#GameDay2024",
    "#why_i_stayed",
    "#emyinsininsccantininsononwin",
    "@Brand's",
    "https://t.co/x",
    "www.example.com",
    "http",
    "battery",
    "killed my battery",
    "in",
    "the",
    "9 11",
    "İ",
    "ß",
    "ΣΑΣ",
    "a\u{301}",
    "\u{200b}",
    "\u{a0}",
    "\u{feff}",
    "\u{200f}",
    "\u{212a}ind",
    "ǅ",
    "🍪",
    "🏳️‍🌈",
    "中文",
    "العربية",
    "தமிழ்",
    "'",
    "’",
    "0",
    "123456789012345678901234567890123456789012",
    "\n",
    "\t",
    "*",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-z]{1,12}",
    ]
}

/// Text of pieces, joined by spaces or glued together, or any Unicode at
/// all, or one piece repeated to up to `max_chars` characters.
fn text(max_pieces: usize, max_chars: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (
            proptest::collection::vec(piece(), 0..max_pieces),
            proptest::sample::select(vec![" ", "", " ", "  ", "#"]),
        )
            .prop_map(|(ps, sep)| ps.join(sep)),
        2 => any::<String>(),
        1 => (piece(), 0..=max_chars, proptest::sample::select(vec![" ", ""]))
            .prop_map(|(p, n, sep)| {
                let unit = format!("{p}{sep}");
                unit.repeat(n / unit.chars().count().max(1))
            }),
    ]
}

/// A list that is usually short, sometimes empty, sometimes at or past
/// validation's 200 entries.
fn list<T: std::fmt::Debug, S: Strategy<Value = T>>(
    item: impl Fn() -> S,
) -> impl Strategy<Value = Vec<T>> {
    prop_oneof![
        12 => proptest::collection::vec(item(), 0..4),
        1 => proptest::collection::vec(item(), 195..205),
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(5e-324),
        1 => Just(1.0),
        8 => -2.0f64..2.0,
        2 => 0.0f64..1.0,
        2 => any::<f64>(),
    ]
}

fn unit_number() -> impl Strategy<Value = f64> {
    prop_oneof![4 => 0.0f64..=1.0, 1 => number()]
}

/// A rate: usually one validation accepts.
fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![6 => 0.0f64..5_000.0, 1 => number()]
}

fn float32() -> impl Strategy<Value = f32> {
    prop_oneof![
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::MAX),
        1 => Just(0.0f32),
        8 => -1.0f32..1.0,
    ]
}

fn instant() -> impl Strategy<Value = Timestamp> {
    let base = synthetic::now().as_second();
    prop_oneof![
        1 => Just(Timestamp::MIN),
        1 => Just(Timestamp::MAX),
        1 => Just(Timestamp::UNIX_EPOCH),
        2 => (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())
            .prop_map(|s| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)),
        8 => (-30 * 86_400i64..30 * 86_400)
            .prop_map(move |d| Timestamp::from_second(base + d).unwrap_or(Timestamp::UNIX_EPOCH)),
    ]
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        1 => Just(Duration::ZERO),
        1 => Just(Duration::MAX),
        1 => Just(Duration::from_secs(u64::MAX)),
        6 => (0u64..10_000_000).prop_map(Duration::from_secs),
        1 => (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

fn time_zone() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec![
            "",
            "UTC",
            "America/New_York",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "Pacific/Kiritimati",
            "Australia/Lord_Howe",
            "Bogus/Zone",
        ])
        .prop_map(str::to_string),
        1 => text(3, 40),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    let words = (
        text(12, 300),
        list(|| text(4, 80)),
        list(|| (text(3, 210), unit_number())),
        list(|| text(3, 210)),
        list(|| text(40, 5_200)),
        list(|| {
            prop_oneof![
                proptest::sample::select(vec![
                    "safe",
                    "garm:terrorism:high",
                    "grief",
                    "hate medium",
                    "garm:death_injury:floor",
                ])
                .prop_map(str::to_string),
                text(3, 210),
            ]
        }),
        prop_oneof![
            8 => Just(String::new()),
            1 => text(200, 2_000),
            1 => text(1, 21_000),
        ],
    );
    let people = (
        0usize..10,
        proptest::option::of((
            text(2, 80),
            any::<u64>(),
            any::<bool>(),
            any::<bool>(),
            unit_number(),
            text(3, 80),
        )),
        any::<bool>(),
        text(2, 80),
        proptest::sample::select(vec!["", "en", "en-GB", "es", "de", "ta", "zz", "EN_us"]),
        time_zone(),
        text(2, 80),
    );
    let numbers = (
        instant(),
        proptest::option::of(instant()),
        proptest::option::of((
            rate(),
            prop_oneof![
                8 => proptest::collection::vec(rate(), 0..6),
                1 => proptest::collection::vec(rate(), 995..1_005),
            ],
            duration(),
        )),
        proptest::option::of(prop_oneof![3 => -1.0f64..=1.0, 1 => number()]),
        prop_oneof![
            4 => Just(Vec::new()),
            1 => proptest::collection::vec(float32(), 0..6),
        ],
        prop_oneof![8 => "[a-z0-9-]{1,12}", 1 => text(2, 210)],
    );
    (words, people, numbers).prop_map(|(w, p, n)| {
        let (text, hashtags, topics, entities, sample_posts, labels, long_text) = w;
        let (kind, author, addressed, conversation, language, tz, region) = p;
        let (occurred_at, observed_at, velocity, sentiment, embedding, id) = n;
        Event {
            id,
            kind: EventKind::ALL[kind],
            text: if long_text.is_empty() {
                text
            } else {
                long_text
            },
            language: language.to_string(),
            hashtags,
            topics: topics
                .into_iter()
                .map(|(label, confidence)| Topic { label, confidence })
                .collect(),
            entities,
            occurred_at,
            observed_at,
            channel: "fuzz".into(),
            author: author.map(|(id, followers, verified, follows, bot, name)| Author {
                id,
                follower_count: followers,
                verified,
                follows_brand: follows,
                bot_likelihood: bot,
                display_name: name,
            }),
            addressed_to_brand: addressed,
            conversation_id: conversation,
            audience_time_zone: tz,
            audience_region: region,
            velocity: velocity.map(|(rate, history, window)| Velocity {
                mentions_per_minute: rate,
                history_per_minute: history,
                window,
            }),
            sentiment,
            sensitivity_labels: labels,
            sample_posts,
            embedding,
        }
    })
}

fn window() -> impl Strategy<Value = LocalWindow> {
    (0u32..1_500, 0u32..1_500).prop_map(|(start_minute, end_minute)| LocalWindow {
        start_minute,
        end_minute,
    })
}

/// A term a profile would list: usually a word or two (or a lexicon term),
/// sometimes anything.
fn term() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{2,10}( [a-z]{2,10})?",
        2 => proptest::sample::select(PIECES).prop_map(str::to_string),
        1 => text(3, 80),
    ]
}

/// A term's weight: nearly always one validation accepts, in `(0, 1]`.
fn weight() -> impl Strategy<Value = f64> {
    prop_oneof![30 => 0.001f64..=1.0, 1 => number()]
}

/// A profile's duration: usually within the 90 days validation allows.
fn profile_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![12 => (0u64..90 * 86_400).prop_map(Duration::from_secs), 1 => duration()]
}

/// A small profile: compiling it costs little, so every case has one.
fn profile() -> impl Strategy<Value = BrandProfile> {
    let terms = (
        "[a-z0-9][a-z0-9._-]{0,10}",
        prop_oneof![4 => "[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?", 1 => text(3, 80)],
        proptest::collection::vec(term(), 0..3),
        proptest::collection::vec((term(), weight()), 0..6),
        proptest::collection::vec((term(), weight()), 0..3),
        proptest::collection::vec(term(), 0..3),
        proptest::collection::vec(term(), 0..3),
        proptest::collection::vec(term(), 0..2),
    );
    let rules = (
        proptest::collection::vec((0usize..12, 0usize..4), 0..4),
        0usize..3,
        prop_oneof![4 => Just(String::new()), 1 => time_zone()],
        proptest::collection::vec(window(), 0..3),
        proptest::collection::vec(window(), 0..2),
        proptest::collection::vec((0usize..5, profile_duration()), 0..3),
        proptest::collection::vec((0usize..10, profile_duration()), 0..3),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => proptest::collection::vec(float32(), 0..6),
        ],
    );
    (terms, rules).prop_map(|(t, r)| {
        let (brand_id, display_name, aliases, themes, topics, competitors, blocked, blocked_topics) =
            t;
        let (mut tolerance, appetite, tz, active, quiet, mut latency, mut half_lives, caps, embedding) =
            r;
        // Repeated categories, modes and kinds are refused by validation;
        // most cases keep the first of each, so that they reach `assess`.
        let mut seen = std::collections::HashSet::new();
        tolerance.retain(|(c, _)| seen.insert(*c));
        seen.clear();
        latency.retain(|(m, _)| seen.insert(*m));
        seen.clear();
        half_lives.retain(|(k, _)| seen.insert(*k));
        let weighted = |v: Vec<(String, f64)>| {
            v.into_iter()
                .map(|(term, weight)| WeightedTerm { term, weight })
                .collect()
        };
        BrandProfile {
            brand_id,
            display_name,
            aliases,
            category: "fuzz".into(),
            themes: weighted(themes),
            topics: weighted(topics),
            competitors,
            blocked_terms: blocked,
            blocked_topics,
            sensitivity_tolerance: tolerance
                .into_iter()
                .map(|(c, l)| CategoryTolerance {
                    category: SensitiveCategory::ALL[c],
                    max_level: [RiskLevel::None, RiskLevel::Low, RiskLevel::Medium, RiskLevel::High]
                        [l],
                })
                .collect(),
            risk_appetite: [
                RiskAppetite::Conservative,
                RiskAppetite::Balanced,
                RiskAppetite::Bold,
            ][appetite],
            audience_time_zone: tz,
            active_windows: active,
            quiet_hours: quiet,
            approval_latency: latency
                .into_iter()
                .map(|(m, latency)| ModeLatency {
                    mode: [
                        EngagementMode::None,
                        EngagementMode::CustomerCare,
                        EngagementMode::Reply,
                        EngagementMode::JoinConversation,
                        EngagementMode::Newsjack,
                    ][m],
                    latency,
                })
                .collect(),
            half_life_overrides: half_lives
                .into_iter()
                .map(|(k, half_life)| KindHalfLife {
                    kind: EventKind::ALL[k],
                    half_life,
                })
                .collect(),
            frequency_caps: FrequencyCaps {
                per_author_per_day: caps.0,
                per_conversation_per_day: caps.1,
                per_brand_per_hour: caps.2,
            },
            embedding,
        }
    })
}

fn blackout() -> impl Strategy<Value = Blackout> {
    (
        0usize..4,
        proptest::sample::select(vec!["", "brand-000000", "x"]),
        proptest::collection::vec(text(2, 80), 0..3),
        proptest::sample::select(vec!["", "US", "us ", "FR"]),
        proptest::option::of(instant()),
        proptest::option::of(instant()),
        instant(),
    )
        .prop_map(
            |(scope, brand, terms, region, starts_at, ends_at, created_at)| Blackout {
                id: "b".into(),
                scope: [
                    BlackoutScope::Global,
                    BlackoutScope::Brand,
                    BlackoutScope::Topic,
                    BlackoutScope::Region,
                ][scope],
                brand_id: brand.into(),
                terms,
                region: region.into(),
                starts_at,
                ends_at,
                reason: "fuzz".into(),
                created_at,
            },
        )
}

#[derive(Debug, Clone)]
struct Case {
    event: Event,
    profile: BrandProfile,
    blackouts: Vec<Blackout>,
    counts: (u32, u32, u32),
    now: Timestamp,
    /// Which fixed profiles to assess against as well.
    fixed: (usize, usize),
}

fn case() -> impl Strategy<Value = Case> {
    (
        event(),
        profile(),
        proptest::collection::vec(blackout(), 0..3),
        prop_oneof![
            3 => (0u32..4, 0u32..4, 0u32..4),
            1 => (any::<u32>(), any::<u32>(), any::<u32>()),
        ],
        instant(),
        (0usize..64, 0usize..64),
    )
        .prop_map(|(event, profile, blackouts, counts, now, fixed)| Case {
            event,
            profile,
            blackouts,
            counts,
            now,
            fixed,
        })
}

/// Profiles compiled once: synthetic brands with many themes, one with
/// tolerances, wrapping quiet hours and an embedding, and an empty one.
fn fixed_profiles() -> Vec<CompiledProfile> {
    let stored = |profile: BrandProfile| StoredProfile {
        profile,
        version: 1,
        updated_at: synthetic::now(),
    };
    let mut strict = synthetic::brand(3, 50);
    strict.risk_appetite = RiskAppetite::Conservative;
    strict.sensitivity_tolerance = SensitiveCategory::ALL
        .iter()
        .map(|&category| CategoryTolerance {
            category,
            max_level: RiskLevel::None,
        })
        .collect();
    strict.display_name = "Dunkin Dark".into();
    strict.audience_time_zone = "Pacific/Chatham".into();
    strict.quiet_hours = vec![LocalWindow {
        start_minute: 1_200,
        end_minute: 600,
    }];
    strict.embedding = vec![0.5, -0.5, 0.25, 1.0];
    let mut bold = synthetic::brand(4, 10);
    bold.risk_appetite = RiskAppetite::Bold;
    bold.blocked_topics = vec!["politics".into(), "9 11".into()];
    bold.frequency_caps = FrequencyCaps {
        per_author_per_day: 1,
        per_conversation_per_day: 1,
        per_brand_per_hour: 1,
    };
    let empty = BrandProfile {
        brand_id: "empty".into(),
        ..Default::default()
    };
    [
        synthetic::brand(0, 200),
        synthetic::brand(1, 50),
        strict,
        bold,
        empty,
    ]
    .into_iter()
    .map(|p| {
        assert_eq!(validate_profile(&p), Ok(()), "{}", p.brand_id);
        CompiledProfile::compile(stored(p))
    })
    .collect()
}

fn in_unit(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

fn check_analysis(e: &Event, a: &AnalysedEvent, work: u64) -> Result<(), TestCaseError> {
    prop_assert!(
        work <= work_bound(e),
        "work {work} above the bound {} for {} input bytes",
        work_bound(e),
        input_bytes(e)
    );
    prop_assert!(a.sentiment.is_finite() && (-1.0..=1.0).contains(&a.sentiment));
    prop_assert!(
        a.sample_sentiments
            .iter()
            .all(|s| s.is_finite() && (-1.0..=1.0).contains(s))
    );
    prop_assert!(a.sample_sentiments.len() == e.sample_posts.len().min(200));
    Ok(())
}

fn check_assessment(
    a: &AnalysedEvent,
    p: &CompiledProfile,
    g: &Guardrails<'_>,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    let s = assess(a, p, g, now);
    prop_assert!(
        in_unit(s.relevance)
            && in_unit(s.timing)
            && in_unit(s.intrusiveness_risk)
            && in_unit(s.opportunity)
            && in_unit(s.confidence),
        "{s:?}"
    );
    prop_assert!(
        s.reasons.iter().all(|r| r.contribution.is_finite()),
        "{s:?}"
    );
    ASSESSMENTS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn check(c: &Case, fixed: &[CompiledProfile]) -> Result<(), TestCaseError> {
    // Validation must answer for anything.
    let valid = validate_event(&c.event).is_ok();
    let _ = validate_event_time(&c.event, c.now);
    let profile_valid = validate_profile(&c.profile).is_ok();

    // Analysis is public: it must hold on events nobody validated.
    let (a, work) = analyse_metered(&c.event);
    check_analysis(&c.event, &a, work)?;
    if !valid {
        return Ok(());
    }
    VALID_EVENTS.fetch_add(1, Ordering::Relaxed);
    let g = Guardrails {
        blackouts: &c.blackouts,
        counts: EngagementCounts {
            author_today: c.counts.0,
            conversation_today: c.counts.1,
            brand_last_hour: c.counts.2,
        },
    };
    for i in [c.fixed.0, c.fixed.1] {
        if let Some(p) = fixed.get(i % fixed.len().max(1)) {
            check_assessment(&a, p, &g, c.now)?;
        }
    }
    if profile_valid {
        let p = CompiledProfile::compile(StoredProfile {
            profile: c.profile.clone(),
            version: 1,
            updated_at: synthetic::now(),
        });
        check_assessment(&a, &p, &g, c.now)?;
    }
    Ok(())
}

#[test]
#[ignore = "a million cases: run by scripts/fuzz.sh, not by CI"]
fn fuzz_core() {
    let cases = env_u64("KAIROS_FUZZ_CASES", DEFAULT_CASES);
    let seed = env_u64("KAIROS_FUZZ_SEED", DEFAULT_SEED);
    let limit = Duration::from_secs(env_u64("KAIROS_FUZZ_SECONDS", DEFAULT_SECONDS));
    let fixed = fixed_profiles();
    let started = Instant::now();
    let (mut done, mut chunk) = (0u64, 0u64);
    while done < cases {
        let n = CHUNK.min(cases - done);
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..16].copy_from_slice(&chunk.to_le_bytes());
        let config = Config {
            cases: u32::try_from(n).unwrap_or(u32::MAX),
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        // Proptest turns a panic into a failure carrying its message, and
        // shrinks it by running the case again and again: the default hook
        // would print every one of those panics with its backtrace.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let result = runner.run(&case(), |c| check(&c, &fixed));
        std::panic::set_hook(hook);
        if let Err(e) = result {
            panic!("fuzz_core: seed {seed:#x}, chunk {chunk}, after {done} passing cases: {e}");
        }
        done += n;
        chunk += 1;
        if done % 100_000 == 0 {
            eprintln!(
                "fuzz_core: {done} cases, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        if started.elapsed() > limit {
            eprintln!("fuzz_core: time limit of {} s reached", limit.as_secs());
            break;
        }
    }
    eprintln!(
        "fuzz_core: {done} cases passed in {:.1} s (seed {seed:#x}); {} events \
         passed validation, {} assessments checked",
        started.elapsed().as_secs_f64(),
        VALID_EVENTS.load(Ordering::Relaxed),
        ASSESSMENTS.load(Ordering::Relaxed),
    );
}
