//! Properties of the scoring core (issue 3).

use proptest::prelude::*;

use kairos::core::model::*;
use kairos::core::{analyse, assess};

use super::scenarios::{compile, event, profile, ts};

const KINDS: [EventKind; 10] = EventKind::ALL;

fn arb_event() -> impl Strategy<Value = Event> {
    (
        0usize..10,
        ".{0,120}",
        proptest::collection::vec("[#A-Za-z]{0,20}", 0..3),
        proptest::collection::vec(".{0,60}", 0..3),
        any::<bool>(),
        proptest::option::of(-1.0f64..=1.0),
        proptest::option::of(0.0f64..=1.0),
        0i64..200_000,
    )
        .prop_map(|(k, text, tags, posts, addressed, sentiment, bot, secs)| {
            let mut e = event(KINDS[k], &text, "2024-05-01T12:00:00Z");
            e.occurred_at =
                ts("2024-05-01T12:00:00Z") + jiff::SignedDuration::from_secs(secs - 100_000);
            e.hashtags = tags;
            e.sample_posts = posts;
            e.addressed_to_brand = addressed;
            e.sentiment = sentiment;
            e.author = bot.map(|b| Author {
                id: "a".into(),
                bot_likelihood: b,
                ..Default::default()
            });
            e
        })
}

fn arb_profile() -> impl Strategy<Value = BrandProfile> {
    (
        proptest::collection::vec(("[a-z]{2,8}( [a-z]{2,8})?", 0.01f64..=1.0), 0..5),
        0usize..3,
        proptest::collection::vec("[a-z]{3,8}", 0..2),
    )
        .prop_map(|(themes, appetite, blocked)| {
            let mut p = profile("brand", "Brand", &[]);
            let mut seen = std::collections::HashSet::new();
            p.themes = themes
                .into_iter()
                .filter(|(t, _)| seen.insert(t.clone()))
                .map(|(term, weight)| WeightedTerm { term, weight })
                .collect();
            p.risk_appetite = [
                RiskAppetite::Conservative,
                RiskAppetite::Balanced,
                RiskAppetite::Bold,
            ][appetite];
            p.blocked_terms = blocked
                .into_iter()
                .filter(|b| seen.insert(b.clone()))
                .collect();
            p
        })
}

fn run(e: &Event, p: &BrandProfile, now: jiff::Timestamp) -> Assessment {
    let c = compile(p.clone());
    assess(&analyse(e), &c, &Guardrails::default(), now)
}

fn in_unit(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn scores_stay_in_unit_range(e in arb_event(), p in arb_profile()) {
        let a = run(&e, &p, ts("2024-05-01T12:30:00Z"));
        prop_assert!(in_unit(a.relevance) && in_unit(a.timing) && in_unit(a.intrusiveness_risk)
            && in_unit(a.opportunity) && in_unit(a.confidence), "{a:?}");
        prop_assert!(a.reasons.iter().all(|r| r.contribution.is_finite()));
    }

    #[test]
    fn same_inputs_same_assessment(e in arb_event(), p in arb_profile()) {
        let now = ts("2024-05-01T12:30:00Z");
        prop_assert_eq!(run(&e, &p, now), run(&e, &p, now));
    }

    #[test]
    fn adding_a_floor_term_never_lowers_risk(e in arb_event(), p in arb_profile()) {
        let now = ts("2024-05-01T12:30:00Z");
        let before = run(&e, &p, now);
        let mut e2 = e.clone();
        e2.text.push_str(" isis propaganda");
        let after = run(&e2, &p, now);
        prop_assert!(after.intrusiveness_risk >= before.intrusiveness_risk);
        prop_assert_eq!(after.decision, Decision::Decline);
    }

    /// A death word is a figure of speech until something corroborates it;
    /// a report of the dead makes any of them decline.
    #[test]
    fn a_corroborated_massacre_always_declines(e in arb_event(), p in arb_profile()) {
        let now = ts("2024-05-01T12:30:00Z");
        let before = run(&e, &p, now);
        let mut e2 = e.clone();
        e2.text.push_str(" massacre, the death toll rises");
        let after = run(&e2, &p, now);
        prop_assert!(after.intrusiveness_risk >= before.intrusiveness_risk);
        prop_assert_eq!(after.decision, Decision::Decline);
    }

    #[test]
    fn later_now_never_raises_timing(e in arb_event(), p in arb_profile(), d in 0i64..200_000) {
        let now = ts("2024-05-01T12:30:00Z");
        let later = now + jiff::SignedDuration::from_secs(d);
        prop_assert!(run(&e, &p, later).timing <= run(&e, &p, now).timing + 1e-12);
    }

    #[test]
    fn removing_themes_never_raises_relevance(e in arb_event(), p in arb_profile(), k in 0usize..5) {
        let now = ts("2024-05-01T12:30:00Z");
        let before = run(&e, &p, now);
        let mut p2 = p.clone();
        p2.themes.truncate(k.min(p2.themes.len()));
        prop_assert!(run(&e, &p2, now).relevance <= before.relevance + 1e-12);
    }

    #[test]
    fn blocked_term_always_declines(e in arb_event(), p in arb_profile(), term in "[a-z]{4,9}") {
        let mut p = p.clone();
        p.blocked_terms.retain(|b| b != &term);
        p.themes.retain(|t| t.term != term);
        p.blocked_terms.push(term.clone());
        let mut e = e.clone();
        e.text = format!("{} {term}", e.text);
        let a = run(&e, &p, ts("2024-05-01T12:30:00Z"));
        prop_assert_eq!(a.decision, Decision::Decline);
        prop_assert!(a.reasons.iter().any(|r| r.code == ReasonCode::BlockedTerm));
    }

    #[test]
    fn never_panics_on_arbitrary_utf8(text in any::<String>(), tag in any::<String>(), post in any::<String>(),
                                      name in any::<String>(), lang in any::<String>()) {
        let mut e = event(EventKind::TrendingTopic, &text, "2024-05-01T12:00:00Z");
        e.hashtags = vec![tag.clone()];
        e.sample_posts = vec![post];
        e.language = lang;
        e.entities = vec![tag];
        e.author = Some(Author { id: name.clone(), display_name: name.clone(), ..Default::default() });
        let mut p = profile("brand", "Brand", &[]);
        if !name.trim().is_empty() {
            p.themes = vec![WeightedTerm { term: name, weight: 0.5 }];
        }
        let a = run(&e, &p, ts("2024-05-01T12:30:00Z"));
        prop_assert!(in_unit(a.relevance));
    }
}

#[test]
fn huge_and_odd_inputs_do_not_panic() {
    let big = "🍪 dunk ".repeat(5_000) + &"x".repeat(30_000) + "中文 العربية";
    let mut e = event(EventKind::LiveEvent, &big, "2024-05-01T12:00:00Z");
    e.hashtags = vec![
        "#".into(),
        "".into(),
        "#a".repeat(300),
        "#ÉCLAIR".into(),
        "#123".into(),
    ];
    e.sample_posts = vec![big.clone(); 5];
    e.audience_time_zone = "Not/AZone".into();
    let p = profile("brand", "Brand", &[("dunk", 1.0)]);
    let a = run(&e, &p, jiff::Timestamp::MAX);
    assert!(in_unit(a.timing));
    let a = run(&e, &p, jiff::Timestamp::MIN);
    assert!(in_unit(a.timing));
}
