//! Deadpan verdicts (`core::deadpan`): irony written in plain praise that
//! closes a post, read as mockery only in the brand's own moment.

use kairos::core::analyse::Source;
use kairos::core::model::*;
use kairos::core::{analyse, assess};

use super::scenarios::{compile, event, profile, ts};

const DEADPAN: &str = "a deadpan verdict of praise closing the post";

/// Which of `posts` the analysis reads as closing on a deadpan verdict.
fn deadpan_posts(posts: &[&str]) -> Vec<usize> {
    let mut e = event(
        EventKind::TrendingTopic,
        "a new campaign",
        "2026-03-02T12:00:00Z",
    );
    e.sample_posts = posts.iter().map(|p| (*p).to_string()).collect();
    analyse(&e)
        .sarcasm
        .iter()
        .filter(|f| f.term == DEADPAN)
        .filter_map(|f| match f.source {
            Source::Sample(i) => Some(i),
            _ => None,
        })
        .collect()
}

#[test]
fn a_flat_word_of_praise_after_the_content_is_deadpan() {
    let posts = [
        "body confidence, now available in a pear-shaped bottle. Brave. #GlowBottles",
        "thirty seconds of an ad for a car company and not one car. Iconic honestly",
        "Copy Nothing. Sell Nothing. Drive Nothing. Bold strategy",
        "they renamed the flagship after a sound a printer makes. Visionary https://t.co/x",
    ];
    assert_eq!(deadpan_posts(&posts), vec![0, 1, 2, 3]);
}

#[test]
fn praise_that_is_loud_long_asked_or_about_nothing_is_not_deadpan() {
    let posts = [
        // Enthusiasm: an exclamation mark or an emoji.
        "watched the new ad three times on the bus. Obsessed!",
        "watched the new ad three times on the bus. Perfect \u{1f60d}",
        // A question.
        "they put the logo on the bottle upside down. Brave?",
        // A reaction with nothing before it.
        "Brave.",
        "so good. Love it.",
        // A closing sentence too long to be a verdict.
        "the new bottles arrived today. I think they look really lovely actually.",
        // Not praise.
        "the new bottles arrived today in six different shapes. Awful.",
        // No sentence before the praise.
        "the new bottles are out and they look lovely",
        // Tags, handles and links are not content.
        "#glow #bottle @glowco launch. Brave.",
    ];
    assert_eq!(deadpan_posts(&posts), Vec::<usize>::new());
}

fn own_campaign_moment(posts: &[&str]) -> Assessment {
    let mut brand = profile(
        "glow-co",
        "Glow Co",
        &[("glow for all", 1.0), ("body wash", 0.8), ("bottle", 0.5)],
    );
    brand.audience_time_zone = "Europe/London".into();
    let mut e = event(
        EventKind::TrendingTopic,
        "Glow Co launches 'Glow For All' body wash bottles in six body shapes",
        "2026-03-02T12:00:00Z",
    );
    e.hashtags = vec!["#GlowForAllBottles".into()];
    e.entities = vec!["Glow Co".into()];
    e.velocity = Some(Velocity {
        mentions_per_minute: 400.0,
        window: std::time::Duration::from_secs(300),
        history_per_minute: vec![80.0, 200.0, 320.0],
    });
    e.sample_posts = posts.iter().map(|p| (*p).to_string()).collect();
    let g = Guardrails {
        blackouts: &[],
        counts: EngagementCounts::default(),
    };
    assess(
        &analyse(&e),
        &compile(brand),
        &g,
        ts("2026-03-02T13:00:00Z"),
    )
}

#[test]
fn the_brands_own_moment_mocked_in_deadpan_praise_goes_to_people() {
    let a = own_campaign_moment(&[
        "stood in the shop working out which bottle my thighs look like. Inspiring",
        "body confidence, now sold in a pear-shaped bottle. Brave.",
        "my sister bought the tall one as a joke",
        "the bottles are in every window on the high street",
        "the launch event is on the news tonight",
    ]);
    assert_ne!(a.decision, Decision::Engage, "{a:?}");
    assert!(
        a.reasons.iter().any(|r| r.code == ReasonCode::BrandCrisis),
        "{a:?}"
    );
}

#[test]
fn the_brands_own_moment_praised_out_loud_is_still_a_win() {
    let a = own_campaign_moment(&[
        "stood in the shop picking which bottle looks like me. Love this!",
        "body confidence in a bottle, honestly the best launch of the year \u{1f60d}",
        "my sister bought the tall one and it made her day",
        "the bottles are in every window on the high street and they look great",
        "the launch event is on the news tonight, so proud of the team",
    ]);
    assert_eq!(a.decision, Decision::Engage, "{a:?}");
    assert!(
        !a.reasons.iter().any(|r| r.code == ReasonCode::BrandCrisis),
        "{a:?}"
    );
}
