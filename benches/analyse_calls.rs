//! Runs `analyse` on the new-event benchmark's moment (the trending-topic
//! event of `../shared/acceptance/scale` and `scripts/bench.sh`: about 250
//! characters, two hashtags, one sample post) a given number of times, for
//! instruction counts under callgrind:
//!
//! ```sh
//! cargo bench --bench analyse_calls --no-run
//! valgrind --tool=callgrind --toggle-collect='analyse_calls::run_many' \
//!     target/release/deps/analyse_calls-* 100
//! ```
//!
//! Divide the collected instructions by the count given.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kairos::core::analyse;
use kairos::grpc::convert::event_in;
use kairos::grpc::pb;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let event = event_in(&pb::Event {
        id: "ev-bench".into(),
        kind: pb::EventKind::TrendingTopic as i32,
        text: "The lights just went out at the stadium in the middle of the final and \
               everyone is sitting in the dark waiting, somebody grab the milk and cookies \
               while we wait for power to come back, this is the best ad break ever"
            .into(),
        hashtags: vec!["#DunkInTheDark".into(), "#GameDay".into()],
        sample_posts: vec!["you can still dunk in the dark, classic".into()],
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1_773_172_800,
            nanos: 0,
        }),
        audience_time_zone: "America/New_York".into(),
        velocity: Some(pb::Velocity {
            mentions_per_minute: 900.0,
            history_per_minute: vec![100.0, 400.0],
            window: None,
        }),
        ..Default::default()
    })
    .unwrap();
    // Start-up (lexicons, word table) is paid here, outside the count.
    black_box(analyse(&event));
    println!("{n} analyses ({})", run_many(&event, n));
}

/// The measured loop; callgrind collects only inside it.
#[inline(never)]
fn run_many(event: &kairos::core::model::Event, n: usize) -> usize {
    let mut found = 0;
    for _ in 0..n {
        found += black_box(analyse(black_box(event))).sensitive.len();
    }
    found
}
