//! Test harness: a real server on 127.0.0.1:0 with a temporary data dir,
//! typed clients, and a clean stop. Set `TEST_LOG=1` to see server logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Once;

use kairos::app::{AppError, Application};
use kairos::config::{LogFormat, ServeConfig};
use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use kairos::grpc::pb::guardrail_service_client::GuardrailServiceClient;
use kairos::grpc::pb::scoring_service_client::ScoringServiceClient;
use kairos::metrics::Metrics;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

static LOGS: Once = Once::new();

pub struct TestApp {
    pub addr: SocketAddr,
    pub profiles: BrandProfileServiceClient<Channel>,
    pub scoring: ScoringServiceClient<Channel>,
    pub guardrails: GuardrailServiceClient<Channel>,
    pub metrics: std::sync::Arc<Metrics>,
    pub metrics_addr: Option<SocketAddr>,
    pub channel: Channel,
    server: Option<Server>,
    /// Held so the directory lives as long as the app (None when the
    /// caller owns the directory, e.g. for restart tests).
    _dir: Option<tempfile::TempDir>,
}

/// Starts a server on a fresh temporary data dir.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = spawn_app_in(dir.path()).await;
    app._dir = Some(dir);
    app
}

/// Starts a server on `data_dir` (which the caller keeps alive).
pub async fn spawn_app_in(data_dir: &Path) -> TestApp {
    spawn_app_with(ServeConfig::for_tests(PathBuf::from(data_dir))).await
}

/// Starts a server with a config built by the test.
pub async fn spawn_app_with(config: ServeConfig) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        LOGS.call_once(|| kairos::telemetry::init(LogFormat::Text));
    }
    let server = Server::start(config).await.expect("build app");
    let addr = server.addr;
    // The listener is bound already: connecting cannot race the server.
    let channel = server.plain_channel().await;
    TestApp {
        addr,
        profiles: BrandProfileServiceClient::new(channel.clone()),
        scoring: ScoringServiceClient::new(channel.clone()),
        guardrails: GuardrailServiceClient::new(channel.clone()),
        metrics: server.metrics.clone(),
        metrics_addr: server.metrics_addr,
        channel,
        server: Some(server),
        _dir: None,
    }
}

/// A server started from a config, without a client (it may need TLS).
pub struct Server {
    pub addr: SocketAddr,
    pub metrics: std::sync::Arc<Metrics>,
    pub metrics_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(config: ServeConfig) -> Result<Server, AppError> {
        let app = Application::build(config).await?;
        let addr = app.local_addr();
        let metrics = app.metrics();
        let metrics_addr = app.metrics_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
            .expect("server ran");
        });
        Ok(Server {
            addr,
            metrics,
            metrics_addr,
            stop: Some(stop),
            task,
        })
    }

    pub async fn plain_channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect")
    }

    /// Stops the server and waits until it has released the store.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.await.expect("server task");
    }
}

impl TestApp {
    /// Stops the server and waits until it has released the store.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    pub async fn upsert(
        &mut self,
        profile: pb::BrandProfile,
        expected_version: Option<i64>,
    ) -> Result<pb::BrandProfile, tonic::Status> {
        self.profiles
            .upsert_brand_profile(pb::UpsertBrandProfileRequest {
                profile: Some(profile),
                expected_version,
            })
            .await
            .map(|r| r.into_inner().profile.expect("profile in response"))
    }

    pub async fn get(&mut self, brand_id: &str) -> Result<pb::BrandProfile, tonic::Status> {
        self.profiles
            .get_brand_profile(pb::GetBrandProfileRequest {
                brand_id: brand_id.into(),
            })
            .await
            .map(|r| r.into_inner().profile.expect("profile in response"))
    }
}

/// A small valid profile.
pub fn profile(brand_id: &str) -> pb::BrandProfile {
    pb::BrandProfile {
        brand_id: brand_id.into(),
        display_name: format!("Brand {brand_id}"),
        aliases: vec![format!("@{brand_id}")],
        category: "Food & Drink".into(),
        themes: vec![
            pb::WeightedTerm {
                term: "cookie".into(),
                weight: 1.0,
            },
            pb::WeightedTerm {
                term: "dunk in the dark".into(),
                weight: 0.8,
            },
        ],
        audience_time_zone: "America/New_York".into(),
        active_windows: vec![pb::LocalWindow {
            start_minute: 15 * 60,
            end_minute: 18 * 60 + 30,
        }],
        risk_appetite: pb::RiskAppetite::Balanced as i32,
        ..Default::default()
    }
}

/// The field named by the status's BadRequest detail.
pub fn violated_field(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
}

/// The ErrorInfo reason of a status.
pub fn error_reason(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    status.get_details_error_info().map(|i| i.reason)
}

pub fn ts(rfc3339: &str) -> prost_types::Timestamp {
    let t: jiff::Timestamp = rfc3339.parse().expect("timestamp");
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: t.subsec_nanosecond(),
    }
}

pub fn secs(s: i64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: s,
        nanos: 0,
    }
}

/// A cookie brand whose platform is dunking, milk and the dark; newsjacking
/// approval takes ten minutes, customer care five.
pub fn cookie_brand(brand_id: &str) -> pb::BrandProfile {
    pb::BrandProfile {
        brand_id: brand_id.into(),
        display_name: "Crumbly Cookies".into(),
        aliases: vec!["@crumbly".into()],
        category: "Food & Drink".into(),
        themes: ["cookie", "dunk", "milk", "dark", "snack"]
            .iter()
            .map(|t| pb::WeightedTerm {
                term: t.to_string(),
                weight: 0.9,
            })
            .collect(),
        audience_time_zone: "America/New_York".into(),
        approval_latency: vec![
            pb::ModeLatency {
                mode: pb::EngagementMode::Newsjack as i32,
                latency: Some(secs(600)),
            },
            pb::ModeLatency {
                mode: pb::EngagementMode::CustomerCare as i32,
                latency: Some(secs(300)),
            },
        ],
        ..Default::default()
    }
}

/// A live moment that fits the cookie brand: lights out at the big game.
pub fn blackout_moment(id: &str, occurred_at: &str) -> pb::Event {
    pb::Event {
        id: id.into(),
        kind: pb::EventKind::LiveEvent as i32,
        text: "The lights just went out at the stadium during the championship game, \
               everyone is sitting in the dark waiting for power"
            .into(),
        hashtags: vec!["#PowerOutage".into(), "#GameDay".into()],
        occurred_at: Some(ts(occurred_at)),
        audience_time_zone: "America/New_York".into(),
        velocity: Some(pb::Velocity {
            mentions_per_minute: 4000.0,
            history_per_minute: vec![100.0, 600.0, 2000.0],
            window: None,
        }),
        ..Default::default()
    }
}

/// A complaint addressed to the brand.
pub fn complaint(id: &str, author: &str, occurred_at: &str) -> pb::Event {
    pb::Event {
        id: id.into(),
        kind: pb::EventKind::Complaint as i32,
        text: "@crumbly my cookie order never arrived, third time this month".into(),
        occurred_at: Some(ts(occurred_at)),
        addressed_to_brand: true,
        author: Some(pb::Author {
            id: author.into(),
            follower_count: 120,
            ..Default::default()
        }),
        conversation_id: format!("conv-{author}"),
        audience_time_zone: "America/New_York".into(),
        ..Default::default()
    }
}

pub fn codes(a: &pb::Assessment) -> Vec<pb::ReasonCode> {
    a.reasons.iter().map(|r| r.code()).collect()
}

/// Runs the `kairos` binary with `args`: (exit code, stdout, stderr).
pub async fn kairos(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kairos"))
            .args(&args)
            .output()
            .expect("run kairos");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}
