//! ScoringService over gRPC: Score, ScoreBatch, ScoreStream, RankBrands.

use kairos::grpc::pb;
use pb::{Decision, EngagementMode, ReasonCode};
use tonic::Code;

use crate::helpers::{
    blackout_moment, codes, complaint, cookie_brand, profile, spawn_app, ts, violated_field,
};

fn score_req(event: pb::Event, brand_id: &str, now: &str) -> pb::ScoreRequest {
    pb::ScoreRequest {
        request_id: format!("req-{}", event.id),
        event: Some(event),
        brand_id: brand_id.into(),
        now: Some(ts(now)),
        log_decision: false,
        view: 0,
    }
}

#[tokio::test]
async fn score_returns_an_explained_assessment() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let now = "2026-02-03T20:40:00Z";
    let a = app
        .scoring
        .score(score_req(
            blackout_moment("ev-1", "2026-02-03T20:38:00Z"),
            "crumbly",
            now,
        ))
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert!(
        matches!(a.decision(), Decision::Engage | Decision::Review),
        "{a:?}"
    );
    assert_eq!(a.recommended_mode(), EngagementMode::Newsjack);
    assert!(
        codes(&a).contains(&ReasonCode::ThemeMatch),
        "{:?}",
        codes(&a)
    );
    assert!(a.reasons.iter().any(|r| r.detail.contains("dark")));
    assert_eq!(a.event_id, "ev-1");
    assert_eq!(a.request_id, "req-ev-1");
    assert_eq!(a.brand_id, "crumbly");
    assert_eq!(a.profile_version, 1);
    assert!(!a.model_version.is_empty());
    assert!(a.decision_id.starts_with("d_"));
    assert_eq!(a.assessed_at, Some(ts(now)));
    assert!(a.respond_by.is_some() && a.max_review_latency.is_some());
    for s in [
        a.relevance(),
        a.timing(),
        a.intrusiveness_risk(),
        a.opportunity(),
        a.confidence(),
    ] {
        assert!((0.0..=1.0).contains(&s));
    }
    app.stop().await;
}

#[tokio::test]
async fn same_request_same_assessment_except_decision_id() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let req = score_req(
        complaint("c-1", "ann", "2026-02-03T20:00:00Z"),
        "crumbly",
        "2026-02-03T20:01:00Z",
    );
    let mut a = app
        .scoring
        .score(req.clone())
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    let mut b = app
        .scoring
        .score(req)
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert_ne!(a.decision_id, b.decision_id);
    a.decision_id.clear();
    b.decision_id.clear();
    assert_eq!(a, b);
    app.stop().await;
}

/// One event scored for several brands is analysed once; an edited event
/// is analysed again; and what the cache serves is exactly what a server
/// without it computes.
#[tokio::test]
async fn repeated_events_reuse_their_analysis_without_changing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = kairos::config::ServeConfig::for_tests(dir.path().to_path_buf());
    config.event_cache_mb = 0;
    let mut uncached = crate::helpers::spawn_app_with(config).await;
    let mut app = spawn_app().await;
    for a in [&mut app, &mut uncached] {
        a.upsert(cookie_brand("crumbly"), None).await.unwrap();
        a.upsert(cookie_brand("crunchy"), None).await.unwrap();
    }
    let now = "2026-02-03T20:40:00Z";
    let moment = blackout_moment("ev-1", "2026-02-03T20:38:00Z");
    let mut edited = moment.clone();
    edited.text.push_str(" Crumbs everywhere.");
    let calls = [
        (moment.clone(), "crumbly"),
        (moment.clone(), "crunchy"),
        (moment, "crumbly"),
        (edited, "crumbly"),
    ];
    for (event, brand) in calls {
        let mut answers = Vec::new();
        for a in [&mut app, &mut uncached] {
            let mut got = a
                .scoring
                .score(score_req(event.clone(), brand, now))
                .await
                .unwrap()
                .into_inner()
                .assessment
                .unwrap();
            got.decision_id.clear();
            answers.push(got);
        }
        assert_eq!(answers[0], answers[1], "{brand}: {}", event.text);
    }
    assert_eq!(app.metrics.event_analyses.get(), 2);
    assert_eq!(app.metrics.event_analyses_reused.get(), 2);
    assert_eq!(uncached.metrics.event_analyses.get(), 4);
    assert_eq!(uncached.metrics.event_analyses_reused.get(), 0);
    app.stop().await;
    uncached.stop().await;
}

#[tokio::test]
async fn a_profile_write_changes_the_next_score() {
    let mut app = spawn_app().await;
    let mut p = cookie_brand("crumbly");
    p.themes.retain(|t| t.term == "snack");
    app.upsert(p, None).await.unwrap();
    let req = score_req(
        blackout_moment("ev-1", "2026-02-03T20:38:00Z"),
        "crumbly",
        "2026-02-03T20:40:00Z",
    );
    let before = app
        .scoring
        .score(req.clone())
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert_eq!(before.decision(), Decision::Decline);
    assert!(codes(&before).contains(&ReasonCode::OffPlatform));

    // Through the same server: the cached compiled profile must not survive.
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let after = app
        .scoring
        .score(req)
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert_eq!(after.profile_version, 2);
    assert!(after.relevance() > before.relevance());
    assert_ne!(after.decision(), Decision::Decline);
    app.stop().await;
}

#[tokio::test]
async fn score_errors_name_the_field() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let good = || {
        score_req(
            complaint("c", "ann", "2026-02-03T20:00:00Z"),
            "crumbly",
            "2026-02-03T20:01:00Z",
        )
    };

    let unknown = app
        .scoring
        .score(pb::ScoreRequest {
            brand_id: "nobody".into(),
            ..good()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    type Edit = fn(&mut pb::ScoreRequest);
    let cases: &[(&str, Edit)] = &[
        ("brand_id", |r| r.brand_id = "Not Valid".into()),
        ("event", |r| r.event = None),
        ("event.kind", |r| r.event.as_mut().unwrap().kind = 0),
        ("event.occurred_at", |r| {
            r.event.as_mut().unwrap().occurred_at = None
        }),
        ("event.id", |r| r.event.as_mut().unwrap().id.clear()),
        ("event.sentiment", |r| {
            r.event.as_mut().unwrap().sentiment = Some(3.0)
        }),
        ("event.audience_time_zone", |r| {
            r.event.as_mut().unwrap().audience_time_zone = "Nowhere/City".into()
        }),
        ("event.author.bot_likelihood", |r| {
            r.event
                .as_mut()
                .unwrap()
                .author
                .as_mut()
                .unwrap()
                .bot_likelihood = 1.5
        }),
        ("event.topics[0].confidence", |r| {
            r.event.as_mut().unwrap().topics = vec![pb::Topic {
                label: "food".into(),
                confidence: -1.0,
            }]
        }),
        ("event.text", |r| {
            r.event.as_mut().unwrap().text = "x".repeat(20_001)
        }),
        ("now", |r| {
            r.now = Some(prost_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            })
        }),
    ];
    for (field, edit) in cases {
        let mut req = good();
        edit(&mut req);
        let status = app.scoring.score(req).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violated_field(&status).as_deref(), Some(*field));
    }
    app.stop().await;
}

#[tokio::test]
async fn batch_is_event_major_with_per_pair_errors() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    app.upsert(profile("zeta"), None).await.unwrap();
    let mut bad = complaint("bad", "bo", "2026-02-03T20:00:00Z");
    bad.occurred_at = None;
    let resp = app
        .scoring
        .score_batch(pb::ScoreBatchRequest {
            events: vec![
                blackout_moment("ev-1", "2026-02-03T20:38:00Z"),
                bad,
                complaint("c-1", "ann", "2026-02-03T20:38:00Z"),
            ],
            brand_ids: vec!["crumbly".into(), "nobody".into(), "zeta".into()],
            now: Some(ts("2026-02-03T20:40:00Z")),
            log_decision: false,
            view: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.results.len(), 9);
    let order: Vec<(&str, &str)> = resp
        .results
        .iter()
        .map(|r| (r.event_id.as_str(), r.brand_id.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("ev-1", "crumbly"),
            ("ev-1", "nobody"),
            ("ev-1", "zeta"),
            ("bad", "crumbly"),
            ("bad", "nobody"),
            ("bad", "zeta"),
            ("c-1", "crumbly"),
            ("c-1", "nobody"),
            ("c-1", "zeta"),
        ]
    );
    use pb::pair_result::Result as R;
    for (i, r) in resp.results.iter().enumerate() {
        match (i / 3, i % 3, r.result.as_ref().unwrap()) {
            (1, _, R::Error(e)) => {
                assert_eq!(e.code, Code::InvalidArgument as i32);
                assert_eq!(e.field, "events[1].occurred_at");
            }
            (_, 1, R::Error(e)) => assert_eq!(e.code, Code::NotFound as i32),
            (_, _, R::Assessment(a)) => assert_eq!(a.event_id, r.event_id),
            other => panic!("unexpected result at {i}: {other:?}"),
        }
    }

    // Batch and Score agree on the same pair.
    let single = app
        .scoring
        .score(score_req(
            complaint("c-1", "ann", "2026-02-03T20:38:00Z"),
            "crumbly",
            "2026-02-03T20:40:00Z",
        ))
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    let Some(R::Assessment(batched)) = resp.results[6].result.as_ref() else {
        panic!()
    };
    assert_eq!(batched.decision, single.decision);
    assert_eq!(batched.opportunity(), single.opportunity());

    let too_many = app
        .scoring
        .score_batch(pb::ScoreBatchRequest {
            events: vec![complaint("c", "a", "2026-02-03T20:00:00Z"); 200],
            brand_ids: (0..100).map(|i| format!("b{i}")).collect(),
            now: None,
            log_decision: false,
            view: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn stream_answers_each_request_in_order_and_survives_bad_items() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let item = |id: &str, brand: &str| pb::ScoreStreamRequest {
        request_id: id.into(),
        event: Some(complaint(id, "ann", "2026-02-03T20:00:00Z")),
        brand_id: brand.into(),
        now: Some(ts("2026-02-03T20:01:00Z")),
        log_decision: false,
        view: 0,
    };
    let items = vec![
        item("r1", "crumbly"),
        item("r2", "nobody"),
        item("r3", "Bad Id"),
        item("r4", "crumbly"),
    ];
    let mut out = app
        .scoring
        .score_stream(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(msg) = out.message().await.unwrap() {
        got.push(msg);
    }
    let ids: Vec<&str> = got.iter().map(|m| m.request_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3", "r4"]);
    use pb::score_stream_response::Result as R;
    assert!(matches!(got[0].result, Some(R::Assessment(ref a)) if a.request_id == "r1"));
    assert!(matches!(got[1].result, Some(R::Error(ref e)) if e.code == Code::NotFound as i32));
    assert!(matches!(got[2].result, Some(R::Error(ref e)) if e.field == "brand_id"));
    assert!(matches!(got[3].result, Some(R::Assessment(_))));
    app.stop().await;
}

#[tokio::test]
async fn rank_brands_orders_by_opportunity() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let mut weaker = cookie_brand("crumbs-lite");
    weaker.themes.retain(|t| t.term == "dark");
    app.upsert(weaker, None).await.unwrap();
    for i in 0..5 {
        app.upsert(profile(&format!("other-{i}")), None)
            .await
            .unwrap();
    }
    let req = |brand_ids: Vec<String>, k: u32| pb::RankBrandsRequest {
        event: Some(blackout_moment("ev-1", "2026-02-03T20:38:00Z")),
        brand_ids,
        k,
        now: Some(ts("2026-02-03T20:40:00Z")),
        log_decision: false,
        view: 0,
    };
    // Empty list = every stored brand; only those the moment concerns
    // (opportunity above zero) are ranked, never padded with the rest.
    let all = app
        .scoring
        .rank_brands(req(vec![], 0))
        .await
        .unwrap()
        .into_inner()
        .ranked;
    let ids: Vec<&str> = all.iter().map(|a| a.brand_id.as_str()).collect();
    assert_eq!(ids, ["crumbly", "crumbs-lite"]);
    assert!(all.iter().all(|a| a.opportunity() > 0.0));
    for w in all.windows(2) {
        assert!(
            w[0].opportunity() > w[1].opportunity()
                || (w[0].opportunity() == w[1].opportunity() && w[0].brand_id < w[1].brand_id),
            "not ordered: {} {} / {} {}",
            w[0].brand_id,
            w[0].opportunity(),
            w[1].brand_id,
            w[1].opportunity()
        );
    }
    let top2 = app
        .scoring
        .rank_brands(req(
            vec!["other-1".into(), "crumbly".into(), "nobody".into()],
            1,
        ))
        .await
        .unwrap()
        .into_inner()
        .ranked;
    assert_eq!(top2.len(), 1);
    assert_eq!(top2[0].brand_id, "crumbly");
    let bad_k = app
        .scoring
        .rank_brands(req(vec![], 5000))
        .await
        .unwrap_err();
    assert_eq!(violated_field(&bad_k).as_deref(), Some("k"));
    app.stop().await;
}

#[tokio::test]
async fn a_stream_whose_reader_stalls_stops_reading_requests() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let total = 15_000;
    let sent = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let producer = {
        let sent = sent.clone();
        tokio::spawn(async move {
            for i in 0..total {
                let ev = complaint(&format!("c{i}"), "ann", "2026-02-03T20:00:00Z");
                let req = pb::ScoreStreamRequest {
                    request_id: i.to_string(),
                    event: Some(ev),
                    brand_id: "crumbly".into(),
                    now: Some(ts("2026-02-03T20:01:00Z")),
                    log_decision: false,
                    view: 0,
                };
                if tx.send(req).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let mut out = app
        .scoring
        .score_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    // Read nothing until the producer stops making progress.
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last || now == total {
            break;
        }
        last = now;
    }
    let stalled_at = sent.load(Ordering::SeqCst);
    eprintln!("producer stalled after {stalled_at} of {total} requests");
    assert!(
        stalled_at < total,
        "the server kept reading {total} requests while nobody read responses"
    );
    // Reading resumes the flow, and every request gets its answer in order.
    let mut got = 0;
    while let Some(msg) = out.message().await.unwrap() {
        assert_eq!(msg.request_id, got.to_string());
        got += 1;
        if got == total {
            break;
        }
    }
    producer.await.unwrap();
    assert_eq!(got, total);
    app.stop().await;
}

#[tokio::test]
async fn rank_brands_pages_through_many_stored_brands() {
    let mut app = spawn_app().await;
    // 700 brands: more than one internal page, big pages off the reactor.
    let mut items: Vec<pb::ImportBrandProfilesRequest> = (0..699)
        .map(|i| pb::ImportBrandProfilesRequest {
            profile: Some(profile(&format!("filler-{i:04}"))),
        })
        .collect();
    items.push(pb::ImportBrandProfilesRequest {
        profile: Some(cookie_brand("zz-crumbly")),
    });
    let resp = app
        .profiles
        .import_brand_profiles(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.created, 700);
    let ranked = app
        .scoring
        .rank_brands(pb::RankBrandsRequest {
            event: Some(blackout_moment("ev-1", "2026-02-03T20:38:00Z")),
            brand_ids: vec![],
            k: 3,
            now: Some(ts("2026-02-03T20:40:00Z")),
            log_decision: false,
            view: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .ranked;
    let ids: Vec<&str> = ranked.iter().map(|a| a.brand_id.as_str()).collect();
    assert_eq!(ids, ["zz-crumbly"], "found through the index");
    // An event addressed to the brand concerns every brand: no index
    // narrows it, and every stored brand is walked, page by page.
    let mut addressed = complaint("c1", "ann", "2026-02-03T20:38:00Z");
    addressed.addressed_to_brand = true;
    let ranked = app
        .scoring
        .rank_brands(pb::RankBrandsRequest {
            event: Some(addressed),
            brand_ids: vec![],
            k: 1000,
            now: Some(ts("2026-02-03T20:40:00Z")),
            log_decision: false,
            view: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .ranked;
    assert_eq!(ranked.len(), 700);
    assert!(
        ranked.iter().any(|a| a.brand_id == "zz-crumbly"),
        "the last brand of the last page still ranks"
    );
    app.stop().await;
}

/// A brand of 20 one-word themes from a vocabulary of 2,000: an event of 30
/// such words concerns about a quarter of the brands, as in bulk scoring.
fn bulk_brand(i: usize) -> pb::BrandProfile {
    let mut p = crate::helpers::profile(&format!("brand-{i:06}"));
    p.display_name = format!("Brand {i:06}");
    p.themes = (0..20)
        .map(|t| pb::WeightedTerm {
            term: format!("w{:05}", (i * 37 + t * 101) % 2000),
            weight: 0.5,
        })
        .collect();
    p
}

#[tokio::test]
async fn the_compact_view_answers_a_batch_with_the_same_numbers_in_a_fraction_of_the_bytes() {
    use prost::Message;
    let mut app = spawn_app().await;
    for i in 0..100 {
        app.upsert(bulk_brand(i), None).await.unwrap();
    }
    let events: Vec<pb::Event> = (0..10)
        .map(|e| pb::Event {
            id: format!("c{e}"),
            kind: pb::EventKind::TrendingTopic as i32,
            text: (0..30)
                .map(|w| format!("w{:05}", (e * 331 + w * 67) % 2000))
                .collect::<Vec<_>>()
                .join(" "),
            occurred_at: Some(ts("2026-03-10T20:00:00Z")),
            ..Default::default()
        })
        .collect();
    let request = |view: pb::AssessmentView| pb::ScoreBatchRequest {
        events: events.clone(),
        brand_ids: (0..100).map(|i| format!("brand-{i:06}")).collect(),
        now: Some(ts("2026-03-10T20:01:40Z")),
        log_decision: false,
        view: view as i32,
    };
    let full = app
        .scoring
        .score_batch(request(pb::AssessmentView::Unspecified))
        .await
        .unwrap()
        .into_inner();
    let compact = app
        .scoring
        .score_batch(request(pb::AssessmentView::Compact))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(compact.results.len(), 1000);
    let assessment = |r: &pb::PairResult| match &r.result {
        Some(pb::pair_result::Result::Assessment(a)) => a.clone(),
        other => panic!("{other:?}"),
    };
    let mut engaged = 0;
    for (f, c) in full.results.iter().zip(&compact.results) {
        let (f, c) = (assessment(f), assessment(c));
        assert_eq!(
            (f.decision, f.recommended_mode, f.relevance(), f.timing()),
            (c.decision, c.recommended_mode, c.relevance(), c.timing())
        );
        assert_eq!(
            (f.intrusiveness_risk(), f.opportunity(), f.confidence()),
            (c.intrusiveness_risk(), c.opportunity(), c.confidence())
        );
        assert_eq!(
            (&f.respond_by, &f.max_review_latency),
            (&c.respond_by, &c.max_review_latency)
        );
        let codes = |a: &pb::Assessment| {
            a.reasons
                .iter()
                .map(|r| (r.code, r.factor, r.contribution))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&f), codes(&c));
        assert!(c.reasons.iter().all(|r| r.detail.is_empty()));
        assert!(c.model_version.is_empty() && c.assessed_at.is_none());
        assert!(
            c.event_id.is_empty() && c.brand_id.is_empty(),
            "named by the pair"
        );
        assert!(!f.decision_id.is_empty() && !c.decision_id.is_empty());
        engaged += usize::from(f.decision() != Decision::Decline);
    }
    assert!(engaged > 0, "the batch exercises more than declines");
    let per_pair = |r: &pb::ScoreBatchResponse| r.encoded_len() / r.results.len();
    eprintln!(
        "bytes per pair: FULL {}, COMPACT {}",
        per_pair(&full),
        per_pair(&compact)
    );
    assert!(
        per_pair(&compact) <= 150,
        "{} bytes a pair",
        per_pair(&compact)
    );
    app.stop().await;
}
