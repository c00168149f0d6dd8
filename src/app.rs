//! Wiring: `Application::build` opens the store and binds the listener
//! (recording the real port); `run_until_stopped` serves until the shutdown
//! future resolves, then drains in-flight RPCs for a grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::cache::ProfileCache;
use crate::config::ServeConfig;
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_server::BrandProfileServiceServer;
use crate::grpc::pb::guardrail_service_server::{GuardrailService, GuardrailServiceServer};
use crate::grpc::pb::scoring_service_server::{ScoringService, ScoringServiceServer};
use crate::grpc::profiles::ProfileService;
use crate::store::{ProfileStore, SqliteStore, StoreError};

/// Services whose health is reported individually (plus "" for the server).
pub const SERVICE_NAMES: [&str; 3] = [
    "kairos.v1.BrandProfileService",
    "kairos.v1.ScoringService",
    "kairos.v1.GuardrailService",
];

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot create data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("reflection service")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("server failed")]
    Serve(#[from] tonic::transport::Error),
}

/// Scoring arrives with issue 3; until then its RPCs answer UNIMPLEMENTED.
struct PendingScoring;
impl ScoringService for PendingScoring {}

/// Guardrails arrive with issue 4; until then their RPCs answer UNIMPLEMENTED.
struct PendingGuardrails;
impl GuardrailService for PendingGuardrails {}

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    store: Arc<SqliteStore>,
    cache: Arc<ProfileCache>,
    grace: Duration,
}

impl Application {
    pub async fn build(config: ServeConfig) -> Result<Self, AppError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| AppError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let store = Arc::new(SqliteStore::open(&config.data_dir).await?);
        let dyn_store: Arc<dyn ProfileStore> = store.clone();
        let cache = Arc::new(ProfileCache::new(dyn_store, config.cache_capacity));
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| AppError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| AppError::Bind {
            addr: config.listen,
            source,
        })?;
        Ok(Self {
            listener,
            addr,
            store,
            cache,
            grace: Duration::from_secs(config.shutdown_grace_secs),
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn cache(&self) -> Arc<ProfileCache> {
        self.cache.clone()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in std::iter::once("").chain(SERVICE_NAMES) {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        // grpcurl 1.8 still asks for v1alpha; it lists v1 too.
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;

        let store: Arc<dyn ProfileStore> = self.store.clone();
        let profiles = ProfileService::new(store, self.cache.clone());

        let incoming = TcpListenerStream::new(self.listener).map(|conn| {
            conn.inspect(|s| {
                // Small unary messages: do not wait for Nagle.
                let _ = s.set_nodelay(true);
            })
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = Server::builder()
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(BrandProfileServiceServer::new(profiles))
            .add_service(ScoringServiceServer::new(PendingScoring))
            .add_service(GuardrailServiceServer::new(PendingGuardrails))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            });
        let mut server = tokio::spawn(server);
        tracing::info!(addr = %self.addr, "kairos listening");

        tokio::select! {
            done = &mut server => {
                // The server ended on its own: report why.
                return match done {
                    Ok(r) => r.map_err(AppError::from),
                    Err(join) => {
                        tracing::error!(error = %join, "server task failed");
                        Ok(())
                    }
                };
            }
            () = shutdown => {}
        }

        tracing::info!(grace_secs = self.grace.as_secs(), "shutting down");
        for name in std::iter::once("").chain(SERVICE_NAMES) {
            health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        let _ = stop_tx.send(());
        match tokio::time::timeout(self.grace, &mut server).await {
            Ok(Ok(r)) => r?,
            Ok(Err(join)) => tracing::error!(error = %join, "server task failed"),
            Err(_) => {
                tracing::warn!("grace period over; closing remaining connections");
                server.abort();
            }
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
