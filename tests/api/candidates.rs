//! The candidate index behind RankBrands over every stored brand: kept
//! current through writes, finding brands through every kind of term, and
//! ranking exactly as a walk over every brand does.

use kairos::grpc::pb;
use kairos::synthetic::Lcg;

use crate::helpers::{TestApp, profile, spawn_app, ts};

const NOW: &str = "2026-02-03T20:40:00Z";

fn event(text: &str) -> pb::Event {
    pb::Event {
        id: "ev".into(),
        kind: pb::EventKind::TrendingTopic as i32,
        text: text.into(),
        occurred_at: Some(ts("2026-02-03T20:38:00Z")),
        ..Default::default()
    }
}

/// RankBrands over every stored brand (through the index).
async fn ranked_all(app: &mut TestApp, event: pb::Event) -> Vec<(String, f64)> {
    rank(app, event, vec![]).await
}

async fn rank(app: &mut TestApp, event: pb::Event, brand_ids: Vec<String>) -> Vec<(String, f64)> {
    app.scoring
        .rank_brands(pb::RankBrandsRequest {
            event: Some(event),
            brand_ids,
            k: 1000,
            now: Some(ts(NOW)),
            log_decision: false,
            view: pb::AssessmentView::Compact as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .ranked
        .into_iter()
        .map(|a| (a.opportunity(), a.brand_id))
        .map(|(o, b)| (b, o))
        .collect()
}

fn ids(ranked: &[(String, f64)]) -> Vec<&str> {
    ranked.iter().map(|(id, _)| id.as_str()).collect()
}

fn themed(id: &str, themes: &[&str]) -> pb::BrandProfile {
    let mut p = profile(id);
    p.themes = themes
        .iter()
        .map(|t| pb::WeightedTerm {
            term: t.to_string(),
            weight: 0.9,
        })
        .collect();
    p
}

#[tokio::test]
async fn the_index_follows_creates_updates_and_deletes() {
    let mut app = spawn_app().await;
    app.upsert(themed("zoo", &["zebra", "giraffe"]), None)
        .await
        .unwrap();
    app.upsert(themed("farm", &["tractor"]), None)
        .await
        .unwrap();
    assert_eq!(
        ids(&ranked_all(&mut app, event("a zebra escaped downtown")).await),
        ["zoo"]
    );
    // An update that removes a theme: the brand no longer comes up for it,
    // and comes up for the new one.
    app.upsert(themed("zoo", &["giraffe", "yak"]), None)
        .await
        .unwrap();
    assert!(
        ranked_all(&mut app, event("a zebra escaped downtown"))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&ranked_all(&mut app, event("the yak parade is on")).await),
        ["zoo"]
    );
    // Delete: gone from the ranking, and nothing fails.
    app.profiles
        .delete_brand_profile(pb::DeleteBrandProfileRequest {
            brand_id: "zoo".into(),
        })
        .await
        .unwrap();
    assert!(
        ranked_all(&mut app, event("the yak parade is on"))
            .await
            .is_empty()
    );
    // Created again: found again.
    app.upsert(themed("zoo", &["yak"]), None).await.unwrap();
    assert_eq!(
        ids(&ranked_all(&mut app, event("the yak parade is on")).await),
        ["zoo"]
    );
    app.stop().await;
}

#[tokio::test]
async fn every_kind_of_term_finds_its_brand() {
    let mut app = spawn_app().await;
    let mut named = profile("named");
    named.display_name = "Crumbly Cookies".into();
    named.aliases = vec!["@crumbly".into(), "Crumbs".into()];
    app.upsert(named, None).await.unwrap();
    app.upsert(themed("phrase", &["dunk in the dark"]), None)
        .await
        .unwrap();
    let mut topical = profile("topical");
    topical.topics = vec![pb::WeightedTerm {
        term: "basketball".into(),
        weight: 0.9,
    }];
    app.upsert(topical, None).await.unwrap();
    let mut embedded = profile("embedded");
    embedded.embedding = vec![0.5, 0.5, 0.0];
    app.upsert(embedded, None).await.unwrap();
    app.upsert(themed("bystander", &["tractor"]), None)
        .await
        .unwrap();

    let cases: Vec<(&str, pb::Event, &str)> = vec![
        (
            "display name",
            event("Crumbly Cookies is trending tonight"),
            "named",
        ),
        ("alias", event("everyone loves Crumbs right now"), "named"),
        (
            "handle",
            event("shout out to @crumbly for the game"),
            "named",
        ),
        (
            "phrase theme",
            event("you can dunk in the dark tonight"),
            "phrase",
        ),
        (
            "glued hashtag",
            pb::Event {
                hashtags: vec!["#dunkinthedark".into()],
                ..event("what a night")
            },
            "phrase",
        ),
        (
            "sample post",
            pb::Event {
                sample_posts: vec!["time to dunk in the dark".into()],
                ..event("what a night")
            },
            "phrase",
        ),
        (
            "topic in the text",
            event("basketball fans are loud tonight"),
            "topical",
        ),
        (
            "topic label",
            pb::Event {
                topics: vec![pb::Topic {
                    label: "basketball".into(),
                    confidence: 0.9,
                }],
                ..event("what a night")
            },
            "topical",
        ),
        (
            "embedding",
            pb::Event {
                embedding: vec![0.4, 0.6, 0.1],
                ..event("what a night")
            },
            "embedded",
        ),
    ];
    for (what, ev, brand) in cases {
        let all = ranked_all(&mut app, ev.clone()).await;
        assert!(ids(&all).contains(&brand), "{what}: {:?}", ids(&all));
        assert!(!ids(&all).contains(&"bystander"), "{what}");
        // The same as asking for every brand by name.
        let every: Vec<String> = ["named", "phrase", "topical", "embedded", "bystander"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(all, rank(&mut app, ev, every).await, "{what}");
    }
    app.stop().await;
}

const WORDS: [&str; 24] = [
    "cookie", "milk", "dark", "stadium", "power", "final", "snack", "dunk", "coffee", "rain",
    "storm", "parade", "yak", "zebra", "tractor", "harvest", "goal", "referee", "concert",
    "guitar", "bank", "loan", "flight", "delay",
];

fn pick<'a>(r: &mut Lcg, n: usize) -> Vec<&'a str> {
    (0..n).map(|_| WORDS[r.below(WORDS.len())]).collect()
}

/// Random brands and events over a small vocabulary (so they meet often):
/// the index's ranking equals the ranking of a walk over every brand.
#[tokio::test]
async fn ranking_through_the_index_equals_ranking_every_brand() {
    let mut app = spawn_app().await;
    let mut r = Lcg(1_234_567);
    let brands = 300;
    let mut items = Vec::new();
    for i in 0..brands {
        let mut p = profile(&format!("b{i:03}"));
        let n = 1 + r.below(4);
        let mut words = pick(&mut r, n);
        // A profile may not name a theme twice.
        words.sort_unstable();
        words.dedup();
        p.themes = words
            .iter()
            .enumerate()
            .map(|(j, w)| pb::WeightedTerm {
                // Some themes are two-word phrases.
                term: if j % 3 == 2 {
                    format!("{w} {}", WORDS[(i + j) % WORDS.len()])
                } else {
                    w.to_string()
                },
                weight: 0.3 + 0.1 * (j as f64),
            })
            .collect();
        if r.below(4) == 0 {
            p.topics = vec![pb::WeightedTerm {
                term: pick(&mut r, 1)[0].to_string(),
                weight: 0.8,
            }];
        }
        if r.below(5) == 0 {
            p.embedding = (0..3).map(|_| r.below(200) as f32 / 100.0 - 1.0).collect();
        }
        if r.below(6) == 0 {
            p.display_name = format!("Brand {}", pick(&mut r, 1)[0]);
        }
        items.push(pb::ImportBrandProfilesRequest { profile: Some(p) });
    }
    let resp = app
        .profiles
        .import_brand_profiles(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.created as usize, brands, "{:?}", resp.errors);
    let every: Vec<String> = (0..brands).map(|i| format!("b{i:03}")).collect();
    let mut found = 0;
    for e in 0..60 {
        let n = 3 + r.below(8);
        let mut ev = event(&pick(&mut r, n).join(" "));
        ev.id = format!("e{e}");
        if r.below(3) == 0 {
            let w = pick(&mut r, 2);
            ev.hashtags = vec![format!("#{}{}", w[0], w[1])];
        }
        if r.below(3) == 0 {
            ev.sample_posts = vec![pick(&mut r, 4).join(" ")];
        }
        if r.below(4) == 0 {
            ev.topics = vec![pb::Topic {
                label: pick(&mut r, 1)[0].to_string(),
                confidence: 0.7,
            }];
        }
        if r.below(4) == 0 {
            ev.embedding = (0..3).map(|_| r.below(200) as f32 / 100.0 - 1.0).collect();
        }
        let indexed = ranked_all(&mut app, ev.clone()).await;
        let walked = rank(&mut app, ev.clone(), every.clone()).await;
        assert_eq!(indexed, walked, "event {e}: {ev:?}");
        found += indexed.len();
    }
    assert!(found > 100, "the events concern brands: {found}");
    app.stop().await;
}

/// The index asked directly: the exact brands it offers for each event,
/// so a test cannot pass by the walk over every brand answering instead.
#[tokio::test]
async fn the_index_offers_exactly_the_brands_an_event_names() {
    use kairos::candidates::CandidateIndex;
    use kairos::core::candidates::event_probe;
    use kairos::core::model::BrandProfile;
    use kairos::grpc::convert::event_in;
    use kairos::store::Location;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let store = kairos::store::open(Location::Embedded(dir.path()))
        .await
        .unwrap();
    let now = jiff::Timestamp::now();
    let write = async |p: BrandProfile| {
        store.upsert_profile(&p, None, now).await.unwrap();
    };
    let brand = |id: &str| BrandProfile {
        brand_id: id.into(),
        ..Default::default()
    };
    let term = |t: &str| kairos::core::model::WeightedTerm {
        term: t.into(),
        weight: 0.9,
    };
    // A handle only: the display name shares no word with it.
    write(BrandProfile {
        display_name: "Biscuit Works".into(),
        aliases: vec!["@crumbly".into()],
        ..brand("handle")
    })
    .await;
    write(BrandProfile {
        themes: vec![term("dunk in the dark")],
        ..brand("phrase")
    })
    .await;
    write(BrandProfile {
        themes: vec![term("fußball")],
        ..brand("german")
    })
    .await;
    write(BrandProfile {
        topics: vec![term("basketball")],
        ..brand("topical")
    })
    .await;
    write(BrandProfile {
        embedding: vec![0.5, 0.5, 0.0],
        ..brand("embedded")
    })
    .await;
    write(BrandProfile {
        themes: vec![term("tractor")],
        ..brand("farm")
    })
    .await;
    let index = Arc::new(CandidateIndex::new());
    assert_eq!(index.build(&*store).await.unwrap(), 6);

    let offered = |e: pb::Event| {
        let analysed = kairos::core::analyse(&event_in(&e).unwrap());
        let found = index
            .candidates(&event_probe(&analysed), &analysed.event.embedding)
            .unwrap();
        found.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(&str, pb::Event, Vec<&str>)> = vec![
        (
            "handle",
            event("thanks @crumbly for the snacks"),
            vec!["handle"],
        ),
        (
            "camel-case hashtag",
            pb::Event {
                hashtags: vec!["#DunkInTheDark".into()],
                ..event("what a night")
            },
            vec!["phrase"],
        ),
        (
            "one-case hashtag",
            pb::Event {
                hashtags: vec!["#dunkinthedark".into()],
                ..event("what a night")
            },
            vec!["phrase"],
        ),
        (
            "German text (raw form)",
            pb::Event {
                language: "de".into(),
                ..event("Fußball heute Abend im Stadion")
            },
            vec!["german"],
        ),
        (
            "topic label",
            pb::Event {
                topics: vec![pb::Topic {
                    label: "Basketball".into(),
                    confidence: 0.9,
                }],
                ..event("what a night")
            },
            vec!["topical"],
        ),
        (
            "embedding (positive cosine only)",
            pb::Event {
                embedding: vec![0.1, 0.2, 0.9],
                ..event("what a night")
            },
            vec!["embedded"],
        ),
        (
            "opposite embedding",
            pb::Event {
                embedding: vec![-1.0, -1.0, 0.0],
                ..event("what a night")
            },
            vec![],
        ),
        ("nothing shared", event("what a night"), vec![]),
    ];
    for (what, e, want) in cases {
        assert_eq!(offered(e), want, "{what}");
    }

    // Deleted and created again (its version starts again at 1) with other
    // terms: the index follows the store, not the versions.
    store.delete_profile("farm").await.unwrap();
    index.refresh(&*store, "farm").await.unwrap();
    assert!(offered(event("a tractor parade")).is_empty());
    write(BrandProfile {
        themes: vec![term("harvest")],
        ..brand("farm")
    })
    .await;
    index.refresh(&*store, "farm").await.unwrap();
    assert!(offered(event("a tractor parade")).is_empty());
    assert_eq!(offered(event("the harvest festival")), ["farm"]);
    // An event addressed to the brand concerns every brand: no narrowing.
    let mut addressed = event("my order never arrived");
    addressed.addressed_to_brand = true;
    let analysed = kairos::core::analyse(&event_in(&addressed).unwrap());
    assert!(index.candidates(&event_probe(&analysed), &[]).is_none());
    store.close().await;
}
