//! Pile-ons on private people: a crowd reaching into a person's private
//! life (`core::intrusion`) turns a playful trend into a moment for people.

use kairos::core::model::*;

use super::scenarios::{compile, event, profile, score};

/// A playful trend about a dance that a dance brand fits, with `posts`
/// under it.
fn dance_trend(posts: &[&str]) -> Assessment {
    let mut e = event(
        EventKind::TrendingTopic,
        "the kangaroo hop dance routine is copied and remixed everywhere",
        "2026-03-02T12:00:00Z",
    );
    e.hashtags = vec!["#KangarooHop".into()];
    e.sample_posts = posts.iter().map(|p| (*p).to_string()).collect();
    let brand = compile(profile(
        "dance-game",
        "Dance Game",
        &[("dance", 0.9), ("routine", 0.6), ("kangaroo hop", 0.8)],
    ));
    score(
        &e,
        &brand,
        EngagementCounts::default(),
        "2026-03-02T13:00:00Z",
    )
}

fn piled_on(a: &Assessment) -> bool {
    a.reasons.iter().any(|r| r.code == ReasonCode::PileOn)
}

const PLAYFUL: [&str; 3] = [
    "the kangaroo hop is the dance of the summer",
    "somebody cut the routine to every song on earth",
    "every kid at dance class did the move today",
];

#[test]
fn a_playful_trend_without_a_person_in_it_is_not_a_pile_on() {
    let a = dance_trend(&PLAYFUL);
    assert!(!piled_on(&a), "{:?}", a.reasons);
    assert_eq!(a.decision, Decision::Engage, "{:?}", a.reasons);
}

#[test]
fn a_crowd_reaching_into_a_private_life_makes_it_a_moment_for_people() {
    for post in [
        "people are digging through her PhD and emailing her university",
        "ya encontraron su Facebook y dónde estudió",
        "jemand hat seine Adresse veröffentlicht",
        "on a retrouvé son profil et son employeur",
        "someone tracked down his old school and posted it",
        "people are driving out to their apartment complex to film it",
        "Name und Arbeitgeber gehen schon überall rum",
    ] {
        let mut posts = PLAYFUL.to_vec();
        posts.push(post);
        let a = dance_trend(&posts);
        assert!(piled_on(&a), "{post}: {:?}", a.reasons);
        assert_eq!(a.decision, Decision::Review, "{post}");
    }
}

#[test]
fn a_win_that_mentions_a_school_or_a_family_is_not_a_pile_on() {
    let mut posts = PLAYFUL.to_vec();
    posts.extend([
        "she found her rhythm in the final, her whole school watching",
        "found his dad in the crowd after the final",
    ]);
    let a = dance_trend(&posts);
    assert!(!piled_on(&a), "{:?}", a.reasons);
}

#[test]
fn crowds_naming_a_pile_on_in_other_languages_are_heard() {
    let mut posts = PLAYFUL.to_vec();
    posts.extend([
        "esto ya es un linchamiento, déjenla en paz",
        "c'est du harcèlement, laissez-la tranquille",
    ]);
    let a = dance_trend(&posts);
    assert!(piled_on(&a), "{:?}", a.reasons);
    assert_eq!(a.decision, Decision::Review);
}

#[test]
fn a_joke_that_stopped_being_one_is_a_pile_on_in_other_languages() {
    for posts in [
        ["hindi na nakakatawa yan", "sobra na, mga bata lang sila"],
        [
            "o menino está sendo zoado na escola",
            "já não tem mais graça",
        ],
    ] {
        let mut all = PLAYFUL.to_vec();
        all.extend(posts);
        let a = dance_trend(&all);
        assert!(piled_on(&a), "{posts:?}: {:?}", a.reasons);
        assert_eq!(a.decision, Decision::Review, "{posts:?}");
    }
}
