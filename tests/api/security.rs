//! Credentials and transport security: scoped API keys, rate limits, TLS
//! and mutual TLS, each against the real server on loopback.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kairos::config::ServeConfig;
use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use kairos::grpc::pb::guardrail_service_client::GuardrailServiceClient;
use kairos::grpc::pb::scoring_service_client::ScoringServiceClient;
use kairos::metrics::Rejection;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_types::StatusExt;

pub use crate::helpers::Server;
use crate::helpers::{complaint, cookie_brand, error_reason, ts};

pub fn sha256_hex(secret: &str) -> String {
    kairos::access::sha256(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Three keys, one per scope, plus a rate-limited one.
pub fn write_keys(dir: &Path) -> PathBuf {
    let path = dir.join("keys.yaml");
    std::fs::write(
        &path,
        format!(
            "keys:\n\
             \x20 - name: pipeline\n    sha256: {}\n    scopes: [score]\n\
             \x20 - name: dashboard\n    sha256: {}\n    scopes: [read]\n\
             \x20 - name: ops\n    sha256: {}\n    scopes: [admin]\n\
             \x20 - name: slow\n    sha256: {}\n    scopes: [score]\n    rate_per_second: 1\n    burst: 2\n",
            sha256_hex("score-secret"),
            sha256_hex("read-secret"),
            sha256_hex("admin-secret"),
            sha256_hex("slow-secret"),
        ),
    )
    .unwrap();
    path
}

fn with_key<T>(message: T, key: Option<&str>) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Some(k) = key {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {k}").parse().unwrap());
    }
    r
}

fn score_request() -> pb::ScoreRequest {
    pb::ScoreRequest {
        brand_id: "crumbly".into(),
        event: Some(complaint("ev-1", "ann", "2026-02-03T20:00:00Z")),
        now: Some(ts("2026-02-03T20:02:00Z")),
        log_decision: true,
        ..Default::default()
    }
}

/// Loads the brand the scope checks score, with an admin `key`.
async fn load_crumbly(channel: &Channel, key: &str) {
    BrandProfileServiceClient::new(channel.clone())
        .upsert_brand_profile(with_key(
            pb::UpsertBrandProfileRequest {
                profile: Some(cookie_brand("crumbly")),
                expected_version: None,
            },
            Some(key),
        ))
        .await
        .unwrap();
}

/// One RPC of each service, called with `key`: the codes, in order:
/// Score, RecordEngagement, GetBrandProfile, ListDecisions, CreateBlackout.
async fn codes_for(channel: &Channel, key: Option<&str>) -> Vec<Code> {
    let mut scoring = ScoringServiceClient::new(channel.clone());
    let mut profiles = BrandProfileServiceClient::new(channel.clone());
    let mut guardrails = GuardrailServiceClient::new(channel.clone());
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    vec![
        code(
            scoring
                .score(with_key(score_request(), key))
                .await
                .map(drop),
        ),
        code(
            guardrails
                .record_engagement(with_key(
                    pb::RecordEngagementRequest {
                        engagement: Some(pb::Engagement {
                            brand_id: "crumbly".into(),
                            author_id: "someone".into(),
                            ..Default::default()
                        }),
                    },
                    key,
                ))
                .await
                .map(drop),
        ),
        code(
            profiles
                .get_brand_profile(with_key(
                    pb::GetBrandProfileRequest {
                        brand_id: "crumbly".into(),
                    },
                    key,
                ))
                .await
                .map(drop),
        ),
        code(
            guardrails
                .list_decisions(with_key(pb::ListDecisionsRequest::default(), key))
                .await
                .map(drop),
        ),
        code(
            guardrails
                .create_blackout(with_key(
                    pb::CreateBlackoutRequest {
                        blackout: Some(pb::Blackout {
                            scope: pb::BlackoutScope::Brand as i32,
                            brand_id: "nobody-else".into(),
                            reason: "scope test".into(),
                            ..Default::default()
                        }),
                    },
                    key,
                ))
                .await
                .map(drop),
        ),
    ]
}

#[tokio::test]
async fn every_scope_gets_the_code_its_credential_allows() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path().join("data"));
    config.api_keys = Some(write_keys(dir.path()));
    let server = Server::start(config).await.unwrap();
    let channel = server.plain_channel().await;
    load_crumbly(&channel, "admin-secret").await;

    use Code::{Ok as OK, PermissionDenied as DENIED, Unauthenticated as UNAUTH};
    assert_eq!(codes_for(&channel, None).await, [UNAUTH; 5], "no key");
    assert_eq!(
        codes_for(&channel, Some("not-a-key")).await,
        [UNAUTH; 5],
        "unknown key"
    );
    assert_eq!(
        codes_for(&channel, Some("score-secret")).await,
        [OK, OK, DENIED, DENIED, DENIED],
        "score key"
    );
    assert_eq!(
        codes_for(&channel, Some("read-secret")).await,
        [DENIED, DENIED, OK, OK, DENIED],
        "read key"
    );
    assert_eq!(
        codes_for(&channel, Some("admin-secret")).await,
        [OK; 5],
        "admin key"
    );

    // PERMISSION_DENIED names the scope that was needed.
    let denied = BrandProfileServiceClient::new(channel.clone())
        .delete_brand_profile(with_key(
            pb::DeleteBrandProfileRequest {
                brand_id: "crumbly".into(),
            },
            Some("read-secret"),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let info = denied.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "MISSING_SCOPE");
    assert_eq!(
        info.metadata,
        HashMap::from([
            ("scope".to_string(), "admin".to_string()),
            ("key".to_string(), "dashboard".to_string())
        ])
    );
    // The secret never appears in what a caller is told.
    assert!(!format!("{denied:?}").contains("read-secret"));

    // Health and reflection stay open without a key.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();

    // The decision log says which key asked.
    let decisions = GuardrailServiceClient::new(channel.clone())
        .list_decisions(with_key(
            pb::ListDecisionsRequest::default(),
            Some("read-secret"),
        ))
        .await
        .unwrap()
        .into_inner()
        .decisions;
    assert!(!decisions.is_empty());
    assert!(
        decisions
            .iter()
            .all(|d| d.caller == "pipeline" || d.caller == "ops")
    );
    assert!(decisions.iter().any(|d| d.caller == "pipeline"));

    assert!(server.metrics.rejected(Rejection::Unauthenticated) >= 10);
    assert!(server.metrics.rejected(Rejection::PermissionDenied) >= 6);
    server.stop().await;
}

#[tokio::test]
async fn a_key_over_its_rate_gets_resource_exhausted_with_retry_info() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path().join("data"));
    config.api_keys = Some(write_keys(dir.path()));
    let server = Server::start(config).await.unwrap();
    let channel = server.plain_channel().await;
    let mut scoring = ScoringServiceClient::new(channel);
    // Burst 2 at 1/s: the third call in quick succession is over the rate.
    let mut codes = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        match scoring
            .score(with_key(score_request(), Some("slow-secret")))
            .await
        {
            // NOT_FOUND: the brand was never loaded; the call was admitted.
            Ok(_) => codes.push(Code::Ok),
            Err(s) => {
                codes.push(s.code());
                last = Some(s);
            }
        }
    }
    assert_eq!(
        codes,
        [Code::NotFound, Code::NotFound, Code::ResourceExhausted]
    );
    let status = last.unwrap();
    let retry = status.get_details_retry_info().expect("RetryInfo");
    let delay = retry.retry_delay.expect("retry delay");
    assert!(delay > Duration::ZERO && delay <= Duration::from_secs(1));
    assert_eq!(error_reason(&status).as_deref(), Some("RATE_LIMITED"));
    assert_eq!(server.metrics.rejected(Rejection::RateLimit), 1);
    server.stop().await;
}

#[tokio::test]
async fn admin_token_is_one_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.admin_token = Some("s3cret".into());
    let server = Server::start(config).await.unwrap();
    let channel = server.plain_channel().await;
    assert_eq!(codes_for(&channel, None).await, [Code::Unauthenticated; 5]);
    load_crumbly(&channel, "s3cret").await;
    assert_eq!(codes_for(&channel, Some("s3cret")).await, [Code::Ok; 5]);
    server.stop().await;
}

/// A CA, and certificates it signed for the server and a client.
pub struct Pki {
    pub ca_pem: String,
    pub ca_key: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
}

fn ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap()
}

fn leaf(
    issuer: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    names: &[&str],
) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

pub fn pki() -> Pki {
    let authority = ca("kairos-test-ca");
    let (server_cert, server_key) = leaf(&authority, &["localhost", "127.0.0.1"]);
    let (client_cert, client_key) = leaf(&authority, &["client"]);
    Pki {
        ca_pem: authority.pem(),
        ca_key: authority.key().serialize_pem(),
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

pub fn tls_config(dir: &Path, pki: &Pki, mutual: bool) -> ServeConfig {
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mut config = ServeConfig::for_tests(dir.join("data"));
    config.tls_cert = Some(write("server.pem", &pki.server_cert));
    config.tls_key = Some(write("server.key", &pki.server_key));
    if mutual {
        config.tls_client_ca = Some(write("ca.pem", &pki.ca_pem));
    }
    config
}

/// A health check over TLS with the given trust root and client identity.
async fn tls_health(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    identity: Option<(&str, &str)>,
) -> Result<(), String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Channel::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .map(drop)
        .map_err(|s| format!("{s:?}"))
}

#[tokio::test]
async fn tls_serves_clients_that_trust_its_ca_and_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let server = Server::start(tls_config(dir.path(), &pki, false))
        .await
        .unwrap();
    tls_health(server.addr, &pki.ca_pem, None).await.unwrap();
    // A client that trusts another CA does not complete the handshake.
    let other = ca("someone-else");
    assert!(tls_health(server.addr, &other.pem(), None).await.is_err());
    // Plaintext HTTP/2 against the TLS port fails.
    let plain = Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .timeout(Duration::from_secs(5))
        .connect()
        .await;
    if let Ok(channel) = plain {
        let r = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await;
        assert!(r.is_err(), "plaintext call succeeded against a TLS port");
    }
    server.stop().await;
}

#[tokio::test]
async fn mutual_tls_admits_only_certificates_from_the_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let server = Server::start(tls_config(dir.path(), &pki, true))
        .await
        .unwrap();
    tls_health(
        server.addr,
        &pki.ca_pem,
        Some((&pki.client_cert, &pki.client_key)),
    )
    .await
    .unwrap();
    assert!(
        tls_health(server.addr, &pki.ca_pem, None).await.is_err(),
        "no client certificate was accepted"
    );
    let rogue = ca("rogue-ca");
    let (cert, key) = leaf(&rogue, &["intruder"]);
    assert!(
        tls_health(server.addr, &pki.ca_pem, Some((&cert, &key)))
            .await
            .is_err(),
        "a certificate from another CA was accepted"
    );
    server.stop().await;
}

#[tokio::test]
async fn sighup_rotates_keys_without_a_restart_and_a_bad_file_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.yaml");
    let one_key = |name: &str, secret: &str| {
        format!(
            "keys:\n  - name: {name}\n    sha256: {}\n    scopes: [read]\n",
            sha256_hex(secret)
        )
    };
    std::fs::write(&keys, one_key("old", "old-secret")).unwrap();
    let (mut child, addr) = crate::durability::start_binary_with(
        &dir.path().join("data"),
        &["--api-keys".as_ref(), keys.as_os_str()],
    );
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let list = |key: &'static str| {
        let mut client = BrandProfileServiceClient::new(channel.clone());
        async move {
            client
                .list_brand_profiles(with_key(pb::ListBrandProfilesRequest::default(), Some(key)))
                .await
                .err()
                .map_or(Code::Ok, |s| s.code())
        }
    };
    let hangup = |pid: u32| {
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP");
    };
    // Polls until the reload shows, for at most 10 s.
    async fn eventually<F: std::future::Future<Output = bool>>(mut f: impl FnMut() -> F) -> bool {
        for _ in 0..100 {
            if f().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
    assert_eq!(list("old-secret").await, Code::Ok);
    assert_eq!(list("new-secret").await, Code::Unauthenticated);

    std::fs::write(&keys, one_key("new", "new-secret")).unwrap();
    hangup(child.id());
    assert!(
        eventually(|| async { list("new-secret").await == Code::Ok }).await,
        "the new key never worked"
    );
    assert_eq!(list("old-secret").await, Code::Unauthenticated);

    // A broken file is refused and the keys in force stay.
    std::fs::write(&keys, "keys: [this is not a key").unwrap();
    hangup(child.id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(list("new-secret").await, Code::Ok);
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs openssl, failing the test when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed for this test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl x509 -req` without an extensions file signs X.509 v1
/// certificates, which webpki does not read; they are accepted when signed
/// by the client CA, and a look-alike CA (same name, other key) is not.
// grpcurl runs as a blocking child process: the server needs threads of
// its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_accepts_v1_client_certificates_signed_by_the_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = pki();
    let server = Server::start(tls_config(d, &pki, true)).await.unwrap();
    let v1_client = |ca: &str, ca_key: &str, name: &str| -> (String, String) {
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                ca,
                "-CAkey",
                ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &format!("{name}.pem"),
            ],
        );
        let cert = std::fs::read_to_string(d.join(format!("{name}.pem"))).unwrap();
        let key = std::fs::read_to_string(d.join(format!("{name}.key"))).unwrap();
        (cert, key)
    };
    // The real CA, as files openssl can sign with.
    std::fs::write(d.join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(d.join("ca.key"), &pki.ca_key).unwrap();
    v1_client("ca.pem", "ca.key", "legacy");
    assert!(
        std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in", "legacy.pem"])
            .current_dir(d)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("Version: 1 (0x0)"))
            .unwrap_or(false),
        "openssl did not make a v1 certificate"
    );
    // rustls refuses to present a v1 certificate as a client, so the
    // client here is grpcurl (Go), as an operator's would be.
    assert!(
        grpcurl_health(d, server.addr, "legacy"),
        "the v1 certificate was refused"
    );
    // A CA with the same name but another key cannot vouch for anyone.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=kairos-test-ca",
            "-keyout",
            "fake.key",
            "-out",
            "fake.pem",
        ],
    );
    v1_client("fake.pem", "fake.key", "forged");
    assert!(
        !grpcurl_health(d, server.addr, "forged"),
        "a v1 certificate from a look-alike CA was accepted"
    );
    server.stop().await;
}

/// A health check by grpcurl over mutual TLS with `<name>.pem`/`<name>.key`.
fn grpcurl_health(dir: &Path, addr: std::net::SocketAddr, name: &str) -> bool {
    let out = std::process::Command::new("grpcurl")
        .args([
            "-cacert",
            "ca.pem",
            "-cert",
            &format!("{name}.pem"),
            "-key",
            &format!("{name}.key"),
            "-servername",
            "localhost",
            "-max-time",
            "5",
        ])
        .arg(addr.to_string())
        .arg("grpc.health.v1.Health/Check")
        .current_dir(dir)
        .output()
        .expect("grpcurl (scripts/test.sh installs it)");
    let ok = String::from_utf8_lossy(&out.stdout).contains("SERVING");
    if !ok {
        eprintln!("grpcurl: {}", String::from_utf8_lossy(&out.stderr));
    }
    ok
}
