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
use crate::grpc::auth::AdminAuth;
use crate::grpc::guardrails::GuardrailApi;
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_server::BrandProfileServiceServer;
use crate::grpc::pb::guardrail_service_server::GuardrailServiceServer;
use crate::grpc::pb::scoring_service_server::ScoringServiceServer;
use crate::grpc::profiles::ProfileService;
use crate::grpc::scoring::ScoringApi;
use crate::guardrails::{Blackouts, DecisionWriter, EngagementIndex, decision_log, run_retention};
use crate::metrics::Metrics;
use crate::net::CoalescingStream;
use crate::scoring::{Analyses, Scorer};
use crate::store::{ProfileStore, SqliteStore, Store, StoreError};

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

const DAY: Duration = Duration::from_secs(24 * 3600);
const STREAM_WINDOW_BYTES: u32 = 256 * 1024;
const CONNECTION_WINDOW_BYTES: u32 = 2 * 1024 * 1024;

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    metrics_listener: Option<TcpListener>,
    metrics_addr: Option<SocketAddr>,
    store: Arc<SqliteStore>,
    cache: Arc<ProfileCache>,
    scorer: Arc<Scorer>,
    writer: DecisionWriter,
    metrics: Arc<Metrics>,
    grace: Duration,
    auth: AdminAuth,
    engagement_retention: Duration,
    decision_retention: Duration,
}

impl Application {
    pub async fn build(config: ServeConfig) -> Result<Self, AppError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| AppError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        // Parse the lexicons now, not on the first request.
        std::sync::LazyLock::force(&crate::core::lexicon::LEXICON);
        let store = Arc::new(SqliteStore::open(&config.data_dir).await?);
        let profile_store: Arc<dyn ProfileStore> = store.clone();
        let full_store: Arc<dyn Store> = store.clone();
        let cache = Arc::new(ProfileCache::new(profile_store, config.cache_capacity));
        let metrics = Arc::new(Metrics::default());
        let blackouts = Arc::new(Blackouts::load(full_store.clone()).await?);
        let engagement_retention = DAY * config.engagement_retention_days as u32;
        let engagements = Arc::new(EngagementIndex::new(
            full_store.clone(),
            engagement_retention,
        ));
        let (log, writer) = decision_log(
            full_store,
            metrics.clone(),
            usize::try_from(config.decision_log_queue).unwrap_or(usize::MAX),
        );
        let scorer = Arc::new(Scorer::new(
            cache.clone(),
            Analyses::new(config.event_cache_mb.saturating_mul(1 << 20)),
            blackouts,
            engagements,
            Arc::new(log),
            metrics.clone(),
            config.log_all_decisions,
        ));
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
        let metrics_listener = match config.metrics_listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|source| AppError::Bind { addr: a, source })?,
            ),
            None => None,
        };
        let metrics_addr = metrics_listener
            .as_ref()
            .and_then(crate::metrics::local_addr);
        Ok(Self {
            listener,
            addr,
            metrics_listener,
            metrics_addr,
            store,
            cache,
            scorer,
            writer,
            metrics,
            grace: Duration::from_secs(config.shutdown_grace_secs),
            auth: AdminAuth::new(config.admin_token.clone()),
            engagement_retention,
            decision_retention: DAY * config.decision_retention_days as u32,
        })
    }

    /// The metrics endpoint's bound address, when enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
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
        let full_store: Arc<dyn Store> = self.store.clone();
        if !self.auth.enabled() {
            tracing::warn!("no admin token: profile and blackout writes are open to every caller");
        }
        let profiles = ProfileService::new(store, self.cache.clone(), self.auth.clone());
        let scoring = ScoringApi::new(self.scorer.clone(), full_store.clone());
        let guardrails =
            GuardrailApi::new(full_store.clone(), self.scorer.clone(), self.auth.clone());

        // Background tasks stop through this watch once the server is done.
        let (bg_stop, bg_stopped) = tokio::sync::watch::channel(false);
        let writer = tokio::spawn(self.writer.run(bg_stopped.clone()));
        let retention = tokio::spawn(run_retention(
            full_store,
            self.scorer.engagements.clone(),
            self.metrics.clone(),
            self.engagement_retention,
            self.decision_retention,
            Duration::from_secs(3600),
            bg_stopped.clone(),
        ));
        if let Some(l) = self.metrics_listener {
            let metrics = self.metrics.clone();
            let cache = self.cache.clone();
            let scorer = self.scorer.clone();
            let render: Arc<dyn Fn() -> String + Send + Sync> =
                Arc::new(move || metrics.render(cache.entry_count(), scorer.log.queue_depth()));
            tokio::spawn(crate::metrics::serve(l, render, bg_stopped.clone()));
            if let Some(a) = self.metrics_addr {
                tracing::info!(addr = %a, "metrics listening");
            }
        }

        let incoming = TcpListenerStream::new(self.listener).map(|conn| {
            conn.map(|s| {
                // Small unary messages: do not wait for Nagle.
                let _ = s.set_nodelay(true);
                CoalescingStream::new(s)
            })
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = Server::builder()
            // A stream window well under the connection window: a client
            // that stops reading a ScoreStream stalls on flow control long
            // before h2's budget for buffered small DATA frames (half the
            // connection window) runs out and the connection is reset.
            .initial_stream_window_size(STREAM_WINDOW_BYTES)
            .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(BrandProfileServiceServer::new(profiles))
            .add_service(ScoringServiceServer::new(scoring))
            .add_service(GuardrailServiceServer::new(guardrails))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            });
        let mut server = tokio::spawn(server);
        tracing::info!(addr = %self.addr, "kairos listening");

        let mut early: Option<Result<(), AppError>> = None;
        tokio::select! {
            done = &mut server => {
                // The server ended on its own: stop the rest, report why.
                early = Some(match done {
                    Ok(r) => r.map_err(AppError::from),
                    Err(join) => {
                        tracing::error!(error = %join, "server task failed");
                        Ok(())
                    }
                });
            }
            () = shutdown => {}
        }
        if let Some(result) = early {
            let _ = bg_stop.send(true);
            let _ = writer.await;
            retention.abort();
            self.store.close().await;
            return result;
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
        // Every RPC is done: flush what the decision log accepted.
        let _ = bg_stop.send(true);
        if writer.await.is_err() {
            tracing::error!("decision log writer failed");
        }
        retention.abort();
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
