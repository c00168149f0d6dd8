//! Several replicas on one PostgreSQL: two real servers (two
//! `Application`s) on one database, a write through either seen by the
//! other, caps counted across both, and a store that goes away and comes
//! back while both keep running.

use std::time::{Duration, Instant};

use kairos::config::{ServeConfig, StoreUrl};
use kairos::grpc::pb;
use kairos::grpc::pb::{Decision, ReasonCode};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{
    TestApp, blackout_moment, codes, complaint, cookie_brand, spawn_app_with, ts,
};
use crate::pg::PgCluster;

/// How soon a write through one replica must be seen by the other: the
/// README's bound while notifications flow.
const FRESHNESS_BOUND: Duration = Duration::from_secs(1);

fn replica_config(pg: &PgCluster, dir: &tempfile::TempDir) -> ServeConfig {
    let mut c = ServeConfig::for_tests(dir.path());
    c.store = Some(StoreUrl::parse(&pg.url()).unwrap());
    c.store_timeout = Duration::from_millis(500);
    c
}

struct Pair {
    a: TestApp,
    b: TestApp,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn two_replicas(pg: &PgCluster, edit: impl Fn(&mut ServeConfig)) -> Pair {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut ca = replica_config(pg, &da);
    let mut cb = replica_config(pg, &db);
    edit(&mut ca);
    edit(&mut cb);
    let a = spawn_app_with(ca).await;
    let b = spawn_app_with(cb).await;
    Pair {
        a,
        b,
        _dirs: (da, db),
    }
}

async fn score_at(app: &mut TestApp, event: pb::Event, brand: &str, now: &str) -> pb::Assessment {
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

/// Polls `check` on a fresh score until it holds or `within` passes;
/// returns how long it took.
async fn eventually(
    app: &mut TestApp,
    within: Duration,
    mut score: impl FnMut() -> (pb::Event, &'static str, &'static str),
    check: impl Fn(&pb::Assessment) -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        let (event, brand, now) = score();
        let a = score_at(app, event, brand, now).await;
        if check(&a) {
            return Some(start.elapsed());
        }
        if start.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const NOW: &str = "2026-02-01T20:01:00Z";

fn moment() -> (pb::Event, &'static str, &'static str) {
    (
        blackout_moment("m1", "2026-02-01T20:00:00Z"),
        "crumbly",
        NOW,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_updated_through_one_replica_is_scored_at_its_new_version_on_the_other() {
    let pg = PgCluster::start();
    let mut r = two_replicas(&pg, |_| {}).await;
    r.a.upsert(cookie_brand("crumbly"), None).await.unwrap();
    // B has never seen the brand: it loads it from the shared store.
    let first = score_at(&mut r.b, moment().0, "crumbly", NOW).await;
    assert_eq!(first.profile_version, 1);
    // B now caches version 1; A writes version 2.
    r.a.upsert(cookie_brand("crumbly"), Some(1)).await.unwrap();
    let took = eventually(&mut r.b, FRESHNESS_BOUND, moment, |a| {
        a.profile_version == 2
    })
    .await
    .expect("B scores with version 2 within the bound");
    eprintln!("B saw the new profile version after {took:?}");
    // B's candidate index learnt of the brand A wrote: RankBrands over
    // every stored brand finds it.
    let rank_b = async |b: &mut TestApp| {
        b.scoring
            .rank_brands(pb::RankBrandsRequest {
                event: Some(moment().0),
                now: Some(ts(NOW)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .ranked
            .into_iter()
            .map(|a| a.brand_id)
            .collect::<Vec<_>>()
    };
    let mut dunk = cookie_brand("dunkers");
    dunk.display_name = "Dunkers".into();
    dunk.aliases.clear();
    r.a.upsert(dunk, None).await.unwrap();
    let start = Instant::now();
    while !rank_b(&mut r.b).await.contains(&"dunkers".to_string()) {
        assert!(
            start.elapsed() < FRESHNESS_BOUND,
            "B's index never learnt of dunkers"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A delete through B is seen by A.
    r.b.profiles
        .delete_brand_profile(pb::DeleteBrandProfileRequest {
            brand_id: "crumbly".into(),
        })
        .await
        .unwrap();
    let start = Instant::now();
    loop {
        let got =
            r.a.scoring
                .score(pb::ScoreRequest {
                    event: Some(moment().0),
                    brand_id: "crumbly".into(),
                    now: Some(ts(NOW)),
                    ..Default::default()
                })
                .await;
        if got.as_ref().err().map(|s| s.code()) == Some(Code::NotFound) {
            break;
        }
        assert!(
            start.elapsed() < FRESHNESS_BOUND,
            "A still scores a deleted brand"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    r.a.stop().await;
    r.b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackout_created_on_one_replica_applies_on_the_other_and_lifting_it_anywhere_lifts_it() {
    let pg = PgCluster::start();
    let mut r = two_replicas(&pg, |_| {}).await;
    r.a.upsert(cookie_brand("crumbly"), None).await.unwrap();
    let before = score_at(&mut r.b, moment().0, "crumbly", NOW).await;
    assert!(!codes(&before).contains(&ReasonCode::BlackoutActive));
    let created =
        r.a.guardrails
            .create_blackout(pb::CreateBlackoutRequest {
                blackout: Some(pb::Blackout {
                    scope: pb::BlackoutScope::Brand as i32,
                    brand_id: "crumbly".into(),
                    reason: "cross-replica crisis switch".into(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .blackout
            .unwrap();
    let id = created.id.clone();
    eventually(&mut r.b, FRESHNESS_BOUND, moment, |a| {
        codes(a).contains(&ReasonCode::BlackoutActive) && a.decision() == Decision::Decline
    })
    .await
    .expect("the blackout made on A applies on B");
    r.b.guardrails
        .delete_blackout(pb::DeleteBlackoutRequest { id })
        .await
        .unwrap();
    eventually(&mut r.a, FRESHNESS_BOUND, moment, |a| {
        !codes(a).contains(&ReasonCode::BlackoutActive)
    })
    .await
    .expect("lifting it on B lifts it on A");
    r.a.stop().await;
    r.b.stop().await;
}

async fn engage(app: &mut TestApp, author: &str, at: &str) {
    app.guardrails
        .record_engagement(pb::RecordEngagementRequest {
            engagement: Some(pb::Engagement {
                brand_id: "crumbly".into(),
                author_id: author.into(),
                event_id: "e".into(),
                mode: pb::EngagementMode::CustomerCare as i32,
                at: Some(ts(at)),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_author_cap_counts_engagements_recorded_on_either_replica() {
    let pg = PgCluster::start();
    let mut r = two_replicas(&pg, |_| {}).await;
    let mut p = cookie_brand("crumbly");
    p.frequency_caps = Some(pb::FrequencyCaps {
        per_author_per_day: 2,
        ..Default::default()
    });
    r.a.upsert(p, None).await.unwrap();
    let ask = || {
        (
            complaint("c1", "ann", "2026-02-04T18:30:00Z"),
            "crumbly",
            "2026-02-04T18:31:00Z",
        )
    };
    // Both replicas load the brand's (empty) engagement log first, so the
    // cap must come from the other replica's announcement, not a first load.
    for app in [&mut r.a, &mut r.b] {
        let (e, b, n) = ask();
        let a = score_at(app, e, b, n).await;
        assert!(!codes(&a).contains(&ReasonCode::FrequencyCap));
    }
    engage(&mut r.a, "ann", "2026-02-04T15:00:00Z").await;
    engage(&mut r.b, "ann", "2026-02-04T16:00:00Z").await;
    for app in [&mut r.a, &mut r.b] {
        eventually(app, FRESHNESS_BOUND, ask, |a| {
            codes(a).contains(&ReasonCode::FrequencyCap) && a.decision() != Decision::Engage
        })
        .await
        .expect("two engagements, one per replica, reach the cap of 2 on both");
    }
    r.a.stop().await;
    r.b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_no_replica_was_told_of_is_picked_up_by_the_resync() {
    let pg = PgCluster::start();
    let resync = Duration::from_millis(700);
    let mut r = two_replicas(&pg, |c| c.store_resync_interval = resync).await;
    r.a.upsert(cookie_brand("crumbly"), None).await.unwrap();
    assert_eq!(
        score_at(&mut r.b, moment().0, "crumbly", NOW)
            .await
            .profile_version,
        1
    );
    // A write that announces nothing, as if the notification were lost.
    pg.sql(
        "BEGIN; ALTER TABLE brand_profiles DISABLE TRIGGER brand_profiles_changed; \
         UPDATE brand_profiles SET version = 7; \
         ALTER TABLE brand_profiles ENABLE TRIGGER brand_profiles_changed; COMMIT",
    );
    let took = eventually(&mut r.b, resync * 3, moment, |a| a.profile_version == 7)
        .await
        .expect("the resync picks up an unannounced change");
    eprintln!("unannounced change seen after {took:?} (resync every {resync:?})");
    r.a.stop().await;
    r.b.stop().await;
}

async fn write_status(app: &TestApp) -> ServingStatus {
    let mut health = HealthClient::new(app.channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "kairos.v1.BrandProfileService".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

async fn overall_status(app: &TestApp) -> ServingStatus {
    let mut health = HealthClient::new(app.channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

async fn until(within: Duration, mut f: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_down_scoring_continues_writes_fail_fast_and_both_recover_without_restart() {
    let pg = PgCluster::start();
    let resync = Duration::from_millis(300);
    let mut r = two_replicas(&pg, |c| c.store_resync_interval = resync).await;
    let mut capped = cookie_brand("crumbly");
    // Caps make every score read the engagement index.
    capped.frequency_caps = Some(pb::FrequencyCaps {
        per_author_per_day: 2,
        ..Default::default()
    });
    r.a.upsert(capped, None).await.unwrap();
    r.a.upsert(cookie_brand("uncached"), None).await.unwrap();
    let cached = score_at(&mut r.b, moment().0, "crumbly", NOW).await;
    assert_eq!(cached.profile_version, 1);
    let complaint_now = || {
        (
            complaint("c1", "ann", "2026-02-04T18:30:00Z"),
            "crumbly",
            "2026-02-04T18:31:00Z",
        )
    };
    let (e, b, n) = complaint_now();
    score_at(&mut r.b, e, b, n).await;

    pg.stop();
    // Several re-check intervals pass with the store down: what B holds
    // stays in use, and scoring does not wait on the store.
    tokio::time::sleep(resync * 4).await;
    let start = Instant::now();
    for _ in 0..5 {
        let (e, b, n) = complaint_now();
        score_at(&mut r.b, e, b, n).await;
    }
    let five = start.elapsed();
    // One attempt at the store may cost --store-timeout (500 ms); five
    // scores that each waited for it would take 2.5 s.
    assert!(
        five < Duration::from_millis(2000),
        "5 scores took {five:?} with the store down"
    );
    // Scoring goes on from the cached profile, with decisions logged later.
    let scored =
        r.b.scoring
            .score(pb::ScoreRequest {
                request_id: "while-down".into(),
                event: Some(moment().0),
                brand_id: "crumbly".into(),
                now: Some(ts(NOW)),
                log_decision: true,
                view: 0,
            })
            .await
            .expect("B scores from its cache while PostgreSQL is down")
            .into_inner()
            .assessment
            .unwrap();
    let logged_id = scored.decision_id.clone();
    // A brand B never loaded cannot be scored: UNAVAILABLE, not INTERNAL.
    let unknown =
        r.b.scoring
            .score(pb::ScoreRequest {
                event: Some(moment().0),
                brand_id: "uncached".into(),
                now: Some(ts(NOW)),
                ..Default::default()
            })
            .await
            .expect_err("an uncached brand needs the store");
    assert_eq!(unknown.code(), Code::Unavailable, "{unknown:?}");
    // Writes fail fast, with UNAVAILABLE.
    let start = Instant::now();
    let err =
        r.a.upsert(cookie_brand("crumbly"), None)
            .await
            .expect_err("no write without the store");
    let took = start.elapsed();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    // --store-timeout is 500 ms here: the call is bounded by twice it.
    assert!(took < Duration::from_secs(3), "write failed after {took:?}");
    eprintln!("write failed with UNAVAILABLE after {took:?}");
    // Health says what still works.
    assert!(
        until(Duration::from_secs(5), async || write_status(&r.a).await
            == ServingStatus::NotServing)
        .await,
        "BrandProfileService reports NOT_SERVING while writes cannot work"
    );
    assert_eq!(overall_status(&r.a).await, ServingStatus::Serving);

    pg.resume();
    // Both recover without a restart: writes, health, notifications.
    let mut wrote = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(p) = r.a.upsert(cookie_brand("crumbly"), None).await {
            wrote = Some(p.version);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let version = wrote.expect("writes work again once PostgreSQL is back");
    assert_eq!(version, 2, "the failed write did not land");
    assert!(
        until(Duration::from_secs(5), async || write_status(&r.a).await
            == ServingStatus::Serving)
        .await
    );
    eventually(&mut r.b, Duration::from_secs(5), moment, |a| {
        a.profile_version == 2
    })
    .await
    .expect("B sees the write made after the outage");
    // The decision scored during the outage waited in the queue and landed.
    assert!(
        until(Duration::from_secs(10), async || {
            r.a.guardrails
                .list_decisions(pb::ListDecisionsRequest {
                    brand_id: "crumbly".into(),
                    page_size: 50,
                    ..Default::default()
                })
                .await
                .is_ok_and(|l| {
                    l.into_inner().decisions.iter().any(|d| {
                        d.assessment
                            .as_ref()
                            .is_some_and(|a| a.decision_id == logged_id)
                    })
                })
        })
        .await,
        "the decision logged on B during the outage is listed on A after it"
    );
    r.a.stop().await;
    r.b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_on_an_empty_database_migrate_it_once() {
    let pg = PgCluster::start();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let apps = futures_join(dirs.iter().map(|d| spawn_app_with(replica_config(&pg, d)))).await;
    assert_eq!(
        pg.sql("SELECT count(*) || ':' || max(version) FROM kairos_schema"),
        "1:1"
    );
    for app in apps {
        app.stop().await;
    }
    // A database from a newer build is refused, with the reason.
    pg.sql("UPDATE kairos_schema SET version = 99");
    let dir = tempfile::tempdir().unwrap();
    let err = match kairos::app::Application::build(replica_config(&pg, &dir)).await {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(e) => kairos::error::chain(&e),
    };
    assert!(err.contains("schema version 99 is newer"), "{err}");
    // A database that does not exist is named, not reported as a timeout.
    let mut config = replica_config(&pg, &dir);
    let server = pg.url().rsplit_once('/').unwrap().0.to_string();
    config.store = Some(StoreUrl::parse(&format!("{server}/nope")).unwrap());
    let err = match kairos::app::Application::build(config).await {
        Ok(_) => panic!("no such database"),
        Err(e) => kairos::error::chain(&e),
    };
    assert!(err.contains("database \"nope\" does not exist"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stops_promptly_while_postgres_is_down() {
    let pg = PgCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let mut config = replica_config(&pg, &dir);
    config.log_all_decisions = true;
    let mut app = spawn_app_with(config).await;
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    score_at(&mut app, moment().0, "crumbly", NOW).await;
    pg.stop();
    // Decisions scored now wait for the store; the writer holds a batch.
    for _ in 0..3 {
        score_at(&mut app, moment().0, "crumbly", NOW).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // By now the writer's waits between attempts (100 ms doubling) are
    // longer than an attempt (--store-timeout, 500 ms): the stop most
    // likely arrives while it waits, the case that once hung the exit.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let metrics = app.metrics.clone();
    tokio::time::timeout(Duration::from_secs(20), app.stop())
        .await
        .expect("the replica stops although PostgreSQL is down");
    let lost = metrics.decisions_write_failed.get();
    assert!(lost >= 3, "the held decisions are counted as lost: {lost}");
}

#[test]
fn store_urls_are_logged_without_their_password() {
    let shown = |u: &str| StoreUrl::parse(u).unwrap().redacted();
    assert_eq!(
        shown("postgres://kairos:s3cret@db:5432/kairos"),
        "postgres://kairos:***@db:5432/kairos"
    );
    assert_eq!(
        shown("postgres://kairos:p@ss@db/kairos?sslmode=require"),
        "postgres://kairos:***@db/kairos?sslmode=require"
    );
    assert_eq!(
        shown("postgresql://db/kairos?user=k&password=s3cret"),
        "postgresql://db/kairos?user=k&password=***"
    );
    assert_eq!(
        shown("postgres://kairos@db/kairos"),
        "postgres://kairos@db/kairos"
    );
    assert!(
        !format!("{:?}", StoreUrl::parse("postgres://u:s3cret@h/d").unwrap()).contains("s3cret")
    );
    assert!(StoreUrl::parse("mysql://u@h/d").is_err());
}

async fn futures_join<F: std::future::Future<Output = TestApp> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<TestApp> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
