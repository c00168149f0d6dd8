//! Health, reflection-independent basics and shutdown.

use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_reports_serving_for_server_and_each_service() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "kairos.v1.BrandProfileService",
        "kairos.v1.ScoringService",
    ] {
        let resp = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.v1.Nothing".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn stop_finishes_and_frees_the_port() {
    let app = spawn_app().await;
    let addr = app.addr;
    app.stop().await;
    // The listener is closed: a new connection is refused.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
