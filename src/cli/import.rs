//! `kairos import FILE` (also `kairos profiles import`): streams a profile
//! file to ImportBrandProfiles with bounded memory and shows progress.
//!
//! The file is sent in calls of [`CHUNK`] items, the server's commit batch,
//! one after the other. A call that returns committed its items; a call
//! that fails committed none of them, or (when the answer was lost after
//! the commit) all. So a failed import can say exactly which items are
//! stored, and sending the same file again is always safe: every item is an
//! upsert.
//!
//! Exit codes: 0 every item stored; 1 the import stopped (unreadable file,
//! no server, a refused or broken call), with what was stored; 2 it ran to
//! the end but some items were rejected, each named.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::profile_source::{self, Item, SourceError};
use super::progress::Progress;
use super::{Conn, ImportArgs, status_text};
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use crate::grpc::profiles::IMPORT_BATCH;

/// Items per ImportBrandProfiles call: the server commits this many at a
/// time, so each call is stored whole or not at all.
pub const CHUNK: usize = IMPORT_BATCH;
/// Items read ahead of the call in flight.
const READ_AHEAD: usize = 2 * CHUNK;
/// Rejected items named in the summary; the rest are counted.
const MAX_LISTED: usize = 1000;

/// One rejected item, named as a reader of the file would find it.
struct Rejected {
    number: usize,
    place: Option<String>,
    brand_id: String,
    message: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "item {}", self.number)?;
        if let Some(p) = &self.place {
            write!(f, ", {p}")?;
        }
        if !self.brand_id.is_empty() {
            write!(f, " ({})", self.brand_id)?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Default)]
struct Tally {
    created: u64,
    updated: u64,
    rejected: u64,
    listed: Vec<Rejected>,
    /// Items the file held so far, and the last one known stored or
    /// rejected (every item up to it is settled).
    read: usize,
    settled_through: usize,
}

impl Tally {
    fn reject(&mut self, r: Rejected) {
        self.rejected += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(r);
        }
    }

    fn stored(&self) -> u64 {
        self.created + self.updated
    }
}

/// The items of one call, with where each came from.
#[derive(Default)]
struct Chunk {
    profiles: Vec<pb::BrandProfile>,
    numbers: Vec<usize>,
    places: Vec<Option<String>>,
}

pub async fn import(args: ImportArgs) -> ExitCode {
    let mut tally = Tally::default();
    let result = run(args, &mut tally).await;
    // What was settled is said either way: on a failure, the items
    // already rejected are as much the answer as what is stored.
    summary(&mut tally);
    match result {
        Ok(()) if tally.rejected == 0 => ExitCode::SUCCESS,
        Ok(()) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn summary(t: &mut Tally) {
    // Items the client rejects arrive before the server's answer on
    // earlier ones: list them in file order.
    t.listed.sort_by_key(|r| r.number);
    println!(
        "created {}, updated {}, rejected {}",
        t.created, t.updated, t.rejected
    );
    for r in &t.listed {
        println!("  {r}");
    }
    let unlisted = t.rejected.saturating_sub(t.listed.len() as u64);
    if unlisted > 0 {
        println!("  … and {unlisted} more rejected");
    }
}

async fn run(args: ImportArgs, tally: &mut Tally) -> Result<(), String> {
    let total_bytes = std::fs::metadata(&args.file).ok().map(|m| m.len());
    let mut client = BrandProfileServiceClient::new(args.conn.channel().await?);
    let bytes = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Item>(READ_AHEAD);
    let reader = {
        let path = args.file.clone();
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || {
            profile_source::read(&path, bytes, &mut |item| tx.blocking_send(item).is_ok())
        })
    };
    let mut progress = Progress::new("import", total_bytes, false);
    let mut chunk = Chunk::default();
    let sent = loop {
        let item = rx.recv().await;
        let end = item.is_none();
        if let Some(item) = item {
            tally.read = item.number;
            match item.profile {
                Ok(p) => {
                    chunk.profiles.push(p);
                    chunk.numbers.push(item.number);
                    chunk.places.push(item.place);
                }
                Err(message) => tally.reject(Rejected {
                    number: item.number,
                    place: item.place,
                    brand_id: item.brand_id,
                    message,
                }),
            }
        }
        if chunk.profiles.len() >= CHUNK || (end && !chunk.profiles.is_empty()) {
            let result = send(&mut client, &args, std::mem::take(&mut chunk), tally).await;
            if let Err(e) = result {
                break Err(e);
            }
        }
        progress.update(bytes.load(Ordering::Relaxed), || {
            format!("{} stored, {} rejected", tally.stored(), tally.rejected)
        });
        if end {
            break Ok(());
        }
    };
    progress.finish();
    // Closing the channel stops the reader if the import failed.
    drop(rx);
    let read = reader
        .await
        .map_err(|e| format!("the file reader failed: {e}"))?;
    match (sent, read) {
        (Err(e), _) => Err(e),
        (Ok(()), Ok(())) | (Ok(()), Err(SourceError::Stopped)) => Ok(()),
        (Ok(()), Err(e)) => Err(format!(
            "{}\n{}",
            crate::error::chain(&e),
            stored_so_far(tally, &args.file)
        )),
    }
}

/// Sends one call's items and settles them in the tally.
async fn send(
    client: &mut BrandProfileServiceClient<Conn>,
    args: &ImportArgs,
    chunk: Chunk,
    tally: &mut Tally,
) -> Result<(), String> {
    let (first, last) = match (chunk.numbers.first(), chunk.numbers.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => return Ok(()),
    };
    let brand_ids: Vec<String> = chunk.profiles.iter().map(|p| p.brand_id.clone()).collect();
    let items = chunk
        .profiles
        .into_iter()
        .map(|p| pb::ImportBrandProfilesRequest { profile: Some(p) });
    let request = args.conn.authorized(tokio_stream::iter(items))?;
    let resp = match client.import_brand_profiles(request).await {
        Ok(r) => r.into_inner(),
        Err(s) => return Err(failure(&s, tally, first, last, &args.file)),
    };
    tally.created += u64::from(resp.created);
    tally.updated += u64::from(resp.updated);
    let itemised = resp.errors.len() as u64;
    for e in resp.errors {
        let i = e.index as usize;
        tally.reject(Rejected {
            number: chunk.numbers.get(i).copied().unwrap_or(first + i),
            place: chunk.places.get(i).cloned().flatten(),
            brand_id: brand_ids.get(i).cloned().unwrap_or(e.brand_id),
            message: e.message,
        });
    }
    // Rejections beyond the server's itemised list are still counted.
    tally.rejected += u64::from(resp.rejected).saturating_sub(itemised);
    tally.settled_through = last;
    Ok(())
}

fn stored_so_far(tally: &Tally, file: &Path) -> String {
    format!(
        "{} items of {} are stored (created {}, updated {}); every item up to item {} \
         is settled, stored or rejected as listed; running the same import again is \
         safe: every item is an upsert",
        tally.stored(),
        file.display(),
        tally.created,
        tally.updated,
        tally.settled_through
    )
}

/// What a failed call leaves behind.
fn failure(
    status: &tonic::Status,
    tally: &Tally,
    first: usize,
    last: usize,
    file: &Path,
) -> String {
    let text = status_text(status);
    match status.code() {
        // Checked before the server reads the first item.
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied if tally.stored() == 0 => {
            format!("{text}\nnothing was imported")
        }
        _ => format!(
            "{text}\n{}. Items {first}–{last} were in the call that failed: a call is \
             committed whole or not at all, and if it failed after its commit they \
             are stored too.",
            stored_so_far(tally, file)
        ),
    }
}
