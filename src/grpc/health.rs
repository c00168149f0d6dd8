//! Per-service health from the store's reachability. Scoring runs from
//! cached state, so the server ("") and ScoringService stay SERVING while
//! the store is away; the services whose writes need it report NOT_SERVING
//! until it answers again.

use std::sync::Arc;
use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::store::Store;

/// The services that cannot work without the store.
pub const WRITE_SERVICES: [&str; 2] = [
    "kairos.v1.BrandProfileService",
    "kairos.v1.GuardrailService",
];

/// Pings the store every `every` until `stop` fires, and reports the
/// write services' health when reachability changes.
pub async fn watch_store(
    store: Arc<dyn Store>,
    health: HealthReporter,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut up = true;
    loop {
        let now_up = match store.ping().await {
            Ok(()) => true,
            Err(e) => {
                if up {
                    tracing::warn!(error = %crate::error::chain(&e), "store unreachable: writes fail with UNAVAILABLE, scoring continues from cached state");
                }
                false
            }
        };
        if now_up != up {
            if now_up {
                tracing::info!("store reachable again");
            }
            let status = if now_up {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for name in WRITE_SERVICES {
                health.set_service_status(name, status).await;
            }
            up = now_up;
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
