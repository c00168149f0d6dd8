//! Pins complete assessments, byte for byte, so that work on the speed of
//! the core cannot change a single decision, score, reason or detail.
//!
//! `golden.txt` was written by the core *before* its matching was rebuilt
//! for speed. Each line is `id<TAB>payload`: the JSON of the assessment for
//! the corpora and the synthetic benchmark inputs (readable when something
//! moves), its SHA-256 for the generated cases (there are many). JSON prints
//! floats in shortest round-trip form, so equal text means equal bits.
//!
//! Regenerate only for an intended change of scoring:
//! `KAIROS_BLESS=1 cargo test --test core golden`. To see what a changed
//! hash stands for, `KAIROS_GOLDEN_DUMP=FILE` writes the whole assessments
//! of the generated cases; compare the dumps from before and after.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use kairos::cli::eval::read_suite;
use kairos::core::model::*;
use kairos::core::{CompiledProfile, analyse, assess};
use kairos::synthetic::{self, Lcg};

use super::corpus::{assessments, corpus};

const GOLDEN: &str = include_str!("../fixtures/golden.txt");

fn json(a: &Assessment) -> String {
    serde_json::to_string(a).unwrap_or_else(|e| format!("unserialisable: {e}"))
}

fn sha(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

const VOCAB: &[&str] = &[
    "coffee",
    "coffees",
    "dunk",
    "dunking",
    "dark",
    "in the dark",
    "dunk in the dark",
    "cookie",
    "cookies",
    "milk",
    "game day",
    "game",
    "day",
    "half time",
    "pizza",
    "running",
    "runner",
    "marathon",
    "new york",
    "york",
    "battery",
    "phone",
    "the update",
    "app",
    "not",
    "but",
    "very",
    "GREAT",
    "love",
    "!!!",
    "???",
    "don't",
    "women's",
    "https://t.co/abc",
    "www.example.com",
    "9 11",
    "911",
    "Aurora",
    "Oreo",
    "oreo",
    "ShopCo",
    "shop co",
    "Burger Co",
    "burgerco",
    "@shopco",
    "@rival",
    "rival",
    "the",
    "a",
    "and",
    "of",
    "to",
    "🍪",
    "café",
    "naïve",
    "日本",
    "order",
    "never arrived",
    "third time",
    "refund",
    "win",
    "darkness",
    "blackout",
    "power",
    "outage",
];

/// Words of the lexicons' world (deaths, idioms, cues, blocked terms).
const DARK: &[&str] = &[
    "killed",
    "died",
    "dead",
    "killing it",
    "battery died",
    "star wars",
    "total disaster",
    "never forget",
    "remembering",
    "rip",
    "recall",
    "breach",
    "scandal",
    "f***ing",
    "sh*t",
    "kill myself",
    "retweet this",
    "print this",
    "name our",
    "giveaway",
    "diet pills",
    "election",
    "vote",
    "hate",
    "awful",
    "terrible",
];

const NAMES: &[&str] = &[
    "Oreo",
    "ShopCo",
    "Burger Co",
    "Aurora",
    "Dark",
    "Brand",
    "Run Club",
    "café",
];

/// The lexicon's terms as they were when the generated cases were pinned
/// (model kairos-v1.2), one per line, in the lexicon's order. The cases
/// draw their dark words from this frozen list rather than the live
/// lexicon: a term added to a lexicon file must change what the core
/// decides about an event, never which events the golden file holds.
const FROZEN_LEXICON: &str = include_str!("../fixtures/golden-lexicon.txt");

/// Its lines, split once.
static FROZEN_TERMS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| FROZEN_LEXICON.lines().collect());

/// Up to `max` words or phrases; `dark` percent of them from the lexicons.
fn phrase(r: &mut Lcg, max: usize, dark: u64) -> String {
    let lex = &*FROZEN_TERMS;
    let n = 1 + r.below(max);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if r.chance(dark) {
            if r.chance(50) && !lex.is_empty() {
                out.push(lex[r.below(lex.len())].to_string());
            } else {
                out.push(r.pick(DARK).to_string());
            }
        } else {
            out.push(r.pick(VOCAB).to_string());
        }
    }
    out.join(" ")
}

fn camel(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn tag(r: &mut Lcg, dark: u64) -> String {
    let p = phrase(r, 3, dark);
    match r.below(4) {
        0 => format!("#{}", camel(&p)),
        1 => format!("#{}", p.replace(' ', "").to_lowercase()),
        2 => format!("#{}", p.replace(' ', "_")),
        _ => format!("#{}{}", camel(&p), r.below(30)),
    }
}

fn gen_event(r: &mut Lcg, i: usize, base: Timestamp) -> Event {
    // Most moments are ordinary; some are dark, as in a real stream.
    let dark = [0, 0, 2, 5, 20][r.below(5)];
    let mut text = phrase(r, 30, dark);
    if r.chance(30) {
        text = format!("@{} {text}", r.pick(NAMES).replace(' ', "").to_lowercase());
    }
    if r.chance(20) {
        text.push_str(" #");
        text.push_str(&camel(&phrase(r, 2, dark)));
    }
    let posts = (0..r.below(7))
        .map(|_| {
            let mut p = phrase(r, 12, dark);
            if r.chance(30) {
                p.push(' ');
                p.push_str(&tag(r, dark));
            }
            if r.chance(20) {
                p = format!("@{} {p}", r.pick(NAMES).replace(' ', ""));
            }
            p
        })
        .collect();
    let kind = EventKind::ALL[r.below(10)];
    let langs = ["en", "", "en-GB", "es", "de", "fr-CA"];
    let zones = [
        "",
        "America/New_York",
        "Europe/Paris",
        "Asia/Tokyo",
        "Bogus/Zone",
    ];
    let labels = [
        "safe",
        "garm:terrorism:high",
        "grief",
        "hate medium",
        "politics",
        "garm:death_injury:floor",
        "weird",
    ];
    let occurred = base
        .checked_add(SignedDuration::from_secs(r.below(400_000) as i64 - 300_000))
        .unwrap_or(base);
    let lang_range = if r.chance(70) { 3 } else { langs.len() };
    Event {
        id: format!("gen-{i}"),
        kind,
        text,
        language: langs[r.below(lang_range)].into(),
        hashtags: (0..r.below(4)).map(|_| tag(r, dark)).collect(),
        topics: (0..r.below(3))
            .map(|_| Topic {
                label: phrase(r, 2, dark),
                confidence: r.unit(),
            })
            .collect(),
        entities: (0..r.below(3))
            .map(|_| {
                let e = if r.chance(50) {
                    r.pick(NAMES).to_string()
                } else {
                    phrase(r, 2, dark)
                };
                if r.chance(30) {
                    format!("{e}, Colorado")
                } else {
                    e
                }
            })
            .collect(),
        occurred_at: occurred,
        observed_at: None,
        channel: "x".into(),
        author: r.chance(70).then(|| Author {
            id: tag(r, dark),
            follower_count: [0, 900, 12_000, 60_000][r.below(4)],
            verified: r.chance(20),
            follows_brand: r.chance(50),
            bot_likelihood: if r.chance(20) { r.unit() } else { 0.0 },
            display_name: phrase(r, 3, dark),
        }),
        addressed_to_brand: r.chance(30),
        conversation_id: String::new(),
        audience_time_zone: r.pick(&zones).into(),
        audience_region: r.pick(&["", "US", "us ", "FR"]).into(),
        velocity: r.chance(50).then(|| Velocity {
            mentions_per_minute: r.below(1000) as f64,
            history_per_minute: (0..r.below(5)).map(|_| r.below(1000) as f64).collect(),
            window: Duration::from_secs(300),
        }),
        sentiment: r.chance(15).then(|| r.unit() * 2.0 - 1.0),
        sensitivity_labels: (0..usize::from(r.chance(15)))
            .map(|_| r.pick(&labels).to_string())
            .collect(),
        sample_posts: posts,
        embedding: Vec::new(),
    }
}

fn gen_profile(r: &mut Lcg, i: usize) -> BrandProfile {
    let weighted = |r: &mut Lcg, n: usize| -> Vec<WeightedTerm> {
        (0..n)
            .map(|_| WeightedTerm {
                term: phrase(r, 3, 3),
                weight: 0.05 + r.unit() * 0.95,
            })
            .collect()
    };
    let n_themes = r.below(12);
    let n_topics = r.below(3);
    let mut aliases: Vec<String> = (0..r.below(3))
        .map(|_| {
            let n = r.pick(NAMES);
            match r.below(4) {
                0 => format!("#{}", camel(n)),
                1 => format!("@{}", n.replace(' ', "").to_lowercase()),
                2 => n.replace(' ', ""),
                _ => phrase(r, 2, 3),
            }
        })
        .collect();
    if r.chance(20) {
        aliases.push(format!("#{}", camel(&phrase(r, 2, 3))));
    }
    let mut p = BrandProfile {
        brand_id: format!("gen-brand-{i}"),
        display_name: r.pick(NAMES).into(),
        aliases,
        category: "x".into(),
        themes: weighted(r, n_themes),
        topics: weighted(r, n_topics),
        competitors: (0..r.below(3)).map(|_| phrase(r, 2, 3)).collect(),
        blocked_terms: (0..usize::from(r.chance(30)))
            .map(|_| phrase(r, 2, 100))
            .collect(),
        blocked_topics: (0..usize::from(r.chance(20)))
            .map(|_| phrase(r, 1, 60))
            .collect(),
        risk_appetite: [
            RiskAppetite::Conservative,
            RiskAppetite::Balanced,
            RiskAppetite::Bold,
        ][r.below(3)],
        audience_time_zone: r.pick(&["", "America/New_York", "Australia/Sydney"]).into(),
        ..Default::default()
    };
    if r.chance(60) {
        p.active_windows = vec![LocalWindow {
            start_minute: r.below(1440) as u32,
            end_minute: r.below(1440) as u32,
        }];
    }
    if r.chance(40) {
        p.quiet_hours = vec![LocalWindow {
            start_minute: r.below(1440) as u32,
            end_minute: r.below(1440) as u32,
        }];
    }
    if r.chance(50) {
        p.approval_latency = vec![ModeLatency {
            mode: [
                EngagementMode::CustomerCare,
                EngagementMode::Reply,
                EngagementMode::Newsjack,
            ][r.below(3)],
            latency: Duration::from_secs(60 * r.below(300) as u64),
        }];
    }
    if r.chance(30) {
        p.sensitivity_tolerance = vec![CategoryTolerance {
            category: SensitiveCategory::ALL[r.below(12)],
            max_level: [RiskLevel::None, RiskLevel::Low, RiskLevel::High][r.below(3)],
        }];
    }
    if r.chance(20) {
        p.half_life_overrides = vec![KindHalfLife {
            kind: EventKind::ALL[r.below(10)],
            half_life: Duration::from_secs(60 * r.below(500) as u64),
        }];
    }
    if r.chance(20) {
        p.frequency_caps = FrequencyCaps {
            per_author_per_day: r.below(3) as u32,
            per_conversation_per_day: r.below(3) as u32,
            per_brand_per_hour: r.below(3) as u32,
        };
    }
    p
}

fn gen_blackouts(r: &mut Lcg, brand: &str) -> Vec<Blackout> {
    (0..usize::from(r.chance(25)))
        .map(|k| Blackout {
            id: format!("bo-{k}"),
            scope: [
                BlackoutScope::Global,
                BlackoutScope::Brand,
                BlackoutScope::Topic,
                BlackoutScope::Topic,
                BlackoutScope::Region,
            ][r.below(5)],
            brand_id: if r.chance(50) {
                brand.to_string()
            } else {
                String::new()
            },
            terms: (0..r.below(3)).map(|_| phrase(r, 2, 50)).collect(),
            region: r.pick(&["", "US", "fr"]).into(),
            starts_at: None,
            ends_at: None,
            reason: "crisis".into(),
            created_at: Timestamp::UNIX_EPOCH,
        })
        .collect()
}

fn compile(p: BrandProfile) -> CompiledProfile {
    CompiledProfile::compile(StoredProfile {
        profile: p,
        version: 3,
        updated_at: Timestamp::UNIX_EPOCH,
    })
}

/// Every golden case's assessment, with its id, in a fixed order.
fn each_case(mut visit: impl FnMut(String, &Assessment)) {
    for name in ["moments", "holdout"] {
        let suite = match read_suite(&corpus(&format!("{name}.yaml"))) {
            Ok(suite) => suite,
            Err(e) => panic!("{name}: {e}"),
        };
        for (case, a) in suite.cases.iter().zip(assessments(&suite)) {
            visit(format!("{name}/{}", case.id), &a);
        }
    }

    let now = synthetic::now();
    let guard = Guardrails::default();
    for ei in 0..3 {
        let ev = analyse(&synthetic::event(ei));
        for (bi, themes) in [(0usize, 200usize), (0, 50), (1, 50), (7, 50), (999, 50)] {
            let p = compile(synthetic::brand(bi, themes));
            let a = assess(&ev, &p, &guard, now);
            visit(format!("synthetic/e{ei}-b{bi}-t{themes}"), &a);
        }
    }

    let mut r = Lcg(20_240_501);
    let bases: Vec<Timestamp> = ["2024-05-01T14:00:00Z", "2024-09-11T14:00:00Z"]
        .iter()
        .map(|s| s.parse().unwrap_or(Timestamp::UNIX_EPOCH))
        .collect();
    for i in 0..1500 {
        let base = bases[usize::from(i % 5 == 0)];
        let e = gen_event(&mut r, i, base);
        let ae = analyse(&e);
        // Several brands per event, as the batch paths use it.
        for j in 0..3 {
            let prof = gen_profile(&mut r, i * 3 + j);
            let blackouts = gen_blackouts(&mut r, &prof.brand_id);
            let counts = EngagementCounts {
                author_today: r.below(3) as u32,
                conversation_today: r.below(3) as u32,
                brand_last_hour: r.below(3) as u32,
            };
            let p = compile(prof);
            let g = Guardrails {
                blackouts: &blackouts,
                counts,
            };
            let now = base
                .checked_add(SignedDuration::from_secs(r.below(7200) as i64))
                .unwrap_or(base);
            let a = assess(&ae, &p, &g, now);
            visit(format!("gen/{i}-{j}"), &a);
        }
    }
}

/// Every pinned case, as (id, payload) in a fixed order: whole JSON for the
/// corpora and synthetic cases, a hash of it for the generated ones.
fn current() -> Vec<(String, String)> {
    // KAIROS_GOLDEN_DUMP=FILE writes every generated case's whole
    // assessment there: run it before and after a change of scoring to see
    // what each changed hash stands for.
    let mut dump = std::env::var_os("KAIROS_GOLDEN_DUMP").map(|_| String::new());
    let mut out = Vec::new();
    each_case(|id, a| {
        let full = json(a);
        if id.starts_with("gen/") {
            if let Some(dump) = &mut dump {
                let _ = writeln!(dump, "{id}\t{full}");
            }
            out.push((id, sha(&full)));
        } else {
            out.push((id, full));
        }
    });
    if let (Some(dump), Some(path)) = (dump, std::env::var_os("KAIROS_GOLDEN_DUMP"))
        && let Err(e) = std::fs::write(&path, dump)
    {
        panic!("writing {}: {e}", path.to_string_lossy());
    }
    out
}

/// The COMPACT view drops text, never a number or a decision: on every
/// golden case it equals FULL but for reason details, versions, the
/// instant, and scores of 0 left unset (read as 0).
#[test]
fn the_compact_view_keeps_every_number_and_decision_of_the_full_one() {
    use kairos::grpc::convert::{View, assessment_out};
    let mut cases = 0;
    each_case(|id, a| {
        let full = assessment_out(a.clone(), "d_1".into(), "r".into(), View::Full);
        let compact = assessment_out(a.clone(), "d_1".into(), "r".into(), View::Compact);
        let mut expected = full.clone();
        for r in &mut expected.reasons {
            r.detail.clear();
        }
        expected.profile_version = 0;
        expected.model_version.clear();
        expected.assessed_at = None;
        for score in [
            &mut expected.relevance,
            &mut expected.timing,
            &mut expected.intrusiveness_risk,
            &mut expected.opportunity,
            &mut expected.confidence,
        ] {
            assert!(score.is_some(), "FULL sets every score: {id}");
            if *score == Some(0.0) {
                *score = None;
            }
        }
        assert_eq!(compact, expected, "{id}");
        assert!(full.reasons.iter().all(|r| !r.detail.is_empty()), "{id}");
        cases += 1;
    });
    assert!(cases > 4_000, "{cases}");
}

#[test]
fn assessments_are_byte_identical_to_the_pinned_ones() {
    let cur = current();
    if std::env::var_os("KAIROS_BLESS").is_some() {
        let mut s = String::new();
        for (id, payload) in &cur {
            let _ = writeln!(s, "{id}\t{payload}");
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden.txt");
        if let Err(e) = std::fs::write(path, s) {
            panic!("writing {path}: {e}");
        }
        return;
    }
    let pinned: Vec<(&str, &str)> = GOLDEN.lines().filter_map(|l| l.split_once('\t')).collect();
    assert_eq!(pinned.len(), cur.len(), "number of pinned cases changed");
    let mut diffs = Vec::new();
    for ((pid, pp), (id, payload)) in pinned.iter().zip(&cur) {
        assert_eq!(*pid, id, "case order changed");
        if *pp != payload {
            diffs.push(format!("{id}:\n  pinned {pp}\n  now    {payload}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {} assessments changed; first:\n{}",
        diffs.len(),
        cur.len(),
        diffs.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}
