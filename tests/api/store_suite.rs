//! One behaviour suite for every store backend, so SQLite and PostgreSQL
//! cannot drift: versions and conditional writes, batches, paging,
//! blackouts, engagements, decision queries and retention.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kairos::core::model::{
    Assessment, Blackout, BlackoutScope, BrandProfile, Decision, DecisionRecord, Engagement,
    EngagementMode, EngagementOutcome,
};
use kairos::store::{DecisionQuery, Location, PgOptions, Store, StoreError};

use crate::pg::PgCluster;

#[tokio::test]
async fn the_store_suite_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = kairos::store::open(Location::Embedded(dir.path()))
        .await
        .unwrap();
    suite(store).await;
}

#[tokio::test]
async fn the_store_suite_holds_on_postgres() {
    let pg = PgCluster::start();
    let store = kairos::store::open(Location::Postgres(PgOptions {
        url: pg.url(),
        max_connections: 4,
        timeout: std::time::Duration::from_secs(5),
    }))
    .await
    .unwrap();
    suite(store.clone()).await;
    // Retention dropped the partition wholly before the cut, deleted rows
    // from the one the cut falls in, and kept the later ones.
    let partitions = pg.sql(
        "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'decisions'::regclass",
    );
    let name = |d: i64| format!("decisions_d{}", day(d).as_second().div_euclid(86_400));
    assert!(!partitions.contains(&name(100)), "{partitions}");
    for kept in [50, 2, 1] {
        assert!(partitions.contains(&name(kept)), "{kept}: {partitions}");
    }
    store.close().await;
}

async fn suite(store: Arc<dyn Store>) {
    versions_and_conditional_writes(&*store).await;
    batches_count_versions_in_order(&*store).await;
    listing_pages_by_brand_id(&*store).await;
    blackouts_are_listed_newest_first(&*store).await;
    engagements_are_read_per_brand_and_purged_by_age(&*store).await;
    decisions_filter_page_and_expire(&*store).await;
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn profile(id: &str, name: &str) -> BrandProfile {
    BrandProfile {
        brand_id: id.into(),
        display_name: name.into(),
        ..Default::default()
    }
}

async fn versions_and_conditional_writes(store: &dyn Store) {
    let now = t("2026-03-01T10:00:00.123456Z");
    let first = store
        .upsert_profile(&profile("acme", "Acme"), None, now)
        .await
        .unwrap();
    assert_eq!((first.stored.version, first.created), (1, true));
    let second = store
        .upsert_profile(&profile("acme", "Acme Co"), None, now)
        .await
        .unwrap();
    assert_eq!((second.stored.version, second.created), (2, false));
    let third = store
        .upsert_profile(&profile("acme", "Acme Inc"), Some(2), now)
        .await
        .unwrap();
    assert_eq!(third.stored.version, 3);
    match store
        .upsert_profile(&profile("acme", "x"), Some(2), now)
        .await
    {
        Err(StoreError::VersionConflict {
            expected: 2,
            actual: Some(3),
            ..
        }) => {}
        other => panic!("stale expected_version: {other:?}"),
    }
    match store
        .upsert_profile(&profile("acme", "x"), Some(0), now)
        .await
    {
        Err(StoreError::AlreadyExists { actual: 3, .. }) => {}
        other => panic!("create-only on an existing brand: {other:?}"),
    }
    match store
        .upsert_profile(&profile("ghost", "x"), Some(4), now)
        .await
    {
        Err(StoreError::VersionConflict { actual: None, .. }) => {}
        other => panic!("expected_version on a missing brand: {other:?}"),
    }
    let created = store
        .upsert_profile(&profile("fresh", "Fresh"), Some(0), now)
        .await
        .unwrap();
    assert_eq!(created.stored.version, 1);

    let stored = store.get_profile("acme").await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(
        stored.profile.display_name, "Acme Inc",
        "the failed writes changed nothing"
    );
    assert_eq!(
        stored.updated_at, now,
        "microseconds survive the round trip"
    );
    assert!(store.get_profile("ghost").await.unwrap().is_none());

    let mut versions = store
        .profile_versions(&["acme".into(), "ghost".into(), "fresh".into()])
        .await
        .unwrap();
    versions.sort();
    assert_eq!(
        versions,
        [("acme".to_string(), 3), ("fresh".to_string(), 1)]
    );

    assert!(store.delete_profile("fresh").await.unwrap());
    assert!(!store.delete_profile("fresh").await.unwrap());
    assert!(store.get_profile("fresh").await.unwrap().is_none());
}

async fn batches_count_versions_in_order(store: &dyn Store) {
    let now = t("2026-03-01T11:00:00Z");
    // A brand named twice in one batch is written twice, in order.
    let out = store
        .upsert_profiles(
            &[
                profile("b-one", "One"),
                profile("b-two", "Two"),
                profile("b-one", "One again"),
            ],
            now,
        )
        .await
        .unwrap();
    let got: Vec<(&str, i64, bool)> = out
        .iter()
        .map(|u| {
            (
                u.stored.profile.brand_id.as_str(),
                u.stored.version,
                u.created,
            )
        })
        .collect();
    assert_eq!(
        got,
        [("b-one", 1, true), ("b-two", 1, true), ("b-one", 2, false)]
    );
    let out = store
        .upsert_profiles(&[profile("b-two", "Two"), profile("b-three", "Three")], now)
        .await
        .unwrap();
    let got: Vec<(&str, i64)> = out
        .iter()
        .map(|u| (u.stored.profile.brand_id.as_str(), u.stored.version))
        .collect();
    assert_eq!(got, [("b-two", 2), ("b-three", 1)]);
    let one = store.get_profile("b-one").await.unwrap().unwrap();
    assert_eq!(one.profile.display_name, "One again");
}

async fn listing_pages_by_brand_id(store: &dyn Store) {
    // Stored so far: acme, b-one, b-three, b-two.
    let page = store.list_profiles(None, 2).await.unwrap();
    let ids: Vec<&str> = page.iter().map(|p| p.profile.brand_id.as_str()).collect();
    assert_eq!(ids, ["acme", "b-one"]);
    let page = store.list_profiles(Some("b-one"), 10).await.unwrap();
    let ids: Vec<&str> = page.iter().map(|p| p.profile.brand_id.as_str()).collect();
    assert_eq!(ids, ["b-three", "b-two"]);
    assert_eq!(
        store.list_brand_ids(Some("acme"), 2).await.unwrap(),
        ["b-one", "b-three"]
    );
    assert!(
        store
            .list_brand_ids(Some("b-two"), 2)
            .await
            .unwrap()
            .is_empty()
    );
}

fn blackout(id: &str, created: &str) -> Blackout {
    Blackout {
        id: id.into(),
        scope: BlackoutScope::Global,
        brand_id: String::new(),
        terms: vec![],
        region: String::new(),
        starts_at: None,
        ends_at: Some(t("2026-03-02T00:00:00Z")),
        reason: format!("crisis {id}"),
        created_at: t(created),
    }
}

async fn blackouts_are_listed_newest_first(store: &dyn Store) {
    store
        .insert_blackout(&blackout("bo-1", "2026-03-01T08:00:00Z"))
        .await
        .unwrap();
    store
        .insert_blackout(&blackout("bo-2", "2026-03-01T09:00:00Z"))
        .await
        .unwrap();
    let all = store.all_blackouts().await.unwrap();
    assert_eq!(
        all,
        [
            blackout("bo-2", "2026-03-01T09:00:00Z"),
            blackout("bo-1", "2026-03-01T08:00:00Z")
        ]
    );
    assert!(store.delete_blackout("bo-1").await.unwrap());
    assert!(!store.delete_blackout("bo-1").await.unwrap());
    assert_eq!(store.all_blackouts().await.unwrap().len(), 1);
}

fn engagement(id: &str, brand: &str, at: &str) -> Engagement {
    Engagement {
        id: id.into(),
        brand_id: brand.into(),
        author_id: "ann".into(),
        conversation_id: String::new(),
        event_id: String::new(),
        mode: Some(EngagementMode::Reply),
        at: t(at),
        outcome: EngagementOutcome::Unknown,
    }
}

async fn engagements_are_read_per_brand_and_purged_by_age(store: &dyn Store) {
    for (id, brand, at) in [
        ("e3", "acme", "2026-03-01T12:00:00Z"),
        ("e1", "acme", "2026-02-01T12:00:00Z"),
        ("e2", "acme", "2026-02-28T12:00:00Z"),
        ("e4", "other", "2026-03-01T12:00:00Z"),
    ] {
        store
            .insert_engagement(&engagement(id, brand, at))
            .await
            .unwrap();
    }
    let ids = |v: Vec<Engagement>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .brand_engagements("acme", t("2026-02-15T00:00:00Z"))
            .await
            .unwrap()),
        ["e2", "e3"],
        "oldest first, from `since` on, this brand only"
    );
    assert_eq!(
        store
            .purge_engagements(t("2026-02-15T00:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        ids(store
            .brand_engagements("acme", Timestamp::MIN)
            .await
            .unwrap()),
        ["e2", "e3"]
    );
}

fn record(id: &str, brand: &str, decision: Decision, at: Timestamp) -> DecisionRecord {
    DecisionRecord {
        decision_id: id.into(),
        request_id: String::new(),
        assessment: Assessment {
            event_id: "ev".into(),
            brand_id: brand.into(),
            relevance: 0.5,
            timing: 0.5,
            intrusiveness_risk: 0.1,
            opportunity: 0.4,
            decision,
            recommended_mode: EngagementMode::None,
            respond_by: None,
            max_review_latency: None,
            confidence: 0.7,
            reasons: vec![],
            profile_version: 1,
            model_version: "m".into(),
            assessed_at: at,
        },
        decided_at: at,
        event_digest: String::new(),
        caller: String::new(),
    }
}

/// Noon (UTC) `d` days before 2026-03-01.
fn day(d: i64) -> Timestamp {
    t("2026-03-01T12:00:00Z") - SignedDuration::from_hours(24 * d)
}

async fn decisions_filter_page_and_expire(store: &dyn Store) {
    let hour = SignedDuration::from_hours(1);
    let records = [
        record("d1", "acme", Decision::Engage, day(100)),
        record("d2", "acme", Decision::Decline, day(2)),
        record("d3", "other", Decision::Engage, day(1)),
        record("d4", "acme", Decision::Engage, day(1)),
        record("d5", "acme", Decision::Review, day(1)),
    ];
    store.append_decisions(&records).await.unwrap();
    // Appending a record again (a retried batch) does not duplicate it.
    store.append_decisions(&records[3..4]).await.unwrap();
    store.append_decisions(&[]).await.unwrap();
    let ids = |v: Vec<DecisionRecord>| v.into_iter().map(|r| r.decision_id).collect::<Vec<_>>();
    let all = DecisionQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(store.query_decisions(&all).await.unwrap()),
        ["d5", "d4", "d3", "d2", "d1"]
    );
    let acme_engaged = DecisionQuery {
        brand_id: Some("acme".into()),
        decision: Some(Decision::Engage),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(store.query_decisions(&acme_engaged).await.unwrap()),
        ["d4", "d1"]
    );
    let window = DecisionQuery {
        since: Some(day(2)),
        until: Some(day(1)),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(store.query_decisions(&window).await.unwrap()),
        ["d2"],
        "since inclusive, until exclusive"
    );
    // Keyset paging: two at a time, each page after the last row seen.
    let mut q = DecisionQuery {
        limit: 2,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = store.query_decisions(&q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.before = Some((last.assessment.assessed_at, last.decision_id.clone()));
        seen.extend(ids(page));
    }
    assert_eq!(seen, ["d5", "d4", "d3", "d2", "d1"]);
    // Retention: everything decided before the cut goes, nothing else,
    // including within the day the cut falls in.
    store
        .append_decisions(&[
            record("d0", "acme", Decision::Listen, day(50) - hour),
            record("d6", "acme", Decision::Listen, day(50) + hour),
        ])
        .await
        .unwrap();
    assert_eq!(store.purge_decisions(day(50)).await.unwrap(), 2);
    assert_eq!(
        ids(store.query_decisions(&all).await.unwrap()),
        ["d5", "d4", "d3", "d2", "d6"]
    );
}

/// A profile as schema 1 stored it: every default spelled out.
const V1_BODY: &str = r#"{"brand_id":"acme","display_name":"Acme","aliases":[],"category":"","themes":[{"term":"anvil","weight":0.8}],"topics":[],"competitors":[],"blocked_terms":[],"blocked_topics":[],"sensitivity_tolerance":[],"risk_appetite":"balanced","audience_time_zone":"","active_windows":[],"quiet_hours":[],"approval_latency":[],"half_life_overrides":[],"frequency_caps":{"per_author_per_day":0,"per_conversation_per_day":0,"per_brand_per_hour":0},"embedding":[]}"#;

#[tokio::test]
async fn a_schema_1_file_is_migrated_to_compact_rows_keeping_every_profile() {
    use sqlx::Row;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("kairos.db"))
        .create_if_missing(true);
    let old = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap();
    for stmt in [
        "CREATE TABLE brand_profiles (brand_id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL,
            updated_at_us INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID",
        "PRAGMA user_version = 1",
    ] {
        sqlx::query(stmt).execute(&old).await.unwrap();
    }
    sqlx::query("INSERT INTO brand_profiles VALUES ('acme', 4, 1772366400000000, ?1)")
        .bind(V1_BODY)
        .execute(&old)
        .await
        .unwrap();
    // More than one page of the migration's copy, and a body no build can
    // read (it must not stop the others from moving).
    let mut tx = old.begin().await.unwrap();
    for i in 0..1500 {
        sqlx::query("INSERT INTO brand_profiles VALUES (?1, 1, 1772366400000000, ?2)")
            .bind(format!("b{i:04}"))
            .bind(V1_BODY.replace("\"acme\"", &format!("\"b{i:04}\"")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO brand_profiles VALUES ('zz-corrupt', 1, 1772366400000000, '{not json')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    old.close().await;

    let store = kairos::store::open(Location::Embedded(dir.path()))
        .await
        .unwrap();
    let stored = store.get_profile("acme").await.unwrap().unwrap();
    let expected: BrandProfile = serde_json::from_str(V1_BODY).unwrap();
    assert_eq!(stored.profile, expected);
    assert_eq!(stored.version, 4);
    assert_eq!(stored.updated_at, t("2026-03-01T12:00:00Z"));
    let last = store.get_profile("b1499").await.unwrap().unwrap();
    assert_eq!(last.profile.brand_id, "b1499");
    assert!(matches!(
        store.get_profile("zz-corrupt").await,
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(store.list_brand_ids(None, 5000).await.unwrap().len(), 1502);
    store.close().await;

    let check = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&check)
        .await
        .unwrap();
    assert_eq!(version, 2);
    let row = sqlx::query("SELECT id, body FROM brand_profiles WHERE brand_id = 'acme'")
        .fetch_one(&check)
        .await
        .unwrap();
    let body: String = row.get("body");
    assert_eq!(
        body,
        r#"{"brand_id":"acme","display_name":"Acme","themes":[{"term":"anvil","weight":0.8}]}"#
    );
    check.close().await;
}
