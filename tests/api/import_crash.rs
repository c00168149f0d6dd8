//! An import cut short by `kill -9` of the real binary leaves whole,
//! intact batches behind, and running it again completes it; the `kairos
//! import` command says what it knows when its stream breaks.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

use crate::helpers::{profile, spawn_app};

/// The server's import batch (`grpc::profiles::IMPORT_BATCH`): the unit
/// that is committed, so the unit a crash may cut at.
const BATCH: usize = kairos::grpc::profiles::IMPORT_BATCH;
const TOTAL: usize = 20_000;
/// The server is killed once this many batches are visible from another
/// connection: deep enough into the import that earlier batches have been
/// committed while later ones are streaming in.
const KILL_AFTER_BATCHES: usize = 4;
/// The first run's stream stops producing here and waits for a release that
/// never comes, so the import cannot finish before the kill however fast
/// the machine is.
const GATE: usize = 12_000;

/// `kairos serve` on port 0, as `durability.rs` starts it.
fn start_binary(data_dir: &Path) -> (Child, SocketAddr) {
    crate::durability::start_binary_with(data_dir, &[])
}

/// Profile `i` of the import: every item differs from its neighbours in
/// several fields, so a batch written with another item's data is caught.
fn item(i: usize) -> pb::BrandProfile {
    let mut p = profile(&format!("imp-{i:05}"));
    p.display_name = format!("Imported brand number {i}");
    p.aliases.push(format!("imported{i}"));
    // Multiples of 1/64: the store keeps profiles as JSON, and serde_json
    // (without its `float_roundtrip` feature) reads some doubles back one
    // ulp off (0.09999999999999999 as 0.1). Exact comparison below is about
    // crash safety, so the weights here are ones every parser reads exactly.
    p.themes[1].weight = (i % 64 + 1) as f64 / 64.0;
    p.blocked_terms = vec![format!("blocked {i}")];
    p.active_windows[0].start_minute = (i % 600) as u32;
    p.frequency_caps = Some(pb::FrequencyCaps {
        per_author_per_day: (i % 7) as u32 + 1,
        per_conversation_per_day: 0,
        per_brand_per_hour: (i % 11) as u32,
    });
    p
}

async fn connect(addr: SocketAddr) -> BrandProfileServiceClient<Channel> {
    BrandProfileServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

/// Every stored profile, in `brand_id` order.
async fn list_all(client: &mut BrandProfileServiceClient<Channel>) -> Vec<pb::BrandProfile> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_brand_profiles(pb::ListBrandProfilesRequest {
                page_size: 1000,
                page_token: token,
            })
            .await
            .expect("list")
            .into_inner();
        out.extend(page.profiles);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// The stored profile as it was sent: the server adds `version` and
/// `updated_at`, nothing else.
fn as_sent(mut stored: pb::BrandProfile) -> pb::BrandProfile {
    assert!(stored.version >= 1, "{} has a version", stored.brand_id);
    assert!(
        stored.updated_at.is_some(),
        "{} has updated_at",
        stored.brand_id
    );
    stored.version = 0;
    stored.updated_at = None;
    stored
}

#[tokio::test]
async fn import_killed_midway_keeps_whole_batches_and_reruns_to_completion() {
    let started = Instant::now();
    let sent: Vec<pb::BrandProfile> = (0..TOTAL).map(item).collect();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start_binary(dir.path());

    // The import streams from a channel; the producer stops at GATE.
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let producer = {
        let items = sent.clone();
        tokio::spawn(async move {
            for p in items.into_iter().take(GATE) {
                let req = pb::ImportBrandProfilesRequest { profile: Some(p) };
                if tx.send(req).await.is_err() {
                    return;
                }
            }
            // Held open, never completed: the kill ends this stream.
            tx.closed().await;
        })
    };
    let mut importer = connect(addr).await;
    let import = tokio::spawn(async move {
        importer
            .import_brand_profiles(ReceiverStream::new(rx))
            .await
    });

    // Watch from a second connection for the last item of batch
    // KILL_AFTER_BATCHES; its batch, and all before it, are committed.
    let mut watcher = connect(addr).await;
    let marker = sent[KILL_AFTER_BATCHES * BATCH - 1].brand_id.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = watcher
            .get_brand_profile(pb::GetBrandProfileRequest {
                brand_id: marker.clone(),
            })
            .await;
        match got {
            Ok(_) => break,
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => panic!("watching the import: {s:?}"),
        }
        assert!(Instant::now() < deadline, "import made no progress");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // A little later, varied from run to run (0-39 ms), so runs land both
    // while the next batch is being gathered and while it is committing;
    // every outcome must satisfy the same checks.
    let delay = Duration::from_millis(u64::from(started.elapsed().subsec_nanos() % 40));
    tokio::time::sleep(delay).await;
    // SIGKILL: no shutdown hook, no flush.
    child.kill().unwrap();
    child.wait().unwrap();
    let outcome = import.await.unwrap();
    assert!(
        outcome.is_err(),
        "the killed import cannot have completed: {outcome:?}"
    );
    producer.await.unwrap();
    drop(watcher);

    // The store opens cleanly and holds a prefix of whole batches, each
    // profile exactly as sent.
    let (mut child, addr) = start_binary(dir.path());
    let mut client = connect(addr).await;
    let stored = list_all(&mut client).await;
    let n = stored.len();
    assert!(
        (KILL_AFTER_BATCHES * BATCH..GATE).contains(&n),
        "{n} profiles survived"
    );
    assert_eq!(n % BATCH, 0, "{n} profiles: not whole batches of {BATCH}");
    for (i, (got, want)) in stored.into_iter().zip(&sent).enumerate() {
        assert_eq!(got.version, 1, "item {i} written once");
        assert_eq!(&as_sent(got), want, "item {i}");
    }

    // Running the whole import again is safe: upserts complete it.
    let again = client
        .import_brand_profiles(tokio_stream::iter(
            sent.clone()
                .into_iter()
                .map(|p| pb::ImportBrandProfilesRequest { profile: Some(p) }),
        ))
        .await
        .expect("second import")
        .into_inner();
    assert_eq!(
        (
            again.created as usize,
            again.updated as usize,
            again.rejected
        ),
        (TOTAL - n, n, 0)
    );
    let stored = list_all(&mut client).await;
    assert_eq!(stored.len(), TOTAL);
    for (i, (got, want)) in stored.into_iter().zip(&sent).enumerate() {
        assert_eq!(&as_sent(got), want, "item {i}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "import_crash: killed {delay:?} after batch {KILL_AFTER_BATCHES}; \
         {n} of {TOTAL} survived; {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
}

/// When a call breaks, `kairos import` says exactly what is stored: it
/// sends the file in calls of one server commit batch, each stored whole
/// or not at all. Here the break is an item over the server's 4 MiB
/// message limit, in the third call.
#[tokio::test]
async fn a_broken_import_says_exactly_what_is_stored() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("brands.json");
    let mut items: Vec<serde_json::Value> = (0..2 * BATCH + 88)
        .map(|i| serde_json::json!({"brand_id": format!("cli-{i:04}"), "themes": ["cookie"]}))
        .collect();
    items.push(serde_json::json!({
        "brand_id": "too-big",
        "display_name": "x".repeat(5 << 20),
        "themes": ["cookie"],
    }));
    items.extend((0..10).map(|i| serde_json::json!({"brand_id": format!("late-{i}")})));
    let total = items.len();
    std::fs::write(&file, serde_json::to_vec(&items).unwrap()).unwrap();

    let server = format!("http://{}", app.addr);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_kairos"))
            .arg("import")
            .arg(&file)
            .args(["--server", &server])
            .output()
            .expect("run kairos")
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("RESOURCE_EXHAUSTED"), "{err}");
    // The summary of what was settled is printed on a failure too.
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("created {}, updated 0, rejected 0", 2 * BATCH)),
        "{summary}"
    );
    assert!(
        err.contains(&format!("{} items of", 2 * BATCH))
            && err.contains(&format!("every item up to item {}", 2 * BATCH)),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Items {}–{total} were in the call that failed",
            2 * BATCH + 1
        )),
        "{err}"
    );
    assert!(
        err.contains("running the same import again is safe"),
        "{err}"
    );

    // What the server did commit: the two batches before the bad item.
    let mut client = BrandProfileServiceClient::new(app.channel.clone());
    let stored = list_all(&mut client).await;
    assert_eq!(stored.len(), 2 * BATCH, "whole batches only");
    assert!(stored.iter().all(|p| p.brand_id.starts_with("cli-")));
    app.stop().await;
}
