//! Keeping a replica's hot state in step with a shared store.
//!
//! Each replica keeps copies of what scoring reads: compiled profiles (the
//! cache), the blackout snapshot and per-brand engagement logs. When another
//! replica writes, the store's change feed names what changed, and this
//! module drops or reloads that copy, so the next request sees the write
//! (PostgreSQL delivers a notification when the write commits; the
//! round trip is milliseconds).
//!
//! A notification can be missed: the feed's connection drops, or the store
//! restarts. Then the feed reports `Resumed` once it is back, and the
//! replica re-checks everything it holds against the store. The same
//! re-check runs every `--store-resync-interval` while the feed is
//! connected, as a safety net: that is the staleness bound when a change
//! went unannounced.
//!
//! The re-check never throws away what it cannot replace: with the store
//! unreachable, cached profiles, the last blackout snapshot and the last
//! engagement counts keep serving scoring.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::cache::ProfileCache;
use crate::candidates::CandidateIndex;
use crate::guardrails::{Blackouts, EngagementIndex};
use crate::store::{Change, ChangeFeed, Feed, ProfileStore};

/// Items buffered between the feed's task and the follower.
const FEED_BUFFER: usize = 4096;

/// What a replica keeps that other replicas' writes can make stale.
#[derive(Clone)]
pub struct Replica {
    pub cache: Arc<ProfileCache>,
    pub blackouts: Arc<Blackouts>,
    pub engagements: Arc<EngagementIndex>,
    pub index: Arc<CandidateIndex>,
    pub store: Arc<dyn ProfileStore>,
}

impl Replica {
    /// Applies one announced change.
    pub async fn apply(&self, change: Change) {
        match change {
            Change::Profile(id) => {
                self.cache.invalidate(&id).await;
                if self.index.refresh(&*self.store, &id).await.is_err() {
                    self.index.refresh_later(self.store.clone(), vec![id]);
                }
            }
            Change::Blackouts => {
                if let Err(e) = self.blackouts.reload().await {
                    tracing::warn!(error = %crate::error::chain(&e), "blackouts not reloaded; the re-check will retry");
                }
            }
            Change::Engagement(brand_id) => self.engagements.mark_stale(&brand_id),
        }
    }

    /// Re-checks everything held against the store (changes may have been
    /// missed). What cannot be re-read stays as it is.
    pub async fn resync(&self) {
        self.engagements.mark_all_stale();
        if let Err(e) = self.blackouts.reload().await {
            tracing::warn!(error = %crate::error::chain(&e), "blackouts not re-checked");
        }
        match self.cache.revalidate().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(dropped = n, "cached profiles changed elsewhere"),
            Err(e) => {
                tracing::warn!(error = %crate::error::chain(&e), "cached profiles not re-checked")
            }
        }
    }
}

/// Follows `feed` until `stop` fires, re-checking on every reconnect and
/// every `resync_every`.
pub async fn follow(
    feed: Box<dyn ChangeFeed>,
    replica: Replica,
    resync_every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let (tx, mut rx) = mpsc::channel(FEED_BUFFER);
    // The feed runs in a task of its own: its receive is not cancelled by
    // the timer below, which a LISTEN connection may not survive.
    let reader = tokio::spawn(read_feed(feed, tx, stop.clone()));
    let mut tick = tokio::time::interval(resync_every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    let mut connected = false;
    // Every `Resumed` but the first (the feed's first connection, which
    // follows the start-up build) closes a gap.
    let mut resumed_before = false;
    loop {
        tokio::select! {
            item = rx.recv() => match item {
                Some(Feed::Change(change)) => replica.apply(change).await,
                Some(Feed::Resumed) => {
                    let gap = resumed_before;
                    resumed_before = true;
                    if gap {
                        tracing::info!("change feed reconnected; re-checking cached state");
                    }
                    connected = true;
                    replica.resync().await;
                    // Profiles written while the feed was away: index them
                    // again (a full pass, so only after a gap: the first
                    // connection follows the start-up build).
                    if gap
                        && let Err(e) = replica.index.build(&*replica.store).await
                    {
                        tracing::warn!(error = %crate::error::chain(&e), "candidate index not rebuilt");
                    }
                }
                Some(Feed::Lost) => {
                    if connected {
                        tracing::warn!("change feed lost; serving what is cached until the store is back");
                    }
                    connected = false;
                }
                None => break,
            },
            // While the feed is lost the store is most likely down: what is
            // held stays as it is, and is re-checked once the feed resumes.
            _ = tick.tick() => if connected { replica.resync().await },
            _ = stop.changed() => break,
        }
    }
    reader.abort();
}

async fn read_feed(
    mut feed: Box<dyn ChangeFeed>,
    tx: mpsc::Sender<Feed>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let item = tokio::select! {
            item = feed.next() => item,
            _ = stop.changed() => return,
        };
        if tx.send(item).await.is_err() {
            return;
        }
    }
}
