//! Deterministic synthetic brands and events for benchmarks and load
//! generation (no randomness source: a fixed linear congruential sequence,
//! so every run measures the same inputs).

use std::time::Duration;

use jiff::Timestamp;

use crate::core::model::{
    Author, BrandProfile, EngagementMode, Event, EventKind, FrequencyCaps, LocalWindow,
    ModeLatency, RiskAppetite, Velocity, WeightedTerm,
};

const WORDS: &[&str] = &[
    "coffee",
    "espresso",
    "latte",
    "morning",
    "breakfast",
    "pastry",
    "cookie",
    "chocolate",
    "snack",
    "dunk",
    "milk",
    "crunch",
    "sneaker",
    "running",
    "marathon",
    "training",
    "gym",
    "fitness",
    "yoga",
    "stretch",
    "football",
    "goal",
    "match",
    "stadium",
    "fans",
    "kickoff",
    "travel",
    "flight",
    "airport",
    "beach",
    "summer",
    "holiday",
    "weekend",
    "pizza",
    "cheese",
    "delivery",
    "dinner",
    "recipe",
    "kitchen",
    "grill",
    "barbecue",
    "burger",
    "fries",
    "taco",
    "phone",
    "battery",
    "camera",
    "screen",
    "laptop",
    "gaming",
    "console",
    "music",
    "concert",
    "festival",
    "playlist",
    "movie",
    "premiere",
    "trailer",
    "series",
    "fashion",
    "denim",
    "jacket",
    "style",
    "beauty",
    "skincare",
    "makeup",
    "garden",
    "tools",
    "drill",
    "hammer",
    "paint",
    "car",
    "electric",
    "charging",
    "road",
    "trip",
    "pet",
    "dog",
    "cat",
    "puppy",
    "coffee break",
    "game day",
    "road trip",
    "movie night",
    "date night",
    "back to school",
    "black friday",
    "new year",
    "spring cleaning",
    "world cup",
    "half time",
    "late night snack",
];

/// A fixed linear congruential sequence: the same data on every run (the
/// synthetic brands here, the golden cases of the core's tests).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// In `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() as usize) % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `list`, which must not be empty.
    pub fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }

    /// In `[0, 1]`, in steps of 0.001.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() % 1001) as f64 / 1000.0
    }
}

/// Brand `i` with `themes` weighted themes (some are phrases).
pub fn brand(i: usize, themes: usize) -> BrandProfile {
    let mut rng = Lcg(i as u64 + 1);
    let mut terms: Vec<WeightedTerm> = Vec::with_capacity(themes);
    let mut seen = std::collections::HashSet::new();
    let mut n = 0u64;
    while terms.len() < themes {
        n += 1;
        let base = rng.pick(WORDS);
        // Past the word list, suffix numbers keep every theme unique.
        let term = if seen.contains(base) {
            format!("{base} {n}")
        } else {
            base.to_string()
        };
        if seen.insert(term.clone()) {
            let weight = 0.3 + (rng.next_u64() % 70) as f64 / 100.0;
            terms.push(WeightedTerm { term, weight });
        }
    }
    BrandProfile {
        brand_id: format!("brand-{i:06}"),
        display_name: format!("Brand {i}"),
        aliases: vec![format!("@brand{i}"), format!("Brand{i} Co")],
        category: "Food & Drink".into(),
        themes: terms,
        competitors: vec![format!("@rival{i}")],
        blocked_terms: vec!["diet pills".into(), "giveaway scam".into()],
        risk_appetite: RiskAppetite::Balanced,
        audience_time_zone: "America/New_York".into(),
        active_windows: vec![LocalWindow {
            start_minute: 7 * 60,
            end_minute: 22 * 60,
        }],
        quiet_hours: vec![LocalWindow {
            start_minute: 23 * 60,
            end_minute: 6 * 60,
        }],
        approval_latency: vec![
            ModeLatency {
                mode: EngagementMode::CustomerCare,
                latency: Duration::from_secs(300),
            },
            ModeLatency {
                mode: EngagementMode::Newsjack,
                latency: Duration::from_secs(1800),
            },
        ],
        frequency_caps: FrequencyCaps::default(),
        ..Default::default()
    }
}

/// The instant synthetic events are assessed at.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_770_150_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A trending-topic event of about 280 characters with hashtags and
/// sample posts, five minutes old at `now()`.
pub fn event(i: usize) -> Event {
    let occurred = now()
        .checked_sub(jiff::SignedDuration::from_mins(5))
        .unwrap_or(now());
    Event {
        id: format!("ev-{i}"),
        kind: EventKind::TrendingTopic,
        text: "Game day and the whole stadium is waiting for kickoff: fans are sharing their \
               favourite half time snack, from a late night pizza to a cookie you dunk in milk. \
               Who else is grabbing coffee before the match? Post your game day breakfast \
               with the tag and win!"
            .into(),
        language: "en".into(),
        hashtags: vec!["#GameDaySnacks".into(), "#HalfTime".into()],
        topics: vec![],
        entities: vec![],
        occurred_at: occurred,
        observed_at: None,
        channel: "social".into(),
        author: Some(Author {
            id: format!("user{i}"),
            follower_count: 1200,
            ..Default::default()
        }),
        addressed_to_brand: false,
        conversation_id: String::new(),
        audience_time_zone: "America/New_York".into(),
        audience_region: "US".into(),
        velocity: Some(Velocity {
            mentions_per_minute: 900.0,
            history_per_minute: vec![200.0, 400.0, 700.0],
            window: Duration::from_secs(300),
        }),
        sentiment: None,
        sensitivity_labels: vec![],
        sample_posts: vec![
            "my half time snack is a cookie dunked in milk, obviously".into(),
            "pizza and wings for the game, no debate".into(),
        ],
        embedding: vec![],
    }
}

/// Repeats `unit` for as long as the result stays within `max_chars`
/// characters (the unit of validation's length limits).
fn fill(unit: &str, max_chars: usize) -> String {
    let per = unit.chars().count().max(1);
    unit.repeat(max_chars / per)
}

/// Overlapping short words: a one-case tag glued from them has a
/// dictionary word starting at nearly every letter, so its segmentation
/// tries and yields as much as a tag can ("insininshereinsonone...").
const OVERLAPPING: &[&str] = &[
    "in", "ins", "shere", "rein", "son", "on", "one", "nin", "here", "no", "nine",
];

/// A one-case tag of the longest segmented length (64 letters), glued
/// from [`OVERLAPPING`] words, different for every `seed`.
fn overlapping_tag(seed: u64) -> String {
    let mut r = Lcg(seed.wrapping_add(0x5eed));
    let mut t = String::with_capacity(72);
    t.push('#');
    while t.len() < 65 {
        t.push_str(r.pick(OVERLAPPING));
    }
    t.truncate(65);
    t
}

/// Events a hostile caller could send, each within the limits validation
/// allows (`core::validate::validate_event`) and built to make a step of
/// the analysis as costly per byte as it can: segmentation of one-case
/// hashtags, lexicon lookups, benign-idiom masking, tokens per byte,
/// non-ASCII case folding. tests/api/budget.rs bounds their work and
/// BENCHMARKS.md ("Work budgets") times them.
pub fn adversarial_events() -> Vec<(&'static str, Event)> {
    let base = || {
        let mut e = event(0);
        e.text.clear();
        e.hashtags.clear();
        e.sample_posts.clear();
        e
    };
    // Posts of one-case 64-letter tags, each different: without a budget
    // every one is segmented.
    let distinct_tag_posts = |salt: u64| -> Vec<String> {
        (0..200u64)
            .map(|p| {
                let mut post = String::new();
                let mut k = 0;
                while post.len() + 66 <= 5_000 {
                    post.push_str(&overlapping_tag(salt + p * 1_000 + k));
                    post.push(' ');
                    k += 1;
                }
                post
            })
            .collect()
    };
    let mut out = Vec::new();

    let mut e = base();
    e.sample_posts = distinct_tag_posts(0);
    out.push(("sample posts: distinct one-case tags", e));

    // The tag a local search found to yield the most words per letter.
    let mut e = base();
    let richest = "#emyinsininsccantininsononwinonesnotinsinsononesconwinonofminonmy ";
    e.sample_posts = vec![fill(richest, 5_000); 200];
    out.push(("sample posts: one one-case tag, repeated", e));

    let mut e = base();
    e.sample_posts = vec![fill("in ", 5_000); 200];
    out.push(("sample posts: a word that starts many terms", e));

    let mut e = base();
    e.sample_posts = vec![fill("killing it ", 5_000); 200];
    out.push(("sample posts: benign idioms", e));

    let mut e = base();
    e.sample_posts = vec![fill("#a ", 5_000); 200];
    out.push(("sample posts: short hashtags", e));

    // Tags of the longest length split (512 bytes) into as many words as
    // a tag can hold, each a word that starts many lexicon terms.
    let mut e = base();
    let tag = format!("{} ", fill("#in", 510));
    e.sample_posts = vec![fill(&tag, 5_000); 200];
    out.push(("sample posts: long tags of short words", e));

    // Short words outside the dictionary, each run through the stemmer,
    // on the Unicode path of every pass: "İ" lower-cases to two
    // characters. Different words, so that no memo of stems helps.
    let mut e = base();
    let mut r = Lcg(11);
    e.sample_posts = (0..200)
        .map(|_| {
            let mut post = String::new();
            while post.chars().count() + 5 <= 5_000 {
                post.push('İ');
                for _ in 0..3 {
                    post.push(char::from(b'a' + r.below(26) as u8));
                }
                post.push(' ');
            }
            post
        })
        .collect();
    out.push(("sample posts: distinct non-ASCII words", e));

    let mut e = base();
    e.kind = EventKind::Complaint;
    e.text = fill("killing it in my dead battery ", 20_000);
    out.push(("text: idioms, objects and term prefixes", e));

    let mut e = base();
    e.hashtags = (0..200).map(|i| overlapping_tag(1_000_000 + i)).collect();
    if let Some(a) = &mut e.author {
        a.id = overlapping_tag(2_000_000);
        a.display_name = overlapping_tag(2_000_001);
    }
    out.push(("hashtags: distinct one-case tags", e));

    let mut e = base();
    e.kind = EventKind::Complaint;
    e.text = fill("killing it in my dead battery ", 20_000);
    e.hashtags = (0..200).map(|i| overlapping_tag(3_000_000 + i)).collect();
    e.entities = vec![fill("in ", 200); 200];
    e.topics = (0..200)
        .map(|_| crate::core::model::Topic {
            label: fill("in ", 200),
            confidence: 0.5,
        })
        .collect();
    e.sensitivity_labels = vec![fill("x", 200); 200];
    e.sample_posts = distinct_tag_posts(4_000_000);
    out.push(("every field at its limit", e));
    out
}
