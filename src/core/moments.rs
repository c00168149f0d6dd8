//! The evaluation corpus: real-time-marketing moments from public history
//! and ordinary customer care, scored the way PRODUCT.md judges decision
//! quality (right 1, safe-but-weaker ½, miss 0, ENGAGE on a backlash
//! moment −2). A measurement as much as a test: run with
//! `cargo test --lib moments -- --nocapture` to see the tables
//! (`moments.json`, the tuning corpus, `holdout.json` and `blind3.json`,
//! held out).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use super::model::*;
use super::{CompiledProfile, analyse, assess};

pub(super) const FIXTURE: &str = include_str!("../../tests/fixtures/moments.json");
pub(super) const HOLDOUT: &str = include_str!("../../tests/fixtures/holdout.json");
pub(super) const BLIND3: &str = include_str!("../../tests/fixtures/blind3.json");

#[derive(Deserialize)]
pub(super) struct Fixture {
    pub(super) profiles: Vec<FxProfile>,
    pub(super) cases: Vec<FxCase>,
}

#[derive(Deserialize)]
pub(super) struct FxProfile {
    pub(super) brand_id: String,
    display_name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    category: String,
    #[serde(default)]
    themes: BTreeMap<String, f64>,
    #[serde(default)]
    topics: BTreeMap<String, f64>,
    #[serde(default)]
    competitors: Vec<String>,
    #[serde(default)]
    blocked_terms: Vec<String>,
    #[serde(default)]
    blocked_topics: Vec<String>,
    #[serde(default)]
    risk_appetite: RiskAppetite,
    #[serde(default)]
    audience_time_zone: String,
    /// Minutes per mode (`customer_care`, `reply`, ...).
    #[serde(default)]
    approval_minutes: BTreeMap<String, u64>,
    /// `[start_minute, end_minute]` pairs.
    #[serde(default)]
    active_windows: Vec<(u32, u32)>,
    #[serde(default)]
    quiet_hours: Vec<(u32, u32)>,
    #[serde(default)]
    tolerance: BTreeMap<String, RiskLevel>,
}

#[derive(Deserialize)]
struct FxAuthor {
    id: String,
    #[serde(default)]
    followers: u64,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    bot: f64,
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
struct FxVelocity {
    now: f64,
    history: Vec<f64>,
    window_minutes: u64,
}

#[derive(Deserialize)]
pub(super) struct FxEvent {
    kind: EventKind,
    #[serde(default)]
    text: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    sample_posts: Vec<String>,
    #[serde(default)]
    entities: Vec<String>,
    #[serde(default)]
    topics: Vec<(String, f64)>,
    occurred_at: Timestamp,
    #[serde(default)]
    author: Option<FxAuthor>,
    #[serde(default)]
    addressed_to_brand: bool,
    #[serde(default)]
    conversation_id: String,
    #[serde(default)]
    audience_time_zone: String,
    #[serde(default)]
    velocity: Option<FxVelocity>,
}

#[derive(Deserialize)]
pub(super) struct FxCase {
    pub(super) id: String,
    category: String,
    note: String,
    pub(super) brand: String,
    pub(super) now: Timestamp,
    /// Points per decision; a decision not listed scores 0.
    score: HashMap<Decision, f64>,
    /// The real moment drew backlash: ENGAGE scores −2.
    #[serde(default)]
    backlash: bool,
    pub(super) event: FxEvent,
}

fn mode_of(name: &str) -> Option<EngagementMode> {
    Some(match name {
        "customer_care" => EngagementMode::CustomerCare,
        "reply" => EngagementMode::Reply,
        "join_conversation" => EngagementMode::JoinConversation,
        "newsjack" => EngagementMode::Newsjack,
        _ => return None,
    })
}

fn category_of(name: &str) -> Option<SensitiveCategory> {
    SensitiveCategory::ALL
        .into_iter()
        .find(|c| super::lexicon::category_name(*c) == name)
}

pub(super) fn to_profile(f: &FxProfile) -> CompiledProfile {
    let wt = |m: &BTreeMap<String, f64>| {
        m.iter()
            .map(|(term, weight)| WeightedTerm {
                term: term.clone(),
                weight: *weight,
            })
            .collect()
    };
    let win = |v: &[(u32, u32)]| {
        v.iter()
            .map(|(s, e)| LocalWindow {
                start_minute: *s,
                end_minute: *e,
            })
            .collect()
    };
    let p = BrandProfile {
        brand_id: f.brand_id.clone(),
        display_name: f.display_name.clone(),
        aliases: f.aliases.clone(),
        category: f.category.clone(),
        themes: wt(&f.themes),
        topics: wt(&f.topics),
        competitors: f.competitors.clone(),
        blocked_terms: f.blocked_terms.clone(),
        blocked_topics: f.blocked_topics.clone(),
        sensitivity_tolerance: f
            .tolerance
            .iter()
            .filter_map(|(c, l)| {
                category_of(c).map(|category| CategoryTolerance {
                    category,
                    max_level: *l,
                })
            })
            .collect(),
        risk_appetite: f.risk_appetite,
        audience_time_zone: f.audience_time_zone.clone(),
        active_windows: win(&f.active_windows),
        quiet_hours: win(&f.quiet_hours),
        approval_latency: f
            .approval_minutes
            .iter()
            .filter_map(|(m, min)| {
                mode_of(m).map(|mode| ModeLatency {
                    mode,
                    latency: Duration::from_secs(min * 60),
                })
            })
            .collect(),
        ..Default::default()
    };
    CompiledProfile::compile(StoredProfile {
        profile: p,
        version: 1,
        updated_at: Timestamp::UNIX_EPOCH,
    })
}

pub(super) fn to_event(id: &str, f: &FxEvent) -> Event {
    Event {
        id: id.into(),
        kind: f.kind,
        text: f.text.clone(),
        language: f.language.clone(),
        hashtags: f.hashtags.clone(),
        topics: f
            .topics
            .iter()
            .map(|(label, confidence)| Topic {
                label: label.clone(),
                confidence: *confidence,
            })
            .collect(),
        entities: f.entities.clone(),
        occurred_at: f.occurred_at,
        observed_at: None,
        channel: "x".into(),
        author: f.author.as_ref().map(|a| Author {
            id: a.id.clone(),
            follower_count: a.followers,
            verified: a.verified,
            follows_brand: false,
            bot_likelihood: a.bot,
            display_name: a.display_name.clone(),
        }),
        addressed_to_brand: f.addressed_to_brand,
        conversation_id: f.conversation_id.clone(),
        audience_time_zone: f.audience_time_zone.clone(),
        audience_region: String::new(),
        velocity: f.velocity.as_ref().map(|v| Velocity {
            mentions_per_minute: v.now,
            history_per_minute: v.history.clone(),
            window: Duration::from_secs(v.window_minutes * 60),
        }),
        sentiment: None,
        sensitivity_labels: Vec::new(),
        sample_posts: f.sample_posts.clone(),
        embedding: Vec::new(),
    }
}

fn points(c: &FxCase, d: Decision) -> f64 {
    if d == Decision::Engage && c.backlash {
        return -2.0;
    }
    c.score.get(&d).copied().unwrap_or(0.0)
}

fn best(c: &FxCase) -> String {
    let mut v: Vec<_> = c.score.iter().filter(|(_, p)| **p >= 1.0).collect();
    v.sort_by_key(|(d, _)| format!("{d:?}"));
    v.iter()
        .map(|(d, _)| format!("{d:?}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// Coarse groups for the breakdown: how the held-out evaluation mixes its
/// moments (wins, traps, ordinary operations).
fn group_of(category: &str) -> &'static str {
    match category {
        "win" => "wins",
        "failure" | "crisis" | "values" | "echo" | "collision" => "traps",
        _ => "operations",
    }
}

struct Outcome {
    cases: usize,
    average: f64,
    harmful: Vec<String>,
}

fn run_corpus(name: &str, json: &str) -> Outcome {
    let fx: Fixture = match serde_json::from_str(json) {
        Ok(f) => f,
        Err(e) => panic!("{name}: {e}"),
    };
    let profiles: BTreeMap<&str, CompiledProfile> = fx
        .profiles
        .iter()
        .map(|p| (p.brand_id.as_str(), to_profile(p)))
        .collect();
    let mut total = 0.0;
    let mut harmful = Vec::new();
    let mut by_cat: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    println!("== {name}");
    println!(
        "{:<28} {:<14} {:<8} {:>5}  reasons",
        "case", "expected", "got", "pts"
    );
    for c in &fx.cases {
        let Some(p) = profiles.get(c.brand.as_str()) else {
            panic!("{}: unknown brand {}", c.id, c.brand);
        };
        let a = assess(
            &analyse(&to_event(&c.id, &c.event)),
            p,
            &Guardrails::default(),
            c.now,
        );
        let pts = points(c, a.decision);
        total += pts;
        if pts < 0.0 {
            harmful.push(c.id.clone());
        }
        for (map, key) in [
            (&mut by_cat, c.category.as_str()),
            (&mut by_group, group_of(&c.category)),
        ] {
            let e = map.entry(key).or_default();
            e.0 += pts;
            e.1 += 1;
        }
        let reasons: Vec<String> = a
            .reasons
            .iter()
            .take(3)
            .map(|r| format!("{:?}({})", r.code, r.detail))
            .collect();
        let flag = if pts < 1.0 { "*" } else { " " };
        println!(
            "{flag}{:<27} {:<14} {:<8} {:>5.1}  {}",
            c.id,
            best(c),
            format!("{:?}", a.decision),
            pts,
            reasons.join("; ")
        );
        if pts < 1.0 {
            println!("   note: {}", c.note);
        }
    }
    let n = fx.cases.len().max(1) as f64;
    let average = total / n;
    println!("\nper group:");
    for (g, (s, k)) in &by_group {
        println!("  {g:<14} {k:>3} cases  avg {:.2}", s / *k as f64);
    }
    println!("per category:");
    for (cat, (s, k)) in &by_cat {
        println!("  {cat:<14} {k:>3} cases  avg {:.2}", s / *k as f64);
    }
    println!(
        "\n{name}: {} cases, average {average:.3}, harmful {}: {harmful:?}",
        fx.cases.len(),
        harmful.len()
    );
    Outcome {
        cases: fx.cases.len(),
        average,
        harmful,
    }
}

#[test]
fn moments_corpus_meets_the_bar() {
    let o = run_corpus("moments.json", FIXTURE);
    assert!(o.cases >= 70, "corpus too small");
    assert!(o.harmful.is_empty(), "harmful answers: {:?}", o.harmful);
    assert!(o.average >= 0.85, "average {:.3} below 0.85", o.average);
}

/// Moments written after the core was tuned on `moments.json`, with other
/// stories, brands and wording: the honest estimate of unseen quality.
#[test]
fn holdout_corpus_meets_the_bar() {
    let o = run_corpus("holdout.json", HOLDOUT);
    assert!(o.cases >= 50, "held-out corpus too small");
    assert!(o.harmful.is_empty(), "harmful answers: {:?}", o.harmful);
    assert!(o.average >= 0.85, "average {:.3} below 0.85", o.average);
}

/// A third blind batch, written by an evaluator who had not seen the core's
/// failures on the other two, and measured before any rule changed
/// (first try 0.775 with one harmful answer; see docs/SCORING.md).
#[test]
fn blind3_corpus_meets_the_bar() {
    let o = run_corpus("blind3.json", BLIND3);
    assert!(o.cases >= 30, "blind corpus too small");
    assert!(o.harmful.is_empty(), "harmful answers: {:?}", o.harmful);
    assert!(o.average >= 0.85, "average {:.3} below 0.85", o.average);
}
