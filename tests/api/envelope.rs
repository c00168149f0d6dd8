//! The envelope around every RPC: load shedding, deadlines, message and
//! field limits, time sanity, connection limits, and what refuses to start.

use std::time::Duration;

use kairos::app::AppError;
use kairos::config::ServeConfig;
use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use kairos::grpc::pb::scoring_service_client::ScoringServiceClient;
use kairos::metrics::Rejection;
use tokio::io::AsyncReadExt;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{complaint, cookie_brand, error_reason, ts, violated_field};
use crate::security::Server;

async fn load_brands(server: &Server, n: usize) -> Vec<String> {
    let mut profiles = BrandProfileServiceClient::new(server.plain_channel().await);
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("brand-{i:03}");
        // An explicit deadline: some servers here run with a tiny default.
        let mut req = tonic::Request::new(pb::UpsertBrandProfileRequest {
            profile: Some(cookie_brand(&id)),
            expected_version: None,
        });
        req.set_timeout(Duration::from_secs(30));
        profiles.upsert_brand_profile(req).await.unwrap();
        ids.push(id);
    }
    ids
}

fn big_batch(brand_ids: &[String], events: usize) -> pb::ScoreBatchRequest {
    pb::ScoreBatchRequest {
        events: (0..events)
            .map(|i| complaint(&format!("ev-{i}"), "ann", "2026-02-03T20:00:00Z"))
            .collect(),
        brand_ids: brand_ids.to_vec(),
        now: Some(ts("2026-02-03T20:02:00Z")),
        log_decision: false,
        view: 0,
    }
}

#[tokio::test]
async fn a_burst_far_above_max_in_flight_is_shed_fast_while_admitted_calls_complete() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.max_in_flight = Some(2);
    let server = Server::start(config).await.unwrap();
    let brands = load_brands(&server, 50).await;
    let request = big_batch(&brands, 40);
    let channel = server.plain_channel().await;
    let calls = (0..48).map(|_| {
        let mut client = ScoringServiceClient::new(channel.clone());
        let request = request.clone();
        tokio::spawn(async move { client.score_batch(request).await })
    });
    let results = futures_join(calls).await;
    let mut ok = 0;
    let mut shed = 0;
    for r in results {
        match r {
            Ok(resp) => {
                assert_eq!(resp.into_inner().results.len(), 40 * 50);
                ok += 1;
            }
            Err(s) => {
                assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
                assert_eq!(error_reason(&s).as_deref(), Some("OVERLOADED"));
                assert!(s.get_details_retry_info().is_some(), "RetryInfo");
                shed += 1;
            }
        }
    }
    assert!(ok >= 2, "admitted calls completed: {ok}");
    assert!(shed > 0, "nothing was shed");
    assert_eq!(server.metrics.rejected(Rejection::Overload), shed);
    server.stop().await;
}

/// Awaits every task (a join_all without the futures crate).
async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap());
    }
    out
}

/// tonic's own client also enforces the deadline it sends, and reports it
/// as CANCELLED when its timer wins the race; grpc-go and grpcio report
/// DEADLINE_EXCEEDED. What the server did is read from its counters.
fn is_deadline(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled)
}

#[tokio::test]
async fn an_expired_deadline_is_deadline_exceeded_and_the_work_stops() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    let brands = load_brands(&server, 100).await;
    let mut scoring = ScoringServiceClient::new(server.plain_channel().await);

    // A deadline gone on arrival (1 ms, less the envelope's margin): refused
    // before any work.
    let before = server.metrics.assessments.get();
    let mut req = tonic::Request::new(big_batch(&brands, 100));
    req.set_timeout(Duration::from_millis(1));
    let status = scoring.score_batch(req).await.unwrap_err();
    assert!(is_deadline(&status), "{status:?}");

    // A deadline that passes mid-batch (10,000 pairs take far longer than
    // 30 ms in a debug build): the blocking-pool work stops at its next
    // check instead of finishing the batch.
    let mut req = tonic::Request::new(big_batch(&brands, 100));
    req.set_timeout(Duration::from_millis(30));
    let status = scoring.score_batch(req).await.unwrap_err();
    assert!(is_deadline(&status), "{status:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = server.metrics.assessments.get() - before;
    assert!(done < 10_000, "the whole batch was assessed: {done}");
    // The mid-batch one was ended by the server's deadline, not only the
    // client's (the 1 ms one may never have left the client).
    assert!(server.metrics.rejected(Rejection::Deadline) >= 1);

    // Without a deadline from the caller, --default-timeout applies.
    server.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.default_timeout = Duration::from_millis(20);
    let server = Server::start(config).await.unwrap();
    let brands = load_brands(&server, 100).await;
    let mut scoring = ScoringServiceClient::new(server.plain_channel().await);
    let status = scoring
        .score_batch(big_batch(&brands, 100))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_message_gets_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.max_request_bytes = 64 * 1024;
    let server = Server::start(config).await.unwrap();
    let mut scoring =
        ScoringServiceClient::new(server.plain_channel().await).max_encoding_message_size(64 << 20);
    let mut event = complaint("ev-big", "ann", "2026-02-03T20:00:00Z");
    event.text = "x ".repeat(50_000);
    let status = scoring
        .score(pb::ScoreRequest {
            brand_id: "crumbly".into(),
            event: Some(event),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("65536"), "{}", status.message());
    server.stop().await;
}

#[tokio::test]
async fn long_request_ids_and_future_events_are_invalid_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    load_brands(&server, 1).await;
    let mut scoring =
        ScoringServiceClient::new(server.plain_channel().await).max_encoding_message_size(8 << 20);
    let base = pb::ScoreRequest {
        brand_id: "brand-000".into(),
        event: Some(complaint("ev-1", "ann", "2026-02-03T20:00:00Z")),
        now: Some(ts("2026-02-03T20:02:00Z")),
        log_decision: true,
        ..Default::default()
    };
    let long_id = scoring
        .score(pb::ScoreRequest {
            request_id: "R".repeat(1_000_000),
            ..base.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(long_id.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&long_id).as_deref(), Some("request_id"));

    // A day after `now`: refused, naming the field.
    let future = scoring
        .score(pb::ScoreRequest {
            event: Some(complaint("ev-2", "ann", "2026-02-04T20:02:00Z")),
            ..base.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(future.code(), Code::InvalidArgument);
    assert_eq!(
        violated_field(&future).as_deref(),
        Some("event.occurred_at")
    );
    // Within the allowed clock skew: scored.
    scoring
        .score(pb::ScoreRequest {
            event: Some(complaint("ev-3", "ann", "2026-02-03T20:04:00Z")),
            ..base.clone()
        })
        .await
        .unwrap();
    // In a batch, the future event's pairs carry the error.
    let batch = scoring
        .score_batch(pb::ScoreBatchRequest {
            events: vec![complaint("ev-4", "ann", "2030-01-01T00:00:00Z")],
            brand_ids: vec!["brand-000".into()],
            now: Some(ts("2026-02-03T20:02:00Z")),
            log_decision: false,
            view: 0,
        })
        .await
        .unwrap()
        .into_inner();
    match &batch.results[0].result {
        Some(pb::pair_result::Result::Error(e)) => {
            assert_eq!(e.field, "events[0].occurred_at");
        }
        other => panic!("expected an item error, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    let second = Server::start(ServeConfig::for_tests(dir.path())).await;
    match second {
        Err(e @ AppError::DataDirLocked { .. }) => {
            assert!(e.to_string().contains("kairos.lock"), "{e}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a second server started on the same data dir"),
    }
    first.stop().await;
    // Once the first has stopped, the directory is free again.
    Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap()
        .stop()
        .await;
}

#[tokio::test]
async fn a_non_loopback_address_without_keys_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.listen = "0.0.0.0:0".parse().unwrap();
    let err = Server::start(config).await.err().expect("refused");
    let msg = err.to_string();
    assert!(matches!(err, AppError::OpenNonLoopback { .. }), "{msg}");
    assert!(msg.contains("--api-keys") && msg.contains("--insecure-no-auth"));
}

#[tokio::test]
async fn idle_connections_are_closed_and_the_connection_limit_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.idle_timeout = Duration::from_millis(300);
    config.max_connections = Some(2);
    let server = Server::start(config).await.unwrap();
    // Two silent sockets take both slots; a third is closed at accept.
    let mut a = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut c = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf))
        .await
        .expect("the third connection was closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(server.metrics.connections_refused.get() >= 1);
    // The idle ones are closed after the idle timeout (h2 may first send
    // its SETTINGS; read until end of stream).
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match a.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle connection stayed open");
    // With the slots free again, a real client is served.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let channel = server.plain_channel().await;
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn score_stream_items_are_admitted_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.max_in_flight = Some(1);
    let server = Server::start(config).await.unwrap();
    load_brands(&server, 1).await;
    let mut scoring = ScoringServiceClient::new(server.plain_channel().await);
    let items: Vec<pb::ScoreStreamRequest> = (0..200)
        .map(|i| pb::ScoreStreamRequest {
            request_id: format!("r{i}"),
            brand_id: "brand-000".into(),
            event: Some(complaint(&format!("ev-{i}"), "ann", "2026-02-03T20:00:00Z")),
            now: Some(ts("2026-02-03T20:02:00Z")),
            log_decision: false,
            view: 0,
        })
        .collect();
    let mut answers = scoring
        .score_stream(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    let (mut ok, mut shed) = (0, 0);
    while let Some(a) = tokio_stream::StreamExt::next(&mut answers).await {
        match a.unwrap().result {
            Some(pb::score_stream_response::Result::Assessment(_)) => ok += 1,
            Some(pb::score_stream_response::Result::Error(e)) => {
                assert_eq!(e.code, Code::ResourceExhausted as i32, "{e:?}");
                shed += 1;
            }
            None => panic!("empty answer"),
        }
    }
    // Every item is answered, one way or the other, and the stream lives on.
    assert_eq!(ok + shed, 200);
    assert!(ok > 0);
    server.stop().await;
}

#[tokio::test]
async fn decision_pages_are_bounded_by_bytes_as_well_as_count() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    let brands = load_brands(&server, 100).await;
    let mut request = big_batch(&brands, 10);
    request.log_decision = true;
    ScoringServiceClient::new(server.plain_channel().await)
        .score_batch(request)
        .await
        .unwrap();
    // Stopping writes out everything the log accepted.
    server.stop().await;
    let server = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    let mut guardrails = kairos::grpc::pb::guardrail_service_client::GuardrailServiceClient::new(
        server.plain_channel().await,
    );
    let mut seen = std::collections::HashSet::new();
    let mut token = String::new();
    let mut pages = 0;
    let mut total = 0;
    loop {
        let page = guardrails
            .list_decisions(pb::ListDecisionsRequest {
                page_size: 1000,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let bytes: usize = page.decisions.iter().map(prost::Message::encoded_len).sum();
        assert!(bytes <= kairos::grpc::guardrails::MAX_PAGE_BYTES, "{bytes}");
        total += bytes;
        for d in &page.decisions {
            let id = d.assessment.as_ref().unwrap().decision_id.clone();
            assert!(seen.insert(id), "a record came twice");
        }
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 1000);
    assert!(
        total > kairos::grpc::guardrails::MAX_PAGE_BYTES,
        "the records ({total} bytes) no longer exceed one page; log more"
    );
    assert!(pages >= 2, "one page held {} records", seen.len());
    server.stop().await;
}

#[tokio::test]
async fn error_answers_stay_small_whatever_the_request_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    load_brands(&server, 1).await;
    let mut scoring = ScoringServiceClient::new(server.plain_channel().await);
    let mut event = complaint("ev-1", "ann", "2026-02-03T20:00:00Z");
    // Each combining mark would be quoted as an 8-character escape.
    event.audience_time_zone = "x\u{301}".repeat(10_000);
    let status = scoring
        .score(pb::ScoreRequest {
            brand_id: "brand-000".into(),
            event: Some(event),
            now: Some(ts("2026-02-03T20:02:00Z")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_field(&status).as_deref(),
        Some("event.audience_time_zone")
    );
    assert!(status.message().len() <= 1024, "{}", status.message().len());
    assert!(status.details().len() <= 4096, "{}", status.details().len());
    // The channel is still usable: the answer did not break the connection.
    scoring
        .score(pb::ScoreRequest {
            brand_id: "brand-000".into(),
            event: Some(complaint("ev-2", "ann", "2026-02-03T20:00:00Z")),
            now: Some(ts("2026-02-03T20:02:00Z")),
            ..Default::default()
        })
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn review_windows_are_capped_at_thirty_days() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServeConfig::for_tests(dir.path()))
        .await
        .unwrap();
    let mut brand = cookie_brand("slow-brand");
    // The longest half-life allowed: uncapped, the window would run for
    // months.
    brand.half_life_overrides = vec![pb::KindHalfLife {
        kind: pb::EventKind::LiveEvent as i32,
        half_life: Some(crate::helpers::secs(90 * 86_400)),
    }];
    let mut profiles = BrandProfileServiceClient::new(server.plain_channel().await);
    profiles
        .upsert_brand_profile(pb::UpsertBrandProfileRequest {
            profile: Some(brand),
            expected_version: None,
        })
        .await
        .unwrap();
    let a = ScoringServiceClient::new(server.plain_channel().await)
        .score(pb::ScoreRequest {
            brand_id: "slow-brand".into(),
            event: Some(crate::helpers::blackout_moment("m", "2026-02-03T20:38:00Z")),
            now: Some(ts("2026-02-03T20:40:00Z")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    let window = a.max_review_latency.expect("a review window");
    assert_eq!(window.seconds, 30 * 86_400, "{a:?}");
    if let Some(by) = a.respond_by {
        assert!(by.seconds <= ts("2026-03-05T20:40:00Z").seconds, "{by:?}");
    }
    server.stop().await;
}
