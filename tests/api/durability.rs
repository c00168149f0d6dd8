//! An acknowledged write survives `kill -9` of the real binary.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use kairos::grpc::pb::{GetBrandProfileRequest, UpsertBrandProfileRequest};

use crate::helpers::profile;

/// Starts `kairos serve` on port 0 and reads the bound address from its
/// JSON log. The rest of stderr is drained so the server never blocks.
fn start_binary(data_dir: &Path) -> (Child, SocketAddr) {
    start_binary_with(data_dir, &[])
}

/// `start_binary` with more `serve` flags.
pub fn start_binary_with(data_dir: &Path, extra: &[&std::ffi::OsStr]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kairos"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kairos");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["message"] == "kairos listening"
                && let Some(addr) = v["addr"].as_str().and_then(|a| a.parse().ok())
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(addr);
            }
        }
    });
    let addr: SocketAddr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server logged its address");
    (child, addr)
}

#[tokio::test]
async fn acknowledged_write_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start_binary(dir.path());
    let mut client = BrandProfileServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let mut written = Vec::new();
    for i in 0..20 {
        let p = client
            .upsert_brand_profile(UpsertBrandProfileRequest {
                profile: Some(profile(&format!("brand-{i}"))),
                expected_version: None,
            })
            .await
            .unwrap()
            .into_inner()
            .profile
            .unwrap();
        written.push(p);
    }
    drop(client);
    // SIGKILL: no shutdown hook, no flush.
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, addr) = start_binary(dir.path());
    let mut client = BrandProfileServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    for p in &written {
        let got = client
            .get_brand_profile(GetBrandProfileRequest {
                brand_id: p.brand_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .profile
            .unwrap();
        assert_eq!(&got, p);
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _addr) = start_binary(dir.path());
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}
