//! Kairos from Rust: load a brand profile, score a moment, print the
//! decision and why, with the crate's generated client.
//!
//!     cargo run --example score -- http://127.0.0.1:50051

use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use kairos::grpc::pb::scoring_service_client::ScoringServiceClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:50051".to_string());
    let channel = tonic::transport::Channel::from_shared(server)?
        .connect()
        .await?;

    let profile = pb::BrandProfile {
        brand_id: "crumbly".into(),
        display_name: "Crumbly Cookies".into(),
        aliases: vec!["@crumbly".into()],
        audience_time_zone: "America/New_York".into(),
        themes: ["cookie", "dunk", "milk", "dark", "snack"]
            .iter()
            .map(|t| pb::WeightedTerm {
                term: t.to_string(),
                weight: 0.9,
            })
            .collect(),
        ..Default::default()
    };
    let stored = BrandProfileServiceClient::new(channel.clone())
        .upsert_brand_profile(pb::UpsertBrandProfileRequest {
            profile: Some(profile),
            expected_version: None,
        })
        .await?
        .into_inner()
        .profile
        .ok_or("no profile in the answer")?;
    println!(
        "profile {} stored at version {}",
        stored.brand_id, stored.version
    );

    let occurred = prost_types::Timestamp {
        seconds: 1_770_151_080, // 2026-02-03T20:38:00Z
        nanos: 0,
    };
    let event = pb::Event {
        id: "stadium-blackout".into(),
        kind: pb::EventKind::LiveEvent as i32,
        text: "The lights just went out at the stadium during the championship game, \
               everyone is sitting in the dark waiting for power"
            .into(),
        hashtags: vec!["#PowerOutage".into(), "#GameDay".into()],
        occurred_at: Some(occurred),
        audience_time_zone: "America/New_York".into(),
        velocity: Some(pb::Velocity {
            mentions_per_minute: 4000.0,
            history_per_minute: vec![100.0, 600.0, 2000.0],
            window: None,
        }),
        ..Default::default()
    };
    let a = ScoringServiceClient::new(channel)
        .score(pb::ScoreRequest {
            event: Some(event),
            brand_id: "crumbly".into(),
            now: Some(prost_types::Timestamp {
                seconds: 1_770_151_200, // two minutes later
                nanos: 0,
            }),
            ..Default::default()
        })
        .await?
        .into_inner()
        .assessment
        .ok_or("no assessment in the answer")?;
    println!(
        "{} (mode {}): relevance {:.2}, timing {:.2}, risk {:.2}, opportunity {:.2}",
        a.decision().as_str_name(),
        a.recommended_mode().as_str_name(),
        a.relevance(),
        a.timing(),
        a.intrusiveness_risk(),
        a.opportunity()
    );
    for r in &a.reasons {
        println!(
            "  {:<28} {:+.2}  {}",
            r.code().as_str_name(),
            r.contribution,
            r.detail
        );
    }
    Ok(())
}
