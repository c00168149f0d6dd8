//! The candidate index: from an event to the stored brands it can concern,
//! so that RankBrands over every stored brand costs what the matching
//! brands cost, not what the stored brands cost.
//!
//! It holds, for every stored brand, the keys of `core::candidates`
//! (first tokens of names, themes and topics in both matcher forms, glued
//! prefixes) in an inverted index, and the profiles' embeddings in dense
//! rows per dimension, scanned exactly (a dot product per brand with an
//! embedding: cheap next to an assessment). It is independent of the
//! profile cache: candidates are compiled on demand through it.
//!
//! It is built from the store at start (in the background; until it is
//! ready, RankBrands walks every brand as before) and kept current on
//! every write: after a write commits, `refresh` re-reads the brand from
//! the store and indexes what is there (or drops it). Refreshes and the
//! build's pages run one at a time, each reading the store under the same
//! lock, and a refresh runs after its write committed, so the last one to
//! run has read the last commit: the index ends at what the store holds,
//! whatever the order writers finish in (versions cannot tell, since a
//! brand deleted and created again starts again at version 1). Callers
//! run refreshes in tasks of their own, so a cancelled request does not
//! skip one. An entry for a brand that is gone only costs a failed load; a
//! refresh the store could not serve is retried.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;

use crate::core::candidates::{BrandKeys, EventProbe, brand_keys};
use crate::store::{ProfileStore, StoreError};

/// Profiles read per store page while building.
const BUILD_PAGE: usize = 1000;
/// A failed refresh is retried after 250 ms, doubling up to 32 s (about a
/// minute in all).
const REFRESH_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(250);
const REFRESH_RETRY_LAST: std::time::Duration = std::time::Duration::from_secs(32);

#[derive(Default)]
struct Inner {
    /// Brand id per slot; `None` for a free slot.
    slots: Vec<Option<Arc<str>>>,
    free: Vec<u32>,
    /// Slot, keys and embedding of each brand (to unindex it).
    brands: HashMap<Arc<str>, Indexed>,
    /// Slots per key, ascending.
    postings: HashMap<u64, Vec<u32>>,
    /// Embedding rows per dimension.
    embeddings: HashMap<usize, Vec<EmbeddingRow>>,
}

/// A brand's embedding: its slot, the vector and its norm.
type EmbeddingRow = (u32, Box<[f32]>, f32);

struct Indexed {
    slot: u32,
    keys: Box<[u64]>,
    embedding: Box<[f32]>,
}

/// Sizes, for the metrics and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub brands: usize,
    pub keys: usize,
    pub postings: usize,
    /// A lower bound of the heap the index holds, in bytes.
    pub approx_bytes: usize,
}

pub struct CandidateIndex {
    inner: RwLock<Inner>,
    /// Serialises updates with the store reads they are based on.
    updates: Mutex<()>,
    ready: AtomicBool,
}

impl Default for CandidateIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl CandidateIndex {
    pub fn new() -> Self {
        Self {
            inner: RwLock::new(Inner::default()),
            updates: Mutex::new(()),
            ready: AtomicBool::new(false),
        }
    }

    /// Whether the index covers every stored brand (built once).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Indexes every stored brand, page by page. Each page is read and
    /// applied under the update lock, so no refresh falls between the two.
    pub async fn build(&self, store: &dyn ProfileStore) -> Result<usize, StoreError> {
        let mut after: Option<String> = None;
        let mut indexed = 0;
        loop {
            let _u = self.updates.lock().await;
            let page = store.list_profiles(after.as_deref(), BUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.profile.brand_id.clone());
            let keyed: Vec<(String, BrandKeys)> = page
                .iter()
                .map(|s| (s.profile.brand_id.clone(), brand_keys(&s.profile)))
                .collect();
            let mut inner = self.write();
            for (id, keys) in keyed {
                inner.replace(&id, keys);
                indexed += 1;
            }
        }
        self.ready.store(true, Ordering::Release);
        Ok(indexed)
    }

    /// Re-reads a brand from the store after a write committed (a local
    /// one, or another replica's) and indexes what is there.
    pub async fn refresh(
        &self,
        store: &dyn ProfileStore,
        brand_id: &str,
    ) -> Result<(), StoreError> {
        let _u = self.updates.lock().await;
        match store.get_profile(brand_id).await? {
            Some(stored) => {
                let keys = brand_keys(&stored.profile);
                self.write().replace(brand_id, keys);
            }
            None => self.write().remove(brand_id),
        }
        Ok(())
    }

    /// `refresh` of each brand after a write: awaited, so the writer's next
    /// RankBrands sees its write, but run in a task of its own, so a request
    /// cancelled after its write committed does not skip it. A brand the
    /// store cannot serve now is retried in the background.
    pub async fn refresh_after_write(
        self: &Arc<Self>,
        store: Arc<dyn ProfileStore>,
        brand_ids: Vec<String>,
    ) {
        let index = Arc::clone(self);
        let task = tokio::spawn(async move {
            let mut failed = Vec::new();
            for id in brand_ids {
                if index.refresh(&*store, &id).await.is_err() {
                    failed.push(id);
                }
            }
            if !failed.is_empty() {
                index.refresh_later(store, failed);
            }
        });
        let _ = task.await;
    }

    /// `refresh` of each brand in the background, retried while the store
    /// fails, for about a minute.
    pub fn refresh_later(self: &Arc<Self>, store: Arc<dyn ProfileStore>, brand_ids: Vec<String>) {
        let index = Arc::clone(self);
        tokio::spawn(async move {
            for id in brand_ids {
                let mut delay = REFRESH_RETRY_FIRST;
                loop {
                    match index.refresh(&*store, &id).await {
                        Ok(()) => break,
                        Err(e) if delay <= REFRESH_RETRY_LAST => {
                            tracing::warn!(error = %crate::error::chain(&e), brand_id = %id, "candidate index refresh failed; retrying");
                            tokio::time::sleep(delay).await;
                            delay *= 2;
                        }
                        Err(e) => {
                            tracing::error!(error = %crate::error::chain(&e), brand_id = %id, "candidate index refresh failed; the entry is stale until the brand is written again or the server restarts");
                            break;
                        }
                    }
                }
            }
        });
    }

    /// The brands `probe` (and `embedding`) can concern, sorted by id.
    /// None when the index cannot narrow the field: not built yet, or an
    /// event addressed to the brand, which concerns every brand.
    pub fn candidates(&self, probe: &EventProbe, embedding: &[f32]) -> Option<Vec<Arc<str>>> {
        if probe.everyone || !self.is_ready() {
            return None;
        }
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let mut slots: Vec<u32> = probe
            .keys
            .iter()
            .filter_map(|k| inner.postings.get(k))
            .flatten()
            .copied()
            .collect();
        slots.extend(inner.embedding_matches(embedding));
        slots.sort_unstable();
        slots.dedup();
        let mut ids: Vec<Arc<str>> = slots
            .iter()
            .filter_map(|s| inner.slots.get(*s as usize).cloned().flatten())
            .collect();
        ids.sort_unstable();
        Some(ids)
    }

    pub fn stats(&self) -> IndexStats {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let postings: usize = inner.postings.values().map(Vec::len).sum();
        let keys_held: usize = inner.brands.values().map(|b| b.keys.len()).sum();
        // Each brand's embedding is held twice: in its row and its entry.
        let embedded: usize = inner
            .embeddings
            .values()
            .flat_map(|rows| rows.iter().map(|r| r.1.len() * 8 + 24))
            .sum();
        IndexStats {
            brands: inner.brands.len(),
            keys: inner.postings.len(),
            postings,
            approx_bytes: postings * 4
                + inner.postings.len() * 48
                + keys_held * 8
                + inner.brands.len() * 96
                + inner.slots.len() * 16
                + embedded,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Indexes `keys` for a brand, replacing what it had.
    fn replace(&mut self, id: &str, keys: BrandKeys) {
        // The common case of a rebuild, or of a rewrite that kept the
        // terms: nothing to move (and no long posting list to shift).
        if self
            .brands
            .get(id)
            .is_some_and(|b| *b.keys == *keys.keys && *b.embedding == *keys.embedding)
        {
            return;
        }
        self.remove(id);
        let name: Arc<str> = Arc::from(id);
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.slots.get_mut(slot as usize) {
                    *s = Some(name.clone());
                }
                slot
            }
            None => {
                self.slots.push(Some(name.clone()));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        for k in &keys.keys {
            let list = self.postings.entry(*k).or_default();
            // Slots come back from `free` out of order: keep lists sorted.
            let at = list.partition_point(|s| *s < slot);
            list.insert(at, slot);
        }
        let embedding = keys.embedding.into_boxed_slice();
        if !embedding.is_empty() {
            let norm = embedding
                .iter()
                .map(|x| f64::from(*x) * f64::from(*x))
                .sum::<f64>()
                .sqrt() as f32;
            self.embeddings.entry(embedding.len()).or_default().push((
                slot,
                embedding.clone(),
                norm,
            ));
        }
        self.brands.insert(
            name,
            Indexed {
                slot,
                keys: keys.keys.into_boxed_slice(),
                embedding,
            },
        );
    }

    fn remove(&mut self, id: &str) {
        let Some(old) = self.brands.remove(id) else {
            return;
        };
        for k in old.keys.iter() {
            if let Some(list) = self.postings.get_mut(k) {
                if let Ok(at) = list.binary_search(&old.slot) {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.postings.remove(k);
                }
            }
        }
        if !old.embedding.is_empty()
            && let Some(rows) = self.embeddings.get_mut(&old.embedding.len())
        {
            rows.retain(|r| r.0 != old.slot);
        }
        if let Some(s) = self.slots.get_mut(old.slot as usize) {
            *s = None;
        }
        self.free.push(old.slot);
    }

    /// Slots whose embedding has a positive cosine with `embedding` (the
    /// only way embedding similarity adds relevance).
    fn embedding_matches(&self, embedding: &[f32]) -> Vec<u32> {
        if embedding.is_empty() {
            return Vec::new();
        }
        let Some(rows) = self.embeddings.get(&embedding.len()) else {
            return Vec::new();
        };
        rows.iter()
            .filter(|(_, v, norm)| {
                *norm > 0.0
                    && v.iter()
                        .zip(embedding)
                        .map(|(a, b)| f64::from(*a) * f64::from(*b))
                        .sum::<f64>()
                        > 0.0
            })
            .map(|r| r.0)
            .collect()
    }
}
