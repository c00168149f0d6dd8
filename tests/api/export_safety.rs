//! `kairos decisions export --out FILE` replaces FILE only with a complete
//! export: a failed export leaves the previous file byte for byte.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kairos::grpc::pb;

use crate::helpers::{complaint, cookie_brand, spawn_app};

/// Runs `kairos decisions export --out <out> --server <server> <extra...>`.
async fn export(server: String, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args: Vec<String> = vec!["decisions".into(), "export".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(["--server".into(), server]);
    tokio::task::spawn_blocking(move || {
        let o = Command::new(env!("CARGO_BIN_EXE_kairos"))
            .args(&args)
            .output()
            .expect("run kairos");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// The names in `dir`: nothing but the output file may be left behind.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_failed_export_leaves_the_previous_file_and_a_complete_one_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("decisions.jsonl");
    // Not JSON Lines, and no trailing newline: any rewrite would show.
    let previous = b"yesterday's export\n{\"kept\": true}";
    std::fs::write(&out, previous).unwrap();

    // Nobody listens: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, err) = export(refused, &out, &[]).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), previous);
    assert_eq!(names(dir.path()), ["decisions.jsonl"]);

    // A server that answers, and rejects the query: the failure comes after
    // the output would have been opened.
    let mut app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let (code, err) = export(server.clone(), &out, &["--brand", "Not A Brand Id"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("INVALID_ARGUMENT"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), previous);
    assert_eq!(names(dir.path()), ["decisions.jsonl"]);

    // A decision to export; the log is written in the background.
    app.upsert(cookie_brand("crumbly"), None).await.unwrap();
    app.scoring
        .score(pb::ScoreRequest {
            event: Some(complaint("c-1", "ann", "2026-02-03T20:00:00Z")),
            brand_id: "crumbly".into(),
            now: Some(crate::helpers::ts("2026-02-03T20:02:00Z")),
            log_decision: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut logged = false;
    for _ in 0..100 {
        let page = app
            .guardrails
            .list_decisions(pb::ListDecisionsRequest::default())
            .await
            .unwrap()
            .into_inner();
        if !page.decisions.is_empty() {
            logged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(logged, "the decision reached the log");

    let (code, err) = export(server, &out, &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("exported 1 decisions"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["assessment"]["eventId"], "c-1");
    assert!(text.ends_with('\n'));
    assert_eq!(names(dir.path()), ["decisions.jsonl"]);
    app.stop().await;
}
