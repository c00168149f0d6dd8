//! The client commands of the `kairos` binary against a real server, and
//! the metrics endpoint.

use std::process::Command;

use kairos::config::ServeConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{kairos, spawn_app, spawn_app_with};

#[tokio::test]
async fn import_score_and_export_through_the_binary() {
    let mut app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("brands.yaml");
    std::fs::write(
        &profiles,
        r#"
profiles:
  - brand_id: crumbly
    display_name: Crumbly Cookies
    aliases: ["@crumbly"]
    themes: [cookie, dunk, milk, {term: dark, weight: 0.8}]
    audience_time_zone: America/New_York
    approval_latency:
      - {mode: customer_care, latency: 5m}
      - {mode: newsjack, latency: 10m}
  - brand_id: Bad Id
  - brand_id: crumbly-two
    themes: [{term: cookie, weight: 7}]
"#,
    )
    .unwrap();
    let (code, out, err) = kairos(vec![
        "import".into(),
        profiles.display().to_string(),
        "--server".into(),
        server.clone(),
    ])
    .await;
    assert_eq!(code, 2, "partial import exits 2: {out}{err}");
    assert!(out.contains("created 1, updated 0, rejected 2"), "{out}");
    // Numbered from 1: the second and third profiles of the file.
    assert!(out.contains("item 2") && out.contains("item 3"), "{out}");
    assert!(out.contains("themes[0].weight"), "{out}");
    assert_eq!(app.get("crumbly").await.unwrap().themes.len(), 4);

    let event = dir.path().join("complaint.json");
    std::fs::write(
        &event,
        r#"{"id": "c-1", "kind": "COMPLAINT", "text": "@crumbly my cookie order never arrived",
            "occurred_at": "2026-02-03T20:00:00Z", "addressed_to_brand": true,
            "author": {"id": "ann", "follower_count": 80}}"#,
    )
    .unwrap();
    let (code, out, err) = kairos(vec![
        "score".into(),
        "--brand".into(),
        "crumbly".into(),
        "--event".into(),
        event.display().to_string(),
        "--now".into(),
        "2026-02-03T20:02:00Z".into(),
        "--log".into(),
        "--server".into(),
        server.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("c-1 x crumbly: ENGAGE (mode CUSTOMER_CARE)"),
        "{out}"
    );
    assert!(out.contains("SOLICITED"), "{out}");

    // --json is the ScoreResponse as grpcurl prints it; a risk of 0 is
    // still there, as 0.
    let (code, out, err) = kairos(vec![
        "score".into(),
        "--brand".into(),
        "crumbly".into(),
        "--event".into(),
        event.display().to_string(),
        "--now".into(),
        "2026-02-03T20:02:00Z".into(),
        "--json".into(),
        "--server".into(),
        server.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let a = &v["assessment"];
    assert_eq!(
        (a["brandId"].as_str(), a["decision"].as_str()),
        (Some("crumbly"), Some("DECISION_ENGAGE")),
        "{v}"
    );
    assert_eq!(a["intrusivenessRisk"].as_f64(), Some(0.0), "{v}");
    assert_eq!(
        a["profileVersion"].as_str(),
        Some("1"),
        "int64 as a string: {v}"
    );
    assert!(
        a["maxReviewLatency"].as_str().unwrap().ends_with('s'),
        "{v}"
    );
    assert_eq!(
        a["reasons"][0]["code"]
            .as_str()
            .map(|c| c.starts_with("REASON_CODE_")),
        Some(true)
    );

    let (code, _, err) = kairos(vec![
        "score".into(),
        "--brand".into(),
        "nobody".into(),
        "--event".into(),
        event.display().to_string(),
        "--server".into(),
        server.clone(),
    ])
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("NOT_FOUND"), "{err}");

    // The decision log is written asynchronously; stopping flushes it, so
    // restart on the same directory is not needed: poll briefly instead.
    let out_file = dir.path().join("decisions.jsonl");
    let mut lines = Vec::new();
    for _ in 0..50 {
        let (code, _, err) = kairos(vec![
            "decisions".into(),
            "export".into(),
            "--brand".into(),
            "crumbly".into(),
            "--out".into(),
            out_file.display().to_string(),
            "--server".into(),
            server.clone(),
        ])
        .await;
        assert_eq!(code, 0, "{err}");
        lines = std::fs::read_to_string(&out_file)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(lines.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    // The proto's canonical JSON, as grpcurl prints a DecisionRecord.
    assert_eq!(v["assessment"]["eventId"], "c-1");
    assert_eq!(v["assessment"]["decision"], "DECISION_ENGAGE");
    assert_eq!(v["eventDigest"].as_str().unwrap().len(), 64);
    assert!(v["decidedAt"].as_str().unwrap().ends_with('Z'), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn metrics_endpoint_serves_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let app = spawn_app_with(config).await;
    let addr = app.metrics_addr.expect("metrics bound");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    sock.read_to_string(&mut body).await.unwrap();
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    for name in [
        "kairos_assessments_total",
        "kairos_decision_log_dropped_total",
        "kairos_decision_log_queue_depth",
        "kairos_profile_cache_entries",
    ] {
        assert!(body.contains(name), "{name} in {body}");
    }
    app.stop().await;
}

/// A client command whose reader goes away (`kairos ... | head`) ends
/// quietly by SIGPIPE instead of panicking inside `println!`.
#[tokio::test]
async fn a_closed_stdout_ends_a_client_command_without_a_panic() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let (status, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kairos"))
            .args(["bench", "--rpc", "health", "--seconds", "1", "--server"])
            .arg(&server)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kairos");
        // Close the only reader. Whatever the command printed before that
        // sits in the pipe; its next line, after a second of load at the
        // latest, meets a closed pipe.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (child.wait().unwrap(), stderr)
    })
    .await
    .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.signal(), Some(13), "ended by SIGPIPE: {status:?}");
    app.stop().await;
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn profiles_and_blackouts_are_managed_from_the_command_line() {
    let app = spawn_app().await;
    // host:port without a scheme is accepted.
    let server = app.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("brands.yaml");
    std::fs::write(
        &file,
        "profiles:\n  - brand_id: crumbly\n    display_name: Crumbly Cookies\n    themes: [cookie, {term: dark, weight: 0.8}]\n  - brand_id: farm\n    themes: [tractor]\n",
    )
    .unwrap();
    let run = |list: &[&str]| {
        let mut a = args(list);
        a.extend(args(&["--server", &server]));
        kairos(a)
    };
    let (code, out, err) = run(&["profiles", "import", &file.display().to_string()]).await;
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, _) = run(&["profiles", "list"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("crumbly") && out.contains("Crumbly Cookies") && out.contains("farm"),
        "{out}"
    );
    let (code, out, _) = run(&["profiles", "list", "--json"]).await;
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["brandId"], "crumbly");

    let (code, out, _) = run(&["profiles", "get", "crumbly"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("version 1") && out.contains("cookie (1.00)") && out.contains("dark (0.80)"),
        "{out}"
    );
    let (code, _, err) = run(&["profiles", "get", "nobody"]).await;
    assert_eq!(code, 1, "the server refused: exit 1");
    assert!(err.contains("not found"), "{err}");

    let (code, out, _) = run(&["profiles", "delete", "farm"]).await;
    assert_eq!((code, out.trim()), (0, "deleted farm"));
    let (_, out, _) = run(&["profiles", "list"]).await;
    assert!(!out.contains("farm"), "{out}");

    // The crisis switch.
    let (code, out, err) = run(&[
        "blackout",
        "create",
        "--scope",
        "brand",
        "--brand",
        "crumbly",
        "--reason",
        "storm damage, pause",
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("in force") && out.contains("brand crumbly"),
        "{out}"
    );
    let id = out.split_whitespace().nth(1).unwrap().to_string();
    let (code, out, _) = run(&["blackout", "list"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains(&id) && out.contains("storm damage, pause"),
        "{out}"
    );
    let (code, out, _) = run(&["blackout", "list", "--json"]).await;
    assert_eq!(code, 0);
    let b: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        (b["scope"].as_str(), b["brandId"].as_str()),
        (Some("BLACKOUT_SCOPE_BRAND"), Some("crumbly"))
    );
    let (code, out, _) = run(&["blackout", "delete", &id]).await;
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = run(&["blackout", "list"]).await;
    assert_eq!(out.trim(), "no blackouts in force");
    // A bad flag value is the server's refusal, named.
    let (code, _, err) = run(&["blackout", "create", "--scope", "topic", "--reason", "x"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("terms"), "{err}");

    // No server: exit 2, and the address is named.
    let (code, _, err) = kairos(args(&["profiles", "list", "--server", "127.0.0.1:1"])).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    app.stop().await;
}

/// examples/python/score.py, run as its README says, against a live server.
#[tokio::test]
async fn the_python_example_scores_a_moment() {
    let app = spawn_app().await;
    let addr = app.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/python/score.py"
            ))
            .arg(addr)
            .output()
            .expect("python3")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("profile crumbly stored at version 1"),
        "{stdout}"
    );
    assert!(stdout.contains("DECISION_"), "{stdout}");
    assert!(stdout.contains("REASON_CODE_THEME_MATCH"), "{stdout}");
    app.stop().await;
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    sock.read_to_string(&mut body).await.unwrap();
    body
}

/// The value of the series line that starts with `series` (labels and all).
fn series(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_move_with_traffic_by_method_code_and_decision() {
    use kairos::grpc::pb;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path());
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let mut app = spawn_app_with(config).await;
    let addr = app.metrics_addr.expect("metrics bound");
    app.upsert(crate::helpers::cookie_brand("crumbly"), None)
        .await
        .unwrap();
    for _ in 0..2 {
        app.scoring
            .score(pb::ScoreRequest {
                event: Some(crate::helpers::blackout_moment("m", "2026-02-03T20:38:00Z")),
                brand_id: "crumbly".into(),
                now: Some(crate::helpers::ts("2026-02-03T20:40:00Z")),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let missing = app.get("nobody").await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let body = scrape(addr).await;
    assert_eq!(
        series(
            &body,
            r#"kairos_rpc_duration_seconds_count{method="Score",code="OK"}"#
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        series(
            &body,
            r#"kairos_rpc_duration_seconds_count{method="GetBrandProfile",code="NOT_FOUND"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert!(
        body.contains(
            r#"kairos_rpc_duration_seconds_bucket{le="+Inf",method="Score",code="OK"} 2"#
        ) || body.contains(
            r#"kairos_rpc_duration_seconds_bucket{method="Score",code="OK",le="+Inf"} 2"#
        ),
        "{body}"
    );
    let decided: f64 = body
        .lines()
        .filter(|l| l.starts_with("kairos_decisions_total{decision="))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(decided, 2.0, "{body}");
    assert_eq!(
        series(&body, "kairos_profile_cache_misses_total"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        series(&body, "kairos_profile_cache_hits_total"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        series(&body, "kairos_assessments_total"),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        series(
            &body,
            r#"kairos_store_operation_duration_seconds_count{op="upsert_profile"}"#
        ),
        Some(1.0),
        "{body}"
    );
    // The first Score loaded the profile, and GetBrandProfile looked for one.
    assert!(
        series(
            &body,
            r#"kairos_store_operation_duration_seconds_count{op="get_profile"}"#
        )
        .is_some_and(|n| n >= 2.0),
        "{body}"
    );
    // ScoreStream items are observed one by one, each with its own code.
    let items = ["crumbly", "nobody"].map(|brand| pb::ScoreStreamRequest {
        event: Some(crate::helpers::blackout_moment("s", "2026-02-03T20:38:00Z")),
        brand_id: brand.into(),
        now: Some(crate::helpers::ts("2026-02-03T20:40:00Z")),
        ..Default::default()
    });
    let mut answers = app
        .scoring
        .score_stream(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    let mut answered = 0;
    while let Some(a) = answers.message().await.unwrap() {
        assert!(a.result.is_some());
        answered += 1;
    }
    assert_eq!(answered, 2);

    let body = scrape(addr).await;
    for code in ["OK", "NOT_FOUND"] {
        let line =
            format!(r#"kairos_rpc_duration_seconds_count{{method="ScoreStream",code="{code}"}}"#);
        assert_eq!(series(&body, &line), Some(1.0), "{body}");
    }
    app.stop().await;
}

/// The example profiles and events load and score as their comments say.
#[tokio::test]
async fn the_example_profiles_and_events_load_and_score() {
    let app = spawn_app().await;
    let server = app.addr.to_string();
    let root = env!("CARGO_MANIFEST_DIR");
    for name in ["snack", "airline", "bank"] {
        let (code, out, err) = kairos(args(&[
            "import",
            &format!("{root}/examples/profiles/{name}.yaml"),
            "--server",
            &server,
        ]))
        .await;
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("created 1"), "{name}: {out}");
    }
    for (brand, event, now, want) in [
        (
            "crumbly",
            "stadium-blackout",
            "2026-02-03T20:40:00Z",
            "ENGAGE",
        ),
        ("crumbly", "complaint", "2026-02-03T20:41:00Z", "ENGAGE"),
        ("skyway", "lost-luggage", "2026-03-10T09:05:00Z", "ENGAGE"),
        ("northbank", "flood-news", "2026-03-10T09:05:00Z", "DECLINE"),
    ] {
        let (code, out, err) = kairos(args(&[
            "score",
            "--brand",
            brand,
            "--event",
            &format!("{root}/examples/events/{event}.yaml"),
            "--now",
            now,
            "--server",
            &server,
        ]))
        .await;
        assert_eq!(code, 0, "{event}: {out}{err}");
        assert!(
            out.lines().next().unwrap_or("").contains(want),
            "{event}: {out}"
        );
    }
    app.stop().await;
}

/// examples/score.rs, the Rust client, against a live server.
#[tokio::test]
async fn the_rust_example_scores_a_moment() {
    let app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    // `cargo test` builds the examples; `cargo test --test api` alone does
    // not, and then it is built here. Without the variables cargo set for
    // this test, which would make some build scripts run again and the
    // next `cargo test` rebuild them too.
    let out = tokio::task::spawn_blocking(move || {
        let exe = std::path::Path::new(env!("CARGO_BIN_EXE_kairos"))
            .parent()
            .unwrap()
            .join("examples/score");
        if !exe.exists() {
            let mut build = Command::new(env!("CARGO"));
            build
                .args(["build", "--quiet", "--locked", "--example", "score"])
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy().into_owned();
                if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR" {
                    build.env_remove(&key);
                }
            }
            assert!(
                build
                    .status()
                    .expect("cargo build --example score")
                    .success()
            );
        }
        Command::new(exe).arg(server).output()
    })
    .await
    .unwrap()
    .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("profile crumbly stored at version 1"),
        "{stdout}"
    );
    assert!(stdout.contains("DECISION_ENGAGE"), "{stdout}");
    app.stop().await;
}

fn import_args(file: &std::path::Path, server: &str) -> Vec<String> {
    vec![
        "profiles".into(),
        "import".into(),
        file.display().to_string(),
        "--server".into(),
        server.into(),
    ]
}

/// Every file shape imports item by item, and a bad item is named by its
/// number and by its line (JSON Lines) or document (YAML).
#[tokio::test]
async fn import_names_bad_items_by_line_and_document() {
    let mut app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let dir = tempfile::tempdir().unwrap();

    let jsonl = dir.path().join("brands.jsonl");
    std::fs::write(
        &jsonl,
        "{\"brand_id\": \"l-one\", \"themes\": [\"tea\"]}\n\n\
         {\"profile\": {\"brand_id\": \"l-two\"}}\n\
         {\"brand_id\": \"l-bad\", \"colour\": \"blue\"}\n\
         not json\n\
         {\"brand_id\": \"l-weight\", \"themes\": [{\"term\": \"x\", \"weight\": 3}]}\n",
    )
    .unwrap();
    let (code, out, err) = kairos(import_args(&jsonl, &server)).await;
    assert_eq!(code, 2, "some items rejected: {out}{err}");
    assert!(out.contains("created 2, updated 0, rejected 3"), "{out}");
    // The blank line is not an item: the third item is on line 4.
    assert!(
        out.contains("item 3, line 4 (l-bad): ") && out.contains("colour"),
        "{out}"
    );
    assert!(out.contains("item 4, line 5: not JSON"), "{out}");
    assert!(
        out.contains("item 5, line 6 (l-weight): ") && out.contains("themes[0].weight"),
        "{out}"
    );
    assert_eq!(app.get("l-two").await.unwrap().brand_id, "l-two");

    let yaml = dir.path().join("brands.yaml");
    std::fs::write(
        &yaml,
        "display_name: One\nbrand_id: y-one\ncolour: red\n---\n# a comment only\n---\n\
         - brand_id: y-two\n- brand_id: y-bad\n  colour: blue\n--- \nprofiles:\n\
         \x20 - brand_id: y-three\n    themes:\n      - tea\n  - brand_id: [unclosed\n\
         \x20 - brand_id: y-four\n",
    )
    .unwrap();
    let (code, out, err) = kairos(import_args(&yaml, &server)).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("created 3, updated 0, rejected 3"), "{out}");
    // A whole document is placed by its number, list entries by line; an
    // entry that is not YAML is one bad item, and the next still imports.
    assert!(out.contains("item 1, document 1 (y-one): "), "{out}");
    assert!(out.contains("item 3, line 8 (y-bad): "), "{out}");
    assert!(out.contains("item 5, line 15: not YAML"), "{out}");
    assert_eq!(app.get("y-three").await.unwrap().themes[0].term, "tea");
    assert!(app.get("y-four").await.is_ok());

    // `...` ends a document; a document that is not YAML is one bad item,
    // and a directive before `---` is no document.
    let ends = dir.path().join("ends.yaml");
    std::fs::write(
        &ends,
        "- brand_id: z-one\n- brand_id: z-two\n...\n---\nbrand_id: [broken\n---\n\
         %YAML 1.2\n---\nbrand_id: z-three\n",
    )
    .unwrap();
    let (code, out, err) = kairos(import_args(&ends, &server)).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("created 3, updated 0, rejected 1"), "{out}");
    assert!(out.contains("item 3, document 2: not YAML"), "{out}");
    assert!(app.get("z-two").await.is_ok() && app.get("z-three").await.is_ok());

    let json = dir.path().join("brands.json");
    let list: Vec<serde_json::Value> = (0..600)
        .map(|i| serde_json::json!({"brand_id": format!("j-{i:03}"), "themes": ["tea"]}))
        .collect();
    std::fs::write(&json, serde_json::json!({ "profiles": list }).to_string()).unwrap();
    let (code, out, err) = kairos(import_args(&json, &server)).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created 600, updated 0, rejected 0"), "{out}");
    // Not a terminal: no bar, and a short import prints no progress line.
    assert!(!err.contains('\u{1b}'), "{err}");
    app.stop().await;
}
