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
