//! GuardrailService over gRPC: blackouts, engagements and frequency caps,
//! the decision log.

use kairos::config::ServeConfig;
use kairos::grpc::pb;
use pb::{Decision, ReasonCode};
use tonic::Code;

use crate::helpers::{
    blackout_moment, codes, complaint, cookie_brand, spawn_app, spawn_app_in, spawn_app_with, ts,
    violated_field,
};

fn blackout(scope: pb::BlackoutScope) -> pb::Blackout {
    pb::Blackout {
        scope: scope as i32,
        reason: "breaking tragedy: all real-time activity paused".into(),
        ..Default::default()
    }
}

async fn score(
    app: &mut crate::helpers::TestApp,
    event: pb::Event,
    brand: &str,
    now: &str,
) -> pb::Assessment {
    app.scoring
        .score(pb::ScoreRequest {
            request_id: String::new(),
            event: Some(event),
            brand_id: brand.into(),
            now: Some(ts(now)),
            log_decision: false,
            view: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap()
}

/// Every logged decision id, newest first, walking pages of `page_size`.
async fn all_decision_ids(app: &mut crate::helpers::TestApp, page_size: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .guardrails
            .list_decisions(pb::ListDecisionsRequest {
                page_size,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        ids.extend(
            page.decisions
                .into_iter()
                .map(|d| d.assessment.unwrap().decision_id),
        );
        if page.next_page_token.is_empty() {
            return ids;
        }
        token = page.next_page_token;
    }
}

async fn create(app: &mut crate::helpers::TestApp, b: pb::Blackout) -> pb::Blackout {
    app.guardrails
        .create_blackout(pb::CreateBlackoutRequest { blackout: Some(b) })
        .await
        .unwrap()
        .into_inner()
        .blackout
        .unwrap()
}

#[tokio::test]
async fn a_blackout_created_mid_stream_changes_the_very_next_assessment() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut out = app
        .scoring
        .score_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let item = |id: &str| pb::ScoreStreamRequest {
        request_id: id.into(),
        event: Some(complaint(id, "ann", "2026-02-03T20:00:00Z")),
        brand_id: "crumbly".into(),
        now: None,
        log_decision: false,
        view: 0,
    };
    use pb::score_stream_response::Result as R;
    tx.send(item("before")).await.unwrap();
    let Some(R::Assessment(before)) = out.message().await.unwrap().unwrap().result else {
        panic!("no assessment")
    };
    assert!(!codes(&before).contains(&ReasonCode::BlackoutActive));

    let b = create(&mut app, blackout(pb::BlackoutScope::Global)).await;
    assert!(!b.id.is_empty());

    tx.send(item("after")).await.unwrap();
    let Some(R::Assessment(after)) = out.message().await.unwrap().unwrap().result else {
        panic!("no assessment")
    };
    assert_eq!(after.decision(), Decision::Decline);
    let reason = after
        .reasons
        .iter()
        .find(|r| r.code() == ReasonCode::BlackoutActive)
        .expect("BLACKOUT_ACTIVE");
    assert!(reason.detail.contains(&b.id), "{}", reason.detail);
    drop(tx);
    app.stop().await;
}

#[tokio::test]
async fn blackouts_apply_only_inside_their_window_and_scope() {
    let mut app = spawn_app().await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    app.upsert(cookie_brand("other"), None).await.unwrap();
    let ev = || complaint("c", "ann", "2026-02-03T20:00:00Z");

    let mut windowed = blackout(pb::BlackoutScope::Brand);
    windowed.brand_id = "crumbly".into();
    windowed.starts_at = Some(ts("2026-02-03T20:00:00Z"));
    windowed.ends_at = Some(ts("2026-02-03T22:00:00Z"));
    create(&mut app, windowed).await;

    let during = score(&mut app, ev(), "crumbly", "2026-02-03T20:05:00Z").await;
    assert_eq!(during.decision(), Decision::Decline);
    assert!(codes(&during).contains(&ReasonCode::BlackoutActive));
    // Another brand is not paused.
    let other = score(&mut app, ev(), "other", "2026-02-03T20:05:00Z").await;
    assert!(!codes(&other).contains(&ReasonCode::BlackoutActive));
    // Before it starts and after it ends (exclusive), it does not apply.
    for now in ["2026-02-03T19:59:59Z", "2026-02-03T22:00:00Z"] {
        let a = score(&mut app, ev(), "crumbly", now).await;
        assert!(!codes(&a).contains(&ReasonCode::BlackoutActive), "{now}");
    }

    // Without starts_at, the switch pauses every request from its creation
    // on, even one whose `now` lags behind (a replay, a late queue).
    let mut since_creation = blackout(pb::BlackoutScope::Brand);
    since_creation.brand_id = "other".into();
    let switch = create(&mut app, since_creation).await;
    let lagging = score(&mut app, ev(), "other", "2026-02-03T20:05:00Z").await;
    assert!(codes(&lagging).contains(&ReasonCode::BlackoutActive));
    let live = score(&mut app, ev(), "other", &jiff::Timestamp::now().to_string()).await;
    assert!(codes(&live).contains(&ReasonCode::BlackoutActive));
    app.guardrails
        .delete_blackout(pb::DeleteBlackoutRequest { id: switch.id })
        .await
        .unwrap();

    // TOPIC: terms in the event's text.
    let mut topic = blackout(pb::BlackoutScope::Topic);
    topic.terms = vec!["power outage".into()];
    topic.starts_at = Some(ts("2026-02-03T00:00:00Z"));
    create(&mut app, topic).await;
    let mut ev2 = blackout_moment("m", "2026-02-03T20:00:00Z");
    ev2.text = "Massive power outage downtown".into();
    let a = score(&mut app, ev2, "other", "2026-02-03T20:01:00Z").await;
    assert!(codes(&a).contains(&ReasonCode::BlackoutActive));

    // REGION: case-insensitive on audience_region.
    let mut region = blackout(pb::BlackoutScope::Region);
    region.region = "us-tx".into();
    region.starts_at = Some(ts("2026-02-03T00:00:00Z"));
    create(&mut app, region).await;
    let mut ev3 = ev();
    ev3.audience_region = "US-TX".into();
    let a = score(&mut app, ev3, "other", "2026-02-03T20:01:00Z").await;
    assert!(codes(&a).contains(&ReasonCode::BlackoutActive));
    let mut ev4 = ev();
    ev4.audience_region = "US-CA".into();
    let a = score(&mut app, ev4, "other", "2026-02-03T20:01:00Z").await;
    assert!(!codes(&a).contains(&ReasonCode::BlackoutActive));
    app.stop().await;
}

#[tokio::test]
async fn blackouts_are_listed_deleted_and_validated() {
    let mut app = spawn_app().await;
    let mut expired = blackout(pb::BlackoutScope::Global);
    expired.starts_at = Some(ts("2020-01-01T00:00:00Z"));
    expired.ends_at = Some(ts("2020-01-02T00:00:00Z"));
    let expired = create(&mut app, expired).await;
    let live = create(&mut app, blackout(pb::BlackoutScope::Global)).await;

    let list = |include_expired| pb::ListBlackoutsRequest {
        include_expired,
        page_size: 0,
        page_token: String::new(),
    };
    let current = app
        .guardrails
        .list_blackouts(list(false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        current.blackouts.iter().map(|b| &b.id).collect::<Vec<_>>(),
        [&live.id]
    );
    let all = app
        .guardrails
        .list_blackouts(list(true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.blackouts.len(), 2);
    assert_eq!(all.blackouts[0].id, live.id, "newest first");

    // Paging one at a time visits both.
    let page1 = app
        .guardrails
        .list_blackouts(pb::ListBlackoutsRequest {
            include_expired: true,
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let page2 = app
        .guardrails
        .list_blackouts(pb::ListBlackoutsRequest {
            include_expired: true,
            page_size: 1,
            page_token: page1.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page2.blackouts[0].id, expired.id);
    assert!(page2.next_page_token.is_empty());

    app.guardrails
        .delete_blackout(pb::DeleteBlackoutRequest {
            id: live.id.clone(),
        })
        .await
        .unwrap();
    let again = app
        .guardrails
        .delete_blackout(pb::DeleteBlackoutRequest { id: live.id })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);

    type Edit = fn(&mut pb::Blackout);
    let cases: &[(&str, Edit)] = &[
        ("blackout.scope", |b| b.scope = 0),
        ("blackout.reason", |b| b.reason = " ".into()),
        ("blackout.brand_id", |b| {
            b.scope = pb::BlackoutScope::Brand as i32
        }),
        ("blackout.terms", |b| {
            b.scope = pb::BlackoutScope::Topic as i32
        }),
        ("blackout.region", |b| {
            b.scope = pb::BlackoutScope::Region as i32
        }),
        ("blackout.ends_at", |b| {
            b.starts_at = Some(ts("2026-01-02T00:00:00Z"));
            b.ends_at = Some(ts("2026-01-01T00:00:00Z"));
        }),
    ];
    for (field, edit) in cases {
        let mut b = blackout(pb::BlackoutScope::Global);
        edit(&mut b);
        let status = app
            .guardrails
            .create_blackout(pb::CreateBlackoutRequest { blackout: Some(b) })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(violated_field(&status).as_deref(), Some(*field));
    }
    app.stop().await;
}

async fn engage(app: &mut crate::helpers::TestApp, author: &str, at: &str) {
    app.guardrails
        .record_engagement(pb::RecordEngagementRequest {
            engagement: Some(pb::Engagement {
                brand_id: "crumbly".into(),
                author_id: author.into(),
                conversation_id: format!("conv-{author}"),
                event_id: "e".into(),
                mode: pb::EngagementMode::CustomerCare as i32,
                at: Some(ts(at)),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn per_author_caps_count_the_audience_local_day() {
    let mut app = spawn_app().await;
    let mut p = cookie_brand("crumbly");
    p.frequency_caps = Some(pb::FrequencyCaps {
        per_author_per_day: 1,
        ..Default::default()
    });
    app.upsert(p, None).await.unwrap();

    // 23:50 in New York on Feb 3 (04:50Z Feb 4).
    engage(&mut app, "ann", "2026-02-04T04:50:00Z").await;

    // 23:55 the same local day: capped.
    let ev = complaint("c1", "ann", "2026-02-04T04:54:00Z");
    let same_day = score(&mut app, ev.clone(), "crumbly", "2026-02-04T04:55:00Z").await;
    assert_ne!(same_day.decision(), Decision::Engage);
    let cap = same_day
        .reasons
        .iter()
        .find(|r| r.code() == ReasonCode::FrequencyCap)
        .expect("FREQUENCY_CAP");
    assert!(cap.detail.contains('1'), "{}", cap.detail);

    // Another author is not capped.
    let other = score(
        &mut app,
        complaint("c2", "bob", "2026-02-04T04:54:00Z"),
        "crumbly",
        "2026-02-04T04:55:00Z",
    )
    .await;
    assert!(!codes(&other).contains(&ReasonCode::FrequencyCap));

    // 00:10 the next local day (05:10Z): a new day, no cap.
    let next_day = score(
        &mut app,
        complaint("c3", "ann", "2026-02-04T05:09:00Z"),
        "crumbly",
        "2026-02-04T05:10:00Z",
    )
    .await;
    assert!(
        !codes(&next_day).contains(&ReasonCode::FrequencyCap),
        "{:?}",
        codes(&next_day)
    );
    assert_eq!(next_day.decision(), Decision::Engage);
    app.stop().await;
}

#[tokio::test]
async fn per_brand_hourly_cap_and_unknown_brand() {
    let mut app = spawn_app().await;
    let mut p = cookie_brand("crumbly");
    p.frequency_caps = Some(pb::FrequencyCaps {
        per_brand_per_hour: 2,
        ..Default::default()
    });
    app.upsert(p, None).await.unwrap();
    engage(&mut app, "a", "2026-02-03T19:10:00Z").await;
    engage(&mut app, "b", "2026-02-03T19:50:00Z").await;
    let capped = score(
        &mut app,
        complaint("c", "z", "2026-02-03T19:59:00Z"),
        "crumbly",
        "2026-02-03T20:00:00Z",
    )
    .await;
    assert!(codes(&capped).contains(&ReasonCode::FrequencyCap));
    // Sixty minutes later the first has aged out.
    let later = score(
        &mut app,
        complaint("c", "z", "2026-02-03T20:14:00Z"),
        "crumbly",
        "2026-02-03T20:15:00Z",
    )
    .await;
    assert!(!codes(&later).contains(&ReasonCode::FrequencyCap));

    let unknown = app
        .guardrails
        .record_engagement(pb::RecordEngagementRequest {
            engagement: Some(pb::Engagement {
                brand_id: "nobody".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn decisions_are_logged_queried_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_app_in(dir.path()).await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    app.upsert(cookie_brand("other"), None).await.unwrap();
    let mut ids = Vec::new();
    for (i, (brand, minute)) in [("crumbly", 1), ("other", 2), ("crumbly", 3), ("crumbly", 4)]
        .iter()
        .enumerate()
    {
        let a = app
            .scoring
            .score(pb::ScoreRequest {
                request_id: format!("r{i}"),
                event: Some(complaint(&format!("c{i}"), "ann", "2026-02-03T20:00:00Z")),
                brand_id: brand.to_string(),
                now: Some(ts(&format!("2026-02-03T20:0{minute}:00Z"))),
                log_decision: true,
                view: 0,
            })
            .await
            .unwrap()
            .into_inner()
            .assessment
            .unwrap();
        assert!(a.decision_logged);
        ids.push(a.decision_id);
    }
    // Not asked to log: not logged.
    let unlogged = score(
        &mut app,
        complaint("x", "ann", "2026-02-03T20:00:00Z"),
        "crumbly",
        "2026-02-03T20:05:00Z",
    )
    .await;
    assert!(!unlogged.decision_logged);
    // The writer is asynchronous; a graceful stop flushes it.
    app.stop().await;

    let mut app = spawn_app_in(dir.path()).await;
    let list = |q: pb::ListDecisionsRequest| q;
    let all = app
        .guardrails
        .list_decisions(list(pb::ListDecisionsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .decisions;
    let got: Vec<&str> = all
        .iter()
        .map(|d| d.assessment.as_ref().unwrap().decision_id.as_str())
        .collect();
    let want: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(got, want, "newest first");
    let first = &all[3];
    assert_eq!(first.assessment.as_ref().unwrap().request_id, "r0");
    assert_eq!(first.event_digest.len(), 64);
    assert!(first.decided_at.is_some());

    let crumbly = app
        .guardrails
        .list_decisions(pb::ListDecisionsRequest {
            brand_id: "crumbly".into(),
            since: Some(ts("2026-02-03T20:02:00Z")),
            until: Some(ts("2026-02-03T20:04:00Z")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .decisions;
    assert_eq!(crumbly.len(), 1);
    assert_eq!(crumbly[0].assessment.as_ref().unwrap().decision_id, ids[2]);

    let declines = app
        .guardrails
        .list_decisions(pb::ListDecisionsRequest {
            decision: Decision::Decline as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .decisions;
    assert!(declines.is_empty());

    // Pages of one walk all four.
    let walked = all_decision_ids(&mut app, 1).await;
    assert_eq!(walked, ids.iter().rev().cloned().collect::<Vec<_>>());
    app.stop().await;
}

#[tokio::test]
async fn a_flooded_log_keeps_everything_it_accepted_and_counts_drops() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.decision_log_queue = 2;
    let mut app = spawn_app_with(config).await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let n = 400;
    let resp = app
        .scoring
        .score_batch(pb::ScoreBatchRequest {
            events: (0..n)
                .map(|i| complaint(&format!("c{i}"), "ann", "2026-02-03T20:00:00Z"))
                .collect(),
            brand_ids: vec!["crumbly".into()],
            now: Some(ts("2026-02-03T20:01:00Z")),
            log_decision: true,
            view: 0,
        })
        .await
        .unwrap()
        .into_inner();
    use pb::pair_result::Result as R;
    let accepted: Vec<String> = resp
        .results
        .iter()
        .filter_map(|r| match &r.result {
            Some(R::Assessment(a)) if a.decision_logged => Some(a.decision_id.clone()),
            _ => None,
        })
        .collect();
    let metrics = app.metrics.clone();
    let dropped = metrics.decisions_dropped.get();
    assert_eq!(accepted.len() as u64 + dropped, n as u64);
    assert!(
        dropped > 0,
        "a queue of 2 should overflow under a batch of {n}"
    );
    app.stop().await;

    let mut app = spawn_app_in(dir.path()).await;
    let mut stored = all_decision_ids(&mut app, 1000).await;
    stored.sort();
    let mut want = accepted;
    want.sort();
    assert_eq!(
        stored, want,
        "every accepted record, and only those, was written"
    );
    app.stop().await;
}
