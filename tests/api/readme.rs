//! The README's grpcurl walk-through, run as written against a real server
//! (only the address is replaced), so the README cannot drift from the
//! service. A comment "(fails with X)" before a command means it must fail
//! and print X.

use std::process::Command;

use crate::helpers::spawn_app;

const README: &str = include_str!("../../README.md");

struct Step {
    comment: String,
    command: String,
}

/// The first ```sh block after the walk-through heading, split into
/// commands (quoted strings and `\` continuations span lines).
fn walkthrough() -> Vec<Step> {
    let section = README
        .split("## Walk-through with grpcurl")
        .nth(1)
        .expect("walk-through section");
    let block = section
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("sh block");
    let mut steps = Vec::new();
    let mut comment = String::new();
    let mut current = String::new();
    for line in block.lines() {
        if current.is_empty() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            if t.starts_with('#') {
                comment = t.to_string();
                continue;
            }
        }
        current.push_str(line);
        current.push('\n');
        let open_quote = current.matches('\'').count() % 2 == 1;
        if !open_quote && !line.trim_end().ends_with('\\') {
            steps.push(Step {
                comment: comment.clone(),
                command: std::mem::take(&mut current),
            });
        }
    }
    steps
}

#[tokio::test]
async fn readme_walkthrough_works_as_written() {
    let app = spawn_app().await;
    let addr = app.addr.to_string();
    let steps = walkthrough();
    assert!(steps.len() >= 10, "parsed {} steps", steps.len());
    let mut outputs = Vec::new();
    for step in &steps {
        let cmd = step.command.replace("127.0.0.1:50051", &addr);
        let out = tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .arg("-c")
                .arg(&cmd)
                .output()
                .expect("bash")
        })
        .await
        .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match step.comment.split("(fails with ").nth(1) {
            Some(rest) => {
                let want = rest
                    .trim_end_matches(')')
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .trim();
                assert!(
                    !out.status.success(),
                    "should fail: {}\n{text}",
                    step.command
                );
                assert!(
                    text.contains(want),
                    "wanted {want:?} from {}\n{text}",
                    step.command
                );
            }
            None => assert!(out.status.success(), "failed: {}\n{text}", step.command),
        }
        outputs.push(text);
    }
    let find = |needle: &str| {
        outputs
            .iter()
            .find(|o| o.contains(needle))
            .unwrap_or_else(|| panic!("no output mentions {needle}"))
    };
    let blackout = find("\"eventId\": \"ev-blackout\"");
    assert!(
        blackout.contains("DECISION_ENGAGE") || blackout.contains("DECISION_REVIEW"),
        "{blackout}"
    );
    assert!(blackout.contains("ENGAGEMENT_MODE_NEWSJACK"), "{blackout}");
    let complaint = find("\"eventId\": \"ev-complaint\"");
    assert!(complaint.contains("DECISION_ENGAGE"), "{complaint}");
    assert!(
        complaint.contains("ENGAGEMENT_MODE_CUSTOMER_CARE"),
        "{complaint}"
    );
    let invalid = find("profile.themes[0].weight");
    assert!(invalid.contains("InvalidArgument"));
    app.stop().await;
}
