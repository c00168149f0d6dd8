//! The README's "Running in production" block, run with bash as written:
//! only the port is replaced (and 0.0.0.0 by loopback), `kairos` is the
//! binary under test, and the files it names (brands.yaml, request.json)
//! are made first. The server it starts is stopped afterwards.

use std::process::Command;

const README: &str = include_str!("../../README.md");

fn production_block() -> String {
    README
        .split("## Running in production")
        .nth(1)
        .and_then(|s| s.split("```sh").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("sh block in Running in production")
        .to_string()
}

#[test]
fn running_in_production_works_as_written() {
    let Ok(openssl) = Command::new("openssl").arg("version").output() else {
        panic!("openssl is needed to run the README's production block");
    };
    assert!(openssl.status.success());
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("brands.yaml"),
        "brand_id: crumbly\ndisplay_name: Crumbly Cookies\naliases: ['@crumbly']\n\
         themes: [cookie, dunk]\naudience_time_zone: America/New_York\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("request.json"),
        r#"{"brand_id": "crumbly", "now": "2026-02-03T20:02:00Z", "event": {"id": "e1",
            "kind": "EVENT_KIND_COMPLAINT", "text": "@crumbly my order never arrived",
            "addressed_to_brand": true, "occurred_at": "2026-02-03T20:00:00Z"}}"#,
    )
    .unwrap();
    let script = production_block()
        .replace("0.0.0.0:50051", &format!("127.0.0.1:{port}"))
        .replace(":50051", &format!(":{port}"));
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kairos"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Fail on the first failing command and stop the server (job %1, as in
    // the README) whatever happens; `timeout` bounds the whole run.
    let wrapped = format!(
        "set -euo pipefail\ntrap 'kill %1 2>/dev/null; wait' EXIT\n{script}\n\
         denied=$(grpcurl -cacert ca.pem -H \"authorization: Bearer $SCORE_KEY\" \
           -d '{{}}' localhost:{port} kairos.v1.GuardrailService/ListDecisions 2>&1 || true)\n\
         grep PermissionDenied <<<\"$denied\" >/dev/null\n"
    );
    let out = Command::new("timeout")
        .args(["120", "bash", "-c"])
        .arg(&wrapped)
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("KAIROS_API_KEY")
        .output()
        .expect("bash");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "production block failed:\n{text}");
    assert!(
        text.contains("\"decision\""),
        "no assessment printed:\n{text}"
    );
    assert!(text.contains("created 1"), "import did not report:\n{text}");
}
