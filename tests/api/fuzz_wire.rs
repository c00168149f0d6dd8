//! Wire-level fuzzing of a live server: mutated and random protobuf, gRPC
//! framing that lies about its length or compression, and malformed HTTP/2.
//! Not part of CI (`#[ignore]`, minutes long); run it as
//!
//! ```sh
//! cargo test --release --test api -- --ignored fuzz_wire --nocapture
//! ```
//!
//! Bounded in count (`KAIROS_FUZZ_WIRE_CASES`, default 200,000) and time
//! (`KAIROS_FUZZ_WIRE_SECS`, default 300), against 127.0.0.1 only.
//! `KAIROS_FUZZ_WIRE_SEED` fixes the sequence (the seed used is printed);
//! `KAIROS_FUZZ_WIRE_ONLY=<case>` regenerates the sequence but sends only
//! that case, to reproduce a failure; `KAIROS_FUZZ_WIRE_VERBOSE=1` prints
//! every case's outcome. Cases are sent one at a time, so a panic or a
//! hang belongs to the case in flight.
//!
//! The server runs in this process (`spawn_app`): a panic anywhere in it
//! reaches the panic hook installed here, and its memory is this process's
//! VmRSS. Four kinds of case:
//!
//! - `a:mutated`: valid requests of every RPC with fields set to edge
//!   values, then (half the time) bit flips, truncation, splices, bogus
//!   fields; sent through tonic with a pass-through codec.
//! - `b:random`: random bytes and random well-formed protobuf (unknown
//!   fields, deep groups) to every method and to unknown ones.
//! - `c:framing`: HTTP/2 requests with a hand-made gRPC body (length prefix
//!   longer than the body, body cut mid-message or mid-prefix, prefixes of
//!   4 MiB + 1, 64 MiB and 4 GiB - 1, compressed flag without compression,
//!   invalid flags) and odd gRPC headers, through the h2 client of a tonic
//!   channel, so the answer's `grpc-status` is read.
//! - `d:h2-frames`: hand-written HTTP/2 frames on a raw socket: malformed
//!   header blocks (bad names, missing or duplicate pseudo-headers, invalid
//!   HPACK, oversized and flooded headers) and frame-level violations. The
//!   outcome is the frame that ends the stream or the connection (the
//!   server's header block is not decoded: no HPACK decoder here).
//!
//! Between batches the server must answer a health check and a real Score
//! through a connection of its own. The run fails on any panic, any call
//! without an end within `CALL_TIMEOUT`, any answer whose header block is
//! over the 16 KiB that h2 clients accept by default, a failed check, or
//! the heap in use or VmRSS growing past their bounds after warm-up.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kairos::grpc::pb;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::helpers::{TestApp, blackout_moment, complaint, cookie_brand, profile, spawn_app, ts};

/// Every call, connection and check must end within this.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Growth allowed between warm-up (a quarter of the run) and the end, of
/// the heap in use and of VmRSS (after returning free pages). The server's
/// caches are bounded (profiles by count, event analyses at 16 MiB in the
/// test config, the decision-log queue at 10,000) and the store is on
/// disk, so after warm-up the heap should stay level: a leak of 500 bytes
/// per case exceeds the heap bound over the default run. RSS gets more room
/// for the allocator's fragmentation.
const HEAP_GROWTH_BOUND_MB: u64 = 64;
const RSS_GROWTH_BOUND_MB: u64 = 128;
/// Cases between two health checks.
const CHECK_EVERY: usize = 1000;
/// The server's default largest message (tonic's 4 MiB).
const MAX_MESSAGE: usize = 4 << 20;
/// Brands loaded before the run; requests aim at them most of the time so
/// the scoring path runs rather than failing at NOT_FOUND.
const ANCHORS: &[&str] = &["crumbly", "brand-1", "brand-2", "brand-3"];
/// Roughly 2026-02, the era of the helpers' moments.
const NOW_SECS: i64 = 1_770_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Unary,
    ClientStream,
    Bidi,
}

const SCORE: &str = "/kairos.v1.ScoringService/Score";
const SCORE_BATCH: &str = "/kairos.v1.ScoringService/ScoreBatch";
const SCORE_STREAM: &str = "/kairos.v1.ScoringService/ScoreStream";
const RANK: &str = "/kairos.v1.ScoringService/RankBrands";
const UPSERT: &str = "/kairos.v1.BrandProfileService/UpsertBrandProfile";
const GET: &str = "/kairos.v1.BrandProfileService/GetBrandProfile";
const LIST: &str = "/kairos.v1.BrandProfileService/ListBrandProfiles";
const DELETE: &str = "/kairos.v1.BrandProfileService/DeleteBrandProfile";
const IMPORT: &str = "/kairos.v1.BrandProfileService/ImportBrandProfiles";
const CREATE_BLACKOUT: &str = "/kairos.v1.GuardrailService/CreateBlackout";
const LIST_BLACKOUTS: &str = "/kairos.v1.GuardrailService/ListBlackouts";
const DELETE_BLACKOUT: &str = "/kairos.v1.GuardrailService/DeleteBlackout";
const ENGAGEMENT: &str = "/kairos.v1.GuardrailService/RecordEngagement";
const DECISIONS: &str = "/kairos.v1.GuardrailService/ListDecisions";
const HEALTH: &str = "/grpc.health.v1.Health/Check";
const REFLECT_V1: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
const REFLECT_V1ALPHA: &str = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

/// Every method the server has, with a weight: scoring most, writes less
/// (they persist), blackouts least (each one is re-read on every change).
/// `Health/Watch` is left out: a valid Watch never ends, by design.
const METHODS: &[(&str, Shape, usize)] = &[
    (SCORE, Shape::Unary, 20),
    (SCORE_BATCH, Shape::Unary, 12),
    (SCORE_STREAM, Shape::Bidi, 10),
    (RANK, Shape::Unary, 10),
    (UPSERT, Shape::Unary, 8),
    (GET, Shape::Unary, 3),
    (LIST, Shape::Unary, 3),
    (DELETE, Shape::Unary, 2),
    (IMPORT, Shape::ClientStream, 5),
    (CREATE_BLACKOUT, Shape::Unary, 1),
    (LIST_BLACKOUTS, Shape::Unary, 2),
    (DELETE_BLACKOUT, Shape::Unary, 1),
    (ENGAGEMENT, Shape::Unary, 4),
    (DECISIONS, Shape::Unary, 4),
    (HEALTH, Shape::Unary, 2),
    (REFLECT_V1, Shape::Bidi, 2),
    (REFLECT_V1ALPHA, Shape::Bidi, 1),
];

/// Paths no service has, or that are not quite a method.
const ODD_PATHS: &[&str] = &[
    "/",
    "/kairos.v1.ScoringService/",
    "/kairos.v1.ScoringService/Nope",
    "/kairos.v1.ScoringService/Score/extra",
    "/kairos.v1.NoService/Score",
    "//kairos.v1.ScoringService/Score",
    "/kairos.v1.scoringservice/score",
    "/grpc.health.v1.Health/",
    "/x",
];

// ---------------------------------------------------------------------------
// Randomness and edge values
// ---------------------------------------------------------------------------

/// SplitMix64: small, fast, and the same sequence for the same seed.
struct Rng {
    state: u64,
    /// Inside a long list: strings stay short, so a request stays near the
    /// server's 4 MiB limit instead of reaching gigabytes on this side.
    small: bool,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            small: false,
        }
    }

    /// Runs `f` with short strings only.
    fn small<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let was = self.small;
        self.small = true;
        let out = f(self);
        self.small = was;
        out
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// A length skewed small: most inputs are short, a few are long.
    fn size(&mut self) -> usize {
        match self.below(20) {
            0..=11 => self.below(16),
            12..=16 => self.below(256),
            17..=18 => self.below(4096),
            _ => self.below(70_000),
        }
    }

    /// A list length around `limit`: mostly a few, sometimes exactly at the
    /// limit or one past it.
    fn count(&mut self, limit: usize) -> usize {
        match self.below(20) {
            0..=14 => self.below(5),
            15..=17 => self.below(limit.min(64) + 1),
            18 => limit,
            _ => limit + 1,
        }
    }

    fn weighted<'a, T>(&mut self, xs: &'a [(T, usize)]) -> &'a T {
        let total: usize = xs.iter().map(|x| x.1).sum();
        let mut at = self.below(total);
        for (x, w) in xs {
            if at < *w {
                return x;
            }
            at -= w;
        }
        &xs[0].0
    }
}

const WORDS: &[&str] = &[
    "cookie",
    "cookies",
    "dunk",
    "milk",
    "dark",
    "football",
    "game",
    "lights",
    "out",
    "power",
    "stadium",
    "crumbly",
    "@crumbly",
    "#GameDay",
    "#PowerOutage",
    "order",
    "never",
    "arrived",
    "third",
    "time",
    "month",
    "not",
    "love",
    "hate",
    "died",
    "tragedy",
    "shooting",
    "war",
    "sale",
    "free",
    "RIP",
    "lol",
    "f***",
    "sh*t",
    "😂",
    "🍪",
    "!!!",
    "???",
    "...",
    "http://x.co/a",
    "@everyone",
    "#",
    "@",
    "crisis",
    "recall",
    "boycott",
    "brand-1",
    "snack",
    "the",
    "a",
];

const ODD: &[&str] = &[
    "\u{0}",
    "a\u{0}b",
    "\u{FEFF}",
    "\u{202E}kooc",
    "ǅ ß İ ﬃ Ⅻ",
    "\r\n\t",
    "   ",
    "𝕮𝖔𝖔𝖐𝖎𝖊",
    "ＣＯＯＫＩＥ",
    "กินคุกกี้ตอนมืด",
    "クッキーを食べる",
    "كعكة الحليب",
    "%00%ff",
    "../../etc/passwd",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "\u{10FFFF}\u{FFFD}",
    "Mars/Olympus",
    "America/New_York",
    "UTC",
    "Etc/GMT+14",
    "+05:30",
    "America/Argentina/ComodRivadavia",
    "posixrules",
    "Europe/London\u{0}",
    "Not A Brand",
    "BRAND-1",
    "brand_1",
    "-",
    ".",
];

impl Rng {
    fn word(&mut self) -> &'static str {
        self.pick::<&str>(WORDS)
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.word());
        }
        s
    }

    /// Any scalar value, assigned or not.
    fn any_char(&mut self) -> char {
        loop {
            if let Some(c) = char::from_u32((self.next() % 0x11_0000) as u32) {
                return c;
            }
        }
    }

    fn string(&mut self) -> String {
        if self.small {
            return match self.below(8) {
                0 => String::new(),
                1 => self.word().to_string(),
                2 => {
                    let n = 1 + self.below(8);
                    self.sentence(n)
                }
                3 => self.pick(ODD).to_string(),
                4 => format!("fuzz-{}", self.below(50)),
                5 => {
                    let n = self.below(64);
                    (0..n)
                        .map(|_| (0x20 + self.below(95) as u8) as char)
                        .collect()
                }
                6 => {
                    let n = self.below(32);
                    (0..n).map(|_| self.any_char()).collect()
                }
                _ => (*self.pick(ANCHORS)).to_string(),
            };
        }
        match self.below(14) {
            0 => String::new(),
            1 => self.word().to_string(),
            2 | 3 => {
                let n = 1 + self.below(30);
                self.sentence(n)
            }
            4 => {
                let n = self.size();
                (0..n)
                    .map(|_| (0x20 + self.below(95) as u8) as char)
                    .collect()
            }
            5 => {
                let n = self.below(300);
                (0..n).map(|_| self.any_char()).collect()
            }
            6 => self.pick(ODD).to_string(),
            // One long hashtag: word segmentation on a long run of letters.
            7 => {
                let n = self.pick(&[10usize, 100, 1000, 5000, 25_000]).to_owned();
                let mut s = String::from("#");
                for _ in 0..n {
                    s.push((b'a' + self.below(26) as u8) as char);
                }
                s
            }
            // Combining marks piled on one letter.
            8 => {
                let n = self.below(10_000);
                std::iter::once('a')
                    .chain(std::iter::repeat_n('\u{301}', n))
                    .collect()
            }
            9 => {
                let n = self.below(6000);
                let w = self.word();
                vec![w; n].join(" ")
            }
            10 => "x".repeat(*self.pick(&[127usize, 128, 129, 199, 200, 201, 5001, 20_001])),
            11 => {
                let n = self.below(2000);
                "#@*!".repeat(n)
            }
            12 => format!("fuzz-{}", self.below(50)),
            _ => (*self.pick(ANCHORS)).to_string(),
        }
    }

    fn brand_id(&mut self) -> String {
        if self.chance(0.6) {
            (*self.pick(ANCHORS)).to_string()
        } else {
            self.string()
        }
    }

    fn strings(&mut self, limit: usize) -> Vec<String> {
        let n = self.count(limit);
        if n > 8 {
            self.small(|r| (0..n).map(|_| r.string()).collect())
        } else {
            (0..n).map(|_| self.string()).collect()
        }
    }

    fn f64(&mut self) -> f64 {
        match self.below(4) {
            0 => *self.pick(&[
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                2.0,
                1e9,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::MIN_POSITIVE,
                5e-324,
                f64::MAX,
                f64::MIN,
                f64::EPSILON,
            ]),
            1 => f64::from_bits(self.next()),
            _ => (self.next() >> 11) as f64 / (1u64 << 53) as f64,
        }
    }

    fn f32(&mut self) -> f32 {
        match self.below(3) {
            0 => *self.pick(&[
                0.0,
                -0.0,
                1.0,
                -1.0,
                f32::NAN,
                f32::INFINITY,
                f32::MAX,
                1e-45,
            ]),
            1 => f32::from_bits(self.next() as u32),
            _ => self.f64() as f32,
        }
    }

    fn u64(&mut self) -> u64 {
        match self.below(3) {
            0 => *self.pick(&[
                0,
                1,
                2,
                10,
                1000,
                u32::MAX as u64,
                u64::MAX,
                i64::MAX as u64,
            ]),
            1 => self.next(),
            _ => self.below(100_000) as u64,
        }
    }

    fn u32(&mut self) -> u32 {
        match self.below(3) {
            0 => *self.pick(&[0, 1, 10, 100, 1000, 1001, 1440, 1441, 10_000, u32::MAX]),
            1 => self.next() as u32,
            _ => self.below(2000) as u32,
        }
    }

    fn enum_value(&mut self, max: i32) -> i32 {
        match self.below(6) {
            0 => *self.pick(&[-1, max + 1, 1000, i32::MAX, i32::MIN]),
            _ => self.below(max as usize + 1) as i32,
        }
    }

    fn timestamp(&mut self) -> Option<prost_types::Timestamp> {
        if self.chance(0.1) {
            return None;
        }
        let seconds = match self.below(4) {
            0 => *self.pick(&[
                0,
                -1,
                253_402_300_799,
                253_402_300_800,
                -62_135_596_800,
                -62_135_596_801,
                i64::MAX,
                i64::MIN,
            ]),
            1 => self.next() as i64,
            _ => NOW_SECS + self.below(20_000_000) as i64 - 10_000_000,
        };
        let nanos = match self.below(4) {
            0 => *self.pick(&[-1, 999_999_999, 1_000_000_000, i32::MAX, i32::MIN]),
            _ => self.below(1_000_000_000) as i32,
        };
        Some(prost_types::Timestamp { seconds, nanos })
    }

    fn duration(&mut self) -> Option<prost_types::Duration> {
        if self.chance(0.1) {
            return None;
        }
        let seconds = match self.below(3) {
            0 => *self.pick(&[
                0,
                -1,
                1,
                86_400 * 90,
                86_400 * 90 + 1,
                315_576_000_000,
                315_576_000_001,
                i64::MAX,
                i64::MIN,
            ]),
            1 => self.next() as i64,
            _ => self.below(7200) as i64,
        };
        let nanos = match self.below(4) {
            0 => *self.pick(&[-1, 999_999_999, 1_000_000_000, i32::MIN]),
            _ => 0,
        };
        Some(prost_types::Duration { seconds, nanos })
    }
}

// ---------------------------------------------------------------------------
// Valid requests with edge-valued fields
// ---------------------------------------------------------------------------

impl Rng {
    /// One of the helpers' realistic moments, with some fields replaced.
    fn event(&mut self) -> pb::Event {
        let mut e = if self.chance(0.5) {
            blackout_moment("ev-fuzz", "2026-02-03T20:38:00Z")
        } else {
            complaint("ev-fuzz", "ann", "2026-02-03T20:00:00Z")
        };
        let p = 0.25;
        if self.chance(p) {
            e.id = self.string();
        }
        if self.chance(p) {
            e.kind = self.enum_value(10);
        }
        if self.chance(p) {
            e.text = self.string();
        }
        if self.chance(p) {
            e.language = self.string();
        }
        if self.chance(p) {
            e.hashtags = self.strings(200);
        }
        if self.chance(p) {
            let n = self.count(200);
            e.topics = self.small(|r| {
                (0..n)
                    .map(|_| pb::Topic {
                        label: r.string(),
                        confidence: r.f64(),
                    })
                    .collect()
            });
        }
        if self.chance(p) {
            e.entities = self.strings(200);
        }
        if self.chance(p) {
            e.occurred_at = self.timestamp();
        }
        if self.chance(p) {
            e.observed_at = self.timestamp();
        }
        if self.chance(p) {
            e.channel = self.string();
        }
        if self.chance(p) {
            e.author = Some(pb::Author {
                id: self.string(),
                follower_count: self.u64(),
                verified: self.chance(0.5),
                follows_brand: self.chance(0.5),
                bot_likelihood: self.f64(),
                display_name: self.string(),
            });
        }
        if self.chance(p) {
            e.addressed_to_brand = !e.addressed_to_brand;
        }
        if self.chance(p) {
            e.conversation_id = self.string();
        }
        if self.chance(p) {
            e.audience_time_zone = self.string();
        }
        if self.chance(p) {
            e.audience_region = self.string();
        }
        if self.chance(p) {
            let n = self.count(1000);
            e.velocity = Some(pb::Velocity {
                mentions_per_minute: self.f64(),
                history_per_minute: (0..n).map(|_| self.f64()).collect(),
                window: self.duration(),
            });
        }
        if self.chance(p) {
            e.sentiment = Some(self.f64());
        }
        if self.chance(p) {
            e.sensitivity_labels = self.strings(200);
        }
        if self.chance(p) {
            e.sample_posts = self.strings(200);
        }
        if self.chance(p) {
            let n = self.count(4096);
            e.embedding = (0..n).map(|_| self.f32()).collect();
        }
        e
    }

    fn terms(&mut self, limit: usize) -> Vec<pb::WeightedTerm> {
        let n = self.count(limit);
        let term = |r: &mut Self| pb::WeightedTerm {
            term: r.string(),
            weight: r.f64(),
        };
        if n > 8 {
            self.small(|r| (0..n).map(|_| term(r)).collect())
        } else {
            (0..n).map(|_| term(self)).collect()
        }
    }

    fn windows(&mut self) -> Vec<pb::LocalWindow> {
        let n = self.count(48);
        (0..n)
            .map(|_| pb::LocalWindow {
                start_minute: self.u32(),
                end_minute: self.u32(),
            })
            .collect()
    }

    /// A helper's profile with some fields replaced. Never an anchor's id:
    /// the anchors keep the profiles the health check scores against.
    fn brand_profile(&mut self) -> pb::BrandProfile {
        let id = format!("fuzz-{}", self.below(200));
        let mut b = if self.chance(0.5) {
            cookie_brand(&id)
        } else {
            profile(&id)
        };
        let p = 0.2;
        if self.chance(p) {
            b.brand_id = self.string();
        }
        if self.chance(p) {
            b.display_name = self.string();
        }
        if self.chance(p) {
            b.aliases = self.strings(100);
        }
        if self.chance(p) {
            b.category = self.string();
        }
        if self.chance(p) {
            b.themes = self.terms(1000);
        }
        if self.chance(p) {
            b.topics = self.terms(1000);
        }
        if self.chance(p) {
            b.competitors = self.strings(200);
        }
        if self.chance(p) {
            b.blocked_terms = self.strings(1000);
        }
        if self.chance(p) {
            b.blocked_topics = self.strings(1000);
        }
        if self.chance(p) {
            let n = self.count(20);
            b.sensitivity_tolerance = (0..n)
                .map(|_| pb::CategoryTolerance {
                    category: self.enum_value(12),
                    max_level: self.enum_value(4),
                    tolerance: self.enum_value(4),
                })
                .collect();
        }
        if self.chance(p) {
            b.risk_appetite = self.enum_value(3);
        }
        if self.chance(p) {
            b.audience_time_zone = self.string();
        }
        if self.chance(p) {
            b.active_windows = self.windows();
        }
        if self.chance(p) {
            b.quiet_hours = self.windows();
        }
        if self.chance(p) {
            let n = self.count(10);
            b.approval_latency = (0..n)
                .map(|_| pb::ModeLatency {
                    mode: self.enum_value(5),
                    latency: self.duration(),
                })
                .collect();
        }
        if self.chance(p) {
            let n = self.count(12);
            b.half_life_overrides = (0..n)
                .map(|_| pb::KindHalfLife {
                    kind: self.enum_value(10),
                    half_life: self.duration(),
                })
                .collect();
        }
        if self.chance(p) {
            b.frequency_caps = Some(pb::FrequencyCaps {
                per_author_per_day: self.u32(),
                per_conversation_per_day: self.u32(),
                per_brand_per_hour: self.u32(),
            });
        }
        if self.chance(p) {
            let n = self.count(4096);
            b.embedding = (0..n).map(|_| self.f32()).collect();
        }
        if self.chance(p) {
            b.version = self.next() as i64;
            b.updated_at = self.timestamp();
        }
        if ANCHORS.contains(&b.brand_id.as_str()) {
            b.brand_id = id;
        }
        b
    }

    fn blackout(&mut self) -> pb::Blackout {
        // Short-lived, and the checks delete every blackout anyway: a
        // global one would otherwise turn all later scoring into DECLINE.
        let n = self.count(100);
        pb::Blackout {
            id: self.string(),
            scope: self.enum_value(4),
            brand_id: self.brand_id(),
            terms: (0..n).map(|_| self.string()).collect(),
            region: self.string(),
            starts_at: self.timestamp(),
            ends_at: self.timestamp(),
            reason: self.string(),
            created_at: self.timestamp(),
        }
    }

    fn page_token(&mut self) -> String {
        match self.below(4) {
            0 => String::new(),
            1 => self.string(),
            // Hex of a plausible key, as the server's tokens are.
            _ => {
                let key = format!(
                    "{}:{}",
                    self.pick(&["brand", "decision", "blackout", "x"]),
                    self.string()
                );
                key.bytes().map(|b| format!("{b:02x}")).collect()
            }
        }
    }

    fn reflection(&mut self) -> Vec<u8> {
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::{ExtensionRequest, ServerReflectionRequest};
        let symbol = if self.chance(0.5) {
            (*self.pick(&[
                "kairos.v1.ScoringService",
                "kairos.v1.Event",
                "kairos.v1.BrandProfileService.ImportBrandProfiles",
                "grpc.health.v1.Health",
                "google.protobuf.Timestamp",
            ]))
            .to_string()
        } else {
            self.string()
        };
        let message_request = match self.below(6) {
            0 => MessageRequest::FileByFilename(if self.chance(0.5) {
                "kairos/v1/types.proto".into()
            } else {
                self.string()
            }),
            1 => MessageRequest::FileContainingSymbol(symbol),
            2 => MessageRequest::FileContainingExtension(ExtensionRequest {
                containing_type: symbol,
                extension_number: self.next() as i32,
            }),
            3 => MessageRequest::AllExtensionNumbersOfType(symbol),
            _ => MessageRequest::ListServices(self.string()),
        };
        ServerReflectionRequest {
            host: self.string(),
            message_request: Some(message_request),
        }
        .encode_to_vec()
    }

    /// A valid encoding of a request for `path`, fields at edge values.
    fn request(&mut self, path: &str) -> Vec<u8> {
        match path {
            SCORE | SCORE_STREAM => pb::ScoreRequest {
                request_id: self.string(),
                event: self.chance(0.95).then(|| self.event()),
                brand_id: self.brand_id(),
                now: self.timestamp(),
                log_decision: self.chance(0.3),
                view: 0,
            }
            .encode_to_vec(),
            SCORE_BATCH => {
                // Mostly small; now and then at or past the pair limits.
                let (ne, nb) = match self.below(10) {
                    0 => (self.count(1000), self.count(1000)),
                    1 => (100, 100),
                    _ => (1 + self.below(4), 1 + self.below(4)),
                };
                let big = ne * nb > 16;
                let events = if big {
                    self.small(|r| (0..ne).map(|_| r.event()).collect())
                } else {
                    (0..ne).map(|_| self.event()).collect()
                };
                pb::ScoreBatchRequest {
                    events,
                    brand_ids: self.small(|r| (0..nb).map(|_| r.brand_id()).collect()),
                    now: self.timestamp(),
                    log_decision: self.chance(0.2),
                    view: 0,
                }
                .encode_to_vec()
            }
            RANK => {
                let nb = self.count(10_000);
                pb::RankBrandsRequest {
                    event: self.chance(0.95).then(|| self.event()),
                    brand_ids: self.small(|r| (0..nb).map(|_| r.brand_id()).collect()),
                    k: self.u32(),
                    now: self.timestamp(),
                    log_decision: self.chance(0.2),
                    view: 0,
                }
                .encode_to_vec()
            }
            UPSERT => pb::UpsertBrandProfileRequest {
                profile: self.chance(0.95).then(|| self.brand_profile()),
                expected_version: self
                    .chance(0.3)
                    .then(|| *self.pick(&[-1, 0, 1, 2, i64::MAX, i64::MIN])),
            }
            .encode_to_vec(),
            IMPORT => pb::ImportBrandProfilesRequest {
                profile: self.chance(0.95).then(|| self.brand_profile()),
            }
            .encode_to_vec(),
            GET => pb::GetBrandProfileRequest {
                brand_id: self.brand_id(),
            }
            .encode_to_vec(),
            LIST => pb::ListBrandProfilesRequest {
                page_size: self.u32(),
                page_token: self.page_token(),
            }
            .encode_to_vec(),
            DELETE => {
                let mut brand_id = self.string();
                if ANCHORS.contains(&brand_id.as_str()) {
                    brand_id = "fuzz-0".into();
                }
                pb::DeleteBrandProfileRequest { brand_id }.encode_to_vec()
            }
            CREATE_BLACKOUT => pb::CreateBlackoutRequest {
                blackout: self.chance(0.95).then(|| self.blackout()),
            }
            .encode_to_vec(),
            LIST_BLACKOUTS => pb::ListBlackoutsRequest {
                include_expired: self.chance(0.5),
                page_size: self.u32(),
                page_token: self.page_token(),
            }
            .encode_to_vec(),
            DELETE_BLACKOUT => pb::DeleteBlackoutRequest { id: self.string() }.encode_to_vec(),
            ENGAGEMENT => pb::RecordEngagementRequest {
                engagement: self.chance(0.95).then(|| pb::Engagement {
                    id: self.string(),
                    brand_id: self.brand_id(),
                    author_id: self.string(),
                    conversation_id: self.string(),
                    event_id: self.string(),
                    mode: self.enum_value(5),
                    at: self.timestamp(),
                    outcome: self.enum_value(3),
                }),
            }
            .encode_to_vec(),
            DECISIONS => pb::ListDecisionsRequest {
                brand_id: if self.chance(0.5) {
                    String::new()
                } else {
                    self.brand_id()
                },
                since: self.timestamp(),
                until: self.timestamp(),
                decision: self.enum_value(4),
                page_size: self.u32(),
                page_token: self.page_token(),
            }
            .encode_to_vec(),
            HEALTH => tonic_health::pb::HealthCheckRequest {
                service: if self.chance(0.5) {
                    (*self.pick(&[
                        "",
                        "kairos.v1.ScoringService",
                        "kairos.v1.BrandProfileService",
                        "kairos.v1.GuardrailService",
                    ]))
                    .to_string()
                } else {
                    self.string()
                },
            }
            .encode_to_vec(),
            REFLECT_V1 | REFLECT_V1ALPHA => self.reflection(),
            _ => {
                let n = self.size();
                self.bytes(n)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Byte-level mutation and random protobuf
// ---------------------------------------------------------------------------

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire_type & 7));
}

impl Rng {
    fn field_number(&mut self) -> u32 {
        match self.below(10) {
            0 => *self.pick(&[0, 19_000, 19_999, (1 << 29) - 1, 1 << 29, u32::MAX]),
            1 => self.next() as u32,
            _ => 1 + self.below(25) as u32,
        }
    }

    /// Random, mostly well-formed protobuf: random field numbers and wire
    /// types, nested messages, groups, overlong and unterminated varints.
    fn random_proto(&mut self, depth: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let fields = self.below(10);
        for _ in 0..fields {
            let field = self.field_number();
            let wire_type = *self.pick(&[0u8, 0, 1, 2, 2, 2, 5, 3, 4, 6, 7]);
            key(&mut out, field, wire_type);
            match wire_type {
                0 => match self.below(8) {
                    0 => out.extend_from_slice(&[0xff; 10]),
                    1 => out.extend_from_slice(&[0xff; 11]),
                    2 => out.extend_from_slice(&[0x80; 3]),
                    _ => varint(&mut out, self.u64()),
                },
                1 => out.extend_from_slice(&self.next().to_le_bytes()),
                5 => out.extend_from_slice(&(self.next() as u32).to_le_bytes()),
                2 => {
                    let inner = if depth < 8 && self.chance(0.4) {
                        self.random_proto(depth + 1)
                    } else if self.chance(0.5) {
                        self.string().into_bytes()
                    } else {
                        let n = self.size();
                        self.bytes(n)
                    };
                    let declared = match self.below(12) {
                        0 => inner.len() as u64 + 1 + self.below(100) as u64,
                        1 => u64::from(u32::MAX),
                        2 => u64::MAX,
                        _ => inner.len() as u64,
                    };
                    varint(&mut out, declared);
                    out.extend_from_slice(&inner);
                }
                3 => {
                    if depth < 8 && self.chance(0.5) {
                        out.extend(self.random_proto(depth + 1));
                    }
                    if self.chance(0.8) {
                        key(&mut out, field, 4);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Nested groups or nested length-delimited fields far past prost's
    /// recursion limit (100).
    fn deep_nesting(&mut self) -> Vec<u8> {
        let depth = *self.pick(&[99usize, 100, 101, 1000, 20_000]);
        if self.chance(0.5) {
            let mut out = Vec::new();
            for _ in 0..depth {
                key(&mut out, 2, 3);
            }
            for _ in 0..depth {
                key(&mut out, 2, 4);
            }
            out
        } else {
            // Field 2 is a message in most requests here (the event, the
            // profile, the blackout); within it field 2 is a string or an
            // enum, so the nesting is rejected or skipped, never followed.
            let mut inner: Vec<u8> = Vec::new();
            for _ in 0..depth.min(2000) {
                let mut outer = Vec::new();
                key(&mut outer, 2, 2);
                varint(&mut outer, inner.len() as u64);
                outer.extend_from_slice(&inner);
                inner = outer;
            }
            inner
        }
    }

    fn random_message(&mut self) -> Vec<u8> {
        match self.below(10) {
            0..=3 => {
                let n = self.size();
                self.bytes(n)
            }
            4..=8 => self.random_proto(0),
            _ => self.deep_nesting(),
        }
    }

    /// Bit flips, byte edits, insertions, deletions, truncation, duplicated
    /// and spliced ranges, appended bogus fields.
    fn mutate(&mut self, mut b: Vec<u8>, donor: &[u8]) -> Vec<u8> {
        let edits = 1 + self.below(8);
        for _ in 0..edits {
            let len = b.len();
            match self.below(11) {
                0 if len > 0 => {
                    let i = self.below(len);
                    b[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len);
                    let random = self.next() as u8;
                    b[i] = *self.pick(&[0u8, 0xff, 0x7f, 0x80, 0x0a, 0x12, random]);
                }
                2 => {
                    let i = self.below(len + 1);
                    let n = 1 + self.below(16);
                    let ins = self.bytes(n);
                    b.splice(i..i, ins);
                }
                3 if len > 0 => {
                    let i = self.below(len);
                    let j = (i + 1 + self.below(32)).min(len);
                    b.drain(i..j);
                }
                4 if len > 0 => b.truncate(self.below(len)),
                5 if len > 0 => {
                    let i = self.below(len);
                    let j = (i + 1 + self.below(64)).min(len);
                    let dup = b[i..j].to_vec();
                    let at = self.below(len + 1);
                    b.splice(at..at, dup);
                }
                6 if !donor.is_empty() => {
                    let i = self.below(donor.len());
                    let j = (i + 1 + self.below(256)).min(donor.len());
                    let at = self.below(len + 1);
                    b.splice(at..at, donor[i..j].iter().copied());
                }
                7 => {
                    let extra = self.random_proto(6);
                    b.extend(extra);
                }
                8 => {
                    // A length-delimited field claiming ~4 GiB.
                    let at = self.below(len + 1);
                    b.splice(at..at, [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]);
                }
                9 => {
                    // An overlong varint where a value was expected.
                    let at = self.below(len + 1);
                    b.splice(
                        at..at,
                        [
                            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                        ],
                    );
                }
                _ => {
                    let at = self.below(len + 1);
                    let deep = self.deep_nesting();
                    b.splice(at..at, deep);
                }
            }
        }
        b
    }
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

enum Case {
    /// Messages through tonic with the pass-through codec.
    Grpc {
        path: String,
        shape: Shape,
        messages: Vec<Vec<u8>>,
    },
    /// A request with a hand-made body through the channel's h2 client.
    Http(HttpCase),
    /// Raw HTTP/2 bytes on a new connection.
    Frames(FramesCase),
}

struct HttpCase {
    label: &'static str,
    method: http::Method,
    path: String,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    chunks: Vec<Vec<u8>>,
    /// Keep the request body open this long after the chunks; `None` ends
    /// it at once.
    hold: Option<Duration>,
}

struct FramesCase {
    label: &'static str,
    /// The client preface and an empty SETTINGS are sent first.
    preface: bool,
    bytes: Vec<u8>,
    /// Stream 1 is opened: wait for the frame that ends it.
    opens_stream: bool,
    /// Half-close after the bytes instead of sending a PING: the server
    /// must end the connection.
    close_after: bool,
}

const KINDS: [&str; 4] = ["a:mutated", "b:random", "c:framing", "d:h2-frames"];

impl Rng {
    fn method(&mut self) -> (&'static str, Shape) {
        let weights: Vec<((&str, Shape), usize)> =
            METHODS.iter().map(|(p, s, w)| ((*p, *s), *w)).collect();
        *self.weighted(&weights)
    }

    fn case(&mut self) -> (usize, Case) {
        let kind = *self.weighted(&[(0usize, 50), (1, 15), (2, 20), (3, 15)]);
        let case = match kind {
            0 => {
                let (path, shape) = self.method();
                let n = if shape == Shape::Unary {
                    1
                } else {
                    1 + self.below(4)
                };
                let messages = (0..n)
                    .map(|_| {
                        let valid = self.request(path);
                        if self.chance(0.5) {
                            let (other, _) = self.method();
                            let donor = self.request(other);
                            self.mutate(valid, &donor)
                        } else {
                            valid
                        }
                    })
                    .collect();
                Case::Grpc {
                    path: path.into(),
                    shape,
                    messages,
                }
            }
            1 => {
                let (path, shape) = if self.chance(0.9) {
                    self.method()
                } else {
                    (*self.pick(ODD_PATHS), Shape::Unary)
                };
                // Any shape: a unary method sent a stream, and so on.
                let shape = if self.chance(0.2) {
                    *self.pick(&[Shape::Unary, Shape::ClientStream, Shape::Bidi])
                } else {
                    shape
                };
                let n = if shape == Shape::Unary {
                    1
                } else {
                    self.below(4)
                };
                Case::Grpc {
                    path: path.into(),
                    shape,
                    messages: (0..n).map(|_| self.random_message()).collect(),
                }
            }
            2 => Case::Http(self.http_case()),
            _ => Case::Frames(self.frames_case()),
        };
        (kind, case)
    }
}

/// A gRPC length-prefixed message: flag, declared length, body.
fn grpc_frame(flag: u8, declared: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(flag);
    out.extend_from_slice(&declared.to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn header(name: &str, value: &[u8]) -> Option<(http::HeaderName, http::HeaderValue)> {
    Some((
        http::HeaderName::from_bytes(name.as_bytes()).ok()?,
        http::HeaderValue::from_bytes(value).ok()?,
    ))
}

impl Rng {
    fn http_case(&mut self) -> HttpCase {
        let (path, _) = self.method();
        let m = self.request(path);
        let mlen = m.len() as u32;
        let mut hold = None;
        let mut headers: Vec<(http::HeaderName, http::HeaderValue)> = Vec::new();
        headers.extend(header("content-type", b"application/grpc"));
        headers.extend(header("te", b"trailers"));
        let mut method = http::Method::POST;
        let mut path = path.to_string();
        // Either the body lies (standard headers) or the headers are odd
        // (a well-framed body): one thing at a time, so each label's
        // outcomes are its own.
        let (label, body): (&'static str, Vec<u8>) = if self.chance(0.3) {
            let label = self.odd_headers(&mut headers, &mut method, &mut path);
            (label, grpc_frame(0, mlen, &m))
        } else {
            match self.below(20) {
                0 => ("ok", grpc_frame(0, mlen, &m)),
                1 | 2 => {
                    let extra = *self.pick(&[1u32, 5, 1000, 1 << 20]);
                    ("declared-longer", grpc_frame(0, mlen + extra, &m))
                }
                3 | 4 => {
                    let cut = self.below(m.len().max(1));
                    (
                        "cut-mid-message",
                        grpc_frame(0, mlen, &m[..cut.min(m.len())]),
                    )
                }
                5 => {
                    let f = grpc_frame(0, mlen, &m);
                    ("cut-mid-prefix", f[..1 + self.below(4)].to_vec())
                }
                6 => ("oversized-64MiB", grpc_frame(0, 64 << 20, &m)),
                7 => ("oversized-4GiB", grpc_frame(0, u32::MAX, &m)),
                8 => (
                    "oversized-limit+1",
                    grpc_frame(0, MAX_MESSAGE as u32 + 1, &m),
                ),
                9 => {
                    // The server must answer from the prefix alone, without
                    // waiting for a body that would never fit.
                    hold = Some(CALL_TIMEOUT * 2);
                    let declared = *self.pick(&[64u32 << 20, u32::MAX, MAX_MESSAGE as u32 + 1]);
                    ("oversized-held-open", grpc_frame(0, declared, &m))
                }
                10 => ("compressed-flag", grpc_frame(1, mlen, &m)),
                11 => {
                    // Compression the server does not support, announced.
                    let enc = *self.pick(&["gzip", "deflate", "zstd", "br0ken"]);
                    headers.extend(header("grpc-encoding", enc.as_bytes()));
                    ("compressed-flag+grpc-encoding", grpc_frame(1, mlen, &m))
                }
                12 => {
                    headers.extend(header("grpc-encoding", b"identity"));
                    ("compressed-flag+identity", grpc_frame(1, mlen, &m))
                }
                13 => {
                    let flag = 2 + self.below(254) as u8;
                    ("invalid-flag", grpc_frame(flag, mlen, &m))
                }
                14 => {
                    let mut b = grpc_frame(0, mlen, &m);
                    b.extend(grpc_frame(0, mlen, &m));
                    ("two-messages", b)
                }
                15 => ("empty-body", Vec::new()),
                16 => {
                    let mut b = grpc_frame(0, mlen, &m);
                    let n = 1 + self.below(4);
                    b.extend(self.bytes(n));
                    ("trailing-junk", b)
                }
                17 => {
                    // Shorter than declared, then the body ends a little
                    // later: the server waits, then answers at the end.
                    hold = Some(Duration::from_millis(20));
                    ("declared-longer-late-end", grpc_frame(0, mlen + 10, &m))
                }
                18 if self.chance(0.05) => {
                    // A whole message at the limit: 4 MiB of zeros, field 0
                    // garbage, rejected after being read in full.
                    (
                        "exactly-limit",
                        grpc_frame(0, MAX_MESSAGE as u32, &vec![0; MAX_MESSAGE]),
                    )
                }
                18 => ("zero-length", grpc_frame(0, 0, &[])),
                _ => ("dribble", grpc_frame(0, mlen, &m)),
            }
        };
        // Dribble: 1-7 bytes per DATA frame (h2 answers a long run of such
        // frames with GOAWAY ENHANCE_YOUR_CALM, too_many_data_frames), for
        // the first 64 KiB; the rest, if any, in one piece, or a message of
        // megabytes would cost this side millions of small vectors.
        let chunks = if label == "dribble" {
            let mut chunks = Vec::new();
            let (mut head, tail) = body.split_at(body.len().min(64 << 10));
            while !head.is_empty() {
                let n = (1 + self.below(7)).min(head.len());
                chunks.push(head[..n].to_vec());
                head = &head[n..];
            }
            if !tail.is_empty() {
                chunks.push(tail.to_vec());
            }
            chunks
        } else {
            vec![body]
        };
        HttpCase {
            label,
            method,
            path,
            headers,
            chunks,
            hold,
        }
    }

    /// Replaces or adds one header (or the method, or the path) with an
    /// odd value, and names the change.
    fn odd_headers(
        &mut self,
        headers: &mut Vec<(http::HeaderName, http::HeaderValue)>,
        method: &mut http::Method,
        path: &mut String,
    ) -> &'static str {
        let replace = |headers: &mut Vec<(http::HeaderName, http::HeaderValue)>,
                       name: &str,
                       value: Option<&[u8]>| {
            headers.retain(|(k, _)| k.as_str() != name);
            if let Some(v) = value {
                headers.extend(header(name, v));
            }
        };
        match self.below(12) {
            0 => {
                let ct = *self.pick(&[
                    None,
                    Some(&b"application/grpc+proto"[..]),
                    Some(b"application/grpc+json"),
                    Some(b"application/json"),
                    Some(b"text/plain"),
                    Some(b"application/grpc;charset=utf-8"),
                    Some(b"application/grpc-web+proto"),
                    Some(b""),
                ]);
                replace(headers, "content-type", ct);
                "hdr:content-type"
            }
            1 => {
                replace(headers, "te", None);
                "hdr:no-te"
            }
            2 => {
                let t = *self.pick(&[
                    &b"0n"[..],
                    b"1n",
                    b"1u",
                    b"1m",
                    b"1S",
                    b"99999999H",
                    b"100000000S",
                    b"-1S",
                    b"1x",
                    b"S",
                    b"",
                    b"18446744073709551615n",
                ]);
                replace(headers, "grpc-timeout", Some(t));
                "hdr:grpc-timeout"
            }
            3 => {
                let enc = *self.pick(&[&b"gzip"[..], b"identity", b"", b"br0ken"]);
                replace(headers, "grpc-encoding", Some(enc));
                "hdr:grpc-encoding"
            }
            4 => {
                replace(
                    headers,
                    "grpc-accept-encoding",
                    Some(b"gzip;q=0.1, *, \x7f"),
                );
                "hdr:grpc-accept-encoding"
            }
            5 => {
                let v = match self.below(4) {
                    0 => b"Bearer ".to_vec(),
                    1 => b"Basic Zm9vOmJhcg==".to_vec(),
                    2 => {
                        let mut v = b"Bearer ".to_vec();
                        v.extend(std::iter::repeat_n(b'a', 8000));
                        v
                    }
                    _ => (0..self.below(64))
                        .map(|_| 0x20 + self.below(95) as u8)
                        .collect(),
                };
                replace(headers, "authorization", Some(&v));
                "hdr:authorization"
            }
            6 => {
                replace(headers, "x-fuzz-bin", Some(b"!!not base64!!"));
                "hdr:bad-bin-header"
            }
            7 => {
                let n = *self.pick(&[100usize, 1000, 3000]);
                for i in 0..n {
                    headers.extend(header(&format!("x-fuzz-{i}"), b"v"));
                }
                "hdr:many"
            }
            8 => {
                let n = *self.pick(&[16usize << 10, 64 << 10, 1 << 20]);
                headers.extend(header("x-fuzz-big", &vec![b'a'; n]));
                "hdr:big"
            }
            9 => {
                *method = self
                    .pick(&[http::Method::GET, http::Method::PUT, http::Method::OPTIONS])
                    .clone();
                "hdr:method"
            }
            10 => {
                *path = (*self.pick(ODD_PATHS)).to_string();
                "hdr:path"
            }
            _ => {
                replace(headers, "grpc-message", Some(b"%zz%00 client sent this"));
                "hdr:grpc-message"
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Raw HTTP/2
// ---------------------------------------------------------------------------

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const F_DATA: u8 = 0;
const F_HEADERS: u8 = 1;
const F_PRIORITY: u8 = 2;
const F_RST_STREAM: u8 = 3;
const F_SETTINGS: u8 = 4;
const F_PUSH_PROMISE: u8 = 5;
const F_PING: u8 = 6;
const F_GOAWAY: u8 = 7;
const F_WINDOW_UPDATE: u8 = 8;
const F_CONTINUATION: u8 = 9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;
const PING_PAYLOAD: &[u8; 8] = b"fuzzping";

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    frame_declaring(payload.len() as u32, ty, flags, stream, payload)
}

/// A frame whose length field says `declared`, whatever the payload is.
fn frame_declaring(declared: u32, ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&declared.to_be_bytes()[1..]);
    f.push(ty);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK integer with an `prefix`-bit prefix (RFC 7541, 5.1).
fn hpack_int(out: &mut Vec<u8>, flags: u8, prefix: u8, mut v: usize) {
    let max = (1usize << prefix) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

/// Header fields as literals without indexing, names and values raw (no
/// Huffman): any bytes at all can be put in a name or a value this way.
fn header_block(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0);
        hpack_int(&mut out, 0, 7, name.len());
        out.extend_from_slice(name);
        hpack_int(&mut out, 0, 7, value.len());
        out.extend_from_slice(value);
    }
    out
}

/// HEADERS plus CONTINUATION frames of at most 16 KiB each.
fn headers_frames(stream: u32, block: &[u8], end_stream: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunks = block.chunks(16_384).peekable();
    let mut first = true;
    if block.is_empty() {
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        return frame(F_HEADERS, flags, stream, &[]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let mut flags = if last { END_HEADERS } else { 0 };
        if first && end_stream {
            flags |= END_STREAM;
        }
        let ty = if first { F_HEADERS } else { F_CONTINUATION };
        out.extend(frame(ty, flags, stream, chunk));
        first = false;
    }
    out
}

fn request_fields(path: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "127.0.0.1"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    .iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect()
}

impl Rng {
    /// A complete request on `stream`: the header block, then the body as
    /// DATA frames, the last one ending the stream.
    fn raw_request(&mut self, stream: u32, fields: &[(Vec<u8>, Vec<u8>)], body: &[u8]) -> Vec<u8> {
        let block = header_block(fields);
        if body.is_empty() {
            return headers_frames(stream, &block, true);
        }
        let mut out = headers_frames(stream, &block, false);
        let mut chunks = body.chunks(16_384).peekable();
        while let Some(c) = chunks.next() {
            let flags = if chunks.peek().is_none() {
                END_STREAM
            } else {
                0
            };
            out.extend(frame(F_DATA, flags, stream, c));
        }
        out
    }

    fn raw_body(&mut self) -> Vec<u8> {
        // Within one 16 KiB frame and the 64 KiB windows a client may
        // assume before the server's SETTINGS: a larger body would be this
        // client's flow-control or frame-size error, not the case's.
        let mut m = self.request(SCORE);
        if m.len() > 16_000 {
            m = pb::ScoreRequest {
                event: Some(complaint("ev-raw", "ann", "2026-02-03T20:00:00Z")),
                brand_id: "crumbly".into(),
                ..Default::default()
            }
            .encode_to_vec();
        }
        match self.below(6) {
            0 => Vec::new(),
            1 => grpc_frame(0, m.len() as u32 + 7, &m),
            2 => grpc_frame(1, m.len() as u32, &m),
            3 => grpc_frame(0, u32::MAX, &m[..m.len().min(100)]),
            _ => grpc_frame(0, m.len() as u32, &m),
        }
    }

    fn frames_case(&mut self) -> FramesCase {
        let mut preface = true;
        let mut opens_stream = true;
        let mut close_after = false;
        let body = self.raw_body();
        let mut fields = request_fields(SCORE);
        let b = |s: &str| s.as_bytes().to_vec();
        let (label, bytes): (&'static str, Vec<u8>) = match self.below(45) {
            0 => ("valid", self.raw_request(1, &fields, &body)),
            1 => {
                fields.push((b("X-Fuzz"), b("1")));
                ("uppercase-name", self.raw_request(1, &fields, &body))
            }
            2 => {
                let i = self.below(4);
                fields.remove(i);
                ("missing-pseudo", self.raw_request(1, &fields, &body))
            }
            3 => {
                fields.insert(3, (b(":path"), b(GET)));
                ("duplicate-pseudo", self.raw_request(1, &fields, &body))
            }
            4 => {
                let p = fields.remove(2);
                fields.push(p);
                ("pseudo-after-regular", self.raw_request(1, &fields, &body))
            }
            5 => {
                fields.insert(0, (b(":fuzz"), b("1")));
                ("unknown-pseudo", self.raw_request(1, &fields, &body))
            }
            6 => {
                let (n, v) = *self.pick(&[
                    ("connection", "keep-alive"),
                    ("keep-alive", "timeout=5"),
                    ("transfer-encoding", "chunked"),
                    ("upgrade", "h2c"),
                    ("proxy-connection", "x"),
                    ("te", "gzip"),
                ]);
                fields.push((b(n), b(v)));
                ("connection-specific", self.raw_request(1, &fields, &body))
            }
            7 => {
                fields.insert(0, (b(":status"), b("200")));
                ("response-pseudo", self.raw_request(1, &fields, &body))
            }
            8 => {
                let name = self
                    .pick(&[
                        &b"bad name"[..],
                        b"bad:name",
                        b"nul\0",
                        b"\x80\xff",
                        b"a\r\nb",
                        b"(){}",
                    ])
                    .to_vec();
                fields.push((name, b("v")));
                ("invalid-name", self.raw_request(1, &fields, &body))
            }
            9 => {
                let value = self
                    .pick(&[
                        &b"a\0b"[..],
                        b"a\r\nx-injected: 1",
                        b"\n",
                        b" leading",
                        b"\x7f",
                    ])
                    .to_vec();
                fields.push((b("x-fuzz"), value));
                ("invalid-value", self.raw_request(1, &fields, &body))
            }
            10 => {
                fields.push((Vec::new(), b("v")));
                ("empty-name", self.raw_request(1, &fields, &body))
            }
            11 => {
                let n = *self.pick(&[20_000usize, 100_000, 1 << 20]);
                fields.push((b("x-fuzz-big"), vec![b'a'; n]));
                ("huge-header", self.raw_request(1, &fields, &body))
            }
            12 => {
                let n = *self.pick(&[500usize, 5000]);
                for i in 0..n {
                    fields.push((format!("x-fuzz-{i}").into_bytes(), b("v")));
                }
                ("many-headers", self.raw_request(1, &fields, &body))
            }
            13 => {
                let block = match self.below(8) {
                    0 => vec![0x80],
                    1 => vec![0xff, 0xff, 0xff, 0xff, 0x0f],
                    2 => vec![0x00, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, b'v'],
                    3 => vec![
                        0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                    ],
                    4 => vec![0x3f, 0xe1, 0xff, 0xff, 0x0f],
                    5 => {
                        let mut v = header_block(&fields);
                        v.extend([0x3f, 0xe1, 0x1f]);
                        v
                    }
                    6 => {
                        let mut v = header_block(&fields);
                        let cut = self.below(v.len());
                        v.truncate(cut);
                        v
                    }
                    _ => {
                        let n = self.size();
                        self.bytes(n)
                    }
                };
                ("invalid-hpack", headers_frames(1, &block, true))
            }
            14 => {
                let block = header_block(&fields);
                let mut v = frame(F_HEADERS, 0, 1, &block);
                v.extend(frame(F_DATA, END_STREAM, 1, &body));
                ("headers-without-end-then-data", v)
            }
            15 => {
                let block = header_block(&fields);
                let mut v = frame(F_HEADERS, 0, 1, &block[..block.len() / 2]);
                v.extend(frame(
                    F_CONTINUATION,
                    END_HEADERS,
                    3,
                    &block[block.len() / 2..],
                ));
                ("continuation-wrong-stream", v)
            }
            16 => {
                opens_stream = false;
                (
                    "continuation-alone",
                    frame(F_CONTINUATION, END_HEADERS, 1, &[0x82]),
                )
            }
            17 => {
                fields[0].1 = self
                    .pick(&[&b"GET"[..], b"CONNECT", b"", b"P\0ST"])
                    .to_vec();
                ("odd-method", self.raw_request(1, &fields, &body))
            }
            18 => {
                fields[2].1 = self
                    .pick(&[&b""[..], b"*", b"no-slash", b"/a b", b"/\0", b"/%zz"])
                    .to_vec();
                if self.chance(0.3) {
                    fields[2].1 = vec![b'/'; 20_000];
                }
                ("odd-path", self.raw_request(1, &fields, &body))
            }
            19 => {
                fields.push((b("content-length"), b("5")));
                (
                    "content-length-mismatch",
                    self.raw_request(1, &fields, &body),
                )
            }
            20 => {
                let block = header_block(&fields);
                let mut v = headers_frames(1, &block, false);
                v.extend(frame(F_DATA, 0, 1, &body));
                let trailers = header_block(&[(b(":path"), b("/x")), (b("grpc-status"), b("0"))]);
                v.extend(headers_frames(1, &trailers, true));
                ("pseudo-in-trailers", v)
            }
            21 => {
                let block = header_block(&fields);
                let mut payload = vec![0, 0, 0, 1, 15];
                payload.extend(&block);
                (
                    "priority-self-dependency",
                    frame(
                        F_HEADERS,
                        END_HEADERS | END_STREAM | PRIORITY_FLAG,
                        1,
                        &payload,
                    ),
                )
            }
            22 => {
                let block = header_block(&fields);
                let mut payload = vec![255];
                payload.extend(&block);
                (
                    "pad-too-long",
                    frame(F_HEADERS, END_HEADERS | END_STREAM | PADDED, 1, &payload),
                )
            }
            23 => {
                opens_stream = false;
                ("data-stream-0", frame(F_DATA, END_STREAM, 0, &body))
            }
            24 => {
                opens_stream = false;
                ("data-idle-stream", frame(F_DATA, END_STREAM, 5, &body))
            }
            25 => {
                opens_stream = false;
                let block = header_block(&fields);
                ("even-stream-id", headers_frames(2, &block, true))
            }
            26 => {
                let mut v = self.raw_request(5, &fields, &body);
                v.extend(self.raw_request(1, &fields, &body));
                ("decreasing-stream-id", v)
            }
            27 => {
                let mut v = self.raw_request(1, &fields, &body);
                v.extend(self.raw_request(1, &fields, &body));
                ("stream-id-reuse", v)
            }
            28 => {
                let block = header_block(&fields);
                let mut v = headers_frames(1, &block, false);
                v.extend(frame(F_DATA, 0, 1, &vec![0; 20_000]));
                v.extend(frame(F_DATA, END_STREAM, 1, &[]));
                ("frame-over-max-size", v)
            }
            29 => {
                opens_stream = false;
                let stream = *self.pick(&[0u32, 1]);
                (
                    "window-update-zero",
                    frame(F_WINDOW_UPDATE, 0, stream, &[0, 0, 0, 0]),
                )
            }
            30 => {
                opens_stream = false;
                let inc = 0x7fff_ffffu32.to_be_bytes();
                let mut v = frame(F_WINDOW_UPDATE, 0, 0, &inc);
                v.extend(frame(F_WINDOW_UPDATE, 0, 0, &inc));
                ("window-overflow", v)
            }
            31 => {
                opens_stream = false;
                let (id, value): (u16, u32) = *self.pick(&[
                    (2, 2),
                    (4, 0x8000_0000),
                    (5, 100),
                    (5, 1 << 24),
                    (1, u32::MAX),
                    (3, 0),
                    (0x99, 7),
                ]);
                let mut payload = id.to_be_bytes().to_vec();
                payload.extend(value.to_be_bytes());
                ("invalid-settings", frame(F_SETTINGS, 0, 0, &payload))
            }
            32 => {
                opens_stream = false;
                let v = match self.below(3) {
                    0 => frame(F_SETTINGS, 0, 0, &[0, 1, 0]),
                    1 => frame(F_SETTINGS, 0, 1, &[]),
                    _ => frame(F_SETTINGS, ACK, 0, &[0, 1, 0, 0, 0, 0]),
                };
                ("malformed-settings", v)
            }
            33 => {
                opens_stream = false;
                let v = if self.chance(0.5) {
                    frame(F_PING, 0, 0, &[0; 7])
                } else {
                    frame(F_PING, 0, 1, &[0; 8])
                };
                ("malformed-ping", v)
            }
            34 => {
                opens_stream = false;
                let v = match self.below(3) {
                    0 => frame(F_RST_STREAM, 0, 7, &[0, 0, 0, 8]),
                    1 => frame(F_RST_STREAM, 0, 1, &[0, 0, 8]),
                    _ => frame(F_PRIORITY, 0, 1, &[0, 0, 0]),
                };
                ("malformed-rst-priority", v)
            }
            35 => {
                opens_stream = false;
                let n = self.size().min(16_384);
                let payload = self.bytes(n);
                (
                    "unknown-frame-type",
                    frame(0x20 + self.below(200) as u8, 0xff, 1, &payload),
                )
            }
            36 => {
                opens_stream = false;
                let block = header_block(&fields);
                let mut payload = vec![0, 0, 0, 2];
                payload.extend(&block);
                (
                    "client-push-promise",
                    frame(F_PUSH_PROMISE, END_HEADERS, 1, &payload),
                )
            }
            37 => {
                let mut v = frame(F_GOAWAY, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
                v.extend(self.raw_request(1, &fields, &body));
                ("goaway-then-request", v)
            }
            38 => {
                // Garbage may read as the header of a long frame, whose
                // payload the server rightly waits for: end with EOF.
                opens_stream = false;
                close_after = true;
                let n = self.size();
                ("garbage-after-preface", self.bytes(n))
            }
            39 => {
                preface = false;
                opens_stream = false;
                close_after = true;
                let v = if self.chance(0.5) {
                    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()
                } else {
                    let n = self.size();
                    self.bytes(n)
                };
                ("bad-preface", v)
            }
            40 => {
                opens_stream = false;
                close_after = true;
                let f = self.raw_request(1, &fields, &body);
                let cut = self.below(f.len());
                ("cut-then-close", f[..cut].to_vec())
            }
            41 => {
                // Rapid reset: open and cancel many streams at once.
                let n = *self.pick(&[10u32, 200, 1000]);
                let block = header_block(&fields);
                let mut v = Vec::new();
                for i in 0..n {
                    let id = 3 + 2 * i;
                    v.extend(headers_frames(id, &block, false));
                    v.extend(frame(F_RST_STREAM, 0, id, &[0, 0, 0, 8]));
                }
                v.extend(self.raw_request(1 + 2 * (n + 1), &fields, &body));
                opens_stream = false;
                ("rapid-reset", v)
            }
            42 => {
                // CONTINUATION flood: a header block that never ends.
                let n = *self.pick(&[100usize, 2000]);
                let block = header_block(&fields);
                let mut v = frame(F_HEADERS, 0, 1, &block);
                for i in 0..n {
                    let extra = header_block(&[(format!("x-c-{i}").into_bytes(), b("v"))]);
                    v.extend(frame(F_CONTINUATION, 0, 1, &extra));
                }
                ("continuation-flood", v)
            }
            43 => {
                // The server reads these itself (deadlines, credentials);
                // a tonic channel would act on grpc-timeout client-side.
                let (n, v) = *self.pick(&[
                    ("grpc-timeout", &b"0n"[..]),
                    ("grpc-timeout", b"1n"),
                    ("grpc-timeout", b"99999999H"),
                    ("grpc-timeout", b"100000000S"),
                    ("grpc-timeout", b"-1S"),
                    ("grpc-timeout", b"1x"),
                    ("grpc-timeout", b""),
                    ("grpc-timeout", b"18446744073709551615n"),
                    ("grpc-timeout", b"\xff\xfe"),
                    ("authorization", b"Bearer \xff\x00"),
                    ("authorization", b"Bearer"),
                    ("authorization", b""),
                    ("x-api-key", b"\x80"),
                    ("grpc-encoding", b"gzip"),
                    ("grpc-encoding", b"\xff"),
                    ("content-type", b"application/grpc+\xff"),
                ]);
                fields.push((b(n), v.to_vec()));
                ("odd-envelope-header", self.raw_request(1, &fields, &body))
            }
            _ => {
                opens_stream = false;
                let n = *self.pick(&[100usize, 1000]);
                let mut v = Vec::new();
                for _ in 0..n {
                    v.extend(frame(F_PING, 0, 0, b"flooding"));
                }
                ("ping-flood", v)
            }
        };
        // Now and then, any of the above with its first frame lying about
        // its own length (a case of its own). What follows may then be read
        // as a payload the server rightly waits for, so the case ends with
        // EOF rather than a PING.
        let (label, bytes) = if self.chance(0.03) && bytes.len() >= 9 {
            let mut v = bytes;
            let declared = *self.pick(&[0u32, 1, 16_385, 0xff_ffff]);
            v[..3].copy_from_slice(&declared.to_be_bytes()[1..]);
            opens_stream = false;
            close_after = true;
            ("frame-length-lie", v)
        } else {
            (label, bytes)
        };
        FramesCase {
            label,
            preface,
            bytes,
            opens_stream,
            close_after,
        }
    }
}

/// The gRPC status a client would report for an HTTP/2 error code
/// (gRPC's "HTTP/2 transport mapping").
fn h2_error_name(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "UNKNOWN_CODE",
    }
}

/// Sends a raw case on a new connection and reads until the stream it
/// opened ends (RST_STREAM, or END_STREAM from the server) and the PING
/// sent after it is answered, or the connection ends.
async fn send_frames(addr: SocketAddr, case: &FramesCase) -> Result<String, String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    // Close with a reset rather than through TIME_WAIT: tens of thousands
    // of short connections would otherwise use up the ephemeral ports.
    // Zero linger never blocks on drop, the reason the call is deprecated.
    #[allow(deprecated)]
    socket
        .set_linger(Some(Duration::ZERO))
        .map_err(|e| e.to_string())?;
    let mut sock = socket.connect(addr).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if case.preface {
        out.extend_from_slice(PREFACE);
        out.extend(frame(F_SETTINGS, 0, 0, &[]));
        // Room for any answer without window updates from this side.
        out.extend(frame(F_WINDOW_UPDATE, 0, 0, &(1u32 << 30).to_be_bytes()));
    }
    out.extend_from_slice(&case.bytes);
    if !case.close_after {
        out.extend(frame(F_PING, 0, 0, PING_PAYLOAD));
    }
    let (mut rd, mut wr) = sock.split();
    // The server may stop reading after an error; reading goes on anyway.
    let write = async {
        let _ = wr.write_all(&out).await;
        if case.close_after {
            let _ = wr.shutdown().await;
        }
    };
    let mut stream_end: Option<String> = None;
    let mut ping_acked = false;
    let mut goaway: Option<String> = None;
    let read = async {
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            while buf.len() >= 9 {
                let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
                if buf.len() < 9 + len {
                    break;
                }
                let ty = buf[3];
                let flags = buf[4];
                let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
                let payload = buf[9..9 + len].to_vec();
                buf.drain(..9 + len);
                // The server's SETTINGS go unacknowledged: h2 does not
                // enforce SETTINGS_TIMEOUT, and the verdict needs none.
                match ty {
                    F_PING if flags & ACK != 0 && payload == PING_PAYLOAD => ping_acked = true,
                    F_HEADERS | F_DATA if stream == 1 && flags & END_STREAM != 0 => {
                        stream_end = Some("end_stream".into());
                    }
                    F_RST_STREAM if stream == 1 && payload.len() == 4 => {
                        let code =
                            u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                        stream_end = Some(format!("rst({})", h2_error_name(code)));
                    }
                    F_GOAWAY if payload.len() >= 8 => {
                        let code =
                            u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                        goaway = Some(h2_error_name(code).to_string());
                        if code != 0 {
                            return;
                        }
                    }
                    _ => {}
                }
            }
            if (stream_end.is_some() || !case.opens_stream) && ping_acked {
                return;
            }
        }
    };
    tokio::join!(write, read);
    let label = match (stream_end, goaway, ping_acked) {
        (Some(s), _, _) => format!("stream:{s}"),
        (None, Some(g), _) => format!("conn:goaway({g})"),
        (None, None, true) if !case.opens_stream => "conn:alive".into(),
        (None, None, _) => "conn:closed".into(),
    };
    Ok(label)
}

// ---------------------------------------------------------------------------
// Sending through tonic
// ---------------------------------------------------------------------------

/// Bytes in, bytes out: tonic frames and unframes; the bytes are the case.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut v = vec![0; src.remaining()];
        src.copy_to_slice(&mut v);
        Ok(Some(v))
    }
}

async fn send_grpc(
    channel: &Channel,
    path: &str,
    shape: Shape,
    messages: Vec<Vec<u8>>,
) -> Result<String, String> {
    let path = http::uri::PathAndQuery::try_from(path).map_err(|e| format!("path: {e}"))?;
    let mut grpc = tonic::client::Grpc::new(channel.clone()).max_decoding_message_size(64 << 20);
    grpc.ready().await.map_err(|e| format!("transport: {e}"))?;
    let result: Result<(), Status> = match shape {
        Shape::Unary => {
            let m = messages.into_iter().next().unwrap_or_default();
            grpc.unary(tonic::Request::new(m), path, RawCodec)
                .await
                .map(drop)
        }
        Shape::ClientStream => grpc
            .client_streaming(
                tonic::Request::new(tokio_stream::iter(messages)),
                path,
                RawCodec,
            )
            .await
            .map(drop),
        Shape::Bidi => {
            match grpc
                .streaming(
                    tonic::Request::new(tokio_stream::iter(messages)),
                    path,
                    RawCodec,
                )
                .await
            {
                Ok(resp) => {
                    let mut s = resp.into_inner();
                    loop {
                        match s.message().await {
                            Ok(Some(_)) => {}
                            Ok(None) => break Ok(()),
                            Err(e) => break Err(e),
                        }
                    }
                }
                Err(e) => Err(e),
            }
        }
    };
    Ok(match result {
        Ok(()) => "Ok".into(),
        Err(s) => {
            let label = status_label(s.code(), s.message());
            match status_header_size(&s) {
                n if n > CLIENT_HEADER_LIST_LIMIT => oversized(&label, n),
                _ => label,
            }
        }
    })
}

/// A status code, and for the codes that may hide a server fault
/// (Internal, Unknown) the gist of the message: what comes before the
/// first colon (numbers and details after it), so alike failures count
/// together.
fn status_label(code: Code, message: &str) -> String {
    if !matches!(code, Code::Internal | Code::Unknown) {
        return format!("{code:?}");
    }
    let decoded = percent_decode(message);
    // h2's errors say which: "h2 protocol error: <reason>".
    let parts = if decoded.starts_with("h2 protocol error") {
        2
    } else {
        1
    };
    let gist: String = decoded
        .split(':')
        .take(parts)
        .collect::<Vec<_>>()
        .join(":")
        .chars()
        .take(80)
        .collect();
    format!("{code:?} ({})", gist.trim())
}

/// `grpc-message` is percent-encoded on the wire.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn grpc_status_label(headers: &http::HeaderMap) -> Option<String> {
    let v = headers.get("grpc-status")?;
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or("");
    Some(match v.to_str().ok().and_then(|s| s.parse::<i32>().ok()) {
        Some(n) if (0..=16).contains(&n) => status_label(Code::from_i32(n), message),
        _ => format!("grpc-status={v:?}"),
    })
}

async fn send_http(channel: &Channel, case: &HttpCase) -> Result<String, String> {
    use tonic::codegen::Body as _;
    use tonic::codegen::Service as _;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Vec<u8>, std::io::Error>>();
    for c in &case.chunks {
        let _ = tx.send(Ok(c.clone()));
    }
    match case.hold {
        None => drop(tx),
        Some(d) => {
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                drop(tx);
            });
        }
    }
    let body = tonic::body::Body::new(tonic::service::AxumBody::from_stream(
        tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
    ));
    let mut request = http::Request::builder()
        .method(case.method.clone())
        .uri(case.path.as_str())
        .body(body)
        .map_err(|e| format!("request: {e}"))?;
    for (k, v) in &case.headers {
        request.headers_mut().append(k.clone(), v.clone());
    }
    let mut svc = channel.clone();
    std::future::poll_fn(|cx| svc.poll_ready(cx))
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let response = match svc.call(request).await {
        Ok(r) => r,
        Err(e) => return Ok(format!("transport-error: {}", error_root(&e))),
    };
    let http_status = response.status().as_u16();
    let head_size = header_map_size(response.headers());
    let sized = |label: String, size: usize| match size {
        n if n > CLIENT_HEADER_LIST_LIMIT => oversized(&label, n),
        _ => label,
    };
    if let Some(label) = grpc_status_label(response.headers()) {
        return Ok(sized(label, head_size));
    }
    let mut body = response.into_body();
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(format!("http-{http_status} without grpc-status")),
            Some(Err(s)) => return Ok(format!("body-error {:?}", s.code())),
            Some(Ok(f)) => {
                if let Some(t) = f.trailers_ref()
                    && let Some(label) = grpc_status_label(t)
                {
                    return Ok(sized(label, header_map_size(t)));
                }
            }
        }
    }
}

/// The innermost message of an error chain, without addresses or ids, so
/// the histogram groups alike failures.
fn error_root(e: &dyn std::error::Error) -> String {
    let mut e = e;
    while let Some(s) = e.source() {
        e = s;
    }
    e.to_string().chars().take(60).collect()
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `VmRSS` and `VmHWM` of this process, in KiB. Free memory is handed back
/// to the system first: the test binary runs on glibc's allocator (the
/// server binary on mimalloc), whose per-thread arenas otherwise keep the
/// peak of every transient (a 4 MiB message, a 10,000-pair answer) and make
/// RSS a record of the largest case rather than of what is held.
#[allow(unsafe_code)] // allocator statistics: see the SAFETY notes
fn memory_kib() -> (u64, u64) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas
    // to the system; it takes the allocator's own locks and touches no
    // memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `VmHWM` alone, in KiB, without trimming: cheap enough for every case.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Bytes the allocator has handed out and not had back, in KiB: what is
/// held, whatever the arenas keep around it. The measure for a leak.
#[allow(unsafe_code)] // allocator statistics: see the SAFETY note
fn heap_in_use_kib() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 reads the allocator's statistics under its
        // locks and returns them by value.
        let m = unsafe { libc::mallinfo2() };
        Some(((m.uordblks + m.hblkhd) / 1024) as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Panics anywhere in the process, with where and why.
static PANICS: AtomicUsize = AtomicUsize::new(0);
static PANIC_REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        let trace = std::backtrace::Backtrace::force_capture();
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        if let Ok(mut r) = PANIC_REPORTS.lock()
            && r.len() < 10
        {
            r.push(format!("thread {thread}: {info}\n{trace}"));
        }
        previous(info);
    }));
}

/// What one case produced, for the failure report.
fn describe(kind: usize, case: &Case) -> String {
    let hex = |b: &[u8]| -> String {
        let shown: String = b.iter().take(256).map(|x| format!("{x:02x}")).collect();
        if b.len() > 256 {
            format!("{shown}... ({} bytes)", b.len())
        } else {
            shown
        }
    };
    match case {
        Case::Grpc {
            path,
            shape,
            messages,
        } => format!(
            "{} {path} {shape:?} messages: [{}]",
            KINDS[kind],
            messages
                .iter()
                .map(|m| hex(m))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Case::Http(c) => format!(
            "{} {} {} {} headers {:?} body {}",
            KINDS[kind],
            c.label,
            c.method,
            c.path,
            c.headers
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            hex(&c.chunks.concat())
        ),
        Case::Frames(c) => format!("{} {} bytes {}", KINDS[kind], c.label, hex(&c.bytes)),
    }
}

/// The header-list size h2, hyper and tonic clients advertise and hold
/// the peer to by default: an answer whose header block is larger makes
/// such a client drop the whole connection (COMPRESSION_ERROR), failing
/// every other call multiplexed on it.
const CLIENT_HEADER_LIST_LIMIT: usize = 16 << 10;

/// A channel that accepts header blocks far above the usual 16 KiB, so an
/// oversized answer is measured instead of ending the connection.
async fn connect(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .http2_max_header_list_size(16 << 20)
        .connect()
        .await
        .expect("connect")
}

/// Bytes a header field adds to a header list (RFC 9113, 6.5.2).
fn field_size(name: &str, value_len: usize) -> usize {
    name.len() + value_len + 32
}

/// The size of the trailers that carried `status`: `grpc-message` is
/// percent-encoded, `grpc-status-details-bin` base64.
fn status_header_size(status: &Status) -> usize {
    let message: usize = status
        .message()
        .bytes()
        .map(|b| {
            if (0x20..0x7f).contains(&b) && b != b'%' {
                1
            } else {
                3
            }
        })
        .sum();
    let details = status.details().len().div_ceil(3) * 4;
    let metadata: usize = status
        .metadata()
        .clone()
        .into_headers()
        .iter()
        .map(|(k, v)| field_size(k.as_str(), v.len()))
        .sum();
    field_size("grpc-status", 2)
        + field_size("grpc-message", message)
        + field_size("grpc-status-details-bin", details)
        + metadata
}

fn header_map_size(h: &http::HeaderMap) -> usize {
    h.iter().map(|(k, v)| field_size(k.as_str(), v.len())).sum()
}

/// The label of an answer too large for a default client.
fn oversized(label: &str, size: usize) -> String {
    format!("OVERSIZED-HEADERS {label} ({}+ KiB)", size / 1024)
}

/// The server still serves: health, then a real Score, through a
/// connection of their own. Also re-creates the anchors (a mutated upsert
/// may have replaced one) and removes blackouts (a mutated one may be
/// global, or there may be thousands, each re-read on every change).
async fn check(app: &TestApp) -> Result<(), String> {
    let channel = tokio::time::timeout(
        CALL_TIMEOUT,
        Channel::from_shared(format!("http://{}", app.addr))
            .map_err(|e| e.to_string())?
            .connect(),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?
    .map_err(|e| format!("connect: {e}"))?;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let reply = tokio::time::timeout(
        CALL_TIMEOUT,
        health.check(tonic_health::pb::HealthCheckRequest {
            service: "kairos.v1.ScoringService".into(),
        }),
    )
    .await
    .map_err(|_| "health check timed out".to_string())?
    .map_err(|s| format!("health check: {s:?}"))?
    .into_inner();
    if reply.status != tonic_health::pb::health_check_response::ServingStatus::Serving as i32 {
        return Err(format!("health status {}", reply.status));
    }
    let mut profiles =
        pb::brand_profile_service_client::BrandProfileServiceClient::new(channel.clone());
    let mut guardrails = pb::guardrail_service_client::GuardrailServiceClient::new(channel.clone());
    let mut scoring = pb::scoring_service_client::ScoringServiceClient::new(channel);
    let work = async {
        load_anchors(&mut profiles).await?;
        loop {
            let page = guardrails
                .list_blackouts(pb::ListBlackoutsRequest {
                    include_expired: true,
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await
                .map_err(|s| format!("list blackouts: {s:?}"))?
                .into_inner();
            if page.blackouts.is_empty() {
                break;
            }
            for b in page.blackouts {
                guardrails
                    .delete_blackout(pb::DeleteBlackoutRequest { id: b.id })
                    .await
                    .map_err(|s| format!("delete blackout: {s:?}"))?;
            }
        }
        let a = scoring
            .score(pb::ScoreRequest {
                event: Some(complaint("check", "ann", "2026-02-03T20:00:00Z")),
                brand_id: "crumbly".into(),
                now: Some(ts("2026-02-03T20:02:00Z")),
                ..Default::default()
            })
            .await
            .map_err(|s| format!("score: {s:?}"))?
            .into_inner()
            .assessment
            .ok_or_else(|| "score: no assessment".to_string())?;
        // Any decision will do: recorded backlash or a blackout created
        // since the last check may change it. The path must work.
        if a.brand_id != "crumbly" || a.event_id != "check" || a.reasons.is_empty() {
            return Err(format!("score: unexpected assessment {a:?}"));
        }
        Ok::<(), String>(())
    };
    tokio::time::timeout(CALL_TIMEOUT * 4, work)
        .await
        .map_err(|_| "checks timed out".to_string())?
}

async fn load_anchors(
    profiles: &mut pb::brand_profile_service_client::BrandProfileServiceClient<Channel>,
) -> Result<(), String> {
    for id in ANCHORS {
        let p = if *id == "crumbly" {
            cookie_brand(id)
        } else {
            profile(id)
        };
        profiles
            .upsert_brand_profile(pb::UpsertBrandProfileRequest {
                profile: Some(p),
                expected_version: None,
            })
            .await
            .map_err(|s| format!("upsert {id}: {s:?}"))?;
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    /// kind -> case label (method path for gRPC cases) -> outcome -> count
    outcomes: [BTreeMap<String, BTreeMap<String, u64>>; 4],
    /// The first failures, in full.
    failures: Vec<String>,
    failed: u64,
    timeouts: u64,
    /// Cases during which the process's peak memory rose by 64 MiB or more.
    spikes: Vec<String>,
}

impl Tally {
    fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.failures.len() < 20 {
            eprintln!("FAILURE: {what}");
            self.failures.push(what);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: run with --ignored fuzz_wire --nocapture"]
async fn fuzz_wire() {
    let cases = env_number("KAIROS_FUZZ_WIRE_CASES", 200_000);
    let secs = env_number("KAIROS_FUZZ_WIRE_SECS", 300);
    let seed = env_number(
        "KAIROS_FUZZ_WIRE_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    );
    let verbose = std::env::var_os("KAIROS_FUZZ_WIRE_VERBOSE").is_some();
    let only: Option<u64> = std::env::var("KAIROS_FUZZ_WIRE_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    fuzz_wire_with(cases, secs, seed, verbose, only).await;
}

/// A case the fuzzer found (seed 1795794535833452606, case 408), kept as a
/// regular test: a reflection request whose symbol is 20 KiB of combining
/// accents came back as a NotFound quoting it in 58 KiB of trailers,
/// past what common clients accept. The envelope now bounds that text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_wire_found_reflection_quoting_a_huge_symbol() {
    fuzz_wire_with(409, 120, 1_795_794_535_833_452_606, false, Some(408)).await;
}

/// The run itself: `cases` generated from `seed` (only case `only` sent,
/// when given), for at most `secs`.
async fn fuzz_wire_with(cases: u64, secs: u64, seed: u64, verbose: bool, only: Option<u64>) {
    eprintln!(
        "fuzz_wire: seed {seed}, at most {cases} cases in {secs} s{}",
        only.map(|c| format!(", sending only case {c}"))
            .unwrap_or_default()
    );
    install_panic_hook();

    let app = spawn_app().await;
    assert!(app.addr.ip().is_loopback(), "loopback only");
    let mut profiles = app.profiles.clone();
    load_anchors(&mut profiles).await.expect("anchors");
    check(&app).await.expect("the server serves before the run");
    // Channels of their own: an h2 error provoked by one kind must not be
    // charged to another. tonic reconnects a channel whose connection ended.
    let grpc_channel = connect(app.addr).await;
    let mut http_channel = connect(app.addr).await;

    let start_mem = (memory_kib().0, heap_in_use_kib());
    // (RSS, heap in use) once the caches have had a quarter of the run to
    // fill; growth after this point is what the bounds are about.
    let mut warm_mem: Option<(u64, Option<u64>)> = None;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut last_progress = Instant::now();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut sent = [0u64; 4];
    let mut checks = 0u64;
    let mut mem_series: Vec<(u64, u64, Option<u64>)> = Vec::new();
    let mut n: u64 = 0;
    while n < cases && Instant::now() < deadline {
        let this = n;
        n += 1;
        let (kind, case) = rng.case();
        if only.is_some_and(|c| c != this) {
            if only.is_some_and(|c| c < this) {
                break;
            }
            continue;
        }
        let panics_before = PANICS.load(Ordering::SeqCst);
        let peak_before = peak_kib();
        let label = match &case {
            Case::Grpc { path, .. } => path.clone(),
            Case::Http(c) => c.label.to_string(),
            Case::Frames(c) => c.label.to_string(),
        };
        let outcome = {
            let fut = async {
                match &case {
                    Case::Grpc {
                        path,
                        shape,
                        messages,
                    } => send_grpc(&grpc_channel, path, *shape, messages.clone()).await,
                    Case::Http(c) => send_http(&http_channel, c).await,
                    Case::Frames(c) => send_frames(app.addr, c).await,
                }
            };
            tokio::time::timeout(CALL_TIMEOUT, fut).await
        };
        sent[kind] += 1;
        let outcome = match outcome {
            Ok(Ok(label)) if label.starts_with("OVERSIZED") => {
                let what = describe(kind, &case);
                tally.fail(format!("case {this}: {label}: {what}"));
                // Counted without the size, which goes with the failure.
                match label.rfind(" (") {
                    Some(i) => label[..i].to_string(),
                    None => label,
                }
            }
            Ok(Ok(label)) => label,
            Ok(Err(local)) => format!("client-side: {local}"),
            Err(_) => {
                tally.timeouts += 1;
                let what = describe(kind, &case);
                tally.fail(format!(
                    "case {this}: no end within {CALL_TIMEOUT:?}: {what}"
                ));
                "TIMEOUT".into()
            }
        };
        // A connection the server ended (h2 does after 1,024 streams it
        // reset itself, and on some header errors) would fail the next
        // cases on it too: they get a new one, and so does every 200th.
        if matches!(case, Case::Http(_))
            && (outcome.starts_with("transport-error") || sent[kind].is_multiple_of(200))
        {
            http_channel = connect(app.addr).await;
        }
        if verbose {
            let what: String = describe(kind, &case).chars().take(160).collect();
            eprintln!("case {this}: {outcome} <- {what}");
        }
        if only.is_some() {
            eprintln!("case {this}: {}\n  -> {outcome}", describe(kind, &case));
        }
        *tally.outcomes[kind]
            .entry(label)
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        if PANICS.load(Ordering::SeqCst) != panics_before {
            let what = describe(kind, &case);
            tally.fail(format!("case {this}: panic while in flight: {what}"));
        }
        // The process's peak grew during this case: some allocation it
        // caused, here or in the server, was that large. What is still in
        // use once the case's own bytes are gone is the server's.
        let peak_growth = peak_kib().saturating_sub(peak_before) / 1024;
        if peak_growth >= 64 && tally.spikes.len() < 20 {
            let what: String = describe(kind, &case).chars().take(300).collect();
            drop(case);
            let heap = heap_in_use_kib().map_or(0, |k| k / 1024);
            tally.spikes.push(format!(
                "case {this} {} +{peak_growth} MiB (heap in use after: {heap} MiB): {what}",
                KINDS[kind]
            ));
        }

        if n.is_multiple_of(CHECK_EVERY as u64) || only.is_some() {
            checks += 1;
            if let Err(e) = check(&app).await {
                tally.fail(format!("check after case {this}: {e}"));
                break;
            }
            mem_series.push((n, memory_kib().0, heap_in_use_kib()));
        }
        let progress =
            (n as f64 / cases as f64).max(started.elapsed().as_secs_f64() / secs.max(1) as f64);
        if warm_mem.is_none() && progress >= 0.25 {
            warm_mem = Some((memory_kib().0, heap_in_use_kib()));
        }
        if last_progress.elapsed() >= Duration::from_secs(10) {
            last_progress = Instant::now();
            let (rss, hwm) = memory_kib();
            eprintln!(
                "fuzz_wire: {n} cases in {:.0} s (a {} b {} c {} d {}), RSS {} MiB (peak {}), \
                 {} failures",
                started.elapsed().as_secs_f64(),
                sent[0],
                sent[1],
                sent[2],
                sent[3],
                rss / 1024,
                hwm / 1024,
                tally.failed
            );
        }
    }
    let elapsed = started.elapsed();
    if let Err(e) = check(&app).await {
        tally.fail(format!("final check: {e}"));
    }
    let (rss_end, hwm_end) = memory_kib();
    let end_mem = (rss_end, heap_in_use_kib());
    let warm_mem = warm_mem.unwrap_or(start_mem);

    // The summary.
    let total: u64 = sent.iter().sum();
    println!(
        "\nfuzz_wire summary: seed {seed}, {total} cases in {:.1} s ({:.0}/s), {checks} checks",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    for (k, name) in KINDS.iter().enumerate() {
        println!("  {name}: {} cases", sent[k]);
        // All outcomes of the kind, then (framing and raw frames) each
        // case label's.
        let mut all: BTreeMap<&str, u64> = BTreeMap::new();
        for by_outcome in tally.outcomes[k].values() {
            for (o, c) in by_outcome {
                *all.entry(o).or_default() += c;
            }
        }
        for (outcome, count) in &all {
            println!("      {count:>8}  {outcome}");
        }
        let by_label = if k < 2 { "method" } else { "case" };
        println!("    by {by_label}:");
        for (label, by_outcome) in &tally.outcomes[k] {
            let n: u64 = by_outcome.values().sum();
            let outcomes: Vec<String> =
                by_outcome.iter().map(|(o, c)| format!("{o} {c}")).collect();
            println!("      {label} ({n}): {}", outcomes.join(", "));
        }
    }
    let mib = |kib: u64| kib / 1024;
    let heap = |h: Option<u64>| h.map_or("?".to_string(), |k| (k / 1024).to_string());
    println!(
        "  memory MiB (RSS / heap in use): start {} / {}, after warm-up {} / {}, end {} / {}; \
         RSS peak (VmHWM) {}",
        mib(start_mem.0),
        heap(start_mem.1),
        mib(warm_mem.0),
        heap(warm_mem.1),
        mib(end_mem.0),
        heap(end_mem.1),
        mib(hwm_end)
    );
    let step = mem_series.len().div_ceil(12).max(1);
    let series: Vec<String> = mem_series
        .iter()
        .step_by(step)
        .map(|(n, rss, h)| format!("{n}:{}/{}", mib(*rss), heap(*h)))
        .collect();
    println!("  memory MiB after case (RSS/heap): {}", series.join(" "));
    for s in &tally.spikes {
        println!("  memory peak rose during {s}");
    }
    let panics = PANICS.load(Ordering::SeqCst);
    println!(
        "  panics {panics}, timeouts {}, failures {}",
        tally.timeouts, tally.failed
    );
    for f in &tally.failures {
        println!("  FAILURE {f}");
    }
    if let Ok(reports) = PANIC_REPORTS.lock() {
        for r in reports.iter() {
            println!("  PANIC {r}");
        }
    }
    app.stop().await;

    assert_eq!(panics, 0, "the server panicked");
    assert!(tally.failed == 0, "{} failures", tally.failed);
    let rss_growth = mib(end_mem.0.saturating_sub(warm_mem.0));
    assert!(
        rss_growth <= RSS_GROWTH_BOUND_MB,
        "VmRSS grew by {rss_growth} MiB after warm-up (bound {RSS_GROWTH_BOUND_MB} MiB)"
    );
    if let (Some(warm), Some(end)) = (warm_mem.1, end_mem.1) {
        let heap_growth = mib(end.saturating_sub(warm));
        assert!(
            heap_growth <= HEAP_GROWTH_BOUND_MB,
            "heap in use grew by {heap_growth} MiB after warm-up (bound {HEAP_GROWTH_BOUND_MB} MiB)"
        );
    }
}
