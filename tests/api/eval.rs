//! `kairos eval` against a real server: every public corpus passes, a
//! harmful answer fails the run, and the file format's errors name the
//! place.

use std::path::{Path, PathBuf};

use crate::helpers::{kairos, spawn_app};

fn corpora() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/eval");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// A brand and an event it fits well: Kairos engages.
const FITTING: &str = r##"
  brand: crumbly
  now: "2013-02-04T02:41:00Z"
  event:
    kind: live_event
    text: The lights just went out at the stadium, half the Superdome is dark
    hashtags: ["#PowerOutage"]
    occurred_at: "2013-02-04T02:38:00Z"
    audience_time_zone: America/New_York
    sample_posts:
      - lol the lights went out, dunk your cookie in the dark
      - everyone waiting in the dark at the superdome
"##;

const PROFILE: &str = r#"
profiles:
  - brand_id: crumbly
    display_name: Crumbly Cookies
    themes: [cookie, dunk, milk, {term: dark, weight: 0.8}]
    audience_time_zone: America/New_York
    approval_latency: [{mode: newsjack, latency: 2m}]
"#;

#[tokio::test]
async fn every_public_corpus_passes_kairos_eval() {
    let app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let files = corpora();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let (code, out, err) = kairos(vec![
            "eval".into(),
            "--import".into(),
            "--min-utility".into(),
            "0.85".into(),
            file.display().to_string(),
            "--server".into(),
            server.clone(),
        ])
        .await;
        assert_eq!(code, 0, "{}: {out}{err}", file.display());
        assert!(out.contains("harmful 0"), "{out}");
        assert!(out.contains("expected \\ got"), "{out}");
        assert!(err.contains("imported"), "{err}");
    }
}

#[tokio::test]
async fn a_harmful_answer_fails_the_run_and_is_named() {
    let app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.yaml");
    // The team says this moment drew backlash: Kairos's ENGAGE is harmful.
    std::fs::write(
        &file,
        format!(
            "{PROFILE}cases:\n- id: said-to-be-backlash\n  expected: decline\n  acceptable: [listen]\n  harmful: [engage]\n  note: a made-up backlash{}\n- id: a-win\n  expected: engage\n{}",
            FITTING.trim_end(),
            FITTING.trim_start_matches('\n')
        ),
    )
    .unwrap();
    let run = |json: bool| {
        let mut args = vec![
            "eval".to_string(),
            "--import".into(),
            file.display().to_string(),
            "--server".into(),
            server.clone(),
        ];
        if json {
            args.push("--json".into());
        }
        kairos(args)
    };
    let (code, out, err) = run(false).await;
    assert_eq!(code, 1, "a harmful answer exits 1: {out}{err}");
    assert!(
        out.contains("2 cases, utility -0.500, harmful 1, misses 0"),
        "{out}"
    );
    assert!(
        out.contains("HARMFUL said-to-be-backlash: expected decline got engage (-2.0)"),
        "{out}"
    );
    assert!(out.contains("note: a made-up backlash"), "{out}");
    assert!(
        out.contains("THEME_MATCH"),
        "the top reasons are shown: {out}"
    );

    let (code, out, _) = run(true).await;
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["cases"], 2);
    assert_eq!(report["utility"], -0.5);
    assert_eq!(
        report["harmful"],
        serde_json::json!(["said-to-be-backlash"])
    );
    assert_eq!(report["confusion"]["decline"]["engage"], 1);
    assert_eq!(report["confusion"]["engage"]["engage"], 1);
    assert_eq!(report["results"][0]["points"], -2.0);
}

#[tokio::test]
async fn json_lines_against_stored_profiles_and_the_utility_floor() {
    let app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("brands.yaml");
    std::fs::write(&profiles, PROFILE).unwrap();
    let (code, out, err) = kairos(vec![
        "import".into(),
        profiles.display().to_string(),
        "--server".into(),
        server.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");

    // No profiles in the file: the server's stored ones are used.
    let file = dir.path().join("cases.jsonl");
    let event = r##"{"kind": "live_event", "text": "The lights just went out at the stadium, half the Superdome is dark", "hashtags": ["#PowerOutage"], "occurred_at": "2013-02-04T02:38:00Z", "audience_time_zone": "America/New_York", "sample_posts": ["dunk your cookie in the dark"]}"##;
    std::fs::write(
        &file,
        format!(
            "{{\"case\": {{\"id\": \"a\", \"brand\": \"crumbly\", \"now\": \"2013-02-04T02:41:00Z\", \"expected\": \"engage\", \"event\": {event}}}}}\n\n\
             {{\"case\": {{\"id\": \"b\", \"brand\": \"crumbly\", \"now\": \"2013-02-04T02:41:00Z\", \"expected\": [\"listen\", \"decline\"], \"event\": {event}}}}}\n"
        ),
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "eval".to_string(),
            file.display().to_string(),
            "--server".into(),
            server.clone(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (code, out, err) = kairos(args(&[])).await;
    assert_eq!(code, 0, "a miss alone does not fail: {out}{err}");
    assert!(
        out.contains("2 cases, utility 0.500, harmful 0, misses 1"),
        "{out}"
    );
    assert!(
        out.contains("miss    b: expected listen/decline got engage"),
        "{out}"
    );
    let (code, out, _) = kairos(args(&["--min-utility", "0.6"])).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("utility 0.500 is below --min-utility 0.6"),
        "{out}"
    );
}

#[tokio::test]
async fn file_and_usage_errors_name_the_place() {
    let app = spawn_app().await;
    let server = format!("http://{}", app.addr);
    let dir = tempfile::tempdir().unwrap();
    let eval = |file: &Path| {
        kairos(vec![
            "eval".into(),
            file.display().to_string(),
            "--server".into(),
            server.clone(),
        ])
    };

    // Profiles without --import: refused, nothing is overwritten.
    let with_profiles = dir.path().join("with-profiles.yaml");
    std::fs::write(
        &with_profiles,
        format!(
            "{PROFILE}cases:\n- id: a\n  expected: engage\n{}",
            FITTING.trim_start_matches('\n')
        ),
    )
    .unwrap();
    let (code, out, err) = eval(&with_profiles).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("holds 1 profiles; pass --import"), "{err}");

    // A decision that is not one, in the second case.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        format!(
            "cases:\n- id: a\n  expected: engage\n{}- id: b\n  expected: publish\n{}",
            FITTING.trim_start_matches('\n'),
            FITTING.trim_start_matches('\n')
        ),
    )
    .unwrap();
    let (code, out, err) = eval(&bad).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("case 2: expected:"), "{err}");
    assert!(err.contains("\"publish\""), "{err}");

    // The same decision both expected and harmful.
    let both = dir.path().join("both.yaml");
    std::fs::write(
        &both,
        format!(
            "cases:\n- id: a\n  expected: engage\n  harmful: [engage]\n{}",
            FITTING.trim_start_matches('\n')
        ),
    )
    .unwrap();
    let (code, _, err) = eval(&both).await;
    assert_eq!(code, 2);
    assert!(err.contains("case 1: engage is both expected and"), "{err}");

    // A brand the server does not have: the case is named.
    let unknown = dir.path().join("unknown.yaml");
    std::fs::write(
        &unknown,
        format!(
            "cases:\n- id: a\n  expected: engage\n{}",
            FITTING.trim_start_matches('\n')
        ),
    )
    .unwrap();
    let (code, _, err) = eval(&unknown).await;
    assert_eq!(code, 2);
    assert!(err.contains("case 1 (a): NOT_FOUND"), "{err}");
}

/// The README's example file runs as written.
#[tokio::test]
async fn the_readme_example_runs() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```yaml\nprofiles:")
        .expect("the README's eval example");
    let body = &readme[start + "```yaml\n".len()..];
    let body = &body[..body.find("```").expect("end of the example")];
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("readme.yaml");
    std::fs::write(&file, body).unwrap();
    let (code, out, err) = kairos(vec![
        "eval".into(),
        "--import".into(),
        file.display().to_string(),
        "--server".into(),
        format!("http://{}", app.addr),
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 cases, utility 1.000, harmful 0"), "{out}");
}
