//! Wiring: `Application::build` opens the store and binds the listener
//! (recording the real port); `run_until_stopped` serves until the shutdown
//! future resolves, then drains in-flight RPCs for a grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::access::{KeySet, Keys, KeysError};
use crate::cache::ProfileCache;
use crate::candidates::CandidateIndex;
use crate::config::ServeConfig;
use crate::grpc::envelope::{EnvelopeConfig, EnvelopeLayer, InFlight};
use crate::grpc::guardrails::GuardrailApi;
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_server::BrandProfileServiceServer;
use crate::grpc::pb::guardrail_service_server::GuardrailServiceServer;
use crate::grpc::pb::scoring_service_server::ScoringServiceServer;
use crate::grpc::profiles::ProfileService;
use crate::grpc::scoring::ScoringApi;
use crate::guardrails::{Blackouts, DecisionWriter, EngagementIndex, decision_log, run_retention};
use crate::metrics::Metrics;
use crate::scoring::{Analyses, Scorer};
use crate::store::{Location, PgOptions, ProfileStore, Store, StoreError};

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
    #[error(
        "another kairos process is using {path} (it holds {path}/kairos.lock); \
         two servers on one data directory would disagree, so this one stops"
    )]
    DataDirLocked { path: String },
    #[error("cannot lock {path}")]
    Lock {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load the API keys")]
    Keys(#[from] KeysError),
    #[error(
        "refusing to listen on {addr} with no API keys: anyone who can reach the port could \
         read, score and change everything. Give --api-keys FILE (or --admin-token), listen on \
         a loopback address, or pass --insecure-no-auth to accept the risk"
    )]
    OpenNonLoopback { addr: SocketAddr },
    #[error("cannot set up TLS")]
    Tls(#[from] crate::tls::TlsError),
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
/// How often a replica on a shared store checks that the store answers.
const STORE_PING_EVERY: Duration = Duration::from_secs(1);
/// A peer that does not answer a keepalive ping within this is disconnected.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    metrics_listener: Option<TcpListener>,
    metrics_addr: Option<SocketAddr>,
    store: Arc<dyn Store>,
    cache: Arc<ProfileCache>,
    index: Arc<CandidateIndex>,
    scorer: Arc<Scorer>,
    /// Taken when the server starts (`Background::spawn`).
    writer: Option<DecisionWriter>,
    metrics: Arc<Metrics>,
    grace: Duration,
    keys: Arc<Keys>,
    keys_path: Option<std::path::PathBuf>,
    admin_token: Option<String>,
    tls: Option<Arc<rustls::ServerConfig>>,
    in_flight: InFlight,
    config: ServeConfig,
    /// Held for the process's life: the data directory's advisory lock
    /// (embedded store only; PostgreSQL is shared on purpose).
    _lock: Option<std::fs::File>,
    engagement_retention: Duration,
    decision_retention: Duration,
}

impl Application {
    pub async fn build(config: ServeConfig) -> Result<Self, AppError> {
        let lock = match config.store {
            Some(_) => None,
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|source| AppError::DataDir {
                    path: config.data_dir.display().to_string(),
                    source,
                })?;
                Some(lock_data_dir(&config.data_dir)?)
            }
        };
        let keys = KeySet::load(config.api_keys.as_deref(), config.admin_token.as_deref())?;
        if keys.is_empty() && !config.listen.ip().is_loopback() && !config.insecure_no_auth {
            return Err(AppError::OpenNonLoopback {
                addr: config.listen,
            });
        }
        let tls = tls_config(&config)?;
        // Parse the lexicons now, not on the first request.
        std::sync::LazyLock::force(&crate::core::lexicon::LEXICON);
        let metrics = Arc::new(Metrics::default());
        let store: Arc<dyn Store> = Arc::new(crate::store::Timed::new(
            open_store(&config).await?,
            metrics.clone(),
        ));
        let profile_store: Arc<dyn ProfileStore> = store.clone();
        let full_store: Arc<dyn Store> = store.clone();
        let cache = Arc::new(ProfileCache::new(
            profile_store,
            config.cache_capacity,
            metrics.clone(),
        ));
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
            index: Arc::new(CandidateIndex::new()),
            scorer,
            writer: Some(writer),
            metrics,
            grace: Duration::from_secs(config.shutdown_grace_secs),
            keys: Arc::new(Keys::new(keys)),
            keys_path: config.api_keys.clone(),
            admin_token: config.admin_token.clone(),
            tls,
            in_flight: InFlight::new(config.max_in_flight()),
            engagement_retention,
            decision_retention: DAY * config.decision_retention_days as u32,
            config,
            _lock: lock,
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
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in std::iter::once("").chain(SERVICE_NAMES) {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        // google.rpc's error details too, so that grpcurl and other
        // reflecting clients print BadRequest, ErrorInfo and RetryInfo.
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        // grpcurl 1.8 still asks for v1alpha; it lists v1 too.
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;

        let store: Arc<dyn ProfileStore> = self.store.clone();
        let full_store: Arc<dyn Store> = self.store.clone();
        self.log_credentials();
        let store_watch = self.watch_store(&health);
        let index_build = spawn_index_build(self.index.clone(), store.clone());
        let profiles = ProfileService::new(
            store,
            self.cache.clone(),
            self.index.clone(),
            self.metrics.clone(),
        );
        let scoring = ScoringApi::new(
            self.scorer.clone(),
            full_store.clone(),
            self.in_flight.clone(),
            self.index.clone(),
        );
        let guardrails = GuardrailApi::new(full_store.clone(), self.scorer.clone());
        let max_request = usize::try_from(self.config.max_request_bytes).unwrap_or(usize::MAX);
        let envelope = EnvelopeLayer::new(EnvelopeConfig {
            keys: self.keys.clone(),
            in_flight: self.in_flight.clone(),
            default_timeout: self.config.default_timeout,
            max_request_bytes: max_request,
            metrics: self.metrics.clone(),
        });

        let background = Background::spawn(&mut self, full_store);
        self.serve_metrics(&background);

        let incoming = crate::net::accept(
            self.listener,
            crate::net::AcceptConfig {
                tls: self.tls.clone(),
                handshake_timeout: self.config.handshake_timeout,
                idle_timeout: self.config.idle_timeout,
                max_connections: self.config.max_connections(),
                metrics: self.metrics.clone(),
            },
        );
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = Server::builder()
            // A stream window well under the connection window: a client
            // that stops reading a ScoreStream stalls on flow control long
            // before h2's budget for buffered small DATA frames (half the
            // connection window) runs out and the connection is reset.
            .initial_stream_window_size(STREAM_WINDOW_BYTES)
            .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
            .max_concurrent_streams(self.config.max_streams_per_connection)
            .http2_max_header_list_size(self.config.max_header_list_bytes)
            .http2_keepalive_interval(Some(self.config.keepalive))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .layer(envelope)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(
                BrandProfileServiceServer::new(profiles).max_decoding_message_size(max_request),
            )
            .add_service(ScoringServiceServer::new(scoring).max_decoding_message_size(max_request))
            .add_service(
                GuardrailServiceServer::new(guardrails).max_decoding_message_size(max_request),
            )
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            });
        let mut server = tokio::spawn(server);
        tracing::info!(
            addr = %self.addr,
            tls = self.tls.is_some(),
            max_in_flight = self.in_flight.max(),
            "kairos listening"
        );

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
        if let Some(watch) = store_watch {
            // Before health turns NOT_SERVING for shutdown, so the watcher
            // cannot turn it back.
            watch.stop().await;
        }
        index_build.abort();
        if let Some(result) = early {
            background.finish().await;
            close_store(&*self.store).await;
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
        background.finish().await;
        close_store(&*self.store).await;
        tracing::info!("stopped");
        Ok(())
    }
}

impl Application {
    /// With a shared store: the follower of other replicas' writes, and the
    /// health watcher of the store's reachability.
    fn watch_store(&self, health: &tonic_health::server::HealthReporter) -> Option<StoreWatch> {
        let feed = self.store.changes()?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let replica = crate::follow::Replica {
            cache: self.cache.clone(),
            blackouts: self.scorer.blackouts.clone(),
            engagements: self.scorer.engagements.clone(),
            index: self.index.clone(),
            store: self.store.clone(),
        };
        let follower = tokio::spawn(crate::follow::follow(
            feed,
            replica,
            self.config.store_resync_interval,
            stopped.clone(),
        ));
        let watcher = tokio::spawn(crate::grpc::health::watch_store(
            self.store.clone(),
            health.clone(),
            STORE_PING_EVERY,
            stopped,
        ));
        Some(StoreWatch {
            stop,
            follower,
            watcher,
        })
    }

    /// The metrics endpoint, when `--metrics-listen` bound one.
    fn serve_metrics(&mut self, background: &Background) {
        let Some(listener) = self.metrics_listener.take() else {
            return;
        };
        let metrics = self.metrics.clone();
        let cache = self.cache.clone();
        let scorer = self.scorer.clone();
        let render: Arc<dyn Fn() -> String + Send + Sync> =
            Arc::new(move || metrics.render(cache.entry_count(), scorer.log.queue_depth()));
        tokio::spawn(crate::metrics::serve(
            listener,
            render,
            background.stopped(),
        ));
        if let Some(a) = self.metrics_addr {
            tracing::info!(addr = %a, "metrics listening");
        }
    }

    /// Says at start how callers are authenticated, and warns when nobody
    /// is, or when keys would cross the network in clear text.
    fn log_credentials(&self) {
        let key_count = self.keys.get().len();
        if key_count == 0 {
            tracing::warn!(
                addr = %self.addr,
                "no API keys: every RPC is open to whoever can reach this address \
                 (give --api-keys to require keys)"
            );
        } else {
            tracing::info!(keys = key_count, "API keys loaded");
        }
        if self.tls.is_none() && key_count > 0 {
            tracing::warn!("API keys without TLS: keys cross the network in clear text");
        }
    }
}

/// The tasks that follow a shared store.
struct StoreWatch {
    stop: tokio::sync::watch::Sender<bool>,
    follower: tokio::task::JoinHandle<()>,
    watcher: tokio::task::JoinHandle<()>,
}

impl StoreWatch {
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.watcher.abort();
        let _ = self.watcher.await;
        self.follower.abort();
    }
}

/// Builds the candidate index beside the server: until it is ready,
/// RankBrands walks every stored brand.
fn spawn_index_build(
    index: Arc<CandidateIndex>,
    store: Arc<dyn ProfileStore>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match index.build(&*store).await {
            Ok(n) => {
                let stats = index.stats();
                tracing::info!(
                    brands = n,
                    keys = stats.keys,
                    postings = stats.postings,
                    approx_mb = stats.approx_bytes as f64 / (1 << 20) as f64,
                    secs = started.elapsed().as_secs_f64(),
                    "candidate index ready"
                )
            }
            Err(e) => tracing::error!(
                error = %crate::error::chain(&e),
                "candidate index not built; RankBrands walks every brand"
            ),
        }
    })
}

/// The tasks that run beside the server: the decision-log writer, retention
/// and the SIGHUP key reload. They stop through one watch.
struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    writer: Option<tokio::task::JoinHandle<()>>,
    retention: tokio::task::JoinHandle<()>,
    reload: tokio::task::JoinHandle<()>,
}

impl Background {
    fn spawn(app: &mut Application, store: Arc<dyn Store>) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let reload = tokio::spawn(reload_keys_on_hangup(
            app.keys.clone(),
            app.keys_path.clone(),
            app.admin_token.clone(),
            stopped.clone(),
        ));
        let writer = app
            .writer
            .take()
            .map(|w| tokio::spawn(w.run(stopped.clone())));
        let retention = tokio::spawn(run_retention(
            store,
            app.scorer.engagements.clone(),
            app.metrics.clone(),
            app.engagement_retention,
            app.decision_retention,
            Duration::from_secs(3600),
            stopped,
        ));
        Self {
            stop,
            writer,
            retention,
            reload,
        }
    }

    /// A receiver that sees the stop, for tasks spawned beside these.
    fn stopped(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stops the tasks once no RPC can submit more: the writer first writes
    /// what the decision log accepted.
    async fn finish(self) {
        let _ = self.stop.send(true);
        if let Some(writer) = self.writer
            && writer.await.is_err()
        {
            tracing::error!("decision log writer failed");
        }
        self.retention.abort();
        self.reload.abort();
    }
}

/// How long closing the store may take at shutdown. Closing waits for
/// connections in use to come back, and a PostgreSQL gone silent (a
/// partition, not a refusal) would otherwise hold the exit until TCP gives up.
const STORE_CLOSE_GRACE: Duration = Duration::from_secs(5);

async fn close_store(store: &dyn Store) {
    if tokio::time::timeout(STORE_CLOSE_GRACE, store.close())
        .await
        .is_err()
    {
        tracing::warn!("the store did not close in time; exiting anyway");
    }
}

/// The embedded store in --data-dir, or PostgreSQL when --store says so.
async fn open_store(config: &ServeConfig) -> Result<Arc<dyn Store>, AppError> {
    let location = match &config.store {
        Some(url) => {
            tracing::info!(store = %url.redacted(), "store: PostgreSQL (shared by replicas)");
            Location::Postgres(PgOptions {
                url: url.secret().to_string(),
                max_connections: config.store_max_connections,
                timeout: config.store_timeout,
            })
        }
        None => Location::Embedded(&config.data_dir),
    };
    Ok(crate::store::open(location).await?)
}

/// Takes the data directory's advisory lock (released by the kernel when
/// the process ends, however it ends), so a second server on the same
/// directory stops at start instead of serving stale state.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, AppError> {
    let path = dir.join("kairos.lock");
    let shown = || dir.display().to_string();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| AppError::Lock {
            path: path.display().to_string(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AppError::DataDirLocked { path: shown() }),
        Err(std::fs::TryLockError::Error(source)) => Err(AppError::Lock {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// The TLS settings, read from the PEM files now so a bad path stops the
/// start with the file's name.
fn tls_config(config: &ServeConfig) -> Result<Option<Arc<rustls::ServerConfig>>, AppError> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    Ok(Some(crate::tls::server_config(
        cert,
        key,
        config.tls_client_ca.as_deref(),
    )?))
}

/// SIGHUP reloads the keys file. A file that does not load leaves the keys
/// in force unchanged, and the log says why.
async fn reload_keys_on_hangup(
    keys: Arc<Keys>,
    path: Option<std::path::PathBuf>,
    admin_token: Option<String>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot watch SIGHUP: API keys reload only on restart");
            return;
        };
        loop {
            tokio::select! {
                got = hangup.recv() => if got.is_none() { return },
                _ = stop.changed() => return,
            }
            let Some(path) = &path else {
                tracing::info!("SIGHUP: no --api-keys file to reload");
                continue;
            };
            match KeySet::load(Some(path), admin_token.as_deref()) {
                Ok(set) => {
                    let n = set.len();
                    keys.replace(set);
                    tracing::info!(keys = n, path = %path.display(), "API keys reloaded");
                }
                Err(e) => tracing::error!(
                    error = %crate::error::chain(&e),
                    "API keys not reloaded; the previous keys stay in force"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (keys, path, admin_token);
        let _ = stop.changed().await;
    }
}
