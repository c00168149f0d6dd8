//! BrandProfileService over gRPC.

use kairos::grpc::pb;
use tonic::Code;

use crate::helpers::{error_reason, profile, spawn_app, spawn_app_in, violated_field};

#[tokio::test]
async fn crud_round_trip() {
    let mut app = spawn_app().await;

    let created = app.upsert(profile("acme"), None).await.unwrap();
    assert_eq!(created.version, 1);
    assert!(created.updated_at.is_some());
    assert_eq!(created.themes.len(), 2);

    let got = app.get("acme").await.unwrap();
    assert_eq!(got, created);

    let mut changed = profile("acme");
    changed.display_name = "Acme Inc".into();
    let updated = app.upsert(changed, None).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(app.get("acme").await.unwrap().display_name, "Acme Inc");

    app.profiles
        .delete_brand_profile(pb::DeleteBrandProfileRequest {
            brand_id: "acme".into(),
        })
        .await
        .unwrap();
    let gone = app.get("acme").await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(error_reason(&gone).as_deref(), Some("BRAND_NOT_FOUND"));
    let again = app
        .profiles
        .delete_brand_profile(pb::DeleteBrandProfileRequest {
            brand_id: "acme".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn input_fields_are_normalised_away_server_fields_ignored() {
    let mut app = spawn_app().await;
    let mut p = profile("acme");
    p.version = 42;
    p.updated_at = Some(prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    });
    let stored = app.upsert(p, None).await.unwrap();
    assert_eq!(stored.version, 1, "version is server-assigned");
    assert_ne!(stored.updated_at.unwrap().seconds, 1);
    app.stop().await;
}

#[tokio::test]
async fn expected_version_guards_writes() {
    let mut app = spawn_app().await;

    // 0 = create only.
    let v1 = app.upsert(profile("acme"), Some(0)).await.unwrap();
    assert_eq!(v1.version, 1);
    let exists = app.upsert(profile("acme"), Some(0)).await.unwrap_err();
    assert_eq!(exists.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&exists).as_deref(), Some("ALREADY_EXISTS"));

    // N > 0 must match.
    let stale = app.upsert(profile("acme"), Some(5)).await.unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&stale).as_deref(), Some("VERSION_MISMATCH"));
    // The contract's words, not Rust's (`stored Some(1)`).
    assert_eq!(
        stale.message(),
        r#"version conflict for brand "acme": expected_version 5, stored version 1"#
    );
    let v2 = app.upsert(profile("acme"), Some(1)).await.unwrap();
    assert_eq!(v2.version, 2);
    let lost_update = app.upsert(profile("acme"), Some(1)).await.unwrap_err();
    assert_eq!(lost_update.code(), Code::FailedPrecondition);

    // N > 0 on a brand that does not exist is a mismatch too.
    let missing = app.upsert(profile("nobody"), Some(3)).await.unwrap_err();
    assert_eq!(missing.code(), Code::FailedPrecondition);
    assert_eq!(app.get("nobody").await.unwrap_err().code(), Code::NotFound);

    let negative = app.upsert(profile("acme"), Some(-1)).await.unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert_eq!(
        violated_field(&negative).as_deref(),
        Some("expected_version")
    );
    app.stop().await;
}

#[tokio::test]
async fn list_pages_through_every_profile_once() {
    let mut app = spawn_app().await;
    let mut want: Vec<String> = (0..250).map(|i| format!("brand-{i:03}")).collect();
    // Insert out of order: the listing orders by brand_id regardless.
    for id in want.iter().rev() {
        app.upsert(profile(id), None).await.unwrap();
    }
    want.sort();

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = app
            .profiles
            .list_brand_profiles(pb::ListBrandProfilesRequest {
                page_size: 100,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(page.profiles.len() <= 100);
        seen.extend(page.profiles.into_iter().map(|p| p.brand_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, want);

    // page_size 0 means 100.
    let first = app
        .profiles
        .list_brand_profiles(pb::ListBrandProfilesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.profiles.len(), 100);
    assert!(!first.next_page_token.is_empty());

    let bad = app
        .profiles
        .list_brand_profiles(pb::ListBrandProfilesRequest {
            page_size: 10,
            page_token: "not-a-token".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&bad).as_deref(), Some("page_token"));
    app.stop().await;
}

#[tokio::test]
async fn import_keeps_valid_items_and_reports_the_bad_one() {
    let mut app = spawn_app().await;
    app.upsert(profile("brand-1"), None).await.unwrap();

    let mut bad = profile("brand-2");
    bad.themes[1].weight = 1.5;
    let items = vec![
        profile("brand-0"),
        profile("brand-1"), // exists: updated
        bad,
        pb::BrandProfile {
            brand_id: "Not Valid".into(),
            ..Default::default()
        },
        profile("brand-4"),
    ];
    let stream = tokio_stream::iter(
        items
            .into_iter()
            .map(|p| pb::ImportBrandProfilesRequest { profile: Some(p) }),
    );
    let resp = app
        .profiles
        .import_brand_profiles(stream)
        .await
        .unwrap()
        .into_inner();
    assert_eq!((resp.created, resp.updated, resp.rejected), (2, 1, 2));
    assert_eq!(resp.errors.len(), 2);
    assert_eq!(resp.errors[0].index, 2);
    assert_eq!(resp.errors[0].brand_id, "brand-2");
    assert_eq!(resp.errors[0].field, "profile.themes[1].weight");
    assert!(resp.errors[0].message.contains("themes[1].weight"));
    assert_eq!(resp.errors[1].index, 3);
    assert_eq!(resp.errors[1].field, "profile.brand_id");

    for id in ["brand-0", "brand-4"] {
        assert_eq!(app.get(id).await.unwrap().version, 1);
    }
    assert_eq!(app.get("brand-1").await.unwrap().version, 2);
    assert_eq!(app.get("brand-2").await.unwrap_err().code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn profiles_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_app_in(dir.path()).await;
    let written = app.upsert(profile("acme"), None).await.unwrap();
    app.upsert(profile("globex"), None).await.unwrap();
    app.stop().await;

    let mut app = spawn_app_in(dir.path()).await;
    assert_eq!(app.get("acme").await.unwrap(), written);
    // Versions continue where they were.
    assert_eq!(app.upsert(profile("acme"), None).await.unwrap().version, 2);
    app.stop().await;
}

type Edit = fn(&mut pb::BrandProfile);

#[tokio::test]
async fn invalid_profiles_name_the_field() {
    let mut app = spawn_app().await;
    let cases: &[(&str, Edit)] = &[
        ("profile.brand_id", |p| p.brand_id.clear()),
        ("profile.brand_id", |p| p.brand_id = "x".repeat(129)),
        ("profile.brand_id", |p| p.brand_id = "ACME".into()),
        ("profile.brand_id", |p| p.brand_id = "acme/../etc".into()),
        ("profile.themes[0].weight", |p| p.themes[0].weight = 0.0),
        ("profile.themes[1].weight", |p| p.themes[1].weight = -0.5),
        ("profile.themes[1].term", |p| {
            p.themes[1].term = "Cookie".into()
        }),
        ("profile.audience_time_zone", |p| {
            p.audience_time_zone = "Atlantis/Capital".into()
        }),
        ("profile.active_windows[0].start_minute", |p| {
            p.active_windows[0].start_minute = 1440
        }),
        ("profile.active_windows[0].end_minute", |p| {
            p.active_windows[0].end_minute = 2000
        }),
        ("profile.active_windows[0]", |p| {
            p.active_windows[0].end_minute = p.active_windows[0].start_minute
        }),
        ("profile.aliases", |p| {
            p.aliases = (0..101).map(|i| format!("alias-{i}")).collect()
        }),
        ("profile.blocked_terms[0]", |p| {
            p.blocked_terms = vec![" ".into()]
        }),
        ("profile.risk_appetite", |p| p.risk_appetite = 77),
        ("profile.sensitivity_tolerance[0].category", |p| {
            p.sensitivity_tolerance = vec![pb::CategoryTolerance {
                category: 0,
                max_level: pb::RiskLevel::Low as i32,
                tolerance: 0,
            }]
        }),
        ("profile.approval_latency[0].latency", |p| {
            p.approval_latency = vec![pb::ModeLatency {
                mode: pb::EngagementMode::Reply as i32,
                latency: Some(prost_types::Duration {
                    seconds: -5,
                    nanos: 0,
                }),
            }]
        }),
        ("profile.approval_latency[0].mode", |p| {
            p.approval_latency = vec![pb::ModeLatency {
                mode: 0,
                latency: Some(prost_types::Duration {
                    seconds: 5,
                    nanos: 0,
                }),
            }]
        }),
        ("profile.embedding[0]", |p| p.embedding = vec![f32::NAN]),
    ];
    for (field, edit) in cases {
        let mut p = profile("acme");
        edit(&mut p);
        let status = app.upsert(p, None).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(violated_field(&status).as_deref(), Some(*field));
        assert!(status.message().contains(field), "{}", status.message());
    }

    let missing = app
        .profiles
        .upsert_brand_profile(pb::UpsertBrandProfileRequest {
            profile: None,
            expected_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(violated_field(&missing).as_deref(), Some("profile"));

    let bad_get = app.get("Bad Id").await.unwrap_err();
    assert_eq!(bad_get.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&bad_get).as_deref(), Some("brand_id"));

    // Nothing invalid was stored.
    let listed = app
        .profiles
        .list_brand_profiles(pb::ListBrandProfilesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.profiles.is_empty());
    app.stop().await;
}
