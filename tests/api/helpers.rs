//! Test harness: a real server on 127.0.0.1:0 with a temporary data dir,
//! typed clients, and a clean stop. Set `TEST_LOG=1` to see server logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Once;

use kairos::app::Application;
use kairos::config::{LogFormat, ServeConfig};
use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

static LOGS: Once = Once::new();

pub struct TestApp {
    pub addr: SocketAddr,
    pub profiles: BrandProfileServiceClient<Channel>,
    pub channel: Channel,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
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
    if std::env::var_os("TEST_LOG").is_some() {
        LOGS.call_once(|| kairos::telemetry::init(LogFormat::Text));
    }
    let config = ServeConfig::for_tests(PathBuf::from(data_dir));
    let app = Application::build(config).await.expect("build app");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
        .await
        .expect("server ran");
    });
    // The listener is bound already: connecting cannot race the server.
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    TestApp {
        addr,
        profiles: BrandProfileServiceClient::new(channel.clone()),
        channel,
        stop: Some(stop),
        task: Some(task),
        _dir: None,
    }
}

impl TestApp {
    /// Stops the server and waits until it has released the store.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
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
