//! Work budgets of event analysis (issue 9): the cost of analysing an event
//! is linear in its bytes, with a small constant, whatever the event says.
//! Asserted on a deterministic work count, not on time, so the bounds hold
//! on any machine and under any load.

use kairos::core::analyse::{
    SEGMENT_BUDGET, SPLIT_WORDS_BUDGET, WORK_PER_BYTE, input_bytes, work_bound,
};
use kairos::core::analyse_metered;
use kairos::core::model::Event;
use kairos::core::validate::validate_event;
use kairos::synthetic;

/// Work per input byte that an event at the sizes validation allows may
/// cost, everything included. The smallest such worst case is the
/// hashtags list (200 one-case tags of 64 letters, 13 kB): there the
/// segmentation budget amounts to 19 units a byte and the rest to 2; over
/// 1 MB of sample posts the budget amounts to 0.25 a byte, and the densest
/// posts cost 16. Without the budget, segmenting costs 60 units per byte
/// of one-case tags.
const MAX_WORK_PER_BYTE: u64 = 32;

/// Tokens an analysis may hold per input byte, besides the words that
/// splits of one-case tags add: a word and its separator take two bytes,
/// and the text of a hashtag in a sample post is read both as words and
/// as a tag.
const MAX_TOKENS_PER_BYTE: u64 = 1;

/// Words the splits of one-case tags may add to one analysis: at least
/// `SPLIT_WORDS_BUDGET`, which is checked against it.
const MAX_SPLIT_WORDS: u64 = 32_768;

/// An ordinary event costs 4 to 5 units a byte: this far below the bound.
const TYPICAL_HEADROOM: u64 = 4;

fn work(e: &Event) -> (u64, u64) {
    let (_, work) = analyse_metered(e);
    (work, input_bytes(e))
}

/// Memory grows with tokens: one tag repeated in every post, split into
/// 75 words each time, made 1.16 tokens a byte (a 60 MB analysis of a
/// 1 MB event) before the split words had a budget.
#[test]
fn worst_case_events_hold_a_bounded_number_of_tokens() {
    const { assert!(SPLIT_WORDS_BUDGET <= MAX_SPLIT_WORDS) };
    let mut over = Vec::new();
    for (name, e) in synthetic::adversarial_events() {
        let (a, _) = analyse_metered(&e);
        let (tokens, bytes) = (a.stream_tokens() as u64, input_bytes(&e));
        if tokens > MAX_TOKENS_PER_BYTE * bytes + MAX_SPLIT_WORDS {
            over.push(format!("{name}: {tokens} tokens for {bytes} bytes"));
        }
    }
    assert!(
        over.is_empty(),
        "more than {MAX_TOKENS_PER_BYTE} a byte besides split words:\n{}",
        over.join("\n")
    );
}

#[test]
fn worst_case_events_cost_a_bounded_work_per_byte() {
    const { assert!(WORK_PER_BYTE < MAX_WORK_PER_BYTE) };
    let mut over = Vec::new();
    for (name, e) in synthetic::adversarial_events() {
        assert_eq!(validate_event(&e), Ok(()), "{name}: not an allowed event");
        let (work, bytes) = work(&e);
        eprintln!(
            "{name}: {bytes} bytes, {work} units, {:.2} a byte",
            work as f64 / bytes as f64
        );
        if work > MAX_WORK_PER_BYTE * bytes || work > work_bound(&e) {
            over.push(format!(
                "{name}: {work} units for {bytes} bytes (bound {})",
                work_bound(&e)
            ));
        }
    }
    assert!(
        over.is_empty(),
        "more than {MAX_WORK_PER_BYTE} units a byte, or above `work_bound`:\n{}",
        over.join("\n")
    );
}

/// The worst cases are worst cases: each is at the limits of validation,
/// and the segmentation attacks do spend the whole budget.
#[test]
fn worst_case_events_reach_the_limits() {
    let events = synthetic::adversarial_events();
    let tags = events
        .iter()
        .find(|(n, _)| n.starts_with("hashtags"))
        .map(|(_, e)| e)
        .expect("a hashtags case");
    assert_eq!(tags.hashtags.len(), 200);
    assert!(tags.hashtags.iter().all(|t| t.len() == 65));
    let (work, bytes) = work(tags);
    // Past the budget, a tag costs its bytes and a token.
    assert!(work > SEGMENT_BUDGET && work < SEGMENT_BUDGET + 8 * bytes);
    let posts = events
        .iter()
        .find(|(n, _)| *n == "sample posts: distinct one-case tags")
        .map(|(_, e)| e)
        .expect("a sample-posts case");
    assert_eq!(posts.sample_posts.len(), 200);
    assert!(posts.sample_posts.iter().all(|p| p.len() > 4_900));
}

#[test]
fn an_ordinary_event_is_far_below_the_bound() {
    for i in 0..3 {
        let e = synthetic::event(i);
        let (work, bytes) = work(&e);
        assert!(
            work * TYPICAL_HEADROOM <= MAX_WORK_PER_BYTE * bytes,
            "event {i}: {work} units for {bytes} bytes"
        );
    }
}

#[test]
fn the_count_is_deterministic() {
    for (name, e) in synthetic::adversarial_events().into_iter().take(3) {
        assert_eq!(work(&e), work(&e), "{name}");
    }
}
