//! The scenarios of issue 3, each asserting the decision and key reasons.

use std::time::Duration;

use jiff::Timestamp;

use kairos::core::model::*;
use kairos::core::{CompiledProfile, analyse, assess};

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

pub fn event(kind: EventKind, text: &str, at: &str) -> Event {
    Event {
        id: "evt-1".into(),
        kind,
        text: text.into(),
        language: "en".into(),
        hashtags: Vec::new(),
        topics: Vec::new(),
        entities: Vec::new(),
        occurred_at: ts(at),
        observed_at: None,
        channel: "x".into(),
        author: None,
        addressed_to_brand: false,
        conversation_id: String::new(),
        audience_time_zone: String::new(),
        audience_region: String::new(),
        velocity: None,
        sentiment: None,
        sensitivity_labels: Vec::new(),
        sample_posts: Vec::new(),
        embedding: Vec::new(),
    }
}

pub fn profile(id: &str, name: &str, themes: &[(&str, f64)]) -> BrandProfile {
    BrandProfile {
        brand_id: id.into(),
        display_name: name.into(),
        themes: themes
            .iter()
            .map(|(t, w)| WeightedTerm {
                term: (*t).into(),
                weight: *w,
            })
            .collect(),
        ..Default::default()
    }
}

pub fn compile(p: BrandProfile) -> CompiledProfile {
    CompiledProfile::compile(StoredProfile {
        profile: p,
        version: 1,
        updated_at: Timestamp::UNIX_EPOCH,
    })
}

pub fn score(e: &Event, p: &CompiledProfile, counts: EngagementCounts, now: &str) -> Assessment {
    let g = Guardrails {
        blackouts: &[],
        counts,
    };
    assess(&analyse(e), p, &g, ts(now))
}

fn codes(a: &Assessment) -> Vec<ReasonCode> {
    a.reasons.iter().map(|r| r.code).collect()
}

fn has(a: &Assessment, c: ReasonCode) -> bool {
    a.reasons.iter().any(|r| r.code == c)
}

fn cookie() -> BrandProfile {
    let mut p = profile(
        "cookie-co",
        "Cookie Co",
        &[
            ("dunk", 1.0),
            ("dark", 0.8),
            ("milk", 0.7),
            ("cookie", 0.9),
            ("twist", 0.6),
        ],
    );
    p.audience_time_zone = "America/New_York".into();
    p.approval_latency = vec![ModeLatency {
        mode: EngagementMode::Newsjack,
        latency: mins(10),
    }];
    p
}

fn blackout_event() -> Event {
    let mut e = event(
        EventKind::LiveEvent,
        "The lights just went out at the stadium! Half the Superdome is in the dark during the final",
        "2013-02-04T02:38:00Z",
    );
    e.hashtags = vec!["#PowerOutage".into(), "#SB47".into()];
    e.velocity = Some(Velocity {
        mentions_per_minute: 1200.0,
        history_per_minute: vec![100.0, 300.0, 600.0],
        window: mins(5),
    });
    e.sample_posts = vec![
        "lol the lights went out, the game is paused".into(),
        "power outage at the super bowl, everyone waiting in the dark".into(),
        "this blackout is the most exciting part of the game".into(),
    ];
    e
}

#[test]
fn s01_stadium_blackout_fits_the_cookie_brand() {
    let p = compile(cookie());
    let a = score(
        &blackout_event(),
        &p,
        EngagementCounts::default(),
        "2013-02-04T02:41:00Z",
    );
    assert!(
        matches!(a.decision, Decision::Engage | Decision::Review),
        "{a:#?}"
    );
    assert_eq!(a.recommended_mode, EngagementMode::Newsjack);
    assert!(
        has(&a, ReasonCode::ThemeMatch) && has(&a, ReasonCode::TrendRising),
        "{:?}",
        codes(&a)
    );
    assert!(a.respond_by.is_some());
}

#[test]
fn s01b_three_week_approval_is_stale_after_review() {
    let mut p = cookie();
    p.approval_latency = vec![ModeLatency {
        mode: EngagementMode::Newsjack,
        latency: Duration::from_secs(21 * 24 * 3600),
    }];
    let a = score(
        &blackout_event(),
        &compile(p),
        EngagementCounts::default(),
        "2013-02-04T02:41:00Z",
    );
    assert_eq!(a.decision, Decision::Listen, "{a:#?}");
    assert_eq!(
        a.reasons[0].code,
        ReasonCode::StaleAfterReview,
        "{:?}",
        codes(&a)
    );
    // The moment is still rising: it lives for hours (a trend's horizon),
    // still far short of three weeks.
    let max = a.max_review_latency.expect("max review latency set");
    assert!(max > mins(60) && max < mins(24 * 60), "{max:?}");
    assert_eq!(a.respond_by, None);
}

#[test]
fn s02_terror_anniversary_is_declined() {
    let mut p = profile("telco", "Telco", &[("connect", 0.8), ("network", 0.9)]);
    p.audience_time_zone = "America/New_York".into();
    let e = event(
        EventKind::CulturalMoment,
        "Never forget. Remembering those we lost, and the heroes who connected us that day",
        "2013-09-11T12:46:00Z",
    );
    let a = score(
        &e,
        &compile(p),
        EngagementCounts::default(),
        "2013-09-11T13:00:00Z",
    );
    assert_eq!(a.decision, Decision::Decline, "{a:#?}");
    assert!(
        has(&a, ReasonCode::TragedyAnniversary) || has(&a, ReasonCode::SensitiveContext),
        "{:?}",
        codes(&a)
    );
    assert_eq!(a.recommended_mode, EngagementMode::None);
}

#[test]
fn s03_royal_baby_is_off_platform_for_tools() {
    let p = compile(profile(
        "tools",
        "Acme Tools",
        &[("drill", 1.0), ("workshop", 0.8), ("torque", 0.6)],
    ));
    let mut e = event(
        EventKind::TrendingTopic,
        "The royal baby is here! Welcome to the world, little prince",
        "2013-07-22T20:00:00Z",
    );
    e.hashtags = vec!["#RoyalBaby".into()];
    e.sample_posts = vec!["so happy for the royal family".into()];
    let a = score(&e, &p, EngagementCounts::default(), "2013-07-22T20:10:00Z");
    assert_eq!(a.decision, Decision::Decline, "{a:#?}");
    assert!(has(&a, ReasonCode::OffPlatform));
}

#[test]
fn s04_fan_conversation_is_unsolicited() {
    let p = compile(profile(
        "voltz",
        "Voltz",
        &[("energy drink", 1.0), ("energy", 0.7)],
    ));
    let mut e = event(
        EventKind::Conversation,
        "Loving this Voltz energy drink before the gym with you guys",
        "2024-05-01T14:00:00Z",
    );
    e.conversation_id = "c1".into();
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-01T14:02:00Z");
    assert!(
        matches!(a.decision, Decision::Listen | Decision::Decline),
        "{a:#?}"
    );
    assert!(has(&a, ReasonCode::Unsolicited));
}

fn complaint() -> Event {
    let mut e = event(
        EventKind::Complaint,
        "@shopco my order never arrived, third time",
        "2024-05-01T14:00:00Z",
    );
    e.addressed_to_brand = true;
    e.author = Some(Author {
        id: "jane".into(),
        follower_count: 230,
        ..Default::default()
    });
    e
}

#[test]
fn s05_complaint_to_the_brand_gets_fast_care() {
    let mut p = profile("shopco", "ShopCo", &[("order", 0.5)]);
    p.frequency_caps.per_author_per_day = 2;
    let p = compile(p);
    let now = "2024-05-01T14:01:00Z";
    let a = score(&complaint(), &p, EngagementCounts::default(), now);
    assert_eq!(a.decision, Decision::Engage, "{a:#?}");
    assert_eq!(a.recommended_mode, EngagementMode::CustomerCare);
    // An obligation: owed an answer over hours, not a newsjacking
    // half-life (6 h: ENGAGE stays right for about eight).
    let by = a.respond_by.expect("respond_by set");
    assert!(by > ts(now) + jiff::SignedDuration::from_hours(7), "{by}");
    assert!(by <= ts(now) + jiff::SignedDuration::from_hours(9), "{by}");
    assert!(has(&a, ReasonCode::DirectMention));

    let capped = EngagementCounts {
        author_today: 2,
        ..Default::default()
    };
    let a = score(&complaint(), &p, capped, now);
    assert_ne!(a.decision, Decision::Engage, "{a:#?}");
    assert!(has(&a, ReasonCode::FrequencyCap));
}

fn recipes() -> BrandProfile {
    let mut p = profile(
        "recipes",
        "Dinnerly",
        &[("dinner", 1.0), ("recipe", 0.9), ("tonight", 0.4)],
    );
    p.audience_time_zone = "America/Chicago".into();
    p.active_windows = vec![LocalWindow {
        start_minute: 15 * 60,
        end_minute: 18 * 60 + 30,
    }];
    p.approval_latency = vec![ModeLatency {
        mode: EngagementMode::Reply,
        latency: mins(5),
    }];
    p
}

#[test]
fn s06_dinner_question_in_and_out_of_hours() {
    let p = compile(recipes());
    // 16:30 CDT = 21:30 UTC
    let mut e = event(
        EventKind::Question,
        "What's for dinner tonight?",
        "2024-05-01T21:30:00Z",
    );
    e.addressed_to_brand = false;
    e.kind = EventKind::BrandMention;
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-01T21:31:00Z");
    assert!(
        matches!(a.decision, Decision::Engage | Decision::Review),
        "{a:#?}"
    );
    assert!(has(&a, ReasonCode::ActiveWindow), "{:?}", codes(&a));
    // 03:00 CDT = 08:00 UTC
    e.occurred_at = ts("2024-05-01T08:00:00Z");
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-01T08:01:00Z");
    assert_eq!(a.decision, Decision::Listen, "{a:#?}");
    assert!(has(&a, ReasonCode::QuietHours));
}

#[test]
fn s07_bot_driven_trend_needs_review() {
    let p = compile(cookie());
    let mut e = event(
        EventKind::TrendingTopic,
        "Dunk your cookie in milk challenge is everywhere",
        "2024-05-01T20:00:00Z",
    );
    e.hashtags = vec!["#DunkChallenge".into()];
    e.sample_posts = vec!["dunk dunk dunk".into(), "cookie milk dunk".into()];
    e.author = Some(Author {
        id: "trend-bot-77".into(),
        bot_likelihood: 0.92,
        ..Default::default()
    });
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-01T20:05:00Z");
    assert!(
        matches!(
            a.decision,
            Decision::Review | Decision::Listen | Decision::Decline
        ),
        "{a:#?}"
    );
    assert!(has(&a, ReasonCode::LowAuthenticity));
}

#[test]
fn s08_public_detractor_is_not_engaged() {
    let p = compile(profile("shopco", "ShopCo", &[("delivery", 0.6)]));
    let e = event(
        EventKind::BrandMention,
        "ShopCo is the worst, terrible delivery and awful service. Never buying again",
        "2024-05-01T14:00:00Z",
    );
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-01T14:03:00Z");
    assert!(
        matches!(a.decision, Decision::Review | Decision::Listen),
        "{a:#?}"
    );
    assert!(has(&a, ReasonCode::NegativeSentiment) || has(&a, ReasonCode::Unsolicited));
}

#[test]
fn s09_trend_that_peaked_two_days_ago() {
    let p = compile(cookie());
    let mut e = event(
        EventKind::TrendingTopic,
        "Everyone is dunking cookies in milk",
        "2024-05-01T12:00:00Z",
    );
    e.hashtags = vec!["#DunkWeek".into()];
    e.sample_posts = vec!["dunk it".into()];
    e.velocity = Some(Velocity {
        mentions_per_minute: 3.0,
        history_per_minute: vec![400.0, 150.0, 40.0, 10.0],
        window: mins(60),
    });
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-03T12:00:00Z");
    assert_eq!(a.decision, Decision::Listen, "{a:#?}");
    assert!(has(&a, ReasonCode::TrendFading) || has(&a, ReasonCode::Stale));
}

#[test]
fn s10_blocked_term_always_declines() {
    let mut p = cookie();
    p.blocked_terms = vec!["diet".into()];
    let mut e = complaint();
    e.text = "@cookieco is this cookie ok on my diet? love dunking them in milk".into();
    e.kind = EventKind::Question;
    let a = score(
        &e,
        &compile(p),
        EngagementCounts::default(),
        "2024-05-01T14:01:00Z",
    );
    assert_eq!(a.decision, Decision::Decline, "{a:#?}");
    assert_eq!(a.reasons[0].code, ReasonCode::BlockedTerm);
    assert!(a.reasons[0].detail.contains("diet"));
}

#[test]
fn s11_tag_judged_by_its_sample_posts() {
    let p = compile(profile(
        "pizza",
        "PizzaCo",
        &[("pizza", 1.0), ("stay", 0.5), ("why", 0.3)],
    ));
    let mut e = event(EventKind::TrendingTopic, "", "2014-09-08T20:00:00Z");
    e.hashtags = vec!["#WhyIStayed".into()];
    e.sample_posts = vec![
        "#WhyIStayed because he told me he would kill me if I left".into(),
        "I stayed because I thought the abuse was my fault".into(),
        "domestic violence survivors, your stories matter".into(),
        "he hit me and I still stayed for the kids".into(),
    ];
    let a = score(&e, &p, EngagementCounts::default(), "2014-09-08T20:10:00Z");
    assert_eq!(a.decision, Decision::Decline, "{a:#?}");
    let r = a
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::SensitiveContext)
        .expect("sensitive context reason");
    assert!(
        r.detail.contains("sample post") || r.detail.contains("hashtags"),
        "{}",
        r.detail
    );

    // The same neutral tag with only the sample posts carrying the meaning.
    e.hashtags = vec!["#MondayStories".into()];
    let a = score(&e, &p, EngagementCounts::default(), "2014-09-08T20:10:00Z");
    assert_eq!(a.decision, Decision::Decline, "{a:#?}");
    let r = a
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::SensitiveContext)
        .expect("sensitive context reason");
    assert!(r.detail.contains("sample post"), "{}", r.detail);
}

#[test]
fn blackouts_decline_by_scope() {
    let p = compile(cookie());
    let an = analyse(&blackout_event());
    let now = ts("2013-02-04T02:41:00Z");
    let mk = |scope, brand: &str, terms: &[&str], region: &str| Blackout {
        id: "b1".into(),
        scope,
        brand_id: brand.into(),
        terms: terms.iter().map(|t| (*t).to_string()).collect(),
        region: region.into(),
        starts_at: None,
        ends_at: None,
        reason: "crisis".into(),
        created_at: Timestamp::UNIX_EPOCH,
    };
    let cases = [
        (mk(BlackoutScope::Global, "", &[], ""), true),
        (mk(BlackoutScope::Brand, "cookie-co", &[], ""), true),
        (mk(BlackoutScope::Brand, "other", &[], ""), false),
        (mk(BlackoutScope::Topic, "", &["power outage"], ""), true),
        (
            mk(BlackoutScope::Topic, "other", &["power outage"], ""),
            false,
        ),
        (mk(BlackoutScope::Topic, "", &["hurricane"], ""), false),
        (mk(BlackoutScope::Region, "", &[], "us"), false),
    ];
    for (b, declined) in cases {
        let bs = [b];
        let g = Guardrails {
            blackouts: &bs,
            counts: EngagementCounts::default(),
        };
        let a = assess(&an, &p, &g, now);
        assert_eq!(
            a.decision == Decision::Decline && has(&a, ReasonCode::BlackoutActive),
            declined,
            "{:?}",
            bs[0]
        );
    }
}

#[test]
fn values_moments_and_echo_traps_are_never_engaged() {
    let p = compile(profile(
        "burger",
        "BurgerCo",
        &[("burger", 1.0), ("women", 0.4)],
    ));
    let mut e = event(
        EventKind::CulturalMoment,
        "Happy International Women's Day! Celebrate the women who make the best burger",
        "2024-03-08T15:00:00Z",
    );
    e.sample_posts = vec!["happy iwd to all".into()];
    let a = score(&e, &p, EngagementCounts::default(), "2024-03-08T15:05:00Z");
    assert_ne!(a.decision, Decision::Engage, "{a:#?}");
    assert!(has(&a, ReasonCode::ValuesMoment));

    let mut e = event(
        EventKind::BrandMention,
        "@BurgerCo say my name! retweet if you love burgers",
        "2024-03-08T15:00:00Z",
    );
    e.addressed_to_brand = true;
    let a = score(&e, &p, EngagementCounts::default(), "2024-03-08T15:05:00Z");
    assert_ne!(a.decision, Decision::Engage, "{a:#?}");
    assert!(has(&a, ReasonCode::EchoTrap));
}

#[test]
fn brand_crisis_and_high_reach_go_to_people() {
    let p = compile(profile("burger", "BurgerCo", &[("burger", 1.0)]));
    let mut e = event(
        EventKind::TrendingTopic,
        "#BurgerCoStories is trending",
        "2024-03-08T15:00:00Z",
    );
    e.hashtags = vec!["#BurgerCoStories".into()];
    e.sample_posts = vec![
        "#BurgerCoStories found a fingernail in my burger, disgusting".into(),
        "#BurgerCoStories got food poisoning, worst night of my life".into(),
        "#BurgerCoStories I love their fries".into(),
        "#BurgerCoStories the staff were rude and the place was filthy".into(),
    ];
    let a = score(&e, &p, EngagementCounts::default(), "2024-03-08T15:05:00Z");
    assert_ne!(a.decision, Decision::Engage, "{a:#?}");
    assert!(has(&a, ReasonCode::BrandCrisis), "{:?}", codes(&a));

    let mut e = complaint();
    e.author = Some(Author {
        id: "celebrity".into(),
        follower_count: 2_000_000,
        verified: true,
        ..Default::default()
    });
    let a = score(
        &e,
        &compile(profile("shopco", "ShopCo", &[])),
        EngagementCounts::default(),
        "2024-05-01T14:01:00Z",
    );
    assert_eq!(a.decision, Decision::Review, "{a:#?}");
    assert!(has(&a, ReasonCode::HighReach));
}

#[test]
fn tragedy_declines_however_well_it_fits() {
    let p = compile(profile(
        "shopco",
        "ShopCo",
        &[("storm", 1.0), ("shop", 1.0), ("stay safe", 1.0)],
    ));
    let mut e = event(
        EventKind::News,
        "Hurricane Sandy: death toll rises as storm floods the coast. Stay safe and shop",
        "2012-10-30T14:00:00Z",
    );
    e.hashtags = vec!["#Sandy".into()];
    let a = score(&e, &p, EngagementCounts::default(), "2012-10-30T14:05:00Z");
    assert_eq!(a.decision, Decision::Decline, "{a:#?}");
    assert!(has(&a, ReasonCode::SensitiveContext));
}

#[test]
fn hashtags_split_on_case_and_glued_forms_match_themes() {
    let p = compile(cookie());
    let mut e = event(EventKind::TrendingTopic, "", "2024-05-01T20:00:00Z");
    e.hashtags = vec!["#dunkinthedark".into()];
    e.sample_posts = vec!["fun".into()];
    let a = score(&e, &p, EngagementCounts::default(), "2024-05-01T20:05:00Z");
    assert!(
        a.reasons
            .iter()
            .any(|r| r.code == ReasonCode::ThemeMatch && r.detail.contains("dunk")),
        "{:?}",
        a.reasons
    );
}

#[test]
fn analysed_events_and_profiles_are_shareable_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<kairos::core::AnalysedEvent>();
    send_sync::<CompiledProfile>();
}

/// A death word next to a thing in a person's own message is a machine
/// failing ("the update killed my laptop"), unless the message also
/// reports violence: then the thing is no excuse (found by
/// `props::a_corroborated_massacre_always_declines`).
#[test]
fn machines_die_in_idiom_but_not_beside_a_death_toll() {
    let brand = compile(profile("brand", "Brand", &[]));
    let now = "2024-05-01T12:30:00Z";
    let at = "2024-05-01T12:00:00Z";
    for text in [
        "the update killed my laptop",
        // Concern for people is no report of harm.
        "the power outage killed my router and I'm stranded",
    ] {
        let idiom = event(EventKind::DirectMessage, text, at);
        let a = score(&idiom, &brand, EngagementCounts::default(), now);
        assert_ne!(a.decision, Decision::Decline, "{text}: {a:?}");
        let sensitive = analyse(&idiom).sensitive;
        assert!(sensitive.is_empty(), "{text}: {sensitive:?}");
    }
    let report = event(
        EventKind::DirectMessage,
        "PC massacre, the death toll rises",
        at,
    );
    let a = score(&report, &brand, EngagementCounts::default(), now);
    assert_eq!(a.decision, Decision::Decline, "{a:?}");
}

/// A theme that is the story's entity is a namesake unless the moment is
/// the brand's own platform: a tailor's "waistcoat" tag beside its
/// sponsored manager is no coincidence of names.
#[test]
fn a_sponsored_star_under_the_brands_own_tag_is_no_namesake() {
    let brand = compile(profile(
        "tailor",
        "Tailor & Co",
        &[("waistcoat", 0.9), ("gareth southgate", 0.8)],
    ));
    let now = "2018-07-07T18:30:00Z";
    let mut e = event(
        EventKind::TrendingTopic,
        "Gareth Southgate's England reach the World Cup semi-final",
        "2018-07-07T17:00:00Z",
    );
    e.entities = vec!["Gareth Southgate".into(), "England".into()];
    let collides = |a: &Assessment| has(a, ReasonCode::EntityCollision);
    let a = score(&e, &brand, EngagementCounts::default(), now);
    assert!(collides(&a), "{a:?}");
    e.hashtags = vec!["#WaistcoatWednesday".into()];
    let a = score(&e, &brand, EngagementCounts::default(), now);
    assert!(!collides(&a), "{a:?}");
}
